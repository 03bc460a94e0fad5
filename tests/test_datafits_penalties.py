"""Building blocks checked one by one against closed forms and numerical optimisation.

* datafits (``Quadratic``, ``Logistic``): value / gradient / Hessian against closed forms
  and finite differences, the Fenchel-conjugate dual against a numerical infimum, weak
  duality at random feasible points, the strong-concavity constant ``gamma`` and the
  curvature bound ``hessian_bound``; the numpy versions of long vectors
  (``_vector_kernels``) against the jitted loops, edge cases included;
* penalties (``L1``, ``ElasticNet``, ``WeightedL1``): value, prox against a numerical
  argmin, KKT distance, ``alpha_max`` (at it the solution is 0, just below it is not),
  ``with_alpha`` and parameter validation;
* the design kernels of ``sksafe.solvers._design`` and ``solve`` itself give the same
  numbers for dense, CSC and CSR input, float32 and float64;
* the public certificate ``sksafe.solvers.duality_gap`` agrees with the independent
  NumPy gap of ``conftest``.
"""
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.optimize import minimize_scalar
from scipy.special import expit
from sklearn.exceptions import ConvergenceWarning

from conftest import (HUBER_DELTA, alpha_max_numpy, duality_gap, l1_l2_weights,
                      make_classification_data,
                      make_regression_data)
from sksafe.datafits import BaseDatafit, Huber, Logistic, Quadratic
from sksafe.datafits.base import VECTOR_MIN_SAMPLES
from sksafe.penalties import L1, ElasticNet, WeightedL1
from sksafe.solvers import duality_gap as sksafe_duality_gap
from sksafe.solvers import solve
from sksafe.solvers._design import add_columns, centred_sq_norms, xt_dot
from sksafe.solvers._problem import kernel_design

DATAFITS = {"quadratic": Quadratic, "logistic": Logistic,
            "huber": lambda: Huber(delta=HUBER_DELTA)}
LOSSES = list(DATAFITS)
#: losses whose target is a real number
REGRESSION_LOSSES = ("quadratic", "huber")


def random_problem(loss, n=12, seed=0, zero_weight=True):
    """Random ``(z, y, s)`` for a datafit; ``s`` sums to one, one entry 0 if asked."""
    rng = np.random.default_rng(seed)
    z = 2.0 * rng.standard_normal(n)
    if loss in REGRESSION_LOSSES:  # Huber: residuals on both sides of the threshold
        y = 3.0 * rng.standard_normal(n)
    else:
        y = rng.choice([-1.0, 1.0], size=n)
    s = rng.uniform(0.2, 2.0, size=n)
    if zero_weight:
        s[3] = 0.0
    return z, y, s / s.sum()


def closed_form_value(loss, z, y, s):
    if loss == "quadratic":
        return 0.5 * np.sum(s * (y - z) ** 2)
    if loss == "huber":
        r = np.abs(y - z)
        quad = r <= HUBER_DELTA
        return np.sum(s[quad] * r[quad] ** 2) / 2 + HUBER_DELTA * np.sum(
            s[~quad] * (r[~quad] - HUBER_DELTA / 2))
    return np.sum(s * np.logaddexp(0.0, -y * z))


def closed_form_grad(loss, z, y, s):
    if loss == "quadratic":
        return s * (z - y)
    if loss == "huber":
        return s * np.where(np.abs(z - y) <= HUBER_DELTA, z - y, HUBER_DELTA * np.sign(z - y))
    return -s * y * expit(-y * z)


def closed_form_hessian(loss, z, y, s):
    if loss == "quadratic":
        return s.copy()
    if loss == "huber":
        return np.where(np.abs(z - y) <= HUBER_DELTA, s, 0.0)
    p = expit(z)
    return s * p * (1 - p)


def call_vec(method, z, y, s):
    out = np.empty_like(z)
    method(z, y, s, out)
    return out


# ---------------------------------------------------------------------------------------------
# datafits
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_datafit_value_grad_hessian_closed_forms(loss, seed):
    datafit = DATAFITS[loss]()
    z, y, s = random_problem(loss, seed=seed)
    assert datafit.value(z, y, s) == pytest.approx(closed_form_value(loss, z, y, s),
                                                   rel=1e-13, abs=1e-15)
    np.testing.assert_allclose(call_vec(datafit.raw_grad, z, y, s),
                               closed_form_grad(loss, z, y, s), rtol=1e-13, atol=1e-16)
    np.testing.assert_allclose(call_vec(datafit.raw_hessian, z, y, s),
                               closed_form_hessian(loss, z, y, s), rtol=1e-13, atol=1e-16)


@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize("seed", [0, 1])
def test_datafit_derivatives_vs_finite_differences(loss, seed):
    datafit = DATAFITS[loss]()
    z, y, s = random_problem(loss, seed=seed)
    grad = call_vec(datafit.raw_grad, z, y, s)
    hess = call_vec(datafit.raw_hessian, z, y, s)
    h = 1e-5
    for i in range(z.size):
        e = np.zeros_like(z)
        e[i] = h
        fd_grad = (datafit.value(z + e, y, s) - datafit.value(z - e, y, s)) / (2 * h)
        assert fd_grad == pytest.approx(grad[i], rel=1e-6, abs=1e-9)
        fd_hess = (call_vec(datafit.raw_grad, z + e, y, s)[i]
                   - call_vec(datafit.raw_grad, z - e, y, s)[i]) / (2 * h)
        assert fd_hess == pytest.approx(hess[i], rel=1e-6, abs=1e-9)
        # the loss is separable: no cross derivative
        off = call_vec(datafit.raw_grad, z + e, y, s) - grad
        off[i] = 0.0
        assert np.all(off == 0.0)


def test_logistic_is_stable_for_large_margins():
    datafit = Logistic()
    z = np.array([800.0, -800.0, 40.0, -40.0])
    y = np.array([1.0, 1.0, -1.0, -1.0])
    s = np.full(4, 0.25)
    value = datafit.value(z, y, s)
    assert np.isfinite(value)
    assert value == pytest.approx(0.25 * (0.0 + 800.0 + 40.0 + np.log1p(np.exp(-40.0))),
                                  rel=1e-14)
    grad = call_vec(datafit.raw_grad, z, y, s)
    hess = call_vec(datafit.raw_hessian, z, y, s)
    assert np.all(np.isfinite(grad)) and np.all(np.isfinite(hess))
    np.testing.assert_allclose(grad, [0.0, -0.25, 0.25, 0.0], atol=1e-16)
    assert np.all(hess >= 0.0)


@pytest.mark.parametrize("loss", LOSSES)
def test_hessian_bound_is_an_upper_bound_of_the_curvature(loss):
    datafit = DATAFITS[loss]()
    z = np.linspace(-30, 30, 2001)
    y = np.where(np.arange(z.size) % 2 == 0, 1.0, -1.0)
    s = np.ones_like(z)  # per-sample curvature f''
    hess = call_vec(datafit.raw_hessian, z, y, s)
    assert np.all(hess <= datafit.hessian_bound * (1 + 1e-15))
    assert np.max(hess) == pytest.approx(datafit.hessian_bound, rel=1e-6)  # attained (z=0)


def numerical_dual(loss, theta, y, s):
    """``inf_z sum_i theta_i z_i + s_i f(y_i, z_i)`` coordinate by coordinate (scipy)."""
    total = 0.0
    for i in range(theta.size):
        if s[i] == 0.0:
            total += 0.0 if theta[i] == 0.0 else -np.inf
            continue
        if loss == "quadratic":
            def fun(z, i=i):
                return theta[i] * z + s[i] * 0.5 * (y[i] - z) ** 2
        elif loss == "huber":
            def fun(z, i=i):
                r = abs(y[i] - z)
                return theta[i] * z + s[i] * (0.5 * r * r if r <= HUBER_DELTA
                                              else HUBER_DELTA * (r - 0.5 * HUBER_DELTA))
        else:
            def fun(z, i=i):
                return theta[i] * z + s[i] * np.logaddexp(0.0, -y[i] * z)
        res = minimize_scalar(fun, bracket=(-1.0, 1.0), method="brent",
                              options={"xtol": 1e-12, "maxiter": 10_000})
        total += res.fun
    return total


@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_dual_value_is_the_fenchel_conjugate(loss, seed):
    """``dual_value(theta) = -F*(-theta) = inf_z <theta, z> + F(z)``, numerically."""
    datafit = DATAFITS[loss]()
    rng = np.random.default_rng(seed)
    _, y, s = random_problem(loss, seed=seed)
    if loss == "quadratic":
        theta = s * rng.standard_normal(s.size) * 2.0
    elif loss == "huber":
        theta = HUBER_DELTA * s * rng.uniform(-0.97, 0.97, size=s.size)  # inside the box
    else:
        theta = s * y * rng.uniform(0.03, 0.97, size=s.size)  # inside the domain
    assert theta[3] == 0.0  # the zero-weight row
    expected = numerical_dual(loss, theta, y, s)
    assert np.isfinite(expected)
    assert datafit.dual_value(theta, y, s) == pytest.approx(expected, rel=1e-9, abs=1e-12)


@pytest.mark.parametrize("loss", LOSSES)
def test_dual_value_is_minus_infinity_outside_its_domain(loss):
    datafit = DATAFITS[loss]()
    _, y, s = random_problem(loss, seed=4)
    theta = np.zeros_like(s)
    theta[3] = 1e-3  # non-zero dual on a zero-weight row: unbounded below in z_3
    assert datafit.dual_value(theta, y, s) == -np.inf
    if loss == "huber":  # the box |theta_i| <= delta s_i, boundary included
        theta = HUBER_DELTA * s * np.where(np.arange(s.size) % 2 == 0, 1.0, -1.0)
        assert np.isfinite(datafit.dual_value(theta, y, s))
        theta[0] *= 1.001
        assert datafit.dual_value(theta, y, s) == -np.inf
    if loss == "logistic":
        for u in (-0.1, 1.1):
            theta = s * y * 0.5
            theta[0] = s[0] * y[0] * u
            assert datafit.dual_value(theta, y, s) == -np.inf
            # the infimum really is -inf there: the objective keeps decreasing
            sign = -np.sign(u * y[0]) if u < 0 else -y[0]

            def fun(z):
                return theta[0] * z + s[0] * np.logaddexp(0.0, -y[0] * z)
            assert fun(sign * 1e4) < fun(sign * 1e2) - 1.0
        # the boundary values u in {0, 1} are in the domain (entropy 0)
        theta = s * y * np.where(np.arange(s.size) % 2 == 0, 0.0, 1.0)
        assert datafit.dual_value(theta, y, s) == pytest.approx(0.0, abs=1e-15)


def long_logistic_inputs(seed):
    """``(z, y, s, theta)`` longer than ``VECTOR_MIN_SAMPLES``: zero weights, margins up to
    800 (where ``exp`` overflows), and a dual point with ``u = y theta / s`` at 0 and 1."""
    rng = np.random.default_rng(seed)
    n = VECTOR_MIN_SAMPLES + 37
    z = 3.0 * rng.standard_normal(n)
    z[:4] = [800.0, -800.0, 40.0, -40.0]
    y = rng.choice([-1.0, 1.0], size=n)
    s = rng.uniform(0.2, 2.0, size=n)
    s[[5, 9]] = 0.0
    s /= s.sum()
    u = rng.uniform(0.0, 1.0, size=n)
    u[[10, 11]] = [0.0, 1.0]
    return z, y, s, s * y * u


@pytest.mark.parametrize("seed", [0, 1])
def test_logistic_vector_kernels_match_the_jitted_loops(seed):
    """The numpy versions the logistic datafit uses from ``VECTOR_MIN_SAMPLES`` samples on
    compute the same numbers as its jitted loops (tested against closed forms above), and
    the methods pick them by length."""
    datafit = Logistic()
    z, y, s, theta = long_logistic_inputs(seed)
    loops, vectors = datafit._kernels, datafit._vector_kernels
    assert vectors[0](z, y, s) == pytest.approx(loops[0](z, y, s), rel=1e-13)
    assert datafit.value(z, y, s) == vectors[0](z, y, s)
    for k in (1, 2):  # gradient, Hessian
        expected, got = np.empty_like(z), np.empty_like(z)
        loops[k](z, y, s, expected)
        vectors[k](z, y, s, got)
        np.testing.assert_allclose(got, expected, rtol=1e-13, atol=1e-300)
        assert np.all(np.isfinite(got))
    assert vectors[3](theta, y, s) == pytest.approx(loops[3](theta, y, s), rel=1e-13)
    assert datafit.dual_value(theta, y, s) == vectors[3](theta, y, s)
    inside = s * y * 0.5  # every u strictly inside (0, 1): the branch without masks
    assert vectors[3](inside, y, s) == pytest.approx(loops[3](inside, y, s), rel=1e-13)
    # outside the domain: u < 0, u > 1, or a non-zero dual on a zero-weight row
    for position, value in ((0, -0.1), (0, 1.1), (5, 1e-3)):
        bad = theta.copy()
        bad[position] = value * (s[position] * y[position] if s[position] > 0 else 1.0)
        assert vectors[3](bad, y, s) == -np.inf
        assert loops[3](bad, y, s) == -np.inf
    # short vectors keep the jitted loops
    short = slice(0, VECTOR_MIN_SAMPLES - 1)
    assert datafit.value(z[short], y[short], s[short]) == loops[0](z[short], y[short],
                                                                    s[short])


def random_dual_point(loss, X, y, s, a, b, fit_intercept, rng):
    """A feasible dual point: in the conjugate's domain, sum 0 if intercept, L1 box."""
    if loss == "quadratic":
        theta = s * rng.standard_normal(s.size)
        if fit_intercept:
            theta -= s * theta.sum()
    else:
        if loss == "huber":
            theta = HUBER_DELTA * s * rng.uniform(-1.0, 1.0, size=s.size)
        else:
            theta = s * y * rng.uniform(0.0, 1.0, size=s.size)
        if fit_intercept:  # scale down one sign so that sum(theta) = 0 inside the domain
            pos, neg = theta[theta > 0].sum(), -theta[theta < 0].sum()
            if pos > neg:
                theta[theta > 0] *= neg / pos
            else:
                theta[theta < 0] *= pos / neg
    corr = X.T @ theta
    l1_only = (b == 0) & (a > 0)
    ratio = np.abs(corr[l1_only]) / a[l1_only]
    if ratio.size and ratio.max() > 1:
        theta /= ratio.max()
    return theta


def dual_objective(datafit, X, y, s, theta, a, b):
    corr = X.T @ theta
    l1_only = b == 0
    if np.any(np.abs(corr[l1_only]) > a[l1_only] * (1 + 1e-12)):
        return -np.inf
    conj = np.sum(np.maximum(np.abs(corr[~l1_only]) - a[~l1_only], 0) ** 2
                  / (2 * b[~l1_only]))
    return datafit.dual_value(theta, y, s) - conj


@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize("l1_ratio", [1.0, 0.5])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_weak_duality_at_random_points(loss, l1_ratio, fit_intercept):
    """``D(theta) <= P(w, b)`` for every feasible ``theta`` and every ``(w, b)``."""
    datafit = DATAFITS[loss]()
    rng = np.random.default_rng(5)
    if loss in REGRESSION_LOSSES:
        X, y = make_regression_data(n=25, p=15, seed=5)
    else:
        X, y = make_classification_data(n=25, p=15, seed=5)
    n, p = X.shape
    s = rng.uniform(0.1, 1.0, size=n)
    s /= s.sum()
    s = s / s.sum()  # bit for bit the solver's weights: Huber's dual box has a sharp edge
    alpha = 0.3 * alpha_max_numpy(X, y, loss=loss, sample_weight=s, l1_ratio=l1_ratio)
    a, b = l1_l2_weights(alpha, p, l1_ratio=l1_ratio)
    penalty = ElasticNet(alpha=alpha, l1_ratio=l1_ratio)
    best_dual, best_primal = -np.inf, np.inf
    for _ in range(200):
        theta = random_dual_point(loss, X, y, s, a, b, fit_intercept, rng)
        dual = dual_objective(datafit, X, y, s, theta, a, b)
        assert np.isfinite(dual)
        w = rng.standard_normal(p) * rng.uniform(0, 1) * (rng.uniform(size=p) < 0.3)
        b0 = rng.standard_normal() if fit_intercept else 0.0
        primal = datafit.value(X @ w + b0, y, s) + penalty.value(w)
        assert dual <= primal + 1e-12
        best_dual, best_primal = max(best_dual, dual), min(best_primal, primal)
    # and the bound is tight at the optimum: the solver's dual point closes the gap
    result = solve(X, y, datafit, penalty, sample_weight=s, fit_intercept=fit_intercept,
                   tol=1e-12)
    opt_dual = dual_objective(datafit, X, y, s, result.dual_point, a, b)
    if fit_intercept:
        assert abs(result.dual_point.sum()) <= 1e-12 * np.abs(result.dual_point).sum()
    assert opt_dual <= result.primal + 1e-12
    assert result.primal - opt_dual <= 1e-11 * result.primal_zero
    assert best_dual <= result.primal + 1e-12 and opt_dual <= best_primal + 1e-12


@pytest.mark.parametrize("loss", LOSSES)
def test_gamma_is_a_strong_concavity_constant_of_the_dual(loss):
    """``D((t1+t2)/2) >= (D(t1) + D(t2))/2 + gamma/8 ||t1 - t2||_s^2`` at random pairs."""
    datafit = DATAFITS[loss]()
    rng = np.random.default_rng(6)
    _, y, s = random_problem(loss, n=20, seed=6, zero_weight=False)
    slack = []
    for _ in range(2000):
        if loss == "quadratic":
            t1, t2 = s * rng.standard_normal((2, s.size)) * 3
        elif loss == "huber":
            t1, t2 = HUBER_DELTA * s * rng.uniform(-1.0, 1.0, size=(2, s.size))
        else:
            t1, t2 = s * y * rng.uniform(0.0, 1.0, size=(2, s.size))
            if rng.uniform() < 0.5:  # pairs near u = 1/2, where the bound is tight
                t1, t2 = s * y * (0.5 + 0.01 * rng.uniform(-1, 1, size=(2, s.size)))
        dist2 = np.sum((t1 - t2) ** 2 / s)
        mid = datafit.dual_value(0.5 * (t1 + t2), y, s)
        ends = 0.5 * (datafit.dual_value(t1, y, s) + datafit.dual_value(t2, y, s))
        excess = mid - ends - datafit.gamma / 8 * dist2
        assert excess >= -1e-12 * max(1.0, abs(mid)), (excess, dist2)
        slack.append(excess / dist2)
    # gamma is not needlessly small either: the inequality is (nearly) tight somewhere
    assert min(slack) <= 0.01 * datafit.gamma


@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_zero_sum_dual(loss, seed):
    """The intercept's equality constraint ``sum(theta) = 0`` without leaving the domain."""
    datafit = DATAFITS[loss]()
    rng = np.random.default_rng(seed)
    _, y, s = random_problem(loss, n=15, seed=seed, zero_weight=False)
    if loss == "quadratic":
        theta = s * rng.standard_normal(s.size)
    elif loss == "huber":
        theta = HUBER_DELTA * s * rng.uniform(-1.0, 1.0, size=s.size)
    else:
        theta = s * y * rng.uniform(0.0, 1.0, size=s.size)
    out = datafit.zero_sum_dual(theta, y, s)
    assert abs(out.sum()) <= 1e-15 * np.abs(theta).sum() * s.size
    assert np.isfinite(datafit.dual_value(out, y, s))
    # a point already on the constraint is (nearly) unchanged
    again = datafit.zero_sum_dual(out, y, s)
    np.testing.assert_allclose(again, out, rtol=1e-12, atol=1e-15 * np.abs(out).max())


def test_check_target():
    np.testing.assert_array_equal(Logistic().check_target([1, -1, 1]), [1.0, -1.0, 1.0])
    for bad in ([0, 1, 1], [1, 2], [1.0, -1.0, 0.5]):
        with pytest.raises(ValueError, match=r"\{-1, \+1\}"):
            Logistic().check_target(bad)
    assert Quadratic().check_target([1, 2]).dtype == np.float64
    with pytest.raises(ValueError):
        solve(np.eye(3), np.array([0.0, 1.0, 1.0]), Logistic(), L1(0.1))


# ---------------------------------------------------------------------------------------------
# penalties
# ---------------------------------------------------------------------------------------------
def make_penalty(kind, alpha, p, positive=False, zeros=False):
    if kind == "l1":
        return L1(alpha=alpha, positive=positive)
    if kind == "enet":
        return ElasticNet(alpha=alpha, l1_ratio=0.3, positive=positive)
    weights = np.linspace(0.5, 2.0, p)
    if zeros:
        weights[::3] = 0.0
    return WeightedL1(alpha=alpha, weights=weights, positive=positive)


def ab_of(kind, alpha, p, zeros=False):
    """``(a, b)`` of :func:`make_penalty`, written out independently."""
    if kind == "l1":
        return np.full(p, alpha), np.zeros(p)
    if kind == "enet":
        return np.full(p, 0.3 * alpha), np.full(p, 0.7 * alpha)
    weights = np.linspace(0.5, 2.0, p)
    if zeros:
        weights[::3] = 0.0
    return alpha * weights, np.zeros(p)


PENALTY_CASES = [("l1", False), ("l1", True), ("enet", False), ("enet", True),
                 ("weighted", False), ("weighted", True)]


@pytest.mark.parametrize("kind, positive", PENALTY_CASES)
def test_penalty_value(kind, positive):
    p = 9
    w = np.random.default_rng(0).standard_normal(p)
    zeros = kind == "weighted" and not positive
    penalty = make_penalty(kind, 0.7, p, positive, zeros=zeros)
    a, b = ab_of(kind, 0.7, p, zeros=zeros)
    assert penalty.value(w) == pytest.approx(np.sum(a * np.abs(w)) + 0.5 * np.sum(b * w ** 2),
                                             rel=1e-14)
    assert penalty.value(np.zeros(p)) == 0.0
    got_a, got_b = penalty.l1_l2_weights(p)
    np.testing.assert_allclose(got_a, a, rtol=1e-15)
    np.testing.assert_allclose(got_b, b, rtol=1e-15)


@pytest.mark.parametrize("kind, positive", PENALTY_CASES)
@pytest.mark.parametrize("step", [0.1, 1.0, 7.0])
def test_prox_is_the_numerical_argmin(kind, positive, step):
    p = 12
    rng = np.random.default_rng(1)
    u = 3.0 * rng.standard_normal(p)
    zeros = kind == "weighted" and not positive
    penalty = make_penalty(kind, 0.4, p, positive, zeros=zeros)
    a, b = ab_of(kind, 0.4, p, zeros=zeros)
    prox = penalty.prox(u, step)
    for j in range(p):
        def fun(v, j=j):
            return (v - u[j]) ** 2 / (2 * step) + a[j] * abs(v) + 0.5 * b[j] * v ** 2
        if positive:
            res = minimize_scalar(fun, bounds=(0.0, abs(u[j]) + 1.0), method="bounded",
                                  options={"xatol": 1e-12})
            candidates = [res.x, 0.0]
        else:
            res = minimize_scalar(fun, bracket=(-1.0, 1.0), method="brent",
                                  options={"xtol": 1e-12})
            candidates = [res.x, 0.0]
        best = min(candidates, key=fun)
        assert prox[j] == pytest.approx(best, abs=1e-7)
        assert fun(prox[j]) <= fun(best) + 1e-13
        if positive:
            assert prox[j] >= 0.0
    # closed form of soft-thresholding (and shrinkage for the L2 part)
    shrink = np.maximum(u - step * a, 0) if positive else \
        np.sign(u) * np.maximum(np.abs(u) - step * a, 0)
    np.testing.assert_allclose(prox, shrink / (1 + step * b), rtol=1e-14, atol=1e-15)


def independent_subdiff_distance(w, grad, a, b, positive):
    """Distance of ``-grad - b w`` to the subdifferential of ``a |.|`` (+ indicator) at ``w``."""
    v = -grad - b * w
    out = np.empty_like(w)
    for j in range(w.size):
        if w[j] > 0:
            lo, hi = a[j], a[j]
        elif w[j] < 0:
            lo, hi = -a[j], -a[j]
        else:
            lo, hi = (-np.inf if positive else -a[j]), a[j]
        out[j] = max(lo - v[j], v[j] - hi, 0.0)
    return out


@pytest.mark.parametrize("kind, positive", PENALTY_CASES)
def test_subdiff_distance(kind, positive):
    p = 12
    rng = np.random.default_rng(2)
    zeros = kind == "weighted" and not positive
    penalty = make_penalty(kind, 0.5, p, positive, zeros=zeros)
    a, b = ab_of(kind, 0.5, p, zeros=zeros)
    w = rng.standard_normal(p) * (rng.uniform(size=p) < 0.5)
    if positive:
        w = np.abs(w)
    grad = rng.standard_normal(p)
    np.testing.assert_allclose(penalty.subdiff_distance(w, grad),
                               independent_subdiff_distance(w, grad, a, b, positive),
                               rtol=1e-14, atol=1e-15)
    # at a prox point the optimality condition of the prox holds exactly
    u, step = 2.0 * rng.standard_normal(p), 0.7
    v = penalty.prox(u, step)
    np.testing.assert_allclose(penalty.subdiff_distance(v, (v - u) / step), 0.0, atol=1e-14)
    # and a perturbed gradient violates it by the perturbation where v != 0
    nz = v != 0
    assert np.any(nz)
    np.testing.assert_allclose(penalty.subdiff_distance(v, (v - u) / step + 0.1)[nz], 0.1,
                               rtol=1e-12)


@pytest.mark.parametrize("kind", ["l1", "enet", "weighted"])
def test_penalty_alpha_max_formula(kind):
    p = 6
    neg_grad = np.array([0.3, -1.2, 0.9, -0.1, 0.5, 0.0])
    penalty = make_penalty(kind, 1.0, p, zeros=True)
    unit, _ = ab_of(kind, 1.0, p, zeros=True)
    penalised = unit > 0
    expected = np.max(np.abs(neg_grad[penalised]) / unit[penalised])
    assert penalty.alpha_max(neg_grad) == pytest.approx(expected, rel=1e-15)
    positive = make_penalty(kind, 1.0, p, positive=True, zeros=False)
    unit_pos, _ = ab_of(kind, 1.0, p, zeros=False)
    assert positive.alpha_max(neg_grad) == pytest.approx(
        np.max(np.maximum(neg_grad, 0) / unit_pos), rel=1e-15)
    assert WeightedL1(weights=np.zeros(p)).alpha_max(neg_grad) == np.inf


@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize("kind, positive", PENALTY_CASES + [("weighted_zeros", False)])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_alpha_max_is_the_threshold_of_the_zero_solution(loss, kind, positive, fit_intercept):
    if loss in REGRESSION_LOSSES:
        X, y = make_regression_data(n=30, p=12, seed=7)
    else:
        X, y = make_classification_data(n=40, p=12, seed=7)
    p = X.shape[1]
    zeros = kind == "weighted_zeros"
    base = "weighted" if zeros else kind
    datafit = DATAFITS[loss]()
    probe = solve(X, y, datafit, make_penalty(base, 1.0, p, positive, zeros=zeros),
                  fit_intercept=fit_intercept, tol=1e-10)
    alpha_max = probe.alpha_max
    if not zeros:  # the independent formula (no unpenalised features)
        unit, _ = ab_of(base, 1.0, p)
        ref = alpha_max_numpy(X / unit, y, loss=loss, fit_intercept=fit_intercept,
                              positive=positive)
        assert alpha_max == pytest.approx(ref, rel=1e-10)
    penalised = ab_of(base, 1.0, p, zeros=zeros)[0] > 0
    at = solve(X, y, datafit, make_penalty(base, alpha_max, p, positive, zeros=zeros),
               fit_intercept=fit_intercept, tol=1e-12)
    assert np.all(at.coef[penalised] == 0.0)
    if zeros:
        assert np.all(at.coef[~penalised] != 0.0)  # the free columns are fitted
    below = solve(X, y, datafit, make_penalty(base, 0.98 * alpha_max, p, positive,
                                              zeros=zeros),
                  fit_intercept=fit_intercept, tol=1e-12)
    assert np.count_nonzero(below.coef[penalised]) >= 1
    a, b = ab_of(base, 0.98 * alpha_max, p, zeros=zeros)
    assert duality_gap(X, y, below.coef, below.intercept, loss=loss, a=a, b=b,
                       positive=positive, fit_intercept=fit_intercept)[0] <= 1e-10


@pytest.mark.parametrize("penalty", [L1(alpha=0.3, positive=True),
                                     ElasticNet(alpha=0.3, l1_ratio=0.2),
                                     WeightedL1(alpha=0.3, weights=[1.0, 0.0, 2.0])])
def test_with_alpha(penalty):
    before = penalty.get_params()
    other = penalty.with_alpha(2.5)
    assert type(other) is type(penalty)
    assert other is not penalty
    assert other.alpha == 2.5
    assert penalty.get_params() == before  # the original is untouched
    params = other.get_params()
    params.pop("alpha")
    before.pop("alpha")
    assert params.keys() == before.keys()
    for key in params:
        np.testing.assert_array_equal(params[key], before[key])
    a1, b1 = penalty.l1_l2_weights(3)
    a2, b2 = other.l1_l2_weights(3)
    np.testing.assert_allclose(a2, a1 * 2.5 / 0.3, rtol=1e-14)
    np.testing.assert_allclose(b2, b1 * 2.5 / 0.3, rtol=1e-14)


@pytest.mark.parametrize("penalty, match", [
    (L1(alpha=-1.0), "alpha"),
    (L1(alpha=np.nan), "alpha"),
    (L1(alpha=np.inf), "alpha"),
    (L1(alpha="1"), "alpha"),
    (L1(alpha=True), "alpha"),
    (L1(alpha=1.0, positive="yes"), "positive"),
    (ElasticNet(alpha=-0.1), "alpha"),
    (ElasticNet(alpha=1.0, l1_ratio=-0.1), "l1_ratio"),
    (ElasticNet(alpha=1.0, l1_ratio=1.5), "l1_ratio"),
    (ElasticNet(alpha=1.0, l1_ratio=np.nan), "l1_ratio"),
    (ElasticNet(alpha=1.0, l1_ratio="0.5"), "l1_ratio"),
    (WeightedL1(alpha=-1.0), "alpha"),
    (WeightedL1(alpha=1.0, weights=[1.0, -1.0, 1.0, 1.0]), "weights"),
    (WeightedL1(alpha=1.0, weights=[1.0, np.nan, 1.0, 1.0]), "weights"),
    (WeightedL1(alpha=1.0, weights=[1.0, 1.0, 1.0]), "weights"),
    (WeightedL1(alpha=1.0, weights=np.ones((4, 1))), "weights"),
    (WeightedL1(alpha=1.0, weights=[1.0, 0.0, 1.0, 1.0], positive=True), "zero weights"),
])
def test_penalty_validation(penalty, match):
    with pytest.raises(ValueError, match=match):
        penalty.l1_l2_weights(4)
    X, y = make_regression_data(n=10, p=4, seed=0)
    with pytest.raises(ValueError, match=match):
        solve(X, y, Quadratic(), penalty)


def test_valid_penalty_edge_values():
    for penalty in (L1(alpha=0.0), ElasticNet(alpha=1.0, l1_ratio=0.0),
                    ElasticNet(alpha=1.0, l1_ratio=1.0), WeightedL1(alpha=1.0, weights=None),
                    WeightedL1(alpha=1.0, weights=[0.0, 0.0, 1.0, 2.0])):
        a, b = penalty.l1_l2_weights(4)
        assert a.shape == b.shape == (4,)
        assert np.all(a >= 0) and np.all(b >= 0)


# ---------------------------------------------------------------------------------------------
# dense == CSC == CSR, float32 and float64
# ---------------------------------------------------------------------------------------------
def design_variants(dtype, n=30, p=20, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p)) * (rng.uniform(size=(n, p)) < 0.35)
    X[:, 4] = 0.0  # an empty column
    X = X.astype(dtype)
    unsorted = sp.csc_matrix(X)
    # reverse the row order inside each column: valid CSC with unsorted indices
    for j in range(p):
        lo, hi = unsorted.indptr[j], unsorted.indptr[j + 1]
        unsorted.indices[lo:hi] = unsorted.indices[lo:hi][::-1].copy()
        unsorted.data[lo:hi] = unsorted.data[lo:hi][::-1].copy()
    unsorted.has_sorted_indices = False
    return X, {"dense": X, "dense_c_order": np.ascontiguousarray(X),
               "csc": sp.csc_matrix(X), "csr": sp.csr_matrix(X), "csc_unsorted": unsorted,
               "coo": sp.coo_matrix(X)}


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_design_kernels_agree_across_storage(dtype):
    X, variants = design_variants(dtype)
    X64 = X.astype(np.float64)
    n, p = X.shape
    rng = np.random.default_rng(1)
    v = rng.standard_normal(n)
    s = rng.uniform(0.1, 1.0, size=n)
    s /= s.sum()
    means = rng.standard_normal(p)
    cols = np.array([7, 0, 4, 19, 3, 3, 11])
    coefs = np.array([1.5, 0.0, -2.0, 0.25, 1.0, 1.0, -0.5])
    expected = {
        "xt_dot": X64[:, cols].T @ v,
        "add_columns": v + X64[:, cols] @ coefs,
        "centred_sq_norms": np.array([s @ (X64[:, j] - means[j]) ** 2 for j in cols]),
    }
    for name, matrix in variants.items():
        kernel_X, as_matrix = kernel_design(matrix)
        assert as_matrix.shape == (n, p)
        if sp.issparse(matrix):
            assert isinstance(kernel_X, tuple) and sp.issparse(as_matrix)
            assert as_matrix.format == "csc" and as_matrix.has_sorted_indices
            assert kernel_X[0].dtype == dtype
        else:
            assert kernel_X.flags.f_contiguous and kernel_X.dtype == dtype
        got = {}
        out = np.empty(cols.size)
        xt_dot(kernel_X, v, cols, out)
        got["xt_dot"] = out.copy()
        acc = v.copy()
        add_columns(kernel_X, cols, coefs, acc)
        got["add_columns"] = acc
        centred_sq_norms(kernel_X, s, means, cols, out)
        got["centred_sq_norms"] = out.copy()
        if name == "dense":
            baseline = got
        for key, value in expected.items():
            np.testing.assert_allclose(got[key], value, rtol=1e-12, atol=1e-13,
                                       err_msg=f"{key} on {name} {np.dtype(dtype).name}")
            np.testing.assert_allclose(got[key], baseline[key], rtol=1e-12, atol=1e-13,
                                       err_msg=f"{key}: {name} != dense")


def _pairs():
    for loss in LOSSES:
        for kind in ("l1", "enet", "weighted", "weighted_zeros", "l1_positive"):
            yield loss, kind


def _penalty_for(kind, alpha, p):
    if kind == "l1":
        return L1(alpha=alpha)
    if kind == "l1_positive":
        return L1(alpha=alpha, positive=True)
    if kind == "enet":
        return ElasticNet(alpha=alpha, l1_ratio=0.5)
    weights = np.linspace(0.5, 2.0, p)
    if kind == "weighted_zeros":
        weights[[1, 5]] = 0.0
    return WeightedL1(alpha=alpha, weights=weights)


@pytest.mark.parametrize("loss, kind", list(_pairs()))
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_solve_agrees_across_storage_and_dtype(loss, kind, dtype):
    rng = np.random.default_rng(3)
    n, p = 40, 25
    X = (rng.standard_normal((n, p)) * (rng.uniform(size=(n, p)) < 0.4)).astype(dtype)
    X[:, 2] = 0.0
    w_true = np.zeros(p)
    w_true[[0, 3, 7, 11]] = [2.0, -1.5, 1.0, 3.0]
    z = X.astype(np.float64) @ w_true + 0.5
    if loss in REGRESSION_LOSSES:  # Huber: a few residuals in the linear zone
        y = z + 0.3 * rng.standard_normal(n) + 5.0 * (np.arange(n) % 10 == 0)
    else:
        y = np.where(z + rng.logistic(size=n) > 0, 1.0, -1.0)
    sw = rng.uniform(0.5, 2.0, size=n)
    alpha = alpha_max_numpy(X, y, loss=loss, sample_weight=sw) / 8
    datafit = DATAFITS[loss]()
    penalty = _penalty_for(kind, alpha, p)
    reference = solve(X.astype(np.float64), y, datafit, penalty, sample_weight=sw, tol=1e-12)
    assert reference.relative_gap <= 1e-11
    assert np.count_nonzero(reference.coef) >= 2
    scale = np.max(np.abs(reference.coef))
    for name, matrix in {"dense": X, "csc": sp.csc_matrix(X), "csr": sp.csr_matrix(X)}.items():
        result = solve(matrix, y, datafit, penalty, sample_weight=sw, tol=1e-12)
        assert result.converged, name
        assert result.relative_gap <= 1e-11, name
        np.testing.assert_allclose(result.coef, reference.coef, rtol=1e-6, atol=1e-6 * scale,
                                   err_msg=f"{name} {np.dtype(dtype).name}")
        assert result.intercept == pytest.approx(reference.intercept, rel=1e-6,
                                                 abs=1e-6 * scale)
        assert result.coef[2] == 0.0  # empty column
        np.testing.assert_array_equal(result.coef != 0, reference.coef != 0)


# ---------------------------------------------------------------------------------------------
# the public certificate vs the independent gap of conftest
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("loss, kind", list(_pairs()))
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("weighted", [False, True])
def test_certificate_agrees_with_independent_gap(loss, kind, fit_intercept, weighted):
    if loss in REGRESSION_LOSSES:
        X, y = make_regression_data(n=35, p=20, seed=8)
    else:
        X, y = make_classification_data(n=35, p=20, seed=8)
    n, p = X.shape
    rng = np.random.default_rng(9)
    sw = rng.uniform(0.3, 2.0, size=n) if weighted else None
    if sw is not None:
        sw[0] = 0.0
    alpha = alpha_max_numpy(X, y, loss=loss, sample_weight=sw,
                            fit_intercept=fit_intercept) / 6
    datafit = DATAFITS[loss]()
    penalty = _penalty_for(kind, alpha, p)
    a, b = penalty.l1_l2_weights(p)
    positive = penalty.positive
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        loose = solve(X, y, datafit, penalty, sample_weight=sw, fit_intercept=fit_intercept,
                      tol=1e-2, max_iter=1)
    tight = solve(X, y, datafit, penalty, sample_weight=sw, fit_intercept=fit_intercept,
                  tol=1e-12)
    w_rand = rng.standard_normal(p) * (rng.uniform(size=p) < 0.3)
    if positive:
        w_rand = np.abs(w_rand)
    points = [(np.zeros(p), 0.0), (w_rand, 0.7), (loose.coef, loose.intercept),
              (tight.coef, tight.intercept),
              (tight.coef * 1.01, tight.intercept - 0.01)]
    for coef, intercept in points:
        gap, rel = sksafe_duality_gap(X, y, datafit, penalty, coef, intercept,
                                      sample_weight=sw, fit_intercept=fit_intercept)
        ref_rel, ref_gap, _, _, ref_p0 = duality_gap(
            X, y, coef, intercept if fit_intercept else 0.0, loss=loss, a=a, b=b,
            positive=positive, sample_weight=sw, fit_intercept=fit_intercept)
        assert gap >= 0.0
        assert gap == pytest.approx(ref_gap, rel=1e-7, abs=1e-12 * ref_p0), (coef, intercept)
        assert rel == pytest.approx(ref_rel, rel=1e-7, abs=1e-12)
    # the solver's own final gap is the certificate of its solution
    gap, rel = sksafe_duality_gap(X, y, datafit, penalty, tight.coef, tight.intercept,
                                  sample_weight=sw, fit_intercept=fit_intercept)
    assert rel <= 1e-11 and tight.relative_gap <= 1e-11
    assert tight.primal_zero == pytest.approx(ref_p0_of(X, y, loss, a, b, sw, fit_intercept),
                                              rel=1e-10)


def ref_p0_of(X, y, loss, a, b, sw, fit_intercept):
    return duality_gap(X, y, np.zeros(X.shape[1]), 0.0, loss=loss, a=a, b=b,
                       sample_weight=sw, fit_intercept=fit_intercept)[4]


class _NumpyHuber(BaseDatafit):
    """Huber in plain NumPy, no Numba: the protocol needs nothing more (``f'' = 0`` outside
    ``[-delta, delta]``)."""

    gamma = 1.0
    hessian_bound = 1.0
    intercept_mode = "newton"

    def __init__(self, delta=1.0):
        self.delta = delta

    def value(self, z, y, s):
        r = np.abs(y - z)
        return float(s @ np.where(r <= self.delta, 0.5 * r ** 2,
                                  self.delta * (r - 0.5 * self.delta)))

    def raw_grad(self, z, y, s, out):
        out[:] = s * np.clip(z - y, -self.delta, self.delta)

    def raw_hessian(self, z, y, s, out):
        out[:] = np.where(np.abs(z - y) <= self.delta, s, 0.0)

    def dual_value(self, theta, y, s):
        if np.any(np.abs(theta) > self.delta * s):
            return -np.inf
        pos = s > 0
        return float(theta @ y - 0.5 * np.sum(theta[pos] ** 2 / s[pos]))

    def check_target(self, y):
        return np.asarray(y, dtype=np.float64)


@pytest.mark.parametrize("datafit_class", [Huber, _NumpyHuber])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_prox_newton_with_zero_curvature_samples(fit_intercept, datafit_class):
    """Samples in Huber's linear zone have f'' = 0; the Newton model must keep their
    gradient (the user-guide example once stalled at relative gap 0.89)."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((100, 300))
    y = X[:, :5] @ np.array([30.0, -20.0, 15.0, 10.0, -10.0]) + 5.0 * rng.standard_normal(100)
    y[:5] += 500.0
    datafit = datafit_class(delta=10.0)
    alpha = 0.05 * np.max(np.abs(X.T @ np.clip(y - np.median(y), -10.0, 10.0))) / 100
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        res = solve(X, y, datafit, L1(alpha), fit_intercept=fit_intercept, tol=1e-8)
    assert res.relative_gap <= 1e-8
    # the certificate is a real bound: the primal cannot be lowered by a long FISTA run
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ref = solve(X, y, datafit, L1(alpha), fit_intercept=fit_intercept, tol=1e-10,
                    solver="fista", screening=False, max_iter=40)
    assert res.primal <= ref.primal + 1e-8 * res.primal_zero
    assert np.count_nonzero(res.coef) >= 5
