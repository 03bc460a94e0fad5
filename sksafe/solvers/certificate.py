"""Duality-gap certificate of any candidate solution (ours or another solver's)."""
import copy

import numpy as np

from ..penalties.base import unpenalised_mask
from ..screening.gap_safe import evaluate_dual
from ._problem import make_problem
from ._states import ProxNewtonState


def duality_gap(X, y, datafit, penalty, coef, intercept=0.0, *, sample_weight=None,
                fit_intercept=True):
    """Duality gap of ``(coef, intercept)`` for ``P(w, b) = F(X w + b) + g(w)``.

    The primal value is taken at the given point. The dual point is built from
    the same point after the intercept and the unpenalised coordinates are
    minimised exactly (which makes it feasible), then rescaled: the result is a
    valid upper bound of ``P(coef, intercept) - P*`` whichever solver produced the
    point, and is the number the benchmarks compare solvers on.

    Parameters
    ----------
    X : ndarray or scipy.sparse matrix of shape (n_samples, n_features)
    y : ndarray of shape (n_samples,)
        Targets (``{-1, +1}`` for :class:`~sksafe.datafits.Logistic`).
    datafit, penalty : sksafe datafit and penalty objects
    coef : ndarray of shape (n_features,) or (n_features, n_tasks)
        (``W``, the second layout, for multi-task datafits.)
    intercept : float or ndarray of shape (n_tasks,), default=0.0
    sample_weight : ndarray of shape (n_samples,), default=None
    fit_intercept : bool, default=True
        Whether the intercept is a free variable (``False`` fixes it to 0).

    Returns
    -------
    gap : float
        ``P(coef, intercept) - D(theta) >= 0``.
    relative_gap : float
        ``gap / P(0)``, the quantity ``tol`` bounds in :func:`sksafe.solvers.solve`.
    """
    problem = make_problem(X, y, sample_weight, datafit, fit_intercept)
    if getattr(penalty, "family", None) == "block":
        from .block import block_duality_gap
        return block_duality_gap(problem, datafit, penalty, coef, intercept)
    n_features = problem.n_features
    a, b = penalty.l1_l2_weights(n_features)
    box = penalty.box(n_features)
    if np.any(np.asarray(coef) < box[0]) or np.any(np.asarray(coef) > box[1]):
        return np.inf, np.inf  # outside the box: P(coef) = +inf
    live = problem.screen_norms > 0
    unpenalised = np.flatnonzero(unpenalised_mask(a, b, box) & live)
    shift = problem.y_offset if fit_intercept else 0.0

    def state_at(w, b0):
        return ProxNewtonState(problem, datafit, a, b, box, unpenalised,
                               np.asarray(w, dtype=np.float64), b0 - shift)

    point = state_at(coef, intercept if fit_intercept else 0.0)
    primal = point.primal()
    polished = copy.deepcopy(point)
    polished.polish()
    dual = evaluate_dual(problem, datafit, polished.theta(), np.arange(n_features), a, b,
                         box)[0]
    zero = state_at(np.zeros(n_features), 0.0)
    zero.polish()
    primal_zero = zero.primal()
    gap = max(primal - dual, 0.0)
    return gap, (gap / primal_zero if primal_zero > 0 else 0.0)
