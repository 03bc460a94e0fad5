"""Input validation shared by the estimators: clear ``ValueError`` messages, no densifying."""
import numbers

import numpy as np
from sklearn.utils.validation import _check_sample_weight, validate_data


def is_dask_collection(obj):
    """Whether ``obj`` is a dask collection (without importing dask for other input)."""
    if not type(obj).__module__.startswith("dask"):
        return False
    from dask import is_dask_collection as _is_dask

    return bool(_is_dask(obj))


def check_Xy(estimator, X, y, *, classifier, reset=True, multi_output=False):
    """Validate ``X`` (dense float32/float64 or any scipy.sparse format) and ``y``.

    Sparse input stays sparse (CSR/COO are converted to CSC by the solver, never
    densified); integer and boolean dense input is cast to float64.
    """
    if X is None:
        raise ValueError("X must be an array-like or sparse matrix, got None.")
    X, y = validate_data(
        estimator, X, y, reset=reset,
        accept_sparse=["csc", "csr", "coo"], dtype=[np.float64, np.float32],
        order="F", y_numeric=not classifier, multi_output=multi_output,
        ensure_min_samples=2 if classifier else 1, accept_large_sparse=True)
    return X, y


def check_X_predict(estimator, X):
    """Validate ``X`` at predict time with the ``n_features_in_`` of the fit."""
    return validate_data(estimator, X, reset=False, accept_sparse=["csc", "csr", "coo"],
                         dtype=[np.float64, np.float32], accept_large_sparse=True)


def check_weights(sample_weight, X):
    """Non-negative finite weights, not all zero (``None`` stays ``None``)."""
    if sample_weight is None:
        return None
    sample_weight = _check_sample_weight(sample_weight, X, dtype=np.float64,
                                         ensure_non_negative=True)
    if not np.all(np.isfinite(sample_weight)):
        raise ValueError("sample_weight contains NaN or infinity.")
    if not np.any(sample_weight > 0):
        raise ValueError("sample_weight must have at least one positive entry.")
    return sample_weight


def check_weighted_classes(codes, sample_weight, classes):
    """Every class must keep a sample of positive weight (``codes`` index ``classes``).

    A class whose samples all have zero weight makes its logistic problem
    unbounded (the intercept runs off to infinity), so it is refused up front.
    """
    if sample_weight is None:
        return
    weighted = np.zeros(classes.size, dtype=bool)
    weighted[codes[sample_weight > 0]] = True
    if not np.all(weighted):
        raise ValueError(f"Every class needs a sample of positive sample_weight; class(es) "
                         f"{list(classes[~weighted])} have none.")


def check_positive_int(value, name):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"{name} must be an integer >= 1, got {value!r}.")


def check_tol(tol):
    if isinstance(tol, bool) or not isinstance(tol, numbers.Real) or not tol >= 0:
        raise ValueError(f"tol must be a real number >= 0, got {tol!r}.")
