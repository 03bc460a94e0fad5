"""The working-set problem solved on the driver, from working-set columns fetched once.

Both layouts can move the columns ``X[:, W]`` of the working set to the driver
(each new column once per fit, as stored: dense or sparse) and solve the working-set
problem there with the single-machine solver states of
:mod:`sksafe.solvers._states`. Compared with a distributed inner solver this
trades the new columns of each outer iteration for all the rounds of the
inner iterations (one per proximal Newton step, plus the ``|W|^2`` Gram of each
Newton model); the duality gap of the whole problem, the Gap Safe screening
and the final certificate stay reductions over the blocks.

The columns kept on the driver are bounded by a byte budget (``central_max_bytes``
of :func:`sksafe.distributed.solve_distributed`), never more than
:data:`WORKER_MEMORY_FRACTION` of the smallest worker memory limit: the driver
is assumed to be a machine like the workers. Columns are counted as they are
stored on the driver: ``8 n`` bytes a dense column, 12 bytes per stored entry
(value and row index) plus 8 for its pointer a sparse one, from the per-column
entry counts the blocks report at set-up. Above the budget the row layout falls
back to its distributed inner solver, the column layout to ProxCoCoA+. (Counting
sparse columns as dense sent a 1 %-dense 20 000 x 200 000 logistic fit, whose
working sets reach 15 000 columns, 36 MB stored, 2.4 GB dense, to the fallback:
130 s instead of 2 s.)
"""
from dataclasses import replace

import numpy as np
import scipy.sparse as sp

from ..screening.gap_safe import SeparableGeometry
from ..solvers._problem import kernel_design, make_problem, with_columns
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
    no copy), sparse ones in the growing ``data``/``indices``/``indptr`` buffers
    of one CSC matrix (appending copies the new entries only, never the kept
    ones). Where each feature is kept is a lookup table of ``n_features``
    positions, so the membership tests of every outer iteration cost
    ``O(|W|)``, not a search.

    Parameters
    ----------
    n_samples, n_features : int
    max_bytes : float
        Budget of the kept columns, in bytes (see :meth:`bytes_of`): columns
        outside the current working set are dropped when a new one would not fit.
    column_entries : ndarray of int of shape (n_features,), default=None
        Stored entries of each column of sparse data (summed over the blocks);
        ``None`` for dense data.
    """

    def __init__(self, n_samples, n_features, max_bytes=np.inf, column_entries=None):
        self.n_samples, self.n_features = n_samples, n_features
        self.max_bytes = max_bytes
        self.column_entries = column_entries
        self.cols = np.zeros(0, dtype=np.int64)  # global indices, in the order of the matrix
        self._at = np.full(n_features, -1, dtype=np.int64)  # position of each kept feature
        self._dense = None  # (n, capacity) Fortran array
        self._sparse = None  # [data, indices, indptr] buffers of the CSC store
        self._nnz = 0
        self._sorted = True  # every stored column has its row indices sorted
        self._kernel = None  # (kernel form, matrix) of the kept columns, until they change
        self._problem = None  # see :meth:`problem`
        self._version = 0  # bumped when kept columns are dropped (positions change)

    @property
    def is_sparse(self):
        return self._sparse is not None

    @property
    def matrix(self):
        """The kept columns, in the order of :attr:`cols` (a view: dense, or CSC
        over the store's buffers)."""
        return self.kernel()[1]

    def kernel(self):
        """``(kernel form, matrix)`` of the kept columns (see
        :func:`sksafe.solvers._problem.kernel_design`), cached until they change."""
        if self._kernel is None:
            self._kernel = kernel_design(self._slice(0, self.cols.size))
        return self._kernel

    def _slice(self, start, stop):
        """Kept columns ``start:stop`` as a matrix viewing the store (no copy)."""
        if self._sparse is None:
            if self._dense is None:
                return np.zeros((self.n_samples, 0), order="F")
            return self._dense[:, start:stop]
        data, indices, indptr = self._sparse
        first, last = indptr[start], indptr[stop]
        part = sp.csc_matrix((data[first:last], indices[first:last],
                              indptr[start:stop + 1] - first),
                             shape=(self.n_samples, stop - start), copy=False)
        if self._sorted:
            part.has_sorted_indices = True  # known: no O(nnz) check
        return part

    def bytes_of(self, cols):
        """Bytes each of the columns ``cols`` takes on the driver: ``8 n`` when dense, 12
        per stored entry and 8 for its pointer when sparse."""
        if self.column_entries is None:
            return np.full(len(cols), 8.0 * self.n_samples)
        return 12.0 * self.column_entries[cols] + 8.0

    def fits(self, cols):
        """Whether the columns ``cols`` (a working set) fit the budget together."""
        return float(self.bytes_of(cols).sum()) <= self.max_bytes

    def room(self):
        """Bytes of the budget the kept columns leave."""
        return self.max_bytes - float(self.bytes_of(self.cols).sum())

    def entries_per_column(self):
        """Stored entries of a column: ``n`` dense, the mean of the kept ones when sparse."""
        if self._sparse is not None and self.cols.size:
            return max(self._nnz / self.cols.size, 1.0)
        return float(self.n_samples)

    def kept(self, cols):
        """Boolean mask: which of ``cols`` are on the driver."""
        return self._at[cols] >= 0

    def covers(self, cols):
        return bool(np.all(self.kept(cols)))

    def positions(self, cols):
        """Where the (kept) columns ``cols`` are in :attr:`matrix`."""
        return self._at[cols]

    def missing(self, ws):
        """The columns of ``ws`` not on the driver yet (sorted), making room for them."""
        ws = np.asarray(ws, dtype=np.int64)
        if np.any(ws[1:] <= ws[:-1]):  # a working set is sorted: no O(|W|) hashing then
            ws = np.unique(ws)
        new = ws[~self.kept(ws)]
        if new.size and float(self.bytes_of(new).sum()) > self.room():
            keep = np.sort(self.positions(ws[self.kept(ws)]))
            if self._sparse is not None:
                matrix = self.matrix[:, keep]
                self._sparse, self._nnz = None, 0
                self._append_sparse(matrix, 0, keep.size)
            elif self._dense is not None:
                self._dense[:, :keep.size] = self._dense[:, keep]
            self._set_cols(self.cols[keep])
            self._version += 1
        return new

    def add(self, cols, matrix):
        """Append the columns ``cols`` (``matrix``: ``n x len(cols)``, dense or sparse)."""
        self.add_rows(cols, [matrix])

    def add_rows(self, cols, parts):
        """Append the columns ``cols`` from their rows in blocks: ``parts`` are the
        ``n_k x len(cols)`` pieces of consecutive row blocks, in row order (all dense
        or all sparse): dense ones are written straight into the store, sparse ones
        stacked and appended to its buffers."""
        cols = np.asarray(cols, dtype=np.int64)
        self._append(parts, self.cols.size, cols.size)
        self._set_cols(np.concatenate([self.cols, cols]))

    def _set_cols(self, cols):
        self._at[self.cols] = -1
        self.cols = cols
        self._at[cols] = np.arange(cols.size)
        self._kernel = None

    def _append(self, parts, size, n_new):
        if sp.issparse(parts[0]):
            # the row pieces of each column one after the other: SciPy's compiled stacking
            block = parts[0] if len(parts) == 1 else sp.vstack(parts, format="csc")
            self._append_sparse(sp.csc_matrix(block, dtype=np.float64), size, n_new)
            return
        need = size + n_new
        capacity = 0 if self._dense is None else self._dense.shape[1]
        if need > capacity:
            most = self.max_bytes / (8.0 * self.n_samples)
            grown = np.empty((self.n_samples, int(max(need, min(2 * capacity, most)))),
                             order="F")
            if size:
                grown[:, :size] = self._dense[:, :size]
            self._dense = grown
        row = 0
        for part in parts:
            self._dense[row:row + part.shape[0], size:need] = part
            row += part.shape[0]

    def _append_sparse(self, block, size, n_new):
        """Copy the entries of the CSC ``block`` (``n_new`` columns) after the first
        ``size`` kept columns."""
        start = self._nnz
        total = start + block.nnz
        self._reserve(total, size, size + n_new)
        data, indices, indptr = self._sparse
        first = block.indptr[0]
        data[start:total] = block.data[first:first + block.nnz]
        indices[start:total] = block.indices[first:first + block.nnz]
        indptr[size + 1:size + n_new + 1] = start + (block.indptr[1:] - first)
        self._sorted &= bool(block.has_sorted_indices)
        self._nnz = total

    def _reserve(self, nnz, size, n_cols):
        """Room in the sparse buffers for ``nnz`` entries and ``n_cols`` columns, the
        first ``size`` of them kept (capacities double, only the kept part is copied;
        64-bit indices only past what 32 bits hold)."""
        index = np.int32 if max(nnz, self.n_samples) < np.iinfo(np.int32).max else np.int64
        if self._sparse is None:
            self._sparse = [np.empty(0), np.empty(0, dtype=index), np.zeros(1, dtype=index)]
        data, indices, indptr = self._sparse
        if data.size < nnz or indices.dtype != index:
            most = self.max_bytes / 12.0  # as the dense store: no capacity past the budget
            data = _grown(data, self._nnz, int(max(nnz, min(2 * data.size, most))), data.dtype)
            indices = _grown(indices, self._nnz, data.size, index)
        if indptr.size < n_cols + 1 or indptr.dtype != index:
            indptr = _grown(indptr, size + 1, max(n_cols + 1, 2 * indptr.size), index)
        self._sparse = [data, indices, indptr]

    def design(self, cols):
        """``X[:, cols]`` (a Fortran-ordered dense copy, or CSC) from the kept columns."""
        part = self.matrix[:, self.positions(cols)]
        return sp.csc_matrix(part) if sp.issparse(part) else np.asfortranarray(part)

    def problem(self, y, sample_weight, datafit, fit_intercept, cols=None):
        """:func:`~sksafe.solvers._problem.make_problem` on every kept column, or on
        the kept columns ``cols`` (:meth:`design`, in that order), whose per-column
        statistics (means, norms) are computed once per column: only for the
        columns added since the last call (the target, the weights, the datafit and
        ``fit_intercept`` must be those of the last call)."""
        m = self.cols.size
        cached = self._problem
        if cached is None or cached[0] != self._version:
            base = make_problem(self._slice(0, m), y, sample_weight, datafit, fit_intercept)
        else:
            base = cached[2]
            if cached[1] < m:
                new = make_problem(self._slice(cached[1], m), y, sample_weight, datafit,
                                   fit_intercept)
                base = with_columns(base, lambda name: np.concatenate(
                    [getattr(base, name), getattr(new, name)]))
        self._problem = (self._version, m, base)
        if cols is None:
            kernel_X, matrix = self.kernel()
        else:
            at = self.positions(cols)
            base = with_columns(base, lambda name: getattr(base, name)[at])
            kernel_X, matrix = kernel_design(self.design(cols))
        # a fresh cache: what it memoises (correlations) belongs to these columns only
        return replace(base, X=kernel_X, X_matrix=matrix, cache={})


def _grown(buffer, used, size, dtype):
    """A buffer of ``size`` entries starting with the first ``used`` of ``buffer``
    (the rest left uninitialised: fresh memory is only touched where written)."""
    out = np.empty(size, dtype=dtype)
    out[:used] = buffer[:used]
    return out


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
    return geometry, state_on(problem, datafit, a, b, positive, solver, coef, intercept)


def state_on(problem, datafit, a, b, positive, solver, coef, intercept):
    """The single-machine solver state on a built ``problem`` (arguments as
    :func:`local_state`), every feature penalised."""
    return _make_state(solver, problem, datafit, a, b, positive, np.zeros(0, dtype=np.int64),
                       coef, intercept)
