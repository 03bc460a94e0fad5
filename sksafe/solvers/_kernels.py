"""Jitted inner loops of the working-set solvers (dense and CSC through :mod:`._design`)."""
import numpy as np
from numba import njit

from ..penalties._kernels import (conjugate_sum, coordinate_violation, dual_scaling,
                                  penalty_value, prox_1d)
from ._design import FASTMATH, col_axpy_scaled, col_dot


@njit(cache=True)
def _solve_small_spd(gram, rhs):
    """Solve ``gram x = rhs`` for a small symmetric positive definite ``gram`` (Cholesky).

    Written as loops on purpose: the systems are at most a few rows, and
    ``np.linalg.solve`` / ``@`` inside jitted code pull in Numba's LAPACK and BLAS
    bindings, whose compilation cost seconds of the first fit after installation.
    Returns ``(ok, x)``; ``ok`` is False when ``gram`` is not numerically positive.
    """
    k = rhs.shape[0]
    chol = np.zeros((k, k))
    for i in range(k):
        for j in range(i + 1):
            acc = gram[i, j]
            for m in range(j):
                acc -= chol[i, m] * chol[j, m]
            if i == j:
                if not acc > 0.0:
                    return False, np.zeros(k)
                chol[i, i] = np.sqrt(acc)
            else:
                chol[i, j] = acc / chol[j, j]
    forward = np.empty(k)
    for i in range(k):
        acc = rhs[i]
        for m in range(i):
            acc -= chol[i, m] * forward[m]
        forward[i] = acc / chol[i, i]
    x = np.empty(k)
    for i in range(k - 1, -1, -1):
        acc = forward[i]
        for m in range(i + 1, k):
            acc -= chol[m, i] * x[m]
        x[i] = acc / chol[i, i]
    return True, x


@njit(cache=True)
def extrapolation_weights(history, count):
    """Anderson / dual-extrapolation weights from ``count`` stored iterates (rows).

    With ``U`` the successive differences of the iterates, solve
    ``(U U^T) z = 1`` and return ``(ok, z / sum(z))`` (Anderson, 1965; used for
    dual points by Massias, Gramfort & Salmon, ICML 2018, and for primal
    iterates by Bertrand & Massias, AISTATS 2021). A tiny Tikhonov term keeps
    the system solvable when differences are nearly collinear.
    """
    k = count - 1
    length = history.shape[1]
    gram = np.zeros((k, k))
    for r in range(k):
        for c in range(r + 1):
            acc = 0.0
            for i in range(length):
                acc += ((history[r + 1, i] - history[r, i])
                        * (history[c + 1, i] - history[c, i]))
            gram[r, c] = acc
            gram[c, r] = acc
    trace = 0.0
    for r in range(k):
        trace += gram[r, r]
    if not trace > 1e-300:
        return False, np.zeros(k)
    for r in range(k):
        gram[r, r] += 1e-10 * trace / k
    ok, z = _solve_small_spd(gram, np.ones(k))
    total = z.sum()
    if not ok or not np.isfinite(total) or abs(total) < 1e-300:
        return False, np.zeros(k)
    return True, z / total


@njit(cache=True)
def anderson_step(history, n_hist):
    """Count the iterate just stored in row ``n_hist`` of ``history``; once every row holds
    one, extrapolate (:func:`extrapolation_weights`) and start over.

    Returns ``(n_hist, ok, point)``: the row of the next iterate, and whether ``point``
    is an extrapolated point (the caller keeps it only if it lowers its objective).
    """
    n_hist += 1
    if n_hist < history.shape[0]:
        return n_hist, False, history[0]
    ok, coefs = extrapolation_weights(history, history.shape[0])
    if not ok:
        return 0, False, history[0]
    return 0, True, combine_rows(coefs, history)


@njit(cache=True)
def combine_rows(coefs, rows):
    """``sum_r coefs[r] * rows[r + 1]``: the extrapolated point from the stored iterates."""
    out = np.zeros(rows.shape[1])
    for r in range(coefs.shape[0]):
        c = coefs[r]
        for i in range(rows.shape[1]):
            out[i] += c * rows[r + 1, i]
    return out


def equality_projector(basis, s):
    """``(basis, proj)``: ``theta - proj @ (basis.T @ theta)`` satisfies ``basis.T theta = 0``.

    It is the projection onto ``{theta : basis^T theta = 0}`` in the metric
    ``sum_i theta_i^2 / s_i`` of the quadratic dual, i.e.
    ``proj = S basis (basis^T S basis)^+``: for ``theta = S r`` it is the weighted
    residual after an exact least-squares fit of the unpenalised columns. The
    dual point of a problem with unpenalised coefficients must satisfy these
    equality constraints; extrapolated dual points do not on their own.
    """
    basis = np.ascontiguousarray(basis, dtype=np.float64)
    if basis.shape[1] == 0:  # no constraint: project_out is a no-op
        return basis, basis
    weighted = s[:, None] * basis
    proj = weighted @ np.linalg.pinv(basis.T @ weighted)
    return basis, np.ascontiguousarray(proj)


@njit(cache=True)
def project_out(theta, basis, proj):
    """``theta -= proj @ (basis.T @ theta)`` in place (see :func:`equality_projector`)."""
    n, k = basis.shape
    if k == 0:
        return
    coords = np.zeros(k)
    for c in range(k):
        acc = 0.0
        for i in range(n):
            acc += basis[i, c] * theta[i]
        coords[c] = acc
    for i in range(n):
        acc = 0.0
        for c in range(k):
            acc += proj[i, c] * coords[c]
        theta[i] -= acc


@njit(cache=True, fastmath=FASTMATH)
def _quadratic_primal(rho, s, w, ws, a, b):
    """``sum_i rho_i^2 / (2 s_i) + g(w_ws)`` with ``rho = s * residual`` (weighted residual)."""
    loss = 0.0
    for i in range(rho.shape[0]):
        if s[i] > 0.0:
            loss += rho[i] * rho[i] / s[i]
    return 0.5 * loss + penalty_value(w, ws, a, b)


@njit(cache=True, fastmath=FASTMATH)
def _quadratic_dual(X, y, s, x_offset, rho, ws, a, b, lower, upper, corr):
    """Dual objective of the working-set subproblem at ``kappa * rho`` (``kappa`` returned too)."""
    total = 0.0
    for i in range(rho.shape[0]):
        total += rho[i]
    for k in range(ws.shape[0]):
        j = ws[k]
        corr[k] = col_dot(X, j, rho) - x_offset[j] * total
    kappa = dual_scaling(corr, ws, a, b, lower, upper)
    lin = 0.0
    quad = 0.0
    for i in range(rho.shape[0]):
        if s[i] > 0.0:
            lin += rho[i] * y[i]
            quad += rho[i] * rho[i] / s[i]
    return (kappa * lin - 0.5 * kappa * kappa * quad
            - conjugate_sum(corr, kappa, ws, a, b, lower, upper))


@njit(cache=True, fastmath=FASTMATH)
def _max_violation(X, x_offset, curvatures, a, b, lower, upper, ws, w, R, shift):
    """Largest KKT violation over ``ws`` in the problem of :func:`quadratic_cd_working_set`."""
    violation = 0.0
    for k in range(ws.shape[0]):
        j = ws[k]
        if curvatures[j] == 0.0:
            continue
        grad = -(col_dot(X, j, R) + x_offset[j] * shift)
        violation = max(violation, coordinate_violation(w[j], grad, a[j], b[j], lower[j],
                                                        upper[j]))
    return violation


#: Longest run of epochs a coordinate sits out after staying at zero (see the shrinking
#: in :func:`quadratic_cd_working_set`). Exponential back-off up to this cap: a
#: coordinate that settles at zero is visited after 1, 3, 7, 15, 31, 32, ... epochs,
#: so none is ignored for long. Measured (tol 1e-6, cold single fits): gisette Lasso
#: at alpha_max/100 270 -> 194 ms, wheat L1-logistic /100 491 -> 329 ms; a cap of
#: 1000 was no faster, and without a cap a coordinate could sit out a whole subproblem.
SHRINK_CAP = 32


@njit(cache=True)
def sits_out(wait, k):
    """Shrinking: whether unit ``k`` skips this epoch (counting its wait down)."""
    if wait[k] > 0:
        wait[k] -= 1
        return True
    return False


@njit(cache=True)
def record_stay(skip, wait, k, stayed_at_zero):
    """After unit ``k``'s update: a unit that was zero and stayed zero sits out the
    next ``1, 3, 7, ...`` epochs (at most ``SHRINK_CAP``); any other resets that."""
    if stayed_at_zero:
        skip[k] = min(2 * skip[k] + 1, SHRINK_CAP)
        wait[k] = skip[k]
    else:
        skip[k] = 0


@njit(cache=True, fastmath=FASTMATH)
def quadratic_cd_working_set(X, y, s, x_offset, curvatures, a, b, lower, upper, ws, w, R, shift_box,
                             max_epochs, tol, gap_freq, n_extrapolation, theta_best,
                             eq_basis, eq_proj, kkt_tol):
    """Cyclic coordinate descent on the working set ``ws`` for the quadratic datafit.

    Minimises ``sum_i s_i (y_i - x_c,i^T w)^2 / 2 + sum_{j in ws} g_j(w_j)`` with
    implicit centring ``x_c = x - x_offset``, over the box ``lower <= w <= upper``
    (every update is feasible: the prox clips). State: ``R = s * (y - X w)`` (weighted
    residual without the centring term) and ``shift_box[0] = x_offset^T w``, so
    that the weighted centred residual is ``rho = R + s * shift``. The coordinate
    gradient ``-(X_j^T R + x_offset_j shift)`` equals ``-X_c,j^T rho`` only where the
    centring is the weighted one: ``s`` sums to one, ``x_offset`` holds the
    ``s``-weighted column means (or zeros) and ``y`` is ``s``-centred, so that
    ``sum(rho) = 0``; callers with other weights scale the penalty instead. Every epoch
    feeds Anderson extrapolation of the primal iterate (kept only if it lowers
    the objective); every ``gap_freq`` epochs the duality gap of the subproblem is
    evaluated at the best of the current and the extrapolated dual point, and the
    loop stops once it is ``<= tol``. The best dual point (unscaled ``rho``) is
    written into ``theta_best``. ``gap_freq = 0`` turns the gap off; ``kkt_tol > 0``
    stops the loop once the largest coordinate KKT violation is ``<= kkt_tol``
    (screened for free with the gradients the updates compute, then confirmed at
    the current point). Returns ``(epochs, gap)``.

    Shrinking: a coordinate that was zero and stays zero sits out the next 1, 3, 7,
    ... epochs (at most ``SHRINK_CAP``), so that epochs mostly visit the nonzero
    coordinates once the sign pattern has settled, as glmnet's active-set cycling
    and liblinear's shrinking do (Friedman, Hastie & Tibshirani, J. Stat. Softw.
    2010; Yuan, Ho & Lin, JMLR 2012). Only the order of the updates changes: both
    stopping tests look at every coordinate of ``ws`` (a failed KKT confirmation
    puts the skipped ones back at once).
    """
    n = R.shape[0]
    m = ws.shape[0]
    shift = shift_box[0]
    K = n_extrapolation
    corr = np.empty(m)
    rho = np.empty(n)
    rho_hist = np.zeros((max(K, 1), n))
    n_rho = 0
    w_hist = np.zeros((K + 1, m))
    n_hist = 0
    w_ws = np.empty(m)
    best_dual = -np.inf
    gap = np.inf
    epoch = 0
    skip = np.zeros(m, dtype=np.int64)
    wait = np.zeros(m, dtype=np.int64)
    for epoch in range(max_epochs):
        violation = 0.0
        for k in range(m):
            if sits_out(wait, k):
                continue
            j = ws[k]
            lip = curvatures[j]
            if lip == 0.0:
                continue
            old = w[j]
            grad = -(col_dot(X, j, R) + x_offset[j] * shift)
            if kkt_tol > 0.0:
                violation = max(violation, coordinate_violation(old, grad, a[j], b[j],
                                                                lower[j], upper[j]))
            new = prox_1d(old - grad / lip, 1.0 / lip, a[j], b[j], lower[j], upper[j])
            record_stay(skip, wait, k, new == 0.0 and old == 0.0)
            if new != old:
                delta = new - old
                col_axpy_scaled(X, j, -delta, s, R)
                shift += x_offset[j] * delta
                w[j] = new

        if K > 0:
            for k in range(m):
                w_hist[n_hist, k] = w[ws[k]]
            n_hist, ok, w_acc = anderson_step(w_hist, n_hist)
            if ok:
                # an affine combination can leave the box: its projection is feasible,
                # and kept only if it lowers the objective like any extrapolated point
                for k in range(m):
                    w_acc[k] = min(max(w_acc[k], lower[ws[k]]), upper[ws[k]])
                # residual of the extrapolated point from the current one: O(n + nnz(ws))
                rho[:] = R + s * shift
                p_cur = _quadratic_primal(rho, s, w, ws, a, b)
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
                rho[:] = R_acc + s * shift_acc
                if _quadratic_primal(rho, s, w, ws, a, b) < p_cur:
                    R[:] = R_acc
                    shift = shift_acc
                else:
                    for k in range(m):
                        w[ws[k]] = w_ws[k]

        # the violations above were measured while the epoch moved the other
        # coordinates: a small one is confirmed at the current point before stopping
        if kkt_tol > 0.0 and violation <= kkt_tol:
            if _max_violation(X, x_offset, curvatures, a, b, lower, upper, ws, w, R,
                              shift) <= kkt_tol:
                break
            wait[:] = 0  # a skipped coordinate may be the violator: visit them all
        if gap_freq > 0 and ((epoch + 1) % gap_freq == 0 or epoch == max_epochs - 1):
            rho[:] = R + s * shift
            primal = _quadratic_primal(rho, s, w, ws, a, b)
            project_out(rho, eq_basis, eq_proj)
            dual = _quadratic_dual(X, y, s, x_offset, rho, ws, a, b, lower, upper, corr)
            if dual > best_dual:
                best_dual = dual
                theta_best[:] = rho
            if K > 0:
                if n_rho < K:
                    rho_hist[n_rho] = rho
                    n_rho += 1
                else:
                    rho_hist[:K - 1] = rho_hist[1:].copy()
                    rho_hist[K - 1] = rho
                if n_rho == K:
                    ok, coefs = extrapolation_weights(rho_hist, K)
                    if ok:
                        rho_acc = combine_rows(coefs, rho_hist)
                        project_out(rho_acc, eq_basis, eq_proj)
                        dual_acc = _quadratic_dual(X, y, s, x_offset, rho_acc, ws, a, b,
                                                   lower, upper, corr)
                        if dual_acc > best_dual:
                            best_dual = dual_acc
                            theta_best[:] = rho_acc
            gap = primal - best_dual
            if gap <= tol:
                break
    shift_box[0] = shift
    return epoch + 1, gap
