"""Working-set outer loop with dynamic Gap Safe screening, and the ``solve`` entry point."""
import time
import warnings
from dataclasses import dataclass, field

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from ..penalties._kernels import penalty_value
from ..penalties.base import as_box, unpenalised_mask
from ..screening.gap_safe import SeparableGeometry, computed_gap_radius
from ._problem import make_problem
from ._states import ProxNewtonState, QuadraticCDState, linear_predictor

#: ``screened_at`` value of features never screened
NOT_SCREENED = -1


@dataclass
class SolveResult:
    """Outcome of one fit.

    Attributes
    ----------
    coef : ndarray of float64, shape (n_features,) or (n_features, n_tasks)
        (the second for multi-task datafits).
    intercept : float or ndarray of shape (n_tasks,)
    primal : float
        ``P(w)`` at the returned point.
    gap : float
        Duality gap of the *full* problem (no feature left out), recomputed at the end.
    primal_zero : float
        ``P(0)`` (unpenalised coordinates at their optimum): ``tol`` is relative to it.
    relative_gap : float
        ``gap / primal_zero``.
    converged : bool
        Whether ``relative_gap <= tol``.
    n_iter : int
        Outer (working-set) iterations.
    n_epochs : int
        Inner iterations (CD epochs, or prox-Newton steps).
    dual_point : ndarray of float64, shape (n_samples,) or (n_samples, n_tasks)
        The feasible dual point that certifies ``gap``.
    dual_correlations : ndarray of float64, shape (n_features,) or (n_features, n_tasks)
        ``X_c^T dual_point`` over every feature (centred columns where an intercept
        is fitted), a by-product of the certificate. Passed back to :func:`solve`
        as ``dual_init_correlations`` with ``dual_init=dual_point``, it spares the
        next fit of a path a pass over ``X``. ``None`` for non-convex penalties.
    screened_at : ndarray of int, shape (n_features,)
        Outer iteration at which each feature was screened out: 0 means before the
        first iteration (zero column, or screened by a warm start), -1 never.
    history : list of dict
        One entry per gap evaluation of the outer loop: ``iteration``, ``gap``,
        ``relative_gap``, ``primal``, ``n_screened``, ``ws_size``, ``time``.
    alpha_max : float
        Smallest ``alpha`` giving ``w = 0`` for this penalty family.
    screened_features : ndarray of bool, shape (n_features,) or None
        Block penalties: features removed by screening on their own or with their
        group (``screened_at`` then counts groups); ``None`` for separable penalties.
    communication : CommunicationLedger or None
        Distributed fits (:func:`sksafe.distributed.solve_distributed`): the rounds
        and bytes of the fit; ``None`` on one machine.
    certificate : {"duality_gap", "kkt"}
        What certifies the point: the duality gap (convex penalties) or, for the
        non-convex ones (MCP, SCAD), which have no dual, the KKT violation; then
        ``gap`` and ``relative_gap`` are NaN and ``dual_point`` is None.
    kkt_violation : float or None
        ``certificate="kkt"``: the largest distance of ``-grad`` to the Clarke
        subdifferential, relative to ``max_j |X_j^T grad F(0)|`` (see
        :mod:`sksafe.solvers.nonconvex`); None otherwise.
    """

    coef: np.ndarray
    intercept: float
    primal: float
    gap: float
    primal_zero: float
    relative_gap: float
    converged: bool
    n_iter: int
    n_epochs: int
    dual_point: np.ndarray
    screened_at: np.ndarray
    alpha_max: float
    history: list = field(default_factory=list)
    screened_features: np.ndarray = None
    communication: object = None
    certificate: str = "duality_gap"
    kkt_violation: float = None
    dual_correlations: np.ndarray = None


def _make_state(solver, problem, datafit, a, b, box, unpenalised, coef, intercept):
    if solver == "cd":
        if datafit.intercept_mode != "centre":
            raise ValueError(f"solver='cd' needs the Quadratic datafit, got {datafit!r}; "
                             "use solver='prox_newton' or 'fista'.")
        return QuadraticCDState(problem, a, b, box, unpenalised, coef)
    # the state's intercept lives in the coordinates of the (possibly centred) target
    return ProxNewtonState(problem, datafit, a, b, box, unpenalised, coef,
                           intercept - problem.y_offset)


def resolve_solver(solver, datafit):
    """Map ``"auto"`` to the fastest solver for ``datafit`` and check the name."""
    if solver == "auto":
        return "cd" if datafit.intercept_mode == "centre" else "prox_newton"
    if solver not in ("cd", "prox_newton", "fista"):
        raise ValueError(f"solver must be 'auto', 'cd', 'prox_newton' or 'fista', got {solver!r}.")
    if solver == "fista" and datafit.hessian_bound is None:
        raise ValueError(f"solver='fista' needs a datafit with a bounded second derivative; "
                         f"{datafit!r} has none (hessian_bound=None): use 'prox_newton'.")
    return solver


def solve(X, y, datafit, penalty, *, sample_weight=None, fit_intercept=True, coef_init=None,
          intercept_init=0.0, dual_init=None, dual_init_correlations=None, tol=1e-4,
          max_iter=100, max_epochs=50_000, p0=10, screening=True, solver="auto", verbose=0,
          problem=None, ws_init=None, fallback_init=None):
    """Minimise ``P(w, b) = F(X w + b) + g(w)`` to relative duality gap ``tol``.

    ``F(z) = sum_i s_i f(y_i, z_i)`` with sample weights ``s`` normalised to
    sum to one (``datafit``) and ``g(w) = sum_j a_j |w_j| + b_j w_j^2 / 2``
    (``penalty``). The solver stops when the duality gap ``G = P(w) - D(theta)``
    satisfies ``G <= tol * P(0)``, and never on anything else (``max_iter``
    bounds the work and raises a ``ConvergenceWarning``). Non-convex penalties
    (MCP, SCAD) have no dual: they go to
    :func:`sksafe.solvers.nonconvex.solve_nonconvex`, stopped on the KKT violation.

    Parameters
    ----------
    X : ndarray or scipy.sparse matrix of shape (n_samples, n_features)
        Validated design (finite, float32 or float64); sparse input is never densified.
    y : ndarray of shape (n_samples,)
    datafit, penalty : objects of :mod:`sksafe.datafits` / :mod:`sksafe.penalties`
    sample_weight : ndarray of shape (n_samples,), default=None
    fit_intercept : bool, default=True
    coef_init, intercept_init : warm start (intercept in the user's coordinates)
    dual_init : ndarray of shape (n_samples,), default=None
        A dual point of a previous fit (e.g. the previous alpha of a path), used
        as an extra candidate for the first gap: sequential screening.
    dual_init_correlations : ndarray of shape (n_features,), default=None
        ``X_c^T dual_init`` (:attr:`SolveResult.dual_correlations` of the fit that
        gave ``dual_init``): the first gap evaluation then needs no pass over ``X``.
        Trusted as given: pass the pair of one :class:`SolveResult` on the same problem.
    tol : float, default=1e-4
        Relative duality gap to reach.
    max_iter : int, default=100
        Outer working-set iterations.
    max_epochs : int, default=50000
        Inner budget per working-set subproblem (CD epochs; prox-Newton steps
        are capped at ``max(50, max_epochs // 1000)``).
    p0 : int, default=10
        Initial working-set size.
    screening : bool, default=True
        Apply dynamic Gap Safe screening (working sets are used either way).
    solver : {"auto", "cd", "prox_newton", "fista"}
    verbose : int, default=0
    problem : Problem, default=None
        Precomputed :func:`make_problem` output (paths reuse it across alphas).
    ws_init : array of int, default=None
        Features forced into the first working set (e.g. the strong-rule set of a
        path). Only a seed: the duality gap of the whole problem still decides
        when the solver stops (ignored by ``solver="fista"`` and block penalties).
    fallback_init : tuple (coef, value), default=None
        A second starting point and its objective ``P(coef)`` (intercept
        ``intercept_init``): the solver starts there instead of at ``coef_init``
        unless ``P(coef_init) < value``. Paths pass the previous solution behind a
        secant prediction: the state at the prediction computes the objective its
        first gap needs anyway, so the comparison costs no pass over ``X``.

    Returns
    -------
    SolveResult
    """
    start = time.perf_counter()
    if getattr(penalty, "family", None) == "block":
        if solver not in ("auto", "cd"):
            raise ValueError(f"block penalties are solved by block coordinate descent "
                             f"(solver='auto' or 'cd'), got solver={solver!r}.")
        if problem is None:
            problem = make_problem(X, y, sample_weight, datafit, fit_intercept)
        from .block import solve_block
        return solve_block(problem, datafit, penalty, coef_init=coef_init, dual_init=dual_init,
                           tol=tol, max_iter=max_iter, max_epochs=max_epochs, p0=p0,
                           screening=screening, verbose=verbose,
                           intercept_init=intercept_init, start=start)
    if getattr(penalty, "family", None) == "nonconvex":
        if problem is None:
            problem = make_problem(X, y, sample_weight, datafit, fit_intercept)
        from .nonconvex import solve_nonconvex
        return solve_nonconvex(problem, datafit, penalty, solver=solver, coef_init=coef_init,
                               intercept_init=intercept_init, tol=tol, max_iter=max_iter,
                               max_epochs=max_epochs, p0=p0, verbose=verbose, start=start)
    solver = resolve_solver(solver, datafit)
    if problem is None:
        problem = make_problem(X, y, sample_weight, datafit, fit_intercept)
    n_features = problem.n_features
    a, b = penalty.l1_l2_weights(n_features)
    box = penalty.box(n_features)
    norms = problem.screen_norms
    live = norms > 0
    unpenalised = np.flatnonzero(unpenalised_mask(a, b, box) & live)
    geometry = SeparableGeometry(problem, datafit, a, b, box, unpenalised)

    zero_point, primal_zero, theta_zero, corr_zero = _zero_point(geometry, unpenalised, solver,
                                                                 intercept_init)
    alpha_max = _alpha_max(problem, penalty, corr_zero)
    tol_abs = tol * primal_zero

    screened_at = np.full(n_features, NOT_SCREENED)
    screened_at[~live] = 0
    eff_zero = penalty.effective_correlation(corr_zero)
    if np.all(eff_zero[live] <= a[live] * (1 + 1e-14)):
        # w = 0 is optimal: nothing to solve
        state = _state_at(geometry, unpenalised, solver, *zero_point)
        iterations, history, theta_best = 0, [], None
    elif solver == "fista":
        from .fista import fista_loop
        coef0 = np.zeros(n_features) if coef_init is None else np.asarray(coef_init, np.float64)
        if fallback_init is not None and not (
                primal_value(problem, datafit, penalty, coef0, intercept_init, solver)
                < fallback_init[1]):
            coef0 = np.asarray(fallback_init[0], np.float64)
        theta_best = None
        state, iterations, history = fista_loop(
            problem, datafit, a, b, box, unpenalised, coef0,
            intercept_init - problem.y_offset, screened_at,
            tol_abs=tol_abs, max_iter=max_iter * 100, screening=screening, verbose=verbose,
            start=start, primal_zero=primal_zero)
    else:
        coef0 = np.zeros(n_features) if coef_init is None else np.asarray(coef_init, np.float64)
        coef0 = np.where(live, coef0, 0.0)
        budget = max_epochs if solver == "cd" else max(50, max_epochs // 1000)
        state = _starting_state(geometry, unpenalised, solver, zero_point, coef0, intercept_init)
        if fallback_init is not None and not state.primal() < fallback_init[1]:
            coef0 = np.where(live, np.asarray(fallback_init[0], np.float64), 0.0)
            state = _starting_state(geometry, unpenalised, solver, zero_point, coef0,
                                    intercept_init)
        starts_at_zero = not np.any(coef0) and unpenalised.size == 0
        if solver != "cd":
            state.settle_faces = bool(np.any(coef0))
        iterations, history, theta_best = _outer_loop(
            geometry, state, screened_at, dual_init, tol_abs=tol_abs, max_iter=max_iter, p0=p0,
            budget=budget, screening=screening, verbose=verbose, start=start,
            primal_zero=primal_zero, known=(theta_zero, corr_zero) if starts_at_zero else None,
            ws_init=ws_init, dual_init_correlations=dual_init_correlations)

    return certify(geometry, state, theta_best, tol=tol, tol_abs=tol_abs,
                   primal_zero=primal_zero, iterations=iterations, screened_at=screened_at,
                   alpha_max=alpha_max, history=history)


def certify(geometry, state, theta_best, *, tol, tol_abs, primal_zero, iterations, screened_at,
            alpha_max, history, stacklevel=4):
    """The full-problem duality gap at the final point, as a :class:`SolveResult`.

    Every unit is back in the dual constraint, so the certificate does not rely on
    the screening having been right. ``theta_best`` (the best candidate of the last
    outer iteration) competes with the final point's own dual candidate.
    """
    state.polish()
    all_units = np.arange(geometry.n_units)
    theta = state.theta()
    corr = geometry.correlations_all(theta)
    dual, kappa, _ = geometry.evaluate(theta, all_units, corr, full=True)
    if theta_best is not None and not np.array_equal(theta_best, theta):
        corr_best = geometry.correlations_all(theta_best)
        dual_best, kappa_best, _ = geometry.evaluate(theta_best, all_units, corr_best, full=True)
        if dual_best > dual:
            theta, dual, kappa, corr = theta_best, dual_best, kappa_best, corr_best
    primal = state.primal()
    gap = max(primal - dual, 0.0)
    relative_gap = gap / primal_zero if primal_zero > 0 else 0.0
    converged = gap <= tol_abs or primal_zero == 0
    if not converged:
        warnings.warn(
            f"Objective did not converge: relative duality gap {relative_gap:.3e} > tol "
            f"{tol:.3e} after {iterations} iterations. Increase max_iter, or tol.",
            ConvergenceWarning, stacklevel=stacklevel)
    intercept = state.intercept()
    return SolveResult(
        coef=state.w.copy(), intercept=intercept if np.ndim(intercept) else float(intercept),
        primal=float(primal), gap=float(gap), primal_zero=float(primal_zero),
        relative_gap=float(relative_gap), converged=bool(converged), n_iter=int(iterations),
        n_epochs=int(getattr(state, "epochs", 0)), dual_point=kappa * theta,
        dual_correlations=kappa * corr, screened_at=screened_at, alpha_max=float(alpha_max),
        history=history)


def _zero_point(geometry, unpenalised, solver, intercept_init):
    """The point ``w = 0`` with the unpenalised coordinates optimal.

    Returns ``((coef, intercept), P(0), theta, corr)``: the point (intercept in the
    user's coordinates; :func:`_state_at` makes a solver state there), ``theta =
    -grad F`` there and its correlations with every column (zero for constant
    columns), which give ``alpha_max``. The point depends on the problem, the
    datafit and the unpenalised set only, so it is computed once per problem
    (``problem.cache``) and every later fit of a path reads it.
    """
    problem = geometry.problem
    kind = "cd" if solver == "cd" else "prox_newton"
    key = ("zero_point", kind, _datafit_key(geometry.datafit), unpenalised.tobytes())
    cached = problem.cache.get(key)
    if cached is not None:
        coef, intercept, primal, theta, corr = cached
        return (coef, intercept), primal, theta, corr
    state = _make_state(kind, problem, geometry.datafit, geometry.a, geometry.b, geometry.box,
                        unpenalised, np.zeros(problem.n_features), intercept_init)
    state.polish()
    theta = state.theta()
    corr = geometry.correlations_all(theta)
    corr[problem.screen_norms == 0] = 0.0
    primal = state.primal()
    coef = state.w.copy()
    for shared in (coef, theta, corr):  # read by every fit that reads the cache
        shared.setflags(write=False)
    problem.cache[key] = (coef, state.intercept(), primal, theta, corr)
    return (coef, state.intercept()), primal, theta, corr


def _alpha_max(problem, penalty, corr_zero):
    """``penalty.alpha_max(corr_zero)``, remembered per problem.

    Every fit of a path asks for it with the same zero point and a penalty that
    differs in ``alpha`` only, which ``alpha_max`` does not depend on (0.06 ms a
    call). Penalties with array parameters (weights, bounds) are not remembered.
    """
    params = tuple(sorted((k, v) for k, v in vars(penalty).items() if k != "alpha"))
    key = ("alpha_max", id(corr_zero), type(penalty), params)
    try:
        cached = problem.cache.get(key)
    except TypeError:  # an unhashable parameter
        return penalty.alpha_max(corr_zero)
    if cached is not None and cached[0] is corr_zero:  # (the id of a live array)
        return cached[1]
    value = penalty.alpha_max(corr_zero)
    problem.cache[key] = (corr_zero, value)
    return value


def _starting_state(geometry, unpenalised, solver, zero_point, coef, intercept):
    """The state of ``solver`` at ``(coef, intercept)``: the cached zero point when
    ``coef`` is 0 (its intercept is polished already)."""
    if not np.any(coef) and unpenalised.size == 0 and solver != "cd":
        return _state_at(geometry, unpenalised, solver, *zero_point)
    return _make_state(solver, geometry.problem, geometry.datafit, geometry.a, geometry.b,
                       geometry.box, unpenalised, coef, intercept)


def _state_at(geometry, unpenalised, solver, coef, intercept):
    """A fresh state of ``solver`` at ``(coef, intercept)`` (see :func:`_make_state`)."""
    return _make_state(solver, geometry.problem, geometry.datafit, geometry.a, geometry.b,
                       geometry.box, unpenalised, coef.copy(), intercept)


def _datafit_key(datafit):
    """A hashable key for a datafit's type and parameters.

    ``repr`` would do, but costs 0.16 ms (scikit-learn's parameter introspection),
    a tenth of a small fit along a path.
    """
    try:
        key = (type(datafit), tuple(sorted(vars(datafit).items())))
        hash(key)
    except TypeError:  # an array parameter, or no ``__dict__``
        return repr(datafit)
    return key


def primal_value(problem, datafit, penalty, coef, intercept=0.0, solver="auto"):
    """``P(w, b)`` on a built problem, at ``coef`` clipped into the penalty's box.

    ``intercept`` is in the user's coordinates; the quadratic datafit's solver
    (``solver="cd"``) eliminates it, so it is optimal there whatever is passed.
    """
    solver = resolve_solver(solver, datafit)
    n_features = problem.n_features
    a, b = penalty.l1_l2_weights(n_features)
    box = as_box(penalty.box(n_features), n_features)
    coef = np.asarray(coef, dtype=np.float64)
    if solver == "cd":
        unpenalised = np.flatnonzero(unpenalised_mask(a, b, box) & (problem.screen_norms > 0))
        return _make_state(solver, problem, datafit, a, b, box, unpenalised, coef,
                           intercept).primal()
    w = np.clip(coef, *box)
    z = linear_predictor(problem, w, intercept - problem.y_offset if problem.fit_intercept
                         else 0.0)
    return datafit.value(z, problem.y, problem.s) + penalty_value(w, np.arange(n_features), a, b)


def alpha_max(X, y, datafit, penalty, *, sample_weight=None, fit_intercept=True, problem=None):
    """Smallest ``alpha`` of ``penalty``'s family for which ``w = 0`` is optimal.

    ``max_j |X_j^T theta_0| / u_j`` over the penalised features, with
    ``theta_0 = -grad F`` at ``w = 0`` (intercept and unpenalised coordinates
    optimal) and ``u_j`` the weights of ``penalty`` at ``alpha = 1``: the value
    :func:`solve` reports as ``SolveResult.alpha_max``, without solving anything
    (separable penalties; arguments as in :func:`solve`).
    """
    if problem is None:
        problem = make_problem(X, y, sample_weight, datafit, fit_intercept)
    a, b = penalty.l1_l2_weights(problem.n_features)
    box = penalty.box(problem.n_features)
    unpenalised = np.flatnonzero(unpenalised_mask(a, b, box) & (problem.screen_norms > 0))
    geometry = SeparableGeometry(problem, datafit, a, b, box, unpenalised)
    solver = "cd" if datafit.intercept_mode == "centre" else "prox_newton"
    return penalty.alpha_max(_zero_point(geometry, unpenalised, solver, 0.0)[3])


def _outer_loop(geometry, state, screened_at, dual_init, *, tol_abs, max_iter, p0, budget,
                screening, verbose, start, primal_zero, known=None, ws_init=None,
                dual_init_correlations=None):
    """Working-set iterations: gap, screening, working set, subproblem.

    Units are features (separable penalties) or groups (block penalties): the
    ``geometry`` supplies their dual norms, sphere test and priorities. Returns
    ``(iterations, history, theta)`` with ``theta`` the best dual candidate of the
    last gap evaluation (an extrapolated point is often better than the current
    residual, and the final certificate uses both). ``ws_init`` units are forced
    into the first working set, as the current support is. ``known`` holds
    ``(theta, correlations)`` of the starting point, ``dual_init_correlations``
    those of ``dual_init``: the first gap evaluation reuses them.
    """
    active = screened_at == NOT_SCREENED
    history = []
    candidates = []
    theta_init = None
    if dual_init is not None:
        theta_init = state.feasible_dual(dual_init)
        if theta_init is not None:
            candidates.append(theta_init)
            if (known is None and dual_init_correlations is not None
                    and np.array_equal(theta_init, dual_init)):
                known = (theta_init, dual_init_correlations)
    previous_ws, previous_gap = None, np.inf
    iteration = 0
    theta_best = None
    for iteration in range(1, max_iter + 1):
        state.polish()
        if iteration > 1 or known is None:
            candidates.insert(0, state.theta())
        elif theta_init is None or known[0] is not theta_init:
            candidates.insert(0, known[0])  # the state is still at the point of ``known``
        # else the carried dual point alone, whose correlations came with it: the warm
        # start's own candidate would cost a pass over every feature, and the next check
        # computes the candidate of the moved point on the features left (reuters
        # L1-logistic path: 254 -> 256 outer iterations, 236 -> 158 passes over X,
        # 0.43 -> 0.39 s)
        gap, units, dual_norms, moved, theta_best = check_gap_and_screen(
            geometry, state, candidates, active, screened_at, iteration=iteration,
            screening=screening, history=history, verbose=verbose, start=start,
            primal_zero=primal_zero, ranking_units=previous_ws,
            known=known if iteration == 1 else None)
        candidates = []
        if gap <= tol_abs and not moved:
            break
        if iteration == max_iter:
            break

        priorities = geometry.priorities(dual_norms, units)
        forced = geometry.nonzero(state, units) | geometry.unpenalised[units]
        if iteration == 1 and ws_init is not None:
            forced[np.isin(units, ws_init)] = True
        priorities[forced] = -np.inf
        ws = select_working_set(units, priorities, int(np.count_nonzero(forced)), p0,
                                previous_ws)
        if (previous_ws is not None and np.array_equal(ws, previous_ws) and ws.size < units.size
                and gap > 0.5 * previous_gap):
            # the same working set again and the gap stalls: units outside it matter
            ws = select_working_set(units, priorities, 0, 2 * ws.size, None)
        previous_ws, previous_gap = ws, gap
        history[-1]["ws_size"] = int(ws.size)
        inner_tol = tol_abs if ws.size == units.size else max(0.3 * gap, 0.5 * tol_abs)
        theta_inner = state.solve_subproblem(ws, inner_tol, budget)
        if theta_inner is not None:
            candidates.append(theta_inner)
    return iteration, history, theta_best


def _same_candidate(u, v):
    """Whether two dual candidates are equal arrays (candidates may be other objects)."""
    return (isinstance(u, np.ndarray) and isinstance(v, np.ndarray) and u.shape == v.shape
            and np.array_equal(u, v))


def select_working_set(units, priorities, n_forced, p0, previous_ws, grow_when_full=True):
    """The working set: the ``max(p0, 2 n_forced)`` units of lowest priority (``4
    n_forced`` when the forced units filled 90 % of ``previous_ws`` and ``grow_when_full``;
    at least as many as ``previous_ws``, at most all of them), sorted.

    Forced units (the support) carry priority ``-inf``, so they are always in; twice
    their number leaves as much room again for the best candidates (skglm's rule).
    """
    ws_size = max(p0, 2 * n_forced)
    if previous_ws is not None:
        if grow_when_full and n_forced >= 0.9 * previous_ws.size:
            # the last subproblem used (nearly) all of its working set: more units want
            # in than doubling admits, so quadruple (a cold start at small alpha would
            # otherwise spend one outer iteration per doubling of its support)
            ws_size = max(ws_size, 4 * n_forced)
        ws_size = max(ws_size, previous_ws.size)
    ws_size = min(ws_size, units.size)
    if ws_size < units.size:
        return np.sort(units[np.argpartition(priorities, ws_size - 1)[:ws_size]])
    return units


def check_gap_and_screen(geometry, state, candidates, active, screened_at, *, iteration,
                         screening, history, verbose, start, primal_zero, ranking_units=None,
                         known=None):
    """Best dual point among ``candidates``, duality gap, and the Gap Safe sphere test.

    With several candidates, ``ranking_units`` (the last working set) ranks them by
    their dual value restricted to those units, and only the best one pays for
    the pass over every active unit. ``known`` may hold ``(theta, corr_all)`` with
    the correlations of ``theta`` over *all* features already computed.
    Screened units are zeroed in ``state``, removed from ``active`` and stamped
    in ``screened_at``; a record is appended to ``history``. Returns
    ``(gap, units, dual_norms, moved, theta)``: the gap, the units still active
    with their dual norms at the scaled point, whether screening zeroed a non-zero
    coefficient (then the gap no longer describes the current point), and the
    best (unscaled) dual candidate.
    """
    units = np.flatnonzero(active)
    # a subproblem that ended on its own point returns that point's dual candidate,
    # which the outer loop recomputes: one evaluation is enough
    candidates = [theta for k, theta in enumerate(candidates)
                  if not any(_same_candidate(theta, other) for other in candidates[:k])]
    if len(candidates) > 1 and ranking_units is not None:
        ranks = [geometry.evaluate(theta, ranking_units)[0] for theta in candidates]
        candidates = [candidates[int(np.argmax(ranks))]]
    best = None
    for theta in candidates:
        corr_all = known[1] if known is not None and theta is known[0] else None
        dual, _, dual_norms = geometry.evaluate(theta, units, corr_all)
        if best is None or dual > best[0]:
            best = (dual, dual_norms, theta)
    dual, dual_norms, theta = best
    primal = state.primal()
    gap = primal - dual
    n_newly = 0
    moved = False
    radius = None
    if screening and geometry.gamma is not None:
        radius = computed_gap_radius(primal, dual, geometry.gamma, geometry.problem.n_samples)
    if radius is not None:
        out = geometry.sphere_test(dual_norms, radius, units)
        if np.any(out):
            newly = units[out]
            moved = bool(np.any(geometry.nonzero(state, newly)))
            state.zero_out(newly)
            active[newly] = False
            screened_at[newly] = iteration
            n_newly = newly.size
            units, dual_norms = units[~out], dual_norms[~out]
        moved |= geometry.screen_within(state, radius, units, theta)
    record = {"iteration": iteration, "gap": float(gap),
              "relative_gap": float(gap / primal_zero) if primal_zero > 0 else 0.0,
              "primal": float(primal), "n_screened": int(np.sum(~active)),
              "n_newly_screened": int(n_newly), "ws_size": 0,
              "time": time.perf_counter() - start}
    history.append(record)
    if verbose:
        print(f"[sksafe] iter {iteration:4d}  gap {gap:.3e}  rel {record['relative_gap']:.3e}"
              f"  screened {record['n_screened']}/{geometry.n_units}")
    return gap, units, dual_norms, moved, theta
