"""sksafe agrees with independent reference solvers at high precision.

Every comparison follows the same protocol:

1. sksafe is fitted with ``tol=1e-13`` and its solution must have an *independent*
   relative duality gap (``conftest.duality_gap``, pure NumPy) <= 1e-10;
2. the reference (scikit-learn, skglm, celer, or the scipy-based ``logistic_reference``
   of ``conftest``) is fitted with its tightest tolerance and must reach the same
   certified relative gap <= 1e-10 -- otherwise agreement would prove nothing;
3. the coefficients (and intercepts) must agree to ``rtol=1e-6`` with
   ``atol=1e-6 * max|coef|``, and the solution must not be trivial.

The objectives (same as scikit-learn's)::

    Lasso / elastic net: sum_i s_i (y_i - x_i w - b)^2 / 2 + alpha (rho ||w||_1 + (1-rho)/2 ||w||^2)
    logistic:            sum_i s_i log(1 + exp(-y_i (x_i w + b))) + same penalty,  alpha = 1/(n C)

with ``s`` the sample weights normalised to sum to one.
"""
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from numba.core.errors import NumbaWarning
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import ElasticNet as SkElasticNet
from sklearn.linear_model import Lasso as SkLasso
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

from conftest import (HUBER_DELTA, alpha_max_numpy, duality_gap, l1_l2_weights,
                      logistic_reference,
                      make_classification_data, make_regression_data)
from sksafe import (SafeScreeningElasticNet, SafeScreeningLasso,
                    SafeScreeningLogisticRegression, SparseGLM, SparseHuberRegressor)
from sksafe.datafits import Huber, Logistic, Quadratic
from sksafe.datasets import load_leukemia
from sksafe.penalties import L1, ElasticNet, WeightedL1
from sksafe.solvers import solve

TOL = 1e-13          # tol given to sksafe
CERTIFIED = 1e-10    # relative duality gap every compared solution must reach
RTOL = 1e-6          # coefficient agreement


# ---------------------------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------------------------
def assert_certified(what, X, y, coef, intercept, *, loss, a, b, positive=False,
                     sample_weight=None, fit_intercept=True, bound=CERTIFIED):
    """The independent relative duality gap of ``(coef, intercept)`` is <= ``bound``."""
    rel = duality_gap(X, y, np.ravel(coef), float(np.ravel(intercept)[0]) if fit_intercept
                      else 0.0, loss=loss, a=a, b=b, positive=positive,
                      sample_weight=sample_weight, fit_intercept=fit_intercept)[0]
    assert rel <= bound, f"{what} only reached relative duality gap {rel:.3e} > {bound:g}"
    return rel


def assert_coef_agree(ours, ref, what, rtol=RTOL):
    ours, ref = np.ravel(np.asarray(ours, dtype=np.float64)), np.ravel(ref)
    scale = max(np.max(np.abs(ref)), np.max(np.abs(ours)))
    assert scale > 0, f"{what}: trivial (all-zero) solution, the comparison proves nothing"
    np.testing.assert_allclose(ours, ref, rtol=rtol, atol=rtol * scale,
                               err_msg=f"sksafe and {what} disagree")


def assert_intercept_agree(ours, ref, coef_ref, what, rtol=RTOL):
    scale = max(abs(float(np.ravel(ref)[0])), np.max(np.abs(coef_ref)), 1.0)
    assert abs(float(np.ravel(ours)[0]) - float(np.ravel(ref)[0])) <= rtol * scale, (
        f"intercepts of sksafe ({float(np.ravel(ours)[0])!r}) and {what} "
        f"({float(np.ravel(ref)[0])!r}) disagree")


def assert_same_solution(X, y, ours, ref_coef, ref_intercept, what, *, fit_intercept, **common):
    """Both solutions certified at the tight gap, the reference non-trivial, equal coefficients
    (and intercepts when fitted)."""
    intercept = ours.intercept_ if fit_intercept else 0.0
    assert_certified("sksafe", X, y, ours.coef_, intercept, fit_intercept=fit_intercept,
                     **common)
    assert_certified(what, X, y, ref_coef, ref_intercept if fit_intercept else 0.0,
                     fit_intercept=fit_intercept, **common)
    assert_nontrivial(ref_coef)
    assert_coef_agree(ours.coef_, ref_coef, what)
    if fit_intercept:
        assert_intercept_agree(ours.intercept_, ref_intercept, ref_coef, what)


def assert_nontrivial(coef, min_nnz=2, what="solution"):
    nnz = int(np.count_nonzero(np.ravel(coef)))
    assert nnz >= min_nnz, f"{what} has only {nnz} non-zero coefficients: pick a smaller alpha"


def quiet(fit):
    """Run a reference fit without its convergence chatter (the gap is checked instead)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        warnings.simplefilter("ignore", NumbaWarning)   # skglm's performance hints
        warnings.simplefilter("ignore", FutureWarning)
        warnings.simplefilter("ignore", UserWarning)
        return fit()


def sparse_regression_data(n, p, seed):
    rng = np.random.default_rng(seed)
    X = sp.random(n, p, density=0.3, format="csc", random_state=rng,
                  data_rvs=rng.standard_normal)
    w = np.zeros(p)
    w[rng.choice(p, 5, replace=False)] = rng.choice([-2.0, 2.0], 5)
    y = X @ w + 0.3 * rng.standard_normal(n) + 1.0
    return X, y


def regression_problem(shape, sparse, seed=0):
    n, p = shape
    if sparse:
        return sparse_regression_data(n, p, seed)
    return make_regression_data(n=n, p=p, seed=seed)


def sample_weights(n, seed=1, with_zero=True):
    w = np.random.default_rng(seed).uniform(0.2, 3.0, size=n)
    if with_zero:
        w[::9] = 0.0  # rows that count for nothing
    return w


def lr_kwargs(l1_ratio):
    """scikit-learn >= 1.8 spells the penalty with ``l1_ratio`` alone."""
    import sklearn
    major, minor = (int(v) for v in sklearn.__version__.split(".")[:2])
    if (major, minor) >= (1, 8):
        return {"l1_ratio": l1_ratio}
    if l1_ratio == 1.0:
        return {"penalty": "l1"}
    return {"penalty": "elasticnet", "l1_ratio": l1_ratio}


def signs_of(y):
    return np.where(np.asarray(y) > 0, 1.0, -1.0)


# ---------------------------------------------------------------------------------------------
# Lasso / elastic net vs scikit-learn
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("shape", [(50, 30), (30, 80)], ids=["n>p", "p>n"])
@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "csc"])
@pytest.mark.parametrize("fit_intercept", [True, False], ids=["intercept", "no_intercept"])
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "sample_weight"])
@pytest.mark.parametrize("positive", [False, True], ids=["signed", "positive"])
@pytest.mark.parametrize("l1_ratio", [1.0, 0.6], ids=["lasso", "enet"])
def test_lasso_enet_vs_sklearn(shape, sparse, fit_intercept, weighted, positive, l1_ratio):
    X, y = regression_problem(shape, sparse)
    n, p = X.shape
    sw = sample_weights(n) if weighted else None
    alpha = alpha_max_numpy(X, y, loss="quadratic", sample_weight=sw,
                            fit_intercept=fit_intercept, positive=positive,
                            l1_ratio=l1_ratio) / 10
    a, b = l1_l2_weights(alpha, p, l1_ratio=l1_ratio)
    if l1_ratio == 1.0:
        ours = SafeScreeningLasso(alpha=alpha, fit_intercept=fit_intercept, positive=positive,
                                  tol=TOL, max_iter=1000)
        ref = SkLasso(alpha=alpha, fit_intercept=fit_intercept, positive=positive, tol=1e-14,
                      max_iter=1_000_000)
    else:
        ours = SafeScreeningElasticNet(alpha=alpha, l1_ratio=l1_ratio,
                                       fit_intercept=fit_intercept, positive=positive,
                                       tol=TOL, max_iter=1000)
        ref = SkElasticNet(alpha=alpha, l1_ratio=l1_ratio, fit_intercept=fit_intercept,
                           positive=positive, tol=1e-14, max_iter=1_000_000)
    ours.fit(X, y, sample_weight=sw)
    quiet(lambda: ref.fit(X, y, sample_weight=sw))
    common = dict(loss="quadratic", a=a, b=b, positive=positive, sample_weight=sw,
                  fit_intercept=fit_intercept)
    assert_certified("sksafe", X, y, ours.coef_, ours.intercept_, **common)
    assert ours.dual_gap_ <= CERTIFIED
    assert_certified("scikit-learn", X, y, ref.coef_, ref.intercept_, **common)
    assert_nontrivial(ref.coef_)
    if positive:
        assert np.all(ours.coef_ >= 0)
    assert_coef_agree(ours.coef_, ref.coef_, "scikit-learn")
    if fit_intercept:
        assert_intercept_agree(ours.intercept_, ref.intercept_, ref.coef_, "scikit-learn")
    else:
        assert ours.intercept_ == 0.0


@pytest.mark.parametrize("fit_intercept", [True, False], ids=["intercept", "no_intercept"])
@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "csc"])
def test_enet_l1_ratio_zero_is_ridge(fit_intercept, sparse):
    """``l1_ratio=0``: ``alpha/2 ||w||^2`` is scikit-learn's ``Ridge(alpha=n alpha)``."""
    from sklearn.linear_model import Ridge

    X, y = regression_problem((40, 25), sparse, seed=18)
    n, p = X.shape
    alpha = 0.3
    ours = SafeScreeningElasticNet(alpha=alpha, l1_ratio=0.0, fit_intercept=fit_intercept,
                                   tol=TOL).fit(X, y)
    ref = Ridge(alpha=n * alpha, fit_intercept=fit_intercept, solver="auto" if not sparse
                else "sparse_cg", tol=1e-14, max_iter=100_000).fit(X, y)
    a, b = l1_l2_weights(alpha, p, l1_ratio=0.0)
    common = dict(loss="quadratic", a=a, b=b, fit_intercept=fit_intercept)
    assert_certified("sksafe", X, y, ours.coef_, ours.intercept_, **common)
    assert_certified("scikit-learn Ridge", X, y, ref.coef_, ref.intercept_, **common)
    assert np.all(ours.coef_ != 0)  # no sparsity, nothing screened away
    assert_coef_agree(ours.coef_, ref.coef_, "scikit-learn Ridge")
    if fit_intercept:
        assert_intercept_agree(ours.intercept_, ref.intercept_, ref.coef_, "Ridge")


@pytest.mark.parametrize("fit_intercept", [True, False], ids=["intercept", "no_intercept"])
def test_logistic_l1_ratio_zero_vs_lbfgs(fit_intercept):
    X, y = make_classification_data(n=60, p=20, seed=19)
    n, p = X.shape
    alpha = 0.05
    ours = SafeScreeningLogisticRegression(alpha=alpha, l1_ratio=0.0, fit_intercept=fit_intercept,
                                           tol=TOL).fit(X, y)
    ref = quiet(lambda: LogisticRegression(l1_ratio=0.0, C=1.0 / (n * alpha), solver="lbfgs",
                                           fit_intercept=fit_intercept, tol=1e-14,
                                           max_iter=100_000).fit(X, y))
    a, b = l1_l2_weights(alpha, p, l1_ratio=0.0)
    common = dict(loss="logistic", a=a, b=b, fit_intercept=fit_intercept)
    assert_certified("sksafe", X, y, ours.coef_, ours.intercept_, **common)
    assert_certified("scikit-learn lbfgs", X, y, ref.coef_, ref.intercept_, **common)
    assert_coef_agree(ours.coef_, ref.coef_, "scikit-learn lbfgs (L2)")
    if fit_intercept:
        assert_intercept_agree(ours.intercept_, ref.intercept_, ref.coef_, "lbfgs")


def test_sample_weight_equals_repeated_rows():
    """Integer sample weights give the solution of the data with repeated rows (and sklearn's)."""
    X, y = make_regression_data(n=40, p=25, seed=3)
    counts = np.random.default_rng(0).integers(0, 4, size=40)
    counts[0] = 1
    alpha = alpha_max_numpy(X, y, loss="quadratic", sample_weight=counts) / 8
    weighted = SafeScreeningLasso(alpha=alpha, tol=TOL).fit(X, y, sample_weight=counts)
    repeated = SafeScreeningLasso(alpha=alpha, tol=TOL).fit(np.repeat(X, counts, axis=0),
                                                            np.repeat(y, counts))
    ref = quiet(lambda: SkLasso(alpha=alpha, tol=1e-14, max_iter=1_000_000)
                .fit(np.repeat(X, counts, axis=0), np.repeat(y, counts)))
    assert_nontrivial(ref.coef_)
    assert_coef_agree(weighted.coef_, repeated.coef_, "sksafe on repeated rows")
    assert_coef_agree(weighted.coef_, ref.coef_, "scikit-learn on repeated rows")
    assert_intercept_agree(weighted.intercept_, ref.intercept_, ref.coef_, "scikit-learn")


# ---------------------------------------------------------------------------------------------
# the three solvers of sksafe
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("solver", ["cd", "prox_newton", "fista"])
@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "csc"])
@pytest.mark.parametrize("fit_intercept", [True, False], ids=["intercept", "no_intercept"])
@pytest.mark.parametrize("l1_ratio", [1.0, 0.5], ids=["lasso", "enet"])
def test_quadratic_solvers_vs_sklearn(solver, sparse, fit_intercept, l1_ratio):
    X, y = regression_problem((40, 60), sparse, seed=5)
    p = X.shape[1]
    alpha = alpha_max_numpy(X, y, loss="quadratic", fit_intercept=fit_intercept,
                            l1_ratio=l1_ratio) / 5
    a, b = l1_l2_weights(alpha, p, l1_ratio=l1_ratio)
    penalty = L1(alpha=alpha) if l1_ratio == 1.0 else ElasticNet(alpha=alpha, l1_ratio=l1_ratio)
    ours = SparseGLM(Quadratic(), penalty, solver=solver, fit_intercept=fit_intercept,
                     tol=TOL, max_iter=1000).fit(X, y)
    ref = quiet(lambda: SkElasticNet(alpha=alpha, l1_ratio=l1_ratio, fit_intercept=fit_intercept,
                                     tol=1e-14, max_iter=1_000_000).fit(X, y))
    common = dict(loss="quadratic", a=a, b=b, fit_intercept=fit_intercept)
    assert_certified(f"sksafe solver={solver}", X, y, ours.coef_, ours.intercept_, **common)
    assert_certified("scikit-learn", X, y, ref.coef_, ref.intercept_, **common)
    assert_nontrivial(ref.coef_)
    assert_coef_agree(ours.coef_, ref.coef_, f"scikit-learn (sksafe solver={solver})")
    if fit_intercept:
        assert_intercept_agree(ours.intercept_, ref.intercept_, ref.coef_, "scikit-learn")


@pytest.mark.parametrize("solver", ["prox_newton", "fista"])
@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "csc"])
@pytest.mark.parametrize("fit_intercept", [True, False], ids=["intercept", "no_intercept"])
@pytest.mark.parametrize("l1_ratio", [1.0, 0.5], ids=["l1", "enet"])
def test_logistic_solvers_vs_reference(solver, sparse, fit_intercept, l1_ratio):
    X, y = make_classification_data(n=60, p=40, seed=2)
    if sparse:
        X = sp.csc_matrix(np.where(np.abs(X) > 0.6, X, 0.0))
    p = X.shape[1]
    alpha = alpha_max_numpy(X, y, loss="logistic", fit_intercept=fit_intercept,
                            l1_ratio=l1_ratio) / 5
    a, b = l1_l2_weights(alpha, p, l1_ratio=l1_ratio)
    penalty = L1(alpha=alpha) if l1_ratio == 1.0 else ElasticNet(alpha=alpha, l1_ratio=l1_ratio)
    ours = SparseGLM(Logistic(), penalty, solver=solver, fit_intercept=fit_intercept,
                     tol=TOL, max_iter=1000).fit(X, y)
    ref_coef, ref_intercept = logistic_reference(X, y, alpha, l1_ratio,
                                                 fit_intercept=fit_intercept)
    common = dict(loss="logistic", a=a, b=b, fit_intercept=fit_intercept)
    assert_certified(f"sksafe solver={solver}", X, y, ours.coef_, ours.intercept_, **common)
    assert_certified("logistic_reference", X, y, ref_coef, ref_intercept, **common)
    assert_nontrivial(ref_coef)
    assert_coef_agree(ours.coef_, ref_coef, f"logistic_reference (sksafe solver={solver})")
    if fit_intercept:
        assert_intercept_agree(ours.intercept_, ref_intercept, ref_coef, "logistic_reference")
    np.testing.assert_array_equal(ours.predict(X), np.where(
        (X @ ref_coef + ref_intercept) > 0, 1.0, -1.0))


# ---------------------------------------------------------------------------------------------
# logistic regression vs scikit-learn and the scipy reference
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "csc"])
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "sample_weight"])
@pytest.mark.parametrize("l1_ratio, sk_solver", [(1.0, "liblinear"), (1.0, "saga"),
                                                 (0.5, "saga")],
                         ids=["l1-liblinear", "l1-saga", "enet-saga"])
def test_logistic_no_intercept_vs_sklearn(sparse, weighted, l1_ratio, sk_solver):
    X, y = make_classification_data(n=60, p=30, seed=0)
    if sparse:
        X = sp.csr_matrix(np.where(np.abs(X) > 0.5, X, 0.0))
    n, p = X.shape
    sw = sample_weights(n, with_zero=False) if weighted else None
    alpha = alpha_max_numpy(X, y, loss="logistic", sample_weight=sw, fit_intercept=False,
                            l1_ratio=l1_ratio) / 5
    a, b = l1_l2_weights(alpha, p, l1_ratio=l1_ratio)
    total = n if sw is None else sw.sum()
    ours = SafeScreeningLogisticRegression(alpha=alpha, l1_ratio=l1_ratio, fit_intercept=False,
                                           tol=TOL).fit(X, y, sample_weight=sw)
    ref = quiet(lambda: LogisticRegression(
        **lr_kwargs(l1_ratio), C=1.0 / (total * alpha), solver=sk_solver, fit_intercept=False,
        tol=1e-15, max_iter=100_000).fit(X, y, sample_weight=sw))
    common = dict(loss="logistic", a=a, b=b, sample_weight=sw, fit_intercept=False)
    assert_certified("sksafe", X, y, ours.coef_, 0.0, **common)
    assert_certified(f"scikit-learn {sk_solver}", X, y, ref.coef_, 0.0, **common)
    assert_nontrivial(ref.coef_)
    assert_coef_agree(ours.coef_, ref.coef_, f"scikit-learn {sk_solver}")
    np.testing.assert_array_equal(ours.intercept_, [0.0])


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "sample_weight"])
@pytest.mark.parametrize("l1_ratio", [1.0, 0.5], ids=["l1", "enet"])
def test_logistic_intercept_vs_reference_and_saga(weighted, l1_ratio):
    """With an intercept: liblinear penalises it, saga and the scipy reference do not."""
    X, y = make_classification_data(n=80, p=30, seed=4)
    y = np.where(y > 0, 1, 0)  # any label encoding: sksafe maps the larger class to +1
    signs = signs_of(y)
    n, p = X.shape
    sw = sample_weights(n, with_zero=False) if weighted else None
    alpha = alpha_max_numpy(X, signs, loss="logistic", sample_weight=sw,
                            l1_ratio=l1_ratio) / 5
    a, b = l1_l2_weights(alpha, p, l1_ratio=l1_ratio)
    total = n if sw is None else sw.sum()
    ours = SafeScreeningLogisticRegression(alpha=alpha, l1_ratio=l1_ratio,
                                           tol=TOL).fit(X, y, sample_weight=sw)
    common = dict(loss="logistic", a=a, b=b, sample_weight=sw, fit_intercept=True)
    assert_certified("sksafe", X, signs, ours.coef_, ours.intercept_, **common)

    ref_coef, ref_b = logistic_reference(X, signs, alpha, l1_ratio, sample_weight=sw)
    assert_certified("logistic_reference", X, signs, ref_coef, ref_b, **common)
    assert_nontrivial(ref_coef)
    assert_coef_agree(ours.coef_, ref_coef, "logistic_reference")
    assert_intercept_agree(ours.intercept_, ref_b, ref_coef, "logistic_reference")

    saga = quiet(lambda: LogisticRegression(
        **lr_kwargs(l1_ratio), C=1.0 / (total * alpha), solver="saga", tol=1e-15,
        max_iter=100_000).fit(X, y, sample_weight=sw))
    assert_certified("scikit-learn saga", X, signs, saga.coef_, saga.intercept_, **common)
    assert_coef_agree(ours.coef_, saga.coef_, "scikit-learn saga")
    assert_intercept_agree(ours.intercept_, saga.intercept_, saga.coef_, "scikit-learn saga")
    np.testing.assert_allclose(ours.predict_proba(X), saga.predict_proba(X), rtol=0,
                               atol=1e-6)


@pytest.mark.parametrize("class_weight", ["balanced", {-1: 1.0, 1: 3.0}],
                         ids=["balanced", "dict"])
def test_logistic_class_weight_vs_saga(class_weight):
    """``class_weight`` multiplies the sample weights: alpha = 1 / (C sum_i cw_i)."""
    X, y = make_classification_data(n=70, p=20, seed=16)
    n, p = X.shape
    from sklearn.utils.class_weight import compute_sample_weight
    cw = compute_sample_weight(class_weight, y)
    alpha = alpha_max_numpy(X, y, loss="logistic", sample_weight=cw) / 5
    a, b = l1_l2_weights(alpha, p)
    ours = SafeScreeningLogisticRegression(alpha=alpha, class_weight=class_weight,
                                           tol=TOL).fit(X, y)
    saga = quiet(lambda: LogisticRegression(
        **lr_kwargs(1.0), C=1.0 / (cw.sum() * alpha), class_weight=class_weight,
        solver="saga", tol=1e-15, max_iter=100_000).fit(X, y))
    common = dict(loss="logistic", a=a, b=b, sample_weight=cw)
    assert_certified("sksafe", X, y, ours.coef_, ours.intercept_, **common)
    assert_certified("scikit-learn saga", X, y, saga.coef_, saga.intercept_, **common)
    assert_nontrivial(saga.coef_)
    assert_coef_agree(ours.coef_, saga.coef_, "scikit-learn saga")
    assert_intercept_agree(ours.intercept_, saga.intercept_, saga.coef_, "scikit-learn saga")
    unweighted = SafeScreeningLogisticRegression(alpha=alpha, tol=TOL).fit(X, y)
    assert not np.allclose(unweighted.coef_, ours.coef_, rtol=1e-3)  # the weights matter


def test_logistic_multiclass_is_one_vs_rest():
    """Each row of ``coef_`` is the binary fit of one class against the rest."""
    from sklearn.multiclass import OneVsRestClassifier

    rng = np.random.default_rng(17)
    n, p = 90, 15
    X = rng.standard_normal((n, p))
    y = np.argmax(X[:, :3] * [2.0, 1.5, 1.0] + 0.7 * rng.standard_normal((n, 3)), axis=1)
    alpha = 0.02
    ours = SafeScreeningLogisticRegression(alpha=alpha, tol=TOL).fit(X, y)
    assert ours.coef_.shape == (3, p) and ours.intercept_.shape == (3,)
    ovr = quiet(lambda: OneVsRestClassifier(LogisticRegression(
        **lr_kwargs(1.0), C=1.0 / (n * alpha), solver="saga", tol=1e-15,
        max_iter=100_000)).fit(X, y))
    a, b = l1_l2_weights(alpha, p)
    for k, estimator in enumerate(ovr.estimators_):
        signs = np.where(y == k, 1.0, -1.0)
        assert_certified(f"sksafe class {k}", X, signs, ours.coef_[k], ours.intercept_[k],
                         loss="logistic", a=a, b=b)
        assert_certified(f"saga class {k}", X, signs, estimator.coef_, estimator.intercept_,
                         loss="logistic", a=a, b=b)
        assert_nontrivial(estimator.coef_)
        assert_coef_agree(ours.coef_[k], estimator.coef_, f"one-vs-rest saga, class {k}")
        assert_intercept_agree(ours.intercept_[k], estimator.intercept_, estimator.coef_,
                               f"one-vs-rest saga, class {k}")
    assert ours.dual_gap_.shape == (3,) and np.all(ours.dual_gap_ <= CERTIFIED)


# ---------------------------------------------------------------------------------------------
# skglm
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("fit_intercept", [True, False], ids=["intercept", "no_intercept"])
@pytest.mark.parametrize("l1_ratio", [1.0, 0.7], ids=["lasso", "enet"])
def test_quadratic_vs_skglm(fit_intercept, l1_ratio):
    skglm = pytest.importorskip("skglm")
    X, y = make_regression_data(n=40, p=70, seed=6, correlated=True)
    p = X.shape[1]
    alpha = alpha_max_numpy(X, y, loss="quadratic", fit_intercept=fit_intercept,
                            l1_ratio=l1_ratio) / 10
    a, b = l1_l2_weights(alpha, p, l1_ratio=l1_ratio)
    if l1_ratio == 1.0:
        ours = SafeScreeningLasso(alpha=alpha, fit_intercept=fit_intercept, tol=TOL)
        ref = skglm.Lasso(alpha=alpha, fit_intercept=fit_intercept, tol=1e-14, max_iter=1000)
    else:
        ours = SafeScreeningElasticNet(alpha=alpha, l1_ratio=l1_ratio,
                                       fit_intercept=fit_intercept, tol=TOL)
        ref = skglm.ElasticNet(alpha=alpha, l1_ratio=l1_ratio, fit_intercept=fit_intercept,
                               tol=1e-14, max_iter=1000)
    ours.fit(X, y)
    quiet(lambda: ref.fit(X, y))
    assert_same_solution(X, y, ours, ref.coef_, ref.intercept_, "skglm",
                         fit_intercept=fit_intercept, loss="quadratic", a=a, b=b)


@pytest.mark.parametrize("fit_intercept", [True, False], ids=["intercept", "no_intercept"])
@pytest.mark.parametrize("l1_ratio", [1.0, 0.5], ids=["l1", "enet"])
def test_logistic_vs_skglm(fit_intercept, l1_ratio):
    skglm = pytest.importorskip("skglm")
    X, y = make_classification_data(n=60, p=50, seed=7)
    p = X.shape[1]
    alpha = alpha_max_numpy(X, y, loss="logistic", fit_intercept=fit_intercept,
                            l1_ratio=l1_ratio) / 5
    a, b = l1_l2_weights(alpha, p, l1_ratio=l1_ratio)
    ours = SafeScreeningLogisticRegression(alpha=alpha, l1_ratio=l1_ratio,
                                           fit_intercept=fit_intercept, tol=TOL).fit(X, y)
    ref = quiet(lambda: skglm.SparseLogisticRegression(
        alpha=alpha, l1_ratio=l1_ratio, fit_intercept=fit_intercept, tol=1e-14,
        max_iter=1000).fit(X, y))
    assert_same_solution(X, y, ours, ref.coef_, ref.intercept_, "skglm",
                         fit_intercept=fit_intercept, loss="logistic", a=a, b=b)


def huber_data(seed=10):
    """Regression data whose residuals fall in both zones of the Huber loss."""
    X, y = make_regression_data(n=60, p=40, seed=seed, correlated=True)
    y = y.copy()
    y[::7] += 12 * HUBER_DELTA  # gross outliers
    return X, y


@pytest.mark.parametrize("fit_intercept", [True, False], ids=["intercept", "no_intercept"])
@pytest.mark.parametrize("l1_ratio", [1.0, 0.6], ids=["l1", "enet"])
def test_huber_vs_skglm(fit_intercept, l1_ratio):
    skglm = pytest.importorskip("skglm")
    from skglm.datafits import Huber as SkglmHuber
    from skglm.penalties import L1 as SkglmL1
    from skglm.penalties import L1_plus_L2 as SkglmL1L2
    from skglm.solvers import AndersonCD
    X, y = huber_data()
    p = X.shape[1]
    alpha = alpha_max_numpy(X, y, loss="huber", fit_intercept=fit_intercept,
                            l1_ratio=l1_ratio) / 10
    a, b = l1_l2_weights(alpha, p, l1_ratio=l1_ratio)
    ours = SparseHuberRegressor(alpha=alpha, delta=HUBER_DELTA, l1_ratio=l1_ratio,
                                fit_intercept=fit_intercept, tol=TOL).fit(X, y)
    penalty = SkglmL1(alpha) if l1_ratio == 1.0 else SkglmL1L2(alpha, l1_ratio)
    ref = quiet(lambda: skglm.GeneralizedLinearEstimator(
        SkglmHuber(HUBER_DELTA), penalty,
        AndersonCD(tol=1e-14, max_iter=1000, fit_intercept=fit_intercept)).fit(X, y))
    assert_same_solution(X, y, ours, ref.coef_, ref.intercept_, "skglm",
                         fit_intercept=fit_intercept, loss="huber", a=a, b=b)


@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "csc"])
def test_huber_with_a_large_threshold_is_the_lasso(sparse):
    """No residual beyond ``delta``: the Huber fit is scikit-learn's Lasso."""
    X, y = regression_problem((40, 70), sparse, seed=11)
    alpha = alpha_max_numpy(X, y, loss="quadratic") / 10
    ours = SparseHuberRegressor(alpha=alpha, delta=1e6, tol=TOL).fit(X, y)
    ref = quiet(lambda: SkLasso(alpha=alpha, tol=1e-14, max_iter=100_000).fit(X, y))
    assert_same_solution(X, y, ours, ref.coef_, ref.intercept_, "sklearn Lasso",
                         fit_intercept=True, loss="quadratic", a=l1_l2_weights(alpha, 70)[0],
                         b=np.zeros(70))


# ---------------------------------------------------------------------------------------------
# celer
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "csc"])
@pytest.mark.parametrize("fit_intercept", [True, False], ids=["intercept", "no_intercept"])
@pytest.mark.parametrize("positive", [False, True], ids=["signed", "positive"])
@pytest.mark.parametrize("l1_ratio", [1.0, 0.6], ids=["lasso", "enet"])
def test_quadratic_vs_celer(sparse, fit_intercept, positive, l1_ratio):
    celer = pytest.importorskip("celer")
    X, y = regression_problem((40, 70), sparse, seed=8)
    p = X.shape[1]
    alpha = alpha_max_numpy(X, y, loss="quadratic", fit_intercept=fit_intercept,
                            positive=positive, l1_ratio=l1_ratio) / 10
    a, b = l1_l2_weights(alpha, p, l1_ratio=l1_ratio)
    if l1_ratio == 1.0:
        ours = SafeScreeningLasso(alpha=alpha, fit_intercept=fit_intercept, positive=positive,
                                  tol=TOL)
        ref = celer.Lasso(alpha=alpha, fit_intercept=fit_intercept, positive=positive,
                          tol=1e-14, max_iter=1000)
    else:
        ours = SafeScreeningElasticNet(alpha=alpha, l1_ratio=l1_ratio,
                                       fit_intercept=fit_intercept, positive=positive, tol=TOL)
        ref = celer.ElasticNet(alpha=alpha, l1_ratio=l1_ratio, fit_intercept=fit_intercept,
                               positive=positive, tol=1e-14, max_iter=1000)
    ours.fit(X, y)
    quiet(lambda: ref.fit(X, y))
    assert_same_solution(X, y, ours, ref.coef_, ref.intercept_, "celer",
                         fit_intercept=fit_intercept, loss="quadratic", a=a, b=b,
                         positive=positive)


@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "csc"])
def test_logistic_vs_celer(sparse):
    celer = pytest.importorskip("celer")
    X, y = make_classification_data(n=60, p=50, seed=9)
    if sparse:
        X = sp.csc_matrix(np.where(np.abs(X) > 0.5, X, 0.0))
    n, p = X.shape
    alpha = alpha_max_numpy(X, y, loss="logistic", fit_intercept=False) / 5
    a, b = l1_l2_weights(alpha, p)
    ours = SafeScreeningLogisticRegression(alpha=alpha, fit_intercept=False, tol=TOL).fit(X, y)
    ref = quiet(lambda: celer.LogisticRegression(C=1.0 / (n * alpha), tol=1e-14,
                                                 max_iter=1000).fit(X, y))
    common = dict(loss="logistic", a=a, b=b, fit_intercept=False)
    assert_certified("sksafe", X, y, ours.coef_, 0.0, **common)
    assert_certified("celer", X, y, ref.coef_, 0.0, **common)
    assert_nontrivial(ref.coef_)
    assert_coef_agree(ours.coef_, ref.coef_, "celer")


# ---------------------------------------------------------------------------------------------
# WeightedL1
# ---------------------------------------------------------------------------------------------
def _feature_weights(p, seed, zeros):
    w = np.random.default_rng(seed).uniform(0.3, 3.0, size=p)
    if zeros:
        w[[1, 4, 7]] = 0.0
    return w


@pytest.mark.parametrize("solver", ["cd", "prox_newton", "fista"])
@pytest.mark.parametrize("fit_intercept", [True, False], ids=["intercept", "no_intercept"])
@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "csc"])
def test_weighted_l1_positive_weights_vs_rescaled_lasso(solver, fit_intercept, sparse):
    """``alpha sum_j w_j |b_j|`` is a Lasso on the columns ``X_j / w_j`` (``b_j = c_j / w_j``)."""
    X, y = regression_problem((40, 50), sparse, seed=10)
    p = X.shape[1]
    weights = _feature_weights(p, 0, zeros=False)
    rescaled = X @ sp.diags(1.0 / weights) if sparse else X / weights
    rescaled = sp.csc_matrix(rescaled) if sparse else rescaled
    alpha = alpha_max_numpy(rescaled, y, loss="quadratic", fit_intercept=fit_intercept) / 10
    ours = SparseGLM(Quadratic(), WeightedL1(alpha=alpha, weights=weights), solver=solver,
                     fit_intercept=fit_intercept, tol=TOL, max_iter=1000).fit(X, y)
    lasso = quiet(lambda: SkLasso(alpha=alpha, fit_intercept=fit_intercept, tol=1e-14,
                                  max_iter=1_000_000).fit(rescaled, y))
    a, b = l1_l2_weights(alpha, p, weights=weights)
    common = dict(loss="quadratic", a=a, b=b, fit_intercept=fit_intercept)
    ref_coef = lasso.coef_ / weights
    assert_certified("sksafe", X, y, ours.coef_, ours.intercept_, **common)
    assert_certified("rescaled scikit-learn Lasso", X, y, ref_coef, lasso.intercept_, **common)
    assert_nontrivial(ref_coef)
    assert_coef_agree(ours.coef_, ref_coef, "rescaled scikit-learn Lasso")
    if fit_intercept:
        assert_intercept_agree(ours.intercept_, lasso.intercept_, ref_coef, "scikit-learn")


def test_weighted_l1_positive_weights_vs_celer():
    celer = pytest.importorskip("celer")
    X, y = make_regression_data(n=40, p=50, seed=11)
    weights = _feature_weights(50, 1, zeros=False)
    alpha = alpha_max_numpy(X / weights, y, loss="quadratic") / 10
    ours = SparseGLM(Quadratic(), WeightedL1(alpha=alpha, weights=weights), tol=TOL).fit(X, y)
    ref = quiet(lambda: celer.Lasso(alpha=alpha, weights=weights, tol=1e-14,
                                    max_iter=1000).fit(X, y))
    a, b = l1_l2_weights(alpha, 50, weights=weights)
    assert_certified("sksafe", X, y, ours.coef_, ours.intercept_, loss="quadratic", a=a, b=b)
    assert_certified("celer", X, y, ref.coef_, ref.intercept_, loss="quadratic", a=a, b=b)
    assert_nontrivial(ref.coef_)
    assert_coef_agree(ours.coef_, ref.coef_, "celer weighted Lasso")


def _partialled_out_lasso(X, y, weights, alpha, fit_intercept):
    """Weighted Lasso with unpenalised columns, by the Frisch-Waugh-Lovell theorem.

    With ``U`` the unpenalised columns (and the constant if ``fit_intercept``) and ``M``
    the projection onto the orthogonal complement of their span, the penalised
    coefficients solve the Lasso of ``M y`` on ``M X_pen / w_pen`` (no intercept), and the
    unpenalised ones are the least-squares fit of ``y - X_pen c`` on ``U``.
    """
    n = X.shape[0]
    free = weights == 0
    U = X[:, free]
    if fit_intercept:
        U = np.column_stack([np.ones(n), U])
    Q, _ = np.linalg.qr(U)

    def resid(M):
        return M - Q @ (Q.T @ M)

    pen = ~free
    Z = resid(X[:, pen] / weights[pen])
    lasso = quiet(lambda: SkLasso(alpha=alpha, fit_intercept=False, tol=1e-14,
                                  max_iter=1_000_000).fit(Z, resid(y)))
    coef = np.zeros(X.shape[1])
    coef[pen] = lasso.coef_ / weights[pen]
    sol = np.linalg.lstsq(U, y - X[:, pen] @ coef[pen], rcond=None)[0]
    if fit_intercept:
        intercept, coef[free] = sol[0], sol[1:]
    else:
        intercept, coef[free] = 0.0, sol
    return coef, intercept


def _partialled_out_alpha_max(X, y, weights, fit_intercept):
    free = weights == 0
    U = X[:, free]
    if fit_intercept:
        U = np.column_stack([np.ones(X.shape[0]), U])
    Q, _ = np.linalg.qr(U)
    r = y - Q @ (Q.T @ y)
    return float(np.max(np.abs(X[:, ~free].T @ r) / weights[~free]) / X.shape[0])


def _zero_weight_problem(case):
    if case == "few_free":
        X, y = make_regression_data(n=50, p=40, seed=12, correlated=True)
        return X, y, _feature_weights(40, 2, zeros=True)
    # n = p = 29, correlated, 9 unpenalised columns (made FISTA screen active features)
    rng = np.random.default_rng(24)
    n, p = int(rng.integers(10, 60)), int(rng.integers(5, 80))
    X, y = make_regression_data(n=n, p=p, seed=24, correlated=True)
    weights = rng.uniform(0.3, 3.0, size=p)
    weights[rng.choice(p, size=int(rng.integers(1, max(2, min(n // 2, p)))), replace=False)] = 0
    return X, y, weights


@pytest.mark.parametrize("solver", ["cd", "prox_newton", "fista"])
@pytest.mark.parametrize("fit_intercept", [True, False], ids=["intercept", "no_intercept"])
@pytest.mark.parametrize("case", ["few_free", "many_free"])
def test_weighted_l1_zero_weights_quadratic_vs_partialled_out_lasso(solver, fit_intercept, case):
    X, y, weights = _zero_weight_problem(case)
    p = X.shape[1]
    alpha = _partialled_out_alpha_max(X, y, weights, fit_intercept) / 10
    if case == "many_free":
        alpha = 0.1
    ref_coef, ref_b = _partialled_out_lasso(X, y, weights, alpha, fit_intercept)
    a, b = l1_l2_weights(alpha, p, weights=weights)
    common = dict(loss="quadratic", a=a, b=b, fit_intercept=fit_intercept)
    assert_certified("partialled-out scikit-learn Lasso", X, y, ref_coef, ref_b, **common)
    assert np.count_nonzero(ref_coef[weights > 0]) >= 2
    result = solve(X, y, Quadratic(), WeightedL1(alpha=alpha, weights=weights),
                   fit_intercept=fit_intercept, tol=TOL, solver=solver, max_iter=1000)
    assert result.converged
    assert result.relative_gap <= CERTIFIED
    assert all(rec["gap"] >= -1e-12 * result.primal_zero for rec in result.history), (
        "negative duality gap in the solver's history: the dual point was infeasible")
    assert_certified(f"sksafe solver={solver}", X, y, result.coef, result.intercept, **common)
    assert_coef_agree(result.coef, ref_coef, "partialled-out scikit-learn Lasso")
    if fit_intercept:
        assert_intercept_agree(result.intercept, ref_b, ref_coef, "partialled-out Lasso")
    # the unpenalised coefficients are free: none is zero here
    assert np.all(result.coef[weights == 0] != 0)


@pytest.mark.parametrize("fit_intercept", [True, False], ids=["intercept", "no_intercept"])
def test_weighted_l1_zero_weights_quadratic_vs_skglm(fit_intercept):
    pytest.importorskip("skglm")
    from skglm import GeneralizedLinearEstimator
    from skglm.datafits import Quadratic as SkglmQuadratic
    from skglm.penalties import WeightedL1 as SkglmWeightedL1
    from skglm.solvers import AndersonCD

    X, y = make_regression_data(n=50, p=40, seed=13)
    p = X.shape[1]
    weights = _feature_weights(p, 3, zeros=True)
    alpha = _partialled_out_alpha_max(X, y, weights, fit_intercept) / 10
    ours = SparseGLM(Quadratic(), WeightedL1(alpha=alpha, weights=weights),
                     fit_intercept=fit_intercept, tol=TOL).fit(X, y)
    ref = quiet(lambda: GeneralizedLinearEstimator(
        SkglmQuadratic(), SkglmWeightedL1(alpha, weights),
        AndersonCD(tol=1e-14, max_iter=1000, fit_intercept=fit_intercept)).fit(X, y))
    a, b = l1_l2_weights(alpha, p, weights=weights)
    common = dict(loss="quadratic", a=a, b=b, fit_intercept=fit_intercept)
    assert_certified("sksafe", X, y, ours.coef_, ours.intercept_, **common)
    assert_certified("skglm", X, y, ref.coef_, ref.intercept_, **common)
    assert_nontrivial(ref.coef_)
    assert_coef_agree(ours.coef_, ref.coef_, "skglm WeightedL1")


@pytest.mark.parametrize("solver", ["prox_newton", "fista"])
def test_weighted_l1_positive_weights_logistic_vs_rescaled_reference(solver):
    X, y = make_classification_data(n=60, p=30, seed=14)
    weights = _feature_weights(30, 4, zeros=False)
    rescaled = X / weights
    alpha = alpha_max_numpy(rescaled, y, loss="logistic") / 5
    ref, ref_b = logistic_reference(rescaled, y, alpha)
    ref_coef = ref / weights
    ours = SparseGLM(Logistic(), WeightedL1(alpha=alpha, weights=weights), solver=solver,
                     tol=TOL).fit(X, y)
    a, b = l1_l2_weights(alpha, 30, weights=weights)
    common = dict(loss="logistic", a=a, b=b)
    assert_certified("sksafe", X, y, ours.coef_, ours.intercept_, **common)
    assert_certified("rescaled logistic_reference", X, y, ref_coef, ref_b, **common)
    assert_nontrivial(ref_coef)
    assert_coef_agree(ours.coef_, ref_coef, "rescaled logistic_reference")
    assert_intercept_agree(ours.intercept_, ref_b, ref_coef, "rescaled logistic_reference")


@pytest.mark.parametrize("solver", ["prox_newton", "fista"])
def test_weighted_l1_zero_weights_logistic_vs_skglm(solver):
    pytest.importorskip("skglm")
    from skglm import GeneralizedLinearEstimator
    from skglm.datafits import Logistic as SkglmLogistic
    from skglm.penalties import WeightedL1 as SkglmWeightedL1
    from skglm.solvers import ProxNewton

    X, y = make_classification_data(n=80, p=30, seed=15)
    weights = _feature_weights(30, 5, zeros=True)
    alpha = alpha_max_numpy(X[:, weights > 0] / weights[weights > 0], y, loss="logistic",
                            fit_intercept=False) / 4
    ours = SparseGLM(Logistic(), WeightedL1(alpha=alpha, weights=weights), solver=solver,
                     fit_intercept=False, tol=TOL, max_iter=1000).fit(X, y)
    ref = quiet(lambda: GeneralizedLinearEstimator(
        SkglmLogistic(), SkglmWeightedL1(alpha, weights),
        ProxNewton(tol=1e-14, max_iter=1000, fit_intercept=False)).fit(X, y))
    a, b = l1_l2_weights(alpha, 30, weights=weights)
    common = dict(loss="logistic", a=a, b=b, fit_intercept=False)
    assert_certified("sksafe", X, y, ours.coef_, 0.0, **common)
    assert_certified("skglm", X, y, ref.coef_, 0.0, **common)
    assert_nontrivial(np.ravel(ref.coef_)[weights > 0])
    assert_coef_agree(ours.coef_, ref.coef_, "skglm WeightedL1 logistic")


# ---------------------------------------------------------------------------------------------
# real data: the Golub leukemia microarray (72 x 7129), standardised
# ---------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def leukemia():
    X, y = load_leukemia(return_X_y=True)
    return StandardScaler().fit_transform(X), y


def test_leukemia_logistic_no_intercept_vs_liblinear_and_celer(leukemia):
    X, y01 = leukemia
    y = signs_of(y01 - 0.5)
    n, p = X.shape
    alpha = alpha_max_numpy(X, y, loss="logistic", fit_intercept=False) / 10
    a, b = l1_l2_weights(alpha, p)
    ours = SafeScreeningLogisticRegression(alpha=alpha, fit_intercept=False, tol=TOL).fit(X, y01)
    common = dict(loss="logistic", a=a, b=b, fit_intercept=False)
    assert_certified("sksafe", X, y, ours.coef_, 0.0, **common)
    assert ours.n_screened_ > p // 2  # screening did its job on p >> n
    lib = quiet(lambda: LogisticRegression(**lr_kwargs(1.0), C=1.0 / (n * alpha),
                                           solver="liblinear", fit_intercept=False, tol=1e-15,
                                           max_iter=100_000).fit(X, y01))
    assert_certified("liblinear", X, y, lib.coef_, 0.0, **common)
    assert_nontrivial(lib.coef_, min_nnz=5)
    assert_coef_agree(ours.coef_, lib.coef_, "liblinear")
    celer = pytest.importorskip("celer")
    ref = quiet(lambda: celer.LogisticRegression(C=1.0 / (n * alpha), tol=1e-14,
                                                 max_iter=1000).fit(X, y01))
    assert_certified("celer", X, y, ref.coef_, 0.0, **common)
    assert_coef_agree(ours.coef_, ref.coef_, "celer")


def test_leukemia_logistic_intercept_vs_skglm(leukemia):
    """With an (unpenalised) intercept; saga and the L-BFGS reference are too slow at p = 7129."""
    skglm = pytest.importorskip("skglm")
    X, y01 = leukemia
    y = signs_of(y01 - 0.5)
    p = X.shape[1]
    alpha = alpha_max_numpy(X, y, loss="logistic") / 10
    a, b = l1_l2_weights(alpha, p)
    ours = SafeScreeningLogisticRegression(alpha=alpha, tol=TOL).fit(X, y01)
    ref = quiet(lambda: skglm.SparseLogisticRegression(alpha=alpha, tol=1e-14,
                                                       max_iter=1000).fit(X, y))
    common = dict(loss="logistic", a=a, b=b)
    assert_certified("sksafe", X, y, ours.coef_, ours.intercept_, **common)
    assert_certified("skglm", X, y, ref.coef_, ref.intercept_, **common)
    assert_nontrivial(ref.coef_, min_nnz=5)
    assert_coef_agree(ours.coef_, ref.coef_, "skglm")
    assert_intercept_agree(ours.intercept_, ref.intercept_, ref.coef_, "skglm")


def test_leukemia_lasso_vs_sklearn_and_celer(leukemia):
    X, y01 = leukemia
    y = y01.astype(np.float64)
    p = X.shape[1]
    alpha = alpha_max_numpy(X, y, loss="quadratic") / 10
    a, b = l1_l2_weights(alpha, p)
    ours = SafeScreeningLasso(alpha=alpha, tol=TOL).fit(X, y)
    common = dict(loss="quadratic", a=a, b=b)
    assert_certified("sksafe", X, y, ours.coef_, ours.intercept_, **common)
    ref = quiet(lambda: SkLasso(alpha=alpha, tol=1e-14, max_iter=1_000_000).fit(X, y))
    assert_certified("scikit-learn", X, y, ref.coef_, ref.intercept_, **common)
    assert_nontrivial(ref.coef_, min_nnz=5)
    assert_coef_agree(ours.coef_, ref.coef_, "scikit-learn")
    assert_intercept_agree(ours.intercept_, ref.intercept_, ref.coef_, "scikit-learn")
    celer = pytest.importorskip("celer")
    cel = quiet(lambda: celer.Lasso(alpha=alpha, tol=1e-14, max_iter=1000).fit(X, y))
    assert_certified("celer", X, y, cel.coef_, cel.intercept_, **common)
    assert_coef_agree(ours.coef_, cel.coef_, "celer")
