"""Jitted working-set coordinate descent for least squares plus MCP or SCAD."""
import numpy as np
from numba import njit

from ..penalties._nonconvex_kernels import nc_minimise_1d, nc_penalty_value, nc_violation
from ._design import FASTMATH, col_axpy_scaled, col_dot
from ._kernels import _quadratic_primal, combine_rows, extrapolation_weights


@njit(cache=True, fastmath=FASTMATH)
def _nc_quadratic_primal(R, s, shift, w, ws, alpha, gamma, kind, scale):
    """``sum_i rho_i^2 / (2 s_i) + scale * sum_{j in ws} p_j(w_j)``, ``rho = R + s shift``."""
    loss = _quadratic_primal(R + s * shift, s, w, ws[:0], alpha, alpha)
    return loss + scale * nc_penalty_value(w, ws, alpha, gamma, kind)


@njit(cache=True, fastmath=FASTMATH)
def nc_max_violation(X, x_offset, curvatures, alpha, gamma, kind, positive, scale, ws, w, R,
                     shift):
    """Largest KKT violation over ``ws`` in the problem of :func:`nonconvex_cd_working_set`."""
    violation = 0.0
    for k in range(ws.shape[0]):
        j = ws[k]
        if curvatures[j] == 0.0:
            continue
        grad = -(col_dot(X, j, R) + x_offset[j] * shift)
        violation = max(violation, scale * nc_violation(w[j], grad / scale, alpha[j], gamma,
                                                        kind, positive))
    return violation


@njit(cache=True, fastmath=FASTMATH)
def nonconvex_cd_working_set(X, s, x_offset, curvatures, alpha, gamma, kind, positive, scale,
                             ws, w, R, shift_box, max_epochs, kkt_tol, n_extrapolation):
    """Cyclic coordinate descent on ``ws`` for least squares plus a non-convex penalty.

    Minimises ``sum_i s_i (y_i - x_c,i^T w)^2 / 2 + scale * sum_{j in ws} p_j(w_j)``
    (``p`` of :mod:`sksafe.penalties._nonconvex_kernels`) with the state of
    :func:`sksafe.solvers._kernels.quadratic_cd_working_set`: ``R = s * (y - X w)``
    and ``shift_box[0] = x_offset^T w`` (implicit centring ``x_c = x - x_offset``).
    Every coordinate update is the exact (global) 1-D minimiser, so the objective
    never increases; every ``n_extrapolation + 1`` epochs an Anderson
    extrapolation of the iterates is tried and kept only if it lowers the
    objective (as skglm does for MCP; Bertrand & Massias, AISTATS 2021). Stops
    once the largest KKT violation (distance of ``-grad_j`` to the Clarke
    subdifferential of ``scale * p_j``) is ``<= kkt_tol``. Returns the epochs run.
    """
    m = ws.shape[0]
    shift = shift_box[0]
    K = n_extrapolation
    w_hist = np.zeros((K + 1, m))
    n_hist = 0
    w_ws = np.empty(m)
    epoch = 0
    for epoch in range(max_epochs):
        violation = 0.0
        for k in range(m):
            j = ws[k]
            lip = curvatures[j]
            if lip == 0.0:
                continue
            old = w[j]
            grad = -(col_dot(X, j, R) + x_offset[j] * shift)
            violation = max(violation, scale * nc_violation(old, grad / scale, alpha[j], gamma,
                                                            kind, positive))
            new = nc_minimise_1d(old - grad / lip, lip / scale, alpha[j], gamma, kind, positive)
            if new != old:
                delta = new - old
                col_axpy_scaled(X, j, -delta, s, R)
                shift += x_offset[j] * delta
                w[j] = new

        if K > 0:
            for k in range(m):
                w_hist[n_hist, k] = w[ws[k]]
            n_hist += 1
            if n_hist == K + 1:
                n_hist = 0
                ok, coefs = extrapolation_weights(w_hist, K + 1)
                feasible = ok
                if ok:
                    w_acc = combine_rows(coefs, w_hist)
                    if positive:
                        for k in range(m):
                            if w_acc[k] < 0.0:
                                feasible = False
                if feasible:
                    p_cur = _nc_quadratic_primal(R, s, shift, w, ws, alpha, gamma, kind, scale)
                    R_acc = R.copy()
                    shift_acc = shift
                    for k in range(m):
                        j = ws[k]
                        w_ws[k] = w[j]
                        diff = w_acc[k] - w[j]
                        if diff != 0.0:
                            col_axpy_scaled(X, j, -diff, s, R_acc)
                            shift_acc += x_offset[j] * diff
                        w[j] = w_acc[k]
                    if _nc_quadratic_primal(R_acc, s, shift_acc, w, ws, alpha, gamma, kind,
                                            scale) < p_cur:
                        R[:] = R_acc
                        shift = shift_acc
                    else:
                        for k in range(m):
                            w[ws[k]] = w_ws[k]

        # the violations above were measured while the epoch moved the other
        # coordinates: a small one is confirmed at the current point before stopping
        if violation <= kkt_tol and nc_max_violation(
                X, x_offset, curvatures, alpha, gamma, kind, positive, scale, ws, w, R,
                shift) <= kkt_tol:
            break
    shift_box[0] = shift
    return epoch + 1
