"""Cross-validated estimators: one warm-started, sequentially screened path per fold.

Each fold fits the whole alpha grid with :func:`sksafe.paths.sparse_glm_path`'s
machinery (warm starts, the previous dual point for sequential Gap Safe
screening, working sets seeded from the previous support) and scores every
alpha on its held-out rows; the folds (times the ``l1_ratio`` values, times the
classes of a one-vs-rest problem) run in parallel through joblib. The alpha
with the best mean score (or the largest alpha within one standard error of
it, glmnet's ``lambda.1se``) is refitted on all the data.
"""
import numbers
import warnings
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.special import expit
from scipy.stats import rankdata
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import check_scoring
from sklearn.model_selection import check_cv
from sklearn.preprocessing import LabelEncoder
from sklearn.utils.class_weight import compute_sample_weight
from sklearn.utils.multiclass import check_classification_targets

from ..datafits import Logistic
from ..paths._parallel import run_paths
from ..paths._path import alpha_grid, check_alphas, check_path_model, resolve_alphas
from ..penalties import ElasticNet
from ..solvers import alpha_max as compute_alpha_max
from ..utils.validation import check_weights, check_Xy
from .base import BaseSparseRegressor, SparseGLM
from .linear import SafeScreeningElasticNet, SafeScreeningLasso
from .logistic import SafeScreeningLogisticRegression


@dataclass
class GLMSpec:
    """What a path needs to know about a single-alpha sksafe estimator.

    Attributes
    ----------
    datafit, penalty : the estimator's datafit and penalty (the penalty's alpha is
        replaced along the path)
    targets : list of ndarray
        The encoded target of each binary/regression problem (one per class for a
        one-vs-rest multiclass logistic regression).
    sample_weight : ndarray or None
        With ``class_weight`` folded in.
    classes : ndarray or None
        Class labels of a classifier.
    fit_intercept : bool
    settings : dict
        ``tol``, ``max_iter``, ``screening``, ``solver`` of the estimator.
    """

    datafit: object
    penalty: object
    targets: list
    sample_weight: object
    classes: object
    fit_intercept: bool
    settings: dict


def _binary_signs(codes, positive):
    return np.where(codes == positive, 1.0, -1.0)


def glm_spec(estimator, y, sample_weight):
    """The :class:`GLMSpec` of a sksafe estimator on target ``y``.

    Supports :class:`~sksafe.SafeScreeningLogisticRegression` (one-vs-rest
    beyond two classes, ``class_weight``) and every estimator built on
    ``BaseSparseRegressor`` (Lasso, elastic net, Huber, Poisson, ``SparseGLM``;
    a ``SparseGLM`` with a classification datafit takes two classes).
    """
    if isinstance(estimator, SafeScreeningLogisticRegression):
        estimator._check_solver_params()
        datafit, penalty = Logistic(), ElasticNet(l1_ratio=estimator.l1_ratio)
        check_classification_targets(y)
        encoder = LabelEncoder().fit(y)
        classes, codes = encoder.classes_, encoder.transform(y)
        if classes.size < 2:
            raise ValueError(f"This solver needs samples of at least 2 classes in the data, "
                             f"but the data contains only one class: {classes[0]!r}.")
        if estimator.multi_class != "ovr" and classes.size > 2:
            raise ValueError("Paths and cross-validation fit multiclass logistic regression "
                             "one-vs-rest: use multi_class='ovr'.")
        targets = ([_binary_signs(codes, 1)] if classes.size == 2
                   else [_binary_signs(codes, k) for k in range(classes.size)])
        if estimator.class_weight is not None:
            class_sw = compute_sample_weight(estimator.class_weight, y)
            sample_weight = class_sw if sample_weight is None else sample_weight * class_sw
    elif isinstance(estimator, BaseSparseRegressor):
        estimator._check_solver_params()
        datafit, penalty = estimator._datafit_penalty()
        check_path_model(datafit, penalty)
        classes = None
        if getattr(datafit, "is_classifier", False):
            check_classification_targets(y)
            encoder = LabelEncoder().fit(y)
            if encoder.classes_.size != 2:
                raise ValueError(f"Only binary classification is supported with datafit "
                                 f"{datafit!r}; got {encoder.classes_.size} classes.")
            classes = encoder.classes_
            targets = [_binary_signs(encoder.transform(y), 1)]
        else:
            targets = [np.asarray(y, dtype=np.float64)]
    else:
        raise ValueError(f"{type(estimator).__name__} is not a sksafe sparse linear estimator "
                         "(SafeScreeningLasso, SafeScreeningElasticNet, "
                         "SafeScreeningLogisticRegression, SparseGLM, ...).")
    settings = {"tol": estimator.tol, "max_iter": estimator.max_iter,
                "screening": estimator.screening, "solver": getattr(estimator, "solver", "auto")}
    return GLMSpec(datafit, penalty, targets, sample_weight, classes,
                   bool(estimator.fit_intercept), settings)


def rows_sliceable(X):
    """``X`` in a format whose rows can be taken (COO and others become CSR; no densifying)."""
    return X.tocsr() if sp.issparse(X) and X.format not in ("csr", "csc") else X


def spec_alpha_max(X, spec):
    """Largest ``alpha_max`` over the problems of ``spec`` (all of the data)."""
    return max(compute_alpha_max(X, target, spec.datafit, spec.penalty.with_alpha(1.0),
                                 sample_weight=spec.sample_weight,
                                 fit_intercept=spec.fit_intercept)
               for target in spec.targets)


def spec_grid(X, spec, alphas, n_alphas, eps):
    """The alpha grid of ``spec``: a checked user grid or the automatic one on all the data."""
    return resolve_alphas(alphas, n_alphas, eps, lambda: spec_alpha_max(X, spec))


def select_alpha(scores):
    """Best and one-standard-error choices from ``scores`` (higher is better).

    ``scores`` has shape (n_l1_ratios, n_alphas, n_folds) with the alphas in
    decreasing order. The best pair maximises the mean over folds (first one on
    ties: the largest alpha, the first ``l1_ratio``); the one-standard-error
    alpha is the largest alpha of the same ``l1_ratio`` whose mean is within one
    standard error of the best, the standard error being the fold standard
    deviation (ddof=1) over ``sqrt(n_folds)``, as glmnet's ``cvsd``. Returns
    ``(i_best, k_best, k_1se)``.
    """
    mean = scores.mean(axis=2)
    n_folds = scores.shape[2]
    se = scores.std(axis=2, ddof=1) / np.sqrt(n_folds) if n_folds > 1 else np.zeros_like(mean)
    if not np.any(np.isfinite(mean)):
        raise ValueError("Every cross-validation score is NaN or infinite.")
    i_best, k_best = np.unravel_index(np.nanargmax(mean), mean.shape)
    within = np.flatnonzero(mean[i_best] >= mean[i_best, k_best] - se[i_best, k_best])
    return int(i_best), int(k_best), int(within[0])


class _SparseCVMixin:
    """``fit`` shared by the CV estimators.

    Subclasses define ``_classifier`` (bool), ``_l1_ratio_grid()`` (the list of
    ``l1_ratio`` values, ``[None]`` when there is none), ``_template(alpha,
    l1_ratio)`` (the unfitted single-alpha estimator), ``_fold_scores(...)``
    (one fold's score per alpha, higher is better) and ``_set_scores(scores)``
    (the public score attribute).
    """

    def _check_cv_params(self):
        if self.alpha_rule not in ("min", "1se"):
            raise ValueError(f"alpha_rule must be 'min' or '1se', got {self.alpha_rule!r}.")
        if not isinstance(self.strong_rule, (bool, np.bool_)):
            raise ValueError(f"strong_rule must be a bool, got {self.strong_rule!r}.")
        if self.alphas is not None and not isinstance(self.alphas, numbers.Integral):
            check_alphas(self.alphas)
        else:
            alpha_grid(1.0, n_alphas=self.n_alphas if self.alphas is None else self.alphas,
                       eps=self.eps)

    def _folds(self, X, y, groups):
        cv = check_cv(self.cv, y, classifier=self._classifier)
        n_splits = cv.get_n_splits(X, y, groups)
        if n_splits > X.shape[0]:
            raise ValueError(f"Cannot cross-validate with {n_splits} folds on "
                             f"n_samples={X.shape[0]}: there must be at least as many samples "
                             "as folds.")
        return list(cv.split(X, y, groups))

    def fit(self, X, y, sample_weight=None, groups=None):
        """Cross-validate the alpha grid, then refit the chosen model on all the data.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data; sparse matrices are never densified.
        y : array-like of shape (n_samples,)
        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the training objective of every fold (and of the refit).
        groups : array-like of shape (n_samples,), default=None
            Group labels for a group-aware splitter (``cv=GroupKFold(...)``).

        Returns
        -------
        self : object
        """
        self._check_solver_params()
        self._check_cv_params()
        X, y = check_Xy(self, X, y, classifier=self._classifier)
        X = rows_sliceable(X)
        sample_weight = check_weights(sample_weight, X)
        folds = self._folds(X, y, groups)
        l1_ratios = self._l1_ratio_grid()
        specs = [glm_spec(self._template(1.0, l1), y, sample_weight) for l1 in l1_ratios]
        grids = [spec_grid(X, spec, self.alphas, self.n_alphas, self.eps) for spec in specs]
        tasks, keys = [], []
        for i, spec in enumerate(specs):
            settings = dict(spec.settings, strong_rule=self.strong_rule)
            for f, (train, test) in enumerate(folds):
                for t, target in enumerate(spec.targets):
                    tasks.append(((X, target, spec.sample_weight, train, spec.datafit,
                                   spec.penalty, grids[i], spec.fit_intercept, settings),
                                  {"test": test}))
                    keys.append((i, f, t))
        results = run_paths(tasks, n_jobs=self.n_jobs, verbose=self.verbose,
                            desc=type(self).__name__)
        by_key = dict(zip(keys, results))
        n_alphas = grids[0].shape[0]
        scores = np.empty((len(specs), n_alphas, len(folds)))
        gaps = np.empty_like(scores)
        for i, spec in enumerate(specs):
            for f, (_, test) in enumerate(folds):
                outs = [by_key[i, f, t] for t in range(len(spec.targets))]
                scores[i, :, f] = self._fold_scores(spec, outs, X, y, sample_weight, test,
                                                    grids[i], l1_ratios[i])
                gaps[i, :, f] = np.max([out["dual_gaps"] for out in outs], axis=0)
        self._warn_missed(gaps)
        i_best, k_best, k_1se = select_alpha(scores)
        squeeze = len(specs) == 1
        self.alphas_ = grids[0] if squeeze else np.array(grids)
        self.alpha_min_ = float(grids[i_best][k_best])
        self.alpha_1se_ = float(grids[i_best][k_1se])
        k_chosen = k_best if self.alpha_rule == "min" else k_1se
        self.alpha_ = float(grids[i_best][k_chosen])
        if l1_ratios[0] is not None:
            self.l1_ratio_ = float(l1_ratios[i_best])
        self.cv_dual_gaps_ = gaps[0] if squeeze else gaps
        self._set_scores(scores[0] if squeeze else scores)
        self._refit(X, y, sample_weight, l1_ratios[i_best],
                    [by_key[i_best, f, t] for f in range(len(folds))
                     for t in range(len(specs[i_best].targets))], k_chosen)
        return self

    def _warn_missed(self, gaps):
        missed = np.count_nonzero(gaps > self.tol)
        if missed and self.tol > 0:
            warnings.warn(f"{missed} of {gaps.size} fold fits did not reach the relative duality "
                          f"gap tol={self.tol:.1e} (largest {gaps.max():.2e}); increase max_iter.",
                          ConvergenceWarning, stacklevel=3)

    def _refit(self, X, y, sample_weight, l1_ratio, fold_outs, k):
        """Fit ``_template(alpha_, l1_ratio)`` on all the data and take its fitted attributes."""
        model = self._template(self.alpha_, l1_ratio).fit(X, y, sample_weight=sample_weight)
        self._take_fitted(model)

    def _take_fitted(self, model):
        for key, value in vars(model).items():
            if (key.endswith("_") and not key.startswith("_")
                    and key not in ("n_features_in_", "feature_names_in_")):
                setattr(self, key, value)

    def _surrogate(self, spec, outs, alphas, l1_ratio, k, n_features):
        """A fitted single-alpha estimator holding the fold's coefficients at ``alphas[k]``.

        It lets any scikit-learn scorer evaluate a point of a fold's path.
        """
        model = self._template(float(alphas[k]), l1_ratio)
        coef = np.array([out["coefs"][:, [k]].toarray().ravel() for out in outs])
        intercept = np.array([out["intercepts"][k] for out in outs])
        model.n_features_in_ = n_features
        if spec.classes is not None:
            model.classes_ = spec.classes
        if isinstance(model, SafeScreeningLogisticRegression):
            model.coef_, model.intercept_ = coef, intercept
            # one report per binary problem: how the estimator tells one-vs-rest
            # probabilities from softmax ones (the path keeps no SolveResult)
            model.fit_report_ = [None] * len(outs) if len(outs) > 1 else None
        else:
            model.coef_, model.intercept_ = coef[0], float(intercept[0])
        return model

    def _scorer_scores(self, spec, outs, X, y, test, alphas, l1_ratio):
        """Score of every alpha of a fold with the scikit-learn scorer ``self.scoring``."""
        scorer = check_scoring(self._template(1.0, l1_ratio), scoring=self.scoring)
        X_test, y_test = X[test], y[test]
        return np.array([scorer(self._surrogate(spec, outs, alphas, l1_ratio, k, X.shape[1]),
                                X_test, y_test) for k in range(alphas.shape[0])])


_CV_PARAMS = """    alphas : array-like or int, default=None
        The alpha grid. ``None`` (or an integer, its size): ``n_alphas`` values from
        ``alpha_max`` of all the data down to ``eps * alpha_max``, geometrically. An
        array: values > 0; an unsorted one is sorted in decreasing order with a
        ``UserWarning``.
    n_alphas : int, default=100
    eps : float, default=1e-3
        ``alpha_min / alpha_max`` of the automatic grid.
    cv : int, cross-validation generator or iterable, default=None
        As in scikit-learn: ``None`` is 5 folds; there must be at least as many
        samples as folds.
    alpha_rule : {"min", "1se"}, default="min"
        ``"min"``: the alpha with the best mean CV score. ``"1se"``: the largest alpha
        whose mean score is within one standard error of the best (glmnet's
        ``lambda.1se``): a sparser model, statistically as good. Both are stored
        (``alpha_min_``, ``alpha_1se_``).
    fit_intercept : bool, default=True
    tol : float, default=1e-4
        Relative duality gap of every fit: ``P(w) - D(theta) <= tol * P(0)``.
    max_iter : int, default=100
        Outer working-set iterations per fit.
    screening : bool, default=True
        Dynamic and sequential Gap Safe screening (same results without; slower).
    strong_rule : bool, default=False
        Also seed each working set with the sequential strong rule (the gap still
        decides convergence).
    n_jobs : int, default=None
        Folds (x l1_ratios x classes) fitted in parallel by joblib; ``None`` follows
        the active ``joblib.parallel_config`` (a Dask backend included).
    verbose : int, default=0
        A progress bar (tqdm) over the fold paths."""

_CV_ATTRIBUTES = """    alpha_ : float
        The chosen alpha (``alpha_min_`` or ``alpha_1se_``, by ``alpha_rule``).
    alpha_min_ : float
        Alpha with the best mean CV score.
    alpha_1se_ : float
        Largest alpha within one standard error of the best mean score.
    alphas_ : ndarray of shape (n_alphas,) or (n_l1_ratios, n_alphas)
        The grid(s), decreasing.
    cv_dual_gaps_ : ndarray, shape of the score path
        Relative duality gap of each fold fit (largest over the classes).
    coef_, intercept_, n_iter_, dual_gap_, n_screened_, alpha_max_, fit_report_ :
        Of the model refitted on all the data at ``alpha_``.
    n_features_in_ : int
    feature_names_in_ : ndarray of str"""


class _RegressorCVMixin(_SparseCVMixin):
    """Mean squared error on the held-out rows, as scikit-learn's ``LassoCV``."""

    _classifier = False

    def _fold_scores(self, spec, outs, X, y, sample_weight, test, alphas, l1_ratio):
        squared = (y[test][:, None] - outs[0]["decision"]) ** 2
        weights = None if sample_weight is None else sample_weight[test]
        return -np.average(squared, axis=0, weights=weights)

    def _set_scores(self, scores):
        self.mse_path_ = -scores


class SafeScreeningLassoCV(_RegressorCVMixin, BaseSparseRegressor):
    __doc__ = f"""Lasso with the alpha chosen by cross-validation, Gap Safe screened paths.

    For each fold, the path of::

        P(w, b) = (1 / (2 n)) sum_i s_i (y_i - x_i^T w - b)^2 + alpha ||w||_1

    is fitted on the training rows over the whole grid (warm starts, sequential
    Gap Safe screening) and scored by the mean squared error on the held-out rows
    (weighted by ``sample_weight``), exactly as
    :class:`sklearn.linear_model.LassoCV`: given the same folds and grid both
    choose the same ``alpha_``. The model at ``alpha_`` is then refitted on all
    the data.

    Parameters
    ----------
{_CV_PARAMS}
    positive : bool, default=False
        Constrain the coefficients to be non-negative.

    Attributes
    ----------
{_CV_ATTRIBUTES}
    mse_path_ : ndarray of shape (n_alphas, n_folds)
        Held-out mean squared error of each alpha on each fold.

    Examples
    --------
    >>> from sklearn.datasets import make_regression
    >>> from sksafe import SafeScreeningLassoCV
    >>> X, y = make_regression(n_samples=60, n_features=200, n_informative=5,
    ...                        noise=1.0, random_state=0)
    >>> model = SafeScreeningLassoCV(n_alphas=30, cv=3).fit(X, y)
    >>> model.mse_path_.shape
    (30, 3)
    """

    def __init__(self, *, alphas=None, n_alphas=100, eps=1e-3, cv=None, alpha_rule="min",
                 fit_intercept=True, positive=False, tol=1e-4, max_iter=100, screening=True,
                 strong_rule=False, n_jobs=None, verbose=0):
        self.alphas = alphas
        self.n_alphas = n_alphas
        self.eps = eps
        self.cv = cv
        self.alpha_rule = alpha_rule
        self.fit_intercept = fit_intercept
        self.positive = positive
        self.tol = tol
        self.max_iter = max_iter
        self.screening = screening
        self.strong_rule = strong_rule
        self.n_jobs = n_jobs
        self.verbose = verbose

    def _l1_ratio_grid(self):
        return [None]

    def _template(self, alpha, l1_ratio):
        return SafeScreeningLasso(alpha=alpha, fit_intercept=self.fit_intercept,
                                  positive=self.positive, tol=self.tol, max_iter=self.max_iter,
                                  screening=self.screening)


class SafeScreeningElasticNetCV(_RegressorCVMixin, BaseSparseRegressor):
    __doc__ = f"""Elastic net with alpha and l1_ratio chosen by cross-validation.

    For each ``l1_ratio`` and each fold, the path of::

        P(w, b) = (1 / (2 n)) sum_i s_i (y_i - x_i^T w - b)^2
                  + alpha l1_ratio ||w||_1 + alpha (1 - l1_ratio) / 2 ||w||_2^2

    is fitted over that ``l1_ratio``'s grid (from ``alpha_max / l1_ratio``) and
    scored by the held-out mean squared error, as
    :class:`sklearn.linear_model.ElasticNetCV`. The best pair is refitted on all
    the data.

    Parameters
    ----------
    l1_ratio : float or array-like of floats, default=0.5
        Mixing parameter(s) in (0, 1] to cross-validate (0 needs an explicit grid).
{_CV_PARAMS}
    positive : bool, default=False

    Attributes
    ----------
{_CV_ATTRIBUTES}
    l1_ratio_ : float
        The chosen mixing parameter.
    mse_path_ : ndarray of shape (n_alphas, n_folds) or (n_l1_ratios, n_alphas, n_folds)
        Held-out mean squared errors (2-d when ``l1_ratio`` is a single value).
    """

    def __init__(self, *, l1_ratio=0.5, alphas=None, n_alphas=100, eps=1e-3, cv=None,
                 alpha_rule="min", fit_intercept=True, positive=False, tol=1e-4, max_iter=100,
                 screening=True, strong_rule=False, n_jobs=None, verbose=0):
        self.l1_ratio = l1_ratio
        self.alphas = alphas
        self.n_alphas = n_alphas
        self.eps = eps
        self.cv = cv
        self.alpha_rule = alpha_rule
        self.fit_intercept = fit_intercept
        self.positive = positive
        self.tol = tol
        self.max_iter = max_iter
        self.screening = screening
        self.strong_rule = strong_rule
        self.n_jobs = n_jobs
        self.verbose = verbose

    def _l1_ratio_grid(self):
        return _as_l1_ratios(self.l1_ratio, "l1_ratio")

    def _template(self, alpha, l1_ratio):
        return SafeScreeningElasticNet(alpha=alpha, l1_ratio=l1_ratio,
                                       fit_intercept=self.fit_intercept, positive=self.positive,
                                       tol=self.tol, max_iter=self.max_iter,
                                       screening=self.screening)


def _as_l1_ratios(value, name):
    values = np.atleast_1d(np.asarray(value, dtype=np.float64))
    if values.ndim != 1 or values.size == 0:
        raise ValueError(f"{name} must be a float or a non-empty 1-d sequence, got {value!r}.")
    return [float(v) for v in values]


#: scorings computed in closed form from the decision values (no estimator per alpha)
FAST_SCORINGS = ("accuracy", "neg_log_loss", "roc_auc")


def _class_probabilities(decision):
    """Probabilities of every class: ``(n, n_alphas)`` binary decisions give P(class 1);
    ``(n_classes, n, n_alphas)`` one-vs-rest decisions are normalised over classes."""
    p = expit(decision)
    return p if decision.ndim == 2 else p / p.sum(axis=0, keepdims=True)


def classification_scores(scoring, decision, codes):
    """Score of every alpha from decision values (higher is better).

    ``decision`` is ``(n_test, n_alphas)`` (binary: the decision of class 1) or
    ``(n_classes, n_test, n_alphas)`` (one-vs-rest); ``codes`` are the test labels
    as class indices. The formulas are scikit-learn's (``log_loss`` clips the
    probabilities to ``[eps, 1 - eps]``; ``roc_auc`` is the rank statistic with
    ties counted one half), without building an estimator per alpha.
    """
    binary = decision.ndim == 2
    if scoring == "accuracy":
        predicted = (decision > 0).astype(int) if binary else decision.argmax(axis=0)
        return np.mean(predicted == codes[:, None], axis=0)
    if scoring == "neg_log_loss":
        p = _class_probabilities(decision)
        p_true = (np.where(codes[:, None] == 1, p, 1.0 - p) if binary
                  else p[codes, np.arange(codes.size)])
        eps = np.finfo(p_true.dtype).eps
        return np.mean(np.log(np.clip(p_true, eps, 1.0 - eps)), axis=0)
    if not binary:
        raise ValueError("scoring='roc_auc' is for binary problems; use a multiclass scorer "
                         "such as 'roc_auc_ovr'.")
    positive = codes == 1
    n_pos = np.count_nonzero(positive)
    n_neg = codes.size - n_pos
    if n_pos == 0 or n_neg == 0:
        return np.full(decision.shape[1], np.nan)
    ranks = rankdata(decision, axis=0)
    return (ranks[positive].sum(axis=0) - n_pos * (n_pos + 1) / 2.0) / (n_pos * n_neg)


class SafeScreeningLogisticRegressionCV(_SparseCVMixin, SafeScreeningLogisticRegression):
    __doc__ = f"""L1 / elastic-net logistic regression with alpha chosen by cross-validation.

    For each ``l1_ratio`` and fold, the path of::

        P(w, b) = (1 / n) sum_i s_i log(1 + exp(-y_i (x_i^T w + b)))
                  + alpha (l1_ratio ||w||_1 + (1 - l1_ratio) / 2 ||w||_2^2)

    is fitted on the training rows (one-vs-rest beyond two classes, one alpha for
    every class) and each alpha is scored on the held-out rows; the best model is
    refitted on all the data.

    The grid is in ``alpha`` (our mean-loss convention), not in scikit-learn's
    ``C``: on a training fold of ``n_train`` samples ``alpha = 1 / (n_train C)``.
    Given the same folds, equal-sized training folds and the grid ``C = 1 /
    (n_train alpha)``, :class:`sklearn.linear_model.LogisticRegressionCV` (with an
    exact solver; ``liblinear`` penalises the intercept) scores and chooses the same
    model; with folds of unequal sizes one ``C`` is a slightly different ``alpha``
    on each fold, one ``alpha`` is the same regularisation per sample everywhere
    (glmnet's convention).

    Parameters
    ----------
    l1_ratios : float or array-like of floats, default=(1.0,)
        Mixing parameter(s) in (0, 1] to cross-validate.
{_CV_PARAMS}
    scoring : str or callable, default="neg_log_loss"
        ``"accuracy"``, ``"neg_log_loss"`` and ``"roc_auc"`` (binary) are computed in
        closed form from the decision values; any other scikit-learn scorer name or
        callable ``scorer(estimator, X, y)`` is evaluated on a fitted
        :class:`~sksafe.SafeScreeningLogisticRegression` per alpha. Scores are not
        weighted by ``sample_weight``, as in scikit-learn.
    refit : bool, default=True
        Refit on all the data at the chosen alpha; ``False`` averages the folds'
        coefficients and intercepts at that alpha instead (scikit-learn averages
        each fold's own best model).
    class_weight : dict or "balanced", default=None
    solver : {{"auto", "prox_newton", "fista"}}, default="auto"

    Attributes
    ----------
{_CV_ATTRIBUTES}
    l1_ratio_ : float
    classes_ : ndarray of shape (n_classes,)
    scores_path_ : ndarray of shape (n_alphas, n_folds) or (n_l1_ratios, n_alphas, n_folds)
        Held-out score of each alpha on each fold (higher is better).
    """

    _classifier = True

    def __init__(self, *, l1_ratios=(1.0,), alphas=None, n_alphas=100, eps=1e-3, cv=None,
                 scoring="neg_log_loss", alpha_rule="min", refit=True, fit_intercept=True,
                 class_weight=None, tol=1e-4, max_iter=100, solver="auto", screening=True,
                 strong_rule=False, n_jobs=None, verbose=0):
        self.l1_ratios = l1_ratios
        self.alphas = alphas
        self.n_alphas = n_alphas
        self.eps = eps
        self.cv = cv
        self.scoring = scoring
        self.alpha_rule = alpha_rule
        self.refit = refit
        self.fit_intercept = fit_intercept
        self.class_weight = class_weight
        self.tol = tol
        self.max_iter = max_iter
        self.solver = solver
        self.screening = screening
        self.strong_rule = strong_rule
        self.n_jobs = n_jobs
        self.verbose = verbose

    def _l1_ratio_grid(self):
        return _as_l1_ratios(self.l1_ratios, "l1_ratios")

    def _template(self, alpha, l1_ratio):
        return SafeScreeningLogisticRegression(
            alpha=alpha, l1_ratio=l1_ratio, fit_intercept=self.fit_intercept,
            class_weight=self.class_weight, tol=self.tol, max_iter=self.max_iter,
            solver=self.solver, screening=self.screening)

    def _fold_scores(self, spec, outs, X, y, sample_weight, test, alphas, l1_ratio):
        if self.scoring in FAST_SCORINGS:
            decision = (outs[0]["decision"] if len(outs) == 1
                        else np.array([out["decision"] for out in outs]))
            codes = np.searchsorted(spec.classes, y[test])
            return classification_scores(self.scoring, decision, codes)
        return self._scorer_scores(spec, outs, X, y, test, alphas, l1_ratio)

    def _set_scores(self, scores):
        self.scores_path_ = scores

    def _refit(self, X, y, sample_weight, l1_ratio, fold_outs, k):
        if self.refit:
            super()._refit(X, y, sample_weight, l1_ratio, fold_outs, k)
            return
        spec = glm_spec(self._template(self.alpha_, l1_ratio), y, sample_weight)
        n_targets = len(spec.targets)
        coefs = np.array([out["coefs"][:, [k]].toarray().ravel() for out in fold_outs])
        intercepts = np.array([out["intercepts"][k] for out in fold_outs])
        self.classes_ = spec.classes
        self.coef_ = coefs.reshape(-1, n_targets, X.shape[1]).mean(axis=0).astype(X.dtype)
        self.intercept_ = intercepts.reshape(-1, n_targets).mean(axis=0).astype(X.dtype)


class SparseGLMCV(_SparseCVMixin, SparseGLM):
    __doc__ = f"""Cross-validated :class:`~sksafe.SparseGLM`: any datafit, any penalty.

    For each fold, the path of::

        P(w, b) = sum_i s_i f(y_i, x_i^T w + b) + g_alpha(w),     sum_i s_i = 1

    (``f`` from ``datafit``, ``g_alpha = penalty.with_alpha(alpha)``: the
    penalty's ``alpha`` is replaced by the grid, its other parameters are kept)
    is fitted on the training rows and scored on the held-out rows; the best
    alpha is refitted on all the data.

    Parameters
    ----------
    datafit : datafit object, default=None
        ``None`` means :class:`~sksafe.datafits.Quadratic`.
    penalty : penalty object, default=None
        ``None`` means :class:`~sksafe.penalties.L1`.
{_CV_PARAMS}
    scoring : str, callable or None, default=None
        ``None``: the held-out mean datafit loss ``sum_i s_i f(y_i, z_i)`` (the
        deviance; squared error / 2 for ``Quadratic``, log-loss for ``Logistic``),
        weighted by ``sample_weight``. Otherwise any scikit-learn scorer, evaluated
        on a fitted :class:`~sksafe.SparseGLM` per alpha.
    solver : {{"auto", "cd", "prox_newton", "fista"}}, default="auto"

    Attributes
    ----------
{_CV_ATTRIBUTES}
    scores_path_ : ndarray of shape (n_alphas, n_folds)
        Held-out score of each alpha on each fold (higher is better; minus the
        mean datafit loss with ``scoring=None``).
    classes_ : ndarray of shape (2,)
        Only with a classification datafit.
    """

    def __init__(self, datafit=None, penalty=None, *, alphas=None, n_alphas=100, eps=1e-3,
                 cv=None, scoring=None, alpha_rule="min", solver="auto", fit_intercept=True,
                 tol=1e-4, max_iter=100, screening=True, strong_rule=False, n_jobs=None,
                 verbose=0):
        self.datafit = datafit
        self.penalty = penalty
        self.alphas = alphas
        self.n_alphas = n_alphas
        self.eps = eps
        self.cv = cv
        self.scoring = scoring
        self.alpha_rule = alpha_rule
        self.solver = solver
        self.fit_intercept = fit_intercept
        self.tol = tol
        self.max_iter = max_iter
        self.screening = screening
        self.strong_rule = strong_rule
        self.n_jobs = n_jobs
        self.verbose = verbose

    @property
    def _classifier(self):
        return self._is_classifier()

    def _l1_ratio_grid(self):
        return [None]

    def _template(self, alpha, l1_ratio):
        datafit, penalty = self._datafit_penalty()
        return SparseGLM(datafit=datafit, penalty=penalty.with_alpha(alpha), solver=self.solver,
                         fit_intercept=self.fit_intercept, tol=self.tol, max_iter=self.max_iter,
                         screening=self.screening)

    def _fold_scores(self, spec, outs, X, y, sample_weight, test, alphas, l1_ratio):
        if self.scoring is not None:
            return self._scorer_scores(spec, outs, X, y, test, alphas, l1_ratio)
        target = spec.targets[0][test]
        weights = (np.full(test.size, 1.0 / test.size) if sample_weight is None
                   else sample_weight[test] / sample_weight[test].sum())
        decision = np.ascontiguousarray(outs[0]["decision"].T)
        return -np.array([spec.datafit.value(z, target, weights) for z in decision])

    def _set_scores(self, scores):
        self.scores_path_ = scores
