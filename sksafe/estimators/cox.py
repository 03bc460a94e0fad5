"""Sparse Cox proportional-hazards regression and Harrell's concordance index."""
import numpy as np
from numba import njit
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_consistent_length, validate_data

from ..datafits import Cox
from ..datafits.cox import survival_target
from ..penalties import ElasticNet
from ..utils.validation import check_weights
from .base import BaseSparseRegressor, _SolverParamsMixin


def check_survival_Xy(estimator, X, y):
    """Validate ``X`` as the other estimators do and ``y`` as survival data.

    Returns ``(X, target)`` with ``target`` the ``(n, 2)`` float64 array
    ``[time, event]`` of :func:`sksafe.datafits.cox.survival_target`.
    """
    if X is None:
        raise ValueError("X must be an array-like or sparse matrix, got None.")
    if y is None:
        raise ValueError(f"{type(estimator).__name__} requires y to be passed, but the target "
                         "y is None.")
    X = validate_data(estimator, X, reset=True, accept_sparse=["csc", "csr", "coo"],
                      dtype=[np.float64, np.float32], order="F", accept_large_sparse=True)
    target = survival_target(y)
    check_consistent_length(X, target)
    return X, target


@njit(cache=True)
def _fenwick_add(tree, index, value):
    index += 1
    while index < tree.shape[0]:
        tree[index] += value
        index += index & -index


@njit(cache=True)
def _fenwick_prefix(tree, index):
    """Sum of the values at positions ``< index``."""
    total = 0.0
    while index > 0:
        total += tree[index]
        index -= index & -index
    return total


@njit(cache=True)
def _concordance_counts(time, event, rank, weight, order):
    """Weighted concordant (ties in risk count 1/2) and comparable pair mass.

    Groups of tied times are visited from the latest; a Fenwick tree over the
    risk ranks holds the weight of every sample known to outlive the group. An
    event is compared with those and with the group's censored samples.
    """
    n = time.shape[0]
    tree = np.zeros(n + 1)
    concordant = 0.0
    comparable = 0.0
    end = n
    while end > 0:
        start = end - 1
        while start > 0 and time[order[start - 1]] == time[order[end - 1]]:
            start -= 1
        for pos in range(start, end):  # censored at this time outlive its events
            j = order[pos]
            if event[j] == 0.0:
                _fenwick_add(tree, rank[j], weight[j])
        at_risk = _fenwick_prefix(tree, n)
        for pos in range(start, end):
            i = order[pos]
            if event[i] == 1.0:
                lower = _fenwick_prefix(tree, rank[i])
                tied = _fenwick_prefix(tree, rank[i] + 1) - lower
                concordant += weight[i] * (lower + 0.5 * tied)
                comparable += weight[i] * at_risk
        for pos in range(start, end):
            j = order[pos]
            if event[j] == 1.0:
                _fenwick_add(tree, rank[j], weight[j])
        end = start
    return concordant, comparable


def concordance_index(y, risk_score, sample_weight=None):
    """Harrell's concordance index of risk scores for right-censored survival data.

    The fraction of comparable pairs that the scores order correctly: a pair
    ``(i, j)`` is comparable when ``i`` has an observed event and ``j`` is still
    at risk after it (``t_j > t_i``, or ``t_j = t_i`` with ``j`` censored), and
    concordant when ``risk_score[i] > risk_score[j]``; equal scores count 1/2
    (Harrell, Califf, Pryor, Lee & Rosati, JAMA 1982; the pairs of scikit-survival's
    ``concordance_index_censored`` and lifelines' ``concordance_index``, with exact
    score ties). With ``sample_weight`` a pair weighs ``w_i w_j``, so integer
    weights equal repeated rows. O(n log n).

    Parameters
    ----------
    y : structured array or array-like of shape (n_samples, 2) or (n_samples,)
        Survival data, in a layout accepted by :func:`sksafe.datafits.cox.survival_target`.
    risk_score : array-like of shape (n_samples,)
        Higher means an earlier event (e.g. :meth:`SparseCoxRegression.predict`).
    sample_weight : array-like of shape (n_samples,), default=None

    Returns
    -------
    cindex : float
        In [0, 1]; 0.5 for random scores, 1 for a perfect ranking.
    """
    target = survival_target(y)
    risk_score = np.asarray(risk_score, dtype=np.float64)
    if risk_score.ndim != 1:
        raise ValueError(f"risk_score must be one-dimensional, got shape {risk_score.shape}.")
    if not np.all(np.isfinite(risk_score)):
        raise ValueError("risk_score contains NaN or infinity.")
    check_consistent_length(target, risk_score)
    weight = (np.ones(target.shape[0]) if sample_weight is None
              else check_weights(sample_weight, target))
    time, event = target[:, 0], target[:, 1]
    rank = np.unique(risk_score, return_inverse=True)[1].astype(np.int64)
    order = np.argsort(time, kind="stable")
    concordant, comparable = _concordance_counts(time, event, rank, weight, order)
    if not comparable > 0.0:
        raise ValueError("No comparable pair: the concordance index is undefined (every "
                         "event happens at the last time, or all weights are zero).")
    return concordant / comparable


class SparseCoxRegression(_SolverParamsMixin, BaseEstimator):
    """Cox proportional-hazards regression with an L1 / elastic-net penalty.

    Minimises, over coefficients ``w`` (no intercept: the partial likelihood
    ignores a shift of the risk scores)::

        P(w) = sum_k [C_k log(sum_{j in R_k} s_j exp(x_j^T w)) - sum_{i in G_k} s_i d_i x_i^T w
                      - C_k log C_k]
               + alpha l1_ratio ||w||_1 + alpha (1 - l1_ratio) / 2 ||w||_2^2

    the weighted negative log partial likelihood with Breslow's handling of tied
    times (:class:`~sksafe.datafits.Cox`: ``G_k`` the samples with the ``k``-th
    distinct time, ``R_k`` those with a time ``>=`` it, ``d_i`` the event
    indicators, ``s_i`` the sample weights normalised to sum to 1 and ``C_k`` the
    event weight of ``G_k``; the constant makes a perfect ranking cost 0). With
    uniform weights and no ties the datafit is ``1/n`` times the negative log
    partial likelihood, as in skglm's ``CoxEstimator(method="breslow")`` and
    glmnet's ``family="cox"`` (whose ``lambda`` is this ``alpha``).

    The solver is working-set prox-Newton with dynamic Gap Safe screening, and it
    stops on the exact relative duality gap (the Cox conjugate has a closed form;
    see :mod:`sksafe.datafits.cox`). For p >> n gene-expression designs most
    genes are screened out during the fit.

    Parameters
    ----------
    alpha : float, default=1.0
        Regularisation strength (>= 0).
    l1_ratio : float, default=1.0
        Mixing parameter in [0, 1] (1: L1 penalty, 0: ridge).
    tol : float, default=1e-4
        Relative duality gap to reach: stop when ``P(w) - D(theta) <= tol * P(0)``.
    max_iter : int, default=100
        Outer working-set iterations.
    screening : bool, default=True
        Dynamic Gap Safe screening on/off (same solution).
    warm_start : bool, default=False
        Start from the previous ``coef_`` and dual point.
    verbose : int, default=0
        Print the gap at every outer iteration.

    Attributes
    ----------
    coef_ : ndarray of shape (n_features,)
        Log hazard ratios.
    intercept_ : float
        Always 0 (the model has none); kept so that ``predict`` is ``X @ coef_``.
    n_iter_ : int
        Outer working-set iterations run.
    dual_gap_ : float
        Relative duality gap ``G / P(0)`` of the full problem.
    n_screened_ : int
        Features proven inactive and removed (constant columns included).
    alpha_max_ : float
        Smallest ``alpha`` giving ``coef_ = 0``.
    fit_report_ : :class:`~sksafe.solvers.SolveResult`
        Gap history per iteration, when each feature was screened, dual point.
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        Only when ``X`` has string column names.

    Notes
    -----
    ``y`` is survival data: a structured array whose two fields are the event
    indicator and the time (scikit-survival's ``Surv.from_arrays(event, time)``),
    or an array of shape (n_samples, 2) with columns ``time`` and ``event``
    (skglm's and glmnet's order), or a vector of times when no sample is censored
    (every event observed, as skglm's ``CoxEstimator`` and lifelines without an
    event column read it). Times are non-negative, events 0 (censored) or 1, and
    at least one event is needed. The estimator declares non-negative targets
    (``positive_only`` tag), so scikit-learn's generic checks fit it on
    uncensored times.

    Examples
    --------
    >>> import numpy as np
    >>> from sksafe import SparseCoxRegression
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((200, 500))
    >>> time = rng.exponential(np.exp(-(X[:, 0] - X[:, 1])))
    >>> event = rng.uniform(size=200) < 0.8
    >>> y = np.column_stack([time, event])
    >>> model = SparseCoxRegression(alpha=0.25).fit(X, y)
    >>> np.flatnonzero(model.coef_)
    array([0, 1])
    >>> bool(model.score(X, y) > 0.7)  # concordance index
    True
    >>> bool(model.dual_gap_ <= 1e-4)
    True
    """

    #: the partial likelihood is shift-invariant: there is no intercept to fit
    fit_intercept = False
    _multi_output = False  # read by the regressors' warm start and fitted attributes

    def __init__(self, alpha=1.0, l1_ratio=1.0, tol=1e-4, max_iter=100, screening=True,
                 warm_start=False, verbose=0):
        self.alpha = alpha
        self.l1_ratio = l1_ratio
        self.tol = tol
        self.max_iter = max_iter
        self.screening = screening
        self.warm_start = warm_start
        self.verbose = verbose

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.required = True
        tags.target_tags.positive_only = True
        return tags

    def fit(self, X, y, sample_weight=None):
        """Fit the model to relative duality gap ``tol``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data; sparse matrices are never densified.
        y : structured array or array-like of shape (n_samples, 2) or (n_samples,)
            Survival data: ``(event, time)`` fields, ``[time, event]`` columns, or
            uncensored times.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights; integer weights are equivalent to repeating rows.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        self._check_solver_params()
        X, target = check_survival_Xy(self, X, y)
        sample_weight = check_weights(sample_weight, X)
        penalty = ElasticNet(alpha=self.alpha, l1_ratio=self.l1_ratio)
        # the warm point and the fitted attributes are the regressors' (intercept 0)
        report = self._solve(X, target, Cox(), penalty, sample_weight,
                             BaseSparseRegressor._warm_point(self, X))
        BaseSparseRegressor._set_fitted(self, report, X.dtype)
        return self

    def predict(self, X):
        """Risk scores ``X @ coef_``, the log relative hazards (higher: earlier event).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        risk_score : ndarray of shape (n_samples,)
        """
        return BaseSparseRegressor.predict(self, X)

    def score(self, X, y, sample_weight=None):
        """Harrell's concordance index of :meth:`predict` (see :func:`concordance_index`).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : structured array or array-like of shape (n_samples, 2) or (n_samples,)
            Survival data, as in :meth:`fit`.
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        score : float
        """
        return concordance_index(y, self.predict(X), sample_weight=sample_weight)
