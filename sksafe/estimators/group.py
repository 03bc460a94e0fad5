"""Group and sparse-group lasso with dynamic Gap Safe screening of groups and features."""
from ..datafits import Quadratic
from ..penalties import GroupL1, SparseGroupL1
from .base import BaseSparseRegressor

_GROUP_PARAMS = """    groups : int, list of int or list of lists of int, default=1
        Partition of the features: an int gives contiguous groups of that size
        (``n_features`` must be a multiple of it), a list of ints the sizes of
        contiguous groups, a list of lists the feature indices of every group.
        Overlapping, missing, out-of-range or empty groups raise a ``ValueError``.
    weights : array-like of shape (n_groups,), default=None
        Positive group weights ``w_g``; ``None`` means ``sqrt(group size)``."""

_SHARED_PARAMS = """    fit_intercept : bool, default=True
        Fit an intercept (exactly, by implicit centring; sparse X stays sparse).
    tol : float, default=1e-4
        Relative duality gap to reach: stop when ``P(w) - D(theta) <= tol * P(0)``.
    max_iter : int, default=100
        Outer working-set iterations (working sets are sets of groups).
    screening : bool, default=True
        Dynamic Gap Safe screening on/off (same solution; off is slower).
    warm_start : bool, default=False
        Start from the previous ``coef_`` and dual point (sequential screening).
    verbose : int, default=0
        Print the gap and the number of screened groups at every outer iteration.
    positive : bool, default=False
        Constrain the coefficients to be non-negative (the dual norm, prox and both
        screening levels use the one-sided thresholding ``(X_g^T theta - a)_+``).

    Attributes
    ----------
    coef_ : ndarray of shape (n_features,)
    intercept_ : float
    n_iter_ : int
        Outer working-set iterations run.
    dual_gap_ : float
        Relative duality gap ``G / P(0)`` of the full problem, recomputed after the
        solve with every group and feature back in the dual constraint.
    n_screened_ : int
        Features proven inactive and removed (alone or with their group).
    alpha_max_ : float
        Smallest ``alpha`` giving ``coef_ = 0``.
    fit_report_ : :class:`~sksafe.solvers.SolveResult`
        Gap history, when each group was screened (``screened_at``), screened
        features (``screened_features``), dual point.
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        Only when ``X`` has string column names."""


class SafeScreeningGroupLasso(BaseSparseRegressor):
    __doc__ = f"""Group lasso with dynamic Gap Safe screening of groups.

    Minimises::

        P(w, b) = (1 / (2 n)) sum_i s_i (y_i - x_i^T w - b)^2 + alpha sum_g w_g ||w_g||_2

    (sample weights ``s`` normalised to sum to ``n``) by working-set block
    coordinate descent with steps ``1 / ||X_g||_2^2`` (spectral norm) and Gap Safe
    screening of whole groups (Ndiaye et al., JMLR 2017).

    Parameters
    ----------
    alpha : float, default=1.0
        Regularisation strength (> 0).
{_GROUP_PARAMS}
{_SHARED_PARAMS}

    Examples
    --------
    >>> import numpy as np
    >>> from sksafe import SafeScreeningGroupLasso
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((50, 40))
    >>> y = X[:, :4] @ np.ones(4) + 0.1 * rng.standard_normal(50)
    >>> model = SafeScreeningGroupLasso(alpha=0.1, groups=4).fit(X, y)
    >>> bool((model.coef_[4:] == 0).all() and (model.coef_[:4] != 0).all())
    True
    """

    def __init__(self, alpha=1.0, groups=1, weights=None, fit_intercept=True, tol=1e-4,
                 max_iter=100, screening=True, warm_start=False, verbose=0, positive=False):
        self.alpha = alpha
        self.groups = groups
        self.weights = weights
        self.fit_intercept = fit_intercept
        self.tol = tol
        self.max_iter = max_iter
        self.screening = screening
        self.warm_start = warm_start
        self.verbose = verbose
        self.positive = positive

    def _datafit_penalty(self):
        return Quadratic(), GroupL1(alpha=self.alpha, groups=self.groups, weights=self.weights,
                                    positive=self.positive)


class SafeScreeningSparseGroupLasso(BaseSparseRegressor):
    __doc__ = f"""Sparse-group lasso with two-level Gap Safe screening (groups, then features).

    Minimises::

        P(w, b) = (1 / (2 n)) sum_i s_i (y_i - x_i^T w - b)^2
                  + alpha (l1_ratio ||w||_1 + (1 - l1_ratio) sum_g w_g ||w_g||_2)

    (Simon, Friedman, Hastie & Tibshirani, JCGS 2013; skglm's ``SparseGroupL1``
    with ``tau = l1_ratio``). Screening removes whole groups, then single features
    of the surviving groups (Ndiaye, Fercoq, Gramfort & Salmon, NeurIPS 2016).

    Parameters
    ----------
    alpha : float, default=1.0
        Regularisation strength (> 0).
    l1_ratio : float, default=0.5
        Weight of the entrywise l1 part, in [0, 1].
{_GROUP_PARAMS}
{_SHARED_PARAMS}
    """

    def __init__(self, alpha=1.0, l1_ratio=0.5, groups=1, weights=None, fit_intercept=True,
                 tol=1e-4, max_iter=100, screening=True, warm_start=False, verbose=0,
                 positive=False):
        self.alpha = alpha
        self.l1_ratio = l1_ratio
        self.groups = groups
        self.weights = weights
        self.fit_intercept = fit_intercept
        self.tol = tol
        self.max_iter = max_iter
        self.screening = screening
        self.warm_start = warm_start
        self.verbose = verbose
        self.positive = positive

    def _datafit_penalty(self):
        return Quadratic(), SparseGroupL1(alpha=self.alpha, l1_ratio=self.l1_ratio,
                                          groups=self.groups, weights=self.weights,
                                          positive=self.positive)
