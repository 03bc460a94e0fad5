"""Least squares with the non-convex MCP and SCAD penalties (KKT-certified, no screening)."""
from ..datafits import Quadratic
from ..penalties import MCP, SCAD
from .base import BaseSparseRegressor

_SHARED_PARAMS = """    weights : array-like of shape (n_features,), default=None
        Non-negative per-feature factors of ``alpha`` (``alpha_j = alpha weights_j``;
        ncvreg's ``penalty.factor``); a zero leaves the feature unpenalised.
    fit_intercept : bool, default=True
        Fit an intercept (exactly, by implicit centring; sparse X stays sparse).
    positive : bool, default=False
        Constrain the coefficients to be non-negative.
    tol : float, default=1e-4
        Relative KKT violation to reach: stop when
        ``max_j dist(-grad_j, d p_j(w_j)) <= tol * max_j |X_j^T grad F(0)|``.
    max_iter : int, default=100
        Outer working-set iterations.
    warm_start : bool, default=False
        Start from the previous ``coef_``: along a decreasing ``alpha`` this is
        how ncvreg and skglm pick the stationary point (path-following).
    verbose : int, default=0
        Print the KKT violation and the support size at every outer iteration.

    Attributes
    ----------
    coef_ : ndarray of shape (n_features,)
    intercept_ : float
    n_iter_ : int
        Outer working-set iterations run.
    certificate_ : str
        ``"kkt"``: the fit is certified by its KKT violation, not by a duality gap.
    kkt_violation_ : float
        Relative KKT violation reached on the full problem: the largest distance of
        ``-X_j^T grad F`` to the Clarke subdifferential of the penalty at ``w_j``,
        divided by ``max_j |X_j^T grad F(0)|``.
    dual_gap_ : float
        NaN: the objective is non-convex and has no dual, so there is no gap.
    n_screened_ : int
        Zero columns excluded; nothing else is screened (no Gap Safe rule holds
        for a non-convex objective).
    alpha_max_ : float
        Smallest ``alpha`` for which ``coef_ = 0`` is a stationary point.
    fit_report_ : :class:`~sksafe.solvers.SolveResult`
        KKT-violation history per iteration (``certificate="kkt"``,
        ``dual_point=None``).
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        Only when ``X`` has string column names.

    Notes
    -----
    The objective is non-convex: the solver returns a stationary point (every
    coordinate a minimiser of the objective with the others fixed), which need
    not be the global minimum, and there is no duality gap to certify it. It is
    the unique minimiser when the objective is convex, e.g. for MCP when ``gamma``
    exceeds the inverse of the smallest eigenvalue of the centred, weighted Gram
    matrix ``X^T S X`` (possible only when ``n_samples > n_features``).
    Solver: working-set coordinate descent with the exact coordinate minimiser
    (firm thresholding: Breheny & Huang, Ann. Appl. Stat. 2011) and a KKT
    stopping rule; see :mod:`sksafe.solvers.nonconvex`."""


class _NonconvexRegressor(BaseSparseRegressor):
    """Shared parameters of :class:`MCPRegression` and :class:`SCADRegression`."""

    #: no safe screening rule holds for a non-convex objective
    screening = False

    def __init__(self, alpha=1.0, gamma=3.0, weights=None, fit_intercept=True, positive=False,
                 tol=1e-4, max_iter=100, warm_start=False, verbose=0):
        self.alpha = alpha
        self.gamma = gamma
        self.weights = weights
        self.fit_intercept = fit_intercept
        self.positive = positive
        self.tol = tol
        self.max_iter = max_iter
        self.warm_start = warm_start
        self.verbose = verbose

    def _datafit_penalty(self):
        return Quadratic(), self._penalty_class(alpha=self.alpha, gamma=self.gamma,
                                                weights=self.weights, positive=self.positive)


class MCPRegression(_NonconvexRegressor):
    __doc__ = f"""Least squares with the minimax concave penalty (MCP), non-convex.

    Minimises the objective of skglm's ``MCPRegression`` and ncvreg's
    ``penalty="MCP"``::

        P(w, b) = (1 / (2 n)) sum_i s_i (y_i - x_i^T w - b)^2 + sum_j p(|w_j|; alpha_j)

        p(t; alpha) = alpha t - t^2 / (2 gamma)   if t <= gamma alpha
                      gamma alpha^2 / 2           otherwise

    (sample weights ``s`` normalised to sum to ``n``; 1 by default). MCP selects
    like the Lasso near zero and leaves large coefficients unshrunk.

    Parameters
    ----------
    alpha : float, default=1.0
        Regularisation strength (>= 0).
    gamma : float, default=3.0
        Concavity, > 1 (``inf``: the Lasso; towards 1: hard thresholding).
{_SHARED_PARAMS}

    Examples
    --------
    >>> from sksafe import MCPRegression
    >>> from sklearn.datasets import make_regression
    >>> X, y = make_regression(n_samples=50, n_features=200, random_state=0)
    >>> model = MCPRegression(alpha=1.0).fit(X, y)
    >>> model.certificate_, bool(model.kkt_violation_ <= 1e-4)
    ('kkt', True)
    """

    _penalty_class = MCP


class SCADRegression(_NonconvexRegressor):
    __doc__ = f"""Least squares with the SCAD penalty (Fan & Li, JASA 2001), non-convex.

    Minimises::

        P(w, b) = (1 / (2 n)) sum_i s_i (y_i - x_i^T w - b)^2 + sum_j p(|w_j|; alpha_j)

        p(t; alpha) = alpha t                                        if t <= alpha
                      (2 gamma alpha t - t^2 - alpha^2) / (2 (gamma - 1))  if t <= gamma alpha
                      alpha^2 (gamma + 1) / 2                        otherwise

    (sample weights ``s`` normalised to sum to ``n``; 1 by default; Fan & Li's ``a``
    is ``gamma``).

    Parameters
    ----------
    alpha : float, default=1.0
        Regularisation strength (>= 0).
    gamma : float, default=3.7
        Concavity, > 2 (Fan & Li's suggestion 3.7).
{_SHARED_PARAMS}
    """

    _penalty_class = SCAD

    def __init__(self, alpha=1.0, gamma=3.7, weights=None, fit_intercept=True, positive=False,
                 tol=1e-4, max_iter=100, warm_start=False, verbose=0):
        super().__init__(alpha=alpha, gamma=gamma, weights=weights,
                         fit_intercept=fit_intercept, positive=positive, tol=tol,
                         max_iter=max_iter, warm_start=warm_start, verbose=verbose)
