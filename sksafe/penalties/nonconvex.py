"""Non-convex separable penalties: MCP and SCAD.

They are folded concave: equal to ``alpha |w|`` near zero (so they select
features like the Lasso) and constant for large ``|w|`` (so large coefficients are
not shrunk). The objective is then non-convex: there is no dual problem, hence no
duality gap and no Gap Safe screening. The solvers of
:mod:`sksafe.solvers.nonconvex` stop on the KKT (Clarke stationarity) violation
instead, and the fitted estimators say so (``certificate_ = "kkt"``,
``dual_gap_ = nan``).

Protocol read by those solvers::

    nonconvex_weights(n_features) -> (alpha, gamma, kind)

per-feature strengths ``alpha_j`` (a zero leaves the feature unpenalised), the
shape ``gamma`` and the kernel selector ``kind`` of
:mod:`sksafe.penalties._nonconvex_kernels`, where the formulas are written out.
"""
import numbers

import numpy as np

from ._nonconvex_kernels import (MCP_KIND, SCAD_KIND, nc_minimise_1d, nc_penalty_value,
                                 nc_violations)
from .base import BaseSeparablePenalty, check_bounds


class BaseNonconvexPenalty(BaseSeparablePenalty):
    """Base class of ``g(w) = sum_j p(w_j; alpha weights_j, gamma)`` with ``p`` folded concave.

    ``alpha_max`` (inherited) is the smallest ``alpha`` for which ``w = 0`` is a
    stationary point: the penalties have slope ``alpha_j`` at ``0+``, as the L1 norm.
    """

    family = "nonconvex"
    #: ``kind`` of :mod:`sksafe.penalties._nonconvex_kernels`
    _kind = None
    #: ``gamma`` must exceed this value (1 for MCP, 2 for SCAD)
    _gamma_min = None

    def _check_gamma(self):
        name = type(self).__name__
        if (isinstance(self.gamma, bool) or not isinstance(self.gamma, numbers.Real)
                or not np.isfinite(self.gamma) or self.gamma <= self._gamma_min):
            raise ValueError(f"{name} needs a finite gamma > {self._gamma_min:g}, "
                             f"got gamma={self.gamma!r}.")

    def unit_weights(self, n_features):
        if self.weights is None:
            return np.ones(n_features)
        name = type(self).__name__
        weights = np.asarray(self.weights, dtype=np.float64)
        if weights.ndim != 1 or weights.shape[0] != n_features:
            raise ValueError(f"{name} weights must have shape ({n_features},) to match X, "
                             f"got {weights.shape}.")
        if not np.all(np.isfinite(weights)) or np.any(weights < 0):
            raise ValueError(f"{name} weights must be finite and >= 0.")
        if self.positive and np.any(weights == 0):
            raise ValueError(f"{name} with positive=True does not support zero weights "
                             "(unpenalised non-negative coefficients).")
        return weights

    def nonconvex_weights(self, n_features):
        """``(alpha_j, gamma, kind)``: per-feature strengths, shape and kernel selector."""
        self._check_common()
        self._check_gamma()
        return (float(self.alpha) * self.unit_weights(n_features), float(self.gamma),
                self._kind)

    def box(self, n_features):
        """``(lower, upper)``: ``[0, inf)`` with ``positive``, else unbounded (no ``bounds``)."""
        return check_bounds(None, self.positive, n_features)

    def l1_l2_weights(self, n_features):
        raise ValueError(f"{type(self).__name__} is non-convex: it is not an elastic-net "
                         "penalty and has no dual (no duality gap, no Gap Safe screening).")

    def value(self, w):
        """Penalty value ``sum_j p(w_j)``."""
        w = np.asarray(w, dtype=np.float64)
        alpha, gamma, kind = self.nonconvex_weights(w.shape[0])
        return nc_penalty_value(w, np.arange(w.shape[0]), alpha, gamma, kind)

    def prox(self, w, step):
        """Coordinate-wise ``argmin_v ||v - w||^2 / (2 step) + g(v)`` (global minimiser).

        For ``step < gamma`` (MCP) or ``step < gamma - 1`` (SCAD) this is the
        firm-thresholding closed form; otherwise the 1-D problem is non-convex and
        the best of its piecewise candidates is returned.
        """
        w = np.asarray(w, dtype=np.float64)
        alpha, gamma, kind = self.nonconvex_weights(w.shape[0])
        return np.array([nc_minimise_1d(w[j], 1.0 / step, alpha[j], gamma, kind, self.positive)
                         for j in range(w.shape[0])])

    def subdiff_distance(self, w, grad):
        """Distance of ``-grad`` to the Clarke subdifferential of ``g`` at ``w`` (KKT violation)."""
        w = np.asarray(w, dtype=np.float64)
        alpha, gamma, kind = self.nonconvex_weights(w.shape[0])
        out = np.empty(w.shape[0])
        nc_violations(w, np.asarray(grad, dtype=np.float64), np.arange(w.shape[0]), alpha,
                      gamma, kind, self.positive, out)
        return out


class MCP(BaseNonconvexPenalty):
    """Minimax concave penalty (Zhang, Ann. Statist. 2010), non-convex.

    ``g(w) = sum_j p(|w_j|; alpha_j)`` with ``alpha_j = alpha * weights_j`` and::

        p(t; alpha) = alpha t - t^2 / (2 gamma)   if t <= gamma alpha
                      gamma alpha^2 / 2           otherwise

    the convention of ncvreg and of skglm's ``MCPenalty``. ``gamma -> inf`` gives
    the Lasso, ``gamma -> 1`` hard thresholding. The least-squares objective is
    convex when ``gamma`` exceeds the inverse of the smallest eigenvalue of the
    (weighted, centred) Gram matrix ``X^T S X``; otherwise the solvers return a
    stationary point.

    Parameters
    ----------
    alpha : float, default=1.0
        Regularisation strength (>= 0).
    gamma : float, default=3.0
        Concavity parameter, > 1.
    weights : array-like of shape (n_features,), default=None
        Non-negative per-feature factors of ``alpha`` (ncvreg's ``penalty.factor``);
        a zero leaves the feature unpenalised. ``None`` means all ones.
    positive : bool, default=False
        Constrain the coefficients to be non-negative.
    """

    _kind = MCP_KIND
    _gamma_min = 1.0

    def __init__(self, alpha=1.0, gamma=3.0, weights=None, positive=False):
        self.alpha = alpha
        self.gamma = gamma
        self.weights = weights
        self.positive = positive


class SCAD(BaseNonconvexPenalty):
    """Smoothly clipped absolute deviation penalty (Fan & Li, JASA 2001), non-convex.

    ``g(w) = sum_j p(|w_j|; alpha_j)`` with ``alpha_j = alpha * weights_j`` and::

        p(t; alpha) = alpha t                                        if t <= alpha
                      (2 gamma alpha t - t^2 - alpha^2) / (2 (gamma - 1))  if t <= gamma alpha
                      alpha^2 (gamma + 1) / 2                        otherwise

    (Fan & Li's ``a`` is ``gamma``; they suggest 3.7).

    Parameters
    ----------
    alpha : float, default=1.0
        Regularisation strength (>= 0).
    gamma : float, default=3.7
        Concavity parameter, > 2.
    weights : array-like of shape (n_features,), default=None
        Non-negative per-feature factors of ``alpha``; a zero leaves the feature
        unpenalised. ``None`` means all ones.
    positive : bool, default=False
        Constrain the coefficients to be non-negative.
    """

    _kind = SCAD_KIND
    _gamma_min = 2.0

    def __init__(self, alpha=1.0, gamma=3.7, weights=None, positive=False):
        self.alpha = alpha
        self.gamma = gamma
        self.weights = weights
        self.positive = positive
