"""The penalty protocol.

A penalty is a small scikit-learn-style parameter object (so that ``clone``,
``get_params`` and ``repr`` work inside estimators). Penalties of the separable
elastic-net family implement:

``l1_l2_weights(n_features) -> (a, b)``
    per-feature L1 weights ``a_j`` and L2 weights ``b_j`` (float64 arrays), so
    that the penalty is ``sum_j a_j |w_j| + b_j w_j**2 / 2``.
``positive``
    whether coefficients are constrained to be non-negative.
``unit_weights(n_features)``
    the L1 weights for ``alpha = 1``: they define ``alpha_max``.
``with_alpha(alpha)``
    a copy with another regularisation strength (used along paths).

Everything else (value, proximal operator, dual norm, screening test) is
derived from ``(a, b, positive)`` by the jitted kernels of
:mod:`sksafe.penalties._kernels`, shared by all solvers.
"""
import numbers

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_scalar

from ._kernels import penalty_value, prox_1d, subdiff_distance


class BaseSeparablePenalty(BaseEstimator):
    """Base class of ``g(w) = sum_j a_j |w_j| + b_j w_j**2 / 2`` penalties."""

    #: penalty family understood by the solvers
    family = "separable_elastic_net"

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
        """Return a copy of the penalty with regularisation strength ``alpha``."""
        return self.__class__(**{**self.get_params(), "alpha": alpha})

    def value(self, w):
        """Penalty value ``sum_j a_j |w_j| + b_j w_j**2 / 2``."""
        w = np.asarray(w, dtype=np.float64)
        a, b = self.l1_l2_weights(w.shape[0])
        return penalty_value(w, np.arange(w.shape[0]), a, b)

    def prox(self, w, step):
        """Proximal operator ``argmin_v ||v - w||**2 / (2 step) + g(v)``, coordinate-wise."""
        w = np.asarray(w, dtype=np.float64)
        a, b = self.l1_l2_weights(w.shape[0])
        return np.array([prox_1d(w[j], step, a[j], b[j], self.positive)
                         for j in range(w.shape[0])])

    def subdiff_distance(self, w, grad):
        """Distance of ``-grad`` to the subdifferential of ``g`` at ``w`` (KKT violation)."""
        w = np.asarray(w, dtype=np.float64)
        a, b = self.l1_l2_weights(w.shape[0])
        out = np.empty(w.shape[0])
        subdiff_distance(w, np.asarray(grad, dtype=np.float64), np.arange(w.shape[0]),
                         a, b, self.positive, out)
        return out

    def alpha_max(self, neg_grad):
        """Smallest ``alpha`` for which ``w = 0`` is optimal.

        ``neg_grad`` is minus the gradient of the datafit at ``w = 0`` (with the
        unpenalised coordinates at their optimum). Features with a zero unit
        weight are unpenalised and do not count.
        """
        neg_grad = np.asarray(neg_grad, dtype=np.float64)
        unit = self.unit_weights(neg_grad.shape[0])
        eff = np.maximum(neg_grad, 0.0) if self.positive else np.abs(neg_grad)
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
