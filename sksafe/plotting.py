"""Plots of paths, cross-validation, screening and stability selection (matplotlib).

matplotlib is an optional dependency (``pip install "sksafe[plot]"``), imported
when a function is called. Every function draws on ``ax`` (a new figure's axes
when ``None``) and returns it.
"""
import numpy as np

from .paths import PathResult


def _axes(ax):
    if ax is not None:
        return ax
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError("sksafe.plotting needs matplotlib: pip install 'sksafe[plot]'.") from exc
    return plt.figure().add_subplot()


def _check_path(path):
    if not isinstance(path, PathResult):
        raise ValueError(f"Expected a PathResult (sksafe.paths.sparse_glm_path, or a path "
                         f"function with return_result=True), got {type(path).__name__}.")


def plot_path(path, *, ax=None, feature_names=None, n_labels=5, relative=True):
    """Coefficient path: every coefficient against alpha (log scale, decreasing).

    Parameters
    ----------
    path : PathResult
    ax : matplotlib Axes, default=None
    feature_names : array-like of str, default=None
        Names of the ``n_labels`` largest coefficients at the smallest alpha, shown
        at the end of their curves.
    n_labels : int, default=5
    relative : bool, default=True
        Show ``alpha / alpha_max`` instead of alpha.

    Returns
    -------
    ax : matplotlib Axes
    """
    _check_path(path)
    ax = _axes(ax)
    x = path.alphas / path.alpha_max if relative and path.alpha_max > 0 else path.alphas
    active = np.flatnonzero(np.any(path.coefs != 0, axis=1))
    ax.plot(x, path.coefs[active].T, linewidth=1)
    ax.set_xscale("log")
    ax.invert_xaxis()
    ax.axhline(0.0, color="0.5", linewidth=0.5)
    ax.set_xlabel("alpha / alpha_max" if x is not path.alphas else "alpha")
    ax.set_ylabel("coefficient")
    ax.set_title(f"Coefficient path ({active.size} features ever non-zero)")
    if feature_names is not None and active.size:
        last = path.coefs[active, -1]
        for j in active[np.argsort(-np.abs(last))[:n_labels]]:
            ax.annotate(str(feature_names[j]), (x[-1], path.coefs[j, -1]), fontsize=7,
                        xytext=(2, 0), textcoords="offset points")
    return ax


def plot_cv(estimator, *, ax=None, l1_ratio_index=None):
    """Cross-validation curve: mean held-out score +- one standard error against alpha.

    Marks ``alpha_min_`` (best mean score) and ``alpha_1se_`` (largest alpha within
    one standard error), the two choices of the one-standard-error rule.

    Parameters
    ----------
    estimator : fitted sksafe CV estimator
        :class:`~sksafe.SafeScreeningLassoCV`, :class:`~sksafe.SafeScreeningElasticNetCV`,
        :class:`~sksafe.SafeScreeningLogisticRegressionCV` or :class:`~sksafe.SparseGLMCV`.
    ax : matplotlib Axes, default=None
    l1_ratio_index : int, default=None
        Which ``l1_ratio`` curve to draw when several were cross-validated (the
        chosen one by default).

    Returns
    -------
    ax : matplotlib Axes
    """
    if hasattr(estimator, "mse_path_"):
        values, label = estimator.mse_path_, "held-out mean squared error"
    elif hasattr(estimator, "scores_path_"):
        values, label = estimator.scores_path_, f"held-out {estimator.scoring or 'score'}"
    else:
        raise ValueError("plot_cv needs a fitted sksafe CV estimator (mse_path_ or "
                         "scores_path_).")
    alphas = estimator.alphas_
    if values.ndim == 3:
        index = (l1_ratio_index if l1_ratio_index is not None
                 else int(np.flatnonzero(np.isclose(_l1_ratios(estimator),
                                                    estimator.l1_ratio_))[0]))
        values, alphas = values[index], alphas[index]
    ax = _axes(ax)
    mean = values.mean(axis=1)
    se = values.std(axis=1, ddof=1) / np.sqrt(values.shape[1])
    ax.errorbar(alphas, mean, yerr=se, fmt="o-", markersize=2, linewidth=1, capsize=2,
                elinewidth=0.6, label="mean +- 1 s.e. over folds")
    ax.axvline(estimator.alpha_min_, color="C3", linestyle="--",
               label=f"alpha_min = {estimator.alpha_min_:.3g}")
    ax.axvline(estimator.alpha_1se_, color="C2", linestyle=":",
               label=f"alpha_1se = {estimator.alpha_1se_:.3g}")
    ax.set_xscale("log")
    ax.invert_xaxis()
    ax.set_xlabel("alpha")
    ax.set_ylabel(label)
    ax.set_title(f"{type(estimator).__name__}: {values.shape[1]}-fold cross-validation")
    ax.legend(fontsize=8)
    return ax


def _l1_ratios(estimator):
    return np.atleast_1d(getattr(estimator, "l1_ratio", getattr(estimator, "l1_ratios", 1.0)))


def plot_screening(path, *, ax=None, per_iteration=False):
    """Fraction of the features screened, against alpha or against outer iterations.

    Parameters
    ----------
    path : PathResult
    ax : matplotlib Axes, default=None
    per_iteration : bool, default=False
        ``False``: the fraction screened at the end of each fit against alpha.
        ``True``: every outer iteration of the whole path in sequence, so the
        sequential screening at the start of each fit (iteration 1, before any
        coordinate moves) and the dynamic screening that follows are both visible.

    Returns
    -------
    ax : matplotlib Axes
    """
    _check_path(path)
    ax = _axes(ax)
    p = path.n_features
    if per_iteration:
        # fits at alpha >= alpha_max stop before any iteration: empty histories
        fractions = np.array([h["n_screened"] / p for history in path.histories
                              for h in history])
        lengths = np.array([len(history) for history in path.histories])
        starts = (np.cumsum(lengths) - lengths)[lengths > 0]
        ax.plot(np.arange(fractions.size), fractions, linewidth=1)
        ax.plot(starts, fractions[starts], ".", markersize=3, label="first gap of each alpha")
        ax.set_xlabel("outer iteration (all alphas, in order)")
        ax.legend(fontsize=8)
    else:
        # a fit at alpha >= alpha_max is solved by w = 0 before any screening: not drawn
        solved = path.n_iters > 0
        x = path.alphas / path.alpha_max if path.alpha_max > 0 else path.alphas
        ax.plot(x[solved], path.n_screened[solved] / p, "o-", markersize=2, linewidth=1)
        ax.set_xscale("log")
        ax.invert_xaxis()
        ax.set_xlabel("alpha / alpha_max")
    ax.set_ylim(-0.02, 1.02)
    ax.set_ylabel("fraction of features screened")
    ax.set_title("Gap Safe screening along the path")
    return ax


def plot_stability(selector, *, ax=None, feature_names=None, n_labels=10):
    """Stability paths: the selection probability of each feature against alpha.

    Selected features (stability score >= threshold) are drawn in colour, the
    others in grey; the threshold is a horizontal line.

    Parameters
    ----------
    selector : fitted :class:`~sksafe.StabilitySelection`
    ax : matplotlib Axes, default=None
    feature_names : array-like of str, default=None
        Labels of the ``n_labels`` most stable features.
    n_labels : int, default=10

    Returns
    -------
    ax : matplotlib Axes
    """
    if not hasattr(selector, "selection_probabilities_"):
        raise ValueError("plot_stability needs a fitted StabilitySelection.")
    ax = _axes(ax)
    probabilities, alphas = selector.selection_probabilities_, selector.alphas_
    support = selector.get_support()
    seen = np.flatnonzero(probabilities.max(axis=1) > 0)
    for j in seen[~support[seen]]:
        ax.plot(alphas, probabilities[j], color="0.75", linewidth=0.6)
    for j in np.flatnonzero(support):
        ax.plot(alphas, probabilities[j], linewidth=1.5)
    ax.axhline(selector.threshold, color="C3", linestyle="--",
               label=f"threshold {selector.threshold:g} ({support.sum()} selected)")
    if feature_names is not None:
        for j in np.argsort(-selector.stability_scores_)[:n_labels]:
            k = int(np.argmax(probabilities[j]))
            ax.annotate(str(feature_names[j]), (alphas[k], probabilities[j, k]), fontsize=7,
                        xytext=(2, 2), textcoords="offset points")
    ax.set_xscale("log")
    ax.invert_xaxis()
    ax.set_ylim(0.0, 1.02)
    ax.set_xlabel("alpha")
    ax.set_ylabel("selection probability")
    ax.set_title(f"Stability selection ({len(selector.subsamples_)} subsamples)")
    ax.legend(fontsize=8)
    return ax
