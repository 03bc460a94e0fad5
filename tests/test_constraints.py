"""Box constraints on the separable penalties and positivity on the block penalties.

References are independent of sksafe: L-BFGS-B (scipy) on the smooth split
reformulation ``w = u - v``, ``0 <= u <= upper``, ``0 <= v <= -lower`` (for which
``a |w| + b w^2 / 2`` becomes ``a (u + v) + b (u - v)^2 / 2``, equal at the optimum where
at most one of ``u_j, v_j`` is non-zero), scikit-learn's ``Lasso(positive=True)``,
skglm's positive group lasso, and brute-force one-dimensional minimisations.
"""
import numpy as np
import pytest
import scipy.sparse as sp
from scipy.optimize import minimize
from scipy.special import expit
from sklearn.linear_model import Lasso
from sklearn.utils.estimator_checks import parametrize_with_checks

from conftest import make_classification_data, make_regression_data, normalised_weights
from sksafe import (SafeScreeningElasticNet, SafeScreeningGroupLasso, SafeScreeningLasso,
                    SafeScreeningSparseGroupLasso, SparseGLM, SparseHuberRegressor)
from sksafe.datafits import Logistic, Quadratic, QuadraticMultiTask
from sksafe.penalties import L1, L21, ElasticNet, GroupL1, SparseGroupL1, WeightedL1
from sksafe.penalties._kernels import conjugate_sum
from sksafe.solvers import duality_gap, solve

INF = np.inf


def mixed_box(p, seed=0):
    """Bounds of every kind: two-sided, one-sided, free, fixed at 0, ``[0, u]``."""
    rng = np.random.default_rng(seed)
    lower = -rng.uniform(0.2, 1.0, p)
    upper = rng.uniform(0.2, 1.0, p)
    lower[::5] = -INF
    upper[1::5] = INF
    upper[2::7] = 0.0
    lower[3::6] = 0.0
    lower[4::11], upper[4::11] = 0.0, 0.0
    return lower, upper


# ---------------------------------------------------------------------------------------------
# independent reference
# ---------------------------------------------------------------------------------------------
def lbfgs_reference(X, y, loss, a, b, lower, upper, *, fit_intercept=True, sample_weight=None):
    """Minimise ``P`` over the box by L-BFGS-B on the split reformulation; returns (w, c, P)."""
    X = np.asarray(X.toarray() if sp.issparse(X) else X, dtype=np.float64)
    n, p = X.shape
    s = normalised_weights(n, sample_weight)

    def fun(x):
        u, v, c = x[:p], x[p:2 * p], x[-1]
        w = u - v
        z = X @ w + c
        if loss == "quadratic":
            val, dz = 0.5 * s @ (y - z) ** 2, s * (z - y)
        else:
            val, dz = s @ np.logaddexp(0.0, -y * z), -s * y * expit(-y * z)
        gw = X.T @ dz + b * w
        val += a @ (u + v) + 0.5 * b @ (w * w)
        return val, np.concatenate([gw + a, -gw + a, [dz.sum() if fit_intercept else 0.0]])

    bounds = ([(0.0, u if np.isfinite(u) else None) for u in upper]
              + [(0.0, -lo if np.isfinite(lo) else None) for lo in lower]
              + [(None, None) if fit_intercept else (0.0, 0.0)])
    res = minimize(fun, np.zeros(2 * p + 1), jac=True, method="L-BFGS-B", bounds=bounds,
                   options=dict(maxiter=50_000, maxfun=100_000, ftol=1e-16, gtol=1e-13,
                                maxcor=30))
    return res.x[:p] - res.x[p:2 * p], res.x[-1], res.fun


def data(loss, n=50, p=30, seed=0):
    if loss == "quadratic":
        return make_regression_data(n=n, p=p, seed=seed)
    return make_classification_data(n=n, p=p, seed=seed)


PENALTIES = {
    "l1": lambda alpha, box: L1(alpha, bounds=box),
    "enet": lambda alpha, box: ElasticNet(alpha, l1_ratio=0.6, bounds=box),
    "weighted": lambda alpha, box: WeightedL1(alpha, weights=np.linspace(0.5, 2.0, 30),
                                              bounds=box),
}


# ---------------------------------------------------------------------------------------------
# kernels: prox, conjugate, KKT distance, effective correlation
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("b", [0.0, 0.7])
def test_prox_is_the_argmin_over_the_box(b):
    lower, upper = mixed_box(30, seed=1)
    penalty = ElasticNet(1.0, l1_ratio=1.0 if b == 0 else 0.5, bounds=(lower, upper))
    a, bb = penalty.l1_l2_weights(30)
    rng = np.random.default_rng(2)
    for step in (0.3, 2.0):
        u = 3 * rng.standard_normal(30)
        v = penalty.prox(u, step)
        for j in range(30):
            lo, hi = max(lower[j], -10.0), min(upper[j], 10.0)
            grid = np.linspace(lo, hi, 200_001)
            obj = (grid - u[j]) ** 2 / (2 * step) + a[j] * np.abs(grid) + 0.5 * bb[j] * grid ** 2
            assert lower[j] <= v[j] <= upper[j]
            assert abs(v[j] - grid[np.argmin(obj)]) <= 2 * (hi - lo) / 200_000 + 1e-12


@pytest.mark.parametrize("b", [0.0, 0.8])
def test_conjugate_is_the_sup_over_the_box(b):
    """``g*(v) = sup_{l <= w <= u} v w - a |w| - b w^2 / 2``, on a fine grid of ``w``."""
    p = 30
    lower, upper = mixed_box(p, seed=3)
    if b == 0:  # unbounded sides need |v| <= a, i.e. a feasible v: bound them all
        lower, upper = np.maximum(lower, -1.5), np.minimum(upper, 1.5)
    a = np.full(p, 0.4)
    bb = np.full(p, b)
    v = np.random.default_rng(4).uniform(-3, 3, p)
    cols = np.arange(p)
    for j in range(p):
        lo, hi = max(lower[j], -20.0), min(upper[j], 20.0)
        grid = np.append(np.linspace(lo, hi, 400_001), 0.0)
        brute = np.max(v[j] * grid - a[j] * np.abs(grid) - 0.5 * bb[j] * grid ** 2)
        single = np.array([j])
        ours = conjugate_sum(v[single], 1.0, single, a, bb, lower, upper)
        assert ours == pytest.approx(brute, abs=1e-7)
    total = conjugate_sum(v, 1.0, cols, a, bb, lower, upper)
    assert np.isfinite(total)


def test_subdiff_distance_with_bounds():
    p = 12
    lower = np.array([-1, -1, 0, 0, -1, -INF, -2, 0, 0, -1, -1, -INF], dtype=float)
    upper = np.array([1, 1, 2, 2, 0, INF, 2, 0, INF, 1, 1, 3], dtype=float)
    w = np.array([1, -1, 0, 2, 0, 0.5, 0, 0, 0, 0.3, -1, 3], dtype=float)
    grad = np.array([-2, 2, -1, 0.3, 0.7, -0.2, 0.1, 5, 0.5, 0.1, -2, 0.6])
    penalty = L1(0.5, bounds=(lower, upper))
    got = penalty.subdiff_distance(w, grad)
    a = 0.5
    expected = [
        max(0, -2 + a),          # at the upper bound: -grad may exceed a
        max(0, a - 2),           # at the lower bound
        max(0, 1 - a),           # at 0, only upwards: -grad <= a
        abs(0.3 + a),            # interior of [0, 2]
        max(0, 0.7 - a),         # at 0, only downwards: grad <= a
        abs(-0.2 + a),           # free, positive
        max(0, abs(0.1) - a),    # at 0, two-sided
        0.0,                     # fixed at 0: any gradient
        max(0, -0.5 - a),        # at 0 of [0, inf)
        abs(0.1 + a),            # interior
        max(0, a - (-2)),        # at the lower bound with the gradient pushing inwards
        max(0, 0.6 + a),         # at the upper bound, gradient pointing outwards of it
    ]
    np.testing.assert_allclose(got, expected, atol=1e-15)


def test_effective_correlation_and_alpha_max():
    lower = np.array([-1, 0, -1, 0, -INF])
    upper = np.array([1, 1, 0, 0, INF])
    corr = np.array([-2.0, -3.0, 4.0, 5.0, -1.0])
    penalty = L1(1.0, bounds=(lower, upper))
    np.testing.assert_array_equal(penalty.effective_correlation(corr), [2, -3, -4, -INF, 1])
    # only the two-sided features can leave 0 at alpha < 2
    assert penalty.alpha_max(corr) == 2.0
    assert L1(1.0, bounds=(0, INF)).alpha_max(np.array([-3.0, 0.5])) == 0.5
    assert L1(1.0, positive=True).alpha_max(np.array([-3.0, 0.5])) == 0.5


# ---------------------------------------------------------------------------------------------
# solutions against references
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("solver", ["cd", "prox_newton", "fista"])
@pytest.mark.parametrize("kind", sorted(PENALTIES))
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_quadratic_box_matches_lbfgsb(solver, kind, fit_intercept):
    X, y = data("quadratic")
    lower, upper = mixed_box(30)
    penalty = PENALTIES[kind](0.05, (lower, upper))
    res = solve(X, y, Quadratic(), penalty, tol=1e-13, solver=solver, max_iter=1000,
                fit_intercept=fit_intercept)
    assert res.converged
    a, b = penalty.l1_l2_weights(30)
    w_ref, c_ref, p_ref = lbfgs_reference(X, y, "quadratic", a, b, lower, upper,
                                          fit_intercept=fit_intercept)
    assert np.all(res.coef >= lower) and np.all(res.coef <= upper)
    assert res.primal <= p_ref + 1e-12  # certified within 1e-13 relative, L-BFGS-B is not
    np.testing.assert_allclose(res.coef, w_ref, atol=2e-5)
    # the bounds are active somewhere, otherwise the test would prove little
    assert np.any((res.coef == upper) & (upper > 0) & np.isfinite(upper))
    assert np.any((res.coef == lower) & (lower < 0) & np.isfinite(lower))


@pytest.mark.parametrize("solver", ["prox_newton", "fista"])
@pytest.mark.parametrize("kind", ["l1", "enet"])
def test_logistic_box_matches_lbfgsb(solver, kind):
    X, y = data("logistic")
    X = 2.0 * X
    lower, upper = np.maximum(mixed_box(30)[0], -0.3), np.minimum(mixed_box(30)[1], 0.3)
    penalty = PENALTIES[kind](0.01, (lower, upper))
    res = solve(X, y, Logistic(), penalty, tol=1e-12, solver=solver, max_iter=1000)
    assert res.converged
    a, b = penalty.l1_l2_weights(30)
    w_ref, _, p_ref = lbfgs_reference(X, y, "logistic", a, b, lower, upper)
    assert res.primal <= p_ref + 1e-12
    np.testing.assert_allclose(res.coef, w_ref, atol=1e-5)
    assert np.any((res.coef == upper) & (upper > 0))


@pytest.mark.parametrize("fit_intercept", [True, False])
def test_positive_lasso_matches_sklearn(fit_intercept):
    X, y = make_regression_data(n=60, p=40, seed=3)
    alpha = 0.05
    ref = Lasso(alpha=alpha, positive=True, tol=1e-14, max_iter=200_000,
                fit_intercept=fit_intercept).fit(X, y)
    for model in (SafeScreeningLasso(alpha=alpha, positive=True, tol=1e-12),
                  SafeScreeningLasso(alpha=alpha, bounds=(0, INF), tol=1e-12),
                  SafeScreeningLasso(alpha=alpha, bounds=(-1.0, INF), positive=True, tol=1e-12)):
        model.set_params(fit_intercept=fit_intercept).fit(X, y)
        np.testing.assert_allclose(model.coef_, ref.coef_, atol=1e-7)
        assert model.intercept_ == pytest.approx(ref.intercept_, abs=1e-7)


def test_box_with_no_penalty_is_bounded_least_squares():
    """``alpha = 0`` and finite bounds: scipy's ``lsq_linear``, with a certified gap."""
    from scipy.optimize import lsq_linear

    X, y = make_regression_data(n=40, p=10, seed=5)
    res = solve(X, y, Quadratic(), L1(0.0, bounds=(-0.5, 0.5)), tol=1e-14,
                fit_intercept=False)
    ref = lsq_linear(X, y, bounds=(-0.5, 0.5), tol=1e-15, lsmr_tol="auto", max_iter=10_000)
    assert res.converged
    np.testing.assert_allclose(res.coef, ref.x, atol=1e-8)


def test_certificate_is_infinite_outside_the_box():
    X, y = make_regression_data()
    penalty = L1(0.1, bounds=(-0.1, 0.1))
    res = solve(X, y, Quadratic(), penalty, tol=1e-10)
    gap, rel = duality_gap(X, y, Quadratic(), penalty, res.coef, res.intercept)
    assert rel <= 1e-10
    outside = res.coef.copy()
    outside[0] = 0.2
    assert duality_gap(X, y, Quadratic(), penalty, outside, res.intercept) == (INF, INF)


# ---------------------------------------------------------------------------------------------
# screening safety, storage, dtype, weights, warm starts
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("loss", ["quadratic", "logistic"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_screening_with_boxes_is_safe(loss, seed):
    """Every feature screened is zero in a no-screening reference at gap 1e-12."""
    X, y = data(loss, n=60, p=80, seed=seed)
    lower, upper = mixed_box(80, seed=seed)
    datafit = Quadratic() if loss == "quadratic" else Logistic()
    probe = L1(1.0, bounds=(lower, upper))
    alpha_max = solve(X, y, datafit, probe, tol=1e-6).alpha_max
    for ratio in (0.5, 0.1, 0.02):
        penalty = ElasticNet(ratio * alpha_max, l1_ratio=0.9, bounds=(lower, upper))
        res = solve(X, y, datafit, penalty, tol=1e-10)
        ref = solve(X, y, datafit, penalty, tol=1e-12, screening=False, max_iter=500)
        assert res.converged and ref.converged
        screened = np.flatnonzero(res.screened_at > 0)
        assert np.all(ref.coef[screened] == 0.0)
        np.testing.assert_allclose(res.coef, ref.coef, atol=1e-4)
    assert screened.size > 0  # the test screened something


def test_dense_equals_csc_and_float32():
    X, y = make_regression_data(n=50, p=40, seed=4)
    X[np.abs(X) < 0.7] = 0.0
    box = mixed_box(40, seed=4)
    dense = SafeScreeningElasticNet(alpha=0.02, bounds=box, tol=1e-12).fit(X, y)
    csc = SafeScreeningElasticNet(alpha=0.02, bounds=box, tol=1e-12).fit(sp.csc_matrix(X), y)
    np.testing.assert_allclose(csc.coef_, dense.coef_, atol=1e-10)
    f32 = SafeScreeningElasticNet(alpha=0.02, bounds=box, tol=1e-10).fit(
        X.astype(np.float32), y.astype(np.float32))
    assert f32.coef_.dtype == np.float32
    np.testing.assert_allclose(f32.coef_, dense.coef_, atol=1e-4)
    # the bounds as the float32 coefficients see them (the cast rounds both alike)
    lower32, upper32 = box[0].astype(np.float32), box[1].astype(np.float32)
    assert np.all(f32.coef_ >= lower32) and np.all(f32.coef_ <= upper32)


@pytest.mark.parametrize("estimator", [SafeScreeningLasso(alpha=0.05),
                                       SparseHuberRegressor(alpha=0.05, delta=1.0)])
def test_sample_weights_equal_repetition(estimator):
    X, y = make_regression_data(n=40, p=20, seed=6)
    weights = np.random.default_rng(6).integers(0, 4, 40)
    box = (np.full(20, -0.4), np.full(20, 0.8))
    weighted = estimator.set_params(bounds=box, tol=1e-12).fit(X, y, sample_weight=weights)
    coef = weighted.coef_.copy()
    repeated = estimator.fit(np.repeat(X, weights, axis=0), np.repeat(y, weights))
    np.testing.assert_allclose(coef, repeated.coef_, atol=1e-8)


def test_warm_start_outside_a_new_box():
    X, y = make_regression_data(seed=7)
    model = SafeScreeningLasso(alpha=0.01, warm_start=True, tol=1e-12).fit(X, y)
    assert np.abs(model.coef_).max() > 0.5
    model.set_params(bounds=(-0.5, 0.5)).fit(X, y)
    fresh = SafeScreeningLasso(alpha=0.01, bounds=(-0.5, 0.5), tol=1e-12).fit(X, y)
    np.testing.assert_allclose(model.coef_, fresh.coef_, atol=1e-8)
    assert model.dual_gap_ <= 1e-12


def test_fixed_features_are_screened_and_zero():
    X, y = make_regression_data(seed=8)
    lower = np.full(30, -INF)
    upper = np.full(30, INF)
    lower[:10] = upper[:10] = 0.0
    res = solve(X, y, Quadratic(), L1(0.01, bounds=(lower, upper)), tol=1e-10)
    assert np.all(res.coef[:10] == 0.0)
    assert np.all(res.screened_at[:10] >= 0)


# ---------------------------------------------------------------------------------------------
# validation
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("bounds, match", [
    ((0.5, INF), "lower bounds must be <= 0"),
    ((-INF, -0.1), "upper bounds must be >= 0"),
    ((np.zeros(3), INF), r"shape \(30,\)"),
    ((np.zeros((30, 1)), INF), r"shape \(30,\)"),
    ((np.nan, 1.0), "NaN"),
    ((-1.0, [np.nan] * 30), "NaN"),
    ((-1.0,), "pair"),
    ("box", "pair"),
    ((-1.0, "up"), "number"),
])
def test_bad_bounds_raise(bounds, match):
    X, y = make_regression_data()
    with pytest.raises(ValueError, match=match):
        SafeScreeningLasso(alpha=0.1, bounds=bounds).fit(X, y)


def test_unpenalised_one_sided_constraint_is_rejected():
    X, y = make_regression_data()
    with pytest.raises(ValueError, match="constrained on one side only"):
        solve(X, y, Quadratic(), L1(0.0, positive=True))
    with pytest.raises(ValueError, match="zero weights"):
        solve(X, y, Quadratic(), WeightedL1(0.1, weights=np.r_[0.0, np.ones(29)],
                                             bounds=(-1, 1)))


# ---------------------------------------------------------------------------------------------
# positivity for block penalties
# ---------------------------------------------------------------------------------------------
def test_positive_group_prox_is_the_argmin():
    rng = np.random.default_rng(9)
    penalty = SparseGroupL1(0.5, groups=[3, 2], l1_ratio=0.4, positive=True)
    u = rng.standard_normal(5) * 2
    step = 0.7
    v = penalty.prox(u, step)
    assert np.all(v >= 0)

    def objective(x):
        return np.sum((x - u) ** 2) / (2 * step) + penalty.value(x)

    ref = minimize(objective, np.maximum(u, 0.1), method="L-BFGS-B",
                   bounds=[(0, None)] * 5, options=dict(ftol=1e-15, gtol=1e-12))
    assert objective(v) <= ref.fun + 1e-10
    np.testing.assert_allclose(v, ref.x, atol=1e-5)


@pytest.mark.filterwarnings("ignore::numba.NumbaPerformanceWarning")  # inside skglm
def test_positive_group_lasso_matches_skglm():
    skglm = pytest.importorskip("skglm")
    from skglm.datafits import QuadraticGroup
    from skglm.penalties import WeightedGroupL2
    from skglm.solvers import GroupBCD
    from skglm.utils.data import grp_converter

    X, y = make_regression_data(n=60, p=40, seed=10)
    alpha = 0.1
    grp_indices, grp_ptr = grp_converter(4, 40)
    ref = GroupBCD(tol=1e-13, max_iter=10_000, fit_intercept=False).solve(
        X, y, QuadraticGroup(grp_ptr, grp_indices),
        WeightedGroupL2(alpha, 2.0 * np.ones(10), grp_ptr, grp_indices, positive=True))[0]
    model = SafeScreeningGroupLasso(alpha=alpha, groups=4, positive=True, fit_intercept=False,
                                    tol=1e-13).fit(X, y)
    assert skglm is not None and np.any(model.coef_ > 0)
    np.testing.assert_allclose(model.coef_, ref, atol=1e-8)
    unconstrained = SafeScreeningGroupLasso(alpha=alpha, groups=4, fit_intercept=False).fit(X, y)
    assert np.any(unconstrained.coef_ < 0)  # positivity changed the answer


def block_reference(X, y, penalty, loss, n_iter=40_000):
    """Proximal gradient with the penalty's own prox (checked above), intercept free."""
    n = X.shape[0]
    design = np.column_stack([X, np.ones(n)])
    lip = np.linalg.norm(design, 2) ** 2 / n * (1.0 if loss == "quadratic" else 0.25)
    w, c = np.zeros(X.shape[1]), 0.0
    for _ in range(n_iter):
        z = X @ w + c
        dz = (z - y) / n if loss == "quadratic" else -y * expit(-y * z) / n
        w = penalty.prox(w - X.T @ dz / lip, 1.0 / lip)
        c -= dz.sum() / lip
    return w


@pytest.mark.parametrize("loss", ["quadratic", "logistic"])
@pytest.mark.parametrize("make", [lambda a: GroupL1(a, groups=5, positive=True),
                                  lambda a: SparseGroupL1(a, groups=5, l1_ratio=0.5,
                                                          positive=True)])
def test_positive_block_penalties_and_screening(loss, make):
    X, y = data(loss, n=50, p=40, seed=11)
    datafit = Quadratic() if loss == "quadratic" else Logistic()
    alpha_max = solve(X, y, datafit, make(1.0), tol=1e-6).alpha_max
    penalty = make(0.2 * alpha_max)
    res = solve(X, y, datafit, penalty, tol=1e-12)
    ref = solve(X, y, datafit, penalty, tol=1e-12, screening=False)
    assert res.converged and np.all(res.coef >= 0) and np.any(res.coef > 0)
    assert np.all(ref.coef[res.screened_features] == 0.0)
    assert np.any(res.screened_features)
    np.testing.assert_allclose(res.coef, block_reference(X, y, penalty, loss), atol=1e-5)
    # alpha_max: zero at alpha_max, non-zero just below
    assert not np.any(solve(X, y, datafit, make(alpha_max), tol=1e-10).coef)
    assert np.any(solve(X, y, datafit, make(0.95 * alpha_max), tol=1e-10).coef)


def test_positive_multitask_l21():
    rng = np.random.default_rng(12)
    X = rng.standard_normal((40, 15))
    Y = X[:, :3] @ rng.uniform(-2, 2, (3, 2)) + 0.1 * rng.standard_normal((40, 2))
    penalty = L21(0.05, positive=True)
    res = solve(X, Y, QuadraticMultiTask(), penalty, tol=1e-12)
    assert res.converged and np.all(res.coef >= 0)
    n = X.shape[0]
    lip = np.linalg.norm(np.column_stack([X, np.ones(n)]), 2) ** 2 / n
    W, c = np.zeros((15, 2)), np.zeros(2)
    for _ in range(20_000):
        R = (X @ W + c - Y) / n
        W = penalty.prox(W - X.T @ R / lip, 1.0 / lip)
        c -= R.sum(axis=0) / lip
    np.testing.assert_allclose(res.coef, W, atol=1e-6)


def test_positive_block_dense_equals_csc_and_certificate():
    X, y = make_regression_data(n=50, p=40, seed=13)
    X[np.abs(X) < 0.6] = 0.0
    penalty = SparseGroupL1(0.05, groups=4, positive=True)
    dense = solve(X, y, Quadratic(), penalty, tol=1e-12)
    csc = solve(sp.csc_matrix(X), y, Quadratic(), penalty, tol=1e-12)
    np.testing.assert_allclose(csc.coef, dense.coef, atol=1e-10)
    gap, rel = duality_gap(X, y, Quadratic(), penalty, dense.coef, dense.intercept)
    assert rel <= 1e-11
    assert duality_gap(X, y, Quadratic(), penalty, dense.coef - 1.0, dense.intercept)[0] == INF


# ---------------------------------------------------------------------------------------------
# scikit-learn conformance of the new parameters
# ---------------------------------------------------------------------------------------------
# tight tol: the sample-weight checks compare two fits' predictions at 1e-7, which the
# default tol=1e-4 (a certificate of the objective) does not promise
@parametrize_with_checks([
    SafeScreeningLasso(alpha=0.01, bounds=(-0.5, 2.0), tol=1e-10),
    SafeScreeningElasticNet(alpha=0.01, bounds=(-1.0, np.inf), positive=True, tol=1e-10),
    SparseHuberRegressor(alpha=0.01, bounds=(-np.inf, 1.0), tol=1e-10),
    SparseGLM(datafit=Logistic(), penalty=L1(0.01, bounds=(-0.5, 0.5)), tol=1e-10),
    SparseGLM(penalty=L1(0.01, bounds=(-1.0, 1.0)), solver="fista", tol=1e-10),
    SafeScreeningGroupLasso(alpha=0.1, positive=True, tol=1e-10),
    SafeScreeningSparseGroupLasso(alpha=0.1, positive=True, tol=1e-10),
])
def test_sklearn_compatible_constrained(estimator, check):
    check(estimator)
