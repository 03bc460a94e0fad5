"""Jitted kernels of the separable elastic-net family, with box constraints.

Every penalty of :mod:`sksafe.penalties` reduces, for the solvers, to per-feature
weights ``a_j`` (L1), ``b_j`` (L2) and bounds ``l_j <= 0 <= u_j`` (``l_j = -inf``,
``u_j = +inf`` without constraint; ``positive=True`` is ``[0, +inf)``)::

    g_j(w_j) = a_j |w_j| + (b_j / 2) w_j ** 2 + indicator(l_j <= w_j <= u_j)

Conjugate (Fenchel-Rockafellar: the sum of the two pieces ``w_j >= 0`` and
``w_j <= 0`` of the sup, each a one-dimensional concave maximisation over an
interval)::

    g_j*(v) = h(v - a_j, u_j) + h(-v - a_j, -l_j),
    h(e, U) = sup_{0 <= t <= U} e t - b_j t ** 2 / 2
            = 0                          if e <= 0
            = e ** 2 / (2 b_j)           if 0 < e <= b_j U
            = U (e - b_j U / 2)          if e > b_j U          (``e U`` when ``b_j = 0``)

At most one term is non-zero. ``g_j*`` is finite everywhere except when
``b_j = 0`` and the side of ``v``'s sign is unbounded: then ``|v| <= a_j`` (``v <= a_j``
with ``u_j = +inf`` only, ``v >= -a_j`` with ``l_j = -inf`` only) is a dual constraint,
restored by rescaling the dual point (:func:`dual_scaling`); a bounded side adds
the finite term ``U (e - b_j U / 2)`` to the dual instead (Ndiaye, Fercoq, Gramfort &
Salmon, JMLR 2017, Sec. 2, for the Fenchel dual of a separable penalty).
"""
import numpy as np
from numba import njit


@njit(cache=True)
def prox_1d(u, step, a, b, lower, upper):
    """``argmin_v (v - u)**2 / (2 step) + a |v| + b v**2 / 2`` over ``lower <= v <= upper``.

    A strongly convex function of one variable restricted to an interval is
    minimised at the projection of its unconstrained minimiser: soft-thresholding
    and the ridge factor, then clipping (``lower <= 0 <= upper``).
    """
    if u > step * a:
        v = (u - step * a) / (1.0 + step * b)
    elif u < -step * a:
        v = (u + step * a) / (1.0 + step * b)
    else:
        return 0.0
    if v > upper:
        return upper
    if v < lower:
        return lower
    return v


@njit(cache=True)
def effective_correlation(c, lower, upper):
    """The quantity the dual constraint and the sphere test bound, for correlation ``c``.

    ``|c|`` if the feature can move both ways, ``c`` if it can only increase
    (``lower = 0 < upper``), ``-c`` if only decrease, ``-inf`` if it is fixed at 0.
    """
    if upper > 0.0:
        if lower < 0.0:
            return abs(c)
        return c
    if lower < 0.0:
        return -c
    return -np.inf


@njit(cache=True)
def effective_correlations(corr, cols, lower, upper, out):
    """:func:`effective_correlation` of ``corr[k]`` for the feature ``cols[k]``, into ``out``."""
    for k in range(cols.shape[0]):
        j = cols[k]
        out[k] = effective_correlation(corr[k], lower[j], upper[j])


@njit(cache=True)
def penalty_value(w, cols, a, b):
    """``sum_{j in cols} a_j |w_j| + b_j w_j**2 / 2`` (float64 accumulator; ``w`` feasible)."""
    val = 0.0
    for k in range(cols.shape[0]):
        j = cols[k]
        wj = w[j]
        if wj != 0.0:
            val += a[j] * abs(wj) + 0.5 * b[j] * wj * wj
    return val


@njit(cache=True)
def dual_scaling(corr, cols, a, b, lower, upper):
    """Largest ``kappa <= 1`` making ``kappa * theta`` feasible for the constrained features.

    ``corr[k]`` is ``X_{cols[k]}^T theta``. Only a feature without L2 part
    (``b_j = 0``) whose correlation points to an unbounded side has a constraint
    (``kappa |corr_k| <= a_j``); the others have a finite conjugate. Unpenalised
    features (``a_j = b_j = 0``, no bounds) are made exactly feasible by the solvers
    (their coordinates are minimised exactly before every gap evaluation) and are
    skipped here.
    """
    kappa = 1.0
    for k in range(cols.shape[0]):
        j = cols[k]
        if b[j] == 0.0 and a[j] > 0.0:
            c = corr[k]
            if c > 0.0 and upper[j] == np.inf:
                eff = c
            elif c < 0.0 and lower[j] == -np.inf:
                eff = -c
            else:
                continue
            if eff * kappa > a[j]:
                kappa = a[j] / eff
    return kappa


@njit(cache=True)
def _capped_quadratic(excess, room, b):
    """``sup_{0 <= t <= room} excess t - b t**2 / 2`` for ``excess > 0`` (see the module)."""
    if b > 0.0:
        if excess <= b * room:
            return excess * excess / (2.0 * b)
        return room * (excess - 0.5 * b * room)
    if room == np.inf:
        return 0.0  # feasible after dual_scaling: the excess is rounding
    return excess * room


@njit(cache=True)
def conjugate_sum(corr, kappa, cols, a, b, lower, upper):
    """``sum_{j in cols} g_j*(kappa corr_j)`` (the indicator parts are 0 once feasible)."""
    val = 0.0
    for k in range(cols.shape[0]):
        j = cols[k]
        v = kappa * corr[k]
        if v > a[j]:
            val += _capped_quadratic(v - a[j], upper[j], b[j])
        elif v < -a[j]:
            val += _capped_quadratic(-v - a[j], -lower[j], b[j])
    return val


@njit(cache=True)
def coordinate_violation(w_j, grad_j, a_j, b_j, lower, upper):
    """Distance of ``-grad_j`` to the subdifferential of ``g_j`` at ``w_j`` (KKT violation).

    At a bound the normal cone of the box joins the subdifferential: at ``w_j = u_j > 0``
    it is ``[a_j + b_j u_j, +inf)``, at ``w_j = l_j < 0`` it is ``(-inf, -a_j + b_j l_j]``.
    """
    g = grad_j + b_j * w_j
    if w_j != 0.0:
        if w_j >= upper:
            return max(0.0, g + a_j)
        if w_j <= lower:
            return max(0.0, a_j - g)
        return abs(g + a_j * np.sign(w_j))
    violation = 0.0
    if upper > 0.0:
        violation = max(violation, -g - a_j)
    if lower < 0.0:
        violation = max(violation, g - a_j)
    return violation


@njit(cache=True)
def box_subdiff_distance(w, grad, cols, a, b, lower, upper, out):
    """:func:`coordinate_violation` of every feature of ``cols`` (``grad`` indexed like ``cols``)."""
    for k in range(cols.shape[0]):
        j = cols[k]
        out[k] = coordinate_violation(w[j], grad[k], a[j], b[j], lower[j], upper[j])


@njit(cache=True)
def subdiff_distance(w, grad, cols, a, b, positive, out):
    """:func:`box_subdiff_distance` for no constraint or ``w >= 0`` (``positive``)."""
    lower = np.full(a.shape[0], 0.0 if positive else -np.inf)
    box_subdiff_distance(w, grad, cols, a, b, lower, np.full(a.shape[0], np.inf), out)


@njit(cache=True)
def penalty_change(w, cols, delta, t, a, b):
    """``g(w + t delta) - g(w)`` over ``cols``, summed term by term (both points feasible).

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
