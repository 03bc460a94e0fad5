"""Sparse robust regression: the Huber loss with an elastic-net penalty."""
from ..datafits import Huber
from ..penalties import ElasticNet
from .base import BaseSparseRegressor
from .linear import BOUNDS_PARAM


class SparseHuberRegressor(BaseSparseRegressor):
    __doc__ = f"""Huber regression with an L1 / elastic-net penalty and dynamic Gap Safe screening.

    Minimises::

        P(w, b) = (1 / n) sum_i s_i h_delta(y_i - x_i^T w - b)
                  + alpha l1_ratio ||w||_1 + alpha (1 - l1_ratio) / 2 ||w||_2^2

    with ``h_delta(r) = r^2 / 2`` for ``|r| <= delta`` and ``delta (|r| - delta / 2)``
    beyond (sample weights ``s`` normalised to sum to ``n``; 1 by default), by
    working-set prox-Newton with dynamic Gap Safe screening. The Huber dual is
    1-strongly concave (:class:`~sksafe.datafits.Huber`), so the relative duality
    gap certifies the solution and screening is safe. ``delta`` is an absolute
    threshold in the units of ``y``: unlike
    :class:`sklearn.linear_model.HuberRegressor`, no scale is estimated
    (standardise ``y``, or choose ``delta`` from a robust scale of the residuals).
    A very large ``delta`` gives :class:`~sksafe.SafeScreeningElasticNet`.

    Parameters
    ----------
    alpha : float, default=1.0
        Regularisation strength (>= 0).
    delta : float, default=1.35
        Threshold between the quadratic and the linear zone of the loss (> 0).
    l1_ratio : float, default=1.0
        Mixing parameter in [0, 1] (1: L1 penalty, 0: ridge).
    fit_intercept : bool, default=True
        Fit an unpenalised intercept, minimised exactly (Newton) before every gap.
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
        Relative duality gap ``G / P(0)`` of the full problem.
    n_screened_ : int
        Features proven inactive and removed (zero columns included).
    alpha_max_ : float
        Smallest ``alpha`` giving ``coef_ = 0``.
    fit_report_ : :class:`~sksafe.solvers.SolveResult`
        Gap history per iteration, when each feature was screened, dual point.
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        Only when ``X`` has string column names.

    Examples
    --------
    >>> import numpy as np
    >>> from sksafe import SparseHuberRegressor
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((200, 50))
    >>> y = 3 * X[:, 0] - 2 * X[:, 1] + 0.1 * rng.standard_normal(200)
    >>> y[:10] += 100.0  # gross outliers
    >>> model = SparseHuberRegressor(alpha=0.05, delta=1.0).fit(X, y)
    >>> np.round(model.coef_[:3], 1)
    array([ 2.9, -1.9,  0. ])
    >>> int(np.count_nonzero(model.coef_))  # the Lasso keeps 48 of the 50 features
    3
    """

    def __init__(self, alpha=1.0, delta=1.35, l1_ratio=1.0, fit_intercept=True, positive=False,
                 tol=1e-4, max_iter=100, screening=True, warm_start=False, verbose=0,
                 bounds=None):
        self.alpha = alpha
        self.delta = delta
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
        return Huber(delta=self.delta), ElasticNet(alpha=self.alpha, l1_ratio=self.l1_ratio,
                                                   positive=self.positive, bounds=self.bounds)
