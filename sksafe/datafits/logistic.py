"""Binary logistic datafit ``F(z) = sum_i s_i log(1 + exp(-y_i z_i))``, ``y_i in {-1, +1}``."""
import numpy as np
from numba import njit

from .base import BaseDatafit


@njit(cache=True)
def _log1pexp(t):
    """``log(1 + exp(t))`` without overflow."""
    if t > 0.0:
        return t + np.log1p(np.exp(-t))
    return np.log1p(np.exp(t))


@njit(cache=True)
def _sigmoid(t):
    if t >= 0.0:
        return 1.0 / (1.0 + np.exp(-t))
    e = np.exp(t)
    return e / (1.0 + e)


@njit(cache=True)
def logistic_value(z, y, s):
    val = 0.0
    for i in range(z.shape[0]):
        if s[i] > 0.0:
            val += s[i] * _log1pexp(-y[i] * z[i])
    return val


@njit(cache=True)
def logistic_raw_grad(z, y, s, out):
    for i in range(z.shape[0]):
        out[i] = -s[i] * y[i] * _sigmoid(-y[i] * z[i])


@njit(cache=True)
def logistic_raw_hessian(z, y, s, out):
    for i in range(z.shape[0]):
        p = _sigmoid(z[i])
        out[i] = s[i] * p * (1.0 - p)


@njit(cache=True)
def logistic_dual_value(theta, y, s):
    """``-sum_i s_i Nh(y_i theta_i / s_i)``, ``Nh(u) = u log u + (1 - u) log(1 - u)`` on [0, 1]."""
    val = 0.0
    for i in range(theta.shape[0]):
        if s[i] == 0.0:
            if theta[i] != 0.0:
                return -np.inf
            continue
        u = y[i] * theta[i] / s[i]
        if u < 0.0 or u > 1.0:
            return -np.inf
        if 0.0 < u < 1.0:
            val -= s[i] * (u * np.log(u) + (1.0 - u) * np.log1p(-u))
    return val


def _sigmoid_vector(t):
    """``1 / (1 + exp(-t))`` elementwise, from ``exp(-|t|)`` (no overflow)."""
    e = np.exp(-np.abs(t))
    p = np.where(t >= 0.0, 1.0, e)
    p /= 1.0 + e
    return p


def logistic_value_vector(z, y, s):
    """:func:`logistic_value` with numpy's SIMD ``exp``/``log1p`` (long vectors)."""
    t = -y * z
    terms = np.log1p(np.exp(-np.abs(t)))
    terms += np.maximum(t, 0.0)
    return float(s @ terms)  # zero weights: finite terms times 0


def logistic_raw_grad_vector(z, y, s, out):
    """:func:`logistic_raw_grad` with numpy's SIMD ``exp`` (long vectors)."""
    np.multiply(-s * y, _sigmoid_vector(-y * z), out=out)


def logistic_raw_hessian_vector(z, y, s, out):
    """:func:`logistic_raw_hessian` with numpy's SIMD ``exp`` (long vectors)."""
    p = _sigmoid_vector(z)
    np.multiply(s * p, 1.0 - p, out=out)


def logistic_dual_value_vector(theta, y, s):
    """:func:`logistic_dual_value` with numpy's SIMD ``log`` (long vectors).

    ``(1 - u) log(1 - u)`` is taken with ``log`` rather than ``log1p``: for small
    ``u`` its absolute error, about ``eps``, is far below that of the sum.
    """
    weighted = s > 0.0
    if weighted.all():
        u = y * theta
        u /= s
    else:
        if np.any(theta[~weighted] != 0.0):
            return -np.inf
        u = np.zeros(theta.shape[0])
        np.divide(y * theta, s, out=u, where=weighted)
    low, high = u.min(), u.max()
    if low < 0.0 or high > 1.0:
        return -np.inf
    v = 1.0 - u
    if low > 0.0 and high < 1.0:
        entropy = np.log(u)
        complement = np.log(v)
    else:  # 0 log 0 = 0
        entropy = np.log(u, out=np.zeros(u.shape[0]), where=u > 0.0)
        complement = np.log(v, out=np.zeros(u.shape[0]), where=v > 0.0)
    entropy *= u
    complement *= v
    entropy += complement
    return -float(s @ entropy)


class Logistic(BaseDatafit):
    """Binary logistic loss, ``F(z) = sum_i s_i log(1 + exp(-y_i z_i))``, ``y_i in {-1, +1}``.

    With uniform weights and penalty ``alpha ||w||_1`` this is scikit-learn's
    L1 ``LogisticRegression(C=C)`` objective (``l1_ratio=1``) divided by ``n C``,
    i.e. ``alpha = 1 / (n C)``. The conjugate term is the negative binary entropy;
    ``f'' <= 1/4`` makes the dual 4-strongly concave (``gamma = 4``). The
    intercept is an explicit unpenalised variable minimised exactly (1-D Newton)
    before every gap evaluation, so that the dual point satisfies
    ``sum_i theta_i = 0``.
    """

    gamma = 4.0
    hessian_bound = 0.25
    intercept_mode = "newton"
    is_classifier = True

    _kernels = (logistic_value, logistic_raw_grad, logistic_raw_hessian, logistic_dual_value)
    _vector_kernels = (logistic_value_vector, logistic_raw_grad_vector,
                       logistic_raw_hessian_vector, logistic_dual_value_vector)

    def check_target(self, y):
        y = np.asarray(y, dtype=np.float64)
        if not np.all((y == 1.0) | (y == -1.0)):
            raise ValueError("The Logistic datafit needs labels in {-1, +1}.")
        return y
