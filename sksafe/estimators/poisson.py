"""Sparse Poisson regression (log link) with an elastic-net penalty."""
import numpy as np
from sklearn.metrics import d2_tweedie_score

from ..datafits import Poisson
from ..penalties import ElasticNet
from .base import BaseSparseRegressor


class SparsePoissonRegressor(BaseSparseRegressor):
    """Poisson regression (log link) with an L1 / elastic-net penalty.

    Minimises::

        P(w, b) = (1 / n) sum_i s_i (exp(x_i^T w + b) - y_i (x_i^T w + b) - y_i + y_i log y_i)
                  + alpha l1_ratio ||w||_1 + alpha (1 - l1_ratio) / 2 ||w||_2^2

    i.e. half the mean Poisson deviance plus the penalty (sample weights ``s``
    normalised to sum to ``n``; 1 by default), by working-set prox-Newton. With
    ``l1_ratio=0`` it is scikit-learn's
    :class:`~sklearn.linear_model.PoissonRegressor` with the same ``alpha``.
    Every fit is certified by its relative duality gap, but **no feature is
    screened**: the Poisson dual is not strongly concave, so the Gap Safe sphere
    does not exist for it (see :class:`~sksafe.datafits.Poisson`); ``n_screened_``
    only counts all-zero columns.

    Parameters
    ----------
    alpha : float, default=1.0
        Regularisation strength (>= 0).
    l1_ratio : float, default=1.0
        Mixing parameter in [0, 1] (1: L1 penalty, 0: ridge).
    fit_intercept : bool, default=True
        Fit an unpenalised intercept, minimised exactly (Newton) before every gap.
    tol : float, default=1e-4
        Relative duality gap to reach: stop when ``P(w) - D(theta) <= tol * P(0)``.
    max_iter : int, default=100
        Outer working-set iterations.
    warm_start : bool, default=False
        Start from the previous ``coef_``.
    verbose : int, default=0
        Print the gap at every outer iteration.

    Attributes
    ----------
    coef_ : ndarray of shape (n_features,)
    intercept_ : float
    n_iter_ : int
        Outer working-set iterations run.
    dual_gap_ : float
        Relative duality gap ``G / P(0)`` of the full problem.
    n_screened_ : int
        All-zero columns (nothing else is screened for this loss).
    alpha_max_ : float
        Smallest ``alpha`` giving ``coef_ = 0``.
    fit_report_ : :class:`~sksafe.solvers.SolveResult`
        Gap history per iteration, dual point.
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        Only when ``X`` has string column names.

    Examples
    --------
    >>> import numpy as np
    >>> from sksafe import SparsePoissonRegressor
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((300, 100))
    >>> y = rng.poisson(np.exp(0.5 * X[:, 0] - 0.3 * X[:, 1] + 1.0))
    >>> model = SparsePoissonRegressor(alpha=0.3).fit(X, y)
    >>> np.flatnonzero(model.coef_)
    array([0, 1])
    >>> bool(model.dual_gap_ <= 1e-4)
    True
    """

    #: the Poisson dual has no Gap Safe sphere: working sets only
    screening = False

    def __init__(self, alpha=1.0, l1_ratio=1.0, fit_intercept=True, tol=1e-4, max_iter=100,
                 warm_start=False, verbose=0):
        self.alpha = alpha
        self.l1_ratio = l1_ratio
        self.fit_intercept = fit_intercept
        self.tol = tol
        self.max_iter = max_iter
        self.warm_start = warm_start
        self.verbose = verbose

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.positive_only = True
        return tags

    def _datafit_penalty(self):
        return Poisson(), ElasticNet(alpha=self.alpha, l1_ratio=self.l1_ratio)

    def predict(self, X):
        """Predicted mean ``exp(X @ coef_ + intercept_)``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
        """
        return np.exp(super().predict(X))

    def score(self, X, y, sample_weight=None):
        """D^2, the fraction of Poisson deviance explained (scikit-learn's convention).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        score : float
        """
        return d2_tweedie_score(y, self.predict(X), sample_weight=sample_weight, power=1)
