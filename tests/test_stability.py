"""StabilitySelection: probabilities are path frequencies, subsamples are what they claim."""
import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.linear_model import Lasso, LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from conftest import make_classification_data
from sksafe import (SafeScreeningElasticNet, SafeScreeningLogisticRegression, SparseGLM,
                    StabilitySelection)
from sksafe.datafits import Huber
from sksafe.estimators.stability import subsample_rows
from sksafe.paths import enet_path, logistic_path
from sksafe.penalties import L1


def _signal(n=80, p=150, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p))
    y = 3.0 * X[:, 0] - 2.0 * X[:, 1] + 2.5 * X[:, 2] + 0.5 * rng.standard_normal(n)
    return X, y


@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "sparse"])
def test_probabilities_are_path_frequencies(sparse):
    X, y = _signal(n=40, p=30)
    if sparse:
        X = sp.csc_matrix(np.where(np.abs(X) > 0.3, X, 0.0))
    estimator = SafeScreeningElasticNet(l1_ratio=0.8, tol=1e-10)
    selector = StabilitySelection(estimator, n_alphas=6, n_subsamples=6, random_state=0).fit(X, y)
    counts = np.zeros((30, 6))
    for rows in selector.subsamples_:
        _, coefs, _ = enet_path(X[rows], y[rows], l1_ratio=0.8, alphas=selector.alphas_,
                                fit_intercept=True, tol=1e-10)
        counts += coefs != 0
    np.testing.assert_array_equal(selector.selection_probabilities_, counts / 6)
    np.testing.assert_array_equal(selector.stability_scores_, (counts / 6).max(axis=1))
    assert selector.alphas_[0] == pytest.approx(
        np.max(np.abs(np.asarray((X - X.mean(0)).T @ (y - y.mean())).ravel())) / (40 * 0.8))


def test_complementary_pairs_and_strata():
    rng = np.random.default_rng(0)
    strata = np.repeat([0, 1, 2], [20, 9, 5])
    subsamples = subsample_rows(34, 10, 0.5, True, rng, strata)
    assert len(subsamples) == 10
    for first, second in zip(subsamples[::2], subsamples[1::2]):
        assert np.intersect1d(first, second).size == 0
        for rows in (first, second):
            np.testing.assert_array_equal(np.bincount(strata[rows]), [10, 4, 2])
    plain = subsample_rows(30, 3, 0.7, False, rng)
    assert len(plain) == 3 and all(rows.size == 21 for rows in plain)


def test_recovers_a_strong_support_and_reports_the_bound():
    X, y = _signal()
    selector = StabilitySelection(random_state=0, n_subsamples=40).fit(X, y)
    np.testing.assert_array_equal(np.flatnonzero(selector.get_support()), [0, 1, 2])
    assert np.all(selector.stability_scores_[:3] == 1.0)
    q = selector.average_selected_
    assert selector.false_positive_bound_ == pytest.approx(q ** 2 / (0.2 * 150))
    selector.set_params(threshold=0.5)  # read at transform time: no refit
    assert selector.false_positive_bound_ == np.inf
    assert selector.get_support().sum() >= 3


def test_classifiers_and_glms():
    X, y_pm = make_classification_data(n=60, p=40, seed=3)
    labels = np.where(y_pm > 0, "b", "a")
    binary = StabilitySelection(SafeScreeningLogisticRegression(), n_alphas=5, n_subsamples=4,
                                random_state=0).fit(X, labels)
    counts = np.zeros((40, 5))
    for rows in binary.subsamples_:
        _, coefs, _ = logistic_path(X[rows], labels[rows], alphas=binary.alphas_)
        counts += coefs != 0
    np.testing.assert_array_equal(binary.selection_probabilities_, counts / 4)
    three = np.where(X[:, 0] > 0.5, "c", labels)
    multi = StabilitySelection(SafeScreeningLogisticRegression(), n_alphas=5, n_subsamples=4,
                               random_state=0).fit(X, three)
    assert multi.selection_probabilities_.shape == (40, 5)
    for rows in multi.subsamples_:
        assert set(three[rows]) == {"a", "b", "c"}  # stratified
    with pytest.raises(ValueError, match="one-vs-rest"):
        StabilitySelection(SafeScreeningLogisticRegression(multi_class="multinomial")).fit(
            X, three)
    huber = StabilitySelection(SparseGLM(Huber(1.0), L1()), n_alphas=4, n_subsamples=4,
                               random_state=0).fit(*_signal(n=40, p=20))
    assert huber.stability_scores_[0] == 1.0


def test_in_a_pipeline_with_grid_search():
    X, y = _signal(n=60, p=40)
    y_class = (y > np.median(y)).astype(int)
    pipe = make_pipeline(StandardScaler(),
                         StabilitySelection(n_alphas=5, n_subsamples=10, random_state=0),
                         LogisticRegression())
    search = GridSearchCV(pipe, {"stabilityselection__threshold": [0.6, 0.9]}, cv=3)
    search.fit(X, y_class)
    selector = search.best_estimator_[1]
    assert search.best_estimator_[:2].transform(X).shape == (60, selector.get_support().sum())
    names = selector.get_feature_names_out([f"gene{j}" for j in range(40)])
    assert "gene0" in names


@pytest.mark.parametrize("params,match", [
    ({"n_subsamples": 5}, "even with complementary pairs"),
    ({"n_subsamples": 0}, "n_subsamples must be an integer >= 1"),
    ({"sample_fraction": 0.6}, r"sample_fraction must be in \(0, 0.5\]"),
    ({"sample_fraction": 0.6, "complementary_pairs": False, "threshold": 1.5},
     r"threshold must be in \(0, 1\]"),
    ({"complementary_pairs": "yes"}, "complementary_pairs must be a bool"),
    ({"estimator": Lasso()}, "not a sksafe sparse linear estimator"),
    ({"alphas": [1.0, 0.0]}, "alphas must be finite and > 0"),
])
def test_bad_parameters(params, match):
    X, y = _signal(n=20, p=10)
    with pytest.raises(ValueError, match=match):
        StabilitySelection(**params).fit(X, y)
    with pytest.raises(ValueError, match="fewer than 2 samples"):
        StabilitySelection().fit(X[:3], y[:3])
