"""The working-set problem solved on the driver, from working-set columns fetched once.

Both layouts can move the columns ``X[:, W]`` of the working set to the driver
(``n x |W|`` floats, each new column once per fit) and solve the working-set
problem there with the single-machine solver states of
:mod:`sksafe.solvers._states`. Compared with a distributed inner solver this
trades ``n |W_new|`` floats per outer iteration for all the rounds of the
inner iterations (one per proximal Newton step, plus the ``|W|^2`` Gram of each
Newton model); the duality gap of the whole problem, the Gap Safe screening
and the final certificate stay reductions over the blocks.

The columns kept on the driver are bounded by a byte budget (``central_max_bytes``
of :func:`sksafe.distributed.solve_distributed`), counted as dense float64
whatever the storage of the blocks and never more than
:data:`WORKER_MEMORY_FRACTION` of the smallest worker memory limit: the driver
is assumed to be a machine like the workers. Above the budget the row layout
falls back to its distributed inner solver.
"""
import numpy as np
import scipy.sparse as sp

from ..screening.gap_safe import SeparableGeometry
from ..solvers._problem import make_problem
from ..solvers.working_set import _make_state

#: default budget, in bytes, of the working-set columns kept on the driver
CENTRAL_MAX_BYTES = 256 * 2**20
#: the budget never exceeds this fraction of the smallest worker memory limit
WORKER_MEMORY_FRACTION = 0.25


def central_budget(client, max_bytes):
    """The byte budget of the driver's working-set columns (see the module docstring)."""
    if max_bytes is None:
        max_bytes = CENTRAL_MAX_BYTES
    if not (np.isscalar(max_bytes) and max_bytes >= 0):
        raise ValueError(f"central_max_bytes must be a non-negative number of bytes or None, "
                         f"got {max_bytes!r}.")
    workers = client.scheduler_info(n_workers=-1)["workers"].values()
    limits = [w.get("memory_limit") or 0 for w in workers]
    limits = [limit for limit in limits if limit > 0]
    if limits:
        max_bytes = min(max_bytes, WORKER_MEMORY_FRACTION * min(limits))
    return float(max_bytes)


class WorkingColumns:
    """Columns of ``X`` kept on the driver between outer iterations.

    Dense columns live in one Fortran-ordered array whose capacity doubles as
    columns arrive (fresh memory is slow to touch; solving on a view of it needs
    no copy), sparse ones in one CSC matrix.

    Parameters
    ----------
    n_samples : int
    max_bytes : float
        Budget, counted as ``8 n`` bytes per column (dense float64): columns
        outside the current working set are dropped when a new one would not fit.
    """

    def __init__(self, n_samples, max_bytes=np.inf):
        self.n_samples = n_samples
        self.max_bytes = max_bytes
        self.cols = np.zeros(0, dtype=np.int64)  # global indices, in the order of the matrix
        self._store = None
        self._sorted = None  # (argsort of cols, sorted cols), kept until cols change

    @property
    def matrix(self):
        """The kept columns, in the order of :attr:`cols` (a view for dense columns)."""
        if self._store is None:
            return np.zeros((self.n_samples, 0), order="F")
        return self._store if sp.issparse(self._store) else self._store[:, :self.cols.size]

    def fits(self, n_cols):
        """Whether ``n_cols`` columns fit the budget."""
        return 8.0 * self.n_samples * n_cols <= self.max_bytes

    def bytes_per_column(self):
        """Bytes one more column costs to move: ``8 n`` dense, or 12 per stored entry
        of the columns kept so far (value and row index) when sparse."""
        if sp.issparse(self._store) and self.cols.size:
            return max(12.0 * self._store.nnz / self.cols.size, 12.0)
        return 8.0 * self.n_samples

    def _lookup(self, cols):
        """``(kept, at)``: which of ``cols`` are kept, and where they would be in the
        sorted kept columns (one binary search each; the sort is redone only when
        the kept columns change, not at every query of an outer iteration)."""
        if self._sorted is None:
            order = np.argsort(self.cols, kind="stable")
            self._sorted = (order, self.cols[order])
        order, ordered = self._sorted
        at = np.searchsorted(ordered, cols)
        kept = ordered[np.minimum(at, max(ordered.size - 1, 0))] == cols if ordered.size else (
            np.zeros(np.shape(cols), dtype=bool))
        return kept, at

    def kept(self, cols):
        """Boolean mask: which of ``cols`` are on the driver."""
        return self._lookup(cols)[0]

    def covers(self, cols):
        return bool(np.all(self.kept(cols)))

    def positions(self, cols):
        """Where the (kept) columns ``cols`` are in :attr:`matrix`."""
        at = self._lookup(cols)[1]
        return self._sorted[0][at] if at.size else np.zeros(0, dtype=np.int64)

    def missing(self, ws):
        """The columns of ``ws`` not on the driver yet (sorted), making room for them."""
        ws = np.unique(ws)
        new = ws[~self.kept(ws)]
        if new.size and not self.fits(self.cols.size + new.size):
            keep = np.flatnonzero(np.isin(self.cols, ws))
            if sp.issparse(self._store):
                self._store = self._store[:, keep]
            elif self._store is not None:
                self._store[:, :keep.size] = self._store[:, keep]
            self.cols = self.cols[keep]
            self._sorted = None
        return new

    def add(self, cols, matrix):
        """Append the columns ``cols`` (``matrix``: ``n x len(cols)``, dense or sparse)."""
        cols = np.asarray(cols, dtype=np.int64)
        if sp.issparse(matrix):
            matrix = sp.csc_matrix(matrix, dtype=np.float64)
            self._store = matrix if self._store is None else sp.hstack([self._store, matrix],
                                                                       format="csc")
        else:
            size, need = self.cols.size, self.cols.size + cols.size
            capacity = 0 if self._store is None else self._store.shape[1]
            if need > capacity:
                most = self.max_bytes / (8.0 * self.n_samples)
                grown = np.empty((self.n_samples, int(max(need, min(2 * capacity, most)))),
                                 order="F")
                if size:
                    grown[:, :size] = self._store[:, :size]
                self._store = grown
            self._store[:, size:need] = matrix
        self.cols = np.concatenate([self.cols, cols])
        self._sorted = None

    def design(self, cols):
        """``X[:, cols]`` (a Fortran-ordered dense copy, or CSC) from the kept columns."""
        part = self.matrix[:, self.positions(cols)]
        return sp.csc_matrix(part) if sp.issparse(part) else np.asfortranarray(part)


def local_state(design, y, sample_weight, datafit, a, b, positive, fit_intercept, solver, coef,
                intercept):
    """The working-set problem on the driver: ``(geometry, state)`` of the single-machine solver.

    ``design`` holds the working-set columns (all rows), ``a``/``b`` their penalty
    weights, ``coef``/``intercept`` the start point (intercept in the user's
    coordinates); ``solver`` is ``"cd"`` or ``"prox_newton"``.
    """
    problem = make_problem(design, y, sample_weight, datafit, fit_intercept)
    no_unpenalised = np.zeros(0, dtype=np.int64)
    geometry = SeparableGeometry(problem, datafit, a, b, positive, no_unpenalised)
    state = _make_state(solver, problem, datafit, a, b, positive, no_unpenalised, coef,
                        intercept)
    return geometry, state
