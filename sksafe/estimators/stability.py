"""Stability selection on Gap Safe screened regularisation paths.

Meinshausen & Buhlmann (JRSS B 2010): fit the whole path on many random halves
of the samples and keep the features selected in a large fraction of them.
Shah & Samworth (JRSS B 2013) draw the halves in *complementary pairs* (two
disjoint halves at a time), which tightens the error control and needs no
exchangeability assumption for their bound. Each subsample costs one path,
which warm starts and sequential screening make cheap.
"""
import numbers
import warnings

import numpy as np
from sklearn.base import BaseEstimator, MetaEstimatorMixin, clone, is_classifier
from sklearn.exceptions import ConvergenceWarning
from sklearn.feature_selection import SelectorMixin
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted

from ..paths._parallel import run_paths
from ..utils.validation import check_positive_int, check_weights, check_Xy
from .cv import glm_spec, rows_sliceable, spec_grid
from .linear import SafeScreeningLasso


def subsample_rows(n_samples, n_subsamples, fraction, complementary, rng, strata=None):
    """Row indices of ``n_subsamples`` random subsamples of ``floor(fraction * n)`` rows.

    With ``complementary`` they come in disjoint pairs (``n_subsamples`` even,
    ``fraction <= 0.5``). With ``strata`` (class codes) each class is split in
    the same proportion, so that every subsample keeps every class.
    """
    groups = ([np.arange(n_samples)] if strata is None
              else [np.flatnonzero(strata == c) for c in np.unique(strata)])
    subsamples = []
    n_draws = n_subsamples // 2 if complementary else n_subsamples
    for _ in range(n_draws):
        first, second = [], []
        for members in groups:
            size = max(1, int(np.floor(fraction * members.size)))
            order = rng.permutation(members)
            first.append(order[:size])
            second.append(order[size:2 * size])
        subsamples.append(np.sort(np.concatenate(first)))
        if complementary:
            subsamples.append(np.sort(np.concatenate(second)))
    return subsamples


class StabilitySelection(SelectorMixin, MetaEstimatorMixin, BaseEstimator):
    """Stability selection (Meinshausen & Buhlmann 2010; Shah & Samworth 2013).

    For each of ``n_subsamples`` random subsamples of ``floor(sample_fraction *
    n)`` rows, the regularisation path of ``estimator``'s objective is fitted
    over the alpha grid (warm starts, sequential Gap Safe screening). The
    selection probability of feature ``j`` at ``alpha`` is the fraction of
    subsamples in which its coefficient is non-zero; its stability score is the
    largest probability over the grid, and the features whose score is at least
    ``threshold`` are selected. Usable as the feature selector of a
    :class:`~sklearn.pipeline.Pipeline`.

    Parameters
    ----------
    estimator : sksafe estimator, default=None
        The sparse model whose path is run: :class:`~sksafe.SafeScreeningLasso`
        (``None``), :class:`~sksafe.SafeScreeningElasticNet`,
        :class:`~sksafe.SafeScreeningLogisticRegression` (a feature counts as
        selected when it is non-zero for any class), :class:`~sksafe.SparseGLM`,
        ... Its ``alpha`` is replaced by the grid; its other parameters are used.
    alphas : array-like or int, default=None
        The grid (see :func:`sksafe.paths.sparse_glm_path`); ``None``: ``n_alphas``
        values from ``alpha_max`` of all the data down to ``eps * alpha_max``.
    n_alphas : int, default=25
    eps : float, default=0.1
        The default region ``[alpha_max / 10, alpha_max]`` keeps the number of
        features selected per subsample (``q``) small, which is what makes the
        error bound useful.
    n_subsamples : int, default=100
        Number of subsamples (50 complementary pairs by default).
    sample_fraction : float, default=0.5
        Fraction of the rows in each subsample (at most 0.5 with complementary
        pairs). Classes are subsampled in the same proportion for a classifier.
    complementary_pairs : bool, default=True
        Draw subsamples as disjoint pairs (Shah & Samworth).
    threshold : float, default=0.6
        Selection-probability threshold in (0, 1]; the error bound needs > 0.5.
        Read at transform time, so it can be changed after ``fit``.
    random_state : int, RandomState instance or None, default=None
    n_jobs : int, default=None
        Subsample paths run in parallel through joblib (any backend, Dask included).
    verbose : int, default=0
        A progress bar (tqdm) over the subsample paths.

    Attributes
    ----------
    alphas_ : ndarray of shape (n_alphas,)
    selection_probabilities_ : ndarray of shape (n_features, n_alphas)
        Fraction of subsamples selecting each feature at each alpha.
    stability_scores_ : ndarray of shape (n_features,)
        Largest selection probability of each feature over the grid.
    average_selected_ : float
        ``q``: the mean over subsamples of the number of features selected at some
        alpha of the grid.
    false_positive_bound_ : float
        Meinshausen & Buhlmann's bound ``q^2 / ((2 threshold - 1) p)`` on the
        expected number of falsely selected features at ``threshold`` (infinite for
        ``threshold <= 0.5``). It assumes exchangeable noise features and a
        procedure not worse than random guessing; Shah & Samworth show that with
        complementary pairs a bound of this form holds without them for the
        features of low selection probability.
    subsamples_ : list of ndarray
        Row indices of each subsample.
    n_features_in_ : int
    feature_names_in_ : ndarray of str

    Examples
    --------
    >>> from sklearn.datasets import make_regression
    >>> from sksafe import StabilitySelection
    >>> X, y = make_regression(n_samples=80, n_features=300, n_informative=4,
    ...                        noise=0.5, random_state=0)
    >>> selector = StabilitySelection(n_subsamples=20, random_state=0).fit(X, y)
    >>> selector.get_support().sum() >= 3
    True
    """

    def __init__(self, estimator=None, *, alphas=None, n_alphas=25, eps=0.1, n_subsamples=100,
                 sample_fraction=0.5, complementary_pairs=True, threshold=0.6,
                 random_state=None, n_jobs=None, verbose=0):
        self.estimator = estimator
        self.alphas = alphas
        self.n_alphas = n_alphas
        self.eps = eps
        self.n_subsamples = n_subsamples
        self.sample_fraction = sample_fraction
        self.complementary_pairs = complementary_pairs
        self.threshold = threshold
        self.random_state = random_state
        self.n_jobs = n_jobs
        self.verbose = verbose

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.target_tags.required = True
        return tags

    def _check_params(self):
        check_positive_int(self.n_subsamples, "n_subsamples")
        if not isinstance(self.complementary_pairs, (bool, np.bool_)):
            raise ValueError(f"complementary_pairs must be a bool, got "
                             f"{self.complementary_pairs!r}.")
        limit = 0.5 if self.complementary_pairs else 1.0
        if (isinstance(self.sample_fraction, bool)
                or not isinstance(self.sample_fraction, numbers.Real)
                or not 0.0 < self.sample_fraction <= limit):
            raise ValueError(f"sample_fraction must be in (0, {limit}]"
                             f"{' with complementary pairs' if limit < 1 else ''}, got "
                             f"{self.sample_fraction!r}.")
        if self.complementary_pairs and self.n_subsamples % 2:
            raise ValueError(f"n_subsamples must be even with complementary pairs, got "
                             f"{self.n_subsamples}.")
        self._check_threshold()

    def _check_threshold(self):
        if (isinstance(self.threshold, bool) or not isinstance(self.threshold, numbers.Real)
                or not 0.0 < self.threshold <= 1.0):
            raise ValueError(f"threshold must be in (0, 1], got {self.threshold!r}.")

    def fit(self, X, y, sample_weight=None):
        """Fit the path on every subsample and compute the selection probabilities.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Sparse matrices are never densified.
        y : array-like of shape (n_samples,)
        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the training objective of each subsample.

        Returns
        -------
        self : object
        """
        self._check_params()
        estimator = SafeScreeningLasso() if self.estimator is None else clone(self.estimator)
        classifier = is_classifier(estimator)
        X, y = check_Xy(self, X, y, classifier=classifier)
        X = rows_sliceable(X)
        if np.floor(self.sample_fraction * X.shape[0]) < 2:
            raise ValueError(f"sample_fraction={self.sample_fraction} of n_samples="
                             f"{X.shape[0]} leaves fewer than 2 samples per subsample.")
        sample_weight = check_weights(sample_weight, X)
        spec = glm_spec(estimator, y, sample_weight)
        grid = spec_grid(X, spec, self.alphas, self.n_alphas, self.eps)
        strata = np.unique(y, return_inverse=True)[1] if classifier else None
        rng = check_random_state(self.random_state)
        subsamples = subsample_rows(X.shape[0], self.n_subsamples, self.sample_fraction,
                                    self.complementary_pairs, rng, strata)
        settings = dict(spec.settings, strong_rule=False)
        tasks = [((X, target, spec.sample_weight, rows, spec.datafit, spec.penalty, grid,
                   spec.fit_intercept, settings), {})
                 for rows in subsamples for target in spec.targets]
        results = run_paths(tasks, n_jobs=self.n_jobs, verbose=self.verbose,
                            desc="StabilitySelection")
        n_targets = len(spec.targets)
        selected = np.zeros((len(subsamples), X.shape[1], grid.shape[0]), dtype=bool)
        worst_gap = 0.0
        for index, result in enumerate(results):
            selected[index // n_targets] |= result["coefs"].toarray() != 0
            worst_gap = max(worst_gap, float(result["dual_gaps"].max()))
        if worst_gap > spec.settings["tol"] > 0:
            warnings.warn(f"Some subsample fits did not reach the relative duality gap "
                          f"tol={spec.settings['tol']:.1e} (largest {worst_gap:.2e}).",
                          ConvergenceWarning, stacklevel=2)
        self.alphas_ = grid
        self.subsamples_ = subsamples
        self.selection_probabilities_ = selected.mean(axis=0)
        self.stability_scores_ = self.selection_probabilities_.max(axis=1)
        self.average_selected_ = float(np.mean(selected.any(axis=2).sum(axis=1)))
        return self

    @property
    def false_positive_bound_(self):
        check_is_fitted(self)
        self._check_threshold()
        if self.threshold <= 0.5:
            return np.inf
        return self.average_selected_ ** 2 / ((2.0 * self.threshold - 1.0) * self.n_features_in_)

    def _get_support_mask(self):
        check_is_fitted(self)
        self._check_threshold()
        return self.stability_scores_ >= self.threshold
