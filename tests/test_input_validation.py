"""Bad input is rejected with a ``ValueError`` that names the problem; good sparse input works.

Every estimator is checked (Lasso, elastic net, logistic regression, ``SparseGLM`` with the
quadratic and the logistic datafit). Errors must come from the validation layer with a
message saying what is wrong -- never a Numba traceback, a ``TypeError`` or a silent fit.
Sparse COO/CSR/CSC input must give the dense solution, and a sparse design far too large to
densify (80 GB as a dense float64 array) must fit.
"""
import tracemalloc

import numpy as np
import pytest
import scipy.sparse as sp

from sksafe import (SafeScreeningElasticNet, SafeScreeningLasso,
                    SafeScreeningLogisticRegression, SparseGLM, SparseHuberRegressor)
from sksafe.datafits import Logistic
from sksafe.penalties import L1, ElasticNet

N_SAMPLES, N_FEATURES = 30, 8


def _lasso(alpha=0.05, **kw):
    return SafeScreeningLasso(alpha=alpha, **kw)


def _enet(alpha=0.05, l1_ratio=0.5, **kw):
    return SafeScreeningElasticNet(alpha=alpha, l1_ratio=l1_ratio, **kw)


def _logreg(alpha=0.02, l1_ratio=1.0, **kw):
    return SafeScreeningLogisticRegression(alpha=alpha, l1_ratio=l1_ratio, **kw)


def _huber(alpha=0.05, l1_ratio=1.0, **kw):
    return SparseHuberRegressor(alpha=alpha, l1_ratio=l1_ratio, **kw)


def _glm_quadratic(alpha=0.05, l1_ratio=None, **kw):
    penalty = L1(alpha) if l1_ratio is None else ElasticNet(alpha, l1_ratio=l1_ratio)
    return SparseGLM(penalty=penalty, **kw)


def _glm_logistic(alpha=0.02, l1_ratio=None, **kw):
    penalty = L1(alpha) if l1_ratio is None else ElasticNet(alpha, l1_ratio=l1_ratio)
    return SparseGLM(datafit=Logistic(), penalty=penalty, **kw)


# (factory, is_classifier)
ESTIMATORS = {
    "lasso": (_lasso, False),
    "enet": (_enet, False),
    "logreg": (_logreg, True),
    "glm_quadratic": (_glm_quadratic, False),
    "glm_logistic": (_glm_logistic, True),
    "huber": (_huber, False),
}
ALL = list(ESTIMATORS)
CLASSIFIERS = [name for name, (_, clf) in ESTIMATORS.items() if clf]
REGRESSORS = [name for name, (_, clf) in ESTIMATORS.items() if not clf]
WITH_L1_RATIO = ["enet", "logreg", "glm_quadratic", "glm_logistic", "huber"]


def _data(name, n=N_SAMPLES, p=N_FEATURES, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p))
    y = X[:, 0] - 2 * X[:, 1] + 0.3 * rng.standard_normal(n)
    if ESTIMATORS[name][1]:
        y = (y > np.median(y)).astype(np.int64)
    return X, y


def _make(name, **kw):
    return ESTIMATORS[name][0](**kw)


# ---------------------------------------------------------------------------------------------
# non-finite values
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("fmt", ["dense", "csr", "csc", "coo"])
@pytest.mark.parametrize("value, message", [(np.nan, "NaN"), (np.inf, "infinity"),
                                            (-np.inf, "infinity")])
@pytest.mark.parametrize("name", ALL)
def test_non_finite_X_rejected(name, value, message, fmt):
    X, y = _data(name)
    X[4, 2] = value
    if fmt != "dense":
        X = sp.csr_matrix(X).asformat(fmt)
    with pytest.raises(ValueError, match=f"Input X contains {message}"):
        _make(name).fit(X, y)


@pytest.mark.parametrize("value, message", [(np.nan, "NaN"), (np.inf, "infinity")])
@pytest.mark.parametrize("name", ALL)
def test_non_finite_y_rejected(name, value, message):
    X, y = _data(name)
    y = y.astype(np.float64)
    y[3] = value
    with pytest.raises(ValueError, match=f"Input y contains {message}"):
        _make(name).fit(X, y)


@pytest.mark.parametrize("fmt", ["dense", "csr"])
@pytest.mark.parametrize("name", ALL)
def test_non_finite_X_rejected_at_predict(name, fmt):
    X, y = _data(name)
    model = _make(name).fit(X, y)
    X_bad = X.copy()
    X_bad[1, 1] = np.nan
    if fmt == "csr":
        X_bad = sp.csr_matrix(X_bad)
    with pytest.raises(ValueError, match="Input X contains NaN"):
        model.predict(X_bad)


# ---------------------------------------------------------------------------------------------
# shapes
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ALL)
def test_length_mismatch_rejected(name):
    X, y = _data(name)
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        _make(name).fit(X, y[:-1])
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        _make(name).fit(sp.csr_matrix(X[:-2]), y)


@pytest.mark.parametrize("name", ALL)
def test_1d_X_rejected(name):
    X, y = _data(name)
    with pytest.raises(ValueError, match="Expected 2D array, got 1D array"):
        _make(name).fit(X[:, 0], y)


@pytest.mark.parametrize("name", ALL)
def test_none_X_rejected(name):
    _, y = _data(name)
    with pytest.raises(ValueError, match="X must be an array-like or sparse matrix, got None"):
        _make(name).fit(None, y)


@pytest.mark.parametrize("name", ALL)
def test_2d_y_rejected(name):
    X, y = _data(name)
    with pytest.raises(ValueError, match="y should be a 1d array"):
        _make(name).fit(X, np.column_stack([y, y]))


@pytest.mark.parametrize("name", ALL)
def test_empty_X_rejected(name):
    X, y = _data(name)
    with pytest.raises(ValueError, match=r"0 sample\(s\)"):
        _make(name).fit(X[:0], y[:0])
    with pytest.raises(ValueError, match=r"0 feature\(s\)"):
        _make(name).fit(X[:, :0], y)
    with pytest.raises(ValueError, match=r"0 feature\(s\)"):
        _make(name).fit(sp.csr_matrix((N_SAMPLES, 0)), y)


@pytest.mark.parametrize("name", ALL)
def test_wrong_n_features_at_predict(name):
    X, y = _data(name)
    model = _make(name).fit(X, y)
    with pytest.raises(ValueError, match=f"X has {N_FEATURES - 1} features, .* expecting "
                                         f"{N_FEATURES} features"):
        model.predict(X[:, :-1])


@pytest.mark.parametrize("name", ALL)
def test_complex_X_rejected(name):
    X, y = _data(name)
    with pytest.raises(ValueError, match="Complex data not supported"):
        _make(name).fit(X + 1j * X, y)
    with pytest.raises(ValueError, match="Complex data not supported"):
        _make(name).fit(sp.csr_matrix(X + 1j * X), y)


# ---------------------------------------------------------------------------------------------
# targets
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", REGRESSORS)
def test_non_numeric_y_rejected_by_regressors(name):
    X, _ = _data(name)
    y = np.array(["a", "b", "c"] * (N_SAMPLES // 3))
    with pytest.raises(ValueError, match="could not convert string to float"):
        _make(name).fit(X, y)
    y_obj = np.array([1.0, "x"] * (N_SAMPLES // 2), dtype=object)
    with pytest.raises(ValueError, match="could not convert string to float"):
        _make(name).fit(X, y_obj)


@pytest.mark.parametrize("name", CLASSIFIERS)
def test_single_class_rejected(name):
    X, _ = _data(name)
    for y in (np.ones(N_SAMPLES), np.array(["spam"] * N_SAMPLES)):
        with pytest.raises(ValueError, match="(one class|1 class)"):
            _make(name).fit(X, y)


@pytest.mark.parametrize("name", CLASSIFIERS)
def test_continuous_target_rejected_by_classifiers(name):
    X, _ = _data(name)
    y = np.linspace(0.0, 1.0, N_SAMPLES)
    with pytest.raises(ValueError, match="Unknown label type: continuous"):
        _make(name).fit(X, y)


def test_sparse_glm_logistic_rejects_multiclass():
    X, _ = _data("glm_logistic")
    y = np.arange(N_SAMPLES) % 3
    with pytest.raises(ValueError, match="Only binary classification .* got 3 classes"):
        _glm_logistic().fit(X, y)


# ---------------------------------------------------------------------------------------------
# hyper-parameters
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("alpha", [-1.0, -1e-12, np.inf, np.nan])
@pytest.mark.parametrize("name", ALL)
def test_bad_alpha_rejected(name, alpha):
    X, y = _data(name)
    with pytest.raises(ValueError, match="alpha must be a finite number >= 0"):
        _make(name, alpha=alpha).fit(X, y)


@pytest.mark.parametrize("alpha", ["0.1", None, True])
@pytest.mark.parametrize("name", ALL)
def test_non_real_alpha_rejected(name, alpha):
    X, y = _data(name)
    with pytest.raises(ValueError, match="alpha must be a real number"):
        _make(name, alpha=alpha).fit(X, y)


@pytest.mark.parametrize("l1_ratio", [-0.1, 1.5, np.nan, np.inf])
@pytest.mark.parametrize("name", WITH_L1_RATIO)
def test_l1_ratio_outside_unit_interval_rejected(name, l1_ratio):
    X, y = _data(name)
    with pytest.raises(ValueError, match="l1_ratio must be"):
        _make(name, l1_ratio=l1_ratio).fit(X, y)


@pytest.mark.parametrize("tol", [-1e-3, np.nan, "1e-4", None, True])
@pytest.mark.parametrize("name", ALL)
def test_bad_tol_rejected(name, tol):
    X, y = _data(name)
    with pytest.raises(ValueError, match="tol must be a real number >= 0"):
        _make(name, tol=tol).fit(X, y)


@pytest.mark.parametrize("max_iter", [0, -5, 2.5, "10", None, True])
@pytest.mark.parametrize("name", ALL)
def test_bad_max_iter_rejected(name, max_iter):
    X, y = _data(name)
    with pytest.raises(ValueError, match="max_iter must be an integer >= 1"):
        _make(name, max_iter=max_iter).fit(X, y)


@pytest.mark.parametrize("param", ["fit_intercept", "screening"])
@pytest.mark.parametrize("name", ALL)
def test_non_bool_flags_rejected(name, param):
    X, y = _data(name)
    with pytest.raises(ValueError, match=f"{param} must be a bool"):
        _make(name, **{param: "yes"}).fit(X, y)


@pytest.mark.parametrize("name", ["logreg", "glm_quadratic", "glm_logistic"])
def test_unknown_solver_rejected(name):
    X, y = _data(name)
    with pytest.raises(ValueError, match="solver must be"):
        _make(name, solver="newton-cg").fit(X, y)


def test_cd_solver_rejected_for_logistic():
    X, y = _data("logreg")
    with pytest.raises(ValueError, match="solver='cd'"):
        _logreg(solver="cd").fit(X, y)
    with pytest.raises(ValueError, match="solver='cd'"):
        _glm_logistic(solver="cd").fit(X, y)


# ---------------------------------------------------------------------------------------------
# sample weights
# ---------------------------------------------------------------------------------------------
def _bad_weights():
    w_neg = np.ones(N_SAMPLES)
    w_neg[2] = -0.5
    w_nan = np.ones(N_SAMPLES)
    w_nan[5] = np.nan
    w_inf = np.ones(N_SAMPLES)
    w_inf[5] = np.inf
    return [
        pytest.param(w_neg, "Negative values in data passed to `sample_weight`", id="negative"),
        pytest.param(w_nan, "sample_weight contains NaN", id="nan"),
        pytest.param(w_inf, "sample_weight contains infinity", id="inf"),
        pytest.param(np.ones(N_SAMPLES - 1), r"sample_weight.shape == \(29,\), expected \(30,\)",
                     id="too_short"),
        pytest.param(np.ones(N_SAMPLES + 3), r"sample_weight.shape == \(33,\), expected \(30,\)",
                     id="too_long"),
        pytest.param(np.ones((N_SAMPLES, 2)), "Sample weights must be 1D array or scalar",
                     id="2d"),
        pytest.param(np.zeros(N_SAMPLES), "(at least one non-zero|at least one positive)",
                     id="all_zero"),
    ]


@pytest.mark.parametrize("sample_weight, message", _bad_weights())
@pytest.mark.parametrize("name", ALL)
def test_bad_sample_weight_rejected(name, sample_weight, message):
    X, y = _data(name)
    with pytest.raises(ValueError, match=message):
        _make(name).fit(X, y, sample_weight=sample_weight)


@pytest.mark.parametrize("name", CLASSIFIERS)
def test_sample_weight_zero_on_a_whole_class(name):
    """Only class 1 carries weight: the logistic problem has no minimiser (the intercept
    runs off to infinity), so the fit is refused with a message naming the class."""
    X, y = _data(name)
    sw = (y == 1).astype(np.float64)
    with pytest.raises(ValueError, match=r"class\(es\) \[.*0.*\] have none"):
        _make(name).fit(X, y, sample_weight=sw)


# ---------------------------------------------------------------------------------------------
# sparse input is accepted and matches dense
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("fmt", ["coo", "csr", "csc"])
@pytest.mark.parametrize("name", ALL)
def test_sparse_formats_match_dense(name, fmt):
    rng = np.random.default_rng(3)
    X, y = _data(name, n=40, p=25, seed=3)
    X[rng.random(X.shape) < 0.6] = 0.0  # genuinely sparse
    if ESTIMATORS[name][1]:
        y = (X[:, 0] - X[:, 1] + 0.5 * rng.standard_normal(40) > 0).astype(int)
    else:
        y = X[:, 0] - 2 * X[:, 1] + 0.1 * rng.standard_normal(40)
    dense = _make(name, tol=1e-10).fit(X, y)
    X_sparse = sp.coo_matrix(X).asformat(fmt)
    assert X_sparse.format == fmt
    model = _make(name, tol=1e-10).fit(X_sparse, y)
    assert np.count_nonzero(dense.coef_) > 0
    np.testing.assert_allclose(model.coef_, dense.coef_, rtol=1e-7,
                               atol=1e-8 * np.max(np.abs(dense.coef_)))
    np.testing.assert_allclose(model.intercept_, dense.intercept_, rtol=1e-7, atol=1e-8)
    score = "decision_function" if hasattr(model, "decision_function") else "predict"
    np.testing.assert_allclose(getattr(model, score)(X_sparse), getattr(dense, score)(X),
                               rtol=1e-7, atol=1e-8)


def _huge_sparse_problem(classification, seed=0):
    """2000 x 5_000_000 CSR, ~25k non-zeros: 80 GB if it were densified."""
    rng = np.random.default_rng(seed)
    n, p = 2000, 5_000_000
    noise_nnz = 20_000
    rows = rng.integers(0, n, noise_nnz)
    cols = rng.integers(5, p, noise_nnz)
    informative = np.arange(5)
    # the 5 informative columns are observed on every other sample
    rows = np.concatenate([rows, np.tile(np.arange(0, n, 2), informative.size)])
    cols = np.concatenate([cols, np.repeat(informative, n // 2)])
    vals = rng.standard_normal(rows.size)
    X = sp.csr_matrix((vals, (rows, cols)), shape=(n, p))
    w = np.zeros(p)
    w[informative] = [3.0, -2.0, 2.0, -3.0, 1.5]
    y = X @ w + 0.1 * rng.standard_normal(n)
    if classification:
        y = (y > 0).astype(np.int64)
    return X, y, informative


@pytest.mark.parametrize("classification", [False, True], ids=["lasso", "logistic"])
def test_huge_sparse_design_is_not_densified(classification):
    X, y, informative = _huge_sparse_problem(classification)
    assert X.shape[0] * X.shape[1] * 8 > 50e9  # a dense copy would need > 50 GB
    model = (SafeScreeningLogisticRegression(alpha=0.02) if classification
             else SafeScreeningLasso(alpha=0.05))
    tracemalloc.start()
    try:
        model.fit(X, y)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # a few 5e6-long float64 vectors (40 MB each) are fine; one dense row block is not
    assert peak < 2e9, f"peak traced allocation {peak / 1e9:.2f} GB"
    coef = np.ravel(model.coef_)
    assert coef.shape == (X.shape[1],)
    nonzero = np.flatnonzero(coef)
    assert 1 <= nonzero.size <= 100
    assert set(informative) <= set(nonzero.tolist())
    assert model.dual_gap_ <= model.tol
    # the huge majority of the features is screened out
    assert model.n_screened_ >= X.shape[1] - 1000
    # predictions are informative on the samples where the informative columns are observed
    observed = np.arange(0, X.shape[0], 2)
    if classification:
        assert np.mean(model.predict(X[observed]) == y[observed]) > 0.9
    else:
        resid = y - model.predict(X)
        assert np.var(resid[observed]) < 0.1 * np.var(y[observed])


@pytest.mark.parametrize("delta", [0.0, -1.0, np.inf, np.nan, "1", None])
def test_bad_huber_delta_rejected(delta):
    X, y = _data("huber")
    with pytest.raises(ValueError, match="delta must be a positive finite number"):
        SparseHuberRegressor(delta=delta).fit(X, y)
