"""Cross-validated estimators: the same choices and scores as scikit-learn, and the API.

Given the same folds and the same grid, ``SafeScreeningLassoCV`` / ``ElasticNetCV``
choose the same alpha (and l1_ratio) as scikit-learn's ``LassoCV`` / ``ElasticNetCV``
with the same held-out errors, and ``SafeScreeningLogisticRegressionCV`` the same
model as ``LogisticRegressionCV`` (on equal-sized training folds, ``C = 1 / (n_train
alpha)``, no intercept because liblinear penalises it) with the same accuracy,
log-loss and ROC AUC. The closed-form fold scores also equal scikit-learn's metrics
on independent single fits, with an intercept and for multiclass problems.
"""
import warnings

import joblib
import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.base import clone
from sklearn.linear_model import ElasticNetCV, LassoCV, LogisticRegressionCV
from sklearn.metrics import accuracy_score, log_loss, roc_auc_score
from sklearn.model_selection import GridSearchCV, GroupKFold, KFold, StratifiedKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

from conftest import make_classification_data, make_regression_data
from sksafe import (SafeScreeningElasticNetCV, SafeScreeningLasso, SafeScreeningLassoCV,
                    SafeScreeningLogisticRegression, SafeScreeningLogisticRegressionCV,
                    SparseGLMCV, StabilitySelection)
from sksafe.datafits import Huber, Logistic, Poisson
from sksafe.penalties import L1, ElasticNet

TIGHT = {"tol": 1e-12, "max_iter": 1000}


def _regression(sparse=False, n=60, p=40):
    X, y = make_regression_data(n=n, p=p, seed=7, correlated=True, noise=2.0)
    if sparse:
        X = sp.csr_matrix(np.where(np.abs(X) > 0.4, X, 0.0))
    return X, y


@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "sparse"])
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
def test_lasso_cv_matches_scikit_learn(sparse, weighted):
    X, y = _regression(sparse)
    weights = np.random.default_rng(0).uniform(0.5, 2.0, y.size) if weighted else None
    folds = list(KFold(5, shuffle=True, random_state=0).split(X))
    ours = SafeScreeningLassoCV(n_alphas=25, eps=1e-2, cv=folds, **TIGHT).fit(
        X, y, sample_weight=weights)
    theirs = LassoCV(alphas=25, eps=1e-2, cv=folds, tol=1e-14, max_iter=200_000).fit(
        X, y, sample_weight=weights)
    np.testing.assert_allclose(ours.alphas_, theirs.alphas_, rtol=1e-10)
    np.testing.assert_allclose(ours.mse_path_, theirs.mse_path_, rtol=1e-7)
    assert ours.alpha_ == pytest.approx(theirs.alpha_, rel=1e-12)  # grids equal to rounding
    np.testing.assert_allclose(ours.coef_, theirs.coef_, atol=1e-6)
    assert ours.intercept_ == pytest.approx(theirs.intercept_, abs=1e-6)
    assert np.all(ours.cv_dual_gaps_ <= 1e-12)
    assert ours.mse_path_.shape == (25, 5)


def test_elastic_net_cv_matches_scikit_learn():
    X, y = _regression()
    folds = list(KFold(4, shuffle=True, random_state=1).split(X))
    # the l2 part is weakly curved at small alphas: a gap of 1e-12 leaves ~1e-6 in the MSE
    ours = SafeScreeningElasticNetCV(l1_ratio=[0.2, 0.7], n_alphas=20, eps=1e-2, cv=folds,
                                     tol=1e-15, max_iter=1000).fit(X, y)
    theirs = ElasticNetCV(l1_ratio=[0.2, 0.7], alphas=20, eps=1e-2, cv=folds, tol=1e-14,
                          max_iter=200_000).fit(X, y)
    np.testing.assert_allclose(ours.alphas_, theirs.alphas_, rtol=1e-10)
    np.testing.assert_allclose(ours.mse_path_, theirs.mse_path_, rtol=1e-7)
    assert ours.alpha_ == pytest.approx(theirs.alpha_, rel=1e-12)
    assert ours.l1_ratio_ == theirs.l1_ratio_
    np.testing.assert_allclose(ours.coef_, theirs.coef_, atol=1e-6)


@pytest.mark.parametrize("scoring", ["accuracy", "neg_log_loss", "roc_auc"])
def test_logistic_cv_matches_scikit_learn(scoring):
    X, y = make_classification_data(n=60, p=20, seed=3)
    y = np.where(np.argsort(np.argsort(X[:, 0] + X[:, 1] + 0.8 * np.random.default_rng(
        0).standard_normal(60))) >= 30, 1, 0)  # 30 / 30: equal-sized training folds
    folds = list(StratifiedKFold(5, shuffle=True, random_state=0).split(X, y))
    n_train = folds[0][0].size
    assert all(train.size == n_train for train, _ in folds)
    ours = SafeScreeningLogisticRegressionCV(n_alphas=12, eps=1e-2, cv=folds, scoring=scoring,
                                             fit_intercept=False, **TIGHT).fit(X, y)
    theirs = LogisticRegressionCV(Cs=1.0 / (n_train * ours.alphas_), l1_ratios=(1.0,), cv=folds,
                                  solver="liblinear", fit_intercept=False, scoring=scoring,
                                  tol=1e-12, max_iter=100_000, use_legacy_attributes=False,
                                  random_state=0).fit(X, y)
    np.testing.assert_allclose(ours.scores_path_, theirs.scores_[:, 0, :].T, atol=1e-6)
    assert ours.alpha_ == pytest.approx(1.0 / (n_train * theirs.C_), rel=1e-12)


@pytest.mark.parametrize("scoring", ["accuracy", "neg_log_loss", "roc_auc"])
def test_logistic_fold_scores_equal_independent_fits(scoring):
    """The closed-form scores are scikit-learn's metrics on independent single fits."""
    X, y = make_classification_data(n=45, p=15, seed=4)
    folds = list(StratifiedKFold(3, shuffle=True, random_state=0).split(X, y))
    model = SafeScreeningLogisticRegressionCV(n_alphas=5, eps=0.05, cv=folds, scoring=scoring,
                                              **TIGHT).fit(X, y)
    metric = {"accuracy": lambda m, Xt, yt: accuracy_score(yt, m.predict(Xt)),
              "neg_log_loss": lambda m, Xt, yt: -log_loss(yt, m.predict_proba(Xt)),
              "roc_auc": lambda m, Xt, yt: roc_auc_score(yt, m.decision_function(Xt))}[scoring]
    for f, (train, test) in enumerate(folds):
        for k, alpha in enumerate(model.alphas_):
            single = SafeScreeningLogisticRegression(alpha=alpha, **TIGHT).fit(X[train], y[train])
            assert model.scores_path_[k, f] == pytest.approx(
                metric(single, X[test], y[test]), abs=1e-7)


def test_multiclass_logistic_cv_scores_and_generic_scorer():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((60, 12))
    y = np.array(["a", "b", "c"])[np.argmax(X[:, :3] + 0.5 * rng.standard_normal((60, 3)), 1)]
    folds = list(StratifiedKFold(3, shuffle=True, random_state=0).split(X, y))
    fast = SafeScreeningLogisticRegressionCV(n_alphas=4, eps=0.1, cv=folds, **TIGHT).fit(X, y)
    generic = SafeScreeningLogisticRegressionCV(
        n_alphas=4, eps=0.1, cv=folds, scoring=lambda est, Xt, yt: -log_loss(
            yt, est.predict_proba(Xt), labels=est.classes_), **TIGHT).fit(X, y)
    np.testing.assert_allclose(fast.scores_path_, generic.scores_path_, atol=1e-9)
    assert fast.coef_.shape == (3, 12) and list(fast.classes_) == ["a", "b", "c"]
    assert fast.predict(X).shape == (60,)
    with pytest.raises(ValueError, match="binary"):
        SafeScreeningLogisticRegressionCV(n_alphas=3, scoring="roc_auc", cv=3).fit(X, y)


def test_one_standard_error_rule():
    X, y = _regression(n=60, p=80)
    folds = list(KFold(5, shuffle=True, random_state=0).split(X))
    best = SafeScreeningLassoCV(n_alphas=30, eps=1e-2, cv=folds, tol=1e-10).fit(X, y)
    sparse_model = clone(best).set_params(alpha_rule="1se").fit(X, y)
    mean = best.mse_path_.mean(axis=1)
    se = best.mse_path_.std(axis=1, ddof=1) / np.sqrt(5)
    k_min = int(np.argmin(mean))
    k_1se = int(np.flatnonzero(mean <= mean[k_min] + se[k_min])[0])
    assert best.alpha_ == best.alpha_min_ == best.alphas_[k_min]
    assert sparse_model.alpha_ == sparse_model.alpha_1se_ == best.alphas_[k_1se]
    assert sparse_model.alpha_ >= best.alpha_
    assert np.count_nonzero(sparse_model.coef_) <= np.count_nonzero(best.coef_)
    refit = SafeScreeningLasso(alpha=sparse_model.alpha_, tol=1e-10).fit(X, y)
    np.testing.assert_allclose(sparse_model.coef_, refit.coef_, atol=1e-6)


def test_sparse_glm_cv():
    X, y = _regression()
    folds = list(KFold(4, shuffle=True, random_state=0).split(X))
    lasso = SafeScreeningLassoCV(n_alphas=15, eps=1e-2, cv=folds, **TIGHT).fit(X, y)
    glm = SparseGLMCV(n_alphas=15, eps=1e-2, cv=folds, **TIGHT).fit(X, y)
    # the default score is minus the held-out datafit, half the squared error here
    np.testing.assert_allclose(glm.scores_path_, -lasso.mse_path_ / 2, rtol=1e-10)
    assert glm.alpha_ == lasso.alpha_
    np.testing.assert_allclose(glm.predict(X), lasso.predict(X), atol=1e-8)
    huber = SparseGLMCV(Huber(1.0), ElasticNet(l1_ratio=0.8), n_alphas=8, cv=3,
                        scoring="neg_mean_absolute_error").fit(X, y)
    assert huber.scores_path_.shape == (8, 3) and np.all(huber.scores_path_ <= 0)
    poisson_y = np.random.default_rng(0).poisson(np.exp(0.3 * X[:, 0]))
    SparseGLMCV(Poisson(), L1(), n_alphas=5, eps=0.1, cv=3).fit(X, poisson_y)
    Xc, yc = make_classification_data(n=50, p=10, seed=1)
    clf = SparseGLMCV(Logistic(), L1(), n_alphas=6, cv=3, scoring="accuracy").fit(
        Xc, np.where(yc > 0, "yes", "no"))
    assert set(clf.predict(Xc)) <= {"yes", "no"}


def test_groups_and_verbose(capsys):
    X, y = _regression()
    groups = np.repeat(np.arange(6), 10)
    model = SafeScreeningLassoCV(n_alphas=5, cv=GroupKFold(3), verbose=1).fit(X, y,
                                                                              groups=groups)
    assert model.mse_path_.shape == (5, 3)
    assert "SafeScreeningLassoCV" in capsys.readouterr().err


def test_parallel_backends_give_the_same_model():
    """The same folds, scores, alpha and model under every joblib backend, up to rounding.

    Not bit for bit: the face steps' LAPACK factorisations run on one BLAS thread in
    every thread (``single_blas_thread``), which made the standalone runs agree bit
    for bit, but under pytest a threading-backend run still differed from the
    sequential one by about 1e-14 relative in 2 runs of 8 (cause not found)."""
    X, y = _regression(n=50, p=60)
    reference = SafeScreeningLassoCV(n_alphas=10, cv=3, tol=1e-10).fit(X, y)
    with joblib.parallel_config(backend="threading"):
        threads = SafeScreeningLassoCV(n_alphas=10, cv=3, tol=1e-10, n_jobs=2).fit(X, y)
    distributed = pytest.importorskip("distributed")
    with distributed.Client(processes=False, n_workers=1, threads_per_worker=2,
                            dashboard_address=None):
        with joblib.parallel_config(backend="dask"):
            on_dask = SafeScreeningLassoCV(n_alphas=10, cv=3, tol=1e-10).fit(X, y)
    for model in (threads, on_dask):
        np.testing.assert_allclose(model.mse_path_, reference.mse_path_, rtol=1e-12)
        assert model.alpha_ == reference.alpha_
        np.testing.assert_allclose(model.coef_, reference.coef_, rtol=1e-12, atol=1e-14)


def test_logistic_refit_false_averages_the_folds():
    X, y = make_classification_data(n=60, p=10, seed=5)
    folds = list(StratifiedKFold(3, shuffle=True, random_state=0).split(X, y))
    model = SafeScreeningLogisticRegressionCV(n_alphas=6, eps=0.05, cv=folds, refit=False,
                                              **TIGHT).fit(X, y)
    singles = [SafeScreeningLogisticRegression(alpha=model.alpha_, **TIGHT).fit(X[tr], y[tr])
               for tr, _ in folds]
    np.testing.assert_allclose(model.coef_, np.mean([m.coef_ for m in singles], axis=0),
                               atol=1e-6)
    np.testing.assert_allclose(model.intercept_,
                               np.mean([m.intercept_ for m in singles], axis=0), atol=1e-6)


@pytest.mark.parametrize("estimator,kwargs,match", [
    (SafeScreeningLassoCV(cv=5), {}, "n_samples=4"),
    (SafeScreeningLassoCV(alphas=[1.0, -1.0]), {}, "alphas must be finite and > 0"),
    (SafeScreeningLassoCV(alpha_rule="max"), {}, "alpha_rule must be 'min' or '1se'"),
    (SafeScreeningLassoCV(n_alphas=0), {}, "n_alphas must be an integer >= 1"),
    (SafeScreeningLassoCV(strong_rule="yes"), {}, "strong_rule must be a bool"),
    (SafeScreeningElasticNetCV(l1_ratio=[0.0]), {}, "no automatic alpha grid"),
    (SafeScreeningLassoCV(cv=KFold(2)), {"sample_weight": [0.0] * 10 + [1.0] * 10},
     "zero sample_weight"),
])
def test_bad_input(estimator, kwargs, match):
    X, y = _regression(n=4 if "n_samples" in match else 20, p=6)
    kwargs = {key: np.resize(value, y.size) for key, value in kwargs.items()}
    with pytest.raises(ValueError, match=match):
        estimator.fit(X, y, **kwargs)


def test_unsorted_grid_warns_and_is_sorted():
    X, y = _regression()
    with pytest.warns(UserWarning, match="not in decreasing order"):
        model = SafeScreeningLassoCV(alphas=[0.1, 1.0, 0.3], cv=3).fit(X, y)
    np.testing.assert_allclose(model.alphas_, [1.0, 0.3, 0.1])


def test_fold_without_a_class_is_a_clear_error():
    X, y = make_classification_data(n=12, p=5, seed=0)
    y = np.array([0] * 10 + [1] * 2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # StratifiedKFold warns about the small class
        with pytest.raises(ValueError, match="class"):
            SafeScreeningLogisticRegressionCV(n_alphas=3, cv=KFold(3)).fit(X, y)


def test_grid_search_over_pipelines_of_cv_estimators():
    X, y = _regression(n=60, p=30)
    pipe = make_pipeline(StandardScaler(), SafeScreeningLassoCV(n_alphas=8, cv=3))
    search = GridSearchCV(pipe, {"safescreeninglassocv__alpha_rule": ["min", "1se"]}, cv=3)
    search.fit(X, y)
    assert search.best_params_["safescreeninglassocv__alpha_rule"] in ("min", "1se")
    Xc, yc = make_classification_data(n=60, p=30, seed=2)
    pipe = make_pipeline(StandardScaler(), SafeScreeningLogisticRegressionCV(n_alphas=6, cv=3))
    search = GridSearchCV(pipe, {"safescreeninglogisticregressioncv__l1_ratios": [
        (1.0,), (0.5, 1.0)]}, cv=3, scoring="accuracy").fit(Xc, yc)
    assert search.best_estimator_.predict(Xc).shape == (60,)


# tight gaps: the sample-weight checks compare two fits of the same objective
CHECKED = [
    SafeScreeningLassoCV(n_alphas=5, cv=3, tol=1e-10),
    SafeScreeningElasticNetCV(l1_ratio=[0.5, 0.9], n_alphas=4, eps=0.1, cv=3, tol=1e-14),
    SafeScreeningLogisticRegressionCV(n_alphas=5, cv=3, tol=1e-10),
    SparseGLMCV(n_alphas=5, cv=3, tol=1e-10),
    SparseGLMCV(Logistic(), L1(), n_alphas=5, cv=3, tol=1e-10),
    StabilitySelection(n_alphas=4, n_subsamples=4, random_state=0),
]


def expected_failures(estimator):
    if isinstance(estimator, StabilitySelection):
        reason = ("subsamples are drawn over rows: a weight of 2 and a repeated row are "
                  "different draws")
        return {"check_sample_weight_equivalence_on_dense_data": reason,
                "check_sample_weight_equivalence_on_sparse_data": reason}
    return {}


@parametrize_with_checks(CHECKED, expected_failed_checks=expected_failures)
def test_sklearn_compatible_cv_estimator(estimator, check):
    check(estimator)
