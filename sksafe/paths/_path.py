"""Regularisation paths: warm starts, sequential Gap Safe screening, seeded working sets.

Along a decreasing grid ``alpha_0 > alpha_1 > ...`` each fit starts from the
solution of the previous alpha and from its dual point. The first duality gap
of a fit is then evaluated at that (rescaled) dual point, so the Gap Safe test
removes most of the inactive features before any coordinate is updated: the
*sequential* Gap Safe rule (Fercoq, Gramfort & Salmon, ICML 2015; Ndiaye et
al., JMLR 2017). The working set is seeded with the previous support (and,
optionally, with the sequential strong rule of Tibshirani et al., JRSS B 2012,
as glmnet does); the seed is only a starting guess, every fit stops on the
duality gap of the whole problem.
"""
import numbers
import time
import warnings
from dataclasses import dataclass, field

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.preprocessing import LabelEncoder
from sklearn.utils import check_array, check_consistent_length, column_or_1d
from sklearn.utils.multiclass import check_classification_targets

from ..datafits import Logistic, Quadratic
from ..penalties import L1, ElasticNet
from ..penalties._kernels import penalty_value
from ..screening import correlations
from ..solvers import alpha_max as compute_alpha_max
from ..solvers import make_problem, solve
from ..utils.validation import check_weights, is_dask_collection


@dataclass
class PathResult:
    """A regularisation path: one certified fit per alpha.

    Attributes
    ----------
    alphas : ndarray of shape (n_alphas,)
        Decreasing regularisation strengths.
    coefs : ndarray of shape (n_features, n_alphas)
        ``coefs[:, k]`` solves the problem at ``alphas[k]``.
    intercepts : ndarray of shape (n_alphas,)
        Intercepts in the user's coordinates (0 without intercept).
    dual_gaps : ndarray of shape (n_alphas,)
        Relative duality gap ``G / P(0)`` of each fit, recomputed on the full problem.
    n_iters : ndarray of int, shape (n_alphas,)
        Outer working-set iterations of each fit.
    screened_at : ndarray of int32, shape (n_features, n_alphas)
        ``SolveResult.screened_at`` of each fit: the outer iteration at which each
        feature was proven inactive (1 is the first gap, evaluated at the previous
        alpha's dual point: sequential screening), 0 for zero columns, -1 never.
    alpha_max : float
        Smallest alpha giving all-zero coefficients on these data.
    times : ndarray of shape (n_alphas,)
        Wall-clock seconds of each fit.
    histories : list of list of dict
        ``SolveResult.history`` of each fit (gap, screened features and working-set
        size at every outer iteration), for :func:`sksafe.plotting.plot_screening`.
    """

    alphas: np.ndarray
    coefs: np.ndarray
    intercepts: np.ndarray
    dual_gaps: np.ndarray
    n_iters: np.ndarray
    screened_at: np.ndarray
    alpha_max: float
    times: np.ndarray
    histories: list = field(default_factory=list)

    @property
    def n_features(self):
        return self.coefs.shape[0]

    @property
    def n_screened(self):
        """Features proven inactive in each fit (zero columns included)."""
        return np.count_nonzero(self.screened_at >= 0, axis=0)


def alpha_grid(alpha_max, *, n_alphas=100, eps=1e-3):
    """Geometric grid of ``n_alphas`` values from ``alpha_max`` down to ``eps * alpha_max``.

    The grid of :func:`sklearn.linear_model.lasso_path` and glmnet. When
    ``alpha_max`` is 0 (``y`` constant, or ``X`` zero) every alpha gives the zero
    model; the grid is then the constant ``np.finfo(float).resolution``, as in
    scikit-learn.

    Parameters
    ----------
    alpha_max : float
    n_alphas : int, default=100
    eps : float, default=1e-3
        ``alpha_min / alpha_max``, in (0, 1].

    Returns
    -------
    alphas : ndarray of shape (n_alphas,)
    """
    if isinstance(n_alphas, bool) or not isinstance(n_alphas, numbers.Integral) or n_alphas < 1:
        raise ValueError(f"n_alphas must be an integer >= 1, got {n_alphas!r}.")
    if (isinstance(eps, bool) or not isinstance(eps, numbers.Real)
            or not 0.0 < eps <= 1.0):
        raise ValueError(f"eps must be a real number in (0, 1], got {eps!r}.")
    if not np.isfinite(alpha_max):
        raise ValueError("alpha_max is infinite: the penalty has no L1 part (l1_ratio=0?), so "
                         "there is no automatic alpha grid; pass the alphas explicitly.")
    resolution = np.finfo(np.float64).resolution
    if alpha_max <= resolution:
        return np.full(n_alphas, resolution)
    return np.geomspace(alpha_max, alpha_max * eps, num=n_alphas)


def check_alphas(alphas):
    """Validate a user grid: finite, > 0, one-dimensional; returned in decreasing order.

    A grid that is not in decreasing order is sorted, with a ``UserWarning``
    (warm starts go from strong to weak regularisation; the results are
    returned for the sorted grid).
    """
    alphas = np.asarray(alphas, dtype=np.float64)
    if alphas.ndim != 1 or alphas.size == 0:
        raise ValueError(f"alphas must be a non-empty 1-d array, got shape {alphas.shape}.")
    if not np.all(np.isfinite(alphas)) or np.any(alphas <= 0):
        raise ValueError(f"alphas must be finite and > 0, got {alphas.min()!r} as the "
                         f"smallest value." if np.all(np.isfinite(alphas))
                         else "alphas must be finite and > 0, got NaN or infinity.")
    if np.any(np.diff(alphas) > 0):
        warnings.warn("alphas are not in decreasing order: the path is computed (and "
                      "returned) for the grid sorted from the largest alpha down.",
                      UserWarning, stacklevel=3)
        alphas = np.sort(alphas)[::-1]
    return alphas


def resolve_alphas(alphas, n_alphas, eps, get_alpha_max):
    """The grid: ``alphas`` checked, or ``n_alphas`` (or an integer ``alphas``) values from
    ``get_alpha_max()`` down to ``eps`` times it."""
    if alphas is not None and not isinstance(alphas, numbers.Integral):
        return check_alphas(alphas)
    if isinstance(alphas, bool):
        raise ValueError(f"alphas must be None, an integer or an array, got {alphas!r}.")
    size = n_alphas if alphas is None else alphas
    alpha_grid(1.0, n_alphas=size, eps=eps)  # validate before any work
    return alpha_grid(get_alpha_max(), n_alphas=size, eps=eps)


def check_path_input(X, y, sample_weight):
    """Validate ``X`` (dense float32/float64 or sparse, never densified), ``y`` and weights."""
    X = check_array(X, accept_sparse=["csc", "csr", "coo"], dtype=[np.float64, np.float32],
                    order="F", accept_large_sparse=True)
    y = column_or_1d(y, warn=True)
    check_consistent_length(X, y)
    return X, y, check_weights(sample_weight, X)


def check_path_model(datafit, penalty):
    """Paths need a single-output datafit and a penalty of the separable family."""
    if getattr(penalty, "family", None) != "separable_elastic_net":
        raise ValueError(f"Paths, cross-validation and stability selection support the "
                         f"separable penalties (L1, ElasticNet, WeightedL1); got {penalty!r}.")
    if getattr(datafit, "multi_output", False) or getattr(datafit, "is_survival", False):
        raise ValueError(f"Paths support single-output datafits (Quadratic, Logistic, Huber, "
                         f"Poisson); got {datafit!r}.")


def _strong_set(problem, penalty, dual_point, alpha, previous_alpha):
    """Sequential strong rule: features with ``|X_j^T theta| >= u_j (2 alpha - alpha_prev)``.

    ``theta`` is the previous fit's dual point (the negative gradient of the
    datafit there, rescaled), ``u_j`` the penalty's weights at ``alpha = 1``. A
    heuristic, used only to seed the working set.
    """
    threshold = 2.0 * alpha - previous_alpha
    if threshold <= 0:
        return None
    corr = correlations(problem, dual_point, np.arange(problem.n_features))
    eff = penalty.effective_correlation(corr)
    return np.flatnonzero(eff >= threshold * penalty.unit_weights(problem.n_features))


def _secant_start(coefs, k, alphas):
    """The line through the two previous solutions of a path, at ``alphas[k]`` (``None``:
    no prediction).

    ``w_k ~ w_{k-1} + r (w_{k-1} - w_{k-2})`` with ``r`` the ratio of the steps in
    ``log alpha`` (1 on a geometric grid): a first-order predictor, the predictor
    step of path-following methods. Coordinates whose sign it would flip start at
    zero instead.
    """
    if k < 2:
        return None
    step, previous_step = np.log(alphas[k - 1] / alphas[k]), np.log(alphas[k - 2] / alphas[k - 1])
    if not (step > 0 and previous_step > 0):
        return None
    coef = coefs[:, k - 1]
    predicted = coef + (step / previous_step) * (coef - coefs[:, k - 2])
    predicted[np.sign(predicted) != np.sign(coef)] = 0.0
    return predicted


def _warm_start(penalty, coefs, k, alphas, previous):
    """Starting point of fit ``k > 0``: the previous solution, or the secant prediction
    (:func:`_secant_start`) where its objective at ``alphas[k]`` is lower.

    ``previous`` is the :class:`~sksafe.solvers.SolveResult` of fit ``k - 1``, whose
    objective is carried over to ``alphas[k]`` by swapping the penalty term. On a
    smooth stretch of the path the prediction is closer than the previous solution
    (reuters L1-logistic: median first gap of a fit halved; 10 to 25 % less CPU time
    on the leukemia, riboflavin, Singh and reuters paths, noisy machine); where the
    path turns (a separable logistic problem, whose coefficients grow without
    bound) it can be far worse than the previous solution, hence the test, which
    :func:`~sksafe.solvers.solve` makes (``fallback_init``: its state at the
    prediction computes the objective anyway; reuters L1-logistic path: about
    0.14 ms less per fit). Returns ``(coef_init, fallback_init)``. Only a starting
    point: the solver certifies the result either way.
    """
    coef = coefs[:, k - 1].copy()
    predicted = _secant_start(coefs, k, alphas)
    if predicted is None:
        return coef, None
    cols = np.flatnonzero(coef)
    n_features = coef.shape[0]
    old_weights = penalty.with_alpha(float(alphas[k - 1])).l1_l2_weights(n_features)
    previous_value = (previous.primal - penalty_value(coef, cols, *old_weights)
                      + penalty_value(coef, cols, *penalty.l1_l2_weights(n_features)))
    return predicted, (coef, previous_value)


def run_path(problem, datafit, penalty, alphas, *, coef_init=None, intercept_init=0.0,
             tol=1e-4, max_iter=100, screening=True, strong_rule=False, solver="auto",
             progress=None, fit=None):
    """The path on an already built :class:`~sksafe.solvers.Problem` (no validation).

    ``progress`` is called with ``(k, SolveResult)`` after each fit. ``fit``, when
    given, replaces the single-machine solve: ``fit(penalty, coef_init,
    intercept_init, dual_init) -> SolveResult`` (the distributed path fits on
    blocks; ``problem`` then only needs ``n_features`` and ``fit_intercept``).
    Returns a :class:`PathResult`; fits that miss ``tol`` are summarised in one
    ``ConvergenceWarning``.
    """
    n_features, n_alphas = problem.n_features, alphas.shape[0]
    coefs = np.empty((n_features, n_alphas), order="F")  # one contiguous column per fit
    intercepts, gaps, times = np.empty(n_alphas), np.empty(n_alphas), np.empty(n_alphas)
    n_iters = np.empty(n_alphas, dtype=int)
    screened_at = np.empty((n_features, n_alphas), dtype=np.int32, order="F")
    histories = []
    coef = None if coef_init is None else np.asarray(coef_init, dtype=np.float64)
    intercept, dual, dual_corr, alpha_max = float(intercept_init), None, None, None
    for k, alpha in enumerate(alphas):
        pen = penalty.with_alpha(float(alpha))
        ws_init = None
        if strong_rule and dual is not None:
            ws_init = _strong_set(problem, pen, dual, alpha, alphas[k - 1])
        fallback = None
        if k > 0:
            if fit is not None:
                coef = coefs[:, k - 1].copy()
            else:
                coef, fallback = _warm_start(pen, coefs, k, alphas, res)
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            if fit is not None:
                res = fit(pen, coef, intercept, dual)
            else:
                res = solve(problem.X_matrix, None, datafit, pen, coef_init=coef,
                            intercept_init=intercept, dual_init=dual,
                            dual_init_correlations=dual_corr, tol=tol,
                            max_iter=max_iter, screening=screening, solver=solver,
                            problem=problem, ws_init=ws_init, fallback_init=fallback)
        times[k] = time.perf_counter() - start
        coefs[:, k], intercepts[k], gaps[k] = res.coef, res.intercept, res.relative_gap
        n_iters[k], screened_at[:, k] = res.n_iter, res.screened_at
        histories.append(res.history)
        intercept, dual, alpha_max = res.intercept, res.dual_point, res.alpha_max
        dual_corr = res.dual_correlations
        if progress is not None:
            progress(k, res)
    missed = np.flatnonzero(gaps > tol)
    if missed.size and tol > 0:
        worst = missed[np.argmax(gaps[missed])]
        ratio = f" ({alphas[worst] / alpha_max:.2e} alpha_max)" if alpha_max > 0 else ""
        warnings.warn(
            f"{missed.size} of {n_alphas} fits of the path did not reach the relative duality "
            f"gap tol={tol:.1e}; the largest gap is {gaps[worst]:.2e} at alpha="
            f"{alphas[worst]:.4g}{ratio}. Increase max_iter, or tol.", ConvergenceWarning,
            stacklevel=3)
    if not problem.fit_intercept:
        intercepts[:] = 0.0
    return PathResult(alphas=alphas, coefs=coefs, intercepts=intercepts, dual_gaps=gaps,
                      n_iters=n_iters, screened_at=screened_at, alpha_max=float(alpha_max),
                      times=times, histories=histories)


def _progress_bar(verbose, n_alphas):
    """A tqdm bar over the alphas (``None`` when ``verbose`` is falsy)."""
    if not verbose:
        return None, None
    from tqdm.auto import tqdm

    bar = tqdm(total=n_alphas, desc="sksafe path", unit="alpha", leave=False)

    def update(k, res):
        bar.set_postfix(gap=f"{res.relative_gap:.1e}", nnz=int(np.count_nonzero(res.coef)),
                        screened=int(np.sum(res.screened_at >= 0)), refresh=False)
        bar.update()

    return bar, update


def sparse_glm_path(X, y, datafit=None, penalty=None, *, alphas=None, n_alphas=100, eps=1e-3,
                    sample_weight=None, fit_intercept=True, coef_init=None, intercept_init=0.0,
                    tol=1e-4, max_iter=100, screening=True, strong_rule=False, solver="auto",
                    verbose=0):
    """Regularisation path of any datafit with any separable penalty.

    For each ``alpha`` of a decreasing grid, minimises::

        P(w, b) = sum_i s_i f(y_i, x_i^T w + b) + g_alpha(w),     sum_i s_i = 1

    (``f`` from ``datafit``, ``g_alpha = penalty.with_alpha(alpha)``, ``s`` the
    normalised sample weights) to relative duality gap ``tol``, starting from
    the previous solution and its dual point (sequential Gap Safe screening).

    Parameters
    ----------
    X : {array-like, sparse matrix} of shape (n_samples, n_features)
        Dense float32/float64 or any scipy.sparse format (never densified).
    y : array-like of shape (n_samples,)
        Targets in the form ``datafit`` expects (``{-1, +1}`` for ``Logistic``;
        :func:`logistic_path` encodes any two labels).
    datafit : datafit object, default=None
        ``None`` means :class:`~sksafe.datafits.Quadratic`.
    penalty : penalty object, default=None
        ``None`` means :class:`~sksafe.penalties.L1`. Its ``alpha`` is replaced by
        each value of the grid (``penalty.with_alpha``); its other parameters
        (``l1_ratio``, ``weights``, ``positive``) are kept.
    alphas : array-like or int, default=None
        The grid. An array is used as given (values > 0; an unsorted grid is sorted
        in decreasing order with a ``UserWarning``); an integer is the number of
        values of the automatic grid (as ``n_alphas``).
    n_alphas : int, default=100
        Size of the automatic grid: geometric from ``alpha_max`` (the smallest alpha
        giving ``w = 0``) down to ``eps * alpha_max``.
    eps : float, default=1e-3
    sample_weight : array-like of shape (n_samples,), default=None
    fit_intercept : bool, default=True
    coef_init : array-like of shape (n_features,), default=None
        Starting point of the first fit.
    intercept_init : float, default=0.0
    tol : float, default=1e-4
        Relative duality gap each fit reaches: ``P(w) - D(theta) <= tol * P(0)``.
    max_iter : int, default=100
        Outer working-set iterations per fit.
    screening : bool, default=True
        Dynamic and sequential Gap Safe screening (same solutions without; slower).
    strong_rule : bool, default=False
        Seed each working set with the sequential strong rule's features as well as
        the previous support. A guess only: every fit still stops on the gap of the
        whole problem.
    solver : {"auto", "cd", "prox_newton", "fista"}, default="auto"
    verbose : int, default=0
        A progress bar over the alphas (tqdm) when > 0.

    Returns
    -------
    path : PathResult
        ``alphas``, ``coefs`` of shape (n_features, n_alphas), ``intercepts``,
        ``dual_gaps`` (relative), ``n_iters``, ``screened_at``, ``alpha_max``,
        per-fit ``times`` and gap ``histories``.

    See Also
    --------
    lasso_path, enet_path, logistic_path : the same with a fixed datafit and penalty,
        with scikit-learn's signature and return values.
    """
    datafit = Quadratic() if datafit is None else datafit
    penalty = L1() if penalty is None else penalty
    check_path_model(datafit, penalty)
    if is_dask_collection(X):
        return _dask_path(X, y, datafit, penalty, alphas=alphas, n_alphas=n_alphas, eps=eps,
                          sample_weight=sample_weight, fit_intercept=fit_intercept,
                          coef_init=coef_init, tol=tol, max_iter=max_iter, screening=screening,
                          verbose=verbose)
    X, y, sample_weight = check_path_input(X, y, sample_weight)
    if not isinstance(fit_intercept, (bool, np.bool_)):
        raise ValueError(f"fit_intercept must be a bool, got {fit_intercept!r}.")
    if coef_init is not None:
        coef_init = np.asarray(coef_init, dtype=np.float64)
        if coef_init.shape != (X.shape[1],):
            raise ValueError(f"coef_init must have shape ({X.shape[1]},), got "
                             f"{coef_init.shape}.")
    problem = make_problem(X, y, sample_weight, datafit, fit_intercept)
    grid = resolve_alphas(alphas, n_alphas, eps, lambda: compute_alpha_max(
        X, y, datafit, penalty.with_alpha(1.0), problem=problem))
    bar, progress = _progress_bar(verbose, grid.shape[0])
    try:
        return run_path(problem, datafit, penalty, grid, coef_init=coef_init,
                        intercept_init=intercept_init, tol=tol, max_iter=max_iter,
                        screening=screening, strong_rule=strong_rule, solver=solver,
                        progress=progress)
    finally:
        if bar is not None:
            bar.close()


def _dask_path(X, y, datafit, penalty, *, alphas, n_alphas, eps, sample_weight, fit_intercept,
               coef_init, tol, max_iter, screening, verbose):
    """:func:`sparse_glm_path` on dask row blocks (:func:`sksafe.distributed.path_distributed`)."""
    from ..distributed._api import path_distributed

    if coef_init is not None:
        raise ValueError("coef_init is not supported for dask input: the path starts at "
                         "w = 0.")
    size = resolve_alphas(alphas, n_alphas, eps, lambda: 1.0).shape[0]  # validates, no work
    bar, progress = _progress_bar(verbose, size)
    try:
        grid = (lambda amax: resolve_alphas(alphas, n_alphas, eps, lambda: amax))
        return path_distributed(X, y, datafit, penalty, grid, sample_weight=sample_weight,
                                fit_intercept=fit_intercept, tol=tol, max_iter=max_iter,
                                screening=screening, progress=progress)
    finally:
        if bar is not None:
            bar.close()


_COMPAT_DOC = """    precompute, Xy, copy_X : ignored
        Accepted for compatibility with scikit-learn's path functions: sksafe never
        forms the Gram matrix and never modifies ``X``."""

_INTERCEPT_DOC = """    fit_intercept : bool, default=False
        Fit an unpenalised intercept. ``False`` by default, as in scikit-learn's
        path functions, which expect centred data."""

_SHARED_DOC = """    verbose : bool or int, default=False
        A progress bar over the alphas (tqdm).
    return_n_iter : bool, default=False
        Also return the number of outer iterations of each fit.
    positive : bool, default=False
        Constrain the coefficients to be non-negative.
    sample_weight : array-like of shape (n_samples,), default=None
    tol : float, default=1e-4
        Relative duality gap of every fit: ``P(w) - D(theta) <= tol * P(0)``.
    max_iter : int, default=100
        Outer working-set iterations per fit.
    screening : bool, default=True
    strong_rule : bool, default=False
        Seed each working set with the sequential strong rule (see
        :func:`sparse_glm_path`).
    return_result : bool, default=False
        Return the :class:`PathResult` (intercepts, screening counts, timings)
        instead of the tuple.

    Returns
    -------
    alphas : ndarray of shape (n_alphas,)
        The grid, in decreasing order.
    coefs : ndarray of shape (n_features, n_alphas)
    dual_gaps : ndarray of shape (n_alphas,)
        *Relative* duality gap ``G / P(0)`` of each fit (scikit-learn returns the
        absolute gap ``G``; multiply by ``P(0)`` to compare).
    n_iters : ndarray of shape (n_alphas,)
        Only with ``return_n_iter=True``."""


def _as_sklearn(path, dtype, return_n_iter, return_result):
    if return_result:
        return path
    out = (path.alphas, path.coefs.astype(dtype, copy=False), path.dual_gaps)
    return out + (path.n_iters,) if return_n_iter else out


def lasso_path(X, y, *, eps=1e-3, n_alphas=100, alphas=None, precompute="auto", Xy=None,
               copy_X=True, coef_init=None, verbose=False, return_n_iter=False, positive=False,
               fit_intercept=False, sample_weight=None, tol=1e-4, max_iter=100, screening=True,
               strong_rule=False, return_result=False):
    """Lasso path with dynamic and sequential Gap Safe screening.

    A drop-in for :func:`sklearn.linear_model.lasso_path`: for each alpha of the
    grid, minimises the same objective::

        (1 / (2 n)) ||y - X w||^2_2 + alpha ||w||_1

    (with sample weights, ``sum_i s_i (y_i - x_i^T w - b)^2 / 2`` with ``s``
    normalised to sum to one) to relative duality gap ``tol``.

    Parameters
    ----------
    X : {array-like, sparse matrix} of shape (n_samples, n_features)
    y : array-like of shape (n_samples,)
    eps : float, default=1e-3
        ``alpha_min / alpha_max`` of the automatic grid.
    n_alphas : int, default=100
        Size of the automatic grid.
    alphas : array-like or int, default=None
        A grid (> 0; an unsorted one is sorted with a ``UserWarning``), or the size
        of the automatic one.
{compat}
    coef_init : array-like of shape (n_features,), default=None
{intercept}
{shared}

    Examples
    --------
    >>> import numpy as np
    >>> from sksafe.paths import lasso_path
    >>> X = np.array([[1.0, 2.0, 3.1], [2.3, 5.4, 4.3]]).T
    >>> alphas, coefs, gaps = lasso_path(X, np.array([1.0, 2.0, 3.1]), alphas=[5.0, 1.0, 0.5])
    >>> coefs.shape
    (2, 3)
    """
    X, y, sample_weight = check_path_input(X, y, sample_weight)
    path = sparse_glm_path(X, y, Quadratic(), L1(positive=positive), alphas=alphas,
                           n_alphas=n_alphas, eps=eps, sample_weight=sample_weight,
                           fit_intercept=fit_intercept, coef_init=coef_init, tol=tol,
                           max_iter=max_iter, screening=screening, strong_rule=strong_rule,
                           verbose=verbose)
    return _as_sklearn(path, X.dtype, return_n_iter, return_result)


def enet_path(X, y, *, l1_ratio=0.5, eps=1e-3, n_alphas=100, alphas=None, precompute="auto",
              Xy=None, copy_X=True, coef_init=None, verbose=False, return_n_iter=False,
              positive=False, fit_intercept=False, sample_weight=None, tol=1e-4, max_iter=100,
              screening=True, strong_rule=False, return_result=False):
    """Elastic-net path with dynamic and sequential Gap Safe screening.

    A drop-in for :func:`sklearn.linear_model.enet_path`: for each alpha,
    minimises::

        (1 / (2 n)) ||y - X w||^2_2 + alpha l1_ratio ||w||_1
                                    + alpha (1 - l1_ratio) / 2 ||w||^2_2

    The automatic grid starts at ``alpha_max = max_j |X_j^T y| / (n l1_ratio)``,
    so ``l1_ratio=0`` needs an explicit grid.

    Parameters
    ----------
    X : {array-like, sparse matrix} of shape (n_samples, n_features)
    y : array-like of shape (n_samples,)
    l1_ratio : float, default=0.5
        Mixing parameter in [0, 1].
    eps : float, default=1e-3
    n_alphas : int, default=100
    alphas : array-like or int, default=None
{compat}
    coef_init : array-like of shape (n_features,), default=None
{intercept}
{shared}
    """
    X, y, sample_weight = check_path_input(X, y, sample_weight)
    path = sparse_glm_path(X, y, Quadratic(), ElasticNet(l1_ratio=l1_ratio, positive=positive),
                           alphas=alphas, n_alphas=n_alphas, eps=eps,
                           sample_weight=sample_weight, fit_intercept=fit_intercept,
                           coef_init=coef_init, tol=tol, max_iter=max_iter, screening=screening,
                           strong_rule=strong_rule, verbose=verbose)
    return _as_sklearn(path, X.dtype, return_n_iter, return_result)


def encode_binary(y):
    """``(labels in {-1, +1}, classes)`` of a binary target; ``classes[1]`` is the +1 class."""
    check_classification_targets(y)
    encoder = LabelEncoder().fit(y)
    if encoder.classes_.size != 2:
        hint = ("; use SafeScreeningLogisticRegressionCV for multiclass (one-vs-rest)"
                if encoder.classes_.size > 2 else "")
        raise ValueError(f"A logistic path needs exactly 2 classes, got "
                         f"{encoder.classes_.size}{hint}.")
    return 2.0 * encoder.transform(y) - 1.0, encoder.classes_


def logistic_path(X, y, *, l1_ratio=1.0, eps=1e-3, n_alphas=100, alphas=None, coef_init=None,
                  verbose=False, return_n_iter=False, positive=False, fit_intercept=True,
                  sample_weight=None, tol=1e-4, max_iter=100, screening=True, strong_rule=False,
                  solver="auto", return_result=False):
    """L1 / elastic-net logistic regression path with Gap Safe screening.

    For each alpha of the grid, minimises::

        (1 / n) sum_i s_i log(1 + exp(-y_i (x_i^T w + b)))
            + alpha (l1_ratio ||w||_1 + (1 - l1_ratio) / 2 ||w||^2_2)

    with ``y_i = +1`` for the larger of the two labels (``np.unique(y)[1]``)
    and -1 for the other. This is scikit-learn's ``LogisticRegression(C=C)``
    objective divided by ``n C``: ``alpha = 1 / (n C)``. The intercept is
    unpenalised (scikit-learn's ``liblinear`` penalises it).

    Parameters
    ----------
    X : {array-like, sparse matrix} of shape (n_samples, n_features)
    y : array-like of shape (n_samples,)
        Two distinct labels.
    l1_ratio : float, default=1.0
    eps : float, default=1e-3
    n_alphas : int, default=100
    alphas : array-like or int, default=None
    coef_init : array-like of shape (n_features,), default=None
    solver : {"auto", "prox_newton", "fista"}, default="auto"
    fit_intercept : bool, default=True
        Fit an unpenalised intercept; the intercepts are in
        ``PathResult.intercepts`` (``return_result=True``).
{shared}
    """
    X, y, sample_weight = check_path_input(X, y, sample_weight)
    signs, _ = encode_binary(y)
    path = sparse_glm_path(X, signs, Logistic(), ElasticNet(l1_ratio=l1_ratio, positive=positive),
                           alphas=alphas, n_alphas=n_alphas, eps=eps,
                           sample_weight=sample_weight, fit_intercept=fit_intercept,
                           coef_init=coef_init, tol=tol, max_iter=max_iter, screening=screening,
                           strong_rule=strong_rule, solver=solver, verbose=verbose)
    return _as_sklearn(path, X.dtype, return_n_iter, return_result)


for _function in (lasso_path, enet_path, logistic_path):
    # str.replace, not str.format: the docstrings contain numpydoc's {a, b} type sets
    for _key, _text in (("{compat}", _COMPAT_DOC), ("{intercept}", _INTERCEPT_DOC),
                        ("{shared}", _SHARED_DOC)):
        _function.__doc__ = _function.__doc__.replace(_key, _text)
