"""Working-set block coordinate descent for group, sparse-group and multi-task penalties.

Solves, for coefficients ``W`` of shape ``(n_features, n_tasks)`` and intercepts
``b`` (one per task)::

    min_{W, b}  sum_i s_i ||y_i - W^T x_i - b||^2 / 2 + sum_g Omega_g(W_g),    sum_i s_i = 1

with ``Omega_g`` a block penalty of :mod:`sksafe.penalties.group`. The outer loop
(working sets over groups, dynamic Gap Safe screening of groups and, for
sparse-group penalties, of features inside groups, relative duality gap
stopping rule) is the one of :mod:`sksafe.solvers.working_set`; this module
provides the block state and the group step sizes.
"""
import time

import numpy as np

from ..penalties._group_kernels import block_penalty_value, unit_rows
from ..screening.group import BlockGeometry
from ._block_kernels import _residual_objective, block_cd_working_set, group_grams

#: groups up to this size get their Gram matrix and an exact eigenvalue; larger
#: ones go through Lanczos on the implicit operator (no dense Gram of a huge group)
EXACT_GRAM_MAX_SIZE = 128


def group_spectral_norms(problem, group_ptr, group_rows, centred):
    """``||diag(sqrt(s)) X_c,g||_2`` of every group (columns centred when ``centred``).

    The squared norm is the Lipschitz constant of the quadratic's gradient in the
    block (the BCD step) and the factor of the Gap Safe group test. A relative
    ``1e-10`` is added so that rounding in the eigensolver cannot underestimate it
    (a larger constant only shortens steps and makes the test more conservative).
    """
    means = problem.x_mean if centred else np.zeros(problem.n_features)
    sizes = np.diff(group_ptr)
    sq_norms = np.zeros(sizes.size)
    small = sizes <= EXACT_GRAM_MAX_SIZE
    if np.any(small):
        width = int(sizes[small].max())
        grams = np.zeros((group_rows.size, width))
        small_groups = np.flatnonzero(small)
        sub_ptr = np.concatenate([[0], np.cumsum(sizes[small_groups])]).astype(np.int64)
        sub_rows = unit_rows(small_groups, group_ptr, group_rows)
        group_grams(problem.X, problem.s, means, sub_ptr, sub_rows, grams)
        for size in np.unique(sizes[small_groups]):
            members = small_groups[sizes[small_groups] == size]
            starts = sub_ptr[np.searchsorted(small_groups, members)]
            stack = grams[starts[:, None] + np.arange(size)][:, :, :size]
            sq_norms[members] = np.linalg.eigvalsh(stack)[:, -1]
    for g in np.flatnonzero(~small):
        sq_norms[g] = _large_group_sq_norm(problem, group_rows[group_ptr[g]:group_ptr[g + 1]],
                                           means)
    sq_norms = np.maximum(sq_norms, 0.0) * (1.0 + 1e-10)
    return np.sqrt(sq_norms)


def _large_group_sq_norm(problem, cols, means):
    from scipy.sparse.linalg import LinearOperator, eigsh

    X_g = problem.X_matrix[:, cols]
    s = problem.s
    m = means[cols]

    def gram_times(v):
        v = np.ravel(v)
        u = np.asarray(X_g @ v).ravel() - m @ v
        weighted = s * u
        return np.asarray(X_g.T @ weighted).ravel() - m * weighted.sum()

    op = LinearOperator((cols.size, cols.size), matvec=gram_times, dtype=np.float64)
    return float(eigsh(op, k=1, which="LA", tol=1e-12, return_eigenvectors=False)[0])


class BlockCDState:
    """Block coordinate descent state for the (multi-task) quadratic datafit.

    Offers the state protocol of :mod:`sksafe.solvers._states`; ``w`` is the
    coefficient matrix of shape ``(n_features, n_tasks)``.
    """

    def __init__(self, problem, block, lipschitz, live_rows, coef, gap_freq=10,
                 n_extrapolation=5):
        self.problem = problem
        self.group_ptr, self.group_rows, self.c, self.a, self.b = block
        self.lipschitz, self.live_rows, self.gap_freq = lipschitz, live_rows, gap_freq
        self.n_extrapolation = n_extrapolation
        n = problem.n_samples
        self.Y = np.ascontiguousarray(problem.y.reshape(n, -1))
        self.w = np.array(coef, dtype=np.float64, order="C").reshape(problem.n_features, -1)
        prediction = np.asarray(problem.X_matrix @ self.w).reshape(n, -1)
        self.R = np.ascontiguousarray(problem.s[:, None] * (self.Y - prediction))
        self.shift = problem.x_offset @ self.w
        self.all_units = np.arange(self.c.shape[0])
        self.epochs = 0

    def theta(self):
        return self.R + self.problem.s[:, None] * self.shift

    def primal(self):
        quad, _ = _residual_objective(self.theta(), self.problem.s, self.Y)
        return 0.5 * quad + block_penalty_value(self.w, self.all_units, self.group_ptr,
                                                self.group_rows, self.a, self.c, self.b)

    def zero_rows(self, rows):
        rows = rows[np.any(self.w[rows] != 0.0, axis=1)]
        if rows.size == 0:
            return
        removed = self.w[rows]
        contribution = np.asarray(self.problem.X_matrix[:, rows] @ removed)
        self.R += self.problem.s[:, None] * contribution
        self.shift -= self.problem.x_offset[rows] @ removed
        self.w[rows] = 0.0

    def zero_out(self, units):
        self.zero_rows(unit_rows(units, self.group_ptr, self.group_rows))

    def polish(self):
        """Nothing to do: the intercepts are eliminated exactly by centring."""

    def feasible_dual(self, theta):
        theta = np.array(theta, dtype=np.float64).reshape(self.R.shape)
        if self.problem.fit_intercept:
            theta -= self.problem.s[:, None] * theta.sum(axis=0)
        return theta

    def solve_subproblem(self, ws, tol, budget):
        pb = self.problem
        theta_best = np.empty_like(self.R)
        epochs, _ = block_cd_working_set(
            pb.X, self.Y, pb.s, pb.x_offset, self.lipschitz, self.group_ptr, self.group_rows,
            self.c, self.a, self.b, self.live_rows, ws, self.w, self.R, self.shift, budget, tol,
            self.gap_freq, self.n_extrapolation, theta_best)
        self.epochs += epochs
        return theta_best

    def intercept(self):
        pb = self.problem
        if not pb.fit_intercept:
            return np.zeros(self.w.shape[1])
        return np.reshape(pb.y_offset, -1) - pb.x_offset @ self.w


def solve_block(problem, datafit, penalty, *, coef_init, dual_init, tol, max_iter, max_epochs,
                p0, screening, verbose, start=None):
    """Solve a block-penalised problem to relative duality gap ``tol`` (see :func:`solve`)."""
    from .working_set import NOT_SCREENED, _outer_loop, certify

    if start is None:
        start = time.perf_counter()
    if datafit.intercept_mode != "centre":
        raise ValueError(f"block penalties ({type(penalty).__name__}) are solved for the "
                         f"quadratic datafits (Quadratic, QuadraticMultiTask); got {datafit!r}.")
    block = penalty.block_weights(problem.n_features)
    group_ptr, group_rows, c, a, b = block
    penalised = (c > 0) | (b > 0) | np.logical_or.reduceat(a[group_rows] > 0, group_ptr[:-1])
    if not np.all(penalised):
        raise ValueError(f"{penalty!r} leaves some coefficients unpenalised (alpha = 0?): "
                         "block penalties need alpha > 0.")
    norms = group_spectral_norms(problem, group_ptr, group_rows, problem.fit_intercept)
    geometry = BlockGeometry(problem, datafit, block, norms)
    lipschitz = norms ** 2
    n_tasks = 1 if problem.y.ndim == 1 else problem.y.shape[1]
    zero_state = BlockCDState(problem, block, lipschitz, geometry.live_rows,
                              np.zeros((problem.n_features, n_tasks)))
    primal_zero = zero_state.primal()
    theta_zero = zero_state.theta()
    corr_zero = geometry.correlations_all(theta_zero)
    corr_zero[~geometry.live_rows] = 0.0
    alpha_max = penalty.alpha_max(corr_zero)
    tol_abs = tol * primal_zero

    screened_at = np.full(geometry.n_units, NOT_SCREENED)
    screened_at[norms == 0] = 0
    if penalty.alpha >= alpha_max * (1 - 1e-14):
        state, iterations, history, theta_best = zero_state, 0, [], None
    else:
        coef0 = (np.zeros((problem.n_features, n_tasks)) if coef_init is None
                 else np.asarray(coef_init, np.float64).reshape(problem.n_features, n_tasks))
        coef0 = np.where(geometry.live_rows[:, None], coef0, 0.0)
        state = BlockCDState(problem, block, lipschitz, geometry.live_rows, coef0)
        known = (theta_zero, corr_zero) if not np.any(coef0) else None
        iterations, history, theta_best = _outer_loop(
            geometry, state, screened_at, dual_init, tol_abs=tol_abs, max_iter=max_iter, p0=p0,
            budget=max_epochs, screening=screening, verbose=verbose, start=start,
            primal_zero=primal_zero, known=known)
    result = certify(geometry, state, theta_best, tol=tol, tol_abs=tol_abs,
                     primal_zero=primal_zero, iterations=iterations, screened_at=screened_at,
                     alpha_max=alpha_max, history=history, stacklevel=5)
    if problem.y.ndim == 1:
        result.coef = result.coef[:, 0]
        result.intercept = float(result.intercept[0])
        result.dual_point = result.dual_point[:, 0]
    screened_features = ~geometry.live_rows
    screened_features[unit_rows(np.flatnonzero(screened_at >= 0), group_ptr, group_rows)] = True
    result.screened_features = screened_features
    return result


def block_duality_gap(problem, datafit, penalty, coef, intercept):
    """``(gap, relative gap)`` of ``(W, b)`` for a block penalty (see :func:`duality_gap`).

    The primal value is taken at the given point; the dual point is the centred
    residual of ``W`` (the intercept minimised exactly), rescaled to feasibility.
    """
    block = penalty.block_weights(problem.n_features)
    n_tasks = 1 if problem.y.ndim == 1 else problem.y.shape[1]
    W = np.asarray(coef, dtype=np.float64).reshape(problem.n_features, n_tasks)
    live = np.ones(problem.n_features, dtype=bool)
    geometry = BlockGeometry(problem, datafit, block, np.zeros(block[2].shape[0]))
    point = BlockCDState(problem, block, None, live, W)
    prediction = np.asarray(problem.X_matrix @ W).reshape(problem.n_samples, n_tasks)
    if problem.fit_intercept:
        prediction = prediction + np.reshape(intercept, -1)
    y = problem.y + problem.y_offset
    primal = (datafit.value(prediction.reshape(y.shape), y, problem.s)
              + penalty.value(W))
    dual = geometry.evaluate(point.theta(), np.arange(geometry.n_units), full=True)[0]
    primal_zero = BlockCDState(problem, block, None, live, np.zeros_like(W)).primal()
    gap = max(primal - dual, 0.0)
    return gap, (gap / primal_zero if primal_zero > 0 else 0.0)
