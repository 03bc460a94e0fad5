"""Jitted kernels of the block (group) penalty family.

Features are partitioned into groups ``g`` (``group_rows[group_ptr[g]:group_ptr[g + 1]]``);
the coefficients form a matrix ``W`` of shape ``(n_features, n_tasks)`` and each
group contributes::

    Omega_g(W_g) = c_g ||W_g||_F + sum_{j in g} a_j ||W_j||_1 + (b_g / 2) ||W_g||_F^2

(group lasso: ``a = 0``; sparse-group lasso: ``a > 0``; multi-task lasso: singleton
groups and ``T > 1``; elastic-net variants: ``b > 0``). With ``S_a`` the entrywise
soft-thresholding by ``a_j`` on row ``j``, the conjugate of ``Omega_g`` at a
correlation block ``C_g = X_g^T Theta`` is (the ``b = 0`` case is an indicator)::

    Omega_g*(C_g) = (||S_a(C_g)||_F - c_g)_+^2 / (2 b_g)    or    0 if ||S_a(C_g)||_F <= c_g else +inf

because ``{C : ||S_a(C)||_F <= c}`` is the Minkowski sum of the box ``|C_jt| <= a_j``
and the ball of radius ``c``. Its proximal operator is soft-thresholding followed by
group shrinkage and the ridge scaling (the prox of an l1 plus l2 norm is the
composition of their proxes: Friedman, Hastie & Tibshirani, "A note on the group
lasso and a sparse group lasso", 2010; Yu, NeurIPS 2013).

Positivity (``positive=True``: ``Omega_g + indicator(W_g >= 0)``) replaces ``S_a`` by the
one-sided thresholding ``P_a(C) = (C - a)_+``, in the conjugate, the dual norm and the
prox alike. Conjugate: on ``W >= 0``, ``<C, W> - a |W| = <C - a, W> <= <P_a(C), W> <=
||P_a(C)|| ||W||``, with equality for ``W`` proportional to ``P_a(C)`` (itself ``>= 0``),
so the sup over ``W >= 0`` is the one of the unconstrained case with ``||S_a(C)||``
replaced by ``||P_a(C)||``. Prox: for ``V >= 0`` and ``Z = U - step a``,
``||V - Z||^2 = ||V - Z_+||^2 + 2 <V, Z_-> + ||Z_-||^2`` with ``Z_- = (-Z)_+``; the group
shrinkage (and ridge) of ``Z_+`` minimises the first part plus the group terms and is
``>= 0`` and zero where ``Z_-`` is not, so it makes ``<V, Z_->`` zero, its smallest value:
the prox is the group prox of the positive part of the one-sided thresholding
(as skglm's positive group lasso). The maths is the same for group, sparse-group,
multi-task (L21) and entrywise penalties, which all take ``positive``.
"""
import numpy as np
from numba import njit



@njit(cache=True)
def soft_norm(C, start, end, rows, a, kappa, positive):
    """``||S_a(kappa C[start:end])||_F`` where row ``r`` has threshold ``a[rows[r]]``
    (``||P_a(kappa C)||_F`` with ``positive``)."""
    acc = 0.0
    for r in range(start, end):
        thr = a[rows[r]]
        for t in range(C.shape[1]):
            excess = kappa * (C[r, t] if positive else abs(C[r, t])) - thr
            if excess > 0.0:
                acc += excess * excess
    return np.sqrt(acc)


@njit(cache=True)
def max_feasible_scale(C, start, end, rows, a, c, positive):
    """Largest ``kappa >= 0`` with ``||S_a(kappa C)||_F <= c`` (``inf`` if none binds).

    With ``positive``, ``P_a`` instead of ``S_a``: only the positive entries of ``C``
    count (a negative one is never above its threshold).

    ``f(kappa) = sum_e (kappa |C_e| - a_e)_+^2`` is convex, piecewise quadratic and
    non-decreasing, with breakpoints ``a_e / |C_e|``: walk them in increasing order
    and solve the quadratic of the piece where ``f`` reaches ``c^2``.
    """
    n_rows = end - start
    T = C.shape[1]
    unthresholded = True
    for r in range(start, end):
        if a[rows[r]] != 0.0:
            unthresholded = False
            break
    if unthresholded:
        # no breakpoint (group lasso, multi-task lasso): f(kappa) = kappa^2 ||C||^2, solved
        # in closed form without the sort (this runs for every group at every gap)
        sq = 0.0
        for r in range(start, end):
            for t in range(T):
                mag = C[r, t] if positive else abs(C[r, t])
                if mag > 0.0:
                    sq += mag * mag
        return c / np.sqrt(sq) if sq > 0.0 else np.inf
    size = n_rows * T
    breaks = np.empty(size)
    mags = np.empty(size)
    thrs = np.empty(size)
    m = 0
    for r in range(start, end):
        thr = a[rows[r]]
        for t in range(T):
            mag = C[r, t] if positive else abs(C[r, t])
            if mag > 0.0:
                breaks[m] = thr / mag
                mags[m] = mag
                thrs[m] = thr
                m += 1
    if m == 0:
        return np.inf
    order = np.argsort(breaks[:m])
    s2 = 0.0
    s1 = 0.0
    s0 = 0.0
    c2 = c * c
    for q in range(m):
        e = order[q]
        s2 += mags[e] * mags[e]
        s1 += thrs[e] * mags[e]
        s0 += thrs[e] * thrs[e]
        upper = breaks[order[q + 1]] if q + 1 < m else np.inf
        # on [breaks[e], upper]: f(kappa) = s2 kappa^2 - 2 s1 kappa + s0. The discriminant
        # is s2 c^2 - (s2 s0 - s1^2) with s2 s0 - s1^2 >= 0 (Cauchy-Schwarz, 0 for a single
        # entry): clamping that part keeps rounding from pushing the root past the
        # breakpoint when c = 0, where sqrt would amplify an error of 1e-16 to 1e-8.
        disc = s2 * c2 - max(s2 * s0 - s1 * s1, 0.0)
        root = (s1 + np.sqrt(max(disc, 0.0))) / s2
        if root <= upper:
            return max(root, breaks[e])
    return np.inf


@njit(cache=True)
def block_alpha_max(C, group_ptr, rows, a, c, positive):
    """``max_g 1 / max_feasible_scale(C_g)`` over all groups (``C`` stacked by group, the
    weights of ``alpha = 1``): the smallest ``alpha`` with ``W = 0`` optimal; ``inf`` if a
    group has scale 0 (an unthresholded ridge-only group is never zero)."""
    alpha = 0.0
    for g in range(group_ptr.shape[0] - 1):
        scale = max_feasible_scale(C, group_ptr[g], group_ptr[g + 1], rows, a, c[g], positive)
        if scale == 0.0:
            return np.inf
        if scale < np.inf:
            alpha = max(alpha, 1.0 / scale)
    return alpha


@njit(cache=True)
def unit_rows(units, group_ptr, group_rows):
    """The feature of every stacked row of :func:`block_correlations`, in order."""
    total = 0
    for k in range(units.shape[0]):
        total += group_ptr[units[k] + 1] - group_ptr[units[k]]
    rows = np.empty(total, dtype=np.int64)
    pos = 0
    for k in range(units.shape[0]):
        g = units[k]
        for q in range(group_ptr[g], group_ptr[g + 1]):
            rows[pos] = group_rows[q]
            pos += 1
    return rows


@njit(cache=True)
def block_dual_scaling(C, ptr, rows, units, a, c, b, positive):
    """Largest ``kappa <= 1`` making ``kappa Theta`` feasible for every unit without ridge.

    Units with ``b_g > 0`` have a finite conjugate and no constraint; unpenalised
    units (``a = c = b = 0``) are excluded (their coefficients are optimised exactly).
    """
    kappa = 1.0
    for k in range(units.shape[0]):
        g = units[k]
        if b[g] > 0.0:
            continue
        penalised = c[g] > 0.0
        for r in range(ptr[k], ptr[k + 1]):
            if a[rows[r]] > 0.0:
                penalised = True
        if penalised:
            kappa = min(kappa, max_feasible_scale(C, ptr[k], ptr[k + 1], rows, a, c[g],
                                                  positive))
    return kappa


@njit(cache=True)
def block_dual_norms(C, ptr, rows, units, a, c, b, kappa, positive, dnorm, row_max):
    """Per-unit ``||S_a(kappa C_g)||_F`` into ``dnorm``, per-row ``max_t kappa |C_jt|`` into
    ``row_max``; returns ``sum_g Omega_g*(kappa C_g)`` over the ridge units.

    With ``positive``: ``P_a`` and ``max(0, max_t kappa C_jt)`` (a row of negative
    correlations is as far from entering as a zero one; 0 keeps the test simple and
    only makes it more conservative)."""
    conj = 0.0
    for k in range(units.shape[0]):
        g = units[k]
        value = soft_norm(C, ptr[k], ptr[k + 1], rows, a, kappa, positive)
        dnorm[k] = value
        if b[g] > 0.0 and value > c[g]:
            conj += (value - c[g]) ** 2 / (2.0 * b[g])
        for r in range(ptr[k], ptr[k + 1]):
            peak = 0.0
            for t in range(C.shape[1]):
                peak = max(peak, kappa * (C[r, t] if positive else abs(C[r, t])))
            row_max[r] = peak
    return conj


@njit(cache=True)
def block_prox(U, start, end, rows, a, c_g, b_g, step, positive):
    """In-place prox of ``step * Omega_g`` on the rows ``start:end`` of ``U``.

    Entrywise soft-thresholding by ``step a_j`` (one-sided, ``(u - step a_j)_+``, with
    ``positive``), then shrinkage of the group norm by ``step c_g``, then division by
    ``1 + step b_g``.
    """
    norm_sq = 0.0
    for r in range(start, end):
        thr = step * a[rows[r]]
        for t in range(U.shape[1]):
            u = U[r, t]
            if u > thr:
                u -= thr
            elif positive:
                u = 0.0
            elif u < -thr:
                u += thr
            else:
                u = 0.0
            U[r, t] = u
            norm_sq += u * u
    norm = np.sqrt(norm_sq)
    if norm <= step * c_g:
        scale = 0.0
    else:
        scale = (1.0 - step * c_g / norm) / (1.0 + step * b_g)
    for r in range(start, end):
        for t in range(U.shape[1]):
            U[r, t] *= scale


@njit(cache=True)
def block_penalty_value(W, units, group_ptr, group_rows, a, c, b):
    """``sum_{g in units} Omega_g(W_g)`` (float64 accumulator)."""
    total = 0.0
    for k in range(units.shape[0]):
        g = units[k]
        norm_sq = 0.0
        l1 = 0.0
        for q in range(group_ptr[g], group_ptr[g + 1]):
            j = group_rows[q]
            row_l1 = 0.0
            for t in range(W.shape[1]):
                w = W[j, t]
                norm_sq += w * w
                row_l1 += abs(w)
            l1 += a[j] * row_l1
        total += c[g] * np.sqrt(norm_sq) + l1 + 0.5 * b[g] * norm_sq
    return total


@njit(cache=True)
def block_penalty_change(W, units, group_ptr, group_rows, a, c, b, delta, t):
    """``sum_{g in units} Omega_g(W_g + t delta_g) - Omega_g(W_g)``, term by term.

    ``delta`` holds the rows of the units in stacked order (as :func:`unit_rows`).
    Norm differences are formed as ``(||u||^2 - ||w||^2) / (||u|| + ||w||)``: subtracting
    two penalty values would bury a small change in rounding noise, and near the
    optimum that noise exceeds the true decrease and stalls the line search.
    """
    change = 0.0
    pos = 0
    for k in range(units.shape[0]):
        g = units[k]
        old_sq = 0.0
        cross = 0.0
        step_sq = 0.0
        for q in range(group_ptr[g], group_ptr[g + 1]):
            j = group_rows[q]
            for col in range(W.shape[1]):
                w = W[j, col]
                step = t * delta[pos, col]
                old_sq += w * w
                cross += w * step
                step_sq += step * step
                if step != 0.0:
                    change += a[j] * (abs(w + step) - abs(w))
            pos += 1
        increase_sq = 2.0 * cross + step_sq
        if increase_sq != 0.0:
            old = np.sqrt(old_sq)
            new = np.sqrt(max(old_sq + increase_sq, 0.0))
            if old + new > 0.0:
                change += c[g] * increase_sq / (old + new)
            change += 0.5 * b[g] * increase_sq
    return change
