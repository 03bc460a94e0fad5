"""Huber datafit ``F(z) = sum_i s_i h_delta(y_i - z_i)`` (robust regression)."""
import numbers

import numpy as np
from numba import njit

from .base import BaseDatafit


@njit(cache=True)
def huber_value(z, y, s, delta):
    val = 0.0
    for i in range(z.shape[0]):
        r = abs(y[i] - z[i])
        if r <= delta:
            val += s[i] * 0.5 * r * r
        else:
            val += s[i] * delta * (r - 0.5 * delta)
    return val


@njit(cache=True)
def huber_raw_grad(z, y, s, delta, out):
    for i in range(z.shape[0]):
        out[i] = s[i] * min(max(z[i] - y[i], -delta), delta)


@njit(cache=True)
def huber_raw_hessian(z, y, s, delta, out):
    for i in range(z.shape[0]):
        out[i] = s[i] if abs(z[i] - y[i]) <= delta else 0.0


@njit(cache=True)
def huber_dual_value(theta, y, s, delta):
    """``sum_i theta_i y_i - theta_i**2 / (2 s_i)`` on the box ``|theta_i| <= delta s_i``."""
    val = 0.0
    for i in range(theta.shape[0]):
        if s[i] == 0.0:
            if theta[i] != 0.0:
                return -np.inf
            continue
        if abs(theta[i]) > delta * s[i]:
            return -np.inf
        val += theta[i] * y[i] - 0.5 * theta[i] * theta[i] / s[i]
    return val


class Huber(BaseDatafit):
    r"""Huber loss, ``F(z) = sum_i s_i h_delta(y_i - z_i)``.

    ``h_delta(r) = r**2 / 2`` for ``|r| <= delta`` and ``delta (|r| - delta / 2)``
    beyond: quadratic near zero, linear in the tails, so a few gross outliers in
    ``y`` cannot dominate the fit (Huber, Ann. Math. Statist. 1964). ``delta`` is
    an absolute threshold in the units of ``y`` (scikit-learn's
    :class:`~sklearn.linear_model.HuberRegressor` instead scales it by a jointly
    estimated ``sigma``; skglm's ``Huber(delta)`` is the same loss as this one).

    The conjugate of ``h_delta`` is ``v**2 / 2`` on ``|v| <= delta``, so the dual
    term is the squared-loss dual restricted to a box::

        -F*(-theta) = sum_i theta_i y_i - theta_i**2 / (2 s_i),   |theta_i| <= delta s_i

    ``f'' in {0, 1}`` gives ``gamma = 1``; ``-grad F`` always lies in the box, and
    so does every rescaled dual point. A very large ``delta`` gives the Lasso.

    Parameters
    ----------
    delta : float, default=1.35
        Threshold between the quadratic and the linear zone (> 0).
    """

    gamma = 1.0
    hessian_bound = 1.0
    intercept_mode = "newton"

    def __init__(self, delta=1.35):
        self.delta = delta

    def _delta(self):
        delta = self.delta
        if (isinstance(delta, (bool, np.bool_)) or not isinstance(delta, numbers.Real)
                or not np.isfinite(delta) or delta <= 0):
            raise ValueError(f"delta must be a positive finite number, got {delta!r}.")
        return float(delta)

    def value(self, z, y, s):
        return huber_value(z, y, s, self._delta())

    def raw_grad(self, z, y, s, out):
        huber_raw_grad(z, y, s, self._delta(), out)

    def raw_hessian(self, z, y, s, out):
        huber_raw_hessian(z, y, s, self._delta(), out)

    def dual_value(self, theta, y, s):
        return huber_dual_value(theta, y, s, self._delta())

    def check_target(self, y):
        self._delta()
        return np.asarray(y, dtype=np.float64)
