"""Multinomial logistic (softmax cross-entropy) datafit on a score matrix ``Z`` (n x K)."""
import numpy as np
from numba import njit

from .base import BaseDatafit


@njit(cache=True)
def _softmax_row(Z, i, out):
    top = Z[i, 0]
    for k in range(1, Z.shape[1]):
        top = max(top, Z[i, k])
    total = 0.0
    for k in range(Z.shape[1]):
        out[k] = np.exp(Z[i, k] - top)
        total += out[k]
    for k in range(Z.shape[1]):
        out[k] /= total
    return top + np.log(total)


@njit(cache=True)
def multinomial_value(Z, Y, s):
    """``sum_i s_i (logsumexp(z_i) - z_i^T y_i)`` (float64 accumulator)."""
    p = np.empty(Z.shape[1])
    val = 0.0
    for i in range(Z.shape[0]):
        if s[i] == 0.0:
            continue
        lse = _softmax_row(Z, i, p)
        dot = 0.0
        for k in range(Z.shape[1]):
            dot += Z[i, k] * Y[i, k]
        val += s[i] * (lse - dot)
    return val


@njit(cache=True)
def multinomial_raw_grad(Z, Y, s, out):
    p = np.empty(Z.shape[1])
    for i in range(Z.shape[0]):
        _softmax_row(Z, i, p)
        for k in range(Z.shape[1]):
            out[i, k] = s[i] * (p[k] - Y[i, k])


@njit(cache=True)
def multinomial_raw_hessian(Z, Y, s, out):
    """Diagonal of each sample's Hessian, ``s_i p_ik (1 - p_ik)``."""
    p = np.empty(Z.shape[1])
    for i in range(Z.shape[0]):
        _softmax_row(Z, i, p)
        for k in range(Z.shape[1]):
            out[i, k] = s[i] * p[k] * (1.0 - p[k])


@njit(cache=True)
def multinomial_dual_value(Theta, Y, s):
    """``-sum_i s_i sum_k q_ik log q_ik`` with ``q_i = y_i - theta_i / s_i``; ``-inf`` if a
    ``q_i`` leaves the probability simplex (beyond rounding)."""
    val = 0.0
    K = Theta.shape[1]
    for i in range(Theta.shape[0]):
        if s[i] == 0.0:
            for k in range(K):
                if Theta[i, k] != 0.0:
                    return -np.inf
            continue
        total = 0.0
        entropy = 0.0
        for k in range(K):
            q = Y[i, k] - Theta[i, k] / s[i]
            if q < -1e-12 or q > 1.0 + 1e-12:
                return -np.inf
            q = min(max(q, 0.0), 1.0)
            total += q
            if q > 0.0:
                entropy -= q * np.log(q)
        if abs(total - 1.0) > 1e-9:
            return -np.inf
        val += s[i] * entropy
    return val


class Multinomial(BaseDatafit):
    """Multinomial logistic loss, ``F(Z) = sum_i s_i (log sum_k exp(z_ik) - z_i^T y_i)``.

    ``Y`` is the one-hot matrix of the labels, shape ``(n_samples, n_classes)``
    (:meth:`check_target` also takes a label vector). The conjugate of the loss of
    one sample is the negative entropy of ``q = y_i - theta_i / s_i`` on the
    probability simplex, so the dual is ``D(Theta) = sum_i s_i H(q_i)`` with ``H`` the
    Shannon entropy (nats). Each sample's Hessian ``s_i (diag(p_i) - p_i p_i^T)`` is
    bounded by ``s_i / 2`` (Bohning, 1992), so the dual is 2-strongly concave in the
    weighted norm (``gamma = 2``). The intercepts (one per class) are explicit and
    minimised exactly before every gap evaluation.
    """

    gamma = 2.0
    hessian_bound = 0.5
    intercept_mode = "newton"
    is_classifier = True
    multi_output = True

    _kernels = (multinomial_value, multinomial_raw_grad, multinomial_raw_hessian,
                multinomial_dual_value)

    def intercept_hessian(self, Z, Y, s):
        """``sum_i s_i (diag(p_i) - p_i p_i^T)``: the Hessian in the intercepts."""
        shifted = Z - Z.max(axis=1, keepdims=True)
        P = np.exp(shifted)
        P /= P.sum(axis=1, keepdims=True)
        return np.diag(s @ P) - (P * s[:, None]).T @ P

    def zero_sum_dual(self, theta, y, s):
        """A dual point with zero column sums, in the domain, close to ``theta``.

        With ``q_i = y_i - theta_i / s_i`` on the simplex, zero column sums mean
        ``sum_i s_i q_i = pi`` (the weighted class frequencies). Exact intercepts leave
        an error ``e = sum_i s_i q_i - pi`` at rounding level; mixing every ``q_i``
        with the distribution ``v = pi - (1 - t) e / t`` (``sum(v) = 1``; ``v >= 0`` for
        ``t`` large enough) gives ``(1 - t)(pi + e) + t v = pi`` exactly while each
        mixed ``q_i`` stays on the simplex.
        """
        theta = np.asarray(theta, dtype=np.float64)
        pi = s @ y
        positive = s > 0
        Q = np.zeros_like(theta)
        Q[positive] = y[positive] - theta[positive] / s[positive, None]
        error = s @ Q - pi
        if not np.any(error):
            return theta
        support = pi > 0
        t = min(1.0, 2.0 * np.max(np.abs(error[support]) / pi[support]) + 1e-15)
        v = pi - (1.0 - t) * error / t
        v = np.where(support, np.maximum(v, 0.0), 0.0)
        v /= v.sum()
        Q = (1.0 - t) * Q + t * v
        out = np.zeros_like(theta)
        out[positive] = s[positive, None] * (y[positive] - Q[positive])
        return out

    def check_target(self, y):
        y = np.asarray(y, dtype=np.float64)
        if y.ndim != 2 or y.shape[1] < 2:
            raise ValueError("Multinomial needs a one-hot label matrix of shape "
                             f"(n_samples, n_classes >= 2), got shape {y.shape}.")
        if not (np.all((y == 0) | (y == 1)) and np.all(y.sum(axis=1) == 1)):
            raise ValueError("Multinomial targets must be one-hot rows (one 1 per sample).")
        return np.ascontiguousarray(y)
