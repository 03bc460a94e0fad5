"""FISTA with dynamic Gap Safe screening: the general fallback for any smooth datafit.

Beck & Teboulle (SIAM J. Imaging Sci. 2009) with the adaptive restart of
O'Donoghue & Candes (Found. Comput. Math. 2015). With an intercept the iterates
are ``(w, c)`` in centred coordinates, ``z = (X - 1 m^T) w + c`` with ``m`` the
weighted column means (``b = c - m^T w``): the gradient step is then as well
conditioned as on centred data, whatever the offsets of the columns (a column
of mean 100 would otherwise make FISTA crawl). Every ``gap_freq`` iterations
the intercept and unpenalised coordinates of a *copy* of the iterate are
minimised exactly (so the momentum sequence is untouched), the duality gap is
evaluated at that copy and the Gap Safe test removes features for good.
"""
import copy

import numpy as np

from ..penalties._kernels import penalty_value, prox_1d
from ..screening.gap_safe import SeparableGeometry
from ._design import add_columns, xt_dot
from ._states import ProxNewtonState


def lipschitz_constant(problem, datafit, cols, n_power_iter=100, seed=0):
    """Upper bound of the Lipschitz constant of ``grad F(X_c w + c)`` in ``(w, c)``.

    ``hessian_bound * ||S^(1/2) [X_c[:, cols], 1]||_2^2`` (``X_c`` the centred design
    with an intercept, ``X`` without) by power iteration, inflated by 1 % to stay an
    upper bound despite the finite number of iterations.
    """
    pb = problem
    means = _offsets(pb)[cols]
    v = np.random.default_rng(seed).standard_normal(cols.size + 1)
    if not pb.fit_intercept:
        v[-1] = 0.0
    eig = 0.0
    out = np.empty(cols.size)
    for _ in range(n_power_iter):
        v /= np.linalg.norm(v)
        u = np.full(pb.n_samples, v[-1] - means @ v[:-1])
        add_columns(pb.X, cols, v[:-1], u)
        u *= pb.s  # X^T S X: the weights enter once, as S^(1/2) on both sides
        xt_dot(pb.X, u, cols, out)
        total = u.sum()
        out -= means * total
        v_new = np.append(out, total if pb.fit_intercept else 0.0)
        eig = float(v @ v_new)
        v = v_new
    return 1.01 * datafit.hessian_bound * max(eig, 1e-300)


def _offsets(problem):
    """Weighted column means with an intercept (centred coordinates), zeros without."""
    if problem.fit_intercept:
        return problem.x_mean
    return np.zeros(problem.n_features)


def _linear_predictor(problem, w, c, means):
    """``z = X w + c - m^T w`` (the centred-coordinate predictor)."""
    nz = np.flatnonzero(w)
    z = np.full(problem.n_samples, c - means[nz] @ w[nz])
    add_columns(problem.X, nz, w[nz], z)
    return z


def fista_loop(problem, datafit, a, b, box, unpenalised, coef0, intercept0, screened_at, *,
               tol_abs, max_iter, screening, verbose, start, primal_zero, gap_freq=10):
    """Run FISTA from ``(coef0, intercept0)``; returns ``(state, iterations, history)``.

    ``box = (lower, upper)`` are the bounds of the coefficients: the prox clips, so
    every iterate ``w`` is feasible (the extrapolated points need not be).
    """
    from .working_set import NOT_SCREENED, check_gap_and_screen

    pb = problem
    means = _offsets(pb)
    state = ProxNewtonState(pb, datafit, a, b, box, unpenalised, coef0, intercept0)
    lower, upper = box
    active = screened_at == NOT_SCREENED
    geometry = SeparableGeometry(pb, datafit, a, b, box, unpenalised)
    cols = np.flatnonzero(active)
    all_cols = np.arange(pb.n_features)
    step = 1.0 / lipschitz_constant(pb, datafit, cols)
    w, z = state.w.copy(), state.z.copy()
    c = state.b0 + means @ w
    y_w, y_c, y_z = w.copy(), c, z.copy()
    t = 1.0
    grad_z = np.empty(pb.n_samples)
    grad_w = np.empty(pb.n_features)
    history = []
    objective = state.primal()
    iteration = 0
    for iteration in range(1, max_iter + 1):
        if (iteration - 1) % gap_freq == 0:
            state.w[:], state.b0, state.z[:] = w, c - means @ w, z
            certified = copy.deepcopy(state)
            certified.polish()
            gap, cols, _, moved, _ = check_gap_and_screen(
                geometry, certified, [certified.theta()], active, screened_at,
                iteration=iteration, screening=screening, history=history, verbose=verbose,
                start=start, primal_zero=primal_zero)
            state = certified
            if gap <= tol_abs and not moved:
                return state, iteration, history
            if np.any(w[~active] != 0.0) or np.any(y_w[~active] != 0.0):
                w[~active] = 0.0
                y_w[~active] = 0.0
                z = _linear_predictor(pb, w, c, means)
                y_z, y_c, t = z.copy(), c, 1.0
                objective = datafit.value(z, pb.y, pb.s) + penalty_value(w, all_cols, a, b)
        datafit.raw_grad(y_z, pb.y, pb.s, grad_z)
        grad_total = grad_z.sum()
        xt_dot(pb.X, grad_z, cols, grad_w[:cols.size])
        grad_w[:cols.size] -= means[cols] * grad_total
        w_new = w.copy()
        for k in range(cols.size):
            j = cols[k]
            w_new[j] = prox_1d(y_w[j] - step * grad_w[k], step, a[j], b[j], lower[j], upper[j])
        c_new = y_c - step * grad_total if pb.fit_intercept else 0.0
        z_new = _linear_predictor(pb, w_new, c_new, means)
        new_objective = datafit.value(z_new, pb.y, pb.s) + penalty_value(w_new, all_cols, a, b)
        if new_objective > objective:  # adaptive restart
            t = 1.0
        t_new = 0.5 * (1.0 + np.sqrt(1.0 + 4.0 * t * t))
        beta = (t - 1.0) / t_new
        y_w = w_new + beta * (w_new - w)
        y_c = c_new + beta * (c_new - c)
        y_z = z_new + beta * (z_new - z)
        w, c, z, t, objective = w_new, c_new, z_new, t_new, new_objective
        state.epochs = iteration
    state.w[:], state.b0, state.z[:] = w, c - means @ w, z
    return state, iteration, history
