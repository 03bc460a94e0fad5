"""The plots draw what they claim (matplotlib, Agg backend)."""
import numpy as np
import pytest

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from conftest import make_regression_data  # noqa: E402
from sksafe import SafeScreeningElasticNetCV, SafeScreeningLassoCV, StabilitySelection  # noqa: E402
from sksafe.paths import lasso_path  # noqa: E402
from sksafe.plotting import plot_cv, plot_path, plot_screening, plot_stability  # noqa: E402


@pytest.fixture(scope="module")
def data():
    return make_regression_data(n=40, p=60, seed=0)


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def test_plot_path_and_screening(data):
    X, y = data
    path = lasso_path(X, y, n_alphas=20, fit_intercept=True, return_result=True)
    ax = plot_path(path, feature_names=[f"g{j}" for j in range(60)], n_labels=3)
    active = np.any(path.coefs != 0, axis=1)
    assert len(ax.lines) == active.sum() + 1  # one curve per feature ever active, the zero line
    assert len(ax.texts) == 3 and ax.get_xscale() == "log"
    np.testing.assert_allclose(ax.lines[0].get_xdata(), path.alphas / path.alpha_max)
    ax = plot_screening(path)
    solved = path.n_iters > 0
    np.testing.assert_allclose(ax.lines[0].get_ydata(), path.n_screened[solved] / 60)
    ax = plot_screening(path, per_iteration=True)
    assert len(ax.lines[0].get_xdata()) == sum(len(h) for h in path.histories)
    with pytest.raises(ValueError, match="PathResult"):
        plot_path(lasso_path(X, y, n_alphas=3))


def test_plot_cv(data):
    X, y = data
    model = SafeScreeningLassoCV(n_alphas=15, cv=4).fit(X, y)
    ax = plot_cv(model)
    vertical = [line.get_xdata()[0] for line in ax.lines[-2:]]
    assert vertical == [model.alpha_min_, model.alpha_1se_]
    np.testing.assert_allclose(ax.lines[0].get_ydata(), model.mse_path_.mean(axis=1))
    enet = SafeScreeningElasticNetCV(l1_ratio=[0.3, 0.9], n_alphas=10, cv=3).fit(X, y)
    plot_cv(enet, l1_ratio_index=0)
    plot_cv(enet)
    with pytest.raises(ValueError, match="fitted sksafe CV estimator"):
        plot_cv(object())


def test_plot_stability(data):
    X, y = data
    selector = StabilitySelection(n_alphas=5, n_subsamples=6, random_state=0).fit(X, y)
    fig, ax = plt.subplots()
    assert plot_stability(selector, ax=ax, feature_names=[f"g{j}" for j in range(60)],
                          n_labels=2) is ax
    assert len(ax.texts) == 2
    assert ax.lines[-1].get_ydata()[0] == selector.threshold
    with pytest.raises(ValueError, match="fitted StabilitySelection"):
        plot_stability(StabilitySelection())
