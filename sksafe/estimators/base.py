"""``SparseGLM``: any datafit with any separable penalty, as a scikit-learn estimator."""
import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.utils import ClassifierTags
from sklearn.utils.multiclass import check_classification_targets
from sklearn.preprocessing import LabelEncoder
from sklearn.utils.validation import check_is_fitted

from ..datafits import Quadratic
from ..penalties import L1
from ..solvers import solve
from ..utils.validation import (check_positive_int, check_tol, check_weighted_classes,
                                check_weights, check_X_predict, check_Xy, is_dask_collection)


class _SolverParamsMixin:
    """Validation of the solver parameters shared by every estimator."""

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags

    def _check_solver_params(self):
        check_tol(self.tol)
        check_positive_int(self.max_iter, "max_iter")
        if not isinstance(self.screening, (bool, np.bool_)):
            raise ValueError(f"screening must be a bool, got {self.screening!r}.")
        if not isinstance(self.fit_intercept, (bool, np.bool_)):
            raise ValueError(f"fit_intercept must be a bool, got {self.fit_intercept!r}.")

    def _solve(self, X, y, datafit, penalty, sample_weight, warm):
        """Call :func:`sksafe.solvers.solve` with this estimator's settings."""
        coef_init, intercept_init, dual_init = None, 0.0, None
        if warm is not None:
            coef_init, intercept_init, dual_init = warm
        return solve(X, y, datafit, penalty, sample_weight=sample_weight,
                     fit_intercept=self.fit_intercept, coef_init=coef_init,
                     intercept_init=intercept_init, dual_init=dual_init, tol=self.tol,
                     max_iter=self.max_iter, screening=self.screening,
                     solver=getattr(self, "solver", "auto"), verbose=self.verbose)


class BaseSparseRegressor(_SolverParamsMixin, RegressorMixin, BaseEstimator):
    """Shared ``fit``/``predict`` of the single-output regressors.

    Subclasses implement ``_datafit_penalty()`` returning the datafit and the
    penalty objects they stand for.
    """

    #: whether ``y`` is a matrix of targets (one column per task)
    _multi_output = False

    def _datafit_penalty(self):
        raise NotImplementedError

    def fit(self, X, y, sample_weight=None):
        """Fit the model to relative duality gap ``tol``.

        Parameters
        ----------
        X : {array-like, sparse matrix, dask array} of shape (n_samples, n_features)
            Training data; sparse matrices are never densified. A dask array is
            fitted on the cluster of the default ``dask.distributed`` client
            (:mod:`sksafe.distributed`).
        y : array-like of shape (n_samples,)
            Target values.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights; integer weights are equivalent to repeating rows.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        self._check_solver_params()
        datafit, penalty = self._datafit_penalty()
        if is_dask_collection(X) or is_dask_collection(y):
            from ..distributed._estimator import fit_dask

            return fit_dask(self, X, y, sample_weight, datafit, penalty)
        classifier = self._is_classifier()
        if getattr(datafit, "is_survival", False):
            from .cox import check_survival_Xy  # cox.py imports this module

            X, y = check_survival_Xy(self, X, y)
        else:
            X, y = check_Xy(self, X, y, classifier=classifier, multi_output=self._multi_output)
        sample_weight = check_weights(sample_weight, X)
        if classifier:
            y = self._encode_classes(y, sample_weight)
        report = self._solve(X, y, datafit, penalty, sample_weight, self._warm_point(X))
        self._set_fitted(report, X.dtype)
        return self

    def _is_classifier(self):
        return False

    def _warm_point(self, X):
        """``(coef, intercept, dual point)`` of the previous fit when ``warm_start``."""
        if not (self.warm_start and hasattr(self, "coef_")
                and self.coef_.shape[-1] == X.shape[1]):
            return None
        dual = self.fit_report_.dual_point
        intercept = self.intercept_ if self._multi_output else float(self.intercept_)
        if dual is not None and dual.shape[0] != X.shape[0]:
            dual = None
        return (self.coef_.T, intercept, dual)

    def _set_fitted(self, report, dtype):
        # multi-task coefficients in scikit-learn's layout, (n_tasks, n_features)
        self.coef_ = np.ascontiguousarray(report.coef.T).astype(dtype, copy=False)
        if report.coef.ndim == 2:
            self.intercept_ = np.asarray(report.intercept, dtype=dtype)
        else:
            self.intercept_ = (dtype.type(report.intercept) if self.fit_intercept
                               else dtype.type(0))
        self.n_iter_ = report.n_iter
        self.dual_gap_ = report.relative_gap
        self.certificate_ = report.certificate
        if report.certificate == "kkt":
            self.kkt_violation_ = report.kkt_violation
        elif hasattr(self, "kkt_violation_"):
            del self.kkt_violation_  # of an earlier non-convex fit
        screened = (report.screened_at >= 0 if report.screened_features is None
                    else report.screened_features)
        self.n_screened_ = int(np.sum(screened))
        self.alpha_max_ = report.alpha_max
        self.fit_report_ = report

    def predict(self, X):
        """Predict ``X @ coef_ + intercept_``.

        Parameters
        ----------
        X : {array-like, sparse matrix, dask array} of shape (n_samples, n_features)

        Returns
        -------
        y_pred : ndarray of shape (n_samples,) or (n_samples, n_tasks)
            A lazy dask array for dask input.
        """
        check_is_fitted(self)
        if is_dask_collection(X):
            from ..distributed._estimator import map_rows

            if self._is_classifier():
                return map_rows(self.predict, X, dtype=self.classes_.dtype)
            return map_rows(self.predict, X, self.coef_.shape[0] if self.coef_.ndim == 2 else None)
        X = check_X_predict(self, X)
        if self.coef_.ndim == 2:
            return np.asarray(X @ self.coef_.T) + self.intercept_
        return np.asarray(X @ self.coef_).ravel() + self.intercept_


class SparseGLM(BaseSparseRegressor):
    """Generalised sparse linear model: any datafit with any penalty.

    Minimises, over coefficients ``w`` and an intercept ``b``::

        P(w, b) = sum_i s_i f(y_i, x_i^T w + b) + g(w),     sum_i s_i = 1

    where ``f`` is given by ``datafit`` (e.g. :class:`~sksafe.datafits.Quadratic`:
    ``(y - z)^2 / 2``; :class:`~sksafe.datafits.Logistic`: ``log(1 + exp(-y z))``),
    ``g`` by ``penalty`` (e.g. ``alpha * ||w||_1``) and ``s`` are the normalised
    sample weights (``1/n`` by default). The solver stops at relative duality gap
    ``P(w) - D(theta) <= tol * P(0)`` and removes provably inactive features with
    dynamic Gap Safe screening. The non-convex penalties
    :class:`~sksafe.penalties.MCP` and :class:`~sksafe.penalties.SCAD` have no dual:
    with them the solver stops on the KKT violation (see
    :class:`~sksafe.MCPRegression`), nothing is screened, and ``dual_gap_`` is NaN.

    With a classification datafit (``Logistic``) the estimator predicts class
    labels (binary problems; use
    :class:`~sksafe.SafeScreeningLogisticRegression` for multiclass). With the
    survival datafit :class:`~sksafe.datafits.Cox`, ``y`` is survival data (see
    :class:`~sksafe.SparseCoxRegression`), ``fit_intercept`` is ignored (the
    partial likelihood has no intercept), ``predict`` gives risk scores and
    ``score`` Harrell's concordance index.

    Parameters
    ----------
    datafit : datafit object, default=None
        ``None`` means :class:`~sksafe.datafits.Quadratic`.
    penalty : penalty object, default=None
        ``None`` means :class:`~sksafe.penalties.L1` with ``alpha=1``.
    solver : {"auto", "cd", "prox_newton", "fista"}, default="auto"
        ``"auto"`` takes working-set coordinate descent for the quadratic datafit
        and working-set prox-Newton otherwise; ``"fista"`` is the general fallback.
    fit_intercept : bool, default=True
    tol : float, default=1e-4
        Relative duality gap to reach.
    max_iter : int, default=100
        Outer working-set iterations (``solver="fista"``: ``100 * max_iter``
        proximal-gradient iterations, which ``n_iter_`` then counts).
    screening : bool, default=True
        Dynamic Gap Safe screening on/off (results are identical; off is slower).
    warm_start : bool, default=False
        Start from the previous solution and its dual point (sequential screening).
    verbose : int, default=0

    Attributes
    ----------
    coef_ : ndarray of shape (n_features,)
    intercept_ : float
    n_iter_ : int
        Outer iterations run.
    dual_gap_ : float
        Relative duality gap reached on the full problem, ``G / P(0)`` (NaN with a
        non-convex penalty).
    certificate_ : {"duality_gap", "kkt"}
        What certifies the fit: the duality gap, or (MCP, SCAD) the KKT violation.
    kkt_violation_ : float
        Only when ``certificate_ == "kkt"``: the relative KKT violation reached.
    n_screened_ : int
        Features removed by screening (or excluded as zero columns).
    alpha_max_ : float
        Smallest ``alpha`` of this penalty family giving ``coef_ = 0``.
    fit_report_ : :class:`~sksafe.solvers.SolveResult`
        Gap history, when each feature was screened, dual point, timings.
    classes_ : ndarray of shape (2,)
        Only with a classification datafit.
    """

    def __init__(self, datafit=None, penalty=None, solver="auto", fit_intercept=True, tol=1e-4,
                 max_iter=100, screening=True, warm_start=False, verbose=0):
        self.datafit = datafit
        self.penalty = penalty
        self.solver = solver
        self.fit_intercept = fit_intercept
        self.tol = tol
        self.max_iter = max_iter
        self.screening = screening
        self.warm_start = warm_start
        self.verbose = verbose

    def _datafit_penalty(self):
        datafit = Quadratic() if self.datafit is None else self.datafit
        penalty = L1(alpha=1.0) if self.penalty is None else self.penalty
        family = getattr(penalty, "family", None)
        if family not in ("separable_elastic_net", "block", "nonconvex"):
            raise ValueError(f"penalty {penalty!r} is not supported by this version's solvers.")
        if getattr(datafit, "multi_output", False) and family != "block":
            raise ValueError(f"the multi-task datafit {datafit!r} needs a block penalty "
                             f"(L21, GroupL1, SparseGroupL1), got {penalty!r}.")
        for method in ("value", "raw_grad", "raw_hessian", "dual_value", "check_target"):
            if not callable(getattr(datafit, method, None)):
                raise ValueError(f"datafit {datafit!r} lacks the method {method!r}.")
        return datafit, penalty

    def _is_classifier(self):
        return bool(getattr(self.datafit, "is_classifier", False))

    @property
    def _multi_output(self):
        # a multi-output classifier (Multinomial) takes labels and one-hot encodes them
        return (bool(getattr(self.datafit, "multi_output", False))
                and not self._is_classifier())

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        if getattr(self.datafit, "is_survival", False):
            tags.target_tags.positive_only = True  # survival times
        if self._multi_output:
            tags.target_tags.multi_output = True
            tags.target_tags.single_output = False
        if self._is_classifier():
            tags.estimator_type = "classifier"
            tags.classifier_tags = ClassifierTags(
                multi_class=bool(getattr(self.datafit, "multi_output", False)))
            tags.regressor_tags = None
        return tags

    def _encode_classes(self, y, sample_weight):
        """Labels to ``{-1, +1}`` (binary datafits) or one-hot rows (multi-output ones)."""
        check_classification_targets(y)
        encoder = LabelEncoder().fit(y)
        multiclass = bool(getattr(self.datafit, "multi_output", False))
        if encoder.classes_.size < 2:
            raise ValueError(f"Classification needs samples of at least 2 classes; the data "
                             f"contains only one class: {encoder.classes_.tolist()}.")
        if encoder.classes_.size != 2 and not multiclass:
            raise ValueError(
                f"Only binary classification is supported by SparseGLM with datafit "
                f"{self.datafit!r}; got {encoder.classes_.size} classes. Use "
                f"SafeScreeningLogisticRegression (one-vs-rest or multinomial) or the "
                f"Multinomial datafit for multiclass.")
        codes = encoder.transform(y)
        check_weighted_classes(codes, sample_weight, encoder.classes_)
        self.classes_ = encoder.classes_
        if multiclass:
            return np.eye(encoder.classes_.size)[codes]
        return 2.0 * codes - 1.0

    def predict(self, X):
        if is_dask_collection(X):
            return super().predict(X)  # block by block, through this method
        scores = super().predict(X)
        if self._is_classifier():
            if scores.ndim == 2:
                return self.classes_[scores.argmax(axis=1)]
            return self.classes_[(scores > 0).astype(int)]
        return scores

    predict.__doc__ = BaseSparseRegressor.predict.__doc__

    def score(self, X, y, sample_weight=None):
        """Mean accuracy with a classification datafit, Harrell's concordance index with
        a survival datafit (:class:`~sksafe.datafits.Cox`), R^2 otherwise.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        score : float
        """
        if self._is_classifier():
            from sklearn.metrics import accuracy_score  # heavy import, only when needed

            return accuracy_score(y, self.predict(X), sample_weight=sample_weight)
        if getattr(self.datafit, "is_survival", False):
            from .cox import concordance_index

            return concordance_index(y, self.predict(X), sample_weight=sample_weight)
        return super().score(X, y, sample_weight=sample_weight)
