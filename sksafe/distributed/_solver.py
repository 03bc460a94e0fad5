"""The working-set solver with dynamic Gap Safe screening, on row blocks.

The outer loop is *the* single-machine one (:func:`sksafe.solvers.working_set._outer_loop`
and :func:`~sksafe.solvers.working_set.certify`): gap, sphere test, working set,
subproblem, final full-problem certificate. What changes is where the data are:

* a dual candidate is a primal point ``(w, b)``; each block computes its rows of
  ``theta = -grad F(X w + b)`` where the rows live (:class:`DualCandidate`);
* the geometry's correlations ``X_S^T theta`` are one reduction over blocks,
  restricted to the unscreened set ``S``: screening shrinks both the message and
  the per-block work from ``p`` to ``|S|`` (the idea of Distributed Dynamic Safe
  Screening, Bao, Wu, Xian & Huang, arXiv:2204.10981). Blocks are not compacted
  to their unscreened columns: they are stored column by column (Fortran or
  CSC), so a pass over ``S`` already touches only the entries of ``S`` and skips
  the others at no cost (compaction pays off for row-major storage), and the final
  certificate correlates the dual point with *every* column, so a screened column
  cannot be dropped from the worker's memory either;
* the working-set subproblem is solved on the driver by the single-machine solver
  state (coordinate descent, proximal Newton) from the columns ``X[:, W]`` while
  they fit the byte budget of :mod:`sksafe.distributed._central`: the next
  working set's columns are guessed from the current ranking and come with the
  correlation round (:meth:`DistributedState.plan_prefetch`), missing ones in a
  round of their own; the driver then also holds the target and weights, and
  evaluates the loss, the dual value and the intercept's Newton steps of points
  supported on those columns without any round;
* above the budget, the least-squares subproblem is solved on the driver from the
  working set's Gram matrix ``X_W^T S X_W`` (one reduction, cached across
  iterations, only new rows fetched) by :func:`sksafe.solvers._gram_kernels.gram_cd`
  down to its own duality gap, and the other datafits take proximal Newton steps
  (Lee, Sun & Saunders, SIAM J. Optim. 2014): each step is one reduction for the
  Hessian-weighted Gram and gradient on the working set, a model solve on the
  driver, and one round that evaluates the whole backtracking line search at once.

The stopping rule is the relative duality gap of the whole problem,
``G <= tol * P(0)``, with the same dual point, scaling and reference ``P(0)`` as
the single-machine solver; only the order of floating-point summation differs
(partial sums are added in block order, so a fit is reproducible to the bit).
"""

import numpy as np
import scipy.sparse as sp

from ..datafits.base import zero_sum_factors
from ..penalties._kernels import penalty_change, penalty_value, subdiff_distance
from ..screening.gap_safe import SeparableGeometry, evaluate_dual
from ..solvers._gram_kernels import gram_cd
from ..solvers._states import CURVATURE_FLOOR, ProxNewtonState
from ..solvers.working_set import NOT_SCREENED, _outer_loop, certify
from . import _tasks
from ._central import state_on

#: step sizes of one line-search round (the single-machine search tries 1, 1/2, ...)
LINE_SEARCH_BATCH = 4
#: largest number of Gram columns kept on the driver between iterations
GRAM_CACHE_LIMIT = 4096
#: most bytes of guessed working-set columns a correlation round brings along (about
#: what a loopback link moves in the time of one direct round)
PREFETCH_MAX_BYTES = 2**20
#: the guess of the next working set's columns: this many times its size, best ranked
#: first (measured on the sparse logistic problem of the benchmark, while working sets
#: only doubled: 2 -> 25 rounds, 4 -> 20, 8 -> 18, 16 -> 18, against 29 without any guess;
#: since they quadruple when full, 8 -> 17 rounds of which 5 column rounds, 16 -> 14 and 2,
#: with the same bytes received; the dense problems' guesses are capped by the bytes)
PREFETCH_FACTOR = 16
#: a gap evaluation that probably ends the fit correlates every feature, not only the
#: unscreened ones, while the others add at most this many stored entries to read (about
#: a millisecond of the workers' time): the final certificate then needs no round of its own
CERTIFICATE_AHEAD_ENTRIES = 2**20


def _sum_in_order(parts):
    """Sum per-block partial results in block order (reproducible to the bit)."""
    total = parts[0]
    for part in parts[1:]:
        total = total + part
    return total


def _dense(gram):
    """A summed Gram as a dense ndarray (sparse blocks send theirs sparse)."""
    return gram.toarray() if sp.issparse(gram) else gram


class CentralRows:
    """What the driver holds to solve working sets itself (:mod:`sksafe.distributed._central`).

    Attributes
    ----------
    y, sample_weight, s : ndarray of shape (n_samples,)
        Validated target, raw and normalised weights of all rows, in block order.
    columns : WorkingColumns
        The working-set columns fetched so far (all rows).
    """

    def __init__(self, y, sample_weight, s, columns):
        self.y, self.sample_weight, self.s = y, sample_weight, s
        self.columns = columns

    def block(self):
        """All rows of the kept columns as one :class:`~sksafe.distributed._tasks.RowBlock`,
        for the block tasks to run on the driver (column ``i`` of it is
        ``columns.cols[i]``; no copy of the columns)."""
        kernel_X, matrix = self.columns.kernel()
        return _tasks.RowBlock(index=-1, X=kernel_X, X_matrix=matrix, y=self.y,
                               sample_weight=self.sample_weight, s=self.s)

    def problem(self, datafit, fit_intercept, cols=None):
        """The single-machine problem on every kept column, or on the kept columns
        ``cols`` (column statistics computed once per column:
        :meth:`WorkingColumns.problem`)."""
        return self.columns.problem(self.y, self.sample_weight, datafit, fit_intercept, cols)


class DistributedProblem:
    """A validated problem whose rows live on the workers, with its global statistics.

    The attributes the geometry reads mirror :class:`sksafe.solvers.Problem`
    (``screen_norms``, ``n_features``, ``gamma``, ``fit_intercept``, ``x_offset``);
    ``central`` is a :class:`CentralRows`, or ``None`` when the driver never solves
    working sets itself.
    """

    def __init__(self, runtime, datafit, *, n_samples, n_features, x_mean, y_offset,
                 screen_norms, fit_intercept, block_sizes, central=None):
        self.runtime = runtime
        self.central = central
        self.datafit = datafit
        self.n_samples, self.n_features = n_samples, n_features
        self.x_mean = x_mean
        self.centre = datafit.intercept_mode == "centre"
        self.x_offset = x_mean if (fit_intercept and self.centre) else np.zeros(n_features)
        self.y_offset = y_offset
        self.screen_norms = screen_norms
        self.fit_intercept = fit_intercept
        self.gamma = datafit.gamma
        self.block_sizes = block_sizes
        self.primal_zero_loss = None  # F at w = 0: half of ||y_c||_s^2 for least squares
        self.zero = None  # see _zero_point
        # without an intercept: the correlations, sum(theta), theta^T y and sum theta^2 / s
        # of the dual point at w = 0, reduced with the moments (build_problem)
        self.zero_sums = None
        self.ranking = None  # (units, priorities) of the last working-set selection
        self.prefetch = np.zeros(0, dtype=np.int64)  # columns the next correlations bring
        # the next correlation round correlates every feature (see certificate_ahead)
        self.correlate_all_next = False
        self.units_correlated = n_features  # features the last correlation round computed

    def candidate(self, w, intercept):
        """The dual candidate of the primal point ``(w, intercept)``."""
        cols = np.flatnonzero(w)
        offset = -(self.x_offset[cols] @ w[cols]) if self.centre else intercept
        return DualCandidate(self, cols, w[cols].copy(), float(offset))

    def correlate(self, candidate, units):
        """``X_c[:, units]^T theta`` of a candidate, by one reduction over the units not
        correlated with it yet (none: no round).

        The candidate keeps every correlation computed for it (each is a sum over
        blocks of per-column dot products, the same numbers whichever round computes
        it), so the final certificate over every feature only computes those the
        last gap evaluations skipped. Also caches ``sum(theta)``, ``theta^T y`` and
        ``sum theta^2 / s``, which give the least-squares dual for any scaling.
        """
        runtime = self.runtime
        units = np.ascontiguousarray(units, dtype=np.int64)
        cache = candidate.correlation_cache
        if cache.known is None:
            cache.known = np.zeros(self.n_features, dtype=bool)
            cache.corr = np.empty(self.n_features)
        need = units[~cache.known[units]]
        if need.size:
            self.units_correlated = need.size
            if self.correlate_all_next:  # probably the last gap evaluation: see the flag
                need = np.flatnonzero(~cache.known)
            self.correlate_all_next = False
        if need.size or cache.terms is None:
            factors = candidate.factors()
            # every feature: the workers enumerate them (no index vector to send)
            cols = None if need.size == self.n_features else need
            if candidate.local() is not None and candidate._points is None:
                # a point the driver holds needs its per-block state for nothing else:
                # one direct round computes it and its correlations, and brings the
                # columns the next working set probably needs
                fetch, self.prefetch = self.prefetch, np.zeros(0, dtype=np.int64)
                parts = runtime.map(_tasks.block_point_correlations, self.datafit,
                                    candidate.cols, candidate.coefs, candidate.offset,
                                    self.y_offset, factors, cols, fetch if fetch.size else None,
                                    kind="correlations", n_units=need.size,
                                    n_columns=fetch.size)
                if fetch.size:
                    self.central.columns.add_rows(fetch, [p[4] for p in parts])
            else:
                points = candidate.points()
                parts = runtime.run(lambda: [runtime.submit(_tasks.block_correlations, k,
                                                            runtime.blocks[k], points[k],
                                                            factors, cols)
                                             for k in range(runtime.n_blocks)],
                                    "correlations", n_units=need.size)
            cache.corr[need] = _sum_in_order([p[0] for p in parts])
            cache.known[need] = True
            cache.total = _sum_in_order([p[1] for p in parts])
            cache.terms = (_sum_in_order([p[2] for p in parts]),
                           _sum_in_order([p[3] for p in parts]))
        corr = cache.corr[units]
        if self.fit_intercept and cache.total != 0.0:
            corr = corr - self.x_offset[units] * cache.total
        return corr


class CorrelationCache:
    """What reductions of one dual candidate gave (shared by its scaled copies).

    Attributes
    ----------
    known : ndarray of bool or None
        Features whose correlation ``X[:, j]^T theta`` (before centring) is in ``corr``.
    corr : ndarray of float64 or None
    total : float
        ``sum(theta)``.
    terms : tuple of float or None
        ``(theta^T y, sum theta^2 / s)``.
    """

    def __init__(self):
        self.known = self.corr = self.terms = None
        self.total = 0.0


class DualCandidate:
    """A dual point ``theta = -grad F(X w + b)`` kept on the workers, one future per block.

    It is described on the driver by the primal point it comes from (the
    non-zero coefficients and the offset), so a lost block recomputes it and a
    replayed round reproduces it. ``factors`` restore ``sum(theta) = 0`` (the
    intercept's constraint) as :meth:`sksafe.datafits.base.BaseDatafit.zero_sum_dual`
    does: the larger of the positive and negative parts is scaled down.
    ``kappa * candidate`` is the scaled point (what :func:`certify` reports);
    :meth:`to_dask_array` brings it back as a dask array.
    """

    __array_ufunc__ = None  # ``kappa * candidate`` must reach ``__rmul__``

    def __init__(self, problem, cols, coefs, offset, scale=1.0):
        self.problem = problem
        self.cols, self.coefs, self.offset = cols, coefs, offset
        self.scale = scale
        self.correlation_cache = CorrelationCache()
        self._points, self._generation = None, None
        self._summary, self._factors, self._model = None, None, None
        self._local = None

    def points(self):
        """Per-block futures of the point (resubmitted after a recovery)."""
        runtime, pb = self.problem.runtime, self.problem
        if self._points is None or self._generation != runtime.generation:
            self._points = [runtime.submit(_tasks.block_point, k, runtime.blocks[k], pb.datafit,
                                           self.cols, self.coefs, self.offset, pb.y_offset)
                            for k in range(runtime.n_blocks)]
            self._generation = runtime.generation
        return self._points

    def local(self):
        """``(block, point)``: the point on the driver's rows (:class:`CentralRows`), or
        ``None`` when the driver lacks some of its columns."""
        pb = self.problem
        if pb.central is None or not pb.central.columns.covers(self.cols):
            return None
        if self._local is None:
            block = pb.central.block()
            self._local = (block, _tasks.block_point(block, pb.datafit,
                                                     pb.central.columns.positions(self.cols),
                                                     self.coefs, self.offset, pb.y_offset))
        return self._local

    def submit_summary(self):
        """Futures of the per-block summaries (see :meth:`summary`), for a combined round."""
        runtime, datafit = self.problem.runtime, self.problem.datafit
        points = self.points()
        return [runtime.submit(_tasks.point_summary, k, runtime.blocks[k], points[k], datafit)
                for k in range(runtime.n_blocks)]

    def store_summary(self, parts):
        self._summary = tuple(_sum_in_order([p[i] for p in parts]) for i in range(4))

    def summary(self):
        """``(F(z), positive mass, negative mass, sum of f'')`` of the point, by one reduction."""
        if self._summary is None:
            local = self.local()
            if local is not None:
                self.store_summary([_tasks.point_summary(*local, self.problem.datafit)])
            else:
                self.store_summary(self.problem.runtime.run(self.submit_summary, "point"))
        return self._summary

    def submit_model(self, ws):
        """Futures of the per-block Newton models on ``ws`` (see :meth:`newton_model`)."""
        pb = self.problem
        runtime = pb.runtime
        floor = CURVATURE_FLOOR * (pb.datafit.hessian_bound or 1.0)
        points = self.points()
        return [runtime.submit(_tasks.block_newton_model, k, runtime.blocks[k], points[k],
                               pb.datafit, ws, floor) for k in range(runtime.n_blocks)]

    def store_model(self, ws, parts):
        sums = [_sum_in_order([p[i] for p in parts]) for i in range(6)]
        sums[0] = _dense(sums[0])
        self._model = (ws, tuple(sums))
        self.store_summary([p[6] for p in parts])

    def newton_model(self, ws):
        """Second-order model on ``ws``: ``(H, X^T h, sum h, X^T g, sum g, X^T theta_+)``.

        ``H = X_W^T diag(h) X_W``, ``g`` the gradient, ``h`` the (floored) second
        derivatives, ``theta_+`` the positive part of ``theta = -g`` (the
        correlations of the zero-sum dual point follow from it). One round, unless
        a line search already computed it for this point.
        """
        if self._model is None or not np.array_equal(self._model[0], ws):
            self.store_model(ws, self.problem.runtime.run(lambda: self.submit_model(ws),
                                                          "newton_model", ws_size=ws.size))
        return self._model[1]

    def factors(self):
        """Scalings of the positive and negative parts that make ``sum(theta) = 0``."""
        if self._factors is None:
            self._factors = (1.0, 1.0)
            pb = self.problem
            if pb.fit_intercept and not pb.centre:
                self._factors = zero_sum_factors(*self.summary()[1:3])
        return self._factors

    def loss(self):
        return self.summary()[0]

    def __eq__(self, other):
        return (isinstance(other, DualCandidate) and other.offset == self.offset
                and other.scale == self.scale and np.array_equal(other.cols, self.cols)
                and np.array_equal(other.coefs, self.coefs))

    __hash__ = None

    def __rmul__(self, kappa):
        scaled = DualCandidate(self.problem, self.cols, self.coefs, self.offset,
                               self.scale * float(kappa))
        scaled._points, scaled._generation = self._points, self._generation
        scaled._summary, scaled._factors = self._summary, self._factors
        scaled._local = self._local
        scaled.correlation_cache = self.correlation_cache
        return scaled

    def unscaled(self):
        """The same point with scale 1 (the cached per-block results are shared)."""
        return (1.0 / self.scale) * self if self.scale != 1.0 else self

    def to_dask_array(self):
        """The (scaled) dual point as a dask array chunked like the rows, its ``n`` floats
        on the driver: computed there from the driver's rows when it holds the point's
        columns (as at the end of a fit whose working sets it solved), by one direct
        round otherwise.

        Not tasks left on the workers (their messages and work delayed the next fit's
        first round), nor a lazy graph (it would hold on to the user's ``X`` for as
        long as the result, or a fitted estimator's report, lives).
        """
        import dask.array as da

        pb = self.problem
        local = self.local()
        if local is not None:
            vector = _tasks.dual_vector(local[1], self.factors(), self.scale)
        else:
            vector = np.concatenate(pb.runtime.map(
                _tasks.block_dual_vector, pb.datafit, self.cols, self.coefs, self.offset,
                pb.y_offset, self.factors(), self.scale, kind="dual_point"))
        return da.from_array(vector, chunks=(tuple(pb.block_sizes),))


class DistributedGeometry(SeparableGeometry):
    """:class:`SeparableGeometry` whose correlations and dual values are reductions over blocks."""

    def correlations(self, theta, units):
        return self.problem.correlate(theta, units)

    def priorities(self, dual_norms, units):
        """The working-set ranking, kept for :meth:`DistributedState.plan_prefetch`."""
        out = super().priorities(dual_norms, units)
        self.problem.ranking = (units, out)
        return out

    def dual_value(self, theta, kappa):
        pb = self.problem
        if pb.centre:  # least squares: kappa ty - kappa^2 tt / 2 from the cached terms
            if theta.correlation_cache.terms is None:
                pb.correlate(theta, np.zeros(0, dtype=np.int64))
            ty, tt = theta.correlation_cache.terms
            return kappa * ty - 0.5 * kappa * kappa * tt
        runtime, factors = pb.runtime, theta.factors()
        local = theta.local()
        if local is not None:
            return _tasks.block_dual_value(*local, factors, kappa, pb.datafit)

        def build():
            points = theta.points()
            return [runtime.submit(_tasks.block_dual_value, k, runtime.blocks[k], points[k],
                                   factors, kappa, pb.datafit) for k in range(runtime.n_blocks)]

        return _sum_in_order(runtime.run(build, "dual"))


class DistributedState:
    """Primal iterate of the distributed solver (the state protocol of :mod:`sksafe.solvers._states`).

    The coefficients and the intercept live on the driver, which makes the
    driver's state the checkpoint every round can be replayed from.
    """

    def __init__(self, problem, geometry, coef, intercept):
        self.problem, self.geometry = problem, geometry
        self.a, self.b, self.positive = geometry.a, geometry.b, geometry.positive
        self.w = np.asarray(coef, dtype=np.float64).copy()
        self.b0 = float(intercept) if (problem.fit_intercept and not problem.centre) else 0.0
        self.epochs = 0
        self.all_cols = np.arange(problem.n_features)
        self._candidate = None
        # least squares: Gram rows of the columns seen in working sets, kept on the driver
        self._gram_cols = np.zeros(0, dtype=np.int64)
        self._gram = np.zeros((0, 0))
        self._gram_rhs = np.zeros(0)
        self.model_epochs = ProxNewtonState.max_cd_epochs
        self.tol_abs = None  # the fit's absolute tolerance (set by solve_on_blocks)

    def theta(self):
        if self._candidate is None:
            self._candidate = self.problem.candidate(self.w, self.b0)
        return self._candidate

    def _moved(self):
        self._candidate = None

    def primal(self):
        return self.theta().loss() + penalty_value(self.w, self.all_cols, self.a, self.b)

    def zero_out(self, cols):
        cols = cols[self.w[cols] != 0.0]
        if cols.size:
            self.w[cols] = 0.0
            self._moved()

    def feasible_dual(self, theta):
        """A candidate of an earlier fit on the same blocks (a path), or ``None``."""
        if isinstance(theta, DualCandidate) and theta.problem is self.problem:
            return theta.unscaled()
        return None

    def intercept(self):
        pb = self.problem
        if not pb.fit_intercept:
            return 0.0
        if pb.centre:
            return pb.y_offset - pb.x_mean @ self.w
        return self.b0

    # -- intercept ---------------------------------------------------------------------
    def polish(self, max_newton=30):
        """Damped Newton on the intercept, to machine precision (nothing for least squares)."""
        pb = self.problem
        if pb.centre or not pb.fit_intercept:
            return
        armijo = ProxNewtonState.armijo
        no_cols = np.zeros(0, dtype=np.int64)
        for _ in range(max_newton):
            candidate = self.theta()
            f0, mass_pos, mass_neg, hess_sum = candidate.summary()
            grad = mass_neg - mass_pos  # dF/db = sum_i f'_i = -sum_i theta_i
            if abs(grad) <= 1e-15 * (mass_pos + mass_neg) + 1e-300 or not hess_sum > 0.0:
                return
            step = -grad / hess_sum
            slope = grad * step
            trial = pb.candidate(self.w, self.b0 + step)
            t = 0.0
            for _, steps, losses, slopes in self._step_batches(candidate, no_cols, np.zeros(0),
                                                               step, 1e-12, trial):
                t = self._first_polish_step(steps, losses, slopes, f0, slope, armijo)
                if t is not None:
                    break
            if not t:
                return
            self.b0 += t * step
            self._candidate = trial if t == 1.0 else None

    @staticmethod
    def _first_polish_step(steps, losses, slopes, f0, slope, armijo):
        """:meth:`ProxNewtonState._polish_step`'s rule on one batch (``None``: try smaller)."""
        for t, f_t, slope_t in zip(steps, losses, slopes):
            if t == 1.0:
                # at rounding level the decrease is invisible while Newton still
                # converges: accept the full step if it halves the gradient
                if f_t <= f0 + armijo * slope or abs(slope_t) < 0.5 * abs(slope):
                    return 1.0
            elif f_t <= f0 + armijo * t * slope:
                return t if f_t <= f0 else 0.0
        return None

    def _step_batches(self, candidate, cols, delta, delta_b, smallest, trial=None, ws=None):
        """Yield ``(g^T v, steps, losses, slopes)`` for steps 1, 1/2, ... down to ``smallest``,
        :data:`LINE_SEARCH_BATCH` steps per round.

        The first round also computes, speculatively, the summary of ``trial`` (the
        point of the full step) and, with ``ws``, its Newton model: when the full
        step is taken, as it mostly is, the next iteration needs no round of its own.
        A step along the intercept alone (no ``cols``) of a point the driver holds
        (:meth:`DualCandidate.local`) is searched on the driver, without rounds.
        """
        runtime, pb = self.problem.runtime, self.problem
        local = candidate.local() if cols.size == 0 else None
        t = 1.0
        while t > smallest:
            steps = [t * 0.5 ** k for k in range(LINE_SEARCH_BATCH) if t * 0.5 ** k > smallest]
            if local is not None:
                slope_0, losses, slopes = _tasks.block_line_search(*local, pb.datafit, cols,
                                                                   delta, delta_b, steps)
                yield slope_0, steps, losses, slopes
                t = steps[-1] * 0.5
                continue
            first = t == 1.0 and trial is not None

            def build():
                points = candidate.points()
                futures = [runtime.submit(_tasks.block_line_search, k, runtime.blocks[k],
                                          points[k], pb.datafit, cols, delta, delta_b, steps)
                           for k in range(runtime.n_blocks)]
                if first:
                    futures += trial.submit_model(ws) if ws is not None else trial.submit_summary()
                return futures

            parts = runtime.run(build, "line_search", ws_size=cols.size)
            search, extra = parts[:runtime.n_blocks], parts[runtime.n_blocks:]
            if first:
                if ws is not None:
                    trial.store_model(ws, extra)
                else:
                    trial.store_summary(extra)
            yield (_sum_in_order([p[0] for p in search]), steps,
                   _sum_in_order([p[1] for p in search]), _sum_in_order([p[2] for p in search]))
            t = steps[-1] * 0.5

    # -- subproblems -------------------------------------------------------------------
    def solve_subproblem(self, ws, tol, budget):
        central = self.problem.central
        if central is not None and central.columns.fits(ws):
            self._central_subproblem(ws, tol, budget)
            return None
        if self.problem.centre:
            self._least_squares_subproblem(ws, tol, budget)
            return None
        return self._prox_newton_subproblem(ws, tol, budget)

    def _check_support(self, ws):
        outside = self.w.copy()
        outside[ws] = 0.0
        if np.any(outside):
            raise RuntimeError("a non-zero coefficient is outside the working set")

    def _central_subproblem(self, ws, tol, budget):
        """The single-machine subproblem solve on the driver, from the columns ``X[:, ws]``.

        New columns come in one round (``"columns"`` in the ledger: each block sends
        its rows of them); the state is the single-machine one
        (:class:`~sksafe.solvers._states.QuadraticCDState` or
        :class:`~sksafe.solvers._states.ProxNewtonState`) run over the working set
        by its own ``solve_subproblem`` exactly as on one machine. Its problem's
        column statistics are computed once per column as columns arrive
        (:meth:`WorkingColumns.problem`), not rebuilt over the working set at every
        outer iteration. Its adaptive Newton model budget carries over from one
        outer iteration to the next.
        """
        pb, runtime = self.problem, self.problem.runtime
        columns = pb.central.columns
        self._check_support(ws)
        new = columns.missing(ws)
        if new.size:
            parts = runtime.map(_tasks.fetch_columns, new, kind="columns", ws_size=ws.size,
                                n_columns=new.size)
            columns.add_rows(new, parts)
        # dense: the problem on every kept column (a view of the store, no copy), solved
        # over the working set: kept columns outside it are zero and stay so. Sparse: on
        # a copy of the working set's columns (O(its entries)), so that the numbers do not
        # depend on which other columns happen to be kept (guessed ones included)
        kept = ws if columns.is_sparse else columns.cols
        where = np.arange(ws.size) if columns.is_sparse else columns.positions(ws)
        solver = "cd" if pb.centre else "prox_newton"
        state = state_on(pb.central.problem(pb.datafit, pb.fit_intercept,
                                            ws if columns.is_sparse else None),
                         pb.datafit, self.a[kept], self.b[kept], self.positive, solver,
                         self.w[kept], self.intercept())
        if solver == "prox_newton":
            state.model_epochs = self.model_epochs
        state.solve_subproblem(where, tol, budget)
        self.epochs += state.epochs
        self.model_epochs = getattr(state, "model_epochs", self.model_epochs)
        self.w[kept] = state.w
        if pb.fit_intercept and not pb.centre:
            self.b0 = state.intercept()
        self._moved()
        pb.prefetch = self.plan_prefetch(ws)
        pb.correlate_all_next = self.certificate_ahead(state, where)

    def certificate_ahead(self, state, where):
        """Whether the next gap evaluation should correlate every feature: when it will
        probably end the fit (the working-set problem was just solved below the fit's
        tolerance; the correlations of the screened features are then the final
        certificate's) and the screened features cost little to add
        (:data:`CERTIFICATE_AHEAD_ENTRIES`). A wrong guess costs that little; either
        way the numbers are the same, only the round that computes them changes."""
        pb = self.problem
        screened = pb.n_features - pb.units_correlated
        if (self.tol_abs is None or not screened
                or screened * pb.central.columns.entries_per_column()
                > CERTIFICATE_AHEAD_ENTRIES):
            return False
        # the working-set gap at the state's point: its correlations are memoised by the
        # subproblem's last gap test, unless it stopped on its epoch budget
        dual = evaluate_dual(state.problem, pb.datafit, state.theta(), where, state.a,
                             state.b, state.box)[0]
        return state.primal() - dual <= self.tol_abs

    def plan_prefetch(self, ws):
        """Columns for the next correlation round to bring along, so that the next
        working set finds its columns on the driver and needs no round of its own.

        The next working set keeps the support and adds the best-ranked units at
        the next dual point, ``max(p0, 2 |support|, |ws|)`` in all: the guess is the
        units best ranked at the current one among those whose columns are not
        here, as many as :data:`PREFETCH_FACTOR` times that size less ``|ws|`` (the
        ranking moves with the dual point). Only a guess (a miss costs the usual
        column round, a wrong column only bytes): at most :data:`PREFETCH_MAX_BYTES`
        and within the driver's column budget.
        """
        pb = self.problem
        columns = pb.central.columns
        if pb.ranking is None:
            return np.zeros(0, dtype=np.int64)
        units, priorities = pb.ranking
        size = PREFETCH_FACTOR * max(ws.size, 2 * np.count_nonzero(self.w))
        away = ~columns.kept(units)
        limit = min(PREFETCH_MAX_BYTES, columns.room())
        units, priorities = units[away], priorities[away]
        count = min(int(size - ws.size), units.size)
        if count <= 0 or limit <= 0:
            return np.zeros(0, dtype=np.int64)
        # no more candidates to rank than twice what the bytes allow at the mean size
        count = min(count, int(2.0 * limit / columns.bytes_of(units).mean()) + 1)
        best = np.argpartition(priorities, count - 1)[:count]
        best = units[best[np.argsort(priorities[best], kind="stable")]]
        # the best-ranked first, as many as the bytes allow
        best = best[:np.searchsorted(np.cumsum(columns.bytes_of(best)), limit, side="right")]
        return np.sort(best)

    def _gram_of(self, ws):
        """Centred ``X_W^T S X_W`` and ``X_W^T S y_c``, fetching only rows not cached yet."""
        pb, runtime = self.problem, self.problem.runtime
        new = np.setdiff1d(ws, self._gram_cols)
        if new.size:
            if self._gram_cols.size + new.size > GRAM_CACHE_LIMIT:
                self._gram_cols, self._gram = np.zeros(0, dtype=np.int64), np.zeros((0, 0))
                self._gram_rhs = np.zeros(0)
                new = np.asarray(ws, dtype=np.int64)
            cols = np.concatenate([self._gram_cols, new])
            parts = runtime.map(_tasks.block_gram, new, cols, kind="gram", ws_size=ws.size)
            rows = _dense(_sum_in_order([p[0] for p in parts]))
            rhs = _sum_in_order([p[1] for p in parts])
            if pb.fit_intercept:  # centred columns and target (the weights sum to one)
                rows = rows - np.outer(pb.x_mean[new], pb.x_mean[cols])
                rhs = rhs - pb.x_mean[new] * pb.y_offset
            old = self._gram_cols.size
            gram = np.empty((cols.size, cols.size))
            gram[:old, :old] = self._gram
            gram[old:, :] = rows
            gram[:old, old:] = rows[:, :old].T
            self._gram_cols, self._gram = cols, gram
            self._gram_rhs = np.concatenate([self._gram_rhs, rhs])
        order = np.argsort(self._gram_cols)
        where = order[np.searchsorted(self._gram_cols[order], ws)]
        return self._gram[np.ix_(where, where)], self._gram_rhs[where]

    def _least_squares_subproblem(self, ws, tol, budget):
        pb = self.problem
        self._check_support(ws)
        gram, rhs = self._gram_of(ws)
        u = self.w[ws].copy()
        yy = 2.0 * pb.primal_zero_loss  # ||y_c||_s^2: the loss at w = 0 is half of it
        epochs, _ = gram_cd(gram, rhs, u, self.a[ws], self.b[ws], self.positive, budget, tol,
                            yy, 10)
        self.epochs += epochs
        if not np.array_equal(u, self.w[ws]):
            self.w[ws] = u
            self._moved()

    def _prox_newton_subproblem(self, ws, tol, budget):
        """:meth:`ProxNewtonState.solve_subproblem` in about one round per Newton step.

        Each step needs the Newton model at the current point; the line search of
        the previous step computed it speculatively at the full step. The exit is
        the single-machine one on the KKT violation (``newton_exit`` times its value
        on entry); the working-set gap test is left to the outer loop, which
        evaluates the gap of the whole problem anyway (a dual value costs a round).
        """
        violations = np.empty(ws.shape[0])
        kkt_start = None
        for _ in range(budget):
            candidate = self.theta()
            model = candidate.newton_model(ws)
            xg, corr_pos = model[3], model[5]
            pos_factor, neg_factor = candidate.factors()
            corr = pos_factor * corr_pos + neg_factor * (-xg - corr_pos)  # X_W^T theta
            subdiff_distance(self.w, -corr, ws, self.a, self.b, self.positive, violations)
            kkt = violations.max()
            if kkt_start is None:
                kkt_start = kkt
            elif kkt <= ProxNewtonState.newton_exit * kkt_start:
                break
            if kkt == 0.0:
                break
            step = self._newton_step(model, ws, ProxNewtonState.model_accuracy * kkt)
            if step is None:
                break
            delta, delta_b = step
            self.epochs += 1
            if delta_b == 0.0 and not np.any(delta):
                break
            w_trial = self.w.copy()
            w_trial[ws] += delta
            trial = self.problem.candidate(w_trial, self.b0 + delta_b)
            t = self._step_length(candidate, ws, delta, delta_b, trial)
            if t == 0.0:
                break
            self.w[ws] += t * delta
            self.b0 += t * delta_b
            self._candidate = trial if t == 1.0 else None
        return None

    def _newton_step(self, model, ws, kkt_tol):
        """Minimise the second-order model plus penalty over ``ws`` and the intercept.

        The model ``g^T v + v^T diag(h) v / 2``, ``v = X_W delta + delta_b``, becomes after
        eliminating ``delta_b`` exactly a quadratic in ``u = w_W + delta`` with the Gram
        ``H_c = H - (X_W^T h)(X_W^T h)^T / sum(h)``, solved by :func:`gram_cd` to KKT
        violation ``kkt_tol`` (the single-machine model of :class:`ProxNewtonState`).
        """
        H, xh, h_total, xg, g_total, _ = model
        if not h_total > 0.0:
            return None
        if self.problem.fit_intercept:
            H = H - np.outer(xh, xh) / h_total
            xg = xg - xh * (g_total / h_total)
        w_ws = self.w[ws]
        u = w_ws.copy()
        budget = self.model_epochs
        epochs, _ = gram_cd(H, H @ w_ws - xg, u, self.a[ws], self.b[ws], self.positive, budget,
                            kkt_tol, -1.0, 1)
        if epochs >= budget:
            self.model_epochs = min(2 * budget, ProxNewtonState.max_cd_epochs_limit)
        elif 2 * epochs < budget:
            self.model_epochs = max(budget // 2, ProxNewtonState.max_cd_epochs)
        delta = u - w_ws
        delta_b = -(g_total + xh @ delta) / h_total if self.problem.fit_intercept else 0.0
        return delta, delta_b

    def _step_length(self, candidate, ws, delta, delta_b, trial):
        """:meth:`ProxNewtonState._step_length`, trial steps evaluated a batch per round."""
        armijo = ProxNewtonState.armijo
        loss = candidate.loss()
        predicted = None
        for slope_0, steps, losses, slopes in self._step_batches(candidate, ws, delta, delta_b,
                                                                 1e-10, trial, ws):
            if predicted is None:  # grad F(z)^T v + g(w + delta) - g(w)
                predicted = slope_0 + penalty_change(self.w, ws, delta, 1.0, self.a, self.b)
            for step, loss_t, slope_t in zip(steps, losses, slopes):
                change = penalty_change(self.w, ws, delta, step, self.a, self.b)
                if predicted < 0.0 and loss_t - loss + change <= armijo * step * predicted:
                    return step
                if step * slope_t + change <= 0.0:
                    return step
        return 0.0


def _zero_point(problem, geometry):
    """``w = 0`` with the intercept optimal: ``(candidate, correlations with every column)``.

    Computed once per problem (a path reuses it for every alpha): ``P(0)`` and the
    correlations do not depend on the penalty.
    """
    if problem.zero is None:
        state = DistributedState(problem, geometry, np.zeros(problem.n_features), 0.0)
        state.polish()
        theta = state.theta()
        if problem.zero_sums is not None:  # w = 0 without intercept: known, no round
            corr, total, ty, tt = problem.zero_sums
            cache = theta.correlation_cache
            cache.known, cache.corr = np.ones(problem.n_features, dtype=bool), corr.copy()
            cache.total, cache.terms = total, (ty, tt)
        corr = problem.correlate(theta, np.arange(problem.n_features))
        corr[problem.screen_norms == 0] = 0.0
        problem.primal_zero_loss = theta.loss()
        problem.zero = (theta, corr, state.b0)
    return problem.zero


def distributed_alpha_max(problem, penalty):
    """Smallest ``alpha`` of ``penalty``'s family giving ``w = 0`` (one reduction, cached)."""
    unit = penalty.with_alpha(1.0)
    a, b = unit.l1_l2_weights(problem.n_features)
    geometry = DistributedGeometry(problem, problem.datafit, a, b, bool(penalty.positive),
                                   np.zeros(0, dtype=np.int64))
    return unit.alpha_max(_zero_point(problem, geometry)[1])


def solve_on_blocks(problem, penalty, *, tol, max_iter, max_epochs, p0, screening, verbose,
                    start, coef_init=None, intercept_init=0.0, dual_init=None):
    """Run the working-set outer loop on a :class:`DistributedProblem` (see :func:`solve_distributed`).

    ``coef_init``/``intercept_init`` warm-start the primal point and ``dual_init``
    (the :class:`DualCandidate` of a previous fit on the same problem) is the first
    dual candidate: sequential screening along a path.
    """
    datafit = problem.datafit
    n_features = problem.n_features
    a, b = penalty.l1_l2_weights(n_features)
    positive = bool(penalty.positive)
    live = problem.screen_norms > 0
    if np.any((a == 0) & (b == 0) & live):
        raise ValueError("Unpenalised features (zero penalty weights) are not supported by the "
                         "distributed solver; give them a small positive weight, or fit on one "
                         "machine.")
    geometry = DistributedGeometry(problem, datafit, a, b, positive, np.zeros(0, dtype=np.int64))
    theta_zero, corr_zero, b_zero = _zero_point(problem, geometry)
    primal_zero = theta_zero.loss()
    alpha_max = penalty.alpha_max(corr_zero)
    tol_abs = tol * primal_zero
    screened_at = np.full(n_features, NOT_SCREENED)
    screened_at[~live] = 0
    coef = np.zeros(n_features) if coef_init is None else np.where(live, coef_init, 0.0)
    starts_at_zero = not np.any(coef)
    state = DistributedState(problem, geometry, coef, b_zero if starts_at_zero else intercept_init)
    state.tol_abs = tol_abs
    problem.correlate_all_next = False  # a path's previous fit may have left it
    if starts_at_zero:
        state._candidate = theta_zero
    eff_zero = corr_zero if positive else np.abs(corr_zero)
    if np.all(eff_zero[live] <= a[live] * (1 + 1e-14)):
        iterations, history, theta_best = 0, [], None
        state = DistributedState(problem, geometry, np.zeros(n_features), b_zero)
        state._candidate = theta_zero
    else:
        budget = max_epochs if problem.centre else max(50, max_epochs // 1000)
        iterations, history, theta_best = _outer_loop(
            geometry, state, screened_at, dual_init, tol_abs=tol_abs, max_iter=max_iter, p0=p0,
            budget=budget, screening=screening, verbose=verbose, start=start,
            primal_zero=primal_zero, known=(theta_zero, corr_zero) if starts_at_zero else None)
    return certify(geometry, state, theta_best, tol=tol, tol_abs=tol_abs,
                   primal_zero=primal_zero, iterations=iterations, screened_at=screened_at,
                   alpha_max=alpha_max, history=history, stacklevel=5)
