"""Working-set solvers for non-convex separable penalties (MCP, SCAD), certified by KKT.

A folded concave penalty makes ``P(w, b) = F(X w + b) + sum_j p_j(w_j)`` non-convex:
there is no dual, so no duality gap to stop on and no Gap Safe sphere to screen
with. What can be certified is stationarity: with ``grad_j = X_j^T grad F(z)``,
the KKT violation of feature ``j`` is the distance of ``-grad_j`` to the Clarke
subdifferential of ``p_j`` at ``w_j`` (``[-alpha_j, alpha_j]`` at 0,
``{sign(w_j) p'(|w_j|)}`` elsewhere). The solver stops when::

    max_j dist(-grad_j, d p_j(w_j)) <= tol * max_j |X_j^T grad F(0)|

(``grad F(0)`` with the intercept and unpenalised coefficients optimal: the
right-hand side is ``tol * alpha_max`` for unit weights), a relative criterion
invariant to rescaling ``y``, as the convex solvers' ``gap <= tol * P(0)`` is.

Why not :func:`sksafe.solvers.working_set._outer_loop`: that loop is driven by the
duality gap (it stops on it, ranks features by their Gap Safe distance to the dual
constraint, and its states solve subproblems to a working-set gap). Here the loop
is the one of skglm's non-convex solvers (Bertrand et al., NeurIPS 2022): KKT
violation of every feature, stop or rank features by it, solve the working-set
subproblem to ``0.3`` times the current violation. No feature is ever removed for
good (no screening). The primal states of :mod:`sksafe.solvers._states` are reused
by subclassing: residuals, exact intercept and unpenalised coordinates, and the
Newton model are the same; only the penalty parts change.

Inner solvers:

* Quadratic datafit: coordinate descent with the exact coordinate minimiser
  (firm thresholding; Breheny & Huang, Ann. Appl. Stat. 2011). When the coordinate
  problem is itself non-convex (``L_j gamma <= 1`` for MCP, ``L_j (gamma - 1) <= 1``
  for SCAD, ``L_j = sum_i s_i (x_ij - mean_j)^2``) its global minimiser is taken
  (see :mod:`sksafe.penalties._nonconvex_kernels`), so descent stays monotone;
  ncvreg standardises the columns (``L_j = 1``) and requires ``gamma > 1`` instead.
* Other datafits with a bounded second derivative (``hessian_bound``: Logistic,
  Huber): proximal Newton steps, whose model (the IRLS weighted least squares)
  plus the penalty is minimised by the same coordinate descent and followed by a
  backtracking line search on ``P``. With a non-convex penalty backtracking may
  find no decrease; the step is then the majorisation-minimisation one, the model
  built with the curvature bound ``hessian_bound * s_i`` instead of ``f''``: that
  model majorises ``F``, so its monotone minimisation decreases ``P`` (the
  descent of Breheny & Huang's ncvreg for logistic regression).
"""
import time
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from ..penalties._nonconvex_kernels import nc_penalty_change, nc_penalty_value, nc_violations
from ..screening.gap_safe import SeparableGeometry, correlations
from ._design import add_columns
from ._kernels import _quadratic_primal
from ._nonconvex_cd import nonconvex_cd_working_set
from ._states import ProxNewtonState, QuadraticCDState
from .working_set import select_working_set

#: a working-set subproblem is solved to this fraction of the current KKT violation
INNER_FRACTION = 0.3


class NonconvexCDState(QuadraticCDState):
    """Coordinate descent state of least squares plus MCP/SCAD (intercept by centring)."""

    def __init__(self, problem, alpha, gamma, kind, positive, unpenalised, coef):
        super().__init__(problem, alpha, np.zeros_like(alpha), positive, unpenalised, coef)
        self.alpha, self.gamma, self.kind, self.positive = alpha, gamma, kind, positive

    def primal(self):
        # the convex kernel's primal over no column: the loss alone
        loss = _quadratic_primal(self.theta(), self.problem.s, self.w, self.all_cols[:0],
                                 self.a, self.b)
        return loss + nc_penalty_value(self.w, self.all_cols, self.alpha, self.gamma, self.kind)

    def solve_subproblem(self, ws, kkt_tol, budget):
        pb = self.problem
        self.epochs += nonconvex_cd_working_set(
            pb.X, pb.s, pb.x_offset, pb.curvatures, self.alpha, self.gamma, self.kind,
            self.positive, 1.0, ws, self.w, self.R, self.shift, budget, kkt_tol)


class NonconvexProxNewtonState(ProxNewtonState):
    """Proximal Newton state of a smooth datafit plus MCP/SCAD, with an MM fallback step."""

    def __init__(self, problem, datafit, alpha, gamma, kind, positive, unpenalised, coef,
                 intercept):
        super().__init__(problem, datafit, alpha, np.zeros_like(alpha), positive, unpenalised,
                         coef, intercept)
        self.alpha, self.gamma, self.kind, self.positive = alpha, gamma, kind, positive

    def primal(self):
        return self._loss(self.z) + nc_penalty_value(self.w, self.all_cols, self.alpha,
                                                     self.gamma, self.kind)

    def _penalty_change(self, ws, delta, t):
        return nc_penalty_change(self.w, ws, delta, t, self.alpha, self.gamma, self.kind)

    def _solve_model(self, target, s_model, offsets, curvatures, h_total, ws, w_new, residual,
                     shift, budget, kkt_tol):
        # the model is normalised by h_total: the penalty enters scaled by 1 / h_total
        return nonconvex_cd_working_set(
            self.problem.X, s_model, offsets, curvatures, self.alpha, self.gamma, self.kind,
            self.positive, 1.0 / h_total, ws, w_new, residual, shift, budget, kkt_tol)

    def solve_subproblem(self, ws, kkt_tol, budget):
        """Newton (or majorisation-minimisation) steps on ``ws`` until its KKT violation is
        ``<= kkt_tol``."""
        pb, datafit = self.problem, self.datafit
        violations = np.empty(ws.shape[0])
        for _ in range(budget):
            self.polish()
            neg_grad = correlations(pb, self.theta(), ws)
            nc_violations(self.w, -neg_grad, ws, self.alpha, self.gamma, self.kind,
                          self.positive, violations)
            kkt = violations.max()
            if kkt <= kkt_tol:
                break
            datafit.raw_hessian(self.z, pb.y, pb.s, self.hess)
            if not self._descend(ws, self.model_accuracy * kkt):
                break  # no decrease possible at this precision
            self.epochs += 1

    def _descend(self, ws, model_tol):
        """One Newton step with line search, or the MM step where it finds no decrease."""
        pb = self.problem
        grad = self.grad.copy()  # the line search overwrites self.grad
        step = self._newton_step(ws, model_tol)
        if step is not None:
            delta, delta_b, direction = self._with_direction(ws, step)
            t = self._step_length(ws, delta, direction)
            if t > 0.0:
                self._take(ws, t * delta, t * delta_b, t * direction)
                return True
        self.grad[:] = grad
        self.hess[:] = self.datafit.hessian_bound * pb.s
        step = self._newton_step(ws, model_tol)
        if step is None:
            return False
        delta, delta_b, direction = self._with_direction(ws, step)
        if delta_b == 0.0 and not np.any(delta):
            return False
        # no line search: P decreases by construction (a majoriser, minimised by monotone
        # descent from the current point), and near a stationary point that decrease is
        # below the rounding of P itself, where a test on P would stall
        self._take(ws, delta, delta_b, direction)
        return True

    def _with_direction(self, ws, step):
        """``(delta, delta_b, X[:, ws] delta + delta_b)`` of a model step."""
        delta, delta_b = step
        direction = np.full(self.problem.n_samples, delta_b)
        add_columns(self.problem.X, ws, delta, direction)
        return delta, delta_b, direction

    def _take(self, ws, delta, delta_b, direction):
        self.w[ws] += delta
        if self.positive:  # w + (w_new - w) may miss 0 by one ulp
            np.maximum(self.w, 0.0, out=self.w)
        self.z += direction
        self.b0 += delta_b


def resolve_nonconvex_solver(solver, datafit):
    """Check that ``datafit`` can be fitted with a non-convex penalty and pick the solver."""
    if getattr(datafit, "multi_output", False):
        raise ValueError(f"non-convex penalties (MCP, SCAD) need a single-output datafit, "
                         f"got {datafit!r}.")
    quadratic = datafit.intercept_mode == "centre"
    if not quadratic and datafit.hessian_bound is None:
        raise ValueError(
            f"non-convex penalties (MCP, SCAD) are fitted by proximal Newton with a "
            f"majorisation fallback, which needs a datafit with a bounded second derivative; "
            f"{datafit!r} has none (hessian_bound=None). Supported: Quadratic, Logistic, Huber.")
    if solver == "auto":
        return "cd" if quadratic else "prox_newton"
    if solver == "cd" and not quadratic:
        raise ValueError(f"solver='cd' needs the Quadratic datafit, got {datafit!r}; "
                         "use solver='prox_newton'.")
    if solver not in ("cd", "prox_newton"):
        raise ValueError(f"non-convex penalties (MCP, SCAD) are solved with solver='auto', "
                         f"'cd' (Quadratic) or 'prox_newton', got solver={solver!r}.")
    return solver


def solve_nonconvex(problem, datafit, penalty, *, solver="auto", coef_init=None,
                    intercept_init=0.0, tol=1e-4, max_iter=100, max_epochs=50_000, p0=10,
                    verbose=0, start=None):
    """Minimise ``F(X w + b) + sum_j p_j(w_j)`` (MCP or SCAD) to relative KKT violation ``tol``.

    Parameters as in :func:`sksafe.solvers.solve` (``problem`` from
    :func:`sksafe.solvers.make_problem`); there is no dual point and no screening.

    Returns
    -------
    SolveResult
        With ``certificate="kkt"``, ``kkt_violation`` the relative KKT violation
        of the module docstring, ``gap = relative_gap = nan`` and
        ``dual_point=None``; ``history`` records ``kkt_violation`` (relative)
        instead of gaps.
    """
    from .working_set import NOT_SCREENED, SolveResult

    start = time.perf_counter() if start is None else start
    solver = resolve_nonconvex_solver(solver, datafit)
    n_features = problem.n_features
    alpha, gamma, kind = penalty.nonconvex_weights(n_features)
    positive = bool(penalty.positive)
    live = problem.screen_norms > 0
    live_cols = np.flatnonzero(live)
    unpenalised = np.flatnonzero((alpha == 0) & live)
    primal_zero, corr_zero, scale = _zero_point_scale(problem, datafit, alpha, positive,
                                                      unpenalised, solver, intercept_init)
    tol_abs = tol * scale

    coef0 = np.zeros(n_features) if coef_init is None else np.asarray(coef_init, np.float64)
    coef0 = np.where(live, coef0, 0.0)
    if solver == "cd":
        state = NonconvexCDState(problem, alpha, gamma, kind, positive, unpenalised, coef0)
        budget = max_epochs
    else:
        state = NonconvexProxNewtonState(problem, datafit, alpha, gamma, kind, positive,
                                         unpenalised, coef0, intercept_init - problem.y_offset)
        budget = max(50, max_epochs // 1000)

    history = []
    violations = np.empty(live_cols.shape[0])
    previous_ws = None
    iteration = 0
    for iteration in range(1, max_iter + 1):
        kkt = _kkt(state, problem, live_cols, violations, scale, history, iteration, start,
                   verbose)
        if kkt <= tol_abs or iteration == max_iter:
            break
        priorities = -violations
        forced = (state.w[live_cols] != 0.0) | (alpha[live_cols] == 0.0)
        priorities[forced] = -np.inf
        # slow growth: which stationary point is reached depends on the order features
        # enter; with the convex solver's quadrupling, an MCP problem of
        # tests/test_nonconvex.py stopped at a worse stationary point than skglm's
        ws = select_working_set(live_cols, priorities, int(np.count_nonzero(forced)), p0,
                                previous_ws, grow_when_full=False)
        previous_ws = ws
        history[-1]["ws_size"] = int(ws.size)
        inner_tol = tol_abs if ws.size == live_cols.size else max(INNER_FRACTION * kkt,
                                                                   0.5 * tol_abs)
        state.solve_subproblem(ws, inner_tol, budget)

    state.polish()
    kkt = _kkt(state, problem, live_cols, violations, scale, None, iteration, start, 0)
    relative_kkt = kkt / scale if scale > 0 else 0.0
    converged = kkt <= tol_abs
    if not converged:
        warnings.warn(
            f"Objective did not converge: relative KKT violation {relative_kkt:.3e} > tol "
            f"{tol:.3e} after {iteration} iterations. Increase max_iter, or tol.",
            ConvergenceWarning, stacklevel=4)
    screened_at = np.full(n_features, NOT_SCREENED)
    screened_at[~live] = 0  # zero columns: excluded, as the convex solvers do
    intercept = state.intercept()
    return SolveResult(
        coef=state.w.copy(), intercept=float(intercept), primal=float(state.primal()),
        gap=np.nan, primal_zero=float(primal_zero), relative_gap=np.nan,
        converged=bool(converged), n_iter=int(iteration), n_epochs=int(state.epochs),
        dual_point=None, screened_at=screened_at, alpha_max=float(penalty.alpha_max(corr_zero)),
        history=history, certificate="kkt", kkt_violation=float(relative_kkt))


def _zero_point_scale(problem, datafit, alpha, positive, unpenalised, solver, intercept_init):
    """``(P(0), X^T (-grad F(0)), max_j |X_j^T grad F(0)|)`` with the intercept and the
    unpenalised coefficients optimal: the point ``w = 0`` is the L1 problem's too."""
    from .working_set import _zero_point

    geometry = SeparableGeometry(problem, datafit, alpha, np.zeros_like(alpha), positive,
                                 unpenalised)
    _, primal_zero, _, corr_zero = _zero_point(geometry, unpenalised, solver, intercept_init)
    live = problem.screen_norms > 0
    return primal_zero, corr_zero, float(np.max(np.abs(corr_zero[live]), initial=0.0))


def kkt_violation(X, y, datafit, penalty, coef, intercept=0.0, *, sample_weight=None,
                  fit_intercept=True):
    """KKT violation of ``(coef, intercept)`` for ``F(X w + b) + sum_j p_j(w_j)`` (MCP, SCAD).

    The certificate of a non-convex fit, for any candidate point (ours or another
    solver's), as :func:`sksafe.solvers.duality_gap` is for the convex ones: the
    largest distance of ``-X_j^T grad F`` to the Clarke subdifferential of ``p_j``
    at ``w_j``, and ``|sum_i dF/dz_i|`` for the intercept, taken at the given
    point (nothing is re-optimised).

    Parameters
    ----------
    X : ndarray or scipy.sparse matrix of shape (n_samples, n_features)
    y : ndarray of shape (n_samples,)
        Targets (``{-1, +1}`` for :class:`~sksafe.datafits.Logistic`).
    datafit, penalty : sksafe datafit and non-convex penalty objects
    coef : ndarray of shape (n_features,)
    intercept : float, default=0.0
    sample_weight : ndarray of shape (n_samples,), default=None
    fit_intercept : bool, default=True
        Whether the intercept is a free variable (its stationarity then counts).

    Returns
    -------
    violation : float
        The largest violation.
    relative_violation : float
        ``violation / max_j |X_j^T grad F(0)|``, the quantity ``tol`` bounds in
        :func:`solve_nonconvex`.
    """
    from ._problem import make_problem

    problem = make_problem(X, y, sample_weight, datafit, fit_intercept)
    alpha, gamma, kind = penalty.nonconvex_weights(problem.n_features)
    positive = bool(penalty.positive)
    live = problem.screen_norms > 0
    unpenalised = np.flatnonzero((alpha == 0) & live)
    _, _, scale = _zero_point_scale(problem, datafit, alpha, positive, unpenalised,
                                    "prox_newton", 0.0)
    shift = problem.y_offset if problem.fit_intercept else 0.0
    state = NonconvexProxNewtonState(problem, datafit, alpha, gamma, kind, positive,
                                     unpenalised, np.asarray(coef, dtype=np.float64),
                                     (intercept if problem.fit_intercept else 0.0) - shift)
    datafit.raw_grad(state.z, problem.y, problem.s, state.grad)
    cols = np.arange(problem.n_features)
    violations = np.empty(cols.shape[0])
    nc_violations(state.w, np.asarray(problem.X_matrix.T @ state.grad).ravel(), cols, alpha,
                  gamma, kind, positive, violations)
    violation = float(violations.max(initial=0.0))
    if problem.fit_intercept:
        violation = max(violation, abs(float(state.grad.sum())))
    return violation, (violation / scale if scale > 0 else 0.0)


def _kkt(state, problem, cols, violations, scale, history, iteration, start, verbose):
    """Largest KKT violation over ``cols`` (into ``violations``); a history record if asked."""
    state.polish()
    neg_grad = correlations(problem, state.theta(), cols)
    nc_violations(state.w, -neg_grad, cols, state.alpha, state.gamma, state.kind,
                  state.positive, violations)
    kkt = float(violations.max(initial=0.0))
    if history is not None:
        relative = kkt / scale if scale > 0 else 0.0
        history.append({"iteration": iteration, "kkt_violation": relative,
                        "primal": float(state.primal()), "ws_size": 0,
                        "time": time.perf_counter() - start})
        if verbose:
            print(f"[sksafe] iter {iteration:4d}  kkt violation {kkt:.3e}  rel {relative:.3e}"
                  f"  nnz {int(np.count_nonzero(state.w))}")
    return kkt
