"""L1, elastic-net and weighted-L1 penalties (the separable elastic-net family).

Each takes ``positive`` (scikit-learn's and skglm's name for ``w >= 0``) and
``bounds=(lower, upper)`` (scipy's name, as in :func:`scipy.optimize.lsq_linear`) for
box constraints ``lower_j <= w_j <= upper_j`` with ``lower <= 0 <= upper``; the
penalty is then ``g(w) + indicator(lower <= w <= upper)``. The conjugate, prox,
dual scaling and KKT distance with a box are in :mod:`sksafe.penalties._kernels`;
the proof that Gap Safe screening stays safe is in :mod:`sksafe.screening.gap_safe`.
"""
import numpy as np

from .base import BaseSeparablePenalty, check_l1_ratio


class L1(BaseSeparablePenalty):
    """Lasso penalty ``alpha * ||w||_1``.

    Parameters
    ----------
    alpha : float, default=1.0
        Regularisation strength (>= 0).
    positive : bool, default=False
        Constrain the coefficients to be non-negative (``bounds=(0, np.inf)``).
    bounds : tuple (lower, upper), default=None
        Box constraints ``lower_j <= w_j <= upper_j``: each a scalar or an array of
        shape (n_features,), with ``lower <= 0 <= upper`` (``-np.inf``/``np.inf`` for a
        free side). Intersected with ``w >= 0`` when ``positive`` is true.
    """

    def __init__(self, alpha=1.0, positive=False, bounds=None):
        self.alpha = alpha
        self.positive = positive
        self.bounds = bounds

    def l1_l2_weights(self, n_features):
        self._check_common()
        return np.full(n_features, float(self.alpha)), np.zeros(n_features)

    def unit_weights(self, n_features):
        return np.ones(n_features)


class ElasticNet(BaseSeparablePenalty):
    """Elastic-net penalty ``alpha * (l1_ratio ||w||_1 + (1 - l1_ratio) / 2 ||w||_2^2)``.

    The same parametrisation as :class:`sklearn.linear_model.ElasticNet`.

    Parameters
    ----------
    alpha : float, default=1.0
        Regularisation strength (>= 0).
    l1_ratio : float, default=0.5
        Mixing parameter in [0, 1]; 1 is the Lasso, 0 is ridge (no sparsity,
        hence nothing to screen).
    positive : bool, default=False
        Constrain the coefficients to be non-negative (``bounds=(0, np.inf)``).
    bounds : tuple (lower, upper), default=None
        Box constraints ``lower_j <= w_j <= upper_j``: each a scalar or an array of
        shape (n_features,), with ``lower <= 0 <= upper`` (``-np.inf``/``np.inf`` for a
        free side). Intersected with ``w >= 0`` when ``positive`` is true.
    """

    def __init__(self, alpha=1.0, l1_ratio=0.5, positive=False, bounds=None):
        self.alpha = alpha
        self.l1_ratio = l1_ratio
        self.positive = positive
        self.bounds = bounds

    def l1_l2_weights(self, n_features):
        self._check_common()
        check_l1_ratio(self.l1_ratio)
        alpha, rho = float(self.alpha), float(self.l1_ratio)
        return np.full(n_features, alpha * rho), np.full(n_features, alpha * (1.0 - rho))

    def unit_weights(self, n_features):
        check_l1_ratio(self.l1_ratio)
        return np.full(n_features, float(self.l1_ratio))


class WeightedL1(BaseSeparablePenalty):
    """Weighted Lasso penalty ``alpha * sum_j weights_j |w_j|``.

    A zero weight leaves the feature unpenalised (as glmnet's
    ``penalty.factor = 0``): such coordinates are minimised exactly before every
    duality-gap evaluation so that the dual point stays feasible.

    Parameters
    ----------
    alpha : float, default=1.0
        Regularisation strength (>= 0).
    weights : array-like of shape (n_features,), default=None
        Non-negative per-feature weights; ``None`` means all ones.
    positive : bool, default=False
        Constrain the coefficients to be non-negative (``bounds=(0, np.inf)``).
    bounds : tuple (lower, upper), default=None
        Box constraints ``lower_j <= w_j <= upper_j``: each a scalar or an array of
        shape (n_features,), with ``lower <= 0 <= upper`` (``-np.inf``/``np.inf`` for a
        free side). Intersected with ``w >= 0`` when ``positive`` is true.
    """

    def __init__(self, alpha=1.0, weights=None, positive=False, bounds=None):
        self.alpha = alpha
        self.weights = weights
        self.positive = positive
        self.bounds = bounds

    def unit_weights(self, n_features):
        if self.weights is None:
            return np.ones(n_features)
        weights = np.asarray(self.weights, dtype=np.float64)
        if weights.ndim != 1 or weights.shape[0] != n_features:
            raise ValueError(
                f"WeightedL1 weights must have shape ({n_features},) to match X, "
                f"got {weights.shape}.")
        if not np.all(np.isfinite(weights)) or np.any(weights < 0):
            raise ValueError("WeightedL1 weights must be finite and >= 0.")
        if (self.positive or self.bounds is not None) and np.any(weights == 0):
            # an unpenalised coefficient is minimised exactly, without constraint, by
            # the solvers' polish step; alpha_max assumes it sits at that optimum
            raise ValueError(
                "WeightedL1 with positive=True or bounds does not support zero weights "
                "(unpenalised constrained coefficients).")
        return weights

    def l1_l2_weights(self, n_features):
        self._check_common()
        return float(self.alpha) * self.unit_weights(n_features), np.zeros(n_features)
