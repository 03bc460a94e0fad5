"""ProxCoCoA+ for the working-set problem of column blocks (``column_solver="cocoa"``).

The working-set problem of an outer iteration, ``min_w F(X_W w + b) + sum_{j in W}
g_j(w_j)``, is solved by the primal, feature-partitioned form of CoCoA (Smith,
Forte, Ma, Takac, Jordan & Jaggi, "CoCoA: A General Framework for
Communication-Efficient Distributed Optimization", JMLR 18(230), 2018, Algorithm 1
with the "adding" aggregation ``gamma = 1`` and ``sigma' = K``, the ProxCoCoA+
variant for L1-type regularisers): the working-set columns stay where they are,
each block ``k`` owning ``W_k = W ∩ J_k``, and the driver owns the shared vector
``v = X_W w`` (``n`` floats) and the intercept.

One *round*: the driver broadcasts the dual candidate ``theta = -grad F(v + b)``
(``n`` floats); block ``k``

1. correlates it with its working-set columns (``|W_k|`` floats back: with them the
   driver evaluates the duality gap of the working-set problem at the current
   point, the same certificate as the central solve's);
2. approximately solves its local subproblem
   ``min_u  grad F(v)^T X_k u + (sigma' L / 2) sum_i s_i (X_k u)_i^2 + sum_{j in W_k}
   g_j(w_j + u_j)``, where ``L s_i`` bounds the curvature of ``F`` in ``z_i``
   (``L = hessian_bound``: 1 for least squares, 1/4 for the logistic loss) and
   ``sigma' = K`` is the number of blocks holding working-set columns (the paper's
   safe value ``sigma' = gamma K`` for adding, from ``||sum_k X_k u_k||^2 <= K sum_k
   ||X_k u_k||^2``), by :data:`LOCAL_EPOCHS` epochs of the single-machine
   working-set coordinate descent kernel;
3. returns ``X_k u`` (``n`` floats) and its new coefficients (``|W_k|`` floats).

The driver adds the ``X_k u`` to ``v`` and minimises the intercept exactly (the
single-machine state of a one-column problem whose column is ``v`` does it: exact
centring for least squares, Newton for the other datafits). The intercept being
re-minimised after every round, ``F`` may be replaced by ``h(v) = min_b F(v + b)``,
whose curvature bound holds on *centred* predictors: the local subproblems use
the centred columns (``x - m``, implicitly, as the kernels do), a tighter model.

The local subproblem is, up to a constant and the factor ``c = sigma' L``, the
weighted least-squares problem of the kernel, ``sum_i s_i (y'_i - x_c,i^T w')^2 / 2
+ g(w') / c`` in the new point ``w' = w + u``, for the target ``y' = X_c w + theta /
(c s)`` (the kernel's weights must sum to one: the factor goes to the penalty); the
kernel's weighted residual at the start is then ``theta / c - s (m^T w)``, known
without ``X w``, and ``X u`` is read off the change of that residual.

The inner loop stops when the working-set gap is below the inner tolerance of the
central solve (the update of that round is then dropped: the gap certifies the
point it was computed at) or after ``max_epochs / LOCAL_EPOCHS`` rounds; the outer
loop, the screening and the final certificate of :mod:`._columns` are unchanged.
Only datafits with a global curvature bound (``hessian_bound``: Quadratic,
Logistic, Huber) are supported.
"""
import numpy as np

from ..penalties._kernels import conjugate_sum, dual_scaling, penalty_value
from ..solvers._design import add_columns, xt_dot
from ..solvers._kernels import quadratic_cd_working_set
from ._central import local_state

#: coordinate-descent epochs of one local subproblem solve (CoCoA's ``H``). Measured on the
#: 2000 x 20000 problems of ``benchmarks/bench_distributed.py`` (2 blocks): 1, 5, 20 or 100
#: epochs take the same number of rounds (the aggregation with ``sigma' = K`` limits the
#: progress per round, not the local accuracy), so more epochs only cost time
LOCAL_EPOCHS = 5


def check_cocoa_datafit(datafit):
    """Refuse a datafit without the global curvature bound the local subproblems need."""
    if datafit.hessian_bound is None or datafit.intercept_mode not in ("centre", "newton"):
        raise ValueError(f"column_solver='cocoa' needs a datafit with a global bound on its "
                         f"second derivative (Quadratic, Logistic, Huber), not {datafit!r}: "
                         f"use column_solver='central'.")


# ---------------------------------------------------------------------------------------
# worker side
# ---------------------------------------------------------------------------------------
def block_predictor(block, cols, coefs):
    """``X[:, cols] @ coefs`` on a column block (raw columns, ``n`` floats)."""
    out = np.zeros(block.X_matrix.shape[0])
    add_columns(block.X, cols, coefs, out)
    return out


def cocoa_local_step(block, ws, coef, theta, theta_sum, sigma, epochs):
    """One ProxCoCoA+ round on a column block (see the module docstring).

    ``ws`` are the block's working-set columns (local indices, sorted), ``coef``
    their coefficients, ``theta`` the dual candidate, ``theta_sum`` its sum when
    the correlations are centred implicitly (0 otherwise), ``sigma`` the curvature
    scale ``sigma' L``. Returns ``(X_c[:, ws]^T theta, X[:, ws] u, coef + u)``;
    ``X u`` is 0 on rows of zero weight, which no part of the objective sees.
    """
    n = block.X_matrix.shape[0]
    corr = np.empty(ws.shape[0])
    xt_dot(block.X, theta, ws, corr)
    if theta_sum != 0.0:
        corr -= block.means[ws] * theta_sum
    s = block.s
    w = np.zeros(block.width)
    w[ws] = coef
    curvatures = np.zeros(block.width)
    curvatures[ws] = block.norms[ws] ** 2
    shift = np.array([block.means[ws] @ coef])
    residual = theta / sigma - s * shift[0]
    initial = residual.copy()
    # no gap inside the local solve (gap_freq = 0: the target enters only the gap), and no
    # extrapolation (a few epochs per round, fewer than Anderson's window)
    no_constraint = np.empty((n, 0))
    quadratic_cd_working_set(
        block.X, np.zeros(n), s, block.means, curvatures, block.a / sigma, block.b / sigma,
        block.lower, block.upper, ws, w, residual, shift, epochs, 0.0, 0, 0, np.empty(n),
        no_constraint, no_constraint, 0.0)
    change = np.zeros(n)
    weighted = s > 0.0
    change[weighted] = (initial[weighted] - residual[weighted]) / s[weighted]
    return corr, change, w[ws]


# ---------------------------------------------------------------------------------------
# driver side
# ---------------------------------------------------------------------------------------
class CocoaWorkingSet:
    """The working-set problems of one column-block fit, solved by ProxCoCoA+.

    Keeps the shared vector ``v = X w`` (raw columns) of the coefficients ``w``
    it was computed for; coefficients changed outside the solver (screened
    non-zeros) are brought in by one ``point`` round.

    Parameters
    ----------
    engine : sksafe.distributed._columns.ColumnBlockSolver
    """

    def __init__(self, engine):
        self.engine = engine
        self.v = np.zeros(engine.y.shape[0])
        self.w = np.zeros(engine.n_features)

    def _sync(self, w):
        """Make ``v = X w`` (one round when some coefficients changed)."""
        engine, rt = self.engine, self.engine.runtime
        cols = np.flatnonzero(w != self.w)
        if cols.size:
            diff = w - self.w
            parts = [(k, local) for k, local in engine._blocks_of(cols) if local.size]
            moves = rt.run(lambda: [rt.submit(block_predictor, k, rt.blocks[k], local,
                                              diff[local + engine.starts[k]])
                                    for k, local in parts], "point")
            for move in moves:  # in block order
                self.v += move
            self.w = w.copy()

    def _point(self, intercept):
        """``(problem, state)`` at ``v`` with the intercept minimised exactly.

        The single-machine state of the one-feature problem whose column is ``v``
        (coefficient 1, no penalty) gives the loss, the dual candidate and the
        intercept in the user's coordinates, with the datafit's own intercept
        handling; its ``problem`` has the target and weights the dual value needs.
        """
        engine = self.engine
        geometry, state = local_state(self.v[:, None], engine.y, engine.sample_weight,
                                      engine.datafit, np.zeros(1), np.zeros(1), False,
                                      engine.fit_intercept, engine.solver, np.ones(1),
                                      intercept)
        state.polish()
        return geometry.problem, state

    def solve(self, ws, w, intercept, tol, max_rounds):
        """ProxCoCoA+ rounds on the working set ``ws`` (sorted) from ``(w, intercept)``.

        Returns ``(coef on ws, intercept, primal, problem, theta, rounds)`` at the
        last point whose working-set gap is known to be ``<= tol``, or at the point
        reached after ``max_rounds`` rounds.
        """
        engine, rt = self.engine, self.engine.runtime
        self._sync(w)
        parts = [(k, local) for k, local in engine._blocks_of(ws) if local.size]
        bounds = np.cumsum([0] + [local.size for _, local in parts])
        sigma = len(parts) * engine.datafit.hessian_bound
        a, b, lower, upper = engine.a[ws], engine.b[ws], engine.lower[ws], engine.upper[ws]
        positions = np.arange(ws.size)
        coef = w[ws].copy()
        problem, state = self._point(intercept)
        rounds = 0
        while True:
            theta = state.theta()
            theta_sum = float(theta.sum()) if engine.centred_correlations else 0.0
            results = rt.run(lambda: [
                rt.submit(cocoa_local_step, k, rt.blocks[k], local,
                          coef[bounds[i]:bounds[i + 1]], theta, theta_sum, sigma, LOCAL_EPOCHS)
                for i, (k, local) in enumerate(parts)], "cocoa", ws_size=ws.size)
            rounds += 1
            corr = np.concatenate([r[0] for r in results])
            kappa = dual_scaling(corr, positions, a, b, lower, upper)
            dual = (engine.datafit.dual_value(kappa * theta, problem.y, problem.s)
                    - conjugate_sum(corr, kappa, positions, a, b, lower, upper))
            primal = state.primal() + penalty_value(coef, positions, a, b)
            if primal - dual <= tol:
                break
            for result in results:  # in block order
                self.v += result[1]
            coef = np.concatenate([r[2] for r in results])
            self.w[ws] = coef
            problem, state = self._point(state.intercept())
            if rounds >= max_rounds:
                theta = state.theta()
                primal = state.primal() + penalty_value(coef, positions, a, b)
                break
        return coef, state.intercept(), primal, problem, theta, rounds
