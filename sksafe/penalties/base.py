"""The penalty protocol.

A penalty is a small scikit-learn-style parameter object (so that ``clone``,
``get_params`` and ``repr`` work inside estimators). Penalties of the separable
elastic-net family implement:

``l1_l2_weights(n_features) -> (a, b)``
    per-feature L1 weights ``a_j`` and L2 weights ``b_j`` (float64 arrays), so
    that the penalty is ``sum_j a_j |w_j| + b_j w_j**2 / 2``.
``box(n_features) -> (lower, upper)``
    per-feature bounds ``lower_j <= w_j <= upper_j`` (float64 arrays, ``lower <= 0 <=
    upper``, infinite where a side is free), from the ``positive`` flag and the
    ``bounds`` parameter (see :func:`check_bounds`).
``unit_weights(n_features)``
    the L1 weights for ``alpha = 1``: they define ``alpha_max``.
``with_alpha(alpha)``
    a copy with another regularisation strength (used along paths).

Everything else (value, proximal operator, dual norm, screening test) is
derived from ``(a, b, lower, upper)`` by the jitted kernels of
:mod:`sksafe.penalties._kernels`, shared by all solvers.
"""
import copy
import numbers

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_scalar

from ._kernels import box_subdiff_distance, effective_correlations, penalty_value, prox_1d


def check_bounds(bounds, positive, n_features):
    """Validate box constraints and return ``(lower, upper)`` float64 arrays.

    ``bounds`` is ``None`` (no constraint) or a pair ``(lower, upper)``, each a
    scalar or an array of shape ``(n_features,)``, as the ``bounds`` of
    :func:`scipy.optimize.lsq_linear`; ``-np.inf`` / ``np.inf`` leave a side free.
    ``lower <= 0 <= upper`` is required, so that ``w = 0`` stays feasible (and
    ``alpha_max`` keeps its meaning: the smallest ``alpha`` with ``w = 0`` optimal).
    ``positive=True`` intersects the box with ``w >= 0``.
    """
    lower = np.full(n_features, -np.inf)
    upper = np.full(n_features, np.inf)
    if bounds is not None:
        if isinstance(bounds, (str, bytes)) or not hasattr(bounds, "__len__") or len(bounds) != 2:
            raise ValueError(f"bounds must be None or a pair (lower, upper), got {bounds!r}.")
        for name, value, out in (("lower", bounds[0], lower), ("upper", bounds[1], upper)):
            try:
                value = np.asarray(value, dtype=np.float64)
            except (TypeError, ValueError):
                raise ValueError(f"the {name} bound must be a number or an array of numbers, "
                                 f"got {value!r}.") from None
            if value.ndim > 1 or (value.ndim == 1 and value.shape[0] != n_features):
                raise ValueError(f"the {name} bound must be a scalar or have shape "
                                 f"({n_features},) to match X, got shape {value.shape}.")
            if np.any(np.isnan(value)):
                raise ValueError(f"the {name} bound contains NaN.")
            out[:] = value
        if np.any(lower > 0):
            raise ValueError(f"lower bounds must be <= 0 so that w = 0 is feasible; got "
                             f"{lower[lower > 0][:5].tolist()} at feature(s) "
                             f"{np.flatnonzero(lower > 0)[:5].tolist()}.")
        if np.any(upper < 0):
            raise ValueError(f"upper bounds must be >= 0 so that w = 0 is feasible; got "
                             f"{upper[upper < 0][:5].tolist()} at feature(s) "
                             f"{np.flatnonzero(upper < 0)[:5].tolist()}.")
    if positive:
        np.maximum(lower, 0.0, out=lower)
    return lower, upper


def as_box(box, n_features):
    """``(lower, upper)`` float64 arrays from a box, or from a positivity flag.

    Solvers written for positivity only (:mod:`sksafe.distributed`) pass the
    ``positive`` bool where the separable machinery takes ``(lower, upper)``.
    """
    if isinstance(box, (bool, np.bool_)):
        return check_bounds(None, bool(box), n_features)
    return box


def unpenalised_mask(a, b, box):
    """Features the solvers minimise exactly, without penalty or constraint (zero weights).

    A zero-weight feature with (finite) bounds is an ordinary coordinate for the
    solvers: its conjugate is finite, so it needs no exact minimisation.
    """
    lower, upper = box
    return (a == 0) & (b == 0) & (lower == -np.inf) & (upper == np.inf)


class BaseSeparablePenalty(BaseEstimator):
    """Base class of ``g(w) = sum_j a_j |w_j| + b_j w_j**2 / 2 + indicator(l <= w <= u)``."""

    #: penalty family understood by the solvers
    family = "separable_elastic_net"
    #: no box constraint unless a subclass takes ``bounds`` (see :func:`check_bounds`)
    bounds = None

    def _check_alpha(self):
        if not isinstance(self.alpha, numbers.Real) or isinstance(self.alpha, bool):
            raise ValueError(f"alpha must be a real number, got {self.alpha!r}.")
        if not np.isfinite(self.alpha) or self.alpha < 0:
            raise ValueError(f"alpha must be a finite number >= 0, got {self.alpha!r}.")

    def l1_l2_weights(self, n_features):
        """Return the L1 and L2 weights ``(a, b)`` as float64 arrays of length ``n_features``."""
        raise NotImplementedError

    def unit_weights(self, n_features):
        """L1 weights of the penalty with ``alpha = 1`` (defines ``alpha_max``)."""
        raise NotImplementedError

    def with_alpha(self, alpha):
        """Return a copy of the penalty with regularisation strength ``alpha``.

        A shallow copy with ``alpha`` replaced, the same object as rebuilding it from
        ``get_params()`` (``__init__`` only stores its arguments, scikit-learn's
        convention), without the signature introspection of ``get_params``: 0.07 ms
        per call, twice per fit of a path.
        """
        penalty = copy.copy(self)
        penalty.alpha = alpha
        return penalty

    def box(self, n_features):
        """Bounds ``(lower, upper)`` of the coefficients, float64 arrays (see :func:`check_bounds`).

        A feature with neither an L1 nor an L2 weight and a constraint must have
        both bounds finite: with a free side its conjugate is the indicator of a
        half-line that no rescaling of the dual point can reach (the duality gap
        would not certify anything), e.g. ``L1(alpha=0, positive=True)``.
        """
        lower, upper = check_bounds(self.bounds, self.positive, n_features)
        constrained = (lower > -np.inf) | (upper < np.inf)
        if np.any(constrained):
            a, b = self.l1_l2_weights(n_features)
            bad = (a == 0) & (b == 0) & constrained & ((lower == -np.inf) | (upper == np.inf))
            if np.any(bad):
                raise ValueError(
                    f"{type(self).__name__}: feature(s) {np.flatnonzero(bad)[:5].tolist()} "
                    "are constrained on one side only and unpenalised (alpha = 0 or a zero "
                    "weight): give them finite lower and upper bounds, or a penalty > 0.")
        return lower, upper

    def effective_correlation(self, corr):
        """``|corr_j|``, ``corr_j`` (only ``w_j >= 0`` allowed), ``-corr_j`` (only ``w_j <= 0``)
        or ``-inf`` (``w_j`` fixed at 0): what ``a_j`` bounds in the dual and the screening."""
        corr = np.asarray(corr, dtype=np.float64)
        lower, upper = self.box(corr.shape[0])
        out = np.empty(corr.shape[0])
        effective_correlations(corr, np.arange(corr.shape[0]), lower, upper, out)
        return out

    def value(self, w):
        """Penalty value ``sum_j a_j |w_j| + b_j w_j**2 / 2``.

        The indicator of the box is left out (the solvers' iterates are feasible);
        :func:`sksafe.solvers.duality_gap` reports an infinite gap outside the box.
        """
        w = np.asarray(w, dtype=np.float64)
        a, b = self.l1_l2_weights(w.shape[0])
        return penalty_value(w, np.arange(w.shape[0]), a, b)

    def prox(self, w, step):
        """Proximal operator ``argmin_v ||v - w||**2 / (2 step) + g(v)``, coordinate-wise."""
        w = np.asarray(w, dtype=np.float64)
        a, b = self.l1_l2_weights(w.shape[0])
        lower, upper = self.box(w.shape[0])
        return np.array([prox_1d(w[j], step, a[j], b[j], lower[j], upper[j])
                         for j in range(w.shape[0])])

    def subdiff_distance(self, w, grad):
        """Distance of ``-grad`` to the subdifferential of ``g`` at ``w`` (KKT violation)."""
        w = np.asarray(w, dtype=np.float64)
        a, b = self.l1_l2_weights(w.shape[0])
        lower, upper = self.box(w.shape[0])
        out = np.empty(w.shape[0])
        box_subdiff_distance(w, np.asarray(grad, dtype=np.float64), np.arange(w.shape[0]),
                             a, b, lower, upper, out)
        return out

    def alpha_max(self, neg_grad):
        """Smallest ``alpha`` for which ``w = 0`` is optimal.

        ``neg_grad`` is minus the gradient of the datafit at ``w = 0`` (with the
        unpenalised coordinates at their optimum). Features with a zero unit
        weight are unpenalised and do not count.
        """
        neg_grad = np.asarray(neg_grad, dtype=np.float64)
        unit = self.unit_weights(neg_grad.shape[0])
        # a correlation pointing to a side the box closes (or a feature fixed at 0) does
        # not move the feature from 0: only the non-negative part of it counts
        eff = np.maximum(self.effective_correlation(neg_grad), 0.0)
        penalised = unit > 0
        if not np.any(penalised):
            return np.inf
        return float(np.max(eff[penalised] / unit[penalised]))

    def _check_common(self):
        self._check_alpha()
        if not isinstance(self.positive, (bool, np.bool_)):
            raise ValueError(f"positive must be a bool, got {self.positive!r}.")


def check_l1_ratio(l1_ratio):
    """Validate an elastic-net mixing parameter (``ValueError`` outside [0, 1])."""
    if isinstance(l1_ratio, bool) or not isinstance(l1_ratio, numbers.Real):
        raise ValueError(f"l1_ratio must be a real number in [0, 1], got {l1_ratio!r}.")
    if not 0.0 <= l1_ratio <= 1.0:  # also catches NaN, which check_scalar lets through
        raise ValueError(f"l1_ratio must be in [0, 1], got {l1_ratio!r}.")
    try:
        check_scalar(float(l1_ratio), "l1_ratio", numbers.Real, min_val=0.0, max_val=1.0)
    except (TypeError, ValueError):
        raise ValueError(f"l1_ratio must be in [0, 1], got {l1_ratio!r}.") from None
