"""Jitted kernels of the non-convex separable penalties MCP and SCAD.

Each feature carries its own strength ``alpha_j`` and both penalties share one
shape parameter ``gamma``; ``kind`` selects the penalty (:data:`MCP_KIND`,
:data:`SCAD_KIND`). With ``t = |v|``:

MCP (Zhang, Ann. Statist. 2010), ``gamma > 1``::

    p(t) = alpha t - t^2 / (2 gamma)          if t <= gamma alpha
           gamma alpha^2 / 2                  otherwise

SCAD (Fan & Li, JASA 2001), ``gamma > 2``::

    p(t) = alpha t                                          if t <= alpha
           (2 gamma alpha t - t^2 - alpha^2) / (2 (gamma - 1))   if t <= gamma alpha
           alpha^2 (gamma + 1) / 2                          otherwise

Both are differentiable away from 0 and have the Clarke subdifferential
``[-alpha, alpha]`` at 0, which makes the KKT (stationarity) violation of a
coordinate the distance of ``-grad_j`` to that set, as for the L1 norm.

The coordinate-wise minimiser of ``L (v - u)^2 / 2 + p(v)`` is the firm
thresholding operator of Breheny & Huang (Ann. Appl. Stat. 2011, eq. 2.4 and
2.5; their ``L = 1`` for standardised columns) written for a coordinate of
curvature ``L``. Its closed form needs the 1-D objective to be convex:
``L gamma > 1`` for MCP, ``L (gamma - 1) > 1`` for SCAD. Otherwise each piece of
the objective is still a quadratic on an interval, convex or concave, and the
global minimiser is the best of the pieces' candidates (stationary point clipped
to the piece where it is convex, its end points where it is concave): coordinate
descent then stays monotone instead of taking the formula out of its domain.
"""
import numpy as np
from numba import njit

#: ``kind`` of the minimax concave penalty
MCP_KIND = 0
#: ``kind`` of the smoothly clipped absolute deviation penalty
SCAD_KIND = 1


@njit(cache=True)
def nc_value_abs(t, alpha, gamma, kind):
    """``p(t)`` for ``t = |v| >= 0``."""
    if kind == MCP_KIND:
        if t <= gamma * alpha:
            return alpha * t - 0.5 * t * t / gamma
        return 0.5 * gamma * alpha * alpha
    if t <= alpha:
        return alpha * t
    if t <= gamma * alpha:
        return (2.0 * gamma * alpha * t - t * t - alpha * alpha) / (2.0 * (gamma - 1.0))
    return 0.5 * alpha * alpha * (gamma + 1.0)


@njit(cache=True)
def nc_slope(t, alpha, gamma, kind):
    """``p'(t)`` for ``t > 0`` (right derivative ``alpha`` at 0)."""
    if kind == MCP_KIND:
        return max(alpha - t / gamma, 0.0)
    if t <= alpha:
        return alpha
    return max(gamma * alpha - t, 0.0) / (gamma - 1.0)


@njit(cache=True)
def _piece_objective(v, x, curvature, alpha, gamma, kind):
    d = v - x
    return 0.5 * curvature * d * d + nc_value_abs(v, alpha, gamma, kind)


@njit(cache=True)
def nc_minimise_1d(u, curvature, alpha, gamma, kind, positive):
    """``argmin_v curvature (v - u)^2 / 2 + p(v)`` (``v >= 0`` if positive); global minimiser."""
    if positive and u <= 0.0:
        return 0.0
    if alpha == 0.0:
        return u
    x = abs(u)
    sign = 1.0 if u > 0.0 else -1.0
    thr = alpha / curvature
    if kind == MCP_KIND:
        if curvature * gamma > 1.0:  # firm thresholding
            if x <= thr:
                return 0.0
            if x <= gamma * alpha:
                return sign * (x - thr) / (1.0 - 1.0 / (gamma * curvature))
            return u
        # concave on [0, gamma alpha]: its end points, or the flat part's minimiser
        far = max(x, gamma * alpha)
        if (_piece_objective(far, x, curvature, alpha, gamma, kind)
                < _piece_objective(0.0, x, curvature, alpha, gamma, kind)):
            return sign * far
        return 0.0
    slope_den = curvature * (gamma - 1.0)
    if slope_den > 1.0:  # Fan & Li's thresholding rule
        if x <= thr:
            return 0.0
        if x <= alpha + thr:
            return sign * (x - thr)
        if x <= gamma * alpha:
            return sign * (slope_den * x - gamma * alpha) / (slope_den - 1.0)
        return u
    # middle piece concave: the linear piece's minimiser, both break points, the flat piece's
    best = min(max(x - thr, 0.0), alpha)
    best_value = _piece_objective(best, x, curvature, alpha, gamma, kind)
    for v in (alpha, gamma * alpha, max(x, gamma * alpha)):
        value = _piece_objective(v, x, curvature, alpha, gamma, kind)
        if value < best_value:
            best, best_value = v, value
    return sign * best


@njit(cache=True)
def nc_violation(w_j, grad_j, alpha, gamma, kind, positive):
    """Distance of ``-grad_j`` to the Clarke subdifferential of ``p`` (+ ``w_j >= 0``) at ``w_j``."""
    if w_j != 0.0:
        slope = nc_slope(abs(w_j), alpha, gamma, kind)
        return abs(grad_j + (slope if w_j > 0.0 else -slope))
    if positive:
        return max(0.0, -grad_j - alpha)
    return max(0.0, abs(grad_j) - alpha)


@njit(cache=True)
def nc_penalty_value(w, cols, alpha, gamma, kind):
    """``sum_{j in cols} p_j(w_j)`` (float64 accumulator)."""
    total = 0.0
    for k in range(cols.shape[0]):
        j = cols[k]
        if w[j] != 0.0:
            total += nc_value_abs(abs(w[j]), alpha[j], gamma, kind)
    return total


@njit(cache=True)
def nc_penalty_change(w, cols, delta, t, alpha, gamma, kind):
    """``sum_{k} p_j(w_j + t delta_k) - p_j(w_j)`` over ``j = cols[k]``, term by term."""
    change = 0.0
    for k in range(cols.shape[0]):
        step = t * delta[k]
        if step != 0.0:
            j = cols[k]
            change += (nc_value_abs(abs(w[j] + step), alpha[j], gamma, kind)
                       - nc_value_abs(abs(w[j]), alpha[j], gamma, kind))
    return change


@njit(cache=True)
def nc_violations(w, grad, cols, alpha, gamma, kind, positive, out):
    """:func:`nc_violation` of every feature of ``cols`` (``grad`` indexed like ``cols``)."""
    for k in range(cols.shape[0]):
        j = cols[k]
        out[k] = nc_violation(w[j], grad[k], alpha[j], gamma, kind, positive)
