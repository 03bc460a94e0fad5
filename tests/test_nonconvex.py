"""Non-convex penalties MCP and SCAD: closed forms, KKT certificates, references.

The references are independent of sksafe: brute-force 1-D minimisation, NumPy
KKT conditions written from the penalties' definitions, skglm's ``MCPRegression``
and ``SCAD`` (test-only dependency), and L-BFGS-B on the smooth split ``w = u - v``.
"""
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.optimize import minimize, minimize_scalar
from scipy.special import expit
from sklearn.exceptions import ConvergenceWarning

from sksafe import MCPRegression, SCADRegression, SparseGLM
from sksafe.datafits import Cox, Huber, Logistic, Multinomial, Poisson, Quadratic
from sksafe.penalties import MCP, SCAD
from sksafe.solvers import kkt_violation as kkt_violation_of
from sksafe.solvers import solve


# ---------------------------------------------------------------------------------------------
# NumPy references of the penalties (from their definitions)
# ---------------------------------------------------------------------------------------------
def pen_value(t, alpha, gamma, kind):
    """``p(|t|)`` elementwise, written from Zhang (2010) / Fan & Li (2001)."""
    t = np.abs(np.asarray(t, dtype=np.float64))
    if kind == "mcp":
        return np.where(t <= gamma * alpha, alpha * t - t ** 2 / (2 * gamma),
                        gamma * alpha ** 2 / 2)
    return np.where(t <= alpha, alpha * t,
                    np.where(t <= gamma * alpha,
                             (2 * gamma * alpha * t - t ** 2 - alpha ** 2) / (2 * (gamma - 1)),
                             alpha ** 2 * (gamma + 1) / 2))


def pen_slope(t, alpha, gamma, kind):
    """``p'(t)`` for ``t > 0``."""
    t = np.abs(t)
    if kind == "mcp":
        return np.maximum(alpha - t / gamma, 0.0)
    return np.where(t <= alpha, alpha, np.maximum(gamma * alpha - t, 0.0) / (gamma - 1))


def penalty_of(kind, alpha, gamma, **kw):
    return (MCP if kind == "mcp" else SCAD)(alpha, gamma=gamma, **kw)


def kkt_violation(X, y, coef, intercept, alpha, gamma, kind, *, loss="quadratic",
                  sample_weight=None, positive=False):
    """Largest distance of ``-grad_j`` to the Clarke subdifferential, and the intercept's
    gradient (both should be ~0 at a stationary point)."""
    n = X.shape[0]
    s = np.full(n, 1 / n) if sample_weight is None else sample_weight / sample_weight.sum()
    z = np.asarray(X @ coef).ravel() + intercept
    if loss == "quadratic":
        dz = s * (z - y)
    else:
        dz = -s * y * expit(-y * z)
    grad = np.asarray(X.T @ dz).ravel()
    alpha = np.broadcast_to(alpha, coef.shape)
    nz = coef != 0
    viol = np.where(nz, np.abs(grad + np.sign(coef) * pen_slope(coef, alpha, gamma, kind)),
                    np.maximum(-grad - alpha, 0.0) if positive
                    else np.maximum(np.abs(grad) - alpha, 0.0))
    return viol.max(), abs(dz.sum())


def objective(X, y, coef, intercept, alpha, gamma, kind, loss="quadratic"):
    z = np.asarray(X @ coef).ravel() + intercept
    data = (0.5 * np.mean((y - z) ** 2) if loss == "quadratic"
            else np.mean(np.logaddexp(0.0, -y * z)))
    return data + pen_value(coef, alpha, gamma, kind).sum()


def split_reference(X, y, alpha, gamma, kind, loss="quadratic"):
    """L-BFGS-B on ``w = u - v``, ``u, v >= 0`` (intercept free): ``p(u + v)`` is C^1 on the
    orthant and equals ``p(|w|)`` at any minimiser (shrinking both ``u_j`` and ``v_j``
    lowers the objective), so this is an independent smooth reformulation."""
    n, p = X.shape

    def fun(x):
        u, v, b = x[:p], x[p:2 * p], x[-1]
        w = u - v
        z = X @ w + b
        if loss == "quadratic":
            data, dz = 0.5 * np.mean((y - z) ** 2), (z - y) / n
        else:
            data, dz = np.mean(np.logaddexp(0.0, -y * z)), -y * expit(-y * z) / n
        t = u + v
        g = X.T @ dz
        slope = pen_slope(t, alpha, gamma, kind)
        slope = np.where(t > 0, slope, alpha)
        return (data + pen_value(t, alpha, gamma, kind).sum(),
                np.concatenate([g + slope, -g + slope, [dz.sum()]]))

    bounds = [(0, None)] * (2 * p) + [(None, None)]
    res = minimize(fun, np.zeros(2 * p + 1), jac=True, method="L-BFGS-B", bounds=bounds,
                   options={"maxiter": 100_000, "maxfun": 100_000, "gtol": 1e-14,
                            "ftol": 1e-16})
    return res.x[:p] - res.x[p:2 * p], res.x[-1]


def well_conditioned(n, p, seed):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p))
    coef = np.zeros(p)
    coef[:4] = [2.0, -1.5, 0.6, 0.15]
    y = X @ coef + 0.5 * rng.standard_normal(n) + 1.0
    return X, y


def min_centred_eigenvalue(X):
    Xc = X - X.mean(axis=0)
    return np.linalg.eigvalsh(Xc.T @ Xc / X.shape[0]).min()


# ---------------------------------------------------------------------------------------------
# closed forms
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("kind, gamma", [("mcp", 3.0), ("mcp", 1.2), ("scad", 3.7),
                                         ("scad", 2.3)])
@pytest.mark.parametrize("curvature", [0.3, 0.9, 1.0, 4.0])
@pytest.mark.parametrize("positive", [False, True])
def test_minimiser_is_the_brute_force_minimiser(kind, gamma, curvature, positive):
    """The coordinate minimiser of ``L (v - u)^2 / 2 + p(v)`` against a grid + bounded
    refinement, in both the convex (firm thresholding) and non-convex 1-D regimes."""
    alpha = 0.7
    penalty = penalty_of(kind, alpha, gamma, positive=positive)
    rng = np.random.default_rng(0)
    u = np.concatenate([rng.uniform(-4, 4, 60), [0.0, alpha / curvature, gamma * alpha,
                                                 -gamma * alpha, alpha * (1 + 1 / curvature)]])
    ours = penalty.prox(u, 1.0 / curvature)

    def h(v, ui):
        return 0.5 * curvature * (v - ui) ** 2 + pen_value(v, alpha, gamma, kind)

    grid = np.linspace(0.0 if positive else -8.0, 8.0, 160_001)
    for ui, vi in zip(u, ours):
        values = h(grid, ui)
        k = int(np.argmin(values))
        lo, hi = grid[max(k - 1, 0)], grid[min(k + 1, grid.size - 1)]
        best = minimize_scalar(h, bounds=(lo, hi), args=(ui,), method="bounded",
                               options={"xatol": 1e-13}).fun
        best = min(best, values[k])
        assert h(vi, ui) <= best + 1e-12, (ui, vi)
        if positive:
            assert vi >= 0.0


@pytest.mark.parametrize("kind, gamma", [("mcp", 3.0), ("scad", 3.7)])
def test_value_and_violation(kind, gamma):
    alpha = 0.5
    penalty = penalty_of(kind, alpha, gamma)
    w = np.array([0.0, 0.2, -0.5, 0.9, -1.7, 2.0, -5.0])
    assert penalty.value(w) == pytest.approx(pen_value(w, alpha, gamma, kind).sum(), rel=1e-14)
    # continuity at the break points
    for t in (alpha, gamma * alpha):
        assert penalty.value([t - 1e-9]) == pytest.approx(penalty.value([t + 1e-9]), abs=1e-8)
    # the slope of the Clarke subdifferential is the derivative (finite differences)
    grad = np.linspace(-1.0, 1.0, w.size)
    eps = 1e-7
    for j in np.flatnonzero(w):
        slope = (penalty.value([w[j] + eps]) - penalty.value([w[j] - eps])) / (2 * eps)
        assert penalty.subdiff_distance(w[[j]], grad[[j]])[0] == pytest.approx(
            abs(grad[j] + slope), abs=1e-6)
    at_zero = penalty.subdiff_distance(np.zeros(3), np.array([0.3, -0.8, 0.5]))
    np.testing.assert_allclose(at_zero, [0.0, 0.3, 0.0])


# ---------------------------------------------------------------------------------------------
# references
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("alpha_ratio", [0.5, 0.1, 0.01])
def test_mcp_matches_skglm_in_the_convex_regime(fit_intercept, alpha_ratio):
    """n > p, well-conditioned and gamma large: the objective is strictly convex, so the
    stationary point is the unique minimiser and skglm must find the same coefficients."""
    skglm = pytest.importorskip("skglm")
    X, y = well_conditioned(200, 20, 0)
    gamma = 10.0
    assert min_centred_eigenvalue(X) > 1.5 / gamma  # strictly convex objective
    alpha_max = MCPRegression(alpha=1.0).fit(X, y).alpha_max_
    alpha = alpha_ratio * alpha_max
    ours = MCPRegression(alpha=alpha, gamma=gamma, fit_intercept=fit_intercept,
                         tol=1e-12).fit(X, y)
    ref = skglm.MCPRegression(alpha=alpha, gamma=gamma, fit_intercept=fit_intercept,
                              tol=1e-13, max_iter=1000).fit(X, y)
    np.testing.assert_allclose(ours.coef_, ref.coef_, atol=1e-8)
    assert ours.intercept_ == pytest.approx(ref.intercept_, abs=1e-8)
    assert ours.certificate_ == "kkt" and ours.kkt_violation_ <= 1e-12
    assert np.isnan(ours.dual_gap_)


def test_mcp_p_greater_than_n_is_stationary_and_agrees_with_skglm():
    """p > n: the objective is non-convex, solvers may stop at different stationary points.
    Ours satisfies the KKT conditions (checked in NumPy), is at least as good as skglm's on
    this problem, and skglm's point is stationary for our solver too (same definitions)."""
    skglm = pytest.importorskip("skglm")
    rng = np.random.default_rng(0)
    n, p = 50, 300
    X = rng.standard_normal((n, p))
    coef = np.zeros(p)
    coef[:5] = 2.0
    y = X @ coef + rng.standard_normal(n)
    alpha, gamma = 0.1, 3.0
    ours = MCPRegression(alpha=alpha, gamma=gamma, tol=1e-10).fit(X, y)
    kkt, intercept_grad = kkt_violation(X, y, ours.coef_, ours.intercept_, alpha, gamma, "mcp")
    scale = np.abs(X.T @ (y - y.mean()) / n).max()
    assert kkt <= 1e-9 * scale and intercept_grad <= 1e-12
    ref = skglm.MCPRegression(alpha=alpha, gamma=gamma, tol=1e-12, max_iter=1000).fit(X, y)
    ours_obj = objective(X, y, ours.coef_, ours.intercept_, alpha, gamma, "mcp")
    assert ours_obj == pytest.approx(ours.fit_report_.primal, rel=1e-12)
    assert ours_obj <= objective(X, y, ref.coef_, ref.intercept_, alpha, gamma, "mcp") + 1e-12
    result = solve(X, y, Quadratic(), MCP(alpha, gamma), coef_init=ref.coef_,
                   intercept_init=ref.intercept_, tol=1e-8)
    assert result.n_iter == 1
    np.testing.assert_allclose(result.coef, ref.coef_, atol=1e-9)
    # the public certificate agrees with the NumPy one, at either point
    for point in (ours.coef_, ours.intercept_), (ref.coef_, ref.intercept_):
        violation, relative = kkt_violation_of(X, y, Quadratic(), MCP(alpha, gamma), *point)
        expected = max(kkt_violation(X, y, *point, alpha, gamma, "mcp"))
        assert violation == pytest.approx(expected, rel=1e-6, abs=1e-14)
        assert relative == pytest.approx(violation / scale, rel=1e-12)
    # at w = 0 (intercept optimal) only the L1-like part acts: 1 - alpha / alpha_max
    zero = kkt_violation_of(X, y, Quadratic(), MCP(alpha, gamma), np.zeros(p), y.mean())[1]
    assert zero == pytest.approx(1 - alpha / scale, rel=1e-12)


@pytest.mark.parametrize("fit_intercept", [True, False])
def test_scad_matches_skglm_and_lbfgs_in_the_convex_regime(fit_intercept):
    skglm = pytest.importorskip("skglm")
    from skglm.datafits import Quadratic as SkglmQuadratic
    from skglm.penalties import SCAD as SkglmSCAD
    from skglm.solvers import AndersonCD

    X, y = well_conditioned(200, 6, 1)
    alpha, gamma = 0.15, 3.7
    assert min_centred_eigenvalue(X) > 1.5 / (gamma - 1)  # strictly convex objective
    ours = SCADRegression(alpha=alpha, gamma=gamma, fit_intercept=fit_intercept,
                          tol=1e-12).fit(X, y)
    assert ours.kkt_violation_ <= 1e-12
    ref = skglm.GeneralizedLinearEstimator(
        SkglmQuadratic(), SkglmSCAD(alpha, gamma),
        AndersonCD(tol=1e-13, max_iter=1000, fit_intercept=fit_intercept)).fit(X, y)
    np.testing.assert_allclose(ours.coef_, ref.coef_, atol=1e-8)
    if fit_intercept:
        lbfgs_coef, lbfgs_b = split_reference(X, y, alpha, gamma, "scad")
        np.testing.assert_allclose(ours.coef_, lbfgs_coef, atol=1e-5)
        assert (objective(X, y, ours.coef_, ours.intercept_, alpha, gamma, "scad")
                <= objective(X, y, lbfgs_coef, lbfgs_b, alpha, gamma, "scad") + 1e-12)


@pytest.mark.parametrize("kind", ["mcp", "scad"])
def test_logistic_matches_lbfgs_in_the_convex_regime(kind):
    """Prox-Newton (with the MM fallback) on the logistic loss: gamma large enough for a
    strictly convex objective, against the split L-BFGS-B reference and NumPy KKT."""
    rng = np.random.default_rng(3)
    n, p = 400, 5
    X = rng.standard_normal((n, p))
    y = np.where(X @ np.array([1.0, -0.8, 0.0, 0.4, 0.0]) + 0.3
                 + rng.standard_normal(n) > 0, 1.0, -1.0)
    alpha, gamma = 0.02, 60.0
    result = solve(X, y, Logistic(), penalty_of(kind, alpha, gamma), tol=1e-12)
    assert result.converged and result.certificate == "kkt"
    kkt, intercept_grad = kkt_violation(X, y, result.coef, result.intercept, alpha, gamma, kind,
                                        loss="logistic")
    assert kkt <= 1e-11 and intercept_grad <= 1e-11
    ref_coef, ref_b = split_reference(X, y, alpha, gamma, kind, loss="logistic")
    np.testing.assert_allclose(result.coef, ref_coef, atol=1e-5)
    assert result.intercept == pytest.approx(ref_b, abs=1e-5)
    assert (objective(X, y, result.coef, result.intercept, alpha, gamma, kind, "logistic")
            <= objective(X, y, ref_coef, ref_b, alpha, gamma, kind, "logistic") + 1e-12)


@pytest.mark.parametrize("kind", ["mcp", "scad"])
def test_logistic_and_huber_non_convex_regime_are_stationary(kind):
    """gamma = 3 / 3.7: non-convex objectives; the points must satisfy the KKT conditions.
    (Not p > n for the logistic loss: a folded concave penalty is bounded, so a support
    that separates the classes sends the coefficients to infinity, and nothing converges.)"""
    rng = np.random.default_rng(4)
    n, p = 300, 100
    X = rng.standard_normal((n, p))
    y = X[:, :3] @ np.array([1.0, -1.0, 0.5]) + rng.standard_normal(n)
    labels = np.where(y > 0, 1.0, -1.0)
    alpha, gamma = 0.06, (3.0 if kind == "mcp" else 3.7)
    result = solve(X, labels, Logistic(), penalty_of(kind, alpha, gamma), tol=1e-9)
    assert result.converged and np.count_nonzero(result.coef) >= 3
    kkt, intercept_grad = kkt_violation(X, labels, result.coef, result.intercept, alpha, gamma,
                                        kind, loss="logistic")
    assert kkt <= 1e-9 * result.alpha_max and intercept_grad <= 1e-12
    huber = solve(X, y, Huber(), penalty_of(kind, 0.05, gamma), tol=1e-9)
    assert huber.converged and huber.kkt_violation <= 1e-9


def test_majorisation_fallback_alone_converges(monkeypatch):
    """Where the Newton line search finds no decrease, the step is the MM one (the model
    with the curvature bound, which majorises F). Forcing that path everywhere must still
    decrease P monotonically and reach the same (unique, convex regime) solution."""
    from sksafe.solvers.nonconvex import NonconvexProxNewtonState

    rng = np.random.default_rng(3)
    X = rng.standard_normal((300, 5))
    y = np.where(X[:, 0] - X[:, 1] + rng.standard_normal(300) > 0, 1.0, -1.0)
    penalty = MCP(0.02, gamma=60.0)
    newton = solve(X, y, Logistic(), penalty, tol=1e-10)
    calls = []
    original = NonconvexProxNewtonState._newton_step

    def spy(self, ws, model_tol):
        calls.append(self.hess.copy())
        return original(self, ws, model_tol)

    monkeypatch.setattr(NonconvexProxNewtonState, "_step_length", lambda *args: 0.0)
    monkeypatch.setattr(NonconvexProxNewtonState, "_newton_step", spy)
    mm = solve(X, y, Logistic(), penalty, tol=1e-10, max_iter=500)
    assert mm.converged
    # every other model is the majoriser, with the curvature bound f'' <= 1/4
    np.testing.assert_allclose(calls[1], 0.25 / X.shape[0])
    np.testing.assert_allclose(mm.coef, newton.coef, atol=1e-8)
    primal = [h["primal"] for h in mm.history]
    assert np.all(np.diff(primal) <= 1e-15 * primal[0])


# ---------------------------------------------------------------------------------------------
# estimator behaviour
# ---------------------------------------------------------------------------------------------
@pytest.fixture
def sparse_problem():
    rng = np.random.default_rng(5)
    X = rng.standard_normal((60, 120)) * (rng.uniform(size=(60, 120)) < 0.3)
    coef = np.zeros(120)
    coef[:6] = [3.0, -2.0, 1.5, 1.0, -1.0, 0.5]
    y = X @ coef + 0.3 * rng.standard_normal(60)
    return X, y


@pytest.mark.parametrize("Estimator", [MCPRegression, SCADRegression])
def test_dense_equals_sparse_and_float32(Estimator, sparse_problem):
    X, y = sparse_problem
    dense = Estimator(alpha=0.05, tol=1e-10).fit(X, y)
    sparse = Estimator(alpha=0.05, tol=1e-10).fit(sp.csc_matrix(X), y)
    np.testing.assert_allclose(sparse.coef_, dense.coef_, atol=1e-9)
    assert sparse.intercept_ == pytest.approx(dense.intercept_, abs=1e-9)
    for X32 in (X.astype(np.float32), sp.csc_matrix(X.astype(np.float32))):
        single = Estimator(alpha=0.05, tol=1e-8).fit(X32, y.astype(np.float32))
        assert single.coef_.dtype == np.float32
        np.testing.assert_allclose(single.coef_, dense.coef_, atol=1e-4)
        assert single.predict(X32).dtype == np.float32


@pytest.mark.parametrize("Estimator", [MCPRegression, SCADRegression])
def test_sample_weights_equal_row_repetition(Estimator, sparse_problem):
    X, y = sparse_problem
    weights = np.random.default_rng(0).integers(0, 4, X.shape[0])
    weighted = Estimator(alpha=0.05, tol=1e-12).fit(X, y, sample_weight=weights)
    repeated = Estimator(alpha=0.05, tol=1e-12).fit(np.repeat(X, weights, axis=0),
                                                    np.repeat(y, weights))
    np.testing.assert_allclose(weighted.coef_, repeated.coef_, atol=1e-9)
    assert weighted.intercept_ == pytest.approx(repeated.intercept_, abs=1e-9)


def test_fitted_attributes_and_sparse_glm(sparse_problem):
    X, y = sparse_problem
    model = MCPRegression(alpha=0.05, gamma=2.5).fit(X, y)
    report = model.fit_report_
    assert model.certificate_ == report.certificate == "kkt"
    assert np.isnan(model.dual_gap_) and np.isnan(report.gap) and report.dual_point is None
    assert model.kkt_violation_ == report.kkt_violation <= 1e-4
    assert report.history[-1]["kkt_violation"] <= 1e-4
    glm = SparseGLM(penalty=MCP(0.05, gamma=2.5)).fit(X, y)
    np.testing.assert_allclose(glm.coef_, model.coef_, atol=1e-12)
    assert glm.certificate_ == "kkt"
    glm.set_params(penalty=None).fit(X, y)  # a convex fit afterwards: a gap again
    assert glm.certificate_ == "duality_gap" and not hasattr(glm, "kkt_violation_")
    assert np.isfinite(glm.dual_gap_)
    # warm start from the solution: already stationary
    model.set_params(warm_start=True).fit(X, y)
    assert model.n_iter_ == 1


def test_alpha_max_weights_and_positive(sparse_problem):
    X, y = sparse_problem
    model = MCPRegression(alpha=1.0).fit(X, y)
    assert model.alpha_max_ == pytest.approx(np.abs(X.T @ (y - y.mean())).max() / X.shape[0])
    assert not np.any(MCPRegression(alpha=model.alpha_max_ * 1.001).fit(X, y).coef_)
    assert np.any(MCPRegression(alpha=model.alpha_max_ * 0.9).fit(X, y).coef_)
    weights = np.ones(X.shape[1])
    weights[7] = 0.0  # unpenalised
    weighted = SCADRegression(alpha=0.3, weights=weights, tol=1e-10).fit(X, y)
    alpha_j = 0.3 * weights
    kkt, _ = kkt_violation(X, y, weighted.coef_, weighted.intercept_, alpha_j, 3.7, "scad")
    assert kkt <= 1e-9 and weighted.coef_[7] != 0.0
    positive = MCPRegression(alpha=0.05, positive=True, tol=1e-10).fit(X, y)
    assert positive.coef_.min() >= 0.0 and positive.coef_.max() > 0.0
    kkt, _ = kkt_violation(X, y, positive.coef_, positive.intercept_, 0.05, 3.0, "mcp",
                           positive=True)
    assert kkt <= 1e-9


def test_small_curvature_columns_stay_monotone():
    """Columns with ``L_j gamma <= 1`` (unstandardised small scale): the coordinate problem
    is non-convex, its global minimiser is taken and the fit still reaches a stationary
    point with an objective no larger than at zero."""
    X, y = well_conditioned(100, 10, 2)
    X[:, :5] *= 0.3  # L_j ~ 0.09 < 1 / gamma
    alpha, gamma = 0.05, 3.0
    model = MCPRegression(alpha=alpha, gamma=gamma, tol=1e-10).fit(X, y)
    kkt, _ = kkt_violation(X, y, model.coef_, model.intercept_, alpha, gamma, "mcp")
    assert kkt <= 1e-9
    history = [h["primal"] for h in model.fit_report_.history]
    assert np.all(np.diff(history) <= 1e-12)


# ---------------------------------------------------------------------------------------------
# bad input
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("Estimator, params, message", [
    (MCPRegression, dict(gamma=1.0), "gamma > 1"),
    (MCPRegression, dict(gamma=0.5), "gamma > 1"),
    (MCPRegression, dict(gamma=np.inf), "gamma > 1"),
    (MCPRegression, dict(gamma="3"), "gamma > 1"),
    (SCADRegression, dict(gamma=2.0), "gamma > 2"),
    (SCADRegression, dict(gamma=np.nan), "gamma > 2"),
    (MCPRegression, dict(alpha=-0.1), "alpha"),
    (SCADRegression, dict(alpha=np.nan), "alpha"),
    (MCPRegression, dict(weights=[1.0, 2.0]), "weights must have shape"),
    (MCPRegression, dict(weights=-np.ones(5)), "finite and >= 0"),
    (SCADRegression, dict(weights=np.r_[0.0, np.ones(4)], positive=True), "zero weights"),
    (MCPRegression, dict(positive="yes"), "positive"),
    (MCPRegression, dict(tol=-1.0), "tol"),
])
def test_bad_parameters(Estimator, params, message):
    X, y = well_conditioned(20, 5, 0)
    with pytest.raises(ValueError, match=message):
        Estimator(**params).fit(X, y)


@pytest.mark.parametrize("datafit, penalty, solver, message", [
    (Poisson(), MCP(0.1), "auto", "bounded second derivative"),
    (Cox(), SCAD(0.1), "auto", "bounded second derivative"),
    (Multinomial(), MCP(0.1), "auto", "block penalty"),
    (Quadratic(), MCP(0.1), "fista", "solver"),
    (Logistic(), MCP(0.1), "cd", "Quadratic"),
])
def test_unsupported_pairs_raise_at_fit(datafit, penalty, solver, message):
    X, y = well_conditioned(30, 5, 0)
    if isinstance(datafit, Poisson):
        y = np.abs(y)
    elif isinstance(datafit, Cox):
        y = np.column_stack([np.abs(y) + 0.1, np.ones_like(y)])
    elif isinstance(datafit, (Logistic, Multinomial)):
        y = (y > np.median(y)).astype(int)
    with pytest.raises(ValueError, match=message):
        SparseGLM(datafit=datafit, penalty=penalty, solver=solver).fit(X, y)


def test_non_convex_penalty_has_no_dual():
    X, y = well_conditioned(30, 5, 0)
    from sksafe.solvers import duality_gap
    with pytest.raises(ValueError, match="no dual"):
        duality_gap(X, y, Quadratic(), MCP(0.1), np.zeros(5))


def test_max_iter_reached_warns():
    X, y = well_conditioned(50, 40, 0)
    with pytest.warns(ConvergenceWarning, match="KKT violation"):
        MCPRegression(alpha=0.01, tol=1e-14, max_iter=1).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        MCPRegression(alpha=0.01).fit(X, y)
