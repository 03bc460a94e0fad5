"""Least-squares datafit ``F(z) = sum_i s_i (y_i - z_i)**2 / 2``."""
import numpy as np
from numba import njit

from .base import BaseDatafit


@njit(cache=True)
def quadratic_value(z, y, s):
    val = 0.0
    for i in range(z.shape[0]):
        r = y[i] - z[i]
        val += s[i] * r * r
    return 0.5 * val


@njit(cache=True)
def quadratic_raw_grad(z, y, s, out):
    for i in range(z.shape[0]):
        out[i] = s[i] * (z[i] - y[i])


@njit(cache=True)
def quadratic_raw_hessian(z, y, s, out):
    for i in range(z.shape[0]):
        out[i] = s[i]


@njit(cache=True)
def quadratic_dual_value(theta, y, s):
    """``sum_i theta_i y_i - theta_i**2 / (2 s_i)``; rows with ``s_i = 0`` need ``theta_i = 0``."""
    val = 0.0
    for i in range(theta.shape[0]):
        if s[i] > 0.0:
            val += theta[i] * y[i] - 0.5 * theta[i] * theta[i] / s[i]
        elif theta[i] != 0.0:
            return -np.inf
    return val


class Quadratic(BaseDatafit):
    """Least squares, ``F(z) = sum_i s_i (y_i - z_i)**2 / 2`` (``sum_i s_i = 1``).

    With uniform weights this is ``||y - z||**2 / (2 n)``, scikit-learn's
    :class:`~sklearn.linear_model.Lasso` convention. The conjugate term of the
    dual is ``sum_i theta_i y_i - theta_i**2 / (2 s_i)``, 1-strongly concave in
    the weighted norm (``gamma = 1``). The intercept is handled exactly by
    (implicit, never densifying) centring of X and y.
    """

    gamma = 1.0
    hessian_bound = 1.0
    intercept_mode = "centre"

    _kernels = (quadratic_value, quadratic_raw_grad, quadratic_raw_hessian, quadratic_dual_value)

    def zero_sum_dual(self, theta, y, s):
        """The projection ``theta - s sum(theta)`` (the dual domain is all of R^n)."""
        theta = np.asarray(theta, dtype=np.float64)
        return theta - s * theta.sum()

    def check_target(self, y):
        return np.asarray(y, dtype=np.float64)
