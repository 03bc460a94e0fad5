"""Shared fixtures and independent (pure NumPy) reference computations for the sksafe tests.

Nothing here calls sksafe: the objective, the dual point and the duality gap are
recomputed from scratch so that the gaps the solvers report can be checked honestly.

Conventions (the same as sksafe's)::

    P(w, b) = sum_i s_i f(y_i, x_i^T w + b) + sum_j a_j |w_j| + b_j w_j^2 / 2,   sum_i s_i = 1

``f`` is ``(y - z)^2 / 2`` ("quadratic"), ``log(1 + exp(-y z))`` with ``y in {-1, +1}``
("logistic") or Huber's ``h(y - z)`` with threshold ``HUBER_DELTA`` ("huber").
"""
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.special import expit, xlogy

#: threshold of the "huber" loss in these references (``sksafe.datafits.Huber(HUBER_DELTA)``)
HUBER_DELTA = 1.5

#: ``../shared/data`` relative to the repository root
DATA_DIR = (Path(__file__).parents[1] / ".." / "shared" / "data").resolve()


# ---------------------------------------------------------------------------------------------
# penalties as (a, b) weights
# ---------------------------------------------------------------------------------------------
def l1_l2_weights(alpha, n_features, l1_ratio=1.0, weights=None):
    """``(a, b)`` of ``alpha * (l1_ratio * sum_j weights_j |w_j| + (1 - l1_ratio)/2 ||w||^2)``."""
    unit = np.ones(n_features) if weights is None else np.asarray(weights, dtype=np.float64)
    a = alpha * l1_ratio * unit
    b = np.full(n_features, alpha * (1.0 - l1_ratio))
    return a, b


def normalised_weights(n_samples, sample_weight=None):
    if sample_weight is None:
        return np.full(n_samples, 1.0 / n_samples)
    s = np.asarray(sample_weight, dtype=np.float64)
    return s / s.sum()


def _matvec(X, w):
    return np.asarray(X @ w, dtype=np.float64).ravel()


def _rmatvec(X, v):
    return np.asarray(X.T @ v, dtype=np.float64).ravel()


def penalty_value(coef, a, b):
    coef = np.asarray(coef, dtype=np.float64)
    return float(np.sum(a * np.abs(coef)) + 0.5 * np.sum(b * coef ** 2))


def loss_value(z, y, s, loss):
    if loss == "quadratic":
        return float(0.5 * s @ (y - z) ** 2)
    if loss == "logistic":
        return float(s @ np.logaddexp(0.0, -y * z))
    if loss == "huber":
        r = np.abs(y - z)
        return float(s @ np.where(r <= HUBER_DELTA, 0.5 * r ** 2,
                                  HUBER_DELTA * (r - 0.5 * HUBER_DELTA)))
    raise ValueError(loss)


def loss_derivatives(z, y, s, loss):
    """``(dF/dz, d2F/dz2)`` of the smooth losses, for Newton's method."""
    if loss == "logistic":
        p = expit(z)
        return -s * y * expit(-y * z), s * p * (1 - p)
    if loss == "huber":
        return s * np.clip(z - y, -HUBER_DELTA, HUBER_DELTA), s * (np.abs(z - y) <= HUBER_DELTA)
    raise ValueError(loss)


def minus_gradient(z, y, s, loss):
    """``theta = -grad F(z)``, the dual candidate of the primal point ``z``."""
    if loss == "quadratic":
        return s * (y - z)
    return -loss_derivatives(z, y, s, loss)[0]


def primal_objective(X, y, coef, intercept, *, loss, a, b, sample_weight=None):
    X64 = X.astype(np.float64) if X.dtype != np.float64 else X
    s = normalised_weights(X.shape[0], sample_weight)
    z = _matvec(X64, np.asarray(coef, dtype=np.float64)) + float(intercept)
    return loss_value(z, np.asarray(y, dtype=np.float64), s, loss) + penalty_value(coef, a, b)


def _column(X, j):
    col = X[:, [j]]
    return np.asarray(col.toarray() if sp.issparse(col) else col, dtype=np.float64).ravel()


def _unpenalised_basis(X, n, fit_intercept, unpenalised):
    """Columns of the unpenalised directions: ones (intercept) and ``X[:, unpenalised]``."""
    blocks = [np.ones(n)] if fit_intercept else []
    blocks += [_column(X, j) for j in (unpenalised if unpenalised is not None else [])]
    return np.column_stack(blocks) if blocks else np.zeros((n, 0))


def _optimise_unpenalised(z0, y, s, basis, loss):
    """``z0 + basis @ c`` with ``c`` minimising the loss exactly (the unpenalised directions).

    Least squares for the quadratic loss, Newton's method (gradient-based stopping, no
    objective differences) for the others; Huber's zero-curvature samples get a tiny
    curvature so that the Newton system stays solvable.
    """
    if basis.shape[1] == 0:
        return z0
    if loss == "quadratic":
        root = np.sqrt(s)
        c = np.linalg.lstsq(root[:, None] * basis, root * (y - z0), rcond=None)[0]
        z = z0 + basis @ c
        # one refinement step against rounding
        c = np.linalg.lstsq(root[:, None] * basis, root * (y - z), rcond=None)[0]
        return z + basis @ c
    z = z0.copy()
    for _ in range(200):
        grad, hess = loss_derivatives(z, y, s, loss)
        g = basis.T @ grad
        H = basis.T @ (np.maximum(hess, 1e-6 * s)[:, None] * basis)
        step = np.linalg.lstsq(H, -g, rcond=None)[0]
        direction = basis @ step
        t = 1.0
        f0 = loss_value(z, y, s, loss)
        while t > 1e-6 and loss_value(z + t * direction, y, s, loss) > f0 + 1e-12 * abs(f0):
            t *= 0.5
        z = z + t * direction
        if np.max(np.abs(t * direction)) <= 1e-15 * max(1.0, np.max(np.abs(z))):
            break
    return z


def primal_zero(y, *, loss, sample_weight=None, fit_intercept=True, X=None, unpenalised=None):
    """``P(0)``: every penalised coefficient zero, the intercept and unpenalised ones optimal."""
    y = np.asarray(y, dtype=np.float64)
    n = y.shape[0]
    s = normalised_weights(n, sample_weight)
    if unpenalised is not None and len(unpenalised):
        basis = _unpenalised_basis(X, n, fit_intercept, unpenalised)
        return loss_value(_optimise_unpenalised(np.zeros(n), y, s, basis, loss), y, s, loss)
    if loss == "quadratic":
        mean = s @ y if fit_intercept else 0.0
        return float(0.5 * s @ (y - mean) ** 2)
    if loss == "huber":
        basis = _unpenalised_basis(None, n, fit_intercept, None)
        return loss_value(_optimise_unpenalised(np.zeros(n), y, s, basis, loss), y, s, loss)
    p = s @ (y == 1) if fit_intercept else 0.5
    return float(-(xlogy(p, p) + xlogy(1 - p, 1 - p)))


def _dual_objective(X, y, theta, s, *, loss, a, b, positive):
    """``D(kappa theta)`` with ``kappa <= 1`` making the L1-only constraints hold."""
    corr = _rmatvec(X, theta)
    eff = corr if positive else np.abs(corr)
    l1_only = (b == 0) & (a > 0)
    kappa = 1.0
    over = l1_only & (eff > a)
    if np.any(over):
        kappa = float(np.min(a[over] / eff[over]))
    theta = kappa * theta
    eff = kappa * eff
    with_l2 = b > 0
    conj = float(np.sum(np.maximum(eff[with_l2] - a[with_l2], 0.0) ** 2 / (2 * b[with_l2])))
    pos = s > 0
    if loss in ("quadratic", "huber"):
        if loss == "huber" and (np.any(np.abs(theta[pos]) > HUBER_DELTA * s[pos] * (1 + 1e-12))
                                or np.any(theta[~pos] != 0)):
            return -np.inf  # outside the box domain of the Huber conjugate
        dual = float(theta @ y - 0.5 * np.sum(theta[pos] ** 2 / s[pos]))
    else:
        u = y[pos] * theta[pos] / s[pos]
        if np.any(u < -1e-12) or np.any(u > 1 + 1e-12) or np.any(theta[~pos] != 0):
            return -np.inf  # outside the domain of the logistic conjugate
        u = np.clip(u, 0.0, 1.0)
        dual = float(-np.sum(s[pos] * (xlogy(u, u) + xlogy(1 - u, 1 - u))))
    return dual - conj


def duality_gap(X, y, coef, intercept, *, loss, a, b, positive=False, sample_weight=None,
                fit_intercept=True, dual_point=None):
    """Independent duality gap at ``(coef, intercept)``.

    The dual point is ``theta = -grad F(z)`` at ``z = X w + b`` with the intercept and the
    unpenalised coefficients (``a_j = b_j = 0``) re-optimised exactly for the given
    penalised ones, so that ``theta`` satisfies the dual equality constraints
    (``sum(theta) = 0``, ``X_j^T theta = 0`` for unpenalised ``j``), then rescaled into
    ``|X_j^T theta| <= a_j`` for the L1-only features. A solver's own ``dual_point``
    (e.g. an extrapolated one) is used too when it passes the same checks: equality
    constraints to rounding, rescaling, domain. Returns
    ``(relative_gap, gap, primal, dual, primal_zero)``.
    """
    X = X.astype(np.float64) if X.dtype != np.float64 else X
    y = np.asarray(y, dtype=np.float64)
    coef = np.asarray(coef, dtype=np.float64)
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    n = X.shape[0]
    s = normalised_weights(n, sample_weight)
    unpenalised = np.flatnonzero((a == 0) & (b == 0))
    xw = _matvec(X, coef)
    primal = loss_value(xw + float(intercept), y, s, loss) + penalty_value(coef, a, b)
    basis = _unpenalised_basis(X, n, fit_intercept, unpenalised)
    z = _optimise_unpenalised(xw + float(intercept), y, s, basis, loss)
    theta = minus_gradient(z, y, s, loss)
    kw = dict(loss=loss, a=a, b=b, positive=positive)
    dual = _dual_objective(X, y, theta, s, **kw)
    if dual_point is not None:
        other = np.asarray(dual_point, dtype=np.float64)
        violation = np.abs(basis.T @ other) if basis.shape[1] else np.zeros(0)
        scale = np.abs(basis).T @ np.abs(other) if basis.shape[1] else np.zeros(0)
        if np.all(violation <= 1e-12 * scale + 1e-300):
            dual = max(dual, _dual_objective(X, y, other, s, **kw))
    gap = primal - dual
    p0 = primal_zero(y, loss=loss, sample_weight=sample_weight, fit_intercept=fit_intercept,
                     X=X, unpenalised=unpenalised)
    return gap / p0, gap, primal, dual, p0


def relative_gap(*args, **kwargs):
    return duality_gap(*args, **kwargs)[0]


def alpha_max_numpy(X, y, *, loss, sample_weight=None, fit_intercept=True, positive=False,
                    l1_ratio=1.0):
    """Smallest ``alpha`` with ``w = 0`` optimal, from the gradient at 0 (intercept optimal)."""
    X = X.astype(np.float64) if X.dtype != np.float64 else X
    y = np.asarray(y, dtype=np.float64)
    s = normalised_weights(X.shape[0], sample_weight)
    if loss == "quadratic":
        r = y - (s @ y if fit_intercept else 0.0)
        theta = s * r
    elif loss == "huber":
        basis = _unpenalised_basis(None, X.shape[0], fit_intercept, None)
        theta = minus_gradient(_optimise_unpenalised(np.zeros(X.shape[0]), y, s, basis, loss),
                               y, s, loss)
    else:
        p = s @ (y == 1) if fit_intercept else 0.5
        theta = s * ((y == 1) - p)
    corr = _rmatvec(X, theta)
    eff = np.maximum(corr, 0.0) if positive else np.abs(corr)
    return float(np.max(eff) / l1_ratio)


# ---------------------------------------------------------------------------------------------
# high-precision references
# ---------------------------------------------------------------------------------------------
def logistic_reference(X, y, alpha, l1_ratio=1.0, *, fit_intercept=True, sample_weight=None):
    """High-precision L1/elastic-net logistic regression (``y in {-1, +1}``).

    L-BFGS-B on the smooth reformulation ``w = u - v``, ``u, v >= 0`` of the exact
    objective, then Newton's method on the support found (signs fixed) to machine
    precision. Returns ``(coef, intercept)``.
    """
    from scipy.optimize import minimize

    X = np.asarray(X.toarray() if sp.issparse(X) else X, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    n, p = X.shape
    s = normalised_weights(n, sample_weight)
    a, b = alpha * l1_ratio, alpha * (1 - l1_ratio)

    def fun(v):
        u, w_neg, b0 = v[:p], v[p:2 * p], v[-1]
        w = u - w_neg
        z = X @ w + b0
        val = s @ np.logaddexp(0, -y * z) + a * np.sum(u + w_neg) + 0.5 * b * w @ w
        g_z = -s * y * expit(-y * z)
        g_w = X.T @ g_z + b * w
        grad = np.concatenate([g_w + a, -g_w + a, [g_z.sum() if fit_intercept else 0.0]])
        return val, grad

    bounds = [(0, None)] * (2 * p) + [(None, None) if fit_intercept else (0, 0)]
    res = minimize(fun, np.zeros(2 * p + 1), jac=True, method="L-BFGS-B", bounds=bounds,
                   options={"maxiter": 20000, "maxfun": 40000, "ftol": 1e-16, "gtol": 1e-13})
    w = res.x[:p] - res.x[p:2 * p]
    b0 = res.x[-1]
    support = np.abs(w) > 1e-6 * max(np.max(np.abs(w)), 1e-300)
    signs = np.sign(w[support])
    XS = X[:, support]
    wS = w[support]
    for _ in range(100):  # Newton on the smooth problem restricted to the support
        z = XS @ wS + b0
        g_z = -s * y * expit(-y * z)
        pz = expit(z)
        h = s * pz * (1 - pz)
        basis = np.column_stack([XS, np.ones(n)]) if fit_intercept else XS
        grad = basis.T @ g_z
        grad[:wS.size] += a * signs + b * wS
        hess = basis.T @ (h[:, None] * basis)
        hess[np.arange(wS.size), np.arange(wS.size)] += b
        step = np.linalg.solve(hess, -grad)
        wS = wS + step[:wS.size]
        if fit_intercept:
            b0 = b0 + step[-1]
        if np.max(np.abs(step)) <= 1e-15 * max(1.0, np.max(np.abs(wS))):
            break
    w = np.zeros(p)
    w[support] = wS
    assert np.all(np.sign(wS) == signs), "Newton polish changed a sign: bad support"
    return w, (b0 if fit_intercept else 0.0)


# ---------------------------------------------------------------------------------------------
# data sets
# ---------------------------------------------------------------------------------------------
def make_regression_data(n=50, p=30, n_informative=5, noise=0.5, seed=0, correlated=False):
    rng = np.random.default_rng(seed)
    if correlated:
        cov = 0.8 ** np.abs(np.subtract.outer(np.arange(p), np.arange(p)))
        X = rng.multivariate_normal(np.zeros(p), cov, size=n)
    else:
        X = rng.standard_normal((n, p))
    w = np.zeros(p)
    idx = rng.choice(p, size=min(n_informative, p), replace=False)
    w[idx] = rng.choice([-1, 1], size=idx.size) * rng.uniform(1, 3, size=idx.size)
    y = X @ w + noise * rng.standard_normal(n) + 2.0
    return X, y


def make_classification_data(n=60, p=30, n_informative=5, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p))
    w = np.zeros(p)
    idx = rng.choice(p, size=min(n_informative, p), replace=False)
    w[idx] = rng.choice([-1, 1], size=idx.size) * rng.uniform(0.5, 1.5, size=idx.size)
    y = np.where(X @ w + 0.3 + rng.logistic(size=n) > 0, 1.0, -1.0)
    return X, y


@pytest.fixture
def regression_data():
    return make_regression_data()


@pytest.fixture
def classification_data():
    return make_classification_data()


def data_dir_or_skip():
    if not DATA_DIR.is_dir():
        pytest.skip(f"shared data folder {DATA_DIR} is absent")
    return DATA_DIR
