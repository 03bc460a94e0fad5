"""Primal iterates of the two working-set solvers.

A *state* owns the coefficients and whatever the datafit needs to evaluate
them quickly, and offers the few operations the working-set outer loop of
:mod:`sksafe.solvers.working_set` needs:

``theta()``                the unscaled dual candidate ``-grad F(z)``
``primal()``               ``P(w)`` (float64)
``zero_out(cols)``         set screened coefficients to zero
``polish()``               minimise exactly over the unpenalised coordinates
                           (intercept and zero-weight features), which makes
                           the dual point satisfy their equality constraints
``solve_subproblem(ws, tol, budget)``  reduce the working-set gap below ``tol``
``intercept()``            the intercept in the user's (uncentred) coordinates
``feasible_dual(theta)``   an outside dual candidate (e.g. a warm start's) made
                           to satisfy the equality constraints, or ``None``
"""
import numpy as np

from ..penalties._kernels import box_subdiff_distance, penalty_change, penalty_value
from ..penalties.base import as_box
from ..screening.gap_safe import correlations, evaluate_dual
from ._design import add_columns, centred_sq_norms, xt_dot
from ._exact_newton import exact_model_applies, exact_newton_step
from ._face import (column_work, face_changes, face_fits, face_gram, face_newton_cost,
                    face_step_work, free_on_face, newton_step_on_face)
from ._kernels import (_quadratic_primal, equality_projector, project_out,
                       quadratic_cd_working_set)
from ._linalg import single_blas_thread


def _basis_t(basis, v):
    """``basis.T @ v``; ``basis = None`` stands for the single column of ones."""
    return np.array([v.sum()]) if basis is None else basis.T @ v


def _dense_columns(problem, cols, offsets=None):
    """``X[:, cols]`` as a dense float64 array (few columns: the unpenalised ones)."""
    if cols.size == 0:  # the usual case, without scipy's slicing overhead (every state has it)
        return np.empty((problem.n_samples, 0))
    X_u = problem.X_matrix[:, cols]
    X_u = np.asarray(X_u.toarray() if hasattr(X_u, "toarray") else X_u, dtype=np.float64)
    if offsets is not None:
        X_u -= offsets
    return X_u


class QuadraticCDState:
    """Coordinate descent state for the quadratic datafit (intercept by implicit centring)."""

    def __init__(self, problem, a, b, box, unpenalised, coef, n_extrapolation=5,
                 gap_freq=10):
        box = as_box(box, problem.n_features)
        self.problem, self.a, self.b, self.box = problem, a, b, box
        self.unpenalised = unpenalised
        self.n_extrapolation, self.gap_freq = n_extrapolation, gap_freq
        self.w = np.clip(coef.astype(np.float64), *box)  # a warm start may leave the box
        self.all_cols = np.arange(problem.n_features)
        residual = problem.y.copy()
        nz = np.flatnonzero(self.w)
        add_columns(problem.X, nz, -self.w[nz], residual)
        self.R = problem.s * residual
        self.shift = np.array([problem.x_offset @ self.w])
        self.epochs = 0
        # centred unpenalised columns: exact polish, and projection of dual candidates
        self.X_u = _dense_columns(problem, unpenalised, problem.x_offset[unpenalised])
        self.eq_basis, self.eq_proj = equality_projector(self.X_u, problem.s)

    def theta(self):
        return self.R + self.problem.s * self.shift[0]

    def primal(self):
        return _quadratic_primal(self.theta(), self.problem.s, self.w, self.all_cols,
                                 self.a, self.b)

    def _move(self, cols, steps):
        """``w[cols] += steps`` keeping ``R`` and ``shift`` consistent."""
        change = np.zeros(self.problem.n_samples)
        add_columns(self.problem.X, cols, steps, change)
        self.R -= self.problem.s * change
        self.shift[0] += self.problem.x_offset[cols] @ steps
        self.w[cols] += steps

    def zero_out(self, cols):
        cols = cols[self.w[cols] != 0.0]
        if cols.size:
            self._move(cols, -self.w[cols])

    def polish(self):
        cols = self.unpenalised
        if cols.size == 0:
            return
        X_u = self.X_u
        gram = X_u.T @ (self.problem.s[:, None] * X_u)
        for _ in range(2):  # one exact step, one for floating-point refinement
            grad = -(X_u.T @ self.theta())
            self._move(cols, np.linalg.lstsq(gram, -grad, rcond=None)[0])

    def feasible_dual(self, theta):
        theta = np.array(theta, dtype=np.float64)
        if self.problem.fit_intercept:
            theta -= self.problem.s * theta.sum()
        project_out(theta, self.eq_basis, self.eq_proj)
        return theta

    def solve_subproblem(self, ws, tol, budget):
        """Coordinate descent on ``ws``, interleaved with Newton steps on the current face.

        On a badly conditioned design (correlated genotypes near interpolation)
        coordinate descent finds the support quickly but then converges linearly
        with a rate close to 1, and the duality gap, which needs the residual
        itself to converge, lags far behind the objective. Once the epochs spent
        cost as much as one Newton step on the face of the current sign pattern
        (where the objective is a smooth quadratic), such a step is taken: when the
        support is the optimal one it lands on the exact minimiser, otherwise it
        still lowers the objective and coordinate descent goes on from there.
        """
        pb = self.problem
        theta_best = np.empty(pb.n_samples)
        per_epoch = max(column_work(pb, ws), 1)
        remaining = budget
        while remaining > 0:
            free = self._face_columns(ws)
            chunk = remaining
            if face_fits(pb, free):
                chunk = min(remaining, max(2 * self.gap_freq, int(np.ceil(
                    face_newton_cost(pb, free) / per_epoch))))
            epochs, gap = quadratic_cd_working_set(
                pb.X, pb.y, pb.s, pb.x_offset, pb.curvatures, self.a, self.b, *self.box,
                ws, self.w, self.R, self.shift, chunk, tol, self.gap_freq,
                self.n_extrapolation, theta_best, self.eq_basis, self.eq_proj, 0.0)
            self.epochs += epochs
            remaining -= epochs
            if gap <= tol or remaining <= 0:
                break
            with single_blas_thread():
                self._face_newton_steps(ws)
        return theta_best

    #: consecutive Newton steps on shrinking faces between two coordinate descent runs
    max_face_steps = 16

    def _face_columns(self, ws):
        """Working-set coordinates free to move on the current face: non-zero, inside the
        box, with a curvature."""
        keep = free_on_face(self.w, ws, self.box) & (self.problem.curvatures[ws] > 0.0)
        return ws[keep]

    def _face_newton_steps(self, ws):
        """Newton steps on ``P`` restricted to the face of the current sign pattern.

        On the face, ``P`` is the quadratic ``sum_i s_i (y_i - x_c,i^T w)^2 / 2 +
        sum_j (a_j sign(w_j) w_j + b_j w_j^2 / 2)`` in the free coordinates (non-zero,
        inside the box), the others fixed. The step ``d = -H^+ g`` (Hessian ``H =
        X_c^T S X_c + diag(b)``) is shortened to stay on the face (no sign change of
        a penalised coordinate, no box bound crossed); the objective decreases along
        it for every length in ``(0, 1]``. A shortened step leaves a smaller face, on
        which the next step is taken (an active-set method), up to
        ``max_face_steps`` steps; the Hessian of the first face serves all of them.
        """
        pb = self.problem
        free = self._face_columns(ws)
        if not face_fits(pb, free):
            return
        offsets = pb.x_offset[free]
        hessian = face_gram(pb, free, pb.s, offsets)  # implicit centring x_c = x - offset
        hessian[np.diag_indices_from(hessian)] += self.b[free]
        face = np.arange(free.size)  # positions in ``free`` still on the face
        for _ in range(self.max_face_steps):
            theta = self.theta()
            cols = free[face]
            w = self.w[cols]
            grad = (-correlations(pb, theta, cols)  # X_c^T theta, read from the memo
                    + self.a[cols] * np.sign(w) + self.b[cols] * w)
            step, full = newton_step_on_face(hessian[np.ix_(face, face)], grad, w,
                                             self.a[cols], self.box[0][cols], self.box[1][cols])
            if step is None:
                return
            before = self.primal()
            self._move(cols, step)
            if self.primal() > before:  # rounding on a nearly flat face: undo
                self._move(cols, -step)
                return
            if full:
                return  # the minimiser on this face
            face = face[free_on_face(self.w, cols, self.box)]
            if face.size == 0:
                return

    def intercept(self):
        pb = self.problem
        return pb.y_offset - pb.x_offset @ self.w if pb.fit_intercept else 0.0


def linear_predictor(problem, w, b0):
    """``z = X w + b0``, the argument of the datafit, from the non-zero coefficients."""
    z = np.full(problem.n_samples, b0)
    nz = np.flatnonzero(w)
    add_columns(problem.X, nz, w[nz], z)
    return z


#: model curvature of a sample with ``f'' = 0``, relative to ``hessian_bound * s_i``
CURVATURE_FLOOR = 1e-3


class ProxNewtonState:
    """Proximal Newton state for any twice-differentiable datafit (explicit intercept).

    Each Newton iteration builds the second-order model of the datafit at the
    current point, minimises model + penalty over the working set by coordinate
    descent (exact coordinate curvatures, intercept eliminated), then takes the longest step of the
    sequence 1, 1/2, 1/4, ... that provably decreases the objective (proximal
    Newton: Lee, Sun & Saunders, SIAM J. Optim. 2014).
    """

    #: CD epochs on one Newton model at first: an inexact model solve is enough (the
    #: outer gap decides), and more epochs on a model far from the optimum are wasted.
    #: A model that uses them all without reaching its accuracy doubles the budget of
    #: the next one (up to ``max_cd_epochs_limit``); one that needs less than half halves
    #: it, so badly conditioned designs get longer solves and easy ones stay cheap.
    max_cd_epochs = 20
    max_cd_epochs_limit = 640
    model_accuracy = 0.1
    newton_exit = 0.3
    armijo = 1e-4  # sufficient-decrease constant of the line searches

    def __init__(self, problem, datafit, a, b, box, unpenalised, coef, intercept):
        self.problem, self.datafit = problem, datafit
        box = as_box(box, problem.n_features)
        self.a, self.b, self.box = a, b, box
        self.unpenalised = unpenalised
        self.constrained = bool(np.any(box[0] > -np.inf) or np.any(box[1] < np.inf))
        self.w = coef.astype(np.float64)
        if self.constrained:  # a warm start may leave the box
            np.clip(self.w, *box, out=self.w)
        self.b0 = float(intercept) if problem.fit_intercept else 0.0
        self.all_cols = np.arange(problem.n_features)
        self.z = linear_predictor(problem, self.w, self.b0)
        self.grad = np.empty(problem.n_samples)
        self.hess = np.empty(problem.n_samples)
        self.epochs = 0
        self.X_u = _dense_columns(problem, unpenalised)
        self.model_epochs = self.max_cd_epochs
        self.no_constraint = np.empty((problem.n_samples, 0))  # the models need no dual point
        self._loss_memo = None  # (z, F(z)) of the last evaluation
        self._grad_memo = None  # (z, grad F(z)) of the last gradient
        self._theta_memo = None  # (grad F(z) of the memo above, theta)
        self._work_since_face = 0  # CD entries visited since the last face steps
        self._last_model_work = 0  # CD entries of the last model, until a settling check
        self._last_face = None  # (free coordinates, their signs) at the last check
        self._face_before_model = None  # (free coordinates, signs) when the last model began
        self._settled_face = None  # the face of the last settling step

    def _loss(self, z):
        # the outer loop, the subproblem and the line search ask for the loss at the same
        # point in turn: an O(n) comparison spares an O(n) sum of logarithms
        if self._loss_memo is not None and np.array_equal(self._loss_memo[0], z):
            return self._loss_memo[1]
        value = self.datafit.value(z, self.problem.y, self.problem.s)
        self._loss_memo = (z.copy(), value)
        return value

    def _gradient(self, z):
        """``grad F(z)``, also left in ``self.grad``; read-only, do not modify it.

        :meth:`polish` ends where it read the gradient to test convergence, and
        :meth:`theta` then needs the same one: an O(n) comparison spares an O(n)
        pass of exponentials.
        """
        memo = self._grad_memo
        if memo is not None and np.array_equal(memo[0], z):
            self.grad[:] = memo[1]
            return memo[1]
        pb = self.problem
        self.datafit.raw_grad(z, pb.y, pb.s, self.grad)
        grad = self.grad.copy()
        grad.setflags(write=False)
        self._grad_memo = (z.copy(), grad)
        return grad

    def theta(self):
        """``-grad F`` at the current point (``sum = 0`` with an intercept); leaves the
        gradient in ``self.grad``. The returned array is shared: do not modify it."""
        pb = self.problem
        grad = self._gradient(self.z)
        memo = self._theta_memo
        if memo is not None and memo[0] is grad:
            return memo[1]
        theta = -grad
        if pb.fit_intercept:
            theta = self.datafit.zero_sum_dual(theta, pb.y, pb.s)
        theta.setflags(write=False)
        self._theta_memo = (grad, theta)
        return theta

    def primal(self):
        return self._loss(self.z) + penalty_value(self.w, self.all_cols, self.a, self.b)

    def zero_out(self, cols):
        cols = cols[self.w[cols] != 0.0]
        if cols.size:
            add_columns(self.problem.X, cols, -self.w[cols], self.z)
            self.w[cols] = 0.0

    def polish(self, max_newton=30):
        """Damped Newton on the intercept and the zero-weight features, to machine precision."""
        pb = self.problem
        cols = self.unpenalised
        if not pb.fit_intercept and cols.size == 0:
            return
        if cols.size == 0:
            shift = self.datafit.intercept_shift(self.z, pb.y, pb.s)
            if shift is not None and np.isfinite(shift):
                self.z += shift
                self.b0 += shift
                return
        # the intercept alone (the usual case) is a 1-D Newton: scalar sums, no lstsq
        basis = None if cols.size == 0 else self.X_u
        if basis is not None and pb.fit_intercept:
            basis = np.column_stack([np.ones(pb.n_samples), basis])
        for _ in range(max_newton):
            grad = self._gradient(self.z)
            g = _basis_t(basis, grad)
            if np.max(np.abs(g)) <= 1e-15 * np.sum(np.abs(grad)) + 1e-300:
                return
            self.datafit.raw_hessian(self.z, pb.y, pb.s, self.hess)
            if basis is None:
                curvature = self.hess.sum()
                if not curvature > 0.0:
                    return
                step = -g / curvature
                direction = np.full(pb.n_samples, step[0])
            else:
                H = basis.T @ (self.hess[:, None] * basis)
                step = np.linalg.lstsq(H, -g, rcond=None)[0]
                direction = basis @ step
            t = self._polish_step(basis, g, step, direction)
            if t == 0.0:
                return
            self.z += t * direction
            offset = 0
            if pb.fit_intercept:
                self.b0 += t * step[0]
                offset = 1
            self.w[cols] += t * step[offset:]

    def _polish_step(self, basis, g, step, direction):
        """Step length for :meth:`polish`: Armijo backtracking, or a full Newton step
        that shrinks the gradient where the decrease is below rounding (0: none)."""
        pb = self.problem
        f0 = self._loss(self.z)
        slope = g @ step
        f_1 = self._loss(self.z + direction)
        if f_1 <= f0 + self.armijo * slope:
            return 1.0
        # near the optimum the objective decrease is lost in rounding while Newton
        # still converges quadratically: judge the full step by the gradient then
        trial_grad = np.empty(pb.n_samples)
        self.datafit.raw_grad(self.z + direction, pb.y, pb.s, trial_grad)
        if np.max(np.abs(_basis_t(basis, trial_grad))) < 0.5 * np.max(np.abs(g)):
            return 1.0
        t = 0.5
        while t > 1e-12:
            f_t = self._loss(self.z + t * direction)
            if f_t <= f0 + self.armijo * t * slope:
                return t if f_t <= f0 else 0.0
            t *= 0.5
        return 0.0

    def feasible_dual(self, theta):
        """``theta`` with ``sum(theta) = 0`` restored, or ``None``.

        The constraints ``X_u^T theta = 0`` of the unpenalised features cannot be
        restored inside a general dual domain, so a candidate violating them
        beyond rounding is dropped.
        """
        pb = self.problem
        theta = np.asarray(theta, dtype=np.float64)
        if pb.fit_intercept:
            theta = self.datafit.zero_sum_dual(theta, pb.y, pb.s)
        residuals = self.X_u.T @ theta
        if residuals.size and np.max(np.abs(residuals)) > 1e-12 * np.sum(np.abs(theta)):
            return None
        return theta

    def solve_subproblem(self, ws, tol, budget):
        """Prox-Newton iterations on ``ws``.

        They stop when the working-set gap is ``<= tol``, or when the largest KKT
        violation on ``ws`` has dropped to ``newton_exit`` times its value on entry:
        the outer loop then re-ranks the features (skglm's rule; Bertrand et al.,
        NeurIPS 2022). Each Newton model is solved to ``model_accuracy`` times the
        current violation (inexact prox-Newton). Where that coordinate descent
        struggles, Newton steps on the face of the current sign pattern take the
        place of the next model (:meth:`_face_steps_due`, :meth:`_face_newton_steps`);
        in warm-started fits one such step may follow a model that settled the face
        (:meth:`_settling_step_due`).
        """
        pb, datafit = self.problem, self.datafit
        best_theta, best_dual = None, -np.inf
        violations = np.empty(ws.shape[0])
        kkt_start = None
        for _ in range(budget):
            self.polish()
            theta = self.theta()
            dual, _, corr = evaluate_dual(pb, datafit, theta, ws, self.a, self.b, self.box)
            if dual > best_dual:
                best_dual, best_theta = dual, theta
            primal_value = self._loss(self.z) + penalty_value(self.w, ws, self.a, self.b)
            if primal_value - best_dual <= tol:
                break
            datafit.raw_hessian(self.z, pb.y, pb.s, self.hess)
            box_subdiff_distance(self.w, -corr, ws, self.a, self.b, *self.box, violations)
            kkt = violations.max()
            first = kkt_start is None
            if first:
                kkt_start = kkt
            # before the exit test: a settling step due within this subproblem may end the
            # fit without re-ranking the features first (a pass over them)
            if self._settling_step_due(ws):
                with single_blas_thread():
                    self._face_newton_steps(ws, 1, np.inf)
                continue
            if not first and kkt <= self.newton_exit * kkt_start:
                break
            if self._face_steps_due(ws):
                with single_blas_thread():
                    self._face_newton_steps(ws, self.max_face_steps, self._work_since_face)
                continue
            step = self._newton_step(ws, self.model_accuracy * kkt)
            if step is None:
                break
            delta, delta_b = step
            self.epochs += 1
            if delta_b == 0.0 and not np.any(delta):
                break
            direction = np.full(pb.n_samples, delta_b)
            add_columns(pb.X, ws, delta, direction)
            t = self._step_length(ws, delta, direction)
            if t == 0.0:
                break  # no decrease possible at this precision
            self.w[ws] += t * delta
            if self.constrained:  # w + (w_new - w) may miss a bound by one ulp
                np.clip(self.w, *self.box, out=self.w)
            self.z += t * direction
            self.b0 += t * delta_b
        return best_theta

    def _step_length(self, ws, delta, direction):
        """Longest step ``t`` in 1, 1/2, 1/4, ... that decreases ``P`` enough (0: none).

        A step is accepted by the Armijo rule of proximal Newton,
        ``P(w + t d) - P(w) <= sigma t Delta`` with the predicted decrease
        ``Delta = grad F(z)^T v + g(w + d) - g(w)`` (Lee, Sun & Saunders, SIAM J.
        Optim. 2014), or by the convexity bound ``t grad F(z + t v)^T v + g(w + t d) -
        g(w) <= 0``, which needs no difference of nearly equal objective values and
        so keeps working at machine precision (skglm's rule). The bound alone is
        not enough: at an exact Newton step it is zero to second order, so rounding
        rejects ``t = 1`` about half the time and Newton's quadratic convergence
        degrades to a linear rate of about 1/2.
        """
        pb, datafit = self.problem, self.datafit
        loss = self._loss(self.z)
        predicted = (self.grad @ direction) + self._penalty_change(ws, delta, 1.0)
        trial = np.empty(pb.n_samples)
        t = 1.0
        while t > 1e-10:
            np.add(self.z, t * direction, out=trial)
            change = self._penalty_change(ws, delta, t)
            if predicted < 0.0 and (self._loss(trial) - loss + change
                                    <= self.armijo * t * predicted):
                return t
            datafit.raw_grad(trial, pb.y, pb.s, self.grad)
            if t * (self.grad @ direction) + change <= 0.0:
                return t
            t *= 0.5
        return 0.0

    def _newton_step(self, ws, kkt_tol):
        """Minimise the second-order model plus penalty over ``ws`` (and the intercept).

        The model ``g^T v + v^T diag(h) v / 2`` with ``v = X delta + delta_b`` is, up to a
        constant, the weighted least-squares problem ``sum_i h_i (z_i - g_i / h_i - x_i^T w'
        - b')^2 / 2`` in the new point ``(w', b')`` (the IRLS working response of
        glmnet). It is solved by the same working-set coordinate descent kernel as
        the Lasso, with the weights ``h / sum(h)``, the intercept eliminated exactly by
        implicit ``h``-weighted centring and Anderson extrapolation, until its KKT
        violation is ``<= kkt_tol`` (no duality gap: the model only gives a direction,
        and its dual is meaningless where ``h`` is tiny). Returns the step
        ``(delta_ws, delta_b)`` or ``None`` when the model is flat. A datafit whose
        Hessian is not diagonal gets its exact model instead where
        :func:`~sksafe.solvers._exact_newton.exact_model_applies`.
        """
        if exact_model_applies(self, ws, kkt_tol):  # a datafit with a full Hessian (Cox)
            with single_blas_thread():
                return exact_newton_step(self, ws, kkt_tol)
        pb = self.problem
        if self.settle_faces:
            self._face_before_model = self._face(ws)  # for _settling_step_due
        # The IRLS form weights each sample's gradient by its curvature, so a sample with
        # f'' = 0 (Huber's linear zone) would drop out of the model altogether. A small
        # curvature keeps every gradient in it; the line search keeps the decrease. Only
        # exact zeros get it: raising small positive curvatures (confident logistic
        # samples) would make every Newton step too short, and Newton's convergence linear.
        h = np.where(self.hess > 0.0, self.hess,
                     CURVATURE_FLOOR * (self.datafit.hessian_bound or 1.0) * pb.s)
        h_total = h.sum()
        if not h_total > 0.0:
            return None
        s_model = h / h_total
        z_work = self.z - self.grad / np.where(h > 0.0, h, 1.0)
        offsets = np.zeros(pb.n_features)
        on_ws = np.empty(ws.shape[0])
        y_mean = 0.0
        # a shift-invariant F (Cox) is flat along 1, its diagonal model is not: a free model
        # intercept (dropped from the step) removes the model's spurious curvature along 1,
        # which uncentred columns would otherwise pay for with tiny steps
        if pb.fit_intercept or self.datafit.intercept_mode == "none":
            xt_dot(pb.X, s_model, ws, on_ws)
            offsets[ws] = on_ws
            y_mean = s_model @ z_work
        target = z_work - y_mean
        curvatures = np.zeros(pb.n_features)
        centred_sq_norms(pb.X, s_model, offsets, ws, on_ws)
        curvatures[ws] = on_ws
        w_new = self.w.copy()
        residual = s_model * (target - (self.z - self.b0))
        shift = np.array([offsets[ws] @ w_new[ws]])
        budget = self.model_epochs
        epochs = self._solve_model(target, s_model, offsets, curvatures, h_total, ws, w_new,
                                   residual, shift, budget, kkt_tol / h_total)
        self._last_model_work = epochs * column_work(pb, ws)
        self._work_since_face += self._last_model_work
        if epochs >= budget:
            self.model_epochs = min(2 * budget, self.max_cd_epochs_limit)
        elif 2 * epochs < budget:
            self.model_epochs = max(budget // 2, self.max_cd_epochs)
        b_new = y_mean - offsets[ws] @ w_new[ws] if pb.fit_intercept else 0.0
        return w_new[ws] - self.w[ws], b_new - self.b0

    #: Newton steps on the face (each with its own Hessian) between two models, and
    #: the reduction of the face gradient at which they stop
    max_face_steps = 8
    face_accuracy = 1e-6
    #: largest fraction of the face the last model may have changed for face steps, once
    #: the model epochs since the last ones cost as much as one step; epochs that cost
    #: ``k`` steps allow ``face_change * sqrt(k)``, at most ``max_face_change``
    face_change = 0.1
    max_face_change = 0.25
    #: a settling face step may cost this many times the last model's work: when it
    #: settles the fit it saves the two or three models that would follow, each about
    #: as long
    settling_work_ratio = 2.0
    #: whether settling steps are taken: :func:`~sksafe.solvers.solve` turns them on for
    #: warm-started fits (paths). In cold fits the face after a model is seldom the
    #: last one, and the steps helped and hurt about equally (cold L1-logistic fits, tol
    #: 1e-6: gisette / 100 73 -> 55 ms, wheat / 100 431 -> 336 ms, but gisette / 1000
    #: 120 -> 163 ms and wheat / 1000 with an intercept 164 -> 189 ms).
    settle_faces = False

    def _face(self, ws):
        """``(free coordinates of ws (sorted, as ws is), their signs)``: the current face."""
        free = ws[free_on_face(self.w, ws, self.box)]
        return free, np.sign(self.w[free])

    def _face_steps_due(self, ws):
        """Whether to take face steps now: coordinate descent struggles on the models
        (one used up its epochs), the model epochs since the last face steps cost as
        much as ``k >= 1`` of them, and the last model changed at most ``face_change
        * sqrt(k)`` (at most ``max_face_change``) of the face's signs.

        The more epochs a face that still changes a little has already cost, the
        cheaper a Newton step is in comparison: on the wheat markers (L1-logistic
        regression without intercept, alpha_max/10) the models changed 13-16 % of a
        face of 160 coordinates while each used up 320-640 epochs, 18-70 steps' worth.
        Measured (cold fits, tol 1e-6): wheat /10 71 -> 46 ms, /1000 657 -> 553 ms,
        gisette /1000 127 -> 106 ms, arcene /1000 94 -> 86 ms; wheat /1000 with an
        intercept 141 -> 170 ms (one face step too early); relathe, basehock, pcmac,
        reuters and leukemia unchanged."""
        if self.datafit.full_hessian or self.model_epochs <= self.max_cd_epochs:
            return False  # (the exact models of _exact_newton take face steps of their own)
        free, signs = self._face(ws)
        previous, self._last_face = self._last_face, (free, signs)
        if previous is None:
            return False
        # a face the last model changed much is not yet near the optimal one: Newton on it
        # is wasted (coordinate descent still moving a few coordinates is not a reason)
        changed = face_changes(previous, (free, signs))
        if not face_fits(self.problem, free):
            return False
        paid = self._work_since_face / face_newton_cost(self.problem, free)
        allowed = min(self.max_face_change, self.face_change * np.sqrt(paid))
        return paid >= 1.0 and changed <= allowed * free.size

    def _settling_step_due(self, ws):
        """Whether to take one *settling* face step now (the models do not struggle).

        At the first such check after a model (in the same subproblem, or at the
        start of the next one), if that model changed at most ``face_change`` of
        the face, the face was not tried before, and the step's actual work
        (:func:`~sksafe.solvers._face.face_step_work`) is at most
        ``settling_work_ratio`` times the model's; in warm-started fits only
        (``settle_faces``). The duality gap at the residual of a point is about the
        square root of its suboptimality (first order in the KKT violation), so a
        fit to ``tol`` needs a point about ``tol^2`` from the optimum: models solved
        by coordinate descent get there linearly, about one decade per model, while
        a Newton step on the optimal face squares the error. After the first model
        of a warm-started fit the face is usually the optimal one. Measured on
        reuters along a path (L1-logistic, tol 1e-6): after the first model the gap
        is 2e-4 at a suboptimality of 1e-7, and two or three more models followed;
        one face step reaches a suboptimality near 1e-14, whose residual certifies
        the fit (the path about 20 % faster). A settling step counts as a face step for
        the struggling rule too: the model work that rule weighs starts again.
        """
        if (not self.settle_faces or self.datafit.full_hessian
                or self.model_epochs > self.max_cd_epochs):
            return False  # (struggling models: _face_steps_due)
        model_work, self._last_model_work = self._last_model_work, 0  # judge each model once
        before = self._face_before_model
        if model_work == 0 or before is None:
            return False
        face = self._face(ws)
        free = face[0]
        tried = self._settled_face
        if (not face_fits(self.problem, free)
                or face_changes(before, face) > self.face_change * free.size
                or tried is not None and face_changes(tried, face) == 0):
            return False
        limit = self.settling_work_ratio * model_work
        if face_step_work(self.problem, free, limit) > limit:
            return False
        self._settled_face = face
        return True

    def _face_newton_steps(self, ws, max_steps, budget):
        """Newton steps on ``P`` restricted to the face of the current sign pattern.

        On the face, ``P(w, b) = F(X_f w_f + b) + sum_j (a_j sign(w_j) w_j + b_j w_j^2
        / 2)`` is smooth in the free coordinates ``f`` (non-zero, inside the box) and
        the intercept, the others fixed. Each step solves ``H d = -g`` with ``H =
        X_f^T D X_f + diag(b)`` (``D`` the curvatures of ``F`` at the current point;
        the intercept eliminated by ``D``-weighted centring), is shortened to stay
        on the face, and is damped by :meth:`_step_length`. When the face is the
        optimal one this is Newton's method on a smooth function, quadratically
        convergent where coordinate descent on badly conditioned models (correlated
        genotypes, nearly separable classes) is linear with a rate close to 1. A
        shortened step leaves a smaller face, on which the next step is taken. At
        most ``max_steps`` steps, together priced (:func:`face_newton_cost`) at
        most ``budget``.
        """
        pb = self.problem
        self._work_since_face = self._last_model_work = 0
        free = ws[free_on_face(self.w, ws, self.box)]
        if not face_fits(pb, free):
            return
        first = None
        for _ in range(max_steps):
            cost = face_newton_cost(pb, free)
            if cost > budget:
                return  # the steps cost at most what the model epochs did
            budget -= cost
            grad_z = self._gradient(self.z)
            self.datafit.raw_hessian(self.z, pb.y, pb.s, self.hess)
            curvature = self.hess
            w = self.w[free]
            if pb.fit_intercept:
                grad = np.empty(free.shape[0])
                xt_dot(pb.X, grad_z, free, grad)
            else:  # theta = -grad F, whose correlations the last gap evaluation left in the memo
                grad = -correlations(pb, self.theta(), free)
            grad += self.a[free] * np.sign(w) + self.b[free] * w
            offsets, grad_b, total = None, 0.0, 1.0
            if pb.fit_intercept:
                total = curvature.sum()
                if not total > 0.0:
                    return
                offsets = np.empty(free.shape[0])
                xt_dot(pb.X, curvature, free, offsets)
                offsets /= total
                grad_b = grad_z.sum()
                grad = grad - offsets * grad_b
            largest = np.max(np.abs(grad), initial=abs(grad_b))
            if first is None:
                first = largest
            elif largest <= self.face_accuracy * first:
                return  # Newton has converged on this face: the outer gap decides
            hessian = face_gram(pb, free, curvature, offsets)
            hessian[np.diag_indices_from(hessian)] += self.b[free]
            step, full = newton_step_on_face(hessian, grad, w, self.a[free],
                                             self.box[0][free], self.box[1][free])
            if step is None:
                return
            # the intercept minimises the model given the step: (grad_b + (x_f^T D) step) / sum D
            step_b = -(grad_b / total + offsets @ step) if pb.fit_intercept else 0.0
            change = np.full(pb.n_samples, step_b)
            add_columns(pb.X, free, step, change)
            t = self._step_length(free, step, change)
            if t == 0.0:
                return
            self.w[free] += t * step
            if self.constrained:
                np.clip(self.w, *self.box, out=self.w)
            self.z += t * change
            self.b0 += t * step_b
            if not full:  # a coordinate reached its kink or bound: a smaller face
                keep = free_on_face(self.w, free, self.box)
                free = free[keep]
                if free.size == 0:
                    return

    def _penalty_change(self, ws, delta, t):
        """``g(w + t delta) - g(w)`` over ``ws`` (the hook of other penalty families)."""
        return penalty_change(self.w, ws, delta, t, self.a, self.b)

    def _solve_model(self, target, s_model, offsets, curvatures, h_total, ws, w_new, residual,
                     shift, budget, kkt_tol):
        """Working-set CD on the model of :meth:`_newton_step` plus ``g / h_total``; the epochs."""
        pb = self.problem
        return quadratic_cd_working_set(
            pb.X, target, s_model, offsets, curvatures, self.a / h_total, self.b / h_total,
            *self.box, ws, w_new, residual, shift, budget,
            0.0, 0, 5, np.empty(pb.n_samples), self.no_constraint, self.no_constraint,
            kkt_tol)[0]

    def intercept(self):
        return self.b0 + self.problem.y_offset if self.problem.fit_intercept else 0.0
