"""Behaviour of the fitted estimators: invariances, warm starts, certificates, scikit-learn glue.

Every check runs for every estimator family (``CASES``): the Lasso, the elastic net,
binary and one-vs-rest multiclass logistic regression, ``SparseGLM`` with the
quadratic and the logistic datafit, and the FISTA solver of two of them, on small problems solved to a tight relative duality
gap so that two fits of the same problem must agree to many digits. Duality gaps are
re-derived independently with the pure-NumPy ``duality_gap`` of ``conftest``.
"""
import pickle
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.special import expit, xlogy
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, KFold, StratifiedKFold
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.class_weight import compute_sample_weight

from conftest import (HUBER_DELTA, alpha_max_numpy, duality_gap, l1_l2_weights, make_classification_data,
                      make_regression_data, normalised_weights, primal_objective, primal_zero)
from sksafe import (SafeScreeningElasticNet, SafeScreeningLasso,
                    SafeScreeningLogisticRegression, SparseGLM, SparseHuberRegressor)
from sksafe.datafits import Logistic
from sksafe.penalties import L1, ElasticNet

TOL = 1e-10

# every fit here must reach its tolerance; the tests expecting non-convergence use pytest.warns
pytestmark = pytest.mark.filterwarnings("error::sklearn.exceptions.ConvergenceWarning")

CASES = ["lasso", "enet", "logreg_binary", "logreg_ovr", "glm_quadratic", "glm_logistic",
         "logreg_fista", "glm_quadratic_fista", "huber"]
LOSS = {"lasso": "quadratic", "enet": "quadratic", "glm_quadratic": "quadratic",
        "glm_quadratic_fista": "quadratic", "logreg_binary": "logistic",
        "logreg_ovr": "logistic", "glm_logistic": "logistic", "logreg_fista": "logistic",
        "huber": "huber"}
L1_RATIO = {"lasso": 1.0, "enet": 0.7, "glm_quadratic": 1.0, "glm_quadratic_fista": 1.0,
            "logreg_binary": 1.0, "logreg_ovr": 1.0, "glm_logistic": 0.8, "logreg_fista": 1.0,
            "huber": 0.9}
CLASSIFIERS = ["logreg_binary", "logreg_ovr", "glm_logistic", "logreg_fista"]
FISTA = ["logreg_fista", "glm_quadratic_fista"]
#: default regularisation, as a fraction of alpha_max
ALPHA_FRACTION = 0.1


# ---------------------------------------------------------------------------------------------
# problems and estimators
# ---------------------------------------------------------------------------------------------
def _multiclass_data(n=60, p=40, n_classes=3, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p))
    W = np.zeros((p, n_classes))
    for k in range(n_classes):
        W[rng.choice(p, size=3, replace=False), k] = rng.uniform(1.0, 2.0, size=3)
    y = np.argmax(X @ W + rng.gumbel(size=(n, n_classes)), axis=1)
    assert np.unique(y).size == n_classes
    return X, y


def problem(name, p=None, seed=1):
    """``(X, y)``: regression targets, or class labels (0/1, or 0/1/2 for one-vs-rest)."""
    if LOSS[name] != "logistic":
        X, y = make_regression_data(n=50, p=60 if p is None else p, seed=seed)
        if LOSS[name] == "huber":  # outliers in the linear zone of the loss
            y = y + 10 * HUBER_DELTA * (np.arange(y.size) % 9 == 0)
        return X, y
    if name == "logreg_ovr":
        return _multiclass_data(p=40 if p is None else p, seed=seed)
    X, y = make_classification_data(n=60, p=40 if p is None else p, seed=seed)
    return X, (y > 0).astype(np.int64)


def binary_targets(name, y, classes=None):
    """The +-1 target of each binary problem the estimator solves (one for non-OvR)."""
    y = np.asarray(y)
    if LOSS[name] != "logistic":
        return [y.astype(np.float64)]
    classes = np.unique(y) if classes is None else classes
    if classes.size == 2:
        return [np.where(y == classes[1], 1.0, -1.0)]
    return [np.where(y == c, 1.0, -1.0) for c in classes]


def alpha_max(name, X, y, sample_weight=None, fit_intercept=True):
    """Independent alpha_max (max over the binary problems for one-vs-rest)."""
    return max(alpha_max_numpy(X, t, loss=LOSS[name], sample_weight=sample_weight,
                               fit_intercept=fit_intercept, l1_ratio=L1_RATIO[name])
               for t in binary_targets(name, y))


def default_alpha(name, X, y):
    return ALPHA_FRACTION * alpha_max(name, X, y)


def make(name, alpha, **params):
    params.setdefault("tol", TOL)
    if name == "lasso":
        return SafeScreeningLasso(alpha=alpha, **params)
    if name == "enet":
        return SafeScreeningElasticNet(alpha=alpha, l1_ratio=L1_RATIO[name], **params)
    if name in ("logreg_binary", "logreg_ovr"):
        return SafeScreeningLogisticRegression(alpha=alpha, **params)
    if name == "logreg_fista":
        return SafeScreeningLogisticRegression(alpha=alpha, solver="fista", **params)
    if name == "glm_quadratic":
        return SparseGLM(penalty=L1(alpha), **params)
    if name == "glm_quadratic_fista":
        return SparseGLM(penalty=L1(alpha), solver="fista", **params)
    if name == "glm_logistic":
        return SparseGLM(datafit=Logistic(), penalty=ElasticNet(alpha, l1_ratio=L1_RATIO[name]),
                         **params)
    if name == "huber":
        return SparseHuberRegressor(alpha=alpha, delta=HUBER_DELTA, l1_ratio=L1_RATIO[name],
                                    **params)
    raise ValueError(name)


def set_alpha(model, alpha):
    if isinstance(model, SparseGLM):
        return model.set_params(penalty=model.penalty.with_alpha(alpha))
    return model.set_params(alpha=alpha)


def get_alpha(model):
    return model.penalty.alpha if isinstance(model, SparseGLM) else model.alpha


def coefs(model):
    return np.atleast_2d(model.coef_)


def intercepts(model):
    return np.atleast_1d(model.intercept_)


def reports(model):
    rep = model.fit_report_
    return rep if isinstance(rep, list) else [rep]


def model_alpha_max(model):
    """``alpha_max`` the estimator found (max over the one-vs-rest problems)."""
    from_reports = max(r.alpha_max for r in reports(model))
    assert np.max(model.alpha_max_) == from_reports
    return from_reports


def total(values):
    return int(np.sum(values))


def total_epochs(model):
    return sum(r.n_epochs for r in reports(model))


def scores(model, X):
    """Continuous output: decision function of classifiers, predictions of regressors."""
    if hasattr(model, "decision_function"):
        return model.decision_function(X)
    if isinstance(model, SparseGLM) and hasattr(model, "classes_"):
        return np.asarray(X @ model.coef_).ravel() + model.intercept_
    return model.predict(X)


def assert_same_solution(model, reference, rtol, what=""):
    c, c_ref = coefs(model), coefs(reference)
    scale = max(np.max(np.abs(c_ref)), 1e-300)
    assert c.shape == c_ref.shape
    err = np.max(np.abs(c.astype(np.float64) - c_ref.astype(np.float64)))
    assert err <= rtol * scale, f"{what}: max |coef diff| {err:.3e} > {rtol:.0e} * {scale:.3e}"
    b, b_ref = intercepts(model).astype(np.float64), intercepts(reference).astype(np.float64)
    np.testing.assert_allclose(b, b_ref, rtol=rtol, atol=rtol * max(1.0, scale), err_msg=what)


def assert_same_optimum(model, reference, what=""):
    """Two fits certified to relative gap TOL: same objective, coefficients to 1e-5.

    The coefficients of two TOL-accurate points differ by up to ``sqrt(2 TOL P(0) / mu)``
    for a mu-strongly convex objective (elastic net), far more than TOL itself; the
    objective values must agree to the certified accuracy.
    """
    rtol = 1e-5
    mu = strong_convexity(model)
    for rep, rep_ref in zip(reports(model), reports(reference)):
        assert rep.converged and rep_ref.converged
        assert abs(rep.primal - rep_ref.primal) <= 2 * TOL * rep_ref.primal_zero + 1e-15, what
        if mu > 0:  # ||w - w*|| <= sqrt(2 G / mu) for each of the two points
            bound = 2 * np.sqrt(2 * TOL * rep_ref.primal_zero / mu)
            rtol = max(rtol, bound / max(np.max(np.abs(rep_ref.coef)), 1e-300))
    assert_same_solution(model, reference, rtol, what=what)


def strong_convexity(model):
    """``mu`` of the penalty's ridge part (0 without one)."""
    if isinstance(model, SparseGLM):
        return float(np.min(model.penalty.l1_l2_weights(1)[1]))
    return float(get_alpha(model) * (1.0 - getattr(model, "l1_ratio", 1.0)))


def fit_default(name, X=None, y=None, **params):
    if X is None:
        X, y = problem(name)
    alpha = params.pop("alpha", None)
    alpha = default_alpha(name, X, y) if alpha is None else alpha
    return make(name, alpha, **params).fit(X, y)


# ---------------------------------------------------------------------------------------------
# dense / sparse / dtype
# ---------------------------------------------------------------------------------------------
def _sparsify(X, seed=0):
    """Zero ~half of the entries so that the sparse formats are genuinely sparse."""
    rng = np.random.default_rng(seed)
    return np.where(rng.random(X.shape) < 0.5, 0.0, X)


@pytest.mark.parametrize("name", CASES)
def test_dense_csc_csr_same_solution(name):
    X, y = problem(name)
    X = _sparsify(X)
    alpha = default_alpha(name, X, y)
    dense = make(name, alpha).fit(X, y)
    assert np.count_nonzero(dense.coef_) > 0
    # A gap G bounds |w - w*| by sqrt(2 G / mu) only, mu the strong convexity in w (the
    # intercept minimised out). Most cases land far closer than that, but the Huber fits
    # (outliers in the linear zone, mu = the penalty's l2 part, 0.1 alpha) may stop
    # anywhere within their certificates: measured 1.1e-5 and 4.6e-5 apart (|coef| 3.75),
    # the latter with a dense gap of 9e-11 (radius 1.6e-4). They are compared within the
    # sum of the two certified radii (at least 1e-5 relative).
    rtol = 1e-8
    for fmt in ("csc", "csr"):
        model = make(name, alpha).fit(sp.csr_matrix(X).asformat(fmt), y)
        if name == "huber":
            mu = (1.0 - L1_RATIO[name]) * alpha
            radii = sum(np.sqrt(2.0 * max(reports(m)[0].gap, 0.0) / mu) for m in (dense, model))
            rtol = max(1e-5, radii / np.max(np.abs(dense.coef_)))
        assert_same_solution(model, dense, rtol, what=fmt)
        np.testing.assert_allclose(scores(model, sp.csr_matrix(X).asformat(fmt)),
                                   scores(dense, X), rtol=rtol, atol=rtol)


@pytest.mark.parametrize("fmt", ["dense", "csr"])
@pytest.mark.parametrize("name", CASES)
def test_float32_input(name, fmt):
    X, y = problem(name)
    alpha = default_alpha(name, X, y)
    reference = make(name, alpha).fit(X, y)
    X32 = X.astype(np.float32)
    if fmt == "csr":
        X32 = sp.csr_matrix(X32)
    model = make(name, alpha).fit(X32, y)
    assert model.coef_.dtype == np.float32
    assert np.all(np.isfinite(model.coef_))
    assert_same_solution(model, reference, 1e-4, what="float32 vs float64")
    np.testing.assert_allclose(scores(model, X32), scores(reference, X), rtol=1e-4,
                               atol=1e-4 * np.max(np.abs(scores(reference, X))))


# ---------------------------------------------------------------------------------------------
# sample weights
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("fmt", ["dense", "csr"])
@pytest.mark.parametrize("name", CASES)
def test_integer_sample_weight_equals_repeated_rows(name, fmt):
    X, y = problem(name)
    rng = np.random.default_rng(7)
    sw = rng.integers(0, 4, size=X.shape[0])  # zeros included: those rows are dropped
    X_rep, y_rep = np.repeat(X, sw, axis=0), np.repeat(y, sw)
    alpha = default_alpha(name, X_rep, y_rep)
    to = (lambda A: sp.csr_matrix(A)) if fmt == "csr" else (lambda A: A)
    weighted = make(name, alpha).fit(to(X), y, sample_weight=sw)
    repeated = make(name, alpha).fit(to(X_rep), y_rep)
    assert np.count_nonzero(repeated.coef_) > 0
    assert_same_optimum(weighted, repeated, what="weights vs repetition")


@pytest.mark.parametrize("fmt", ["dense", "csr"])
@pytest.mark.parametrize("name", CASES)
def test_zero_sample_weight_equals_dropping_rows(name, fmt):
    X, y = problem(name)
    keep = np.ones(X.shape[0], dtype=bool)
    keep[::4] = False
    alpha = default_alpha(name, X[keep], y[keep])
    to = (lambda A: sp.csr_matrix(A)) if fmt == "csr" else (lambda A: A)
    weighted = make(name, alpha).fit(to(X), y, sample_weight=keep.astype(np.float64))
    dropped = make(name, alpha).fit(to(X[keep]), y[keep])
    assert np.count_nonzero(dropped.coef_) > 0
    assert_same_optimum(weighted, dropped, what="zero weights vs dropped rows")


@pytest.mark.parametrize("name", CASES)
def test_unit_sample_weight_equals_none(name):
    X, y = problem(name)
    alpha = default_alpha(name, X, y)
    unweighted = make(name, alpha).fit(X, y)
    ones = make(name, alpha).fit(X, y, sample_weight=np.ones(X.shape[0]))
    assert_same_solution(ones, unweighted, 1e-10, what="ones vs None")
    # weights are normalised: a constant factor changes nothing
    scaled = make(name, alpha).fit(X, y, sample_weight=np.full(X.shape[0], 3.5))
    assert_same_solution(scaled, unweighted, 1e-8, what="3.5 * ones vs None")


# ---------------------------------------------------------------------------------------------
# warm start
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", CASES)
def test_warm_start_refit_is_cheaper_and_identical(name):
    X, y = problem(name, p=100)
    model = make(name, default_alpha(name, X, y), warm_start=True).fit(X, y)
    cold = clone(model).set_params(warm_start=False).fit(X, y)
    first_iter, first_epochs = total(model.n_iter_), total_epochs(model)
    coef_first = coefs(model).copy()
    assert first_iter > 1 and first_epochs > 0
    model.fit(X, y)
    assert total(model.n_iter_) < first_iter
    assert total_epochs(model) < first_epochs
    assert_same_solution(model, cold, 1e-8, what="warm refit")
    assert np.max(np.abs(coefs(model) - coef_first)) <= 1e-8 * np.max(np.abs(coef_first))


@pytest.mark.parametrize("factors", [(0.3, 0.1), (0.05, 0.2), (0.1, 2.0)],
                         ids=["decrease", "increase", "above_alpha_max"])
@pytest.mark.parametrize("name", CASES)
def test_warm_start_after_alpha_change_matches_cold_fit(name, factors):
    X, y = problem(name, p=100)
    amax = alpha_max(name, X, y)
    model = make(name, factors[0] * amax, warm_start=True).fit(X, y)
    set_alpha(model, factors[1] * amax).fit(X, y)
    cold = make(name, factors[1] * amax).fit(X, y)
    assert_same_optimum(model, cold, what="warm after alpha change")
    assert np.all(np.atleast_1d(model.dual_gap_) <= TOL)
    if factors[1] >= 1:
        assert not np.any(model.coef_)


@pytest.mark.parametrize("name", CASES)
def test_warm_start_on_new_data_matches_cold_fit(name):
    """A previous solution (and its dual point) from other data must not mislead screening."""
    X, y = problem(name, p=100, seed=1)
    X2, y2 = problem(name, p=100, seed=2)
    alpha = default_alpha(name, X2, y2)
    model = make(name, alpha, warm_start=True).fit(X, y)
    model.fit(X2, y2)  # same shape: coef_ and the dual point are reused as a start
    cold = make(name, alpha).fit(X2, y2)
    assert_same_optimum(model, cold, what="warm start on new data")
    # a different number of samples: the dual point cannot be reused, the coef can
    model.fit(X[:45], y[:45])
    cold = make(name, alpha).fit(X[:45], y[:45])
    assert_same_optimum(model, cold, what="warm start on fewer samples")


# ---------------------------------------------------------------------------------------------
# alpha_max
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("name", CASES)
def test_alpha_max(name, weighted):
    X, y = problem(name)
    sw = np.random.default_rng(3).uniform(0.2, 2.0, size=X.shape[0]) if weighted else None
    expected = alpha_max(name, X, y, sample_weight=sw)
    model = make(name, 0.5 * expected).fit(X, y, sample_weight=sw)
    amax = model_alpha_max(model)
    np.testing.assert_allclose(amax, expected, rtol=1e-10)
    assert np.max(model.alpha_max_) == amax
    for factor in (1.0, 1.0 + 1e-9, 10.0):
        at = make(name, factor * amax).fit(X, y, sample_weight=sw)
        assert not np.any(at.coef_), f"alpha = {factor} alpha_max gives non-zero coef"
        assert np.all(np.atleast_1d(at.dual_gap_) <= TOL)
    below = make(name, 0.99 * amax).fit(X, y, sample_weight=sw)
    assert np.count_nonzero(below.coef_) >= 1


@pytest.mark.parametrize("name", CASES)
def test_intercept_only_model_at_alpha_max(name):
    """With w = 0 the intercept is the best constant: the (weighted) mean, the Huber
    location (its residuals' clipped sum is zero), or the log-odds."""
    X, y = problem(name)
    model = make(name, 2 * alpha_max(name, X, y)).fit(X, y)
    for t, b in zip(binary_targets(name, y), intercepts(model)):
        if LOSS[name] == "quadratic":
            np.testing.assert_allclose(b, np.mean(t), rtol=1e-10)
        elif LOSS[name] == "huber":
            assert abs(np.sum(np.clip(t - b, -HUBER_DELTA, HUBER_DELTA))) <= 1e-10 * t.size
            assert abs(b - np.median(t)) < abs(np.mean(t) - np.median(t))  # robust
        else:
            p = np.mean(t == 1)
            np.testing.assert_allclose(b, np.log(p / (1 - p)), rtol=1e-8)


# ---------------------------------------------------------------------------------------------
# scikit-learn integration
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", CASES)
def test_pipeline_grid_search(name):
    X, y = problem(name, p=30, seed=4)
    amax = alpha_max(name, StandardScaler().fit_transform(X), y)
    alphas = [amax * f for f in (3.0, 0.3, 0.1, 0.03, 0.01)]
    pipe = Pipeline([("scale", StandardScaler()), ("model", make(name, 1.0, tol=1e-6))])
    if isinstance(pipe[-1], SparseGLM):
        grid = {"model__penalty": [pipe[-1].penalty.with_alpha(a) for a in alphas]}
    else:
        grid = {"model__alpha": alphas}
    cv = StratifiedKFold(3) if name in CLASSIFIERS else KFold(3, shuffle=True, random_state=0)
    search = GridSearchCV(pipe, grid, cv=cv).fit(X, y)
    best_alpha = get_alpha(search.best_estimator_[-1])
    assert best_alpha < amax, "grid search picked the all-zero model"
    assert np.count_nonzero(search.best_estimator_[-1].coef_) >= 1
    cv_scores = search.cv_results_["mean_test_score"]
    assert search.best_score_ == np.max(cv_scores)
    # the all-zero model (alpha = 3 alpha_max) scores clearly worse than the best one
    assert cv_scores[0] < search.best_score_ - 0.1
    if name in CLASSIFIERS:
        assert search.best_score_ > 0.6
    elif LOSS[name] == "huber":  # R^2 of held-out folds with gross outliers in them
        assert search.best_score_ > 0.2
    else:
        assert search.best_score_ > 0.8  # R^2


@pytest.mark.parametrize("name", CASES)
def test_pickle_round_trip(name):
    X, y = problem(name)
    model = fit_default(name, X, y)
    restored = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(restored.predict(X), model.predict(X))
    np.testing.assert_array_equal(restored.coef_, model.coef_)
    np.testing.assert_array_equal(restored.intercept_, model.intercept_)
    np.testing.assert_array_equal(np.atleast_1d(restored.dual_gap_),
                                  np.atleast_1d(model.dual_gap_))
    if hasattr(model, "predict_proba"):
        np.testing.assert_array_equal(restored.predict_proba(X), model.predict_proba(X))
    if hasattr(model, "decision_function"):
        np.testing.assert_array_equal(restored.decision_function(X), model.decision_function(X))
    # the restored estimator can be refitted (compiled kernels survive pickling)
    refit = restored.fit(X, y)
    assert_same_solution(refit, model, 1e-10, what="refit after unpickling")


# ---------------------------------------------------------------------------------------------
# duality-gap certificate and fit report
# ---------------------------------------------------------------------------------------------
def independent_gaps(name, model, X, y, sample_weight=None):
    """Relative gaps and primals recomputed by conftest at the returned (coef, intercept)."""
    classes = getattr(model, "classes_", None)
    a, b = l1_l2_weights(get_alpha(model), X.shape[1], L1_RATIO[name])
    out = []
    for t, c, b0 in zip(binary_targets(name, y, classes), coefs(model), intercepts(model)):
        rel, _, primal, _, _ = duality_gap(X, t, c, b0, loss=LOSS[name], a=a, b=b,
                                           sample_weight=sample_weight,
                                           fit_intercept=model.fit_intercept)
        out.append((rel, primal))
    return out


def check_returned_dual_point(name, model, X, y, tol, sample_weight=None):
    """The dual point in ``fit_report_`` is feasible and certifies the reported gap.

    Feasibility and dual value are re-derived here from the dual problem of
    ``P(w, b) = sum_i s_i f(y_i, x_i w + b) + sum_j a_j |w_j| + b_j w_j^2 / 2``:
    ``sum(theta) = 0`` with an intercept, ``|X_j^T theta| <= a_j`` where ``b_j = 0``,
    ``y_i theta_i / s_i in [0, 1]`` for the logistic loss.
    """
    classes = getattr(model, "classes_", None)
    a, b = l1_l2_weights(get_alpha(model), X.shape[1], L1_RATIO[name])
    s = normalised_weights(X.shape[0], sample_weight)
    for t, c, b0, rep in zip(binary_targets(name, y, classes), coefs(model), intercepts(model),
                             reports(model)):
        p0 = primal_zero(t, loss=LOSS[name], sample_weight=sample_weight,
                         fit_intercept=model.fit_intercept)
        np.testing.assert_allclose(rep.primal_zero, p0, rtol=1e-10)
        theta = np.asarray(rep.dual_point, dtype=np.float64)
        effect = 0.0
        if model.fit_intercept:
            # violating sum(theta) = 0 by e moves the dual bound by about e |mean z|: it must
            # stay a small fraction of the certified accuracy
            z = np.asarray(X @ c).ravel() + b0
            effect = abs(theta.sum()) * (1.0 + abs(s @ z))
            assert effect <= 0.1 * max(tol * p0, rep.gap), \
                f"dual point violates sum(theta) = 0 by {theta.sum():.2e}"
        corr = X.T @ theta
        l1_only = b == 0
        assert np.all(np.abs(corr[l1_only]) <= a[l1_only] * (1 + 1e-10)), \
            "dual point outside |X_j^T theta| <= a_j"
        l2 = b > 0
        conj = np.sum(np.maximum(np.abs(corr[l2]) - a[l2], 0.0) ** 2 / (2 * b[l2]))
        pos = s > 0
        assert np.all(theta[~pos] == 0)
        if LOSS[name] != "logistic":
            if LOSS[name] == "huber":
                assert np.all(np.abs(theta[pos]) <= HUBER_DELTA * s[pos] * (1 + 1e-12)), \
                    "Huber dual point outside its box"
            dual = theta @ t - 0.5 * np.sum(theta[pos] ** 2 / s[pos]) - conj
        else:
            u = t[pos] * theta[pos] / s[pos]
            assert np.all((u >= -1e-12) & (u <= 1 + 1e-12)), "logistic dual point out of domain"
            u = np.clip(u, 0.0, 1.0)
            dual = -np.sum(s[pos] * (xlogy(u, u) + xlogy(1 - u, 1 - u))) - conj
        primal = primal_objective(X, t, c, b0, loss=LOSS[name], a=a, b=b,
                                  sample_weight=sample_weight)
        gap = primal - dual
        assert gap >= -1e-13 * p0, f"negative duality gap {gap:.3e}: infeasible dual point"
        assert abs(max(gap, 0.0) - rep.gap) <= 1e-12 * p0 + effect, (gap, rep.gap)
        if rep.converged:
            assert gap <= tol * p0 * (1 + 1e-6) + 1e-15 * p0


@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("name", CASES)
def test_dual_gap_certificate(name, weighted, fit_intercept):
    X, y = problem(name)
    sw = np.random.default_rng(5).uniform(0.0, 3.0, size=X.shape[0]) if weighted else None
    alpha = ALPHA_FRACTION * alpha_max(name, X, y, sample_weight=sw, fit_intercept=fit_intercept)
    tol = 1e-8
    model = make(name, alpha, tol=tol, fit_intercept=fit_intercept).fit(X, y, sample_weight=sw)
    gaps = np.atleast_1d(model.dual_gap_)
    assert np.all(gaps >= 0) and np.all(gaps <= tol)
    if not fit_intercept:
        np.testing.assert_array_equal(intercepts(model), 0.0)
    for (rel, primal), reported, rep in zip(independent_gaps(name, model, X, y, sw), gaps,
                                            reports(model)):
        assert rel <= tol * (1 + 1e-6) + 1e-15, f"independent gap {rel:.3e} > tol"
        # the reported certificate may use a better dual point than the residual one, but
        # the two agree to a small fraction of tol
        assert abs(rel - reported) <= 1e-3 * max(rel, reported) + 0.1 * tol
        np.testing.assert_allclose(rep.primal, primal, rtol=1e-12)
        assert rep.converged
    check_returned_dual_point(name, model, X, y, tol, sample_weight=sw)


@pytest.mark.parametrize("name", CASES)
def test_dual_gap_matches_independent_recomputation_when_not_converged(name):
    """Stopped early, the reported gap is large and must still be the true certificate."""
    X, y = problem(name, p=100)
    model = make(name, 0.05 * alpha_max(name, X, y), tol=1e-14, max_iter=1)
    with pytest.warns(ConvergenceWarning):
        model.fit(X, y)
    gaps = np.atleast_1d(model.dual_gap_)
    assert np.all(gaps > 1e-14)
    for (rel, primal), reported, rep in zip(independent_gaps(name, model, X, y), gaps,
                                            reports(model)):
        # relative gaps agree to 1e-6, down to the rounding level of P and D (~1e-14)
        np.testing.assert_allclose(reported, rel, rtol=1e-6, atol=1e-14)
        np.testing.assert_allclose(rep.primal, primal, rtol=1e-12)
        assert not rep.converged
    check_returned_dual_point(name, model, X, y, 1e-14)


@pytest.mark.parametrize("name", CASES)
def test_fit_report_history_and_screening_record(name):
    X, y = problem(name, p=200)
    model = fit_default(name, X, y, alpha=0.3 * alpha_max(name, X, y))
    n_iters = np.atleast_1d(model.n_iter_)
    n_screened = np.atleast_1d(model.n_screened_)
    assert np.sum(n_screened) > 0, "nothing screened on a p = 200, alpha = 0.3 alpha_max problem"
    for rep, n_iter, n_scr, c in zip(reports(model), n_iters, n_screened, coefs(model)):
        history = rep.history
        if n_iter == 0:  # a one-vs-rest problem already solved by w = 0: nothing recorded
            assert history == [] and not np.any(c)
            continue
        iterations = [h["iteration"] for h in history]
        if name in FISTA:  # one gap evaluation every few FISTA iterations
            assert iterations[0] == 1 and iterations[-1] <= n_iter
            assert np.all(np.diff(iterations) > 0)
        else:  # one gap evaluation per outer working-set iteration
            assert iterations == list(range(1, n_iter + 1))
        for h in history:
            assert np.isfinite(h["gap"]) and h["gap"] >= -1e-12
            np.testing.assert_allclose(h["relative_gap"], h["gap"] / rep.primal_zero,
                                       rtol=1e-12)
        assert history[-1]["relative_gap"] <= TOL
        if n_iter > 1:
            assert history[-1]["gap"] < history[0]["gap"]
        # screened counts: non-decreasing, consistent with screened_at and n_screened_
        counts = [h["n_screened"] for h in history]
        assert counts == sorted(counts)
        assert counts[-1] == n_scr == np.sum(rep.screened_at >= 0)
        screened_at = rep.screened_at
        assert screened_at.shape == (X.shape[1],)
        assert np.all((screened_at == -1) | ((screened_at >= 0) & (screened_at <= n_iter)))
        for h in history:
            assert h["n_screened"] == np.sum((screened_at >= 0) & (screened_at <= h["iteration"]))
        # screened features are exactly zero
        assert not np.any(c[screened_at >= 0])
        assert rep.dual_point.shape == (X.shape[0],)


@pytest.mark.parametrize("name", CASES)
def test_screening_off_gives_same_solution(name):
    X, y = problem(name, p=100)
    alpha = default_alpha(name, X, y)
    on = make(name, alpha).fit(X, y)
    off = make(name, alpha, screening=False).fit(X, y)
    assert np.sum(np.atleast_1d(on.n_screened_)) > 0
    assert np.sum(np.atleast_1d(off.n_screened_)) == 0
    assert_same_optimum(on, off, what="screening on vs off")


@pytest.mark.parametrize("name", CASES)
def test_screening_safe_along_alpha_grid(name):
    """At every alpha of a grid, screening changes neither the certificate nor the solution."""
    X, y = problem(name)
    amax = alpha_max(name, X, y)
    for fraction in (0.9, 0.7, 0.5, 0.3, 0.1, 0.03):
        what = f"alpha = {fraction} alpha_max"
        on = make(name, fraction * amax).fit(X, y)
        off = make(name, fraction * amax, screening=False).fit(X, y)
        assert np.all(np.atleast_1d(on.dual_gap_) <= TOL), what
        for (rel, _), rep in zip(independent_gaps(name, on, X, y), reports(on)):
            assert rel <= TOL * (1 + 1e-6) + 1e-15, f"{what}: independent gap {rel:.3e}"
            # a gap below -1e-13 P(0) would mean an infeasible dual point
            lowest = min((h["gap"] for h in rep.history), default=0.0)
            assert lowest >= -1e-13 * rep.primal_zero, f"{what}: negative gap {lowest:.3e}"
        check_returned_dual_point(name, on, X, y, TOL)
        assert_same_optimum(on, off, what=what)


@pytest.mark.parametrize("name", CASES)
def test_convergence_warning_when_max_iter_too_small(name):
    X, y = problem(name, p=100)
    model = make(name, 0.05 * alpha_max(name, X, y), tol=1e-14, max_iter=1)
    with pytest.warns(ConvergenceWarning, match="did not converge"):
        model.fit(X, y)
    # max_iter bounds outer iterations (FISTA: blocks of 100 iterations)
    assert np.all(np.atleast_1d(model.n_iter_) <= (100 if name in FISTA else 1))
    assert np.any(np.atleast_1d(model.dual_gap_) > 1e-14)
    # and no warning once it can converge
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        model.set_params(max_iter=1000, tol=1e-10).fit(X, y)
    assert np.all(np.atleast_1d(model.dual_gap_) <= 1e-10)


# ---------------------------------------------------------------------------------------------
# classifiers
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("labels", [["cat", "dog"], [3, 7], [1, -1], [True, False]],
                         ids=["strings", "ints", "reversed_pm1", "bools"])
@pytest.mark.parametrize("name", ["logreg_binary", "glm_logistic", "logreg_fista"])
def test_binary_arbitrary_labels(name, labels):
    X, y01 = problem(name)
    labels = np.array(labels)
    y = labels[y01]
    alpha = default_alpha(name, X, y01)
    reference = make(name, alpha).fit(X, y01)
    model = make(name, alpha).fit(X, y)
    np.testing.assert_array_equal(model.classes_, np.sort(labels))
    # the positive class is classes_[1]: the coefficients flip with the label order
    sign = 1.0 if labels[1] == np.sort(labels)[1] else -1.0
    # two fits at gap 1e-10 following different iterates agree to ~sqrt(gap), not to 1e-8
    np.testing.assert_allclose(np.ravel(model.coef_), sign * np.ravel(reference.coef_),
                               rtol=1e-5, atol=1e-8)
    pred = model.predict(X)
    assert pred.dtype == labels.dtype
    np.testing.assert_array_equal(pred, labels[reference.predict(X)])
    assert np.mean(pred == y) > 0.7


def test_multiclass_string_labels():
    X, y_codes = problem("logreg_ovr")
    labels = np.array(["setosa", "versicolor", "virginica"])
    y = labels[::-1][y_codes]  # codes and sorted labels disagree
    alpha = default_alpha("logreg_ovr", X, y_codes)
    model = make("logreg_ovr", alpha).fit(X, y)
    reference = make("logreg_ovr", alpha).fit(X, y_codes)
    np.testing.assert_array_equal(model.classes_, labels)
    assert model.coef_.shape == (3, X.shape[1]) and model.intercept_.shape == (3,)
    # class "setosa" is code 2 of the reference, etc.
    np.testing.assert_allclose(model.coef_, reference.coef_[::-1], rtol=1e-8, atol=1e-10)
    np.testing.assert_array_equal(model.predict(X), labels[::-1][reference.predict(X)])
    assert np.mean(model.predict(X) == y) > 0.6


@pytest.mark.parametrize("name", CLASSIFIERS)
def test_classifier_score_is_accuracy(name):
    """``score`` of a classifier is the accuracy (GridSearchCV selects with it)."""
    X, y = problem(name)
    model = fit_default(name, X, y)
    accuracy = np.mean(model.predict(X) == y)
    assert 0.5 < accuracy < 1.0
    assert model.score(X, y) == pytest.approx(accuracy, abs=1e-12)


@pytest.mark.parametrize("name", ["logreg_binary", "logreg_ovr", "logreg_fista"])
def test_predict_proba_and_decision_function(name):
    X, y = problem(name)
    model = fit_default(name, X, y)
    proba = model.predict_proba(X)
    n_classes = model.classes_.size
    assert proba.shape == (X.shape[0], n_classes)
    assert np.all((proba >= 0) & (proba <= 1))
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-12)
    np.testing.assert_allclose(model.predict_log_proba(X), np.log(proba), rtol=1e-12)
    dec = model.decision_function(X)
    pred = model.predict(X)
    if n_classes == 2:
        assert dec.shape == (X.shape[0],)
        np.testing.assert_allclose(dec, X @ model.coef_.ravel() + model.intercept_[0],
                                   rtol=1e-12, atol=1e-12)
        np.testing.assert_array_equal(pred, model.classes_[(dec > 0).astype(int)])
        np.testing.assert_allclose(proba[:, 1], expit(dec), rtol=1e-12)
    else:
        assert dec.shape == (X.shape[0], n_classes)
        np.testing.assert_array_equal(pred, model.classes_[np.argmax(dec, axis=1)])
        p = expit(dec)
        np.testing.assert_allclose(proba, p / p.sum(axis=1, keepdims=True), rtol=1e-12)
    np.testing.assert_array_equal(pred, model.classes_[np.argmax(proba, axis=1)])
    assert np.mean(pred == y) > 0.7


@pytest.mark.parametrize("name", ["logreg_binary", "logreg_ovr", "logreg_fista"])
def test_class_weight_equals_sample_weight(name):
    X, y = problem(name)
    labels = np.array([3, 7, 11])[:np.unique(y).size]
    y = labels[y]
    keep = np.ones(X.shape[0], dtype=bool)
    keep[np.flatnonzero(y == labels[0])[: (y == labels[0]).sum() // 2]] = False  # imbalance
    X, y = X[keep], y[keep]
    alpha = 0.05
    balanced = make(name, alpha, class_weight="balanced").fit(X, y)
    equivalent = make(name, alpha).fit(X, y, sample_weight=compute_sample_weight("balanced", y))
    assert np.count_nonzero(balanced.coef_) > 0
    assert_same_optimum(balanced, equivalent, what="balanced vs sample_weight")
    # the balanced weights actually change the fit
    plain = make(name, alpha).fit(X, y)
    assert np.max(np.abs(plain.coef_ - balanced.coef_)) > 1e-3
    # a dict, combined with sample weights (they multiply)
    cw = {lab: w for lab, w in zip(labels, [2.0, 0.5, 1.0])}
    sw = np.random.default_rng(0).uniform(0.5, 1.5, size=y.size)
    with_dict = make(name, alpha, class_weight=cw).fit(X, y, sample_weight=sw)
    product = make(name, alpha).fit(X, y, sample_weight=sw * np.vectorize(cw.get)(y))
    assert_same_optimum(with_dict, product, what="class_weight dict x sample_weight")


def _sklearn_logistic(C, l1_ratio, solver, fit_intercept, tol):
    """scikit-learn's L1 / elastic-net LogisticRegression across the 1.8 ``penalty`` change."""
    import inspect
    default_penalty = inspect.signature(LogisticRegression).parameters["penalty"].default
    params = dict(C=C, solver=solver, fit_intercept=fit_intercept, tol=tol, max_iter=100_000)
    if default_penalty == "deprecated":
        params["l1_ratio"] = l1_ratio
    elif l1_ratio == 1.0:
        params["penalty"] = "l1"
    else:
        params.update(penalty="elasticnet", l1_ratio=l1_ratio)
    return LogisticRegression(**params)


@pytest.mark.parametrize("l1_ratio, solver, fit_intercept", [
    (1.0, "liblinear", False),  # liblinear penalises the intercept: compare without one
    (1.0, "saga", True),
    (0.5, "saga", True),
])
def test_alpha_matches_sklearn_C(l1_ratio, solver, fit_intercept):
    """``alpha = 1 / (n C)`` maps our objective onto scikit-learn's."""
    X, y = problem("logreg_binary")
    n = X.shape[0]
    alpha = 0.1 * alpha_max_numpy(X, np.where(y == 1, 1.0, -1.0), loss="logistic",
                                  fit_intercept=fit_intercept, l1_ratio=l1_ratio)
    ours = SafeScreeningLogisticRegression(alpha=alpha, l1_ratio=l1_ratio,
                                           fit_intercept=fit_intercept, tol=1e-12).fit(X, y)
    theirs = _sklearn_logistic(1.0 / (n * alpha), l1_ratio, solver, fit_intercept,
                               tol=1e-10).fit(X, y)
    assert np.count_nonzero(ours.coef_) >= 2
    np.testing.assert_allclose(ours.coef_, theirs.coef_, rtol=0, atol=1e-5)
    np.testing.assert_allclose(ours.intercept_, theirs.intercept_, rtol=0, atol=1e-5)
    np.testing.assert_array_equal(ours.coef_ != 0, np.abs(theirs.coef_) > 1e-6)
