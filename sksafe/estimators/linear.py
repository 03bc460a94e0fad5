"""Lasso and elastic net with dynamic Gap Safe screening."""
from ..datafits import Quadratic
from ..penalties import L1, ElasticNet
from .base import BaseSparseRegressor

#: docstring entry of the ``bounds`` parameter (shared with :mod:`.huber`)
BOUNDS_PARAM = """    bounds : tuple (lower, upper), default=None
        Box constraints ``lower_j <= coef_j <= upper_j``, each bound a scalar or an
        array of shape (n_features,), with ``lower <= 0 <= upper`` (so that
        ``coef = 0`` is feasible and ``alpha_max_`` keeps its meaning) and
        ``-np.inf``/``np.inf`` for a free side: the ``bounds`` of
        :func:`scipy.optimize.lsq_linear` (glmnet's ``lower.limits``/``upper.limits``).
        Combined with ``positive=True`` the lower bound becomes ``max(lower, 0)``.
        The duality gap and Gap Safe screening stay exact with a box."""

_SHARED_PARAMS = f"""    fit_intercept : bool, default=True
        Fit an intercept (exactly, by implicit centring; sparse X stays sparse).
    positive : bool, default=False
        Constrain the coefficients to be non-negative.
{BOUNDS_PARAM}
    tol : float, default=1e-4
        Relative duality gap to reach: stop when ``P(w) - D(theta) <= tol * P(0)``.
    max_iter : int, default=100
        Outer working-set iterations.
    screening : bool, default=True
        Dynamic Gap Safe screening on/off (same solution; off is slower).
    warm_start : bool, default=False
        Start from the previous ``coef_`` and dual point (sequential screening).
    verbose : int, default=0
        Print the gap and the number of screened features at every outer iteration.

    Attributes
    ----------
    coef_ : ndarray of shape (n_features,)
    intercept_ : float
    n_iter_ : int
        Outer working-set iterations run.
    dual_gap_ : float
        Relative duality gap ``G / P(0)`` of the full problem, recomputed after the
        solve with every feature back in the dual constraint.
    n_screened_ : int
        Features proven inactive and removed (zero columns included).
    alpha_max_ : float
        Smallest ``alpha`` giving ``coef_ = 0``.
    fit_report_ : :class:`~sksafe.solvers.SolveResult`
        Gap history per iteration, when each feature was screened, dual point.
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        Only when ``X`` has string column names."""


class SafeScreeningLasso(BaseSparseRegressor):
    __doc__ = f"""Lasso with dynamic Gap Safe screening.

    Minimises the same objective as :class:`sklearn.linear_model.Lasso`::

        P(w, b) = (1 / (2 n)) sum_i s_i (y_i - x_i^T w - b)^2 + alpha ||w||_1

    (with sample weights ``s`` normalised to sum to ``n``; 1 by default) by
    working-set coordinate descent with Anderson extrapolation, dual
    extrapolation and dynamic Gap Safe screening.

    Parameters
    ----------
    alpha : float, default=1.0
        Regularisation strength (>= 0).
{_SHARED_PARAMS}

    Examples
    --------
    >>> from sksafe import SafeScreeningLasso
    >>> from sklearn.datasets import make_regression
    >>> X, y = make_regression(n_samples=50, n_features=200, random_state=0)
    >>> model = SafeScreeningLasso(alpha=1.0).fit(X, y)
    >>> bool(model.dual_gap_ <= 1e-4)
    True
    """

    def __init__(self, alpha=1.0, fit_intercept=True, positive=False, tol=1e-4, max_iter=100,
                 screening=True, warm_start=False, verbose=0, bounds=None):
        self.alpha = alpha
        self.fit_intercept = fit_intercept
        self.positive = positive
        self.bounds = bounds
        self.tol = tol
        self.max_iter = max_iter
        self.screening = screening
        self.warm_start = warm_start
        self.verbose = verbose

    def _datafit_penalty(self):
        return Quadratic(), L1(alpha=self.alpha, positive=self.positive, bounds=self.bounds)


class SafeScreeningElasticNet(BaseSparseRegressor):
    __doc__ = f"""Elastic net with dynamic Gap Safe screening.

    Minimises the same objective as :class:`sklearn.linear_model.ElasticNet`::

        P(w, b) = (1 / (2 n)) sum_i s_i (y_i - x_i^T w - b)^2
                  + alpha l1_ratio ||w||_1 + alpha (1 - l1_ratio) / 2 ||w||_2^2

    The dual uses the exact conjugate of the elastic-net penalty, so the
    duality gap certifies the solution for any ``l1_ratio`` in [0, 1].

    Parameters
    ----------
    alpha : float, default=1.0
        Regularisation strength (>= 0).
    l1_ratio : float, default=0.5
        Mixing parameter in [0, 1] (1: Lasso, 0: ridge).
{_SHARED_PARAMS}
    """

    def __init__(self, alpha=1.0, l1_ratio=0.5, fit_intercept=True, positive=False, tol=1e-4,
                 max_iter=100, screening=True, warm_start=False, verbose=0, bounds=None):
        self.alpha = alpha
        self.l1_ratio = l1_ratio
        self.fit_intercept = fit_intercept
        self.positive = positive
        self.bounds = bounds
        self.tol = tol
        self.max_iter = max_iter
        self.screening = screening
        self.warm_start = warm_start
        self.verbose = verbose

    def _datafit_penalty(self):
        return Quadratic(), ElasticNet(alpha=self.alpha, l1_ratio=self.l1_ratio,
                                       positive=self.positive, bounds=self.bounds)
