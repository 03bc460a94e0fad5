"""Coordinate descent on a quadratic given by its Gram matrix.

A working-set subproblem whose smooth part is quadratic,

    min_u  u^T G u / 2 - c^T u + sum_j a_j |u_j| + b_j u_j^2 / 2     (u_j >= 0 if positive)

needs only ``G`` (``m x m``, ``m`` the working-set size) and ``c``, never the
design itself. The distributed solver of :mod:`sksafe.distributed` builds them by
one reduction over row blocks (Lasso: ``G = X_W^T S X_W``, ``c = X_W^T S y``;
prox-Newton models: the Hessian-weighted Gram and the Newton linear term) and
solves the subproblem on the driver with the kernel below.

Two stopping rules:

* ``yy >= 0`` (least squares, ``P = ||y - X u||_s^2 / 2 + g(u)`` with
  ``yy = ||y||_s^2``): the duality gap of the subproblem, evaluated from ``G``,
  ``c`` and ``yy`` alone. With ``r = y - X u`` the dual candidate is
  ``theta = kappa S r``, ``X^T S r = c - G u``, ``||r||_s^2 = yy - 2 c^T u + u^T G u``
  and ``y^T S r = yy - c^T u`` (the dual of
  :func:`sksafe.solvers._kernels._quadratic_dual`, written in Gram form).
* ``yy < 0`` (a Newton model, whose dual has no meaning where curvatures vanish):
  the largest KKT violation ``<= tol``.
"""
import numpy as np
from numba import njit

from ..penalties._kernels import (conjugate_sum, coordinate_violation, dual_scaling,
                                  penalty_value, prox_1d)
from ._kernels import anderson_step


@njit(cache=True)
def _gram_gap(G, c, u, Gu, a, b, lower, upper, yy, all_cols):
    """Duality gap of the least-squares subproblem at ``u`` (see the module docstring)."""
    cu = 0.0
    uGu = 0.0
    for k in range(u.shape[0]):
        cu += c[k] * u[k]
        uGu += u[k] * Gu[k]
    rr = max(yy - 2.0 * cu + uGu, 0.0)
    corr = c - Gu
    kappa = dual_scaling(corr, all_cols, a, b, lower, upper)
    dual = kappa * (yy - cu) - 0.5 * kappa * kappa * rr
    dual -= conjugate_sum(corr, kappa, all_cols, a, b, lower, upper)
    primal = 0.5 * rr + penalty_value(u, all_cols, a, b)
    return primal - dual


@njit(cache=True)
def _gram_product(G, u, Gu):
    """``Gu = G @ u`` (loops, not ``@``: Numba's BLAS bindings cost seconds of compilation)."""
    Gu[:] = 0.0
    for k in range(u.shape[0]):
        if u[k] != 0.0:
            for i in range(u.shape[0]):
                Gu[i] += u[k] * G[i, k]


@njit(cache=True)
def _gram_objective(G, c, u, a, b):
    """``u^T G u / 2 - c^T u + g(u)`` (extrapolated points are kept only if it decreases)."""
    value = 0.0
    for k in range(u.shape[0]):
        if u[k] != 0.0:
            row = 0.0
            for i in range(u.shape[0]):
                row += G[k, i] * u[i]
            value += u[k] * (0.5 * row - c[k]) + a[k] * abs(u[k]) + 0.5 * b[k] * u[k] * u[k]
    return value


@njit(cache=True)
def gram_cd(G, c, u, a, b, positive, max_epochs, tol, yy, check_every, n_extrapolation=0):
    """Cyclic coordinate descent on ``u`` (updated in place) until the stopping rule holds.

    Parameters
    ----------
    G : ndarray of shape (m, m)
        Symmetric positive semi-definite Gram matrix of the working set.
    c : ndarray of shape (m,)
        Linear term.
    u : ndarray of shape (m,)
        Start point, overwritten by the solution.
    a, b : ndarray of shape (m,)
        L1 and L2 weights of the working-set coordinates.
    positive : bool
    max_epochs : int
    tol : float
        Gap (``yy >= 0``) or KKT violation (``yy < 0``) to reach.
    yy : float
        ``||y||_s^2`` of the least-squares problem, or ``-1`` for the KKT rule.
    check_every : int
        Epochs between two evaluations of the stopping rule.
    n_extrapolation : int, default=0
        Anderson extrapolation of the iterates every ``n_extrapolation + 1`` epochs
        (:func:`sksafe.solvers._kernels.anderson_step`), kept when it lowers
        the objective (0: none). It pays on badly conditioned ``G``, where coordinate
        descent alone converges linearly with a rate close to 1.

    Returns
    -------
    epochs : int
    criterion : float
        The last gap or KKT violation evaluated.
    """
    m = u.shape[0]
    all_cols = np.arange(m)
    # the box of the separable kernels: [0, inf) or free
    low = 0.0 if positive else -np.inf
    lower = np.full(m, low)
    upper = np.full(m, np.inf)
    Gu = np.zeros(m)
    _gram_product(G, u, Gu)
    history = np.empty((n_extrapolation + 1, m))
    n_hist = 0
    criterion = np.inf
    epochs = 0
    for epoch in range(max_epochs):
        if epoch % check_every == 0:
            if yy >= 0.0:
                criterion = _gram_gap(G, c, u, Gu, a, b, lower, upper, yy, all_cols)
            else:
                criterion = 0.0
                for k in range(m):
                    criterion = max(criterion, coordinate_violation(u[k], Gu[k] - c[k], a[k],
                                                                    b[k], low, np.inf))
            if criterion <= tol:
                break
        epochs = epoch + 1
        for k in range(m):
            curvature = G[k, k]
            if curvature <= 0.0:
                continue
            old = u[k]
            grad = Gu[k] - c[k]
            new = prox_1d(old - grad / curvature, 1.0 / curvature, a[k], b[k], low, np.inf)
            if new != old:
                step = new - old
                u[k] = new
                for i in range(m):
                    Gu[i] += step * G[i, k]
        if n_extrapolation > 0:
            history[n_hist] = u
            n_hist, ok, u_acc = anderson_step(history, n_hist)
            if ok:
                u_acc = np.maximum(u_acc, low)  # feasible with ``positive``
                if _gram_objective(G, c, u_acc, a, b) < _gram_objective(G, c, u, a, b):
                    u[:] = u_acc
                    _gram_product(G, u, Gu)
    return epochs, criterion
