"""Jitted kernels of the block (group / multi-task) solver, dense and CSC through :mod:`._design`."""
import numpy as np
from numba import njit

from ..penalties._group_kernels import (block_dual_norms, block_dual_scaling, block_penalty_value,
                                        block_prox, unit_rows)
from ._design import FASTMATH, col_axpy_rows_scaled, col_dot_rows, col_pair_dot
from ._kernels import anderson_step, combine_rows, extrapolation_weights

@njit(cache=True, fastmath=FASTMATH)
def block_correlations(X, theta, x_offset, theta_sums, group_ptr, group_rows, live_rows, units,
                       out):
    """Correlations ``X_c[:, rows]^T theta`` of the rows of ``units``, stacked in ``out``.

    ``theta`` has shape ``(n, T)``; ``x_offset`` implements implicit centring (the
    column offsets times ``theta_sums[t] = sum_i theta[i, t]``). Rows of screened
    features (``live_rows[j]`` false) are set to 0: they are provably zero and left
    out of the reduced dual. Returns the unit pointer into ``out``.
    """
    ptr = np.empty(units.shape[0] + 1, dtype=np.int64)
    ptr[0] = 0
    T = theta.shape[1]
    buf = np.empty(T)
    pos = 0
    for k in range(units.shape[0]):
        g = units[k]
        for q in range(group_ptr[g], group_ptr[g + 1]):
            j = group_rows[q]
            if live_rows[j]:
                col_dot_rows(X, j, theta, buf)
                for t in range(T):
                    out[pos, t] = buf[t] - x_offset[j] * theta_sums[t]
            else:
                out[pos, :] = 0.0
            pos += 1
        ptr[k + 1] = pos
    return ptr



@njit(cache=True, fastmath=FASTMATH)
def group_grams(X, s, means, group_ptr, group_rows, out):
    """Stack ``X_c,g^T diag(s) X_c,g`` of every group into ``out[group_ptr[g]:, :size_g]``.

    ``X_c`` is ``X`` with the columns centred at ``means`` (implicitly: the weights sum
    to one, so ``sum_i s_i (x_ij - m_j)(x_ik - m_k) = sum_i s_i x_ij x_ik - m_j m_k``).
    """
    for g in range(group_ptr.shape[0] - 1):
        start = group_ptr[g]
        size = group_ptr[g + 1] - start
        for p in range(size):
            j = group_rows[start + p]
            for q in range(p + 1):
                k = group_rows[start + q]
                value = col_pair_dot(X, j, k, s) - means[j] * means[k]
                out[start + p, q] = value
                out[start + q, p] = value


@njit(cache=True, fastmath=FASTMATH)
def _residual_objective(rho, s, Y):
    """``(sum_i ||rho_i||^2 / s_i, sum_{i,t} rho_it Y_it)`` over samples with ``s_i > 0``."""
    quad = 0.0
    lin = 0.0
    for i in range(rho.shape[0]):
        if s[i] > 0.0:
            for t in range(rho.shape[1]):
                quad += rho[i, t] * rho[i, t] / s[i]
                lin += rho[i, t] * Y[i, t]
    return quad, lin


@njit(cache=True, fastmath=FASTMATH)
def _subproblem_dual(X, Y, s, x_offset, rho, group_ptr, group_rows, live_rows, ws, rows_ws, a, c,
                     b, positive, corr, dnorm, row_max):
    """Dual objective of the working-set subproblem at ``kappa * rho`` (feasible scaling)."""
    T = rho.shape[1]
    sums = np.zeros(T)
    for i in range(rho.shape[0]):
        for t in range(T):
            sums[t] += rho[i, t]
    quad, lin = _residual_objective(rho, s, Y)
    ptr = block_correlations(X, rho, x_offset, sums, group_ptr, group_rows, live_rows, ws, corr)
    kappa = block_dual_scaling(corr, ptr, rows_ws, ws, a, c, b, positive)
    conj = block_dual_norms(corr, ptr, rows_ws, ws, a, c, b, kappa, positive, dnorm, row_max)
    return kappa * lin - 0.5 * kappa * kappa * quad - conj


@njit(cache=True, fastmath=FASTMATH)
def _try_extrapolated(X, Y, s, x_offset, group_ptr, group_rows, c, a, b, positive, ws, rows_ws, W,
                      R, shift, W_acc):
    """Move to ``W_acc`` (rows ``rows_ws``, flattened) if it lowers the objective.

    The residual of the extrapolated point is updated from the current one, in
    ``O(n T + nnz(ws))``; returns whether the point was taken. With ``positive`` the
    point is first projected onto ``W >= 0`` (an affine combination can leave it).
    """
    n, T = R.shape
    if positive:
        for e in range(W_acc.shape[0]):
            W_acc[e] = max(W_acc[e], 0.0)
    rho = np.empty_like(R)  # same layout as R: the column kernels are typed on it
    for i in range(n):
        for t in range(T):
            rho[i, t] = R[i, t] + s[i] * shift[t]
    quad, _ = _residual_objective(rho, s, Y)
    current = 0.5 * quad + block_penalty_value(W, ws, group_ptr, group_rows, a, c, b)
    R_acc = np.empty_like(R)
    R_acc[:, :] = R
    shift_acc = shift.copy()
    W_old = np.empty((rows_ws.shape[0], T))
    delta = np.empty(T)
    for r in range(rows_ws.shape[0]):
        j = rows_ws[r]
        moved = False
        for t in range(T):
            W_old[r, t] = W[j, t]
            delta[t] = W[j, t] - W_acc[r * T + t]
            if delta[t] != 0.0:
                moved = True
            W[j, t] = W_acc[r * T + t]
        if moved:
            col_axpy_rows_scaled(X, j, delta, s, R_acc)
            for t in range(T):
                shift_acc[t] -= x_offset[j] * delta[t]
    for i in range(n):
        for t in range(T):
            rho[i, t] = R_acc[i, t] + s[i] * shift_acc[t]
    quad, _ = _residual_objective(rho, s, Y)
    if 0.5 * quad + block_penalty_value(W, ws, group_ptr, group_rows, a, c, b) < current:
        R[:, :] = R_acc
        shift[:] = shift_acc
        return True
    for r in range(rows_ws.shape[0]):
        for t in range(T):
            W[rows_ws[r], t] = W_old[r, t]
    return False


@njit(cache=True, fastmath=FASTMATH)
def block_cd_working_set(X, Y, s, x_offset, lipschitz, group_ptr, group_rows, c, a, b, positive,
                         live_rows, ws, W, R, shift, max_epochs, tol, gap_freq, n_extrapolation,
                         theta_best):
    """Cyclic block coordinate descent on the groups ``ws`` for the (multi-task) quadratic.

    Minimises ``sum_i s_i ||y_i - W^T x_c,i||^2 / 2 + sum_{g in ws} Omega_g(W_g)`` with
    implicit centring ``x_c = x - x_offset`` (over ``W >= 0`` with ``positive``). State: ``R = s * (Y - X W)`` (shape
    ``(n, T)``; Fortran order makes each task's column contiguous, for vectorised column
    kernels) and ``shift[t] = x_offset^T W[:, t]``, so that the weighted
    centred residual is ``rho = R + s shift``. Each group takes the proximal gradient
    step of length ``1 / lipschitz[g]`` (the largest eigenvalue of the group's weighted
    centred Gram matrix, so the step is exact coordinate minimisation for singleton
    groups: scikit-learn's multi-task solver; Qin, Scheinberg & Goldfarb, 2013, for
    groups). Every epoch feeds Anderson extrapolation of the iterate (the
    extrapolated point is kept only if it lowers the objective; Bertrand & Massias,
    AISTATS 2021, as skglm's group solver does). Every ``gap_freq`` epochs the duality
    gap of the subproblem is evaluated at the best of ``rho`` and its extrapolation
    from the previous residuals, and the loop stops once it is ``<= tol``; the best dual
    point (unscaled) is written into ``theta_best``. Rows with ``live_rows[j]`` false
    are screened: fixed at zero. Returns ``(epochs, gap)``.
    """
    n, T = R.shape
    max_size = 0
    for k in range(ws.shape[0]):
        g = ws[k]
        max_size = max(max_size, group_ptr[g + 1] - group_ptr[g])
    U = np.empty((max_size, T))
    grad = np.empty(T)
    delta = np.empty(T)
    rows_ws = unit_rows(ws, group_ptr, group_rows)
    corr = np.empty((rows_ws.shape[0], T))
    dnorm = np.empty(ws.shape[0])
    row_max = np.empty(rows_ws.shape[0])
    rho = np.empty_like(R)
    K = n_extrapolation
    rho_hist = np.zeros((max(K, 1), n * T))  # rows: rho^T flattened (task by task)
    n_rho = 0
    history = np.zeros((K + 1, rows_ws.shape[0] * T))
    n_hist = 0
    best_dual = -np.inf
    gap = np.inf
    epoch = 0
    for epoch in range(max_epochs):
        for k in range(ws.shape[0]):
            g = ws[k]
            lip = lipschitz[g]
            if lip == 0.0:
                continue
            start = group_ptr[g]
            size = group_ptr[g + 1] - start
            for r in range(size):
                j = group_rows[start + r]
                if not live_rows[j]:
                    U[r, :] = 0.0
                    continue
                col_dot_rows(X, j, R, grad)
                for t in range(T):
                    U[r, t] = W[j, t] + (grad[t] + x_offset[j] * shift[t]) / lip
            block_prox(U, 0, size, group_rows[start:start + size], a, c[g], b[g], 1.0 / lip,
                       positive)
            for r in range(size):
                j = group_rows[start + r]
                moved = False
                for t in range(T):
                    delta[t] = U[r, t] - W[j, t]
                    if delta[t] != 0.0:
                        moved = True
                if moved:
                    for t in range(T):
                        delta[t] = -delta[t]
                    col_axpy_rows_scaled(X, j, delta, s, R)
                    for t in range(T):
                        shift[t] -= x_offset[j] * delta[t]
                        W[j, t] = U[r, t]
        if K > 0:
            for r in range(rows_ws.shape[0]):
                for t in range(T):
                    history[n_hist, r * T + t] = W[rows_ws[r], t]
            n_hist, ok, extrapolated = anderson_step(history, n_hist)
            if ok:
                _try_extrapolated(X, Y, s, x_offset, group_ptr, group_rows, c, a, b, positive,
                                  ws, rows_ws, W, R, shift, extrapolated)
        if gap_freq > 0 and ((epoch + 1) % gap_freq == 0 or epoch == max_epochs - 1):
            for i in range(n):
                for t in range(T):
                    rho[i, t] = R[i, t] + s[i] * shift[t]
            quad, _ = _residual_objective(rho, s, Y)
            primal = 0.5 * quad + block_penalty_value(W, ws, group_ptr, group_rows, a, c, b)
            dual = _subproblem_dual(X, Y, s, x_offset, rho, group_ptr, group_rows, live_rows,
                                    ws, rows_ws, a, c, b, positive, corr, dnorm, row_max)
            if dual > best_dual:
                best_dual = dual
                theta_best[:, :] = rho
            if K > 0:
                # dual extrapolation (Massias, Gramfort & Salmon, ICML 2018): an affine
                # combination of the last K residuals, still zero-sum per task
                if n_rho < K:
                    n_rho += 1
                else:
                    rho_hist[:K - 1] = rho_hist[1:].copy()
                for t in range(T):
                    rho_hist[n_rho - 1, t * n:(t + 1) * n] = rho[:, t]
                if n_rho == K:
                    ok, coefs = extrapolation_weights(rho_hist, K)
                    if ok:
                        rho_acc = np.empty_like(R)
                        rho_acc[:, :] = combine_rows(coefs, rho_hist).reshape(T, n).T
                        dual_acc = _subproblem_dual(X, Y, s, x_offset, rho_acc, group_ptr,
                                                    group_rows, live_rows, ws, rows_ws, a, c,
                                                    b, positive, corr, dnorm, row_max)
                        if dual_acc > best_dual:
                            best_dual = dual_acc
                            theta_best[:, :] = rho_acc
            gap = primal - best_dual
            if gap <= tol:
                break
    return epoch + 1, gap
