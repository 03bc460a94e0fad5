"""Block penalties (group, sparse-group, multi-task): kernels, references, screening, inputs.

References: scikit-learn's MultiTaskLasso / MultiTaskElasticNet, skglm's group
and sparse-group lasso (GroupBCD), celer's GroupLasso; screening safety against
a no-screening reference at relative gap 1e-12.
"""
import numpy as np
import pytest
import scipy.sparse as sp
from numba import njit
from scipy.optimize import minimize
from sklearn.linear_model import MultiTaskElasticNet, MultiTaskLasso

from sksafe import (SafeScreeningGroupLasso, SafeScreeningMultiTaskElasticNet,
                    SafeScreeningMultiTaskLasso, SafeScreeningSparseGroupLasso, SparseGLM)
from sksafe.datafits import Quadratic, QuadraticMultiTask
from sksafe.penalties import L1, L21, GroupL1, SparseGroupL1, groups_from_labels
from sksafe.penalties._group_kernels import max_feasible_scale, soft_norm
from sksafe.penalties.group import check_groups
from sksafe.solvers import solve
from sksafe.solvers._design import col_axpy_rows_scaled, col_dot_rows
from sksafe.solvers._problem import kernel_design

from conftest import data_dir_or_skip


def _grouped_problem(seed, n=40, n_groups=25, size=4, n_tasks=1, sparse=False):
    rng = np.random.default_rng(seed)
    p = n_groups * size
    X = rng.standard_normal((n, p))
    if sparse:
        X[rng.random((n, p)) < 0.7] = 0.0
    W = np.zeros((p, n_tasks))
    k = min(3 * size, p)
    W[:k] = rng.standard_normal((k, n_tasks))
    Y = X @ W + 0.3 * rng.standard_normal((n, n_tasks)) + 2.0
    X = sp.csc_matrix(X) if sparse else X
    return X, (Y[:, 0] if n_tasks == 1 else Y)


def _alpha(X, y, datafit, penalty, frac):
    return solve(X, y, datafit, penalty.set_params(alpha=1.0), tol=1e-2).alpha_max * frac


# --------------------------------------------------------------------- kernels


@pytest.mark.parametrize("positive", [False, True])
def test_max_feasible_scale_is_the_root_of_the_soft_norm(positive):
    # a = 0 half the time: the closed form c / ||C|| of unthresholded groups
    rng = np.random.default_rng(0)
    for _ in range(50):
        k, T = rng.integers(1, 6), rng.integers(1, 4)
        C = rng.standard_normal((k, T))
        C[0, 0] = abs(C[0, 0])  # one positive entry: the positive scale is finite
        a = rng.uniform(0, 1, size=k) * rng.integers(0, 2)
        rows = np.arange(k)
        c = rng.uniform(0.1, 2.0)
        kappa = max_feasible_scale(C, 0, k, rows, a, c, positive)
        assert soft_norm(C, 0, k, rows, a, kappa, positive) == pytest.approx(c, rel=1e-10)
        assert soft_norm(C, 0, k, rows, a, 0.999 * kappa, positive) < c
    assert max_feasible_scale(np.zeros((2, 3)), 0, 2, np.arange(2), np.zeros(2), 1.0,
                              False) == np.inf


@njit
def _task_kernels(X, j, R, coefs, s, out):
    col_dot_rows(X, j, R, out)
    col_axpy_rows_scaled(X, j, coefs, s, R)


@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("n_tasks", [1, 4])
def test_task_column_kernels_agree_across_layouts(sparse, n_tasks):
    # the block solver keeps its residual task-major (Fortran); C order must agree
    rng = np.random.default_rng(2)
    X = rng.standard_normal((30, 6))
    X[rng.random(X.shape) < 0.5] = 0.0
    kernel_X, _ = kernel_design(sp.csc_matrix(X) if sparse else X)
    R = rng.standard_normal((30, n_tasks))
    coefs, s = rng.standard_normal(n_tasks), rng.uniform(0.1, 1.0, size=30)
    for layout in (np.ascontiguousarray, np.asfortranarray):
        got, out = layout(R.copy()), np.empty(n_tasks)
        _task_kernels(kernel_X, 4, got, coefs, s, out)
        np.testing.assert_allclose(out, X[:, 4] @ R, rtol=1e-12)
        np.testing.assert_allclose(got, R + np.outer(s * X[:, 4], coefs), rtol=1e-12)


def test_contiguous_group_specifications_match_explicit_lists():
    assert all(np.array_equal(u, v) for u, v in zip(
        check_groups(3, 9), check_groups([[0, 1, 2], [3, 4, 5], [6, 7, 8]], 9)))
    assert all(np.array_equal(u, v) for u, v in zip(
        check_groups([2, 3, 4], 9), check_groups([[0, 1], [2, 3, 4], [5, 6, 7, 8]], 9)))


@pytest.mark.parametrize("penalty", [GroupL1(0.7, groups=[2, 3]),
                                     SparseGroupL1(0.7, groups=[[0, 4], [1, 2, 3]], l1_ratio=0.4),
                                     L21(0.7, l1_ratio=0.6)])
def test_block_prox_minimises_its_objective(penalty):
    rng = np.random.default_rng(1)
    for _ in range(10):
        W = rng.standard_normal((5, 2)) * 2
        step = rng.uniform(0.2, 2)
        prox = penalty.prox(W, step)

        def objective(v):
            v = v.reshape(W.shape)
            return ((v - W) ** 2).sum() / (2 * step) + penalty.value(v)

        ref = minimize(objective, W.ravel(), method="Nelder-Mead",
                       options=dict(xatol=1e-10, fatol=1e-14, maxiter=40000, maxfev=40000))
        assert objective(prox) <= ref.fun + 1e-8


def test_multitask_datafit_gradient_by_finite_differences():
    rng = np.random.default_rng(2)
    Z, Y = rng.standard_normal((6, 3)), rng.standard_normal((6, 3))
    s = rng.uniform(0.1, 1, 6)
    s /= s.sum()
    df = QuadraticMultiTask()
    grad = np.empty_like(Z)
    df.raw_grad(Z, Y, s, grad)
    eps = 1e-6
    for i, t in [(0, 0), (3, 2), (5, 1)]:
        E = np.zeros_like(Z)
        E[i, t] = eps
        fd = (df.value(Z + E, Y, s) - df.value(Z - E, Y, s)) / (2 * eps)
        assert fd == pytest.approx(grad[i, t], rel=1e-7)
    # Fenchel-Young equality at theta = -grad: the dual term equals F(Z) - <theta, Z>... shifted
    theta = -grad
    assert df.dual_value(theta, Y, s) == pytest.approx(df.value(Z, Y, s) + (theta * Z).sum(),
                                                       rel=1e-12)


# ------------------------------------------------------------------ references


@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("l1_ratio", [1.0, 0.6])
def test_multitask_matches_scikit_learn(fit_intercept, sparse, l1_ratio):
    X, Y = _grouped_problem(3, n_groups=30, size=1, n_tasks=3, sparse=sparse)
    alpha = _alpha(X, Y, QuadraticMultiTask(), L21(l1_ratio=l1_ratio), 0.1)
    if l1_ratio == 1.0:
        ours = SafeScreeningMultiTaskLasso(alpha=alpha, tol=1e-13, fit_intercept=fit_intercept)
        ref = MultiTaskLasso(alpha=alpha, tol=1e-14, max_iter=100_000,
                             fit_intercept=fit_intercept)
    else:
        ours = SafeScreeningMultiTaskElasticNet(alpha=alpha, l1_ratio=l1_ratio, tol=1e-13,
                                                fit_intercept=fit_intercept)
        ref = MultiTaskElasticNet(alpha=alpha, l1_ratio=l1_ratio, tol=1e-14, max_iter=100_000,
                                  fit_intercept=fit_intercept)
    ours.fit(X, Y)
    ref.fit(X.toarray() if sparse else X, Y)
    assert ours.dual_gap_ <= 1e-13
    # at objective precision 1e-16 the coefficients are determined to ~sqrt(1e-16 / mu)
    np.testing.assert_allclose(ours.coef_, ref.coef_, atol=1e-6)
    np.testing.assert_allclose(ours.intercept_, ref.intercept_, atol=1e-6)
    dense = X.toarray() if sparse else X

    def objective(coef, intercept):
        residual = Y - dense @ coef.T - intercept
        return ((residual ** 2).sum() / (2 * len(Y))
                + alpha * l1_ratio * np.linalg.norm(coef, axis=0).sum()
                + alpha * (1 - l1_ratio) / 2 * (coef ** 2).sum())

    assert objective(ours.coef_, ours.intercept_) <= objective(ref.coef_, ref.intercept_) * (1 + 1e-13)


@pytest.mark.parametrize("frac", [0.5, 0.1, 0.02])
def test_group_lasso_matches_skglm_and_celer(frac):
    skglm = pytest.importorskip("skglm")
    celer = pytest.importorskip("celer")
    X, y = _grouped_problem(4, n_groups=20, size=5)
    weights = np.linspace(0.5, 2.0, 20)
    alpha = _alpha(X, y, Quadratic(), GroupL1(groups=5, weights=weights), frac)
    ours = SafeScreeningGroupLasso(alpha=alpha, groups=5, weights=weights, tol=1e-13).fit(X, y)
    assert ours.dual_gap_ <= 1e-13
    ref = skglm.GroupLasso(groups=5, alpha=alpha, weights=weights, tol=1e-14, max_iter=1000,
                           fit_intercept=True).fit(X, y)
    np.testing.assert_allclose(ours.coef_, ref.coef_, atol=1e-6)
    ref2 = celer.GroupLasso(groups=5, alpha=alpha, weights=weights, tol=1e-14,
                            fit_intercept=True).fit(X, y)
    np.testing.assert_allclose(ours.coef_, ref2.coef_, atol=1e-6)
    np.testing.assert_allclose(ours.intercept_, ref2.intercept_, atol=1e-6)


@pytest.mark.parametrize("l1_ratio", [0.2, 0.7])
def test_sparse_group_lasso_matches_skglm(l1_ratio):
    skglm = pytest.importorskip("skglm")
    from skglm.datafits import QuadraticGroup
    from skglm.penalties import WeightedL1GroupL2
    from skglm.solvers import GroupBCD

    X, y = _grouped_problem(5, n_groups=15, size=4)
    Xc, yc = X - X.mean(axis=0), y - y.mean()
    weights = np.sqrt(4.0) * np.ones(15)
    alpha = _alpha(X, y, Quadratic(), SparseGroupL1(groups=4, l1_ratio=l1_ratio), 0.1)
    ours = SafeScreeningSparseGroupLasso(alpha=alpha, l1_ratio=l1_ratio, groups=4,
                                         tol=1e-13).fit(X, y)
    ptr = np.arange(0, 61, 4).astype(np.int32)
    idx = np.arange(60).astype(np.int32)
    penalty = WeightedL1GroupL2(alpha, (1 - l1_ratio) * weights, l1_ratio * np.ones(60), ptr, idx)
    ref = skglm.GeneralizedLinearEstimator(QuadraticGroup(ptr, idx), penalty,
                                           GroupBCD(tol=1e-14, max_iter=1000, fit_intercept=False,
                                                    ws_strategy="fixpoint")).fit(Xc, yc)
    assert ours.dual_gap_ <= 1e-13
    np.testing.assert_allclose(ours.coef_, ref.coef_, atol=1e-6)


def test_singleton_groups_are_the_lasso_and_alpha_max_gives_zero():
    X, y = _grouped_problem(6, n_groups=30, size=2)
    lasso = solve(X, y, Quadratic(), L1(0.1), tol=1e-13)
    group = solve(X, y, Quadratic(), GroupL1(0.1, groups=1), tol=1e-13)
    np.testing.assert_allclose(group.coef, lasso.coef, atol=1e-9)
    assert group.alpha_max == pytest.approx(lasso.alpha_max, rel=1e-12)
    at_max = solve(X, y, Quadratic(), GroupL1(group.alpha_max, groups=2), tol=1e-10)
    assert not np.any(at_max.coef)
    below = solve(X, y, Quadratic(), GroupL1(0.99 * at_max.alpha_max, groups=2), tol=1e-10)
    assert np.any(below.coef)


# ---------------------------------------------------- dense / sparse / weights


@pytest.mark.parametrize("penalty", [GroupL1(groups=4), SparseGroupL1(groups=4, l1_ratio=0.5)])
def test_dense_sparse_float32_agree(penalty):
    X, y = _grouped_problem(7, sparse=True)
    alpha = _alpha(X, y, Quadratic(), penalty, 0.1)
    penalty = penalty.set_params(alpha=alpha)
    dense = solve(X.toarray(), y, Quadratic(), penalty, tol=1e-12)
    sparse = solve(X, y, Quadratic(), penalty, tol=1e-12)
    single = solve(X.astype(np.float32), y.astype(np.float32), Quadratic(), penalty, tol=1e-6)
    np.testing.assert_allclose(sparse.coef, dense.coef, atol=1e-9)
    assert sparse.intercept == pytest.approx(dense.intercept, abs=1e-9)
    np.testing.assert_allclose(single.coef, dense.coef, atol=1e-3)


def test_sample_weights_are_row_repetition():
    X, Y = _grouped_problem(8, n_groups=20, size=1, n_tasks=2)
    weights = np.random.default_rng(0).integers(0, 4, size=X.shape[0])
    repeated = np.repeat(np.arange(X.shape[0]), weights)
    est = SafeScreeningMultiTaskLasso(alpha=0.05, tol=1e-13)
    a = est.fit(X, Y, sample_weight=weights).coef_.copy()
    b = est.fit(X[repeated], Y[repeated]).coef_
    np.testing.assert_allclose(a, b, atol=1e-9)


# ---------------------------------------------------------- screening safety


def _check_safe(X, y, datafit, penalty):
    screened = solve(X, y, datafit, penalty, tol=1e-12)
    reference = solve(X, y, datafit, penalty, tol=1e-12, screening=False)
    coef = reference.coef.reshape(X.shape[1], -1)
    zero_rows = ~np.any(np.abs(coef) > 1e-12 * max(np.abs(coef).max(), 1.0), axis=1)
    assert np.all(zero_rows[screened.screened_features]), "a screened feature is non-zero"
    np.testing.assert_allclose(screened.coef, reference.coef, atol=1e-7)
    return screened.screened_features.sum()


@pytest.mark.parametrize("seed", range(12))
def test_screening_is_safe_on_random_problems(seed):
    rng = np.random.default_rng(seed)
    n_tasks = 1 if seed % 3 else 2
    X, y = _grouped_problem(seed, n_groups=20, size=int(rng.integers(1, 5)), n_tasks=n_tasks,
                            sparse=bool(seed % 2))
    size = X.shape[1] // 20
    penalties = [GroupL1(groups=size, weights=rng.uniform(0.5, 2, 20)),
                 SparseGroupL1(groups=size, l1_ratio=rng.uniform(0.1, 0.9))]
    datafit = QuadraticMultiTask() if n_tasks > 1 else Quadratic()
    if n_tasks > 1:
        penalties.append(L21(l1_ratio=rng.uniform(0.5, 1.0)))
    total = 0
    for penalty in penalties:
        for frac in (0.5, 0.1):
            pen = penalty.set_params(alpha=_alpha(X, y, datafit, penalty, frac))
            total += _check_safe(X, y, datafit, pen)
    assert total > 0  # the test has teeth: something was screened


@pytest.mark.parametrize("name", ["regression/bardet.npz", "expression/colon_gglasso_bspline.npz"])
def test_screening_is_safe_on_real_grouped_sets(name):
    data = np.load(data_dir_or_skip() / name)
    X, y = data["X"], data["y"].astype(np.float64)
    groups = groups_from_labels(data["groups"])
    for penalty in (GroupL1(groups=groups), SparseGroupL1(groups=groups, l1_ratio=0.3)):
        for frac in (0.3, 0.05):
            pen = penalty.set_params(alpha=_alpha(X, y, Quadratic(), penalty, frac))
            _check_safe(X, y, Quadratic(), pen)


def test_sparse_group_screens_features_inside_surviving_groups():
    X, y = _grouped_problem(9, n_groups=10, size=10)
    penalty = SparseGroupL1(groups=10, l1_ratio=0.8)
    penalty.set_params(alpha=_alpha(X, y, Quadratic(), penalty, 0.2))
    result = solve(X, y, Quadratic(), penalty, tol=1e-10)
    live_groups = np.flatnonzero(result.screened_at < 0)
    inside = result.screened_features.reshape(10, 10)[live_groups]
    assert inside.any()


# ------------------------------------------------------------------- bad input


@pytest.mark.parametrize("groups, message", [
    ([[0, 1], [1, 2, 3]], "overlap"),
    ([[0, 1], [2]], "missing"),
    ([[0, 1], [], [2, 3]], "empty"),
    ([[0, 1], [2, 7]], "lie in"),
    (3, "multiple"),
    ([2, 3], "sum to"),
    ("abc", "groups must be"),
])
def test_bad_groups_raise(groups, message):
    X, y = _grouped_problem(0, n_groups=1, size=4)
    with pytest.raises(ValueError, match=message):
        SafeScreeningGroupLasso(groups=groups).fit(X, y)


def test_groups_given_as_labels_get_a_short_hint():
    """One label per feature is not a list of sizes: the error says so and shows only
    the first few of the (here 8000) values."""
    X = np.random.default_rng(0).standard_normal((20, 8000))
    labels = np.repeat(np.arange(1000), 8)
    with pytest.raises(ValueError, match="one entry per feature") as info:
        SafeScreeningGroupLasso(groups=list(labels)).fit(X, X[:, 0])
    assert "(8000 values)" in str(info.value) and len(str(info.value)) < 400


def test_bad_block_inputs_raise():
    X, y = _grouped_problem(0, n_groups=4, size=2)
    with pytest.raises(ValueError, match="weights"):
        SafeScreeningGroupLasso(groups=2, weights=[1, 1, 0, 1]).fit(X, y)
    with pytest.raises(ValueError, match="weights"):
        SafeScreeningGroupLasso(groups=2, weights=[1, 1]).fit(X, y)
    with pytest.raises(ValueError, match="alpha > 0"):
        SafeScreeningGroupLasso(alpha=0.0, groups=2).fit(X, y)
    with pytest.raises(ValueError, match="n_samples, n_tasks"):
        SafeScreeningMultiTaskLasso().fit(X, y)
    with pytest.raises(ValueError, match="block penalty"):
        SparseGLM(QuadraticMultiTask(), L1(0.1)).fit(X, np.c_[y, y])
    with pytest.raises(ValueError, match="block coordinate descent"):
        SparseGLM(Quadratic(), GroupL1(0.1, groups=2), solver="fista").fit(X, y)
    with pytest.raises(ValueError, match="l1_ratio"):
        SafeScreeningSparseGroupLasso(groups=2, l1_ratio=1.5).fit(X, y)


def test_sparse_glm_reaches_every_block_model():
    X, Y = _grouped_problem(10, n_groups=10, size=1, n_tasks=2)
    ours = SparseGLM(QuadraticMultiTask(), L21(0.05), tol=1e-12).fit(X, Y)
    ref = SafeScreeningMultiTaskLasso(alpha=0.05, tol=1e-12).fit(X, Y)
    np.testing.assert_allclose(ours.coef_, ref.coef_, atol=1e-10)
    assert ours.predict(X).shape == Y.shape
