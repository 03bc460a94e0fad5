"""Everything a solver needs about one fitting problem, computed once."""
from dataclasses import dataclass, field, replace

import numpy as np
import scipy.sparse as sp

from ._design import centred_sq_norms, xt_dot


@dataclass
class Problem:
    """A validated problem ``min_w F(X w + b) + g(w)`` ready for the kernels.

    Attributes
    ----------
    X : ndarray (Fortran order) or tuple ``(data, indices, indptr)``
        The design in the form the jitted kernels take.
    X_matrix : ndarray or scipy.sparse.csc_matrix
        The same design for NumPy/SciPy-level slicing.
    y : ndarray of float64
        Target, centred (weighted) when the intercept is handled by centring.
    s : ndarray of float64
        Sample weights normalised to sum to one.
    x_mean : ndarray of float64
        Weighted column means (zeros without intercept).
    x_offset : ndarray of float64
        Column offsets applied implicitly in the kernels (``x_mean`` when the
        intercept is eliminated by centring, zeros otherwise).
    y_offset : float
        Weighted mean of ``y`` that centring removed (0 otherwise).
    curvatures : ndarray of float64
        ``sum_i s_i (x_ij - x_offset_j) ** 2``, the quadratic's coordinate curvature.
    screen_norms : ndarray of float64
        ``sqrt(sum_i s_i (x_ij - m_j) ** 2)`` used by the sphere test, ``m_j`` the
        weighted mean when an intercept (or a shift-invariant datafit) makes
        ``sum(theta) = 0`` (tighter), else 0.
    fit_intercept : bool
        Always ``False`` for a shift-invariant datafit (``intercept_mode="none"``).
    gamma : float or None
        Strong-concavity constant of the dual (``datafit.dual_gamma(y, s)``).
    cache : dict
        Results that depend on the problem only, computed on first use (the
        point ``w = 0`` of :func:`sksafe.solvers.working_set.solve`, which every
        fit of a path would otherwise recompute).
    """

    X: object
    X_matrix: object
    y: np.ndarray
    s: np.ndarray
    x_mean: np.ndarray
    x_offset: np.ndarray
    y_offset: float
    curvatures: np.ndarray
    screen_norms: np.ndarray
    fit_intercept: bool
    gamma: float = None
    cache: dict = field(default_factory=dict, repr=False, compare=False)

    @property
    def n_samples(self):
        return self.y.shape[0]

    @property
    def n_features(self):
        return self.x_mean.shape[0]

    @property
    def is_sparse(self):
        return isinstance(self.X, tuple)


def with_columns(problem, column):
    """``problem`` with each per-column statistic replaced by ``column(name)``.

    ``column`` maps an attribute name (``x_mean``, ``curvatures``, ``screen_norms``)
    to its new array, e.g. a selection or the concatenation with another problem's
    on new columns (the distributed driver adds columns to its working-set problem
    this way instead of rebuilding it). The offsets follow the means where the
    intercept is eliminated by centring (``x_offset is x_mean``), and stay zero
    otherwise, as :func:`make_problem` sets them. The design is left to the caller.
    """
    joined = {name: column(name) for name in ("x_mean", "curvatures", "screen_norms")}
    joined["x_offset"] = (joined["x_mean"] if problem.x_offset is problem.x_mean
                          else np.zeros(joined["x_mean"].shape[0]))
    return replace(problem, **joined)


def kernel_design(X):
    """Return ``(kernel_X, matrix)``: Fortran-ordered dense or CSC with compact indices."""
    if sp.issparse(X):
        X = sp.csc_matrix(X) if X.format != "csc" else X
        if not X.has_canonical_format:
            # duplicate entries of a cell are summed by scipy's products but not by the
            # kernels, whose squares (norms, curvatures, Gram diagonals) would count each
            # one alone; summing them also sorts the indices. On a copy: X is the user's.
            X = X.copy()
            X.sum_duplicates()
        index_dtype = np.int32 if X.nnz < np.iinfo(np.int32).max else np.int64
        indices = X.indices.astype(index_dtype, copy=False)
        indptr = X.indptr.astype(index_dtype, copy=False)
        return (X.data, indices, indptr), X
    X = np.asfortranarray(X)
    return X, X


def make_problem(X, y, sample_weight, datafit, fit_intercept):
    """Precompute weights, centring offsets and column norms (never densifies ``X``)."""
    X_kernel, X_matrix = kernel_design(X)
    n_samples, n_features = X_matrix.shape
    y = datafit.check_target(y)
    # F(z + c) = F(z): no intercept to fit, but sum(theta) = 0 still centres the norms
    shift_invariant = datafit.intercept_mode == "none"
    fit_intercept = fit_intercept and not shift_invariant
    if sample_weight is None:
        s = np.full(n_samples, 1.0 / n_samples)
    else:
        s = np.asarray(sample_weight, dtype=np.float64)
        s = s / s.sum()
    all_cols = np.arange(n_features)
    x_mean = np.zeros(n_features)
    if fit_intercept:
        xt_dot(X_kernel, s, all_cols, x_mean)
    centre = fit_intercept and datafit.intercept_mode == "centre"
    y_offset = s @ y if centre else 0.0
    x_offset = x_mean if centre else np.zeros(n_features)
    raw_sq = np.empty(n_features)
    centred_sq_norms(X_kernel, s, np.zeros(n_features), all_cols, raw_sq)
    if fit_intercept or shift_invariant:
        means = x_mean
        if shift_invariant:
            means = np.empty(n_features)
            xt_dot(X_kernel, s, all_cols, means)
        centred_sq = np.empty(n_features)
        centred_sq_norms(X_kernel, s, means, all_cols, centred_sq)
        # a column constant on the weighted samples is zero after centring
        centred_sq[centred_sq <= 1e-13 * raw_sq] = 0.0
    else:
        centred_sq = raw_sq
    curvatures = centred_sq if centre else raw_sq
    return Problem(
        X=X_kernel, X_matrix=X_matrix, y=y - y_offset, s=s, x_mean=x_mean,
        x_offset=x_offset, y_offset=y_offset, curvatures=curvatures,
        screen_norms=np.sqrt(centred_sq), fit_intercept=bool(fit_intercept),
        gamma=datafit.dual_gamma(y, s))
