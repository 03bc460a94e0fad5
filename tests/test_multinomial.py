"""Multinomial logistic regression and the block prox-Newton solver (also group logistic).

References: scikit-learn's multinomial ``LogisticRegression(solver="saga")`` at
high precision (L1), skglm's group logistic prox-Newton; screening safety against
a no-screening reference; the datafit's derivatives, conjugate and curvature bound.
"""
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.linear_model import LogisticRegression

from sksafe import SafeScreeningLogisticRegression, SparseGLM
from sksafe.datafits import Logistic, Multinomial, Poisson
from sksafe.penalties import L1, L21, EntrywiseL1, GroupL1, SparseGroupL1
from sksafe.solvers import duality_gap, solve


def _multiclass(seed, n=90, p=30, K=3, sparse=False):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p))
    if sparse:
        X[rng.random((n, p)) < 0.6] = 0.0
    scores = X[:, :4] @ rng.standard_normal((4, K)) + 0.5 * rng.standard_normal((n, K))
    labels = scores.argmax(axis=1)
    return (sp.csc_matrix(X) if sparse else X), labels


def _softmax_objective(X, labels, coef, intercept, alpha, l1_ratio=1.0, group=False):
    scores = np.asarray(X @ coef.T) + intercept
    top = scores.max(axis=1, keepdims=True)
    lse = (top[:, 0] + np.log(np.exp(scores - top).sum(axis=1)))
    loss = np.mean(lse - scores[np.arange(len(labels)), labels])
    if group:
        norm = np.linalg.norm(coef, axis=0).sum()
    else:
        norm = np.abs(coef).sum()
    return loss + alpha * (l1_ratio * norm + (1 - l1_ratio) / 2 * (coef ** 2).sum())


# ------------------------------------------------------------------- datafit


def test_multinomial_gradient_conjugate_and_curvature():
    rng = np.random.default_rng(0)
    n, K = 7, 4
    Z = rng.standard_normal((n, K))
    Y = np.eye(K)[rng.integers(0, K, n)]
    s = rng.uniform(0.1, 1, n)
    s /= s.sum()
    df = Multinomial()
    grad = np.empty_like(Z)
    df.raw_grad(Z, Y, s, grad)
    eps = 1e-6
    for i, k in [(0, 0), (3, 2), (6, 3)]:
        E = np.zeros_like(Z)
        E[i, k] = eps
        fd = (df.value(Z + E, Y, s) - df.value(Z - E, Y, s)) / (2 * eps)
        assert fd == pytest.approx(grad[i, k], rel=1e-6)
    # Fenchel-Young equality at theta = -grad
    assert df.dual_value(-grad, Y, s) == pytest.approx(df.value(Z, Y, s) - (grad * Z).sum(),
                                                       rel=1e-12)
    # weak duality at a perturbed (still in-domain) point: scaling keeps q on the simplex
    assert df.dual_value(-0.7 * grad, Y, s) <= df.value(Z, Y, s) - (0.7 * grad * Z).sum()
    # curvature bound: every sample's Hessian diag(p) - p p^T has eigenvalues <= 1/2
    P = np.exp(Z) / np.exp(Z).sum(axis=1, keepdims=True)
    for p in P:
        assert np.linalg.eigvalsh(np.diag(p) - np.outer(p, p)).max() <= df.hessian_bound
    # out of the domain: -inf
    assert df.dual_value(-grad + 0.5 * s[:, None], Y, s) == -np.inf


def test_multinomial_zero_sum_dual_is_exact_and_in_domain():
    rng = np.random.default_rng(1)
    n, K = 30, 3
    Y = np.eye(K)[rng.integers(0, K, n)]
    s = np.full(n, 1.0 / n)
    Z = rng.standard_normal((n, K))
    grad = np.empty_like(Z)
    Multinomial().raw_grad(Z, Y, s, grad)
    theta = Multinomial().zero_sum_dual(-grad, Y, s)
    np.testing.assert_allclose(theta.sum(axis=0), 0.0, atol=1e-15)
    assert np.isfinite(Multinomial().dual_value(theta, Y, s))


def test_multinomial_rejects_bad_targets():
    with pytest.raises(ValueError, match="one-hot"):
        Multinomial().check_target(np.array([[1.0, 1.0], [0.0, 1.0]]))
    with pytest.raises(ValueError, match="n_classes >= 2"):
        Multinomial().check_target(np.array([0.0, 1.0]))


# ---------------------------------------------------------------- references


@pytest.mark.parametrize("sparse", [False, True])
def test_multinomial_l1_matches_scikit_learn_saga(sparse):
    X, labels = _multiclass(2, sparse=sparse)
    n, alpha = X.shape[0], 0.02
    ours = SafeScreeningLogisticRegression(alpha=alpha, multi_class="multinomial",
                                           tol=1e-11).fit(X, labels)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = LogisticRegression(C=1 / (n * alpha), l1_ratio=1.0, solver="saga", tol=1e-13,
                                 max_iter=200_000).fit(X, labels)
    assert ours.dual_gap_ <= 1e-11
    ours_obj = _softmax_objective(X, labels, ours.coef_, ours.intercept_, alpha)
    ref_obj = _softmax_objective(X, labels, ref.coef_, ref.intercept_, alpha)
    assert ours_obj <= ref_obj + 1e-11
    assert ref_obj - ours_obj <= 1e-9  # saga converged too: same optimum
    # coefficients are not unique (a common shift across classes can be free), the
    # probabilities are
    np.testing.assert_allclose(ours.predict_proba(X), ref.predict_proba(X), atol=1e-6)
    # and the certificate of the reference point is small as well
    gap = duality_gap(X, np.eye(3)[labels], Multinomial(), EntrywiseL1(alpha), ref.coef_.T,
                      ref.intercept_)[1]
    assert gap <= 1e-8


def test_multinomial_group_penalty_selects_whole_features():
    X, labels = _multiclass(3, p=40)
    model = SafeScreeningLogisticRegression(alpha=0.03, multi_class="multinomial",
                                            multinomial_penalty="group", tol=1e-10)
    model.fit(X, labels)
    assert model.dual_gap_ <= 1e-10
    rows = np.any(model.coef_ != 0, axis=0)
    assert np.all(np.all(model.coef_[:, rows] != 0, axis=0))  # all classes or none
    assert 0 < rows.sum() < X.shape[1]
    # no other point has a lower objective: compare with a perturbed solution
    obj = _softmax_objective(X, labels, model.coef_, model.intercept_, 0.03, group=True)
    rng = np.random.default_rng(0)
    for _ in range(5):
        other = model.coef_ + 1e-3 * rng.standard_normal(model.coef_.shape)
        assert obj <= _softmax_objective(X, labels, other, model.intercept_, 0.03, group=True)


def test_group_logistic_matches_skglm():
    skglm = pytest.importorskip("skglm")
    from skglm.datafits import LogisticGroup
    from skglm.penalties import WeightedGroupL2
    from skglm.solvers import GroupProxNewton

    rng = np.random.default_rng(4)
    X = np.asfortranarray(rng.standard_normal((80, 40)))  # skglm warns on C order
    y = np.where(X[:, :4].sum(axis=1) + 0.5 * rng.standard_normal(80) > 0, 1.0, -1.0)
    ptr = np.arange(0, 41, 4).astype(np.int32)
    idx = np.arange(40).astype(np.int32)
    for alpha in (0.05, 0.01):
        ours = solve(X, y, Logistic(), GroupL1(alpha, groups=4), tol=1e-12, fit_intercept=False)
        ref = skglm.GeneralizedLinearEstimator(
            LogisticGroup(ptr, idx), WeightedGroupL2(alpha, 2.0 * np.ones(10), ptr, idx),
            GroupProxNewton(tol=1e-12, fit_intercept=False)).fit(X, y)
        assert ours.relative_gap <= 1e-12
        np.testing.assert_allclose(ours.coef, np.ravel(ref.coef_), atol=1e-7)


# -------------------------------------------------- dense / sparse / weights


def test_multinomial_dense_sparse_float32_and_weights():
    X, labels = _multiclass(5, sparse=True)
    est = SafeScreeningLogisticRegression(alpha=0.02, multi_class="multinomial", tol=1e-11)
    sparse_proba = est.fit(X, labels).predict_proba(X)
    dense_proba = est.fit(X.toarray(), labels).predict_proba(X.toarray())
    np.testing.assert_allclose(sparse_proba, dense_proba, atol=1e-8)
    single = est.set_params(tol=1e-6).fit(X.astype(np.float32), labels)
    assert single.coef_.dtype == np.float32
    np.testing.assert_allclose(single.predict_proba(X.astype(np.float32)), dense_proba,
                               atol=1e-3)
    weights = np.random.default_rng(0).integers(0, 3, size=X.shape[0])
    weights[[0, 1, 2]] = 1
    repeated = np.repeat(np.arange(X.shape[0]), weights)
    est.set_params(tol=1e-11)
    a = est.fit(X, labels, sample_weight=weights).predict_proba(X)
    b = est.fit(X[repeated], labels[repeated]).predict_proba(X)
    np.testing.assert_allclose(a, b, atol=1e-7)


def test_binary_multinomial_is_the_logistic_model():
    X, labels = _multiclass(6, K=2)
    a = SafeScreeningLogisticRegression(alpha=0.02, multi_class="multinomial").fit(X, labels)
    b = SafeScreeningLogisticRegression(alpha=0.02).fit(X, labels)
    np.testing.assert_array_equal(a.coef_, b.coef_)


# ----------------------------------------------------------- screening safety


@pytest.mark.parametrize("seed", range(6))
def test_block_prox_newton_screening_is_safe(seed):
    rng = np.random.default_rng(seed)
    X, labels = _multiclass(seed, n=60, p=50, K=int(rng.integers(3, 5)), sparse=bool(seed % 2))
    Y = np.eye(labels.max() + 1)[labels]
    signs = np.where(labels == 0, 1.0, -1.0)
    problems = [(Y, Multinomial(), EntrywiseL1(l1_ratio=rng.uniform(0.5, 1))),
                (Y, Multinomial(), L21()),
                (signs, Logistic(), GroupL1(groups=5)),
                (signs, Logistic(), SparseGroupL1(groups=5, l1_ratio=0.5))]
    total = 0
    for target, datafit, penalty in problems:
        alpha_max = solve(X, target, datafit, penalty.set_params(alpha=1.0), tol=1e-2).alpha_max
        for frac in (0.5, 0.1):
            penalty.set_params(alpha=frac * alpha_max)
            screened = solve(X, target, datafit, penalty, tol=1e-12)
            reference = solve(X, target, datafit, penalty, tol=1e-12, screening=False)
            coef = reference.coef.reshape(X.shape[1], -1)
            zero = ~np.any(np.abs(coef) > 1e-9 * max(np.abs(coef).max(), 1.0), axis=1)
            assert np.all(zero[screened.screened_features])
            total += screened.screened_features.sum()
    assert total > 0


def test_poisson_group_lasso_is_certified_without_screening():
    rng = np.random.default_rng(7)
    X = rng.standard_normal((60, 20)) * 0.3
    y = rng.poisson(np.exp(X[:, :4].sum(axis=1)))
    result = solve(X, y.astype(float), Poisson(), GroupL1(0.05, groups=4), tol=1e-10)
    assert result.relative_gap <= 1e-10
    assert not result.screened_features.any()


# ------------------------------------------------------------------ bad input


def test_multinomial_bad_parameters_raise():
    X, labels = _multiclass(8)
    with pytest.raises(ValueError, match="multi_class"):
        SafeScreeningLogisticRegression(multi_class="softmax").fit(X, labels)
    with pytest.raises(ValueError, match="multinomial_penalty"):
        SafeScreeningLogisticRegression(multi_class="multinomial",
                                        multinomial_penalty="rows").fit(X, labels)
    with pytest.raises(ValueError, match="one-vs-rest"):
        SafeScreeningLogisticRegression(multi_class="multinomial", solver="fista").fit(X, labels)
    with pytest.raises(ValueError, match="block penalty"):
        SparseGLM(Multinomial(), L1(0.1)).fit(X, labels)


def test_sparse_glm_multinomial_predicts_labels():
    X, labels = _multiclass(9)
    glm = SparseGLM(Multinomial(), EntrywiseL1(0.02), tol=1e-10).fit(X, labels)
    est = SafeScreeningLogisticRegression(alpha=0.02, multi_class="multinomial",
                                          tol=1e-10).fit(X, labels)
    np.testing.assert_array_equal(glm.predict(X), est.predict(X))
    assert glm.coef_.shape == (3, X.shape[1])
    assert glm.score(X, labels) == est.score(X, labels)
