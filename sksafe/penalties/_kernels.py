"""Jitted kernels of the separable elastic-net family.

Every penalty of :mod:`sksafe.penalties` reduces, for the solvers, to per-feature
weights ``a_j`` (L1) and ``b_j`` (L2) and a positivity flag::

    g_j(w_j) = a_j |w_j| + (b_j / 2) w_j ** 2   (+ indicator of w_j >= 0)

Its Fenchel conjugate, used by the dual objective, is
``g_j*(v) = (v_+ - a_j)_+ ** 2 / (2 b_j)`` when ``b_j > 0`` and the indicator of
``|v| <= a_j`` (``v <= a_j`` if positive) when ``b_j = 0``.
"""
import numpy as np
from numba import njit


@njit(cache=True)
def prox_1d(u, step, a, b, positive):
    """``argmin_v (v - u)**2 / (2 step) + a |v| + b v**2 / 2`` (``v >= 0`` if positive)."""
    if positive:
        shrunk = u - step * a
        if shrunk <= 0.0:
            return 0.0
        return shrunk / (1.0 + step * b)
    if u > step * a:
        return (u - step * a) / (1.0 + step * b)
    if u < -step * a:
        return (u + step * a) / (1.0 + step * b)
    return 0.0


@njit(cache=True)
def effective_correlation(c, positive):
    """The quantity the dual constraint bounds: ``c`` if positive, else ``|c|``."""
    if positive:
        return c
    return abs(c)


@njit(cache=True)
def penalty_value(w, cols, a, b):
    """``sum_{j in cols} a_j |w_j| + b_j w_j**2 / 2`` (float64 accumulator)."""
    val = 0.0
    for k in range(cols.shape[0]):
        j = cols[k]
        wj = w[j]
        if wj != 0.0:
            val += a[j] * abs(wj) + 0.5 * b[j] * wj * wj
    return val


@njit(cache=True)
def dual_scaling(corr, cols, a, b, positive):
    """Largest ``kappa <= 1`` making ``kappa * theta`` feasible for the L1-only features.

    ``corr[k]`` is ``X_{cols[k]}^T theta``. Features with an L2 part (``b_j > 0``)
    have a finite conjugate and impose no constraint; unpenalised features
    (``a_j = b_j = 0``) are made exactly feasible by the solvers (their
    coordinates are minimised exactly before every gap evaluation) and are
    skipped here.
    """
    kappa = 1.0
    for k in range(cols.shape[0]):
        j = cols[k]
        if b[j] == 0.0 and a[j] > 0.0:
            eff = effective_correlation(corr[k], positive)
            if eff * kappa > a[j]:
                kappa = a[j] / eff
    return kappa


@njit(cache=True)
def conjugate_sum(corr, kappa, cols, a, b, positive):
    """``sum_{j in cols, b_j > 0} g_j*(kappa corr_j)`` (the others are 0 once feasible)."""
    val = 0.0
    for k in range(cols.shape[0]):
        j = cols[k]
        if b[j] > 0.0:
            excess = kappa * effective_correlation(corr[k], positive) - a[j]
            if excess > 0.0:
                val += excess * excess / (2.0 * b[j])
    return val


@njit(cache=True)
def coordinate_violation(w_j, grad_j, a_j, b_j, positive):
    """Distance of ``-grad_j`` to the subdifferential of ``g_j`` at ``w_j`` (KKT violation)."""
    g = grad_j + b_j * w_j
    if w_j != 0.0:
        return abs(g + a_j * np.sign(w_j))
    if positive:
        return max(0.0, -g - a_j)
    return max(0.0, abs(g) - a_j)


@njit(cache=True)
def subdiff_distance(w, grad, cols, a, b, positive, out):
    """:func:`coordinate_violation` of every feature of ``cols`` (``grad`` indexed like ``cols``)."""
    for k in range(cols.shape[0]):
        j = cols[k]
        out[k] = coordinate_violation(w[j], grad[k], a[j], b[j], positive)


@njit(cache=True)
def penalty_change(w, cols, delta, t, a, b):
    """``g(w + t delta) - g(w)`` over ``cols``, summed term by term.

    Subtracting two penalty values would lose the change in rounding noise once
    steps are ~1e-9 of the coefficients; near the optimum that noise is larger
    than the true decrease and would stall any line search.
    """
    change = 0.0
    for k in range(cols.shape[0]):
        j = cols[k]
        step = t * delta[k]
        if step != 0.0:
            wj = w[j]
            change += a[j] * (abs(wj + step) - abs(wj)) + b[j] * step * (wj + 0.5 * step)
    return change
