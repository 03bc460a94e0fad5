"""What runs on the workers: one function per operation on one row block.

Every function is pure (its result depends only on its arguments), so the
scheduler can recompute any result from its lineage after a worker dies, and
replaying a round gives bit-identical numbers. The heavy loops are the
single-machine Numba kernels of :mod:`sksafe.solvers._design` (dense and CSC),
applied to the block's rows; the driver only ever receives vectors of the size
of the unscreened set (or of the working set) and scalars.
"""
from dataclasses import dataclass, replace

import numpy as np
import scipy.sparse as sp

from ..solvers._design import add_columns, centred_sq_norms, xt_dot
from ..solvers._problem import kernel_design


@dataclass(frozen=True)
class RowBlock:
    """Rows of the design held by one worker.

    Attributes
    ----------
    index : int
        Position of the block (partial sums are added in this order).
    X : ndarray (Fortran) or tuple
        Kernel form of the rows (see :func:`sksafe.solvers._problem.kernel_design`).
    X_matrix : ndarray or scipy.sparse.csc_matrix
        The same rows for slicing.
    y : ndarray of float64
        The validated target rows.
    sample_weight : ndarray of float64
        Raw weights (ones without weights).
    s : ndarray of float64 or None
        Weights normalised by the global total (set by :func:`normalise_block`).
    """

    index: int
    X: object
    X_matrix: object
    y: np.ndarray
    sample_weight: np.ndarray
    s: np.ndarray = None

    @property
    def n_features(self):
        return self.X_matrix.shape[1]


def check_block_design(X, where):
    """A finite numeric block; integer dtypes are kept (genotypes: 1 byte per entry)."""
    if not sp.issparse(X):
        X = np.asarray(X)
    values = X.data if sp.issparse(X) else X
    if values.dtype.kind not in "fiub":
        raise ValueError(f"X must be numeric, got dtype {values.dtype} ({where}).")
    if values.dtype.kind == "b":
        return X.astype(np.uint8)
    if values.dtype.kind == "f" and not np.all(np.isfinite(values)):
        raise ValueError(f"X contains NaN or infinity ({where}).")
    return X


def prepare_block(X, y, sample_weight, datafit, index):
    """Validate one block and put it in kernel form (no densifying).

    Raises
    ------
    ValueError
        Non-finite values, negative weights or a target the datafit refuses,
        with the block's index in the message.
    """
    where = f"row block {index}"
    X = check_block_design(X, where)
    y = np.asarray(y)
    if y.ndim != 1:
        y = y.reshape(-1)
    if y.dtype.kind in "fc" and not np.all(np.isfinite(y)):
        raise ValueError(f"y contains NaN or infinity ({where}).")
    try:
        y = datafit.check_target(y)
    except ValueError as error:
        raise ValueError(f"{error} ({where})") from None
    if sample_weight is None:
        sample_weight = np.ones(y.shape[0])
    else:
        sample_weight = np.asarray(sample_weight, dtype=np.float64).reshape(-1)
        if not np.all(np.isfinite(sample_weight)) or np.any(sample_weight < 0):
            raise ValueError(f"sample_weight must be finite and non-negative ({where}).")
    kernel_X, matrix = kernel_design(X)
    return RowBlock(index=index, X=kernel_X, X_matrix=matrix, y=y, sample_weight=sample_weight)


def block_moments(block, samples=False, sq_norms=False, zero_point=None):
    """``(n_rows, sum sw, X^T sw, sum sw y, sq, zero)`` of the block (raw weights ``sw``).

    Without ``sq_norms`` (an intercept: the means are needed), ``X^T sw`` are the
    weighted column sums and ``sq`` is ``None``; with it (no intercept: no centring
    follows), ``X^T sw`` is ``None`` and ``sq`` are the final squared column norms
    ``sum_i sw_i x_ij^2``. ``zero`` holds the :func:`block_zero_point` sums of the
    datafit ``zero_point`` (``None`` without), and with ``samples`` the block's
    target, raw weights and :func:`column_entries` follow (for a driver that solves
    working sets).
    """
    sw = block.sample_weight
    cols = np.arange(block.n_features)
    col_sums = None
    if not sq_norms:
        col_sums = np.empty(block.n_features)
        xt_dot(block.X, sw, cols, col_sums)
    sq = None
    if sq_norms:
        sq = np.zeros(block.n_features)
        mass = float(sw.sum())
        if mass > 0:  # the kernel's CSC form expects weights summing to one
            centred_sq_norms(block.X, sw / mass, np.zeros(block.n_features), cols, sq)
            sq *= mass
    zero = None if zero_point is None else block_zero_point(block, zero_point)
    moments = (block.y.shape[0], float(sw.sum()), col_sums, float(sw @ block.y), sq, zero)
    return moments + (block.y, sw, column_entries(block.X_matrix)) if samples else moments


def column_entries(matrix):
    """Stored entries of each column of a sparse ``matrix`` (``None`` when dense)."""
    return np.diff(matrix.indptr).astype(np.int64) if sp.issparse(matrix) else None


def block_zero_point(block, datafit):
    """The dual point at ``w = 0`` of a fit without intercept, with the raw weights.

    Returns ``(X^T t, sum t, t^T y, sum t^2 / sw)`` with ``t = -grad F(0)`` computed
    with the raw weights ``sw``. The gradient is linear in the weights
    (``F = sum_i s_i f(y_i, z_i)``), so these sums divided by the total weight are
    those :func:`block_correlations` gives at that point once the weights are
    normalised: the point needs no global statistic, and its correlations come
    with the moments instead of a round of their own.
    """
    sw = block.sample_weight
    grad = np.empty(block.y.shape[0])
    datafit.raw_grad(np.zeros(block.y.shape[0]), block.y, sw, grad)
    theta = -grad
    corr = np.empty(block.n_features)
    xt_dot(block.X, theta, np.arange(block.n_features), corr)
    positive = sw > 0
    return (corr, float(theta.sum()), float(theta @ block.y),
            float(np.sum(theta[positive] ** 2 / sw[positive])))


def normalise_block(block, total_weight):
    """The block with ``s = sample_weight / total_weight`` (as the single-machine ``s``)."""
    return replace(block, s=block.sample_weight / total_weight)


def block_sq_norms(block, means):
    """Weighted squared column norms of the block: raw and centred at ``means``.

    ``sum_{i in block} s_i x_ij^2`` and ``sum_{i in block} s_i (x_ij - m_j)^2``,
    one pass each without cancellation; the kernel's CSC form expects weights
    summing to one, so it runs on the block-normalised weights and rescales.
    """
    p = block.n_features
    mass = block.s.sum()
    raw, centred = np.zeros(p), np.zeros(p)
    if mass > 0:
        s_local = block.s / mass
        cols = np.arange(p)
        centred_sq_norms(block.X, s_local, np.zeros(p), cols, raw)
        centred_sq_norms(block.X, s_local, means, cols, centred)
    return raw * mass, centred * mass


@dataclass(frozen=True)
class BlockPoint:
    """Linear predictor and ``theta = -grad F`` of one block at a primal point."""

    z: np.ndarray
    theta: np.ndarray
    target: np.ndarray


def block_point(block, datafit, cols, coefs, offset, y_offset):
    """``z = X[:, cols] coefs + offset`` on the block and ``theta = -grad F(z)``.

    ``y_offset`` is subtracted from the target (the centring of the
    least-squares datafit); ``offset`` is the intercept, or ``-x_mean^T w`` for
    implicitly centred columns.
    """
    z = np.full(block.y.shape[0], float(offset))
    add_columns(block.X, cols, coefs, z)
    target = block.y - y_offset if y_offset != 0.0 else block.y
    grad = np.empty_like(z)
    datafit.raw_grad(z, target, block.s, grad)
    return BlockPoint(z=z, theta=-grad, target=target)


def point_summary(block, point, datafit, hess=None):
    """Scalars of a point: loss, positive and negative mass of ``theta``, Hessian sum
    (``hess``: the second derivatives at the point when already computed)."""
    theta = point.theta
    if hess is None:
        hess = np.empty_like(point.z)
        datafit.raw_hessian(point.z, point.target, block.s, hess)
    positive = theta > 0.0
    return (float(datafit.value(point.z, point.target, block.s)), float(theta[positive].sum()),
            float(-theta[~positive].sum()), float(hess.sum()))


def _scaled_theta(point, factors):
    """``theta`` with its positive part times ``factors[0]`` and negative part times ``factors[1]``."""
    pos_factor, neg_factor = factors
    if pos_factor == 1.0 and neg_factor == 1.0:
        return point.theta
    return np.where(point.theta > 0.0, pos_factor * point.theta, neg_factor * point.theta)


def block_correlations(block, point, factors, cols):
    """``X[:, cols]^T theta`` on the block, ``sum(theta)``, ``theta^T y`` and ``sum theta^2 / s``.

    ``cols=None`` means every column. The last two give the least-squares dual in
    closed form for any scaling.
    """
    theta = _scaled_theta(point, factors)
    if cols is None:
        cols = np.arange(block.n_features)
    corr = np.empty(cols.shape[0])
    xt_dot(block.X, theta, cols, corr)
    s = block.s
    positive = s > 0
    return (corr, float(theta.sum()), float(theta @ point.target),
            float(np.sum(theta[positive] ** 2 / s[positive])))


def block_point_correlations(block, datafit, cols, coefs, offset, y_offset, factors, units,
                             fetch=None):
    """:func:`block_correlations` of the point :func:`block_point` computes, in one task,
    followed, when ``fetch`` names columns, by :func:`fetch_columns` of them.

    For a point whose per-block state no later round needs (the driver evaluates
    its loss and dual value itself): one task per block instead of two chained
    ones, whose hand-over through the scheduler costs about as much as the round.
    """
    point = block_point(block, datafit, cols, coefs, offset, y_offset)
    out = block_correlations(block, point, factors, units)
    return out if fetch is None else out + (fetch_columns(block, fetch),)


def block_dual_value(block, point, factors, kappa, datafit):
    """``-sum_{i in block} s_i f*(-kappa theta_i / s_i)``."""
    return float(datafit.dual_value(kappa * _scaled_theta(point, factors), point.target,
                                    block.s))


def _weighted_gram(block, rows, cols, weights):
    """``X[:, rows]^T diag(weights) X[:, cols]``: dense (BLAS), or CSR for sparse blocks.

    A sparse block's Gram is sparse too (two columns meet only on shared rows), and
    it travels to the driver as such: for 1 % dense columns it is a few times
    smaller than its dense form.
    """
    left = block.X_matrix[:, rows]
    right = block.X_matrix[:, cols]
    if sp.issparse(left):
        return sp.csr_matrix(left.T @ sp.diags(weights) @ right, dtype=np.float64)
    left = np.asarray(left, dtype=np.float64)
    return left.T @ (weights[:, None] * np.asarray(right, dtype=np.float64))


def block_gram(block, rows, cols):
    """Least-squares Gram rows ``X_rows^T S X_cols`` and ``X_rows^T S y`` of the block."""
    left = block.X_matrix[:, rows]
    target = block.s * block.y
    return _weighted_gram(block, rows, cols, block.s), np.asarray(left.T @ target).ravel()


def block_newton_model(block, point, datafit, ws, curvature_floor):
    """Second-order model of the datafit at a point, on the working set.

    Returns ``(H, X_ws^T h, sum h, X_ws^T g, sum g, X_ws^T theta_+, summary)`` with
    ``g`` the gradient, ``theta_+`` the positive part of ``theta = -g``, ``h`` the
    second derivatives (exact zeros raised to ``curvature_floor * s_i``, as the
    single-machine prox-Newton does) and ``summary`` the :func:`point_summary` of
    the point, all from one pass.
    """
    h = np.empty_like(point.z)
    datafit.raw_hessian(point.z, point.target, block.s, h)
    summary = point_summary(block, point, datafit, h)
    h = np.where(h > 0.0, h, curvature_floor * block.s)
    grad = -point.theta
    xh, xg, xpos = np.empty(ws.shape[0]), np.empty(ws.shape[0]), np.empty(ws.shape[0])
    xt_dot(block.X, h, ws, xh)
    xt_dot(block.X, grad, ws, xg)
    xt_dot(block.X, np.maximum(point.theta, 0.0), ws, xpos)
    return (_weighted_gram(block, ws, ws, h), xh, float(h.sum()), xg, float(grad.sum()), xpos,
            summary)


def block_line_search(block, point, datafit, cols, delta, delta_b, steps):
    """Loss and directional derivative along ``v = X[:, cols] delta + delta_b``.

    Returns ``(g^T v, [F_block(z + t v) for t in steps], [g(z + t v)^T v for t in
    steps])`` so that the driver runs a whole backtracking line search in one round.
    """
    direction = np.full(point.z.shape[0], float(delta_b))
    add_columns(block.X, cols, delta, direction)
    losses, slopes = np.empty(len(steps)), np.empty(len(steps))
    grad = np.empty_like(point.z)
    for k, t in enumerate(steps):
        trial = point.z + t * direction
        losses[k] = datafit.value(trial, point.target, block.s)
        datafit.raw_grad(trial, point.target, block.s, grad)
        slopes[k] = grad @ direction
    return float(-point.theta @ direction), losses, slopes


def fetch_columns(block, cols):
    """The block's entries of the columns ``cols`` (dense float64, or CSC), for the driver.

    A row block gives its rows of the working-set columns, a column block all rows
    of its own columns.
    """
    part = block.X_matrix[:, cols]
    if sp.issparse(part):
        return sp.csc_matrix(part, dtype=np.float64)
    return np.asarray(part, dtype=np.float64)


def dual_vector(point, factors, scale):
    """The rows of the dual point ``scale * theta`` of ``point`` (the dual point a fit
    hands back)."""
    return scale * _scaled_theta(point, factors)


def block_dual_vector(block, datafit, cols, coefs, offset, y_offset, factors, scale):
    """:func:`dual_vector` of the block's :func:`block_point`."""
    return dual_vector(block_point(block, datafit, cols, coefs, offset, y_offset), factors,
                       scale)
