"""The Cox datafit, ``SparseCoxRegression`` and the concordance index.

Independent O(n^2) NumPy formulas (risk-set matrices, no sorting tricks) for the
value, gradient, Hessian; the conjugate by Newton's method on ``sup_z u^T z - F(z)``
(and by scipy for tiny problems); the Gap Safe constant against Hessian
eigenvalues; agreement with scikit-survival's Coxnet (Breslow ties, L1 and elastic
net), its ridge Cox, skglm's Cox prox-Newton and a scipy L-BFGS-B solve; dense ==
sparse, float32, sample weights == repeated rows (ties included); screening
safety; Harrell's concordance index against a brute-force count, scikit-survival
and lifelines; bad input.
"""
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.optimize import minimize
from scipy.special import logsumexp, xlogy
from sklearn.exceptions import ConvergenceWarning

from sksafe import SparseCoxRegression, SparseGLM
from sksafe.datafits import Cox, Logistic
from sksafe.datafits.cox import _risk_weights
from sksafe.estimators.cox import concordance_index
from sksafe.penalties import L1, ElasticNet
from sksafe.solvers import _exact_newton as exact_newton
from sksafe.solvers import _states as states
from sksafe.solvers import make_problem, solve

from conftest import data_dir_or_skip

TOL = 1e-12


# ---------------------------------------------------------------------------------------------
# data and independent references
# ---------------------------------------------------------------------------------------------
def survival_data(n=80, p=30, seed=0, ties=False, sparse=False, n_informative=4):
    """Exponential times from a sparse Cox model, independent exponential censoring."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p))
    if sparse:
        X = np.where(rng.uniform(size=(n, p)) < 0.4, X, 0.0)
    w = np.zeros(p)
    w[rng.choice(p, n_informative, replace=False)] = rng.choice([-1, 1], n_informative) * 0.8
    risk = np.exp(X @ w)
    times = rng.exponential(1.0 / risk)
    censor = rng.exponential(2.0 / risk.mean(), size=n)
    events = (times <= censor).astype(float)
    times = np.minimum(times, censor)
    if ties:
        times = np.round(times, 1)
    return (sp.csc_matrix(X) if sparse else X), np.column_stack([times, events])


def weights(n, sample_weight=None):
    if sample_weight is None:
        return np.full(n, 1.0 / n)
    return np.asarray(sample_weight, dtype=np.float64) / np.sum(sample_weight)


def risk_matrix(y, s):
    """``R[i, j] = 1`` when sample ``j`` (of positive weight) is at risk at ``t_i``."""
    return (y[None, :, 0] >= y[:, None, 0]) & (s[None, :] > 0)


def perfect_fit(y, s):
    """``sum_k C_k log C_k`` over the distinct times (the value subtracted from ``F``)."""
    c = s * y[:, 1]
    totals = np.array([c[y[:, 0] == t].sum() for t in np.unique(y[:, 0])])
    return float(np.sum(xlogy(totals, totals)))


def loss(z, y, s):
    c = s * y[:, 1]
    R = risk_matrix(y, s)
    val = 0.0
    for i in np.flatnonzero(c > 0):
        val += c[i] * (logsumexp(z[R[i]], b=s[R[i]]) - z[i])
    return val - perfect_fit(y, s)


def softmaxes(z, y, s):
    """Row ``i``: the weighted softmax ``p^i`` of ``z`` over the risk set of ``t_i``."""
    R = risk_matrix(y, s)
    logits = np.where(R, np.log(np.where(s > 0, s, 1.0))[None, :] + z[None, :], -np.inf)
    return np.exp(logits - logsumexp(logits, axis=1, keepdims=True))


def gradient(z, y, s):
    c = s * y[:, 1]
    return c @ softmaxes(z, y, s) - c


def hessian(z, y, s):
    c = s * y[:, 1]
    P = softmaxes(z, y, s)
    return np.diag(c @ P) - (P.T * c) @ P


def conjugate(u, y, s, z0=None):
    """``F*(u) = sup_z u^T z - F(z)`` by damped Newton (pseudo-inverse: F is flat along 1)."""
    z = np.zeros(u.shape[0]) if z0 is None else z0.copy()
    for _ in range(200):
        residual = u - gradient(z, y, s)
        step = np.linalg.pinv(hessian(z, y, s), rcond=1e-13) @ residual
        t = 1.0
        value = u @ z - loss(z, y, s)
        while t > 1e-10 and u @ (z + t * step) - loss(z + t * step, y, s) < value - 1e-15:
            t *= 0.5
        z = z + t * step
        if np.max(np.abs(residual)) < 1e-15:
            break
    assert np.max(np.abs(u - gradient(z, y, s))) < 1e-12, "conjugate: Newton did not converge"
    return float(u @ z - loss(z, y, s))


def independent_gap(X, y, coef, alpha, l1_ratio=1.0, sample_weight=None):
    """Relative duality gap of ``coef`` from scratch: ``theta = -kappa grad F(X w)``."""
    Xd = np.asarray(X.toarray() if sp.issparse(X) else X, dtype=np.float64)
    n = Xd.shape[0]
    s = weights(n, sample_weight)
    a, b = alpha * l1_ratio, alpha * (1 - l1_ratio)
    z = Xd @ coef
    primal = loss(z, y, s) + a * np.abs(coef).sum() + 0.5 * b * coef @ coef
    u = gradient(z, y, s)
    corr = -Xd.T @ u
    kappa = min(1.0, a / np.max(np.abs(corr))) if b == 0 else 1.0
    dual = -conjugate(kappa * u, y, s, z0=z)
    if b > 0:
        dual -= np.sum(np.maximum(np.abs(kappa * corr) - a, 0.0) ** 2) / (2 * b)
    return (primal - dual) / loss(np.zeros(n), y, s)


def kernel_target(y):
    return Cox().check_target(y)


def random_problem(seed, n=12):
    """Small survival data with ties, censoring, a zero weight and a censored first time."""
    rng = np.random.default_rng(seed)
    times = rng.integers(1, 6, size=n).astype(float)
    events = (rng.uniform(size=n) < 0.6).astype(float)
    events[np.argmax(times)] = 1.0
    times[0], events[0] = 0.5, 0.0  # censored before every event: in no risk set of an event
    s = rng.uniform(0.2, 1.0, size=n)
    s[3] = 0.0
    return np.column_stack([times, events]), s / s.sum()


# ---------------------------------------------------------------------------------------------
# the datafit
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("seed", range(4))
def test_value_gradient_hessian_against_risk_set_formulas(seed):
    y, s = random_problem(seed)
    n = y.shape[0]
    rng = np.random.default_rng(seed)
    z = 2.0 * rng.standard_normal(n)
    Y = kernel_target(y)
    d = Cox()
    assert d.value(z, Y, s) == pytest.approx(loss(z, y, s), rel=1e-13, abs=1e-15)
    grad, hess = np.empty(n), np.empty(n)
    d.raw_grad(z, Y, s, grad)
    d.raw_hessian(z, Y, s, hess)
    np.testing.assert_allclose(grad, gradient(z, y, s), rtol=1e-12, atol=1e-15)
    H = hessian(z, y, s)
    np.testing.assert_allclose(hess, np.diag(H), rtol=1e-11, atol=1e-15)  # the exact diagonal
    h = 1e-6
    for i in range(n):
        e = np.zeros(n)
        e[i] = h
        fd = (d.value(z + e, Y, s) - d.value(z - e, Y, s)) / (2 * h)
        assert fd == pytest.approx(grad[i], rel=1e-6, abs=1e-10)
        g_plus, g_minus = np.empty(n), np.empty(n)
        d.raw_grad(z + e, Y, s, g_plus)
        d.raw_grad(z - e, Y, s, g_minus)
        np.testing.assert_allclose((g_plus - g_minus) / (2 * h), H[:, i], atol=1e-8)
    # the diagonal majorant sum_k C_k p^k_j of skglm's models really majorises the Hessian
    majorant = np.empty(n)
    _risk_weights(z, Y, s, False, majorant)
    assert np.min(np.linalg.eigvalsh(np.diag(majorant) - H)) >= -1e-14
    # F >= 0, shift invariance, nothing from the zero-weight sample or the early censored one
    assert d.value(z, Y, s) >= 0.0
    assert d.value(z + 3.7, Y, s) == pytest.approx(d.value(z, Y, s), rel=1e-13)
    other = z.copy()
    other[[0, 3]] += [5.0, -4.0]
    assert d.value(other, Y, s) == pytest.approx(d.value(z, Y, s), rel=1e-13)
    assert grad[0] == 0.0 and grad[3] == 0.0


@pytest.mark.parametrize("seed", range(4))
def test_hessian_columns_against_dense_hessian_and_finite_differences(seed):
    """``H X`` in O(n) per column (ties, weights, a zero weight, an early censored sample)
    equals the dense risk-set Hessian and the derivative of ``raw_grad``, dense and CSC."""
    y, s = random_problem(seed, n=14)
    n = y.shape[0]
    rng = np.random.default_rng(seed)
    z = 2.0 * rng.standard_normal(n)
    Y = kernel_target(y)
    X = np.where(rng.uniform(size=(n, 6)) < 0.6, rng.standard_normal((n, 6)), 0.0)
    X[:, 5] = 1.0  # F is flat along 1: H 1 = 0
    cols = np.array([4, 0, 5, 2])
    apply = Cox().hessian_columns(z, Y, s)
    out = np.empty((n, cols.size), order="F")
    apply(np.asfortranarray(X), cols, out)
    H = hessian(z, y, s)
    np.testing.assert_allclose(out, H @ X[:, cols], rtol=1e-12, atol=1e-15)
    assert np.max(np.abs(out[:, 2])) <= 1e-15
    Xs = sp.csc_matrix(X)
    out_sparse = np.empty_like(out)
    apply((Xs.data, Xs.indices.astype(np.int32), Xs.indptr.astype(np.int32)), cols, out_sparse)
    np.testing.assert_array_equal(out_sparse, out)
    h = 1e-6
    for k, j in enumerate(cols[:2]):
        g_plus, g_minus = np.empty(n), np.empty(n)
        Cox().raw_grad(z + h * X[:, j], Y, s, g_plus)
        Cox().raw_grad(z - h * X[:, j], Y, s, g_minus)
        np.testing.assert_allclose((g_plus - g_minus) / (2 * h), out[:, k], atol=1e-9)
    # the generic hook is off for separable datafits (their raw_hessian is all of H)
    assert Cox.full_hessian and not Logistic.full_hessian
    assert Logistic().hessian_columns(z, np.sign(z), s) is None


def test_hessian_columns_extreme_predictors():
    """Risk-set sums ``exp(+-700)`` apart: every factor is a ratio in [0, 1], nothing overflows,
    and the product keeps its symmetry ``u^T H v = v^T H u`` and ``H 1 = 0``."""
    y, s = random_problem(5, n=30)
    n = y.shape[0]
    rng = np.random.default_rng(5)
    z = 700.0 * np.sign(rng.standard_normal(n)) * rng.uniform(size=n)
    V = np.asfortranarray(np.column_stack([rng.standard_normal((n, 2)), np.ones(n)]))
    out = np.empty((n, 3), order="F")
    Cox().hessian_columns(z, kernel_target(y), s)(V, np.arange(3), out)
    assert np.all(np.isfinite(out))
    assert V[:, 0] @ out[:, 1] == pytest.approx(V[:, 1] @ out[:, 0], rel=1e-9, abs=1e-15)
    assert np.max(np.abs(out[:, 2])) <= 1e-12  # rounding of the log-sum-exps, on risks <= 1


def test_ties_are_breslow_and_match_skglm():
    """Tied events share the full risk set: without ties and with uniform weights the value
    is skglm's Cox, with ties it differs from skglm's Breslow value by the constant
    ``sum_k C_k log(number of tied events)`` only."""
    from skglm.datafits import Cox as SkglmCox

    for ties in (False, True):
        _, y = survival_data(n=60, seed=1, ties=ties)
        n = y.shape[0]
        s = np.full(n, 1.0 / n)
        z = np.random.default_rng(1).standard_normal(n)
        ref = SkglmCox()
        ref.initialize(None, y)
        ours = Cox().value(z, kernel_target(y), s)
        tied_counts = [np.sum((y[:, 0] == t) & (y[:, 1] == 1)) for t in np.unique(y[:, 0])]
        offset = sum(m / n * np.log(m) for m in tied_counts if m > 0)
        assert ours == pytest.approx(ref.value(y, None, z) - offset, rel=1e-12)
        assert (offset > 0) == ties


def test_extreme_predictors_do_not_overflow():
    y, s = random_problem(7, n=30)
    z = 800.0 * np.random.default_rng(7).standard_normal(30)
    Y = kernel_target(y)
    grad, hess = np.empty(30), np.empty(30)
    Cox().raw_grad(z, Y, s, grad)
    Cox().raw_hessian(z, Y, s, hess)
    assert np.isfinite(Cox().value(z, Y, s))
    assert np.all(np.isfinite(grad)) and np.all(np.isfinite(hess)) and np.all(hess >= 0)
    assert abs(grad.sum()) < 1e-12 * np.abs(grad).sum()


@pytest.mark.parametrize("seed", range(4))
def test_dual_value_is_the_exact_conjugate(seed):
    """``-dual_value(-u) = F*(u)`` at rescaled gradients (the solvers' dual points), by
    Newton's method, and by a plain scipy solve on a tiny problem."""
    y, s = random_problem(seed)
    n = y.shape[0]
    rng = np.random.default_rng(seed)
    Y = kernel_target(y)
    for kappa in (1.0, 0.6, 0.05):
        u = kappa * gradient(rng.standard_normal(n), y, s)
        assert -Cox().dual_value(-u, Y, s) == pytest.approx(conjugate(u, y, s), abs=1e-12)
    if seed == 0:
        u = 0.5 * gradient(rng.standard_normal(n), y, s)
        res = minimize(lambda z: loss(z, y, s) - u @ z, np.zeros(n),
                       jac=lambda z: gradient(z, y, s) - u, method="BFGS",
                       options={"gtol": 1e-12, "maxiter": 10_000})
        assert -Cox().dual_value(-u, Y, s) == pytest.approx(-res.fun, abs=1e-9)


def test_dual_value_domain_and_boundary():
    y, s = random_problem(11)
    n = y.shape[0]
    Y = kernel_target(y)
    z = np.random.default_rng(11).standard_normal(n)
    theta = -gradient(z, y, s)
    assert np.isfinite(Cox().dual_value(theta, Y, s))
    shifted = theta + 1e-3 * s  # sum(theta) != 0: F is invariant to shifts
    assert Cox().dual_value(shifted, Y, s) == -np.inf
    bad = theta.copy()
    bad[3] = 1e-3  # a zero-weight sample must have theta = 0
    assert Cox().dual_value(bad, Y, s) == -np.inf
    # m_j = c_j - theta_j < 0: more mass than the events can send to j
    events = np.flatnonzero(y[:, 1] == 1)
    j, k = events[-1], events[0]
    bad = theta.copy()
    bad[j] += (s[j] * y[j, 1] - theta[j]) + 1e-3
    bad[k] -= (s[j] * y[j, 1] - theta[j]) + 1e-3
    assert Cox().dual_value(bad, Y, s) == -np.inf
    # a suffix sum U_k < 0: mass moved to a sample before the events that could send it
    order = np.argsort(y[:, 0])
    early = order[1]  # the first sample with s > 0 after the censored one
    late = order[-1]
    bad = np.zeros(n)
    bad[early], bad[late] = -0.5, 0.5
    assert Cox().dual_value(bad, Y, s) == -np.inf
    # the domain's boundary (kappa -> 0: theta = 0, every event keeps its own mass) is finite
    assert Cox().dual_value(np.zeros(n), Y, s) == pytest.approx(
        -(np.sum(xlogy(s * y[:, 1], y[:, 1])) - np.sum(
            [xlogy(w, w) for w in [np.sum(s * y[:, 1] * (y[:, 0] == t))
                                   for t in np.unique(y[:, 0])]]) + perfect_fit(y, s)),
        abs=1e-14)


@pytest.mark.parametrize("seed", range(3))
def test_fenchel_young_and_weak_duality(seed):
    """``F(z) + F*(u) >= u^T z`` for any ``z`` and feasible ``u``; equality at ``u = grad F(z)``;
    and ``D(theta) <= P(w)`` for random primal points and rescaled dual points."""
    rng = np.random.default_rng(seed)
    X, y = survival_data(n=40, p=15, seed=seed, ties=True)
    n = X.shape[0]
    s = np.full(n, 1.0 / n)
    Y = kernel_target(y)
    d = Cox()
    for _ in range(20):
        z, z_other = rng.standard_normal(n), 3.0 * rng.standard_normal(n)
        u = rng.uniform(0.01, 1.0) * gradient(z_other, y, s)
        assert d.value(z, Y, s) - d.dual_value(-u, Y, s) >= u @ z - 1e-13
        u = gradient(z, y, s)
        assert d.value(z, Y, s) - d.dual_value(-u, Y, s) == pytest.approx(u @ z, abs=1e-13)
    alpha = 0.05
    for _ in range(20):
        w = rng.standard_normal(15) * rng.uniform(size=15) < 0.3
        w = w * rng.standard_normal(15)
        primal = d.value(X @ w, Y, s) + alpha * np.abs(w).sum()
        theta = -gradient(rng.standard_normal(n) * 2, y, s)
        theta *= min(1.0, alpha / np.max(np.abs(X.T @ theta)))
        assert d.dual_value(theta, Y, s) <= primal + 1e-13


@pytest.mark.parametrize("seed", range(3))
def test_gamma_bounds_the_hessian_and_is_tight(seed):
    """``d2F(z) <= diag(s) / gamma`` at random (also extreme) points, the dual is gamma-strongly
    concave, and the bound is nearly attained (uniform weights)."""
    y, s = random_problem(seed, n=15)
    Y = kernel_target(y)
    gamma = Cox().dual_gamma(Y, s)
    rng = np.random.default_rng(seed)
    live = s > 0
    root = np.sqrt(s[live])
    for scale in (0.1, 1.0, 5.0, 50.0):
        z = scale * rng.standard_normal(15)
        H = hessian(z, y, s)[np.ix_(live, live)]
        assert np.max(np.linalg.eigvalsh(H / np.outer(root, root))) <= 1.0 / gamma * (1 + 1e-12)
    # midpoint strong concavity of the dual value in ||u||_s^2 = sum u_i^2 / s_i
    for _ in range(20):
        a = -rng.uniform(0.1, 1) * gradient(rng.standard_normal(15) * 2, y, s)
        b = -rng.uniform(0.1, 1) * gradient(rng.standard_normal(15) * 2, y, s)
        d = Cox().dual_value
        excess = d((a + b) / 2, Y, s) - (d(a, Y, s) + d(b, Y, s)) / 2
        assert excess >= gamma / 8 * np.sum((a - b)[live] ** 2 / s[live]) - 1e-14
    # two late samples carrying every risk set, in opposite directions: L / 2 ... L
    n = 20
    y = np.column_stack([np.arange(n, dtype=float), np.ones(n)])
    s = np.full(n, 1.0 / n)
    z = np.zeros(n)
    z[-2:] = 30.0
    H = hessian(z, y, s)
    v = np.zeros(n)
    v[-2:] = [1.0, -1.0]
    ratio = v @ H @ v / np.sum(s * v ** 2)
    L = 1.0 / Cox().dual_gamma(kernel_target(y), s)
    assert 0.85 * L <= ratio <= L


def test_check_target_layouts_agree():
    sksurv_util = pytest.importorskip("sksurv.util")
    _, y = survival_data(n=30, seed=2)
    structured = sksurv_util.Surv.from_arrays(event=y[:, 1].astype(bool), time=y[:, 0])
    np.testing.assert_array_equal(Cox().check_target(structured), Cox().check_target(y))
    uncensored = Cox().check_target(y[:, 0])
    np.testing.assert_array_equal(uncensored[:, 1], 1.0)


# ---------------------------------------------------------------------------------------------
# fits against references
# ---------------------------------------------------------------------------------------------
def scipy_reference(X, y, alpha, sample_weight=None):
    """L-BFGS-B on ``w = u - v``, ``u, v >= 0`` with the risk-set formulas, then Newton's
    method on the support (signs fixed) to machine precision."""
    n, p = X.shape
    s = weights(n, sample_weight)

    def fun(v):
        w = v[:p] - v[p:]
        z = X @ w
        g = X.T @ gradient(z, y, s)
        return loss(z, y, s) + alpha * v.sum(), np.concatenate([g + alpha, -g + alpha])

    res = minimize(fun, np.zeros(2 * p), jac=True, method="L-BFGS-B", bounds=[(0, None)] * 2 * p,
                   options={"maxiter": 20_000, "ftol": 1e-16, "gtol": 1e-12})
    w = res.x[:p] - res.x[p:]
    support = np.abs(w) > 1e-6 * np.max(np.abs(w))
    signs = np.sign(w[support])
    XS = X[:, support]
    wS = w[support]
    for _ in range(50):
        z = XS @ wS
        g = XS.T @ gradient(z, y, s) + alpha * signs
        step = np.linalg.solve(XS.T @ hessian(z, y, s) @ XS, -g)
        wS = wS + step
        if np.max(np.abs(step)) <= 1e-15 * np.max(np.abs(wS)):
            break
    assert np.all(np.sign(wS) == signs)
    w = np.zeros(p)
    w[support] = wS
    return w


def test_l1_against_scipy_and_independent_gap():
    X, y = survival_data(n=60, p=12, seed=3, ties=True)
    alpha = SparseCoxRegression(alpha=1e3).fit(X, y).alpha_max_ / 4
    ours = SparseCoxRegression(alpha=alpha, tol=TOL).fit(X, y)
    ref = scipy_reference(X, y, alpha)
    assert np.count_nonzero(ref) >= 3
    np.testing.assert_allclose(ours.coef_, ref, rtol=1e-7, atol=1e-9)
    assert ours.dual_gap_ <= TOL
    assert independent_gap(X, y, ours.coef_, alpha) <= 1e-11


@pytest.mark.parametrize("l1_ratio", [1.0, 0.5])
def test_against_scikit_survival_coxnet(l1_ratio):
    """Coxnet (glmnet's coordinate descent, Breslow ties) minimises the same objective."""
    pytest.importorskip("sksurv")
    from sksurv.linear_model import CoxnetSurvivalAnalysis
    from sksurv.util import Surv

    X, y = survival_data(n=150, p=40, seed=5, ties=True)
    structured = Surv.from_arrays(event=y[:, 1].astype(bool), time=y[:, 0])
    alpha = SparseCoxRegression(alpha=1e3).fit(X, structured).alpha_max_ / 5
    ours = SparseCoxRegression(alpha=alpha, l1_ratio=l1_ratio, tol=TOL).fit(X, structured)
    ref = CoxnetSurvivalAnalysis(alphas=[alpha], l1_ratio=l1_ratio, normalize=False,
                                 tol=1e-14, max_iter=1_000_000).fit(X, structured)
    ref_coef = ref.coef_.ravel()
    assert np.count_nonzero(ref_coef) >= 4
    # Coxnet stops on coefficient changes: its gap is ~1e-7, which limits the agreement
    np.testing.assert_allclose(ours.coef_, ref_coef, rtol=1e-5, atol=1e-6)
    assert independent_gap(X, y, ref_coef, alpha, l1_ratio) <= 1e-6
    assert independent_gap(X, y, ours.coef_, alpha, l1_ratio) <= 1e-11


def test_ridge_against_scikit_survival_coxph():
    """``CoxPHSurvivalAnalysis(alpha=n a, ties="breslow")`` minimises ``n`` times our ridge
    objective: the unnormalised partial likelihood plus ``alpha / 2 ||w||^2``."""
    pytest.importorskip("sksurv")
    from sksurv.linear_model import CoxPHSurvivalAnalysis
    from sksurv.util import Surv

    X, y = survival_data(n=120, p=10, seed=6, ties=True)
    ours = SparseCoxRegression(alpha=0.05, l1_ratio=0.0, tol=TOL).fit(X, y)
    structured = Surv.from_arrays(event=y[:, 1].astype(bool), time=y[:, 0])
    ref = CoxPHSurvivalAnalysis(alpha=0.05 * 120, ties="breslow", tol=1e-12,
                                n_iter=1000).fit(X, structured)
    # CoxPH stops on the relative change of the loss (1e-12): coefficients to ~1e-6
    np.testing.assert_allclose(ours.coef_, ref.coef_, rtol=1e-5, atol=1e-7)
    assert independent_gap(X, y, ref.coef_, 0.05, 0.0) <= 1e-9
    assert independent_gap(X, y, ours.coef_, 0.05, 0.0) <= 1e-11


def test_l1_against_skglm():
    skglm = pytest.importorskip("skglm")
    X, y = survival_data(n=80, p=30, seed=4)
    alpha = SparseCoxRegression(alpha=1e3).fit(X, y).alpha_max_ / 6
    ours = SparseCoxRegression(alpha=alpha, tol=TOL).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = skglm.CoxEstimator(alpha=alpha, l1_ratio=1.0, method="breslow", tol=1e-13,
                                 max_iter=500).fit(X, y)
    assert np.count_nonzero(ref.coef_) >= 3
    np.testing.assert_allclose(ours.coef_, ref.coef_, rtol=1e-6,
                               atol=1e-7 * np.max(np.abs(ref.coef_)))
    assert independent_gap(X, y, ref.coef_, alpha) <= 1e-9


@pytest.mark.parametrize("l1_ratio", [1.0, 0.7])
def test_reported_gap_is_the_independent_gap(l1_ratio):
    X, y = survival_data(n=50, p=80, seed=7, ties=True)
    sw = np.random.default_rng(7).uniform(0.2, 2.0, size=50)
    alpha = SparseCoxRegression(alpha=1e3).fit(X, y, sample_weight=sw).alpha_max_ / 3
    for tol in (1e-2, 1e-10):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            model = SparseCoxRegression(alpha=alpha, l1_ratio=l1_ratio, tol=tol,
                                        max_iter=1 if tol > 1e-3 else 100)
            model.fit(X, y, sample_weight=sw)
        ref = independent_gap(X, y, model.coef_, alpha, l1_ratio, sw)
        assert model.dual_gap_ == pytest.approx(ref, rel=1e-6, abs=1e-13)
    assert model.dual_gap_ <= 1e-10


def test_sparseglm_is_the_estimator_and_ignores_fit_intercept():
    X, y = survival_data(n=70, p=40, seed=8)
    ours = SparseCoxRegression(alpha=0.05, l1_ratio=0.8, tol=1e-10).fit(X, y)
    for fit_intercept in (True, False):
        glm = SparseGLM(Cox(), ElasticNet(0.05, l1_ratio=0.8), fit_intercept=fit_intercept,
                        tol=1e-10).fit(X, y)
        np.testing.assert_allclose(glm.coef_, ours.coef_, rtol=1e-12, atol=1e-14)
        assert glm.intercept_ == 0.0
        assert glm.score(X, y) == pytest.approx(ours.score(X, y))
    np.testing.assert_array_equal(ours.predict(X), X @ ours.coef_)
    assert solve(X, y, Cox(), L1(0.05), fit_intercept=True).intercept == 0.0


def ar1_survival(n, p, rho, seed):
    """AR(1) columns (correlation ``rho ** |j - k|``), 10 true coefficients of +-0.5."""
    rng = np.random.default_rng(seed)
    X = np.empty((n, p))
    X[:, 0] = rng.standard_normal(n)
    for j in range(1, p):
        X[:, j] = rho * X[:, j - 1] + np.sqrt(1 - rho ** 2) * rng.standard_normal(n)
    w = np.zeros(p)
    w[rng.choice(p, 10, replace=False)] = rng.choice([-1, 1], 10) * 0.5
    risk = np.exp(X @ w)
    times = rng.exponential(1.0 / risk)
    censor = rng.exponential(2.5 / np.median(risk), size=n)
    return X, np.column_stack([np.minimum(times, censor), (times <= censor).astype(float)])


@pytest.fixture
def diagonal_models(monkeypatch):
    """Turn the exact-Hessian models off: the diagonal prox-Newton models of before."""
    monkeypatch.setattr(exact_newton, "max_gram_size", 0)


def count_exact_steps(monkeypatch):
    calls = []
    original = exact_newton.exact_newton_step

    def spy(state, ws, kkt_tol):
        calls.append(ws.size)
        return original(state, ws, kkt_tol)
    monkeypatch.setattr(states, "exact_newton_step", spy)
    return calls


@pytest.mark.parametrize("exact_below", [np.inf, exact_newton.exact_below])
def test_exact_hessian_models_converge_quadratically(monkeypatch, exact_below):
    """On a correlated design at alpha_max / 50 the diagonal model converges linearly
    (over a thousand Newton steps to a gap of 1e-8); the exact one needs a few per
    working set, used from the start or (the default) once the models' KKT tolerance
    is below ``exact_below`` times alpha, and both reach the same point."""
    monkeypatch.setattr(exact_newton, "exact_below", exact_below)
    X, y = ar1_survival(100, 300, 0.5, 0)
    alpha = SparseCoxRegression(alpha=1e3).fit(X, y).alpha_max_ / 50
    calls = count_exact_steps(monkeypatch)
    exact = SparseCoxRegression(alpha=alpha, tol=1e-8, max_iter=200).fit(X, y)
    assert exact.fit_report_.converged and exact.fit_report_.relative_gap <= 1e-8
    assert len(calls) <= 40 and exact.fit_report_.n_epochs <= 200
    assert np.count_nonzero(exact.coef_) >= 50
    monkeypatch.setattr(exact_newton, "max_gram_size", 0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        diagonal = SparseCoxRegression(alpha=alpha, tol=1e-8, max_iter=200).fit(X, y)
    assert diagonal.fit_report_.n_epochs > 1000
    np.testing.assert_allclose(exact.coef_, diagonal.coef_, atol=1e-4)


@pytest.mark.parametrize("positive", [False, True])
def test_exact_hessian_models_reach_tight_gaps(monkeypatch, positive):
    """Gap 1e-10 with the exact models (ties, weights), the same point as the diagonal
    models and, without a sign constraint, as scipy."""
    X, y = survival_data(n=60, p=40, seed=13, ties=True)
    sw = np.random.default_rng(13).uniform(0.5, 2.0, size=60)
    penalty = L1(SparseCoxRegression(alpha=1e3).fit(X, y, sample_weight=sw).alpha_max_ / 8,
                 positive=positive)
    calls = count_exact_steps(monkeypatch)
    exact = solve(X, y, Cox(), penalty, sample_weight=sw, tol=1e-10)
    assert exact.converged and exact.relative_gap <= 1e-10 and len(calls) > 0
    assert np.count_nonzero(exact.coef) >= 3
    assert not positive or np.all(exact.coef >= 0.0)
    monkeypatch.setattr(exact_newton, "max_gram_size", 0)
    diagonal = solve(X, y, Cox(), penalty, sample_weight=sw, tol=1e-10)
    np.testing.assert_allclose(exact.coef, diagonal.coef, rtol=1e-7, atol=1e-9)
    if not positive:
        ref = scipy_reference(X, y, penalty.alpha, sample_weight=sw)
        np.testing.assert_allclose(exact.coef, ref, rtol=1e-7, atol=1e-9)


def test_elastic_net_and_uncentred_design_with_exact_models(monkeypatch):
    """The ridge part enters the model's Gram diagonal; column offsets cost nothing
    since the exact Hessian is flat along 1."""
    X, y = survival_data(n=70, p=50, seed=14)
    calls = count_exact_steps(monkeypatch)
    ref = SparseCoxRegression(alpha=0.04, l1_ratio=0.6, tol=1e-11).fit(X, y)
    shifted = SparseCoxRegression(alpha=0.04, l1_ratio=0.6, tol=1e-11, max_iter=20).fit(
        X + 40.0, y)
    assert len(calls) > 0
    np.testing.assert_allclose(shifted.coef_, ref.coef_, rtol=1e-7, atol=1e-10)
    assert independent_gap(X, y, ref.coef_, 0.04, 0.6) <= 1e-10


def test_dense_equals_sparse_and_float32():
    X, y = survival_data(n=90, p=150, seed=9, sparse=True)
    dense_X = X.toarray()
    dense = SparseCoxRegression(alpha=0.04, tol=1e-11).fit(dense_X, y)
    assert np.count_nonzero(dense.coef_) >= 3
    for fmt in (sp.csc_matrix, sp.csr_matrix):
        other = SparseCoxRegression(alpha=0.04, tol=1e-11).fit(fmt(X), y)
        np.testing.assert_allclose(other.coef_, dense.coef_, rtol=1e-8, atol=1e-10)
        np.testing.assert_array_equal(other.fit_report_.screened_at >= 0,
                                      dense.fit_report_.screened_at >= 0)
    single = SparseCoxRegression(alpha=0.04, tol=1e-6).fit(dense_X.astype(np.float32), y)
    assert single.coef_.dtype == np.float32
    np.testing.assert_allclose(single.coef_, dense.coef_, atol=1e-3)
    single_sparse = SparseCoxRegression(alpha=0.04, tol=1e-6).fit(
        sp.csc_matrix(dense_X.astype(np.float32)), y)
    np.testing.assert_allclose(single_sparse.coef_, single.coef_, atol=1e-5)


def test_uncentred_design_converges():
    """A free shift in the Newton models (F is flat along 1) makes column offsets harmless."""
    X, y = survival_data(n=100, p=60, seed=10)
    centred = SparseCoxRegression(alpha=0.05, tol=1e-10).fit(X, y)
    shifted = SparseCoxRegression(alpha=0.05, tol=1e-10, max_iter=40).fit(X + 25.0, y)
    np.testing.assert_allclose(shifted.coef_, centred.coef_, rtol=1e-6, atol=1e-8)


def test_integer_sample_weight_equals_repeated_rows():
    """Repeated rows are tied times; Breslow's shared risk set makes them one weighted row
    (and the perfect-fit constant depends on the event weight per time only)."""
    X, y = survival_data(n=40, p=20, seed=11, ties=True)
    sw = np.random.default_rng(11).integers(0, 4, size=40)
    sw[np.flatnonzero(y[:, 1])[:2]] = 2
    rows = np.repeat(np.arange(40), sw)
    s = weights(40, sw)
    z = np.random.default_rng(1).standard_normal(40)
    assert Cox().value(z, kernel_target(y), s) == pytest.approx(
        Cox().value(z[rows], kernel_target(y[rows]), np.full(rows.size, 1 / rows.size)),
        rel=1e-13)
    weighted = SparseCoxRegression(alpha=0.03, tol=TOL).fit(X, y, sample_weight=sw)
    repeated = SparseCoxRegression(alpha=0.03, tol=TOL).fit(X[rows], y[rows])
    assert np.count_nonzero(weighted.coef_) >= 3
    np.testing.assert_allclose(weighted.coef_, repeated.coef_, rtol=1e-7, atol=1e-10)
    kept = sw > 0  # zero weights == removed rows
    removed = SparseCoxRegression(alpha=0.03, tol=TOL).fit(X[kept], y[kept],
                                                         sample_weight=sw[kept])
    np.testing.assert_allclose(weighted.coef_, removed.coef_, rtol=1e-7, atol=1e-10)


def test_warm_started_path_equals_cold_fits():
    X, y = survival_data(n=60, p=100, seed=12)
    model = SparseCoxRegression(tol=1e-10, warm_start=True)
    alpha_max = SparseCoxRegression(alpha=1e3).fit(X, y).alpha_max_
    for frac in (0.5, 0.2, 0.1):
        model.set_params(alpha=frac * alpha_max).fit(X, y)
        cold = SparseCoxRegression(alpha=frac * alpha_max, tol=1e-10).fit(X, y)
        np.testing.assert_allclose(model.coef_, cold.coef_, rtol=1e-6, atol=1e-9)
    zero = SparseCoxRegression(alpha=alpha_max * 1.001).fit(X, y)
    assert not np.any(zero.coef_) and zero.n_iter_ == 0


# ---------------------------------------------------------------------------------------------
# screening
# ---------------------------------------------------------------------------------------------
def check_screening_safety(X, y, alpha, l1_ratio=1.0, sample_weight=None):
    """Features screened with screening on are zero in the screening-off fit at gap 1e-12."""
    kwargs = dict(alpha=alpha, l1_ratio=l1_ratio, tol=TOL, max_iter=300)
    ours = SparseCoxRegression(**kwargs).fit(X, y, sample_weight=sample_weight)
    ref = SparseCoxRegression(screening=False, **kwargs).fit(X, y, sample_weight=sample_weight)
    assert ours.dual_gap_ <= TOL and ref.dual_gap_ <= TOL
    screened = ours.fit_report_.screened_at > 0
    assert not np.any(ref.coef_[screened]), "a screened feature is active at the optimum"
    # both at gap 1e-12 P(0): the coefficients agree to ~sqrt(gap), not to rounding
    np.testing.assert_allclose(ours.coef_, ref.coef_, atol=1e-6 * np.max(np.abs(ref.coef_)))
    return int(screened.sum())


@pytest.mark.parametrize("seed", range(6))
def test_screening_is_safe_random(seed):
    rng = np.random.default_rng(seed)
    X, y = survival_data(n=rng.integers(30, 90), p=rng.integers(50, 300), seed=seed,
                         ties=bool(seed % 2), sparse=seed % 3 == 2)
    sw = rng.integers(0, 3, size=X.shape[0]).astype(float) if seed % 2 else None
    if sw is not None:
        sw[np.flatnonzero(y[:, 1])[0]] = 1.0
    alpha_max = SparseCoxRegression(alpha=1e3).fit(X, y, sample_weight=sw).alpha_max_
    screened = 0
    for frac, l1_ratio in ((0.5, 1.0), (0.2, 1.0), (0.1, 0.8)):
        screened += check_screening_safety(X, y, frac * alpha_max, l1_ratio, sw)
    assert screened > 0


def test_gap_safe_sphere_contains_the_dual_optimum():
    """``||theta - theta*||_s <= sqrt(2 G / gamma)`` at intermediate points of a fit."""
    X, y = survival_data(n=60, p=80, seed=13, ties=True)
    alpha = SparseCoxRegression(alpha=1e3).fit(X, y).alpha_max_ / 5
    best = solve(X, y, Cox(), L1(alpha), tol=1e-15, screening=False)
    problem = make_problem(X, y, None, Cox(), False)
    s = problem.s
    for max_iter in (1, 2, 3, 5):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            res = solve(X, y, Cox(), L1(alpha), tol=1e-15, max_iter=max_iter, screening=False)
        radius = np.sqrt(2 * res.gap / problem.gamma)
        distance = np.sqrt(np.sum((res.dual_point - best.dual_point) ** 2 / s))
        assert distance <= radius * (1 + 1e-9) + 1e-12


@pytest.mark.parametrize("name", ["pomeroy", "gravier"])
def test_screening_is_safe_real_expression(name):
    """Real gene-expression designs (standardised) with survival times drawn from a sparse
    Cox model on them: the shared data has no real survival outcome."""
    data = np.load(data_dir_or_skip() / "expression" / f"{name}.npz")
    X = data["X"][:, :1500]
    X = (X - X.mean(0)) / np.where(X.std(0) > 0, X.std(0), 1.0)
    rng = np.random.default_rng(0)
    w = np.zeros(X.shape[1])
    w[rng.choice(X.shape[1], 5, replace=False)] = 0.5
    times = rng.exponential(np.exp(-X @ w))
    events = (rng.uniform(size=X.shape[0]) < 0.7).astype(float)
    y = np.column_stack([times, events])
    alpha_max = SparseCoxRegression(alpha=1e3).fit(X, y).alpha_max_
    assert check_screening_safety(X, y, alpha_max / 3) > 0


# ---------------------------------------------------------------------------------------------
# concordance index
# ---------------------------------------------------------------------------------------------
def brute_force_cindex(y, risk, w=None):
    w = np.ones(y.shape[0]) if w is None else np.asarray(w, dtype=float)
    num = den = 0.0
    for i in range(y.shape[0]):
        if y[i, 1] != 1:
            continue
        for j in range(y.shape[0]):
            if y[j, 0] > y[i, 0] or (y[j, 0] == y[i, 0] and y[j, 1] == 0):
                den += w[i] * w[j]
                num += w[i] * w[j] * (1.0 if risk[i] > risk[j] else
                                      0.5 if risk[i] == risk[j] else 0.0)
    return num / den


@pytest.mark.parametrize("seed", range(4))
def test_concordance_index(seed):
    rng = np.random.default_rng(seed)
    n = 60
    times = rng.integers(0, 15, size=n).astype(float)  # tied times
    events = (rng.uniform(size=n) < 0.6).astype(float)
    risk = np.round(rng.standard_normal(n), 1)  # tied scores
    y = np.column_stack([times, events])
    ours = concordance_index(y, risk)
    assert ours == pytest.approx(brute_force_cindex(y, risk), rel=1e-13)
    sw = rng.integers(0, 4, size=n)
    rows = np.repeat(np.arange(n), sw)
    weighted = concordance_index(y, risk, sample_weight=sw)
    assert weighted == pytest.approx(brute_force_cindex(y, risk, sw), rel=1e-13)
    # weights are pair weights w_i w_j: repeated rows add pairs of copies, which have the
    # same time and so are comparable only when one is censored and the other an event
    assert concordance_index(y[rows], risk[rows]) == pytest.approx(
        brute_force_cindex(y[rows], risk[rows]), rel=1e-13)
    assert concordance_index(y, -risk) == pytest.approx(1.0 - ours, rel=1e-13)


def test_concordance_index_against_scikit_survival_and_lifelines():
    rng = np.random.default_rng(5)
    n = 200
    times = np.round(rng.exponential(size=n), 2)
    events = rng.uniform(size=n) < 0.7
    risk = rng.standard_normal(n)
    ours = concordance_index(np.column_stack([times, events]), risk)
    checked = 0
    try:
        from sksurv.metrics import concordance_index_censored
    except ImportError:
        pass
    else:
        ref = concordance_index_censored(events, times, risk, tied_tol=0.0)[0]
        assert ours == pytest.approx(ref, rel=1e-12)
        checked += 1
    try:
        from lifelines.utils import concordance_index as lifelines_cindex
    except ImportError:
        pass
    else:
        assert ours == pytest.approx(lifelines_cindex(times, -risk, events), rel=1e-12)
        checked += 1
    if not checked:
        pytest.skip("neither scikit-survival nor lifelines is installed")


def test_score_is_the_concordance_index():
    X, y = survival_data(n=100, p=20, seed=14)
    model = SparseCoxRegression(alpha=0.02).fit(X, y)
    assert model.score(X, y) == pytest.approx(brute_force_cindex(y, X @ model.coef_))
    assert model.score(X, y) > 0.7


# ---------------------------------------------------------------------------------------------
# bad input
# ---------------------------------------------------------------------------------------------
def test_bad_input():
    X, y = survival_data(n=20, p=5)
    model = SparseCoxRegression(alpha=0.1)
    bad = y.copy()
    bad[3, 0] = -1.0
    with pytest.raises(ValueError, match="non-negative"):
        model.fit(X, bad)
    bad = y.copy()
    bad[2, 1] = 2.0
    with pytest.raises(ValueError, match="0 \\(censored\\) or 1"):
        model.fit(X, bad)
    bad = y.copy()
    bad[:, 1] = 0.0
    with pytest.raises(ValueError, match="no event"):
        model.fit(X, bad)
    bad = y.copy()
    bad[0, 0] = np.nan
    with pytest.raises(ValueError, match="finite"):
        model.fit(X, bad)
    for shape_bad in (np.column_stack([y, y[:, :1]]), y[:, :, None]):
        with pytest.raises(ValueError, match="shape"):
            model.fit(X, shape_bad)
    three_fields = np.zeros(20, dtype=[("event", "?"), ("time", "f8"), ("x", "f8")])
    with pytest.raises(ValueError, match="exactly two fields"):
        model.fit(X, three_fields)
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        model.fit(X, y[:10])
    sw = np.where(y[:, 1] == 1, 0.0, 1.0)
    with pytest.raises(ValueError, match="zero sample_weight"):
        model.fit(X, y, sample_weight=sw)
    with pytest.raises(ValueError, match="bounded second derivative"):
        SparseGLM(Cox(), L1(0.1), solver="fista").fit(X, y)
    with pytest.raises(ValueError, match="solver='cd' needs the Quadratic"):
        SparseGLM(Cox(), L1(0.1), solver="cd").fit(X, y)
    with pytest.raises(ValueError, match="l1_ratio"):
        SparseCoxRegression(l1_ratio=2.0).fit(X, y)
    with pytest.raises(ValueError, match="No comparable pair"):
        concordance_index(np.array([[1.0, 0.0], [2.0, 1.0]]), [0.0, 1.0])
