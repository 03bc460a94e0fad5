"""The Poisson datafit and ``SparsePoissonRegressor``.

Independent NumPy formulas for the value, derivatives, conjugate and duality gap;
agreement with scikit-learn's ``PoissonRegressor`` (ridge case) and skglm's Poisson
prox-Newton (L1); dense == sparse, float32, sample weights as repeated rows; no
feature is ever screened (the dual has no Gap Safe sphere); bad input.
"""
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from numba.core.errors import NumbaWarning
from scipy.optimize import minimize_scalar
from scipy.special import xlogy
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import PoissonRegressor
from sklearn.metrics import mean_poisson_deviance

from sksafe import SparseGLM, SparsePoissonRegressor
from sksafe.datafits import Poisson
from sksafe.penalties import L1
from sksafe.solvers import solve

TOL = 1e-12


def poisson_data(n=80, p=30, seed=0, sparse=False):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p))
    if sparse:
        X = np.where(rng.uniform(size=(n, p)) < 0.4, X, 0.0)
    w = np.zeros(p)
    w[rng.choice(p, 4, replace=False)] = [0.6, -0.5, 0.4, 0.3]
    y = rng.poisson(np.exp(X @ w + 0.8)).astype(np.float64)
    return (sp.csc_matrix(X) if sparse else X), y


def loss_numpy(z, y, s):
    """Half the Poisson deviance, written out: ``exp(z) - y z - y + y log y``."""
    return float(s @ (np.exp(z) - y * z - y + xlogy(y, y)))


def independent_gap(X, y, coef, intercept, alpha, l1_ratio=1.0, s=None, fit_intercept=True):
    """Relative duality gap at ``(coef, intercept)``, intercept re-optimised, from scratch."""
    Xd = X.toarray() if sp.issparse(X) else np.asarray(X, dtype=np.float64)
    n = Xd.shape[0]
    s = np.full(n, 1.0 / n) if s is None else s / s.sum()
    xw = Xd @ coef
    a, b = alpha * l1_ratio, alpha * (1 - l1_ratio)
    primal = loss_numpy(xw + intercept, y, s) + a * np.abs(coef).sum() + 0.5 * b * coef @ coef
    if fit_intercept:  # exp(b) = sum s y / sum s exp(xw): the exact intercept
        intercept = np.log(s @ y) - np.log(s @ np.exp(xw))
    z = xw + intercept
    theta = s * (y - np.exp(z))
    corr = Xd.T @ theta
    kappa = 1.0
    if b == 0 and np.max(np.abs(corr)) > a:
        kappa = a / np.max(np.abs(corr))
    theta, corr = kappa * theta, kappa * corr
    u = y - theta / s
    dual = -float(s @ (xlogy(u, u) - u + y - xlogy(y, y)))
    if b > 0:
        dual -= np.sum(np.maximum(np.abs(corr) - a, 0.0) ** 2) / (2 * b)
    p0_intercept = np.log(s @ y) if fit_intercept else 0.0
    p0 = loss_numpy(np.full(n, p0_intercept), y, s)
    return (primal - dual) / p0


def test_value_gradient_hessian():
    rng = np.random.default_rng(1)
    z, y = rng.normal(size=15), rng.poisson(2.0, size=15).astype(float)
    s = rng.uniform(0.1, 1.0, size=15)
    s /= s.sum()
    d = Poisson()
    assert d.value(z, y, s) == pytest.approx(loss_numpy(z, y, s), rel=1e-13)
    grad, hess = np.empty(15), np.empty(15)
    d.raw_grad(z, y, s, grad)
    d.raw_hessian(z, y, s, hess)
    np.testing.assert_allclose(grad, s * (np.exp(z) - y), rtol=1e-13)
    np.testing.assert_allclose(hess, s * np.exp(z), rtol=1e-13)
    h = 1e-6
    for i in range(15):
        e = np.zeros(15)
        e[i] = h
        assert (d.value(z + e, y, s) - d.value(z - e, y, s)) / (2 * h) == pytest.approx(
            grad[i], rel=1e-6, abs=1e-10)
    # half the mean Poisson deviance of scikit-learn
    assert d.value(z, y, np.full(15, 1 / 15)) == pytest.approx(
        0.5 * mean_poisson_deviance(y, np.exp(z)), rel=1e-12)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_dual_value_is_the_fenchel_conjugate(seed):
    """``dual_value(theta) = inf_z <theta, z> + F(z)``, coordinate by coordinate."""
    rng = np.random.default_rng(seed)
    y = rng.poisson(2.0, size=10).astype(float)
    y[0] = 0.0
    s = rng.uniform(0.1, 1.0, size=10)
    s /= s.sum()
    theta = s * (y - rng.uniform(0.05, 5.0, size=10))  # u = y - theta / s > 0
    expected = 0.0
    for i in range(10):
        res = minimize_scalar(lambda z, i=i: theta[i] * z + s[i] * (
            np.exp(z) - y[i] * z - y[i] + xlogy(y[i], y[i])),
            bracket=(-1.0, 1.0), method="brent", options={"xtol": 1e-12})
        expected += res.fun
    assert Poisson().dual_value(theta, y, s) == pytest.approx(expected, rel=1e-9, abs=1e-12)
    theta[1] = s[1] * (y[1] + 0.1)  # u < 0: outside the domain
    assert Poisson().dual_value(theta, y, s) == -np.inf


@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "csc"])
def test_ridge_case_is_sklearn_poisson_regressor(fit_intercept, sparse):
    X, y = poisson_data(sparse=sparse)
    # a gap G bounds |w - w*| by sqrt(2 G / alpha) only: 1e-14 P(0) gives ~1e-7 |w|, which
    # the comparisons below need (at 1e-12 the bound, 1e-6 |w|, is their tolerance itself)
    tol = 1e-14
    ours = SparsePoissonRegressor(alpha=0.05, l1_ratio=0.0, fit_intercept=fit_intercept,
                                  tol=tol).fit(X, y)
    ref = PoissonRegressor(alpha=0.05, fit_intercept=fit_intercept, tol=1e-12,
                           max_iter=10_000, solver="newton-cholesky").fit(X, y)
    assert ours.dual_gap_ <= tol
    np.testing.assert_allclose(ours.coef_, ref.coef_, rtol=1e-6,
                               atol=1e-6 * np.max(np.abs(ref.coef_)))
    assert ours.intercept_ == pytest.approx(ref.intercept_, rel=1e-6, abs=1e-7)
    assert ours.score(X, y) == pytest.approx(ref.score(X, y), rel=1e-8)
    np.testing.assert_allclose(ours.predict(X), ref.predict(X), rtol=1e-6)


@pytest.mark.parametrize("fit_intercept", [True, False])
def test_l1_vs_skglm(fit_intercept):
    skglm = pytest.importorskip("skglm")
    from skglm.datafits import Poisson as SkglmPoisson
    from skglm.penalties import L1 as SkglmL1
    from skglm.solvers import ProxNewton
    X, y = poisson_data(n=100, p=60, seed=3)
    alpha = SparsePoissonRegressor(alpha=1e6, fit_intercept=fit_intercept).fit(X, y).alpha_max_
    alpha /= 8
    ours = SparsePoissonRegressor(alpha=alpha, fit_intercept=fit_intercept, tol=TOL).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NumbaWarning)
        warnings.simplefilter("ignore", ConvergenceWarning)
        ref = skglm.GeneralizedLinearEstimator(
            SkglmPoisson(), SkglmL1(alpha),
            ProxNewton(tol=1e-13, fit_intercept=fit_intercept, max_iter=200)).fit(X, y)
    assert np.count_nonzero(ref.coef_) >= 3
    assert independent_gap(X, y, ours.coef_, ours.intercept_, alpha,
                           fit_intercept=fit_intercept) <= 1e-10
    assert independent_gap(X, y, ref.coef_, ref.intercept_, alpha,
                           fit_intercept=fit_intercept) <= 1e-10
    np.testing.assert_allclose(ours.coef_, ref.coef_, rtol=1e-6,
                               atol=1e-6 * np.max(np.abs(ref.coef_)))
    if fit_intercept:
        assert ours.intercept_ == pytest.approx(ref.intercept_, rel=1e-6, abs=1e-7)


@pytest.mark.parametrize("l1_ratio", [1.0, 0.5])
def test_reported_gap_is_the_independent_gap(l1_ratio):
    X, y = poisson_data(n=60, p=90, seed=4)
    sw = np.random.default_rng(4).uniform(0.2, 2.0, size=60)
    for tol in (1e-2, 1e-10):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            model = SparsePoissonRegressor(alpha=0.1, l1_ratio=l1_ratio, tol=tol,
                                           max_iter=1 if tol > 1e-3 else 100)
            model.fit(X, y, sample_weight=sw)
        ref = independent_gap(X, y, model.coef_, model.intercept_, 0.1, l1_ratio, sw)
        assert model.dual_gap_ == pytest.approx(ref, rel=1e-6, abs=1e-13)
    assert model.dual_gap_ <= 1e-10


def test_nothing_is_screened_and_dense_equals_sparse_and_float32():
    X, y = poisson_data(n=70, p=120, seed=5)
    X[:, 7] = 0.0
    dense = SparsePoissonRegressor(alpha=0.1, tol=1e-11).fit(X, y)
    assert dense.n_screened_ == 1 and dense.fit_report_.screened_at[7] == 0
    assert np.all(np.delete(dense.fit_report_.screened_at, 7) == -1)
    for fmt in (sp.csc_matrix, sp.csr_matrix):
        other = SparsePoissonRegressor(alpha=0.1, tol=1e-11).fit(fmt(X), y)
        np.testing.assert_allclose(other.coef_, dense.coef_, rtol=1e-6, atol=1e-9)
    single = SparsePoissonRegressor(alpha=0.1, tol=1e-6).fit(X.astype(np.float32), y)
    assert single.coef_.dtype == np.float32
    np.testing.assert_allclose(single.coef_, dense.coef_, atol=1e-3)


def test_integer_sample_weight_equals_repeated_rows():
    X, y = poisson_data(n=40, p=20, seed=6)
    sw = np.random.default_rng(6).integers(0, 4, size=40)
    sw[0] = 1
    weighted = SparsePoissonRegressor(alpha=0.05, tol=TOL).fit(X, y, sample_weight=sw)
    rows = np.repeat(np.arange(40), sw)
    repeated = SparsePoissonRegressor(alpha=0.05, tol=TOL).fit(X[rows], y[rows])
    np.testing.assert_allclose(weighted.coef_, repeated.coef_, rtol=1e-7, atol=1e-10)
    assert weighted.intercept_ == pytest.approx(repeated.intercept_, rel=1e-7)


def test_bad_input():
    X, y = poisson_data(n=20, p=5)
    with pytest.raises(ValueError, match="non-negative targets"):
        SparsePoissonRegressor().fit(X, y - 3.0)
    with pytest.raises(ValueError, match="at least one positive target"):
        SparsePoissonRegressor().fit(X, np.zeros(20))
    with pytest.raises(ValueError, match="bounded second derivative"):
        SparseGLM(Poisson(), L1(0.1), solver="fista").fit(X, y)
    with pytest.raises(ValueError, match="bounded second derivative"):
        solve(X, y, Poisson(), L1(0.1), solver="fista")


def test_poisson_intercept_shift_is_the_exact_minimiser():
    """The closed-form intercept of the Poisson datafit zeroes the derivative of
    ``c -> F(z + c)``; a datafit without one returns None (Newton steps then)."""
    from sksafe.datafits import Logistic, Poisson
    rng = np.random.default_rng(0)
    z = rng.normal(size=50)
    y = rng.poisson(2.0, size=50).astype(float)
    s = rng.uniform(0.5, 1.5, size=50)
    s /= s.sum()
    shift = Poisson().intercept_shift(z, y, s)
    grad = np.empty(50)
    Poisson().raw_grad(z + shift, y, s, grad)
    assert abs(grad.sum()) <= 1e-14 * (s @ y)
    values = [Poisson().value(z + shift + h, y, s) for h in (-1e-4, 0.0, 1e-4)]
    assert values[1] <= min(values[0], values[2])
    assert Logistic().intercept_shift(z, np.sign(y - 1.5), s) is None
