"""The estimators' ``fit``/``predict`` on dask arrays (what dask-ml users expect).

``est.fit(X, y)`` with a dask array ``X`` (and ``y`` a dask array or ndarray)
fits on the cluster of the default ``dask.distributed`` client, as dask-ml's
estimators do; ``predict`` and friends on a dask array return a lazy dask array
computed block by block. The fitted attributes are NumPy arrays, as after a
single-machine fit, plus ``fit_report_.communication``.
"""
import warnings

import numpy as np

from ..solvers.working_set import resolve_solver
from ._api import _check_blocks, solve_distributed


def _check_solver(estimator, datafit):
    solver = getattr(estimator, "solver", "auto")
    natural = resolve_solver("auto", datafit)
    if solver not in ("auto", natural):
        raise ValueError(f"Dask input is fitted by the distributed {natural!r} solver; "
                         f"solver={solver!r} is for one machine (use solver='auto').")


def _encode_binary(y, classes_allowed_multi):
    """Classes of a label vector (dask or NumPy) and, per target class, the ``{-1, +1}`` encoding."""
    import dask.array as da

    lazy = isinstance(y, da.Array)
    classes = np.asarray(da.unique(y).compute()) if lazy else np.unique(y)
    if classes.size < 2:
        raise ValueError(f"Classification needs samples of at least 2 classes; the data "
                         f"contains only one class: {classes.tolist()}.")
    if classes.size > 2 and not classes_allowed_multi:
        raise ValueError(f"Only binary classification is supported here; got {classes.size} "
                         f"classes.")
    targets = [1] if classes.size == 2 else range(classes.size)
    where = da.where if lazy else np.where
    return classes, [where(y == classes[k], 1.0, -1.0) for k in targets]


def fit_dask(estimator, X, y, sample_weight, datafit, penalty):
    """Fit ``estimator`` on dask input with :func:`solve_distributed`; returns the estimator.

    Called by the estimators' ``fit`` after their own parameter checks.
    """
    from ..estimators.logistic import SafeScreeningLogisticRegression

    if getattr(estimator, "warm_start", False) and hasattr(estimator, "coef_"):
        warnings.warn("warm_start is not used with dask input: the fit starts from zero.",
                      UserWarning, stacklevel=3)
    if getattr(estimator, "class_weight", None) is not None:
        raise ValueError("class_weight is not supported with dask input; pass the weights as "
                         "sample_weight.")
    _check_solver(estimator, datafit)
    X, y, sample_weight, layout = _check_blocks(X, y, sample_weight)
    dtype = np.dtype(X.dtype) if X.dtype in (np.float32, np.float64) else np.dtype(np.float64)
    options = dict(sample_weight=sample_weight, fit_intercept=estimator.fit_intercept,
                   tol=estimator.tol, max_iter=estimator.max_iter,
                   screening=estimator.screening, verbose=estimator.verbose, layout=layout)
    estimator.n_features_in_ = X.shape[1]
    if isinstance(estimator, SafeScreeningLogisticRegression):
        if estimator.multi_class == "multinomial":
            raise ValueError("multi_class='multinomial' is not supported with dask input; "
                             "use multi_class='ovr'.")
        classes, targets = _encode_binary(y, classes_allowed_multi=True)
        reports = [solve_distributed(X, target, datafit, penalty, **options)
                   for target in targets]
        estimator._set_fitted_ovr(classes, reports, dtype)
        return estimator
    if estimator._is_classifier():
        classes, (target,) = _encode_binary(y, classes_allowed_multi=False)
        estimator.classes_ = classes
        y = target
    report = solve_distributed(X, y, datafit, penalty, **options)
    estimator._set_fitted(report, dtype)
    return estimator


def map_rows(method, X, n_outputs=None, dtype=np.float64):
    """``method`` applied to each row block of the dask array ``X`` (a lazy dask array).

    ``n_outputs`` is the number of columns of the result (``None``: a vector).
    """
    if len(X.chunks[1]) > 1:
        X = X.rechunk({1: -1})
    if n_outputs is None:
        return X.map_blocks(method, drop_axis=1, dtype=dtype)
    return X.map_blocks(method, chunks=(X.chunks[0], (n_outputs,)), dtype=dtype)
