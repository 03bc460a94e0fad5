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

from ..penalties._group_kernels import block_penalty_change, block_penalty_value, unit_rows
from ..screening.group import BlockGeometry
from ._block_kernels import _residual_objective, block_cd_working_set, group_grams

#: groups up to this size get their Gram matrix and an exact eigenvalue; larger
#: ones go through Lanczos on the implicit operator (no dense Gram of a huge group)
EXACT_GRAM_MAX_SIZE = 128


def group_spectral_norms(problem, group_ptr, group_rows, s, means, groups=None):
    """``||diag(sqrt(s)) (X_g - means_g)||_2`` of the ``groups`` (default: all).

    The squared norm is the Lipschitz constant of the weighted quadratic's gradient
    in the block (the BCD step) and the factor of the Gap Safe group test. A
    relative ``1e-10`` is added so that rounding in the eigensolver cannot
    underestimate it (a larger constant only shortens steps and makes the test more
    conservative). Returns an array over all groups (zeros outside ``groups``).
    """
    sizes = np.diff(group_ptr)
    groups = np.arange(sizes.size) if groups is None else np.asarray(groups)
    sq_norms = np.zeros(sizes.size)
    small = groups[sizes[groups] <= EXACT_GRAM_MAX_SIZE]
    if small.size:
        width = int(sizes[small].max())
        sub_ptr = np.concatenate([[0], np.cumsum(sizes[small])]).astype(np.int64)
        sub_rows = unit_rows(small, group_ptr, group_rows)
        grams = np.zeros((sub_rows.size, width))
        group_grams(problem.X, s, means, sub_ptr, sub_rows, grams)
        for size in np.unique(sizes[small]):
            position = np.flatnonzero(sizes[small] == size)
            starts = sub_ptr[position]
            stack = grams[starts[:, None] + np.arange(size)][:, :, :size]
            sq_norms[small[position]] = np.linalg.eigvalsh(stack)[:, -1]
    for g in groups[sizes[groups] > EXACT_GRAM_MAX_SIZE]:
        sq_norms[g] = _large_group_sq_norm(problem, group_rows[group_ptr[g]:group_ptr[g + 1]],
                                           s, means)
    sq_norms = np.maximum(sq_norms, 0.0) * (1.0 + 1e-10)
    return np.sqrt(sq_norms)


def _large_group_sq_norm(problem, cols, s, means):
    from scipy.sparse.linalg import LinearOperator, eigsh

    X_g = problem.X_matrix[:, cols]
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
    coefficient matrix of shape ``(n_features, n_tasks)`` (``>= 0`` with ``positive``).
    """

    def __init__(self, problem, block, lipschitz, live_rows, coef, gap_freq=10,
                 n_extrapolation=5, positive=False):
        self.problem = problem
        self.positive = bool(positive)
        self.group_ptr, self.group_rows, self.c, self.a, self.b = block
        self.lipschitz, self.live_rows, self.gap_freq = lipschitz, live_rows, gap_freq
        self.n_extrapolation = n_extrapolation
        n = problem.n_samples
        self.Y = np.ascontiguousarray(problem.y.reshape(n, -1))
        self.w = np.array(coef, dtype=np.float64, order="C").reshape(problem.n_features, -1)
        residual = self.Y
        if np.any(self.w):  # an O(n p) product that a cold start does not need
            residual = self.Y - np.asarray(problem.X_matrix @ self.w).reshape(n, -1)
        # task columns contiguous: the block kernels then vectorise over samples
        self.R = np.asfortranarray(problem.s[:, None] * residual)
        self.shift = problem.x_offset @ self.w
        self.all_units = np.arange(self.c.shape[0])
        self.epochs = 0

    def theta(self):
        return np.asfortranarray(self.R + self.problem.s[:, None] * self.shift)

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
            self.c, self.a, self.b, self.positive, self.live_rows, ws, self.w, self.R, self.shift, budget, tol,
            self.gap_freq, self.n_extrapolation, theta_best)
        self.epochs += epochs
        return theta_best

    def intercept(self):
        pb = self.problem
        if not pb.fit_intercept:
            return np.zeros(self.w.shape[1])
        return np.reshape(pb.y_offset, -1) - pb.x_offset @ self.w


#: model curvature of a sample with ``f'' = 0``, relative to ``hessian_bound * s_i``
CURVATURE_FLOOR = 1e-3


class BlockProxNewtonState:
    """Proximal Newton state for block penalties and any twice-differentiable datafit.

    The intercepts are explicit and minimised exactly by Newton's method
    (:meth:`polish`). Each Newton iteration minimises, over the working set, the
    penalty plus a quadratic model of the datafit with one curvature ``h_i`` per
    sample: the exact second derivative for single-output datafits, and for
    :class:`~sksafe.datafits.Multinomial` the majorant ``s_i lambda_max(diag(p_i) - p_i p_i^T) I``
    of the sample's Hessian (a scalar per sample keeps the model a weighted
    multi-task least-squares problem).
    The model is a weighted least-squares problem, solved by the block coordinate
    descent kernel of the quadratic; a backtracking line search (Armijo rule of
    Lee, Sun & Saunders, SIAM J. Optim. 2014) makes every step decrease the objective.
    """

    model_epochs = 200
    model_accuracy = 0.1
    armijo = 1e-4

    def __init__(self, problem, datafit, block, live_rows, coef, intercept, positive=False):
        self.problem, self.datafit = problem, datafit
        # W >= 0 is kept without clipping: the model's solution is >= 0 and, with -W
        # representable, fl(W + fl(t fl(W_new - W))) >= 0 for every t in (0, 1]
        self.positive = bool(positive)
        self.group_ptr, self.group_rows, self.c, self.a, self.b = block
        self.live_rows = live_rows
        n = problem.n_samples
        self.y_shape = problem.y.shape
        self.w = np.array(coef, dtype=np.float64, order="C").reshape(problem.n_features, -1)
        n_tasks = self.w.shape[1]
        self.b0 = (np.broadcast_to(np.asarray(intercept, dtype=np.float64), (n_tasks,)).copy()
                   if problem.fit_intercept else np.zeros(n_tasks))
        self.Z = np.ascontiguousarray(
            np.asarray(problem.X_matrix @ self.w).reshape(n, n_tasks) + self.b0)
        self.grad = np.empty((n, n_tasks))
        self.hess = np.empty((n, n_tasks))
        self.all_units = np.arange(self.c.shape[0])
        self.geometry = None  # set by solve_block: the subproblem gaps need it
        self.epochs = 0

    def _loss(self, Z):
        return self.datafit.value(Z.reshape(self.y_shape), self.problem.y, self.problem.s)

    def _gradient(self, Z, out):
        self.datafit.raw_grad(Z.reshape(self.y_shape), self.problem.y, self.problem.s,
                              out.reshape(self.y_shape))

    def _penalty(self, W, units):
        return block_penalty_value(W, units, self.group_ptr, self.group_rows, self.a, self.c,
                                   self.b)

    def theta(self):
        self._gradient(self.Z, self.grad)
        return self.feasible_dual(-self.grad)

    def feasible_dual(self, theta):
        theta = np.asarray(theta, dtype=np.float64).reshape(self.Z.shape)
        if self.problem.fit_intercept:
            pb = self.problem
            theta = self.datafit.zero_sum_dual(theta.reshape(self.y_shape), pb.y, pb.s)
        return np.asfortranarray(np.reshape(theta, self.Z.shape))

    def primal(self):
        return self._loss(self.Z) + self._penalty(self.w, self.all_units)

    def zero_rows(self, rows):
        rows = rows[np.any(self.w[rows] != 0.0, axis=1)]
        if rows.size:
            self.Z -= np.asarray(self.problem.X_matrix[:, rows] @ self.w[rows])
            self.w[rows] = 0.0

    def zero_out(self, units):
        self.zero_rows(unit_rows(units, self.group_ptr, self.group_rows))

    def _intercept_hessian(self):
        pb = self.problem
        if hasattr(self.datafit, "intercept_hessian"):
            return self.datafit.intercept_hessian(self.Z.reshape(self.y_shape), pb.y, pb.s)
        self.datafit.raw_hessian(self.Z.reshape(self.y_shape), pb.y, pb.s,
                                 self.hess.reshape(self.y_shape))
        return np.diag(self.hess.sum(axis=0))

    def polish(self, max_newton=30):
        """Damped Newton on the intercepts, to machine precision."""
        if not self.problem.fit_intercept:
            return
        for _ in range(max_newton):
            self._gradient(self.Z, self.grad)
            g = self.grad.sum(axis=0)
            if np.max(np.abs(g)) <= 1e-15 * np.sum(np.abs(self.grad)) + 1e-300:
                return
            step = np.linalg.lstsq(self._intercept_hessian(), -g, rcond=None)[0]
            loss = self._loss(self.Z)
            slope = g @ step
            t = 1.0
            while t > 1e-12:
                trial = self.Z + t * step
                if self._loss(trial) <= loss + self.armijo * t * slope:
                    break
                t *= 0.5
            else:
                return
            self.Z = np.ascontiguousarray(trial)
            self.b0 += t * step

    def solve_subproblem(self, ws, tol, budget):
        """Prox-Newton iterations on the groups ``ws`` until their gap is ``<= tol``."""
        best_theta, best_dual = None, -np.inf
        for _ in range(budget):
            self.polish()
            theta = self.theta()
            dual = self.geometry.evaluate(theta, ws)[0]
            if dual > best_dual:
                best_dual, best_theta = dual, theta
            gap = self._loss(self.Z) + self._penalty(self.w, ws) - best_dual
            if gap <= tol:
                break
            step = self._newton_step(ws, self.model_accuracy * gap)
            if step is None:
                break
            rows, delta, delta_b = step
            self.epochs += 1
            direction = np.asarray(self.problem.X_matrix[:, rows] @ delta) + delta_b
            t = self._step_length(ws, rows, delta, direction)
            if t == 0.0:
                break
            self.w[rows] += t * delta
            self.Z += t * direction
            self.b0 += t * delta_b
        return best_theta

    def _step_length(self, ws, rows, delta, direction):
        """Longest ``t`` in 1, 1/2, ... passing the Armijo rule or the convexity bound
        ``t grad F(z + t v)^T v + g(W + t delta) - g(W) <= 0`` (the bound keeps working at
        machine precision; see :meth:`sksafe.solvers._states.ProxNewtonState._step_length`)."""
        loss = self._loss(self.Z)
        geometry = (self.w, ws, self.group_ptr, self.group_rows, self.a, self.c, self.b, delta)
        predicted = np.sum(self.grad * direction) + block_penalty_change(*geometry, 1.0)
        trial_grad = np.empty_like(self.grad)
        t = 1.0
        while t > 1e-10:
            change = block_penalty_change(*geometry, t)
            trial_z = self.Z + t * direction
            if predicted < 0.0 and (self._loss(trial_z) - loss + change
                                    <= self.armijo * t * predicted):
                return t
            self._gradient(trial_z, trial_grad)
            if t * np.sum(trial_grad * direction) + change <= 0.0:
                return t
            t *= 0.5
        return 0.0

    def _curvatures(self):
        pb = self.problem
        if hasattr(self.datafit, "intercept_hessian"):
            # multinomial: the largest eigenvalue of each sample's Hessian, the tightest
            # scalar majorant (about p_k (1 - p_k) for a confident sample, not 1/2)
            shifted = self.Z - self.Z.max(axis=1, keepdims=True)
            P = np.exp(shifted)
            P /= P.sum(axis=1, keepdims=True)
            hessians = (P[:, :, None] * np.eye(P.shape[1])) - P[:, :, None] * P[:, None, :]
            return pb.s * np.maximum(np.linalg.eigvalsh(hessians)[:, -1], 0.0)
        self.datafit.raw_hessian(self.Z.reshape(self.y_shape), pb.y, pb.s,
                                 self.hess.reshape(self.y_shape))
        h = self.hess[:, 0]
        floor = CURVATURE_FLOOR * (self.datafit.hessian_bound or 1.0) * pb.s
        return np.where(h > 0.0, h, floor)

    def _newton_step(self, ws, model_tol):
        """Minimise penalty + quadratic model over ``ws`` (and the intercepts).

        The model ``sum_i g_i^T v_i + h_i ||v_i||^2 / 2`` with ``v = X delta + delta_b`` is the
        weighted least-squares problem ``sum_i h_i ||z_i - g_i / h_i - x_i^T W' - b'||^2 / 2``
        in the new point (glmnet's working response), solved by the block CD kernel
        with weights ``h / sum(h)`` and the intercepts eliminated by ``h``-weighted
        centring. Returns ``(rows, delta_rows, delta_b)`` or ``None``.
        """
        pb = self.problem
        h = self._curvatures()
        h_total = h.sum()
        if not h_total > 0.0:
            return None
        s_model = h / h_total
        rows = unit_rows(ws, self.group_ptr, self.group_rows)
        W_ws = np.zeros_like(self.w)
        W_ws[rows] = self.w[rows]
        own = np.asarray(pb.X_matrix[:, rows] @ self.w[rows]).reshape(self.Z.shape)
        # working response minus the fixed part (features outside ws, and the intercepts)
        # samples of zero weight have h = 0 and no gradient: they drop out of the model
        target = self.Z - self.grad / np.where(h > 0.0, h, 1.0)[:, None] - (self.Z - self.b0 - own)
        offsets = np.zeros(pb.n_features)
        y_mean = np.zeros(self.w.shape[1])
        if pb.fit_intercept:
            offsets[rows] = np.asarray(pb.X_matrix[:, rows].T @ s_model).ravel()
            y_mean = s_model @ target
        target = np.ascontiguousarray(target - y_mean)
        lipschitz = group_spectral_norms(pb, self.group_ptr, self.group_rows, s_model, offsets,
                                         groups=ws) ** 2
        residual = np.asfortranarray(s_model[:, None] * (target - own))
        shift = offsets @ W_ws
        epochs, _ = block_cd_working_set(
            pb.X, target, s_model, offsets, lipschitz, self.group_ptr, self.group_rows,
            self.c / h_total, self.a / h_total, self.b / h_total, self.positive,
            self.live_rows, ws, W_ws,
            residual, shift, self.model_epochs, model_tol / h_total, 10, 5,
            np.empty_like(residual))
        b_new = y_mean - offsets @ W_ws if pb.fit_intercept else self.b0
        return rows, W_ws[rows] - self.w[rows], b_new - self.b0

    def intercept(self):
        return self.b0.copy() if self.problem.fit_intercept else np.zeros_like(self.b0)


def solve_block(problem, datafit, penalty, *, coef_init, dual_init, tol, max_iter, max_epochs,
                p0, screening, verbose, intercept_init=0.0, start=None):
    """Solve a block-penalised problem to relative duality gap ``tol`` (see :func:`solve`)."""
    from .working_set import NOT_SCREENED, _outer_loop, certify

    if start is None:
        start = time.perf_counter()
    block = penalty.block_weights(problem.n_features)
    group_ptr, group_rows, c, a, b = block
    penalised = (c > 0) | (b > 0) | np.logical_or.reduceat(a[group_rows] > 0, group_ptr[:-1])
    if not np.all(penalised):
        raise ValueError(f"{penalty!r} leaves some coefficients unpenalised (alpha = 0?): "
                         "block penalties need alpha > 0.")
    # the sphere test may centre the columns whenever an intercept makes sum(theta) = 0
    means = problem.x_mean if problem.fit_intercept else np.zeros(problem.n_features)
    norms = group_spectral_norms(problem, group_ptr, group_rows, problem.s, means)
    positive = bool(penalty.positive)
    geometry = BlockGeometry(problem, datafit, block, norms, positive)
    lipschitz = norms ** 2
    n_tasks = 1 if problem.y.ndim == 1 else problem.y.shape[1]

    def make_state(coef):
        if datafit.intercept_mode == "centre":
            return BlockCDState(problem, block, lipschitz, geometry.live_rows, coef,
                                positive=positive)
        state = BlockProxNewtonState(problem, datafit, block, geometry.live_rows, coef,
                                     intercept_init, positive)
        state.geometry = geometry
        return state

    zero_state = make_state(np.zeros((problem.n_features, n_tasks)))
    zero_state.polish()
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
        if positive:  # a warm start of another fit may have negative entries
            coef0 = np.maximum(coef0, 0.0)
        known = None
        if np.any(coef0):
            state = make_state(coef0)
        else:  # a cold start begins at the zero point, intercepts already optimal
            state, known = zero_state, (theta_zero, corr_zero)
        budget = max_epochs if datafit.intercept_mode == "centre" else max(50, max_epochs // 1000)
        iterations, history, theta_best = _outer_loop(
            geometry, state, screened_at, dual_init, tol_abs=tol_abs, max_iter=max_iter, p0=p0,
            budget=budget, screening=screening, verbose=verbose, start=start,
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
    if penalty.positive and np.any(W < 0):
        return np.inf, np.inf  # outside the constraint: P(W) = +inf
    live = np.ones(problem.n_features, dtype=bool)
    geometry = BlockGeometry(problem, datafit, block, np.zeros(block[2].shape[0]),
                             penalty.positive)
    all_units = np.arange(geometry.n_units)
    if datafit.intercept_mode == "centre":
        point = BlockCDState(problem, block, None, live, W)
        prediction = np.asarray(problem.X_matrix @ W).reshape(problem.n_samples, n_tasks)
        if problem.fit_intercept:
            prediction = prediction + np.reshape(intercept, -1)
        y = problem.y + problem.y_offset
        primal = (datafit.value(prediction.reshape(y.shape), y, problem.s) + penalty.value(W))
        dual = geometry.evaluate(point.theta(), all_units, full=True)[0]
        primal_zero = BlockCDState(problem, block, None, live, np.zeros_like(W)).primal()
    else:
        point = BlockProxNewtonState(problem, datafit, block, live, W, intercept)
        primal = point.primal()
        point.polish()
        dual = geometry.evaluate(point.theta(), all_units, full=True)[0]
        zero = BlockProxNewtonState(problem, datafit, block, live, np.zeros_like(W), 0.0)
        zero.polish()
        primal_zero = zero.primal()
    gap = max(primal - dual, 0.0)
    return gap, (gap / primal_zero if primal_zero > 0 else 0.0)
