"""Poisson datafit (log link): half the Poisson deviance, counts ``y_i >= 0``."""
import numpy as np
from numba import njit

from .base import BaseDatafit

#: relative rounding of ``y_i - theta_i / s_i`` tolerated at the edge of the dual domain
_DOMAIN_ROUNDING = 1e-13


@njit(cache=True)
def _saturated(y_i):
    """``min_z exp(z) - y z = y - y log y`` (0 at ``y = 0``): the loss of a perfect fit."""
    if y_i > 0.0:
        return y_i - y_i * np.log(y_i)
    return 0.0


@njit(cache=True)
def poisson_value(z, y, s):
    val = 0.0
    for i in range(z.shape[0]):
        if s[i] > 0.0:
            val += s[i] * (np.exp(z[i]) - y[i] * z[i] - _saturated(y[i]))
    return val


@njit(cache=True)
def poisson_raw_grad(z, y, s, out):
    for i in range(z.shape[0]):
        out[i] = s[i] * (np.exp(z[i]) - y[i])


@njit(cache=True)
def poisson_raw_hessian(z, y, s, out):
    for i in range(z.shape[0]):
        out[i] = s[i] * np.exp(z[i])


@njit(cache=True)
def poisson_dual_value(theta, y, s):
    """``-sum_i s_i (u_i log u_i - u_i + y_i - y_i log y_i)``, ``u_i = y_i - theta_i / s_i >= 0``."""
    val = 0.0
    for i in range(theta.shape[0]):
        if s[i] == 0.0:
            if theta[i] != 0.0:
                return -np.inf
            continue
        u = y[i] - theta[i] / s[i]
        if u <= 0.0:
            # u = exp(z) > 0 for the dual points of the solvers, but y - (y - exp(z))
            # can round to a tiny negative number; the conjugate is continuous at 0
            if u < -_DOMAIN_ROUNDING * max(y[i], 1.0):
                return -np.inf
            val -= s[i] * _saturated(y[i])
            continue
        val -= s[i] * (u * np.log(u) - u + _saturated(y[i]))
    return val


class Poisson(BaseDatafit):
    r"""Poisson regression with the log link: half the mean Poisson deviance.

    ``F(z) = sum_i s_i (exp(z_i) - y_i z_i - y_i + y_i log y_i)`` with counts
    ``y_i >= 0`` (or rates with ``sample_weight`` as exposure) and mean
    ``exp(x_i^T w + b)``. The constant ``y_i log y_i - y_i`` (the loss of a perfect
    fit) makes ``F >= 0``, so that ``P(0) > 0`` and a relative duality gap makes
    sense; with uniform weights ``F`` is half of
    :func:`sklearn.metrics.mean_poisson_deviance`, the datafit of scikit-learn's
    :class:`~sklearn.linear_model.PoissonRegressor`. The conjugate term of the dual
    is::

        -F*(-theta) = -sum_i s_i (u_i log u_i - u_i + y_i - y_i log y_i),
        u_i = y_i - theta_i / s_i >= 0

    and the solvers' dual points ``theta = -kappa grad F(z)`` give
    ``u_i = (1 - kappa) y_i + kappa exp(z_i) >= 0``, so the duality gap certifies
    every fit. There is no global Gap Safe sphere, though: ``-F*`` has curvature
    ``s_i / u_i``, which vanishes as ``u_i`` grows, so the dual is not strongly
    concave (``gamma = None``) and no feature is screened. Safe rules for this
    loss need local strong concavity bounds (Dantas, Soubies & Fevotte, JMLR
    2021); working sets still make the solver fast. ``f''`` is unbounded too, so
    the FISTA solver does not apply (``hessian_bound = None``).
    """

    gamma = None
    hessian_bound = None
    intercept_mode = "newton"

    _kernels = (poisson_value, poisson_raw_grad, poisson_raw_hessian, poisson_dual_value)

    def intercept_shift(self, z, y, s):
        """``log(sum_i s_i y_i / sum_i s_i exp(z_i))``: ``F(z + c)`` is minimal where the
        weighted mean of ``exp(z + c)`` equals that of ``y`` (one pass, no Newton)."""
        return float(np.log((s @ y) / (s @ np.exp(z))))

    def check_target(self, y):
        y = np.asarray(y, dtype=np.float64)
        if np.any(y < 0):
            raise ValueError("The Poisson datafit needs non-negative targets (counts); "
                             f"got a minimum of {y.min():g}.")
        if not np.any(y > 0):
            raise ValueError("The Poisson datafit needs at least one positive target: with "
                             "all counts zero the optimum is at minus infinity.")
        return y
