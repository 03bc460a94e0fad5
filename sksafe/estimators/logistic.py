"""Sparse logistic regression with dynamic Gap Safe screening (exact intercept)."""
import numpy as np
from scipy.special import expit, softmax
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.preprocessing import LabelEncoder
from sklearn.utils.class_weight import compute_sample_weight
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted

from ..datafits import Logistic, Multinomial
from ..penalties import L21, ElasticNet, EntrywiseL1
from ..utils.validation import (check_weighted_classes, check_weights, check_X_predict,
                                is_dask_collection,
                                check_Xy)
from .base import _SolverParamsMixin


class SafeScreeningLogisticRegression(_SolverParamsMixin, ClassifierMixin, BaseEstimator):
    """L1 / elastic-net logistic regression with dynamic Gap Safe screening.

    For each binary problem (labels mapped to ``y_i in {-1, +1}``) it minimises::

        P(w, b) = (1 / n) sum_i s_i log(1 + exp(-y_i (x_i^T w + b)))
                  + alpha (l1_ratio ||w||_1 + (1 - l1_ratio) / 2 ||w||_2^2)

    (sample weights ``s`` normalised to sum to ``n``; 1 by default). This is
    scikit-learn's ``LogisticRegression(C=C)`` objective divided by ``n C``: the
    two coincide for ``alpha = 1 / (n C)`` (``n`` the sum of the sample weights),
    except that scikit-learn's ``liblinear`` also penalises the intercept; ours is
    unpenalised and minimised exactly before every duality-gap evaluation, which
    keeps the dual point feasible (``sum_i theta_i = 0``) and Gap Safe screening
    valid with an intercept. Solved by working-set proximal Newton.

    Multiclass problems are fitted one-vs-rest (one binary model per class) by
    default. With ``multi_class="multinomial"`` one softmax model is fitted instead::

        P(W, b) = (1 / n) sum_i s_i (log sum_k exp(x_i^T W_k + b_k) - x_i^T W_{y_i} - b_{y_i})
                  + penalty(W)

    (scikit-learn's multinomial ``LogisticRegression`` divided by ``n C``), with the
    entrywise elastic net of ``alpha`` and ``l1_ratio``, or, with
    ``multinomial_penalty="group"``, ``alpha (l1_ratio sum_j ||W_j||_2 + (1 - l1_ratio)
    ||W||_F^2 / 2)``: each feature is kept or removed for all classes together. It is
    solved by block prox-Newton with Gap Safe screening of features (2-strongly
    concave dual). Binary problems are always one logistic model.

    Parameters
    ----------
    alpha : float, default=0.01
        Regularisation strength (>= 0).
    l1_ratio : float, default=1.0
        Mixing parameter in [0, 1] (1: L1, 0: ridge).
    fit_intercept : bool, default=True
    class_weight : dict or "balanced", default=None
        Multiplies the sample weights by class, as in scikit-learn.
    tol : float, default=1e-4
        Relative duality gap to reach: stop when ``P(w) - D(theta) <= tol * P(0)``.
    max_iter : int, default=100
        Outer working-set iterations (``solver="fista"``: ``100 * max_iter``
        proximal-gradient iterations, which ``n_iter_`` then counts).
    solver : {"auto", "prox_newton", "fista"}, default="auto"
        ``"fista"`` is for one-vs-rest only.
    multi_class : {"ovr", "multinomial"}, default="ovr"
        How more than two classes are fitted.
    multinomial_penalty : {"entrywise", "group"}, default="entrywise"
        Penalty of the multinomial model (see above).
    screening : bool, default=True
        Dynamic Gap Safe screening on/off (same solution; off is slower).
    warm_start : bool, default=False
        Start from the previous coefficients and dual points.
    verbose : int, default=0

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
    coef_ : ndarray of shape (1, n_features) or (n_classes, n_features)
    intercept_ : ndarray of shape (1,) or (n_classes,)
    n_iter_ : ndarray of shape (1,) or (n_classes,)
        Outer iterations per binary problem (multinomial: shape (1,)).
    dual_gap_ : float or ndarray of shape (n_classes,)
        Relative duality gap reached (per class for one-vs-rest).
    n_screened_ : int or ndarray of shape (n_classes,)
        Features removed by screening.
    alpha_max_ : float or ndarray of shape (n_classes,)
        Smallest ``alpha`` giving all-zero coefficients (per binary problem).
    fit_report_ : SolveResult or list of SolveResult
        Gap history and screening record of each binary problem (multinomial: one
        SolveResult, and ``dual_gap_``, ``n_screened_``, ``alpha_max_`` are scalars).
    n_features_in_ : int
    feature_names_in_ : ndarray of str
    """

    def __init__(self, alpha=0.01, l1_ratio=1.0, fit_intercept=True, class_weight=None, tol=1e-4,
                 max_iter=100, solver="auto", multi_class="ovr", multinomial_penalty="entrywise",
                 screening=True, warm_start=False, verbose=0):
        self.alpha = alpha
        self.l1_ratio = l1_ratio
        self.fit_intercept = fit_intercept
        self.class_weight = class_weight
        self.tol = tol
        self.max_iter = max_iter
        self.solver = solver
        self.multi_class = multi_class
        self.multinomial_penalty = multinomial_penalty
        self.screening = screening
        self.warm_start = warm_start
        self.verbose = verbose

    def fit(self, X, y, sample_weight=None):
        """Fit the model to relative duality gap ``tol``.

        Parameters
        ----------
        X : {array-like, sparse matrix, dask array} of shape (n_samples, n_features)
            Training data; sparse matrices are never densified. A dask array is
            fitted on the cluster of the default ``dask.distributed`` client
            (:mod:`sksafe.distributed`; binary and one-vs-rest).
        y : array-like of shape (n_samples,)
            Class labels (any two or more distinct values).
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights; integer weights are equivalent to repeating rows.

        Returns
        -------
        self : object
        """
        self._check_solver_params()
        if self.solver == "cd":
            raise ValueError("solver='cd' is for the quadratic loss; use 'auto', "
                             "'prox_newton' or 'fista'.")
        penalty = ElasticNet(alpha=self.alpha, l1_ratio=self.l1_ratio)
        penalty.l1_l2_weights(1)  # validates alpha and l1_ratio before any work
        if self.multi_class not in ("ovr", "multinomial"):
            raise ValueError(f"multi_class must be 'ovr' or 'multinomial', got "
                             f"{self.multi_class!r}.")
        if self.multinomial_penalty not in ("entrywise", "group"):
            raise ValueError(f"multinomial_penalty must be 'entrywise' or 'group', got "
                             f"{self.multinomial_penalty!r}.")
        if is_dask_collection(X) or is_dask_collection(y):
            from ..distributed._estimator import fit_dask

            return fit_dask(self, X, y, sample_weight, Logistic(), penalty)
        X, y = check_Xy(self, X, y, classifier=True)
        check_classification_targets(y)
        encoder = LabelEncoder().fit(y)
        classes = encoder.classes_
        if classes.size < 2:
            raise ValueError(f"This solver needs samples of at least 2 classes in the data, "
                             f"but the data contains only one class: {classes[0]!r}.")
        y_codes = encoder.transform(y)
        sample_weight = check_weights(sample_weight, X)
        if self.class_weight is not None:
            class_sw = compute_sample_weight(self.class_weight, y)
            sample_weight = class_sw if sample_weight is None else sample_weight * class_sw
        check_weighted_classes(y_codes, sample_weight, classes)
        if self.multi_class == "multinomial" and classes.size > 2:
            return self._fit_multinomial(X, y_codes, classes, sample_weight)
        targets = [1] if classes.size == 2 else range(classes.size)
        warm = (self.warm_start and hasattr(self, "coef_")
                and self.coef_.shape == (len(targets), X.shape[1]))
        reports = []
        for k, target in enumerate(targets):
            signs = np.where(y_codes == target, 1.0, -1.0)
            start = None
            if warm:
                report = self.fit_report_[k] if isinstance(self.fit_report_, list) \
                    else self.fit_report_
                dual = report.dual_point if report.dual_point.shape[0] == X.shape[0] else None
                start = (self.coef_[k], float(self.intercept_[k]), dual)
            reports.append(self._solve(X, signs, Logistic(), penalty, sample_weight, start))
        self._set_fitted_ovr(classes, reports, X.dtype)
        return self

    def _set_fitted_ovr(self, classes, reports, dtype):
        """Fitted attributes of a binary or one-vs-rest fit (one report per model)."""
        self.classes_ = classes
        self.coef_ = np.array([r.coef for r in reports], dtype=dtype)
        self.intercept_ = np.array([r.intercept if self.fit_intercept else 0.0
                                    for r in reports], dtype=dtype)
        self.n_iter_ = np.array([r.n_iter for r in reports])
        gaps = np.array([r.relative_gap for r in reports])
        screened = np.array([int(np.sum(r.screened_at >= 0)) for r in reports])
        binary = classes.size == 2
        self.dual_gap_ = float(gaps[0]) if binary else gaps
        self.n_screened_ = int(screened[0]) if binary else screened
        alpha_max = np.array([r.alpha_max for r in reports])
        self.alpha_max_ = float(alpha_max[0]) if binary else alpha_max
        self.fit_report_ = reports[0] if binary else reports

    def _fit_multinomial(self, X, y_codes, classes, sample_weight):
        if self.solver == "fista":
            raise ValueError("solver='fista' is for one-vs-rest; multinomial fits use "
                             "prox-Newton (solver='auto' or 'prox_newton').")
        if self.multinomial_penalty == "group":
            penalty = L21(alpha=self.alpha, l1_ratio=self.l1_ratio)
        else:
            penalty = EntrywiseL1(alpha=self.alpha, l1_ratio=self.l1_ratio)
        onehot = np.eye(classes.size)[y_codes]
        start = None
        if (self.warm_start and hasattr(self, "coef_")
                and self.coef_.shape == (classes.size, X.shape[1])
                and not isinstance(self.fit_report_, list)):
            dual = self.fit_report_.dual_point
            start = (self.coef_.T, self.intercept_,
                     dual if dual.shape == onehot.shape else None)
        report = self._solve(X, onehot, Multinomial(), penalty, sample_weight, start)
        self.classes_ = classes
        self.coef_ = np.ascontiguousarray(report.coef.T).astype(X.dtype)
        # softmax scores are invariant to a common shift: report centred intercepts
        intercept = np.asarray(report.intercept, dtype=np.float64)
        self.intercept_ = (intercept - intercept.mean()).astype(X.dtype)
        self.n_iter_ = np.array([report.n_iter])
        self.dual_gap_ = float(report.relative_gap)
        self.n_screened_ = int(np.sum(report.screened_features))
        self.alpha_max_ = float(report.alpha_max)
        self.fit_report_ = report
        return self

    def _map_rows(self, method, X, n_outputs, dtype=np.float64):
        from ..distributed._estimator import map_rows

        check_is_fitted(self)
        return map_rows(method, X, n_outputs, dtype)

    def _is_multinomial(self):
        return not isinstance(self.fit_report_, list) and self.classes_.size > 2

    def decision_function(self, X):
        """Signed distance to the separating hyperplane(s).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        scores : ndarray of shape (n_samples,) or (n_samples, n_classes)
            A lazy dask array for dask input.
        """
        check_is_fitted(self)
        if is_dask_collection(X):
            return self._map_rows(self.decision_function, X,
                                  None if self.coef_.shape[0] == 1 else self.coef_.shape[0])
        X = check_X_predict(self, X)
        scores = np.asarray(X @ self.coef_.T) + self.intercept_
        return scores.ravel() if scores.shape[1] == 1 else scores

    def predict(self, X):
        """Predicted class labels.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        labels : ndarray of shape (n_samples,)
            A lazy dask array for dask input.
        """
        if is_dask_collection(X):
            return self._map_rows(self.predict, X, None, self.classes_.dtype)
        scores = self.decision_function(X)
        indices = (scores > 0).astype(int) if scores.ndim == 1 else scores.argmax(axis=1)
        return self.classes_[indices]

    def predict_proba(self, X):
        """Class probabilities (softmax for multinomial fits; one-vs-rest probabilities
        renormalised otherwise).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            A lazy dask array for dask input.
        """
        if is_dask_collection(X):
            return self._map_rows(self.predict_proba, X, self.classes_.size)
        scores = self.decision_function(X)
        if scores.ndim == 1:
            p = expit(scores)
            return np.column_stack([1.0 - p, p])
        if self._is_multinomial():
            return softmax(scores, axis=1)
        p = expit(scores)
        return p / p.sum(axis=1, keepdims=True)

    def predict_log_proba(self, X):
        """Logarithm of :meth:`predict_proba`."""
        return np.log(self.predict_proba(X))

