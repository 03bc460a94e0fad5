"""Feature (column) blocks for ``p >> n``: workers screen their own columns.

Layout: worker ``k`` holds all rows of the columns ``X[:, J_k]`` (genotype
matrices with 10^5-10^6 SNPs and a few thousand samples). The driver holds what
has the size of the samples: the target, the weights, the linear predictor and
the dual point (``n`` floats each), plus the columns of the working set.

One outer iteration of the working-set algorithm with dynamic Gap Safe screening:

1. *correlations* (one round): the dual candidate ``theta`` (``n`` floats) goes to
   every worker, which correlates it with its unscreened columns and returns
   its dual scaling ``kappa`` (the smallest over the blocks is the global one);
   the kernels are those of the single-machine geometry;
2. *conjugate* (one round, only with an L2 part): the conjugate terms at ``kappa``;
3. *screening* (one round): with the gap and the radius known on the driver,
   each worker removes the columns the sphere test proves inactive and returns
   its best working-set candidates (indices and priorities, at most the
   working-set size): the messages are ``O(|W|)`` per worker, not ``O(p)``;
4. *columns* (one round, new working-set features only): the driver fetches the
   columns it does not have yet and solves the working-set problem itself with
   the single-machine solver, to the single-machine inner tolerance.

This is ``column_solver="central"``. The alternative,
``column_solver="cocoa"`` (:mod:`._cocoa`), leaves the working-set columns on
their workers and solves the working-set problem by ProxCoCoA+ rounds (Smith et
al., JMLR 18(230), 2018): one round per CoCoA iteration, ``n`` floats to and
from every block holding working-set columns, instead of ``n |W_new|`` floats
once per new feature. Measured (``benchmarks/bench_distributed.py --parts d``,
2-worker ``LocalCluster`` on 2 shared cores, median of 3, relative gap 1e-6,
2 column blocks of 2000 x 10000):

=====================  ========  ======  ================  ==================
problem                solver    time    rounds (CoCoA)    MB sent, received
=====================  ========  ======  ================  ==================
dense L1 logistic      central   1.0 s   27                1.6, 13.1
dense L1 logistic      cocoa     7.0 s   211 (181)         9.6, 8.6
dense Lasso            central   0.51 s  10                1.3, 1.3
dense Lasso            cocoa     1.5 s   56 (34)           2.7, 1.8
int8 genotype Lasso    central   0.38 s  15                1.4, 1.0
int8 genotype Lasso    cocoa     3.3 s   158 (132)         6.0, 4.9
=====================  ========  ======  ================  ==================

CoCoA reaches the gap on every problem, but it takes 2 to 19 rounds per outer
iteration where the central solve takes none, and its progress per round is set
by the aggregation (``sigma' = K``), not by the local accuracy (1 to 100 local
epochs give the same number of rounds); solving each working set to the final
tolerance instead of the shared inner one takes 1.4 to 3 times its rounds. The
central solve is 3 to 9 times faster and moves fewer bytes in all, so the default,
``column_solver="auto"``, solves centrally while the working-set columns (counted as
stored, see :mod:`._central`) fit the driver's budget (``central_max_bytes``, as for
row blocks) and by CoCoA rounds beyond it.

The stopping rule is the relative duality gap of the whole problem, and the
final certificate correlates the dual point with *every* column, screened ones
included.
"""
import time
import warnings
from dataclasses import dataclass, replace

import numpy as np
import scipy.sparse as sp
from sklearn.exceptions import ConvergenceWarning

from ..penalties._kernels import conjugate_sum, dual_scaling, effective_correlations
from ..penalties.base import as_box
from ..screening.gap_safe import computed_gap_radius, screening_priorities, sphere_test
from ..solvers._design import centred_sq_norms, xt_dot
from ..solvers._problem import kernel_design
from ..solvers.working_set import NOT_SCREENED, SolveResult, _outer_loop, resolve_solver
from ._central import WorkingColumns, local_state
from ._cocoa import LOCAL_EPOCHS, CocoaWorkingSet
from ._runtime import BlockRuntime
from ._tasks import check_block_design, column_entries, fetch_columns


# ---------------------------------------------------------------------------------------
# worker side
# ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ColumnBlock:
    """All rows of the columns ``start, ..., start + width - 1``, held by one worker."""

    index: int
    start: int
    X: object
    X_matrix: object
    means: np.ndarray = None
    norms: np.ndarray = None
    a: np.ndarray = None
    b: np.ndarray = None
    lower: np.ndarray = None
    upper: np.ndarray = None
    s: np.ndarray = None

    @property
    def width(self):
        return self.X_matrix.shape[1]


@dataclass(frozen=True)
class ColumnState:
    """Unscreened local columns and their correlations with the last dual candidate."""

    active: np.ndarray
    corr: np.ndarray = None


def prepare_column_block(X, index, start):
    """Validate a column block and put it in kernel form (integer dtypes kept: genotypes)."""
    X = check_block_design(X, f"column block {index}")
    kernel_X, matrix = kernel_design(X)
    return ColumnBlock(index=index, start=start, X=kernel_X, X_matrix=matrix)


def column_block_stats(block, s, centre):
    """Weighted column means (zeros unless ``centre``), squared norms, raw and centred,
    and the stored entries of each column (``None`` when dense)."""
    cols = np.arange(block.width)
    raw = np.empty(block.width)
    centred_sq_norms(block.X, s, np.zeros(block.width), cols, raw)
    means = np.zeros(block.width)
    centred = raw
    if centre:
        xt_dot(block.X, s, cols, means)
        centred = np.empty(block.width)
        centred_sq_norms(block.X, s, means, cols, centred)
    return means, raw, centred, column_entries(block.X_matrix)


def configure_column_block(block, means, norms, a, b, lower, upper, s):
    """The block with its centring, screening norms, penalty weights, box and normalised
    sample weights attached (the weights: for the local solves of ``column_solver="cocoa"``)."""
    return replace(block, means=means, norms=norms, a=a, b=b, lower=lower, upper=upper, s=s)


def initial_column_state(block, live):
    return ColumnState(active=np.flatnonzero(live))


def column_correlations(block, state, theta, theta_sum, everything):
    """``X_c[:, J]^T theta`` on the unscreened columns (every column with ``everything``)."""
    active = np.arange(block.width) if everything else state.active
    corr = np.empty(active.shape[0])
    xt_dot(block.X, theta, active, corr)
    if theta_sum != 0.0:
        corr -= block.means[active] * theta_sum
    return ColumnState(active=active, corr=corr)


def _dual_norms(block, state, kappa):
    """Effective correlations of ``kappa * theta`` with the state's columns (the sphere
    test's ``Omega^D_j``), by the kernel of the single-machine geometry."""
    out = np.empty(state.active.shape[0])
    effective_correlations(kappa * state.corr, state.active, block.lower, block.upper, out)
    return out


def column_scaling(block, state, unit_weights):
    """The block's dual scaling ``kappa`` (the global one is the smallest) and, with
    ``unit_weights``, its ``max_j eff_j / u_j`` over live features (``alpha_max``)."""
    kappa = dual_scaling(state.corr, state.active, block.a, block.b, block.lower, block.upper)
    alpha_max = 0.0
    if unit_weights is not None:
        eff = np.maximum(_dual_norms(block, state, 1.0), 0.0)
        unit = unit_weights[state.active]
        live = (unit > 0) & (block.norms[state.active] > 0)
        alpha_max = float(np.max(eff[live] / unit[live])) if np.any(live) else 0.0
    return kappa, alpha_max


def column_conjugate(block, state, kappa):
    """``sum_j g_j*(kappa c_j)`` over the block's columns."""
    return conjugate_sum(state.corr, kappa, state.active, block.a, block.b, block.lower,
                         block.upper)


def column_screen(block, state, kappa, radius, forced, n_best):
    """Sphere test on the unscreened columns, then the best working-set candidates.

    Returns the new :class:`ColumnState` (its ``corr`` holds ``(newly screened,
    candidate indices, their priorities)`` in local indices, for the driver).
    """
    active = state.active
    dual_norms = _dual_norms(block, state, kappa)
    norms, a = block.norms[active], block.a[active]
    out = np.zeros(active.shape[0], dtype=bool)
    if radius is not None:
        out = sphere_test(dual_norms, radius, norms, a)
    screened = active[out]
    keep = ~out
    active = active[keep]
    priorities = screening_priorities(dual_norms[keep], norms[keep], a[keep])
    priorities[np.isin(active, forced)] = -np.inf
    if active.shape[0] > n_best:
        best = np.argpartition(priorities, n_best - 1)[:n_best]
    else:
        best = np.arange(active.shape[0])
    return ColumnState(active=active, corr=(screened, active[best], priorities[best]))


def column_screen_report(state):
    return state.corr


# ---------------------------------------------------------------------------------------
# driver side
# ---------------------------------------------------------------------------------------
class ColumnBlockSolver:
    """Working-set solver with Gap Safe screening on column blocks (see the module docstring)."""

    def __init__(self, runtime, starts, widths, y, sample_weight, datafit, penalty,
                 fit_intercept, solver, central_max_bytes=np.inf):
        self.runtime = runtime
        self.starts, self.widths = np.asarray(starts), np.asarray(widths)
        self.n_features = int(self.widths.sum())
        self.y, self.sample_weight = y, sample_weight
        self.datafit, self.penalty = datafit, penalty
        self.fit_intercept = fit_intercept
        self.solver = solver
        self.a, self.b = penalty.l1_l2_weights(self.n_features)
        self.positive = bool(penalty.positive)
        self.lower, self.upper = as_box(self.positive, self.n_features)
        self.states = None
        # the working-set columns seen so far, within the driver's byte budget
        self.columns = WorkingColumns(y.shape[0], self.n_features, central_max_bytes)

    def _blocks_of(self, cols):
        """Split sorted global indices by block: ``[(k, local indices)]``."""
        which = np.searchsorted(self.starts, cols, side="right") - 1
        return [(k, cols[which == k] - self.starts[k]) for k in range(self.runtime.n_blocks)]

    def setup(self, s):
        """Column statistics (one round) and the configured blocks with their state.

        ``s`` are the normalised sample weights; the norms are centred when an
        intercept (or a shift-invariant datafit) makes ``sum(theta) = 0``, as on one
        machine (:func:`sksafe.solvers.make_problem`).
        """
        rt = self.runtime
        centre = self.fit_intercept or self.datafit.intercept_mode == "none"
        stats = rt.run(lambda: [rt.submit(column_block_stats, k, rt.blocks[k], s, centre)
                                for k in range(rt.n_blocks)], "setup")
        means = np.concatenate([m[0] for m in stats])
        raw = np.concatenate([m[1] for m in stats])
        centred = np.concatenate([m[2] for m in stats])
        if centre:
            centred[centred <= 1e-13 * raw] = 0.0
        self.norms = np.sqrt(centred)
        self.means = means
        if all(m[3] is not None for m in stats):
            self.columns.column_entries = np.concatenate([m[3] for m in stats])
        if np.any((self.a == 0) & (self.b == 0) & (self.norms > 0)):
            raise ValueError("Unpenalised features (zero penalty weights) are not supported by "
                             "the distributed solver.")
        blocks = []
        for k in range(rt.n_blocks):
            sl = slice(self.starts[k], self.starts[k] + self.widths[k])
            blocks.append(rt.submit(configure_column_block, k, rt.blocks[k], means[sl],
                                    self.norms[sl], self.a[sl], self.b[sl], self.lower[sl],
                                    self.upper[sl], s))
        rt.replace_blocks(blocks)
        self.states = [rt.submit(initial_column_state, k, rt.blocks[k],
                                 self.norms[self.starts[k]:self.starts[k] + self.widths[k]] > 0)
                       for k in range(rt.n_blocks)]

    # -- the working-set problem on the driver ---------------------------------------------
    def _fetch(self, ws):
        new = self.columns.missing(ws)
        if new.size == 0:
            return
        rt = self.runtime
        parts = [(k, local) for k, local in self._blocks_of(new) if local.size]
        fetched = rt.run(lambda: [rt.submit(fetch_columns, k, rt.blocks[k], local)
                                  for k, local in parts], "columns", ws_size=ws.size)
        stack = sp.hstack if sp.issparse(fetched[0]) else np.hstack
        self.columns.add(np.concatenate([local + self.starts[k] for k, local in parts]),
                         stack(fetched))

    @property
    def centred_correlations(self):
        """Whether the correlations centre the columns implicitly, as
        :func:`sksafe.screening.correlations`: only where the intercept is eliminated by
        centring (elsewhere the dual point sums to zero itself)."""
        return self.fit_intercept and self.datafit.intercept_mode == "centre"

    def _local_state(self, ws, coef, intercept):
        return local_state(self.columns.design(ws), self.y, self.sample_weight, self.datafit,
                           self.a[ws], self.b[ws], self.positive, self.fit_intercept,
                           self.solver, coef, intercept)

    # -- rounds ----------------------------------------------------------------------------
    def _correlate(self, theta, everything=False, unit_weights=None):
        """Rounds 1 (and 2 with an L2 part): ``(kappa, conjugate sum, alpha_max)`` of ``theta``."""
        rt = self.runtime
        theta_sum = float(theta.sum()) if self.centred_correlations else 0.0
        units = [None] * rt.n_blocks

        def build():
            futures = []
            for k in range(rt.n_blocks):
                units[k] = rt.submit(column_correlations, k, rt.blocks[k], self.states[k],
                                     theta, theta_sum, everything)
                unit_k = None
                if unit_weights is not None:
                    unit_k = unit_weights[self.starts[k]:self.starts[k] + self.widths[k]]
                futures.append(rt.submit(column_scaling, k, rt.blocks[k], units[k], unit_k))
            return futures

        n_units = self.n_features if everything else None
        scalings = rt.run(build, "correlations", n_units=n_units or 0)
        kappa = min(k for k, _ in scalings)
        conj = 0.0
        if np.any(self.b > 0):
            conj = sum(rt.run(lambda: [rt.submit(column_conjugate, k, rt.blocks[k], units[k],
                                                 kappa) for k in range(rt.n_blocks)],
                              "conjugate"))
        return kappa, conj, max(m for _, m in scalings), units

    def _screen(self, units, kappa, radius, forced, n_best):
        """Round 3: screening and working-set candidates; updates the worker states."""
        rt = self.runtime
        parts = dict(self._blocks_of(np.sort(forced)))
        new_states = [None] * rt.n_blocks

        def build():
            futures = []
            for k in range(rt.n_blocks):
                new_states[k] = rt.submit(column_screen, k, rt.blocks[k], units[k], kappa, radius,
                                          parts.get(k, np.zeros(0, dtype=np.int64)), n_best)
                futures.append(rt.submit(column_screen_report, k, new_states[k]))
            return futures

        reports = rt.run(build, "screening", ws_size=n_best)
        self.states = new_states
        screened = np.concatenate([r[0] + self.starts[k] for k, r in enumerate(reports)])
        candidates = np.concatenate([r[1] + self.starts[k] for k, r in enumerate(reports)])
        priorities = np.concatenate([r[2] for k, r in enumerate(reports)])
        return screened, candidates, priorities

    def dual_value(self, theta, kappa, conj, problem):
        return self.datafit.dual_value(kappa * theta, problem.y, problem.s) - conj


def _central_solve(engine, ws, w, intercept, tol, *, max_iter, p0, budget, screening, start,
                   primal_zero):
    """The working-set problem solved on the driver from its fetched columns, by the
    single-machine working-set loop to the working-set gap ``tol``.

    Returns ``(coef on ws, intercept, primal, problem, theta)``, ``theta`` the better
    of the final residual and the best dual candidate of the loop.
    """
    engine._fetch(ws)
    geometry, state = engine._local_state(ws, w[ws], intercept)
    local_screened = np.full(ws.size, NOT_SCREENED)
    local_screened[geometry.problem.screen_norms == 0] = 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        _, _, theta_best = _outer_loop(
            geometry, state, local_screened, None, tol_abs=tol, max_iter=max_iter, p0=p0,
            budget=budget, screening=screening, verbose=0, start=start,
            primal_zero=primal_zero)
    state.polish()
    theta = state.theta()
    if theta_best is not None and not np.array_equal(theta_best, theta):
        all_ws = np.arange(ws.size)
        if geometry.evaluate(theta_best, all_ws)[0] > geometry.evaluate(theta, all_ws)[0]:
            theta = theta_best
    return state.w, state.intercept(), state.primal(), geometry.problem, theta


def solve_on_columns(runtime, starts, widths, y, sample_weight, datafit, penalty, *,
                     fit_intercept, tol, max_iter, max_epochs, p0, screening, verbose, start,
                     column_solver="auto", central_max_bytes=np.inf):
    """The working-set outer loop on column blocks (see the module docstring).

    ``column_solver`` solves the working-set problems: ``"central"`` on the driver
    from fetched columns, ``"cocoa"`` by ProxCoCoA+ rounds (:mod:`._cocoa`),
    ``"auto"`` centrally while the working-set columns fit ``central_max_bytes``
    (counted as stored) and by ProxCoCoA+ rounds beyond (centrally all the same,
    with a ``ResourceWarning``, for a datafit ProxCoCoA+ cannot take).
    """
    solver = resolve_solver("auto", datafit)
    engine = ColumnBlockSolver(runtime, starts, widths, y, sample_weight, datafit, penalty,
                               fit_intercept, solver, central_max_bytes)
    cocoa_allowed = datafit.hessian_bound is not None and datafit.intercept_mode in (
        "centre", "newton")
    cocoa = None
    warned = False
    empty = np.zeros(0, dtype=np.int64)
    geometry0, state0 = engine._local_state(empty, np.zeros(0), 0.0)
    engine.setup(geometry0.problem.s)
    state0.polish()
    theta = state0.theta()
    primal_zero = state0.primal()
    tol_abs = tol * primal_zero
    p = engine.n_features
    w, intercept = np.zeros(p), state0.intercept()
    live = engine.norms > 0
    screened_at = np.full(p, NOT_SCREENED)
    screened_at[~live] = 0
    gamma = datafit.dual_gamma(geometry0.problem.y, geometry0.problem.s)
    budget = max_epochs if solver == "cd" else max(50, max_epochs // 1000)
    history, previous_ws, previous_gap = [], None, np.inf
    primal, problem = primal_zero, geometry0.problem
    alpha_max = None
    iteration = 0
    for iteration in range(1, max_iter + 1):
        kappa, conj, amax, units = engine._correlate(
            theta, unit_weights=penalty.unit_weights(p) if alpha_max is None else None)
        if alpha_max is None:
            alpha_max = amax
        dual = engine.dual_value(theta, kappa, conj, problem)
        gap = primal - dual
        radius = None
        if screening and gamma is not None:
            radius = computed_gap_radius(primal, dual, gamma, problem.n_samples)
        forced = np.flatnonzero(w)
        n_best = max(p0, 2 * forced.size)
        if previous_ws is not None:
            n_best = max(n_best, previous_ws.size)
        if (previous_ws is not None and gap > 0.5 * previous_gap):
            n_best = 2 * n_best  # the gap stalls: look further than the last working set
        screened, candidates, priorities = engine._screen(units, kappa, radius, forced, n_best)
        moved = bool(np.any(w[screened] != 0))
        w[screened] = 0.0
        screened_at[screened] = iteration
        record = {"iteration": iteration, "gap": float(gap),
                  "relative_gap": float(gap / primal_zero) if primal_zero > 0 else 0.0,
                  "primal": float(primal), "n_screened": int(np.sum(screened_at >= 0)),
                  "n_newly_screened": int(screened.size), "ws_size": 0,
                  "time": time.perf_counter() - start}
        history.append(record)
        if verbose:
            print(f"[sksafe] iter {iteration:4d}  gap {gap:.3e}  rel {record['relative_gap']:.3e}"
                  f"  screened {record['n_screened']}/{p}")
        if gap <= tol_abs and not moved:
            break
        if iteration == max_iter:
            break
        order = np.argsort(priorities, kind="stable")[:n_best]
        ws = np.unique(np.concatenate([forced[screened_at[forced] == NOT_SCREENED],
                                       candidates[order]]))
        previous_ws, previous_gap = ws, gap
        record["ws_size"] = int(ws.size)
        inner_tol = max(0.3 * gap, 0.5 * tol_abs)
        use_cocoa = column_solver == "cocoa"
        if column_solver == "auto" and not engine.columns.fits(ws):
            use_cocoa = cocoa_allowed
            if not cocoa_allowed and not warned:
                megabytes = 1e-6 * engine.columns.bytes_of(ws).sum()
                warnings.warn(f"The working set ({ws.size} columns, {megabytes:.0f} MB) "
                              f"exceeds central_max_bytes, and ProxCoCoA+ cannot take "
                              f"{datafit!r}: its columns come to the driver all the same.",
                              ResourceWarning, stacklevel=3)
                warned = True
                engine.columns.max_bytes = np.inf
        if use_cocoa and cocoa is None:
            cocoa = CocoaWorkingSet(engine)
        if not use_cocoa:
            coef_ws, intercept, primal, problem, theta = _central_solve(
                engine, ws, w, intercept, inner_tol, max_iter=max_iter, p0=p0, budget=budget,
                screening=screening, start=start, primal_zero=primal_zero)
        else:
            coef_ws, intercept, primal, problem, theta, rounds = cocoa.solve(
                ws, w, intercept, inner_tol, max(1, max_epochs // LOCAL_EPOCHS))
            record["cocoa_rounds"] = rounds
        w[:] = 0.0
        w[ws] = coef_ws
    # final certificate: every column, screened ones included
    kappa, conj, _, _ = engine._correlate(theta, everything=True)
    dual = engine.dual_value(theta, kappa, conj, problem)
    gap = max(primal - dual, 0.0)
    relative_gap = gap / primal_zero if primal_zero > 0 else 0.0
    converged = gap <= tol_abs or primal_zero == 0
    if not converged:
        warnings.warn(f"Objective did not converge: relative duality gap {relative_gap:.3e} > "
                      f"tol {tol:.3e} after {iteration} iterations. Increase max_iter, or tol.",
                      ConvergenceWarning, stacklevel=4)
    return SolveResult(coef=w, intercept=float(intercept), primal=float(primal), gap=float(gap),
                       primal_zero=float(primal_zero), relative_gap=float(relative_gap),
                       converged=bool(converged), n_iter=int(iteration), n_epochs=0,
                       dual_point=kappa * theta, screened_at=screened_at,
                       alpha_max=float(alpha_max or 0.0), history=history,
                       communication=runtime.ledger)


def column_runtime(client, X, *, max_retries, timeout):
    """Prepare the column blocks of ``X`` (one row chunk) on the workers."""
    import dask

    parts = X.to_delayed().ravel()
    widths = list(X.chunks[1])
    starts = np.concatenate([[0], np.cumsum(widths)[:-1]]).astype(np.int64)
    # keys of their own, as the row blocks' (see _api.build_problem)
    prepare = dask.delayed(prepare_column_block, pure=False)
    blocks = client.compute([prepare(part, k, int(starts[k])) for k, part in enumerate(parts)])
    return BlockRuntime(client, blocks, max_retries=max_retries, timeout=timeout), starts, widths
