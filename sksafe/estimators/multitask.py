"""Multi-task lasso and elastic net with dynamic Gap Safe screening of feature rows."""
from ..datafits import QuadraticMultiTask
from ..penalties import L21
from .base import BaseSparseRegressor

_SHARED_PARAMS = """    fit_intercept : bool, default=True
        Fit one intercept per task (exactly, by implicit centring; sparse X stays sparse).
    tol : float, default=1e-4
        Relative duality gap to reach: stop when ``P(W) - D(Theta) <= tol * P(0)``.
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
    coef_ : ndarray of shape (n_tasks, n_features)
        As in scikit-learn (the transpose of ``W``).
    intercept_ : ndarray of shape (n_tasks,)
    n_iter_ : int
        Outer working-set iterations run.
    dual_gap_ : float
        Relative duality gap ``G / P(0)`` of the full problem, recomputed after the
        solve with every feature back in the dual constraint.
    n_screened_ : int
        Features (rows of ``W``) proven inactive and removed.
    alpha_max_ : float
        Smallest ``alpha`` giving ``coef_ = 0``.
    fit_report_ : :class:`~sksafe.solvers.SolveResult`
        Gap history, when each feature was screened, dual point of shape
        ``(n_samples, n_tasks)``.
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        Only when ``X`` has string column names."""


class _BaseMultiTask(BaseSparseRegressor):
    """Multi-task regressors: ``Y`` of shape (n_samples, n_tasks), scikit-learn's ``coef_`` layout."""

    _multi_output = True

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        tags.target_tags.single_output = False
        return tags

    def _datafit_penalty(self):
        return QuadraticMultiTask(), L21(alpha=self.alpha, l1_ratio=self._l1_ratio())


class SafeScreeningMultiTaskLasso(_BaseMultiTask):
    __doc__ = f"""Multi-task lasso with dynamic Gap Safe screening.

    Minimises the objective of :class:`sklearn.linear_model.MultiTaskLasso`::

        P(W, b) = (1 / (2 n)) sum_i s_i ||y_i - W^T x_i - b||_2^2 + alpha sum_j ||W_j||_2

    where ``W_j`` is the row of feature ``j`` across tasks (sample weights ``s``
    normalised to sum to ``n``): a feature is selected for all tasks or none. Solved
    by working-set block coordinate descent with Gap Safe screening of rows.

    Parameters
    ----------
    alpha : float, default=1.0
        Regularisation strength (> 0).
{_SHARED_PARAMS}

    Examples
    --------
    >>> import numpy as np
    >>> from sksafe import SafeScreeningMultiTaskLasso
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((50, 30))
    >>> Y = X[:, :3] @ rng.standard_normal((3, 4))
    >>> model = SafeScreeningMultiTaskLasso(alpha=0.05).fit(X, Y)
    >>> model.coef_.shape
    (4, 30)
    """

    def __init__(self, alpha=1.0, fit_intercept=True, tol=1e-4, max_iter=100, screening=True,
                 warm_start=False, verbose=0):
        self.alpha = alpha
        self.fit_intercept = fit_intercept
        self.tol = tol
        self.max_iter = max_iter
        self.screening = screening
        self.warm_start = warm_start
        self.verbose = verbose

    def _l1_ratio(self):
        return 1.0


class SafeScreeningMultiTaskElasticNet(_BaseMultiTask):
    __doc__ = f"""Multi-task elastic net with dynamic Gap Safe screening.

    Minimises the objective of :class:`sklearn.linear_model.MultiTaskElasticNet`::

        P(W, b) = (1 / (2 n)) sum_i s_i ||y_i - W^T x_i - b||_2^2
                  + alpha l1_ratio sum_j ||W_j||_2 + alpha (1 - l1_ratio) / 2 ||W||_F^2

    Parameters
    ----------
    alpha : float, default=1.0
        Regularisation strength (> 0).
    l1_ratio : float, default=0.5
        Mixing parameter in [0, 1].
{_SHARED_PARAMS}
    """

    def __init__(self, alpha=1.0, l1_ratio=0.5, fit_intercept=True, tol=1e-4, max_iter=100,
                 screening=True, warm_start=False, verbose=0):
        self.alpha = alpha
        self.l1_ratio = l1_ratio
        self.fit_intercept = fit_intercept
        self.tol = tol
        self.max_iter = max_iter
        self.screening = screening
        self.warm_start = warm_start
        self.verbose = verbose

    def _l1_ratio(self):
        return self.l1_ratio
