"""Multi-task least squares ``F(Z) = sum_i s_i ||y_i - z_i||_2^2 / 2`` (rows of ``Y``, ``Z``)."""
import numpy as np
from numba import njit

from .base import BaseDatafit


@njit(cache=True)
def multitask_value(Z, Y, s):
    val = 0.0
    for i in range(Z.shape[0]):
        row = 0.0
        for t in range(Z.shape[1]):
            r = Y[i, t] - Z[i, t]
            row += r * r
        val += s[i] * row
    return 0.5 * val


@njit(cache=True)
def multitask_raw_grad(Z, Y, s, out):
    for i in range(Z.shape[0]):
        for t in range(Z.shape[1]):
            out[i, t] = s[i] * (Z[i, t] - Y[i, t])


@njit(cache=True)
def multitask_raw_hessian(Z, Y, s, out):
    for i in range(Z.shape[0]):
        for t in range(Z.shape[1]):
            out[i, t] = s[i]


@njit(cache=True)
def multitask_dual_value(Theta, Y, s):
    """``sum_{i,t} Theta_it Y_it - Theta_it**2 / (2 s_i)``; rows with ``s_i = 0`` need ``Theta_i = 0``."""
    val = 0.0
    for i in range(Theta.shape[0]):
        for t in range(Theta.shape[1]):
            theta = Theta[i, t]
            if s[i] > 0.0:
                val += theta * Y[i, t] - 0.5 * theta * theta / s[i]
            elif theta != 0.0:
                return -np.inf
    return val


class QuadraticMultiTask(BaseDatafit):
    """Multi-task least squares, ``F(Z) = sum_i s_i ||y_i - z_i||^2 / 2`` (``sum_i s_i = 1``).

    ``Y`` has shape ``(n_samples, n_tasks)``; with uniform weights this is
    ``||Y - Z||_F^2 / (2 n)``, scikit-learn's :class:`~sklearn.linear_model.MultiTaskLasso`
    convention. The dual term ``sum_{i,t} Theta_it Y_it - Theta_it^2 / (2 s_i)`` is
    1-strongly concave in the norm ``sum_i ||theta_i||^2 / s_i`` (``gamma = 1``); the
    intercepts (one per task) are eliminated exactly by implicit centring.
    """

    gamma = 1.0
    hessian_bound = 1.0
    intercept_mode = "centre"
    multi_output = True

    _kernels = (multitask_value, multitask_raw_grad, multitask_raw_hessian, multitask_dual_value)

    def zero_sum_dual(self, theta, y, s):
        """The projection ``Theta - s sum_i(Theta_i)`` (the dual domain is the whole space)."""
        theta = np.asarray(theta, dtype=np.float64)
        return theta - s[:, None] * theta.sum(axis=0)

    def check_target(self, y):
        y = np.asarray(y, dtype=np.float64)
        if y.ndim != 2:
            raise ValueError(f"QuadraticMultiTask needs Y of shape (n_samples, n_tasks), got "
                             f"an array of shape {y.shape}.")
        return np.ascontiguousarray(y)
