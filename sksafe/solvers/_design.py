"""Column access to a design matrix, one implementation for dense and CSC input.

Every jitted kernel of sksafe receives the design ``X`` either as a 2-D
Fortran-ordered ``ndarray`` or as the CSC triplet ``(data, indices, indptr)``.
The functions below are typed at compile time through ``numba.extending.overload``:
the kernel that calls them is written once and Numba specialises it for each
storage, so dense and sparse data share every line of solver logic.
"""
import numpy as np
from numba import njit, types
from numba.extending import overload

#: fast-math flags for reductions: reassociation lets LLVM vectorise dot
#: products; no flag assumes finiteness, so inf/nan checks keep working.
FASTMATH = {"reassoc", "contract", "nsz", "arcp"}
#: the flags of every accessor below, pinned: Numba caches an overload's compiled code
#: per signature, with the flags of whichever caller compiled it first, so a plain
#: ``@njit`` caller (a test, a user's kernel) made the dense ``col_dot`` of every later
#: fastmath kernel scalar and the wheat Lasso path 1.6x slower (measured). The CSC
#: gathers escape fastmath in functions of their own (see :func:`_gather_dot`).
_OVERLOAD_OPTIONS = {"cache": True, "fastmath": FASTMATH}


def col_dot(X, j, v):
    """Return ``sum_i X[i, j] * v[i]``."""
    raise NotImplementedError("only callable from jitted code")


def col_axpy(X, j, a, v):
    """``v += a * X[:, j]``."""
    raise NotImplementedError("only callable from jitted code")


def col_axpy_scaled(X, j, a, s, v):
    """``v += a * s * X[:, j]`` (``s`` a vector of row scales)."""
    raise NotImplementedError("only callable from jitted code")


def _is_dense(X):
    return isinstance(X, types.Array)


@overload(col_dot, jit_options=_OVERLOAD_OPTIONS)
def _ol_col_dot(X, j, v):
    if _is_dense(X):
        def impl(X, j, v):
            acc = 0.0
            for i in range(X.shape[0]):
                acc += X[i, j] * v[i]
            return acc
    else:
        def impl(X, j, v):
            data, indices, indptr = X
            return _gather_dot(data, indices, *column_bounds(indptr, j), v)
    return impl


@njit(inline="always")
def column_bounds(indptr, j):
    """``(start, stop)`` of CSC column ``j`` as 64-bit integers.

    scipy stores ``indptr`` as int32 for most matrices; loops bounded by int32 values
    measured 1.4-2x slower (the gather and scatter loops of one epoch, reuters).
    Inlined into the caller (Numba does not inline one compiled function into
    another, and a call per column costs as much as a short column).
    """
    return np.int64(indptr[j]), np.int64(indptr[j + 1])


@njit(cache=True)
def _gather_dot(data, indices, start, stop, v):
    """``sum_k data[k] * v[indices[k]]`` over ``start <= k < stop``.

    Four independent running sums, without fastmath: one sum makes every gathered
    product wait for the previous addition (1.4 ns per stored entry on the reuters
    working sets, against 0.94 ns like this), and fastmath lets LLVM turn the loop
    into vector gathers, slower still on AMD Zen (about 2.2 ns, in a CD epoch).
    """
    acc0 = acc1 = acc2 = acc3 = 0.0
    k = start
    while k + 3 < stop:
        acc0 += data[k] * v[indices[k]]
        acc1 += data[k + 1] * v[indices[k + 1]]
        acc2 += data[k + 2] * v[indices[k + 2]]
        acc3 += data[k + 3] * v[indices[k + 3]]
        k += 4
    while k < stop:
        acc0 += data[k] * v[indices[k]]
        k += 1
    return (acc0 + acc1) + (acc2 + acc3)


@overload(col_axpy, jit_options=_OVERLOAD_OPTIONS)
def _ol_col_axpy(X, j, a, v):
    if _is_dense(X):
        def impl(X, j, a, v):
            for i in range(X.shape[0]):
                v[i] += a * X[i, j]
    else:
        def impl(X, j, a, v):
            data, indices, indptr = X
            for k in range(*column_bounds(indptr, j)):
                v[indices[k]] += a * data[k]
    return impl


@overload(col_axpy_scaled, jit_options=_OVERLOAD_OPTIONS)
def _ol_col_axpy_scaled(X, j, a, s, v):
    if _is_dense(X):
        def impl(X, j, a, s, v):
            for i in range(X.shape[0]):
                v[i] += a * s[i] * X[i, j]
    else:
        def impl(X, j, a, s, v):
            data, indices, indptr = X
            for k in range(*column_bounds(indptr, j)):
                i = indices[k]
                v[i] += a * s[i] * data[k]
    return impl


def xt_dot(X, v, cols, out):
    """``out[k] = X[:, cols[k]] @ v`` for every listed column (called from Python)."""
    if isinstance(X, tuple):
        _csc_xt_dot(*X, v, cols, out)
    else:
        _dense_xt_dot(X, v, cols, out)


@njit(cache=True, fastmath=FASTMATH)
def _dense_xt_dot(X, v, cols, out):
    for k in range(cols.shape[0]):
        out[k] = col_dot(X, cols[k], v)


_inlined_gather_dot = njit(inline="always")(_gather_dot.py_func)


@njit(cache=True)
def _csc_xt_dot(data, indices, indptr, v, cols, out):
    # the gather inlined, without fastmath (see _gather_dot): a pass over the columns of
    # reuters (8315 columns, 41 entries each on average) measured 0.6 ms through col_dot,
    # one call per column, and 0.35-0.45 ms like this
    for k in range(cols.shape[0]):
        start, stop = column_bounds(indptr, cols[k])
        out[k] = _inlined_gather_dot(data, indices, start, stop, v)


@njit(cache=True)
def add_columns(X, cols, coefs, out):
    """``out += X[:, cols] @ coefs`` (zero coefficients cost nothing)."""
    for k in range(cols.shape[0]):
        if coefs[k] != 0.0:
            col_axpy(X, cols[k], coefs[k], out)

def col_centred_sq_norm(X, j, s, m):
    """Return ``sum_i s_i (X[i, j] - m) ** 2`` in one pass (no cancellation)."""
    raise NotImplementedError("only callable from jitted code")


@overload(col_centred_sq_norm, jit_options=_OVERLOAD_OPTIONS)
def _ol_col_centred_sq_norm(X, j, s, m):
    if _is_dense(X):
        def impl(X, j, s, m):
            acc = 0.0
            for i in range(X.shape[0]):
                d = X[i, j] - m
                acc += s[i] * d * d
            return acc
    else:
        def impl(X, j, s, m):
            # implicit zeros contribute s_i m**2: add m**2 sum(s) once and correct the stored rows
            data, indices, indptr = X
            acc, s_stored = _gather_centred_sq_sum(data, indices, *column_bounds(indptr, j), s, m)
            s_rest = max(1.0 - s_stored, 0.0)  # s sums to one
            return acc + s_rest * m * m
    return impl


@njit(cache=True)
def _gather_centred_sq_sum(data, indices, start, stop, s, m):
    """``(sum_k s_i (data[k] - m) ** 2, sum_k s_i)`` with ``i = indices[k]``, ``start <= k < stop``.

    Two independent pairs of running sums, without fastmath (see :func:`_gather_dot`).
    """
    acc0 = acc1 = s0 = s1 = 0.0
    k = start
    while k + 1 < stop:
        i0, i1 = indices[k], indices[k + 1]
        d0, d1 = data[k] - m, data[k + 1] - m
        acc0 += s[i0] * d0 * d0
        acc1 += s[i1] * d1 * d1
        s0 += s[i0]
        s1 += s[i1]
        k += 2
    if k < stop:
        i0 = indices[k]
        d0 = data[k] - m
        acc0 += s[i0] * d0 * d0
        s0 += s[i0]
    return acc0 + acc1, s0 + s1


@njit(cache=True, fastmath=FASTMATH)
def centred_sq_norms(X, s, means, cols, out):
    """``out[k] = sum_i s_i (X[i, j] - means[j]) ** 2`` for ``j = cols[k]`` (``s`` sums to one)."""
    for k in range(cols.shape[0]):
        j = cols[k]
        out[k] = col_centred_sq_norm(X, j, s, means[j])


def col_dot_rows(X, j, R, out):
    """``out[t] = sum_i X[i, j] * R[i, t]`` for ``R`` of shape (n, T), C- or F-ordered."""
    raise NotImplementedError("only callable from jitted code")


def col_axpy_rows_scaled(X, j, coefs, s, R):
    """``R[i, t] += coefs[t] * s[i] * X[i, j]`` for ``R`` of shape (n, T), C- or F-ordered."""
    raise NotImplementedError("only callable from jitted code")


@overload(col_dot_rows, jit_options=_OVERLOAD_OPTIONS)
def _ol_col_dot_rows(X, j, R, out):
    if R.layout == "F":
        # contiguous task columns: one vectorised column dot per task (3x faster than
        # the row-major loop for 5 tasks and 85 samples)
        def impl(X, j, R, out):
            for t in range(R.shape[1]):
                out[t] = col_dot(X, j, R[:, t])
        return impl
    # one task is the common case (group lasso): a 1-D contiguous view lets LLVM vectorise
    if _is_dense(X):
        def impl(X, j, R, out):
            T = R.shape[1]
            if T == 1:
                out[0] = col_dot(X, j, R.reshape(R.shape[0]))
                return
            out[:] = 0.0
            for i in range(X.shape[0]):
                x = X[i, j]
                for t in range(T):
                    out[t] += x * R[i, t]
    else:
        def impl(X, j, R, out):
            data, indices, indptr = X
            T = R.shape[1]
            if T == 1:
                out[0] = col_dot(X, j, R.reshape(R.shape[0]))
                return
            out[:] = 0.0
            for k in range(*column_bounds(indptr, j)):
                x = data[k]
                i = indices[k]
                for t in range(T):
                    out[t] += x * R[i, t]
    return impl


@overload(col_axpy_rows_scaled, jit_options=_OVERLOAD_OPTIONS)
def _ol_col_axpy_rows_scaled(X, j, coefs, s, R):
    if R.layout == "F":
        def impl(X, j, coefs, s, R):
            for t in range(R.shape[1]):
                col_axpy_scaled(X, j, coefs[t], s, R[:, t])
        return impl
    if _is_dense(X):
        def impl(X, j, coefs, s, R):
            T = R.shape[1]
            if T == 1:
                col_axpy_scaled(X, j, coefs[0], s, R.reshape(R.shape[0]))
                return
            for i in range(X.shape[0]):
                x = s[i] * X[i, j]
                for t in range(T):
                    R[i, t] += coefs[t] * x
    else:
        def impl(X, j, coefs, s, R):
            data, indices, indptr = X
            T = R.shape[1]
            if T == 1:
                col_axpy_scaled(X, j, coefs[0], s, R.reshape(R.shape[0]))
                return
            for k in range(*column_bounds(indptr, j)):
                i = indices[k]
                x = s[i] * data[k]
                for t in range(T):
                    R[i, t] += coefs[t] * x
    return impl


def col_pair_dot(X, j, k, s):
    """Return ``sum_i s_i X[i, j] X[i, k]``."""
    raise NotImplementedError("only callable from jitted code")


@overload(col_pair_dot, jit_options=_OVERLOAD_OPTIONS)
def _ol_col_pair_dot(X, j, k, s):
    if _is_dense(X):
        def impl(X, j, k, s):
            acc = 0.0
            for i in range(X.shape[0]):
                acc += s[i] * X[i, j] * X[i, k]
            return acc
    else:
        def impl(X, j, k, s):
            # both index lists are sorted: one merge pass
            data, indices, indptr = X
            p, p_end = column_bounds(indptr, j)
            q, q_end = column_bounds(indptr, k)
            acc = 0.0
            while p < p_end and q < q_end:
                ip, iq = indices[p], indices[q]
                if ip == iq:
                    acc += s[ip] * data[p] * data[q]
                    p += 1
                    q += 1
                elif ip < iq:
                    p += 1
                else:
                    q += 1
            return acc
    return impl


@njit(cache=True)
def _row_counts(indices, indptr, cols, n_rows):
    """Entries of each row among the columns ``cols`` of a CSC matrix."""
    counts = np.zeros(n_rows, dtype=np.int64)
    for k in range(cols.shape[0]):
        j = cols[k]
        for q in range(indptr[j], indptr[j + 1]):
            counts[indices[q]] += 1
    return counts


@njit(cache=True)
def _csc_rows(data, indices, indptr, cols, n_rows):
    """The entries of ``X[:, cols]`` grouped by row (a transposition): ``(start,
    position, value)``, row ``i``'s entries at ``start[i]:start[i + 1]``, each with the
    position of its column in ``cols``."""
    start = np.zeros(n_rows + 1, dtype=np.int64)
    start[1:] = np.cumsum(_row_counts(indices, indptr, cols, n_rows))
    position = np.empty(start[n_rows], dtype=np.int64)
    value = np.empty(start[n_rows])
    fill = start[:n_rows].copy()
    for k in range(cols.shape[0]):
        j = cols[k]
        for q in range(indptr[j], indptr[j + 1]):
            t = fill[indices[q]]
            position[t] = k
            value[t] = data[q]
            fill[indices[q]] = t + 1
    return start, position, value


@njit(cache=True)
def csc_weighted_gram(data, indices, indptr, cols, weights, n_rows):
    """``X[:, cols]^T diag(weights) X[:, cols]`` (dense) for CSC ``X``.

    Row by row: each row adds the products of its own entries, ``r_i (r_i + 1) / 2``
    of them for ``r_i`` entries among ``cols`` (:func:`csc_row_pairs`), so the cost
    follows the sparsity of the rows. scipy's sparse product computes the same sum
    through a sparse intermediate, about 4.5x slower (reuters, 120-328 columns:
    3.2 -> 0.76 ms and 6.9 -> 1.6 ms).
    """
    start, position, value = _csc_rows(data, indices, indptr, cols, n_rows)
    m = cols.shape[0]
    gram = np.zeros((m, m))
    for i in range(n_rows):
        weight = weights[i]
        if weight == 0.0:
            continue
        for t in range(start[i], start[i + 1]):
            a = position[t]
            weighted = weight * value[t]
            for u in range(t, start[i + 1]):
                gram[a, position[u]] += weighted * value[u]
    for a in range(m):  # each pair went to one triangle or the other
        for b in range(a + 1, m):
            total = gram[a, b] + gram[b, a]
            gram[a, b] = total
            gram[b, a] = total
    return gram


@njit(cache=True)
def csc_row_pairs(indices, indptr, cols, n_rows):
    """``sum_i r_i (r_i + 1) / 2`` with ``r_i`` the entries of row ``i`` among ``cols``:
    the products :func:`csc_weighted_gram` computes (``O(nnz)`` to count)."""
    counts = _row_counts(indices, indptr, cols, n_rows)
    pairs = 0
    for i in range(n_rows):
        pairs += counts[i] * (counts[i] + 1) // 2
    return pairs
