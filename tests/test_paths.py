"""Regularisation paths: every point is a certified solution, screening is safe all along.

* each point of a path equals an independent cold single fit at that alpha, and its
  relative duality gap, recomputed by the pure-NumPy code of ``conftest``, is <= 1e-8;
* ``lasso_path``/``enet_path`` return scikit-learn's grid and solutions;
* sequential + dynamic screening never removes a feature that is non-zero in a
  no-screening reference solved to relative gap 1e-12, at any alpha of the path
  (random problems, and the real data sets of ``../shared/data`` when present);
* bad input raises clear errors.
"""
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.linear_model import enet_path as sk_enet_path
from sklearn.linear_model import lasso_path as sk_lasso_path

from conftest import (data_dir_or_skip, duality_gap, l1_l2_weights, make_classification_data,
                      make_regression_data)
from sksafe.datafits import Huber, Logistic, Quadratic
from sksafe.paths import (PathResult, alpha_grid, enet_path, lasso_path, logistic_path,
                          sparse_glm_path)
from sksafe.penalties import L1, ElasticNet, GroupL1, WeightedL1
from sksafe.solvers import solve

ZERO_THRESHOLD = 1e-10

#: a zero weight (an unpenalised feature) and a spread of the others
WEIGHTS = np.r_[0.0, np.linspace(0.5, 2, 39)]

FAMILIES = {
    "lasso": ("quadratic", Quadratic(), L1(), 1.0, None),
    "enet": ("quadratic", Quadratic(), ElasticNet(l1_ratio=0.6), 0.6, None),
    "logistic_l1": ("logistic", Logistic(), L1(), 1.0, None),
    "logistic_enet": ("logistic", Logistic(), ElasticNet(l1_ratio=0.7), 0.7, None),
    "huber_l1": ("huber", Huber(1.5), L1(), 1.0, None),
    "weighted_l1": ("quadratic", Quadratic(), WeightedL1(weights=WEIGHTS), 1.0, WEIGHTS),
}


def _data(loss, seed, sparse):
    if loss == "logistic":
        X, y = make_classification_data(n=40, p=40, seed=seed)
    else:
        X, y = make_regression_data(n=40, p=40, seed=seed, correlated=True)
    if sparse:
        X = sp.csc_matrix(np.where(np.abs(X) > 0.6, X, 0.0))
    return X, y


@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "sparse"])
@pytest.mark.parametrize("family", list(FAMILIES))
def test_path_points_equal_single_fits(family, sparse):
    loss, datafit, penalty, l1_ratio, weights = FAMILIES[family]
    X, y = _data(loss, seed=1, sparse=sparse)
    path = sparse_glm_path(X, y, datafit, penalty, n_alphas=12, eps=1e-3, tol=1e-11,
                           max_iter=500)
    assert isinstance(path, PathResult)
    assert np.all(np.diff(path.alphas) < 0)
    assert np.all(path.dual_gaps <= 1e-11)
    for k, alpha in enumerate(path.alphas):
        a, b = l1_l2_weights(alpha, X.shape[1], l1_ratio, weights)
        rel_gap, _, primal, _, p0 = duality_gap(X, y, path.coefs[:, k], path.intercepts[k],
                                                loss=loss, a=a, b=b)
        assert rel_gap <= 1e-8, (k, rel_gap)
        single = solve(X, y, datafit, penalty.with_alpha(alpha), tol=1e-11, max_iter=500)
        _, _, primal_single, _, _ = duality_gap(X, y, single.coef, single.intercept, loss=loss,
                                                a=a, b=b)
        assert abs(primal - primal_single) <= 1e-8 * p0
        scale = max(1.0, np.max(np.abs(single.coef)))
        np.testing.assert_allclose(path.coefs[:, k], single.coef, atol=1e-4 * scale)


@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "sparse"])
def test_lasso_and_enet_paths_match_scikit_learn(sparse):
    """Same grid; same objective values to 1e-10 P(0) (coefficients to what the gaps allow)."""
    X, y = make_regression_data(n=50, p=30, seed=3)
    X = X - X.mean(axis=0)
    y = y - y.mean()
    if sparse:
        X = sp.csc_matrix(np.where(np.abs(X) > 0.5, X, 0.0))
    for l1_ratio, n_alphas, eps in ((1.0, 20, 1e-3), (0.3, 15, 1e-2)):
        ours = enet_path(X, y, l1_ratio=l1_ratio, n_alphas=n_alphas, eps=eps, tol=1e-12,
                         max_iter=1000)
        theirs = sk_enet_path(X, y, l1_ratio=l1_ratio, alphas=n_alphas, eps=eps, tol=1e-14,
                              max_iter=100_000)
        np.testing.assert_allclose(ours[0], theirs[0], rtol=1e-12)
        np.testing.assert_allclose(ours[1], theirs[1], atol=1e-5)
        for k, alpha in enumerate(ours[0]):
            a, b = l1_l2_weights(alpha, X.shape[1], l1_ratio)
            ours_k = duality_gap(X, y, ours[1][:, k], 0.0, loss="quadratic", a=a, b=b,
                                 fit_intercept=False)
            theirs_k = duality_gap(X, y, theirs[1][:, k], 0.0, loss="quadratic", a=a, b=b,
                                   fit_intercept=False)
            assert ours_k[0] <= 1e-10
            assert abs(ours_k[2] - theirs_k[2]) <= 1e-10 * ours_k[4]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # scikit-learn's FutureWarning on alphas=None
        np.testing.assert_allclose(lasso_path(X, y)[0], sk_lasso_path(X, y)[0], rtol=1e-12)


def _assert_path_safe(X, y, datafit, penalty, path):
    """Features screened at any alpha are zero in a no-screening 1e-12 reference."""
    for k, alpha in enumerate(path.alphas):
        screened = path.screened_at[:, k] >= 1
        if not np.any(screened):
            continue
        ref = solve(X, y, datafit, penalty.with_alpha(alpha), screening=False, tol=1e-12,
                    max_iter=2000)
        scale = max(np.max(np.abs(ref.coef)), 1e-300)
        leaked = np.flatnonzero(screened & (np.abs(ref.coef) > ZERO_THRESHOLD * scale))
        assert leaked.size == 0, (k, alpha, leaked, ref.coef[leaked])


@pytest.mark.parametrize("strong_rule", [False, True], ids=["plain", "strong_rule"])
@pytest.mark.parametrize("family", ["lasso", "enet", "logistic_l1", "huber_l1"])
@pytest.mark.parametrize("seed", range(3))
def test_sequential_screening_is_safe_along_the_path(family, seed, strong_rule):
    loss, datafit, penalty, _, _ = FAMILIES[family]
    X, y = _data(loss, seed=10 + seed, sparse=bool(seed % 2))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # loose fits are the point: they screen early
        path = sparse_glm_path(X, y, datafit, penalty, n_alphas=30, eps=1e-2, tol=1e-6,
                               strong_rule=strong_rule)
    assert path.screened_at.shape == (X.shape[1], 30)
    assert np.any(path.screened_at == 1), "the sequential rule (first gap) screened nothing"
    _assert_path_safe(X, y, datafit, penalty, path)


@pytest.mark.parametrize("name,loss", [("regression/riboflavin.npz", "quadratic"),
                                       ("expression/singh.npz", "logistic")])
def test_sequential_screening_is_safe_on_real_data(name, loss):
    path_file = data_dir_or_skip() / name
    if not path_file.exists():
        pytest.skip(f"{path_file} is absent")
    with np.load(path_file) as data:
        X, y = data["X"].astype(np.float64), data["y"].astype(np.float64)
    rows = np.random.default_rng(0).permutation(X.shape[0])[:60]
    X = X[rows][:, np.argsort(-X.std(axis=0))[:1500]]  # the 1500 most variable features
    X = (X - X.mean(axis=0)) / X.std(axis=0)
    y = y[rows]
    datafit = Quadratic() if loss == "quadratic" else Logistic()
    if loss == "logistic":
        y = np.where(y > 0, 1.0, -1.0)
    path = sparse_glm_path(X, y, datafit, L1(), n_alphas=8, eps=1e-2, tol=1e-6)
    _assert_path_safe(X, y, datafit, L1(), path)


def test_strong_rule_gives_the_same_path():
    X, y = make_regression_data(n=40, p=120, seed=5, correlated=True)
    plain = lasso_path(X, y, n_alphas=25, tol=1e-10, fit_intercept=True, return_result=True)
    strong = lasso_path(X, y, n_alphas=25, tol=1e-10, fit_intercept=True, strong_rule=True,
                        return_result=True)
    np.testing.assert_allclose(plain.coefs, strong.coefs, atol=1e-5)
    np.testing.assert_allclose(plain.intercepts, strong.intercepts, atol=1e-5)


def test_logistic_path_encodes_labels_and_matches_the_estimator():
    from sksafe import SafeScreeningLogisticRegression

    X, y_pm = make_classification_data(n=50, p=25, seed=2)
    labels = np.where(y_pm > 0, "case", "control")  # "control" > "case": +1 is control
    path = logistic_path(X, labels, n_alphas=6, tol=1e-10, return_result=True)
    model = SafeScreeningLogisticRegression(alpha=path.alphas[-1], tol=1e-10).fit(X, labels)
    np.testing.assert_allclose(path.coefs[:, -1], model.coef_.ravel(), atol=1e-5)
    np.testing.assert_allclose(path.intercepts[-1], model.intercept_[0], atol=1e-5)
    assert np.all(path.coefs[:, 0] == 0)  # the first alpha is alpha_max
    with pytest.raises(ValueError, match="exactly 2 classes"):
        logistic_path(X, np.arange(50) % 3)


def test_sklearn_compatible_returns():
    X, y = make_regression_data(n=30, p=10, seed=0)
    alphas, coefs, gaps, n_iters = lasso_path(X.astype(np.float32), y, n_alphas=7,
                                              return_n_iter=True)
    assert alphas.shape == (7,) and coefs.shape == (10, 7) and gaps.shape == (7,)
    assert coefs.dtype == np.float32 and n_iters.shape == (7,)
    assert np.all(gaps <= 1e-4)
    alphas, coefs, _ = enet_path(X, y, alphas=4)  # an integer alphas is the grid size
    assert alphas.shape == (4,)
    path = lasso_path(X, y, alphas=[1.0, 0.1], return_result=True, fit_intercept=True)
    assert path.intercepts.shape == (2,) and path.n_screened.shape == (2,)
    assert path.alpha_max == pytest.approx(
        np.max(np.abs((X - X.mean(0)).T @ (y - y.mean()))) / 30, rel=1e-10)


def test_alpha_grid():
    np.testing.assert_allclose(alpha_grid(2.0, n_alphas=3, eps=0.25), [2.0, 1.0, 0.5])
    zero = alpha_grid(0.0, n_alphas=4)
    assert np.all(zero == np.finfo(float).resolution)
    X = np.zeros((5, 3))
    alphas, coefs, _ = lasso_path(X, np.ones(5), n_alphas=3)
    assert np.all(coefs == 0) and np.all(alphas > 0)


def test_unsorted_grid_is_sorted_with_a_warning():
    X, y = make_regression_data(n=30, p=10, seed=0)
    with pytest.warns(UserWarning, match="not in decreasing order"):
        alphas, coefs, _ = lasso_path(X, y, alphas=[0.1, 1.0, 0.5], tol=1e-10)
    np.testing.assert_allclose(alphas, [1.0, 0.5, 0.1])
    reference = lasso_path(X, y, alphas=[1.0, 0.5, 0.1], tol=1e-10)[1]
    np.testing.assert_allclose(coefs, reference, atol=1e-7)


@pytest.mark.parametrize("kwargs,match", [
    ({"alphas": [1.0, 0.0]}, "alphas must be finite and > 0"),
    ({"alphas": [1.0, -0.5]}, "alphas must be finite and > 0"),
    ({"alphas": [1.0, np.nan]}, "alphas must be finite and > 0"),
    ({"alphas": []}, "non-empty 1-d"),
    ({"alphas": [[1.0, 0.5]]}, "non-empty 1-d"),
    ({"n_alphas": 0}, "n_alphas must be an integer >= 1"),
    ({"alphas": 0}, "n_alphas must be an integer >= 1"),
    ({"eps": 0.0}, r"eps must be a real number in \(0, 1\]"),
    ({"eps": 2.0}, r"eps must be a real number in \(0, 1\]"),
    ({"coef_init": np.zeros(3)}, "coef_init must have shape"),
])
def test_bad_path_input(kwargs, match):
    X, y = make_regression_data(n=20, p=8, seed=0)
    with pytest.raises(ValueError, match=match):
        lasso_path(X, y, **kwargs)


def test_ridge_needs_an_explicit_grid():
    X, y = make_regression_data(n=20, p=8, seed=0)
    with pytest.raises(ValueError, match="no automatic alpha grid"):
        enet_path(X, y, l1_ratio=0.0)
    alphas, coefs, _ = enet_path(X, y, l1_ratio=0.0, alphas=[1.0, 0.1], tol=1e-8)
    assert np.all(coefs != 0)


def test_bad_data_and_penalty():
    X, y = make_regression_data(n=20, p=8, seed=0)
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        lasso_path(X, y[:-1])
    with pytest.raises(ValueError, match="NaN"):
        lasso_path(np.where(X > 1, np.nan, X), y)
    with pytest.raises(ValueError, match="separable penalties"):
        sparse_glm_path(X, y, penalty=object())
    with pytest.raises(ValueError, match="separable penalties"):
        sparse_glm_path(X, y, penalty=GroupL1(groups=2))
    with pytest.raises(ValueError, match=r"\{-1, \+1\}"):
        sparse_glm_path(X, y, Logistic())


def test_convergence_warning_is_summarised():
    X, y = make_regression_data(n=30, p=60, seed=0, correlated=True)
    with pytest.warns(Warning) as record:
        lasso_path(X, y, n_alphas=10, tol=1e-14, max_iter=1)
    messages = [str(w.message) for w in record if "did not reach" in str(w.message)]
    assert len(messages) == 1 and "of 10 fits" in messages[0]


def test_verbose_progress_bar(capsys):
    X, y = make_regression_data(n=30, p=10, seed=0)
    lasso_path(X, y, n_alphas=5, verbose=1)
    assert "sksafe path" in capsys.readouterr().err
