"""Block penalties: group lasso, sparse-group lasso and the multi-task l2/l1 norm.

They share one protocol, read by the block solver of
:mod:`sksafe.solvers.block`::

    block_weights(n_features) -> (group_ptr, group_rows, c, a, b)

describes ``g(W) = sum_g c_g ||W_g||_F + sum_j a_j ||W_j||_1 + (b_g / 2) ||W_g||_F^2``
for coefficients ``W`` of shape ``(n_features, n_tasks)`` whose rows are partitioned
into groups (``group_rows[group_ptr[g]:group_ptr[g + 1]]`` are the features of
group ``g``); ``unit_block_weights`` gives the same for ``alpha = 1`` (it defines
``alpha_max``). See :mod:`sksafe.penalties._group_kernels` for the conjugate and
the proximal operator. ``positive=True`` adds the constraint ``W >= 0`` (every
block penalty takes it: the one-sided thresholding ``(C - a)_+`` replaces the
two-sided one in the dual norm, the conjugate, the prox and the screening tests).
"""
import numbers

import numpy as np

from ._group_kernels import block_alpha_max
from .base import BaseSeparablePenalty, check_l1_ratio


def check_groups(groups, n_features):
    """Validate a group specification and return ``(group_ptr, group_rows)``.

    ``groups`` is an int (contiguous groups of that size; ``n_features`` must be a
    multiple of it), a list of ints (sizes of contiguous groups, in order) or a list
    of lists of feature indices. The groups must partition ``range(n_features)``:
    overlapping, missing, out-of-range or empty groups raise a ``ValueError``.
    """
    if isinstance(groups, numbers.Integral) and not isinstance(groups, bool):
        if groups < 1:
            raise ValueError(f"groups must be a positive group size, got {groups}.")
        if n_features % groups:
            raise ValueError(f"n_features={n_features} is not a multiple of the group size "
                             f"groups={groups}; pass the groups as a list of feature lists.")
        # contiguous groups partition range(n_features) by construction: no checks needed
        return (np.arange(0, n_features + 1, groups, dtype=np.int64),
                np.arange(n_features, dtype=np.int64))
    elif isinstance(groups, (list, tuple, np.ndarray)) and len(groups) > 0:
        if all(isinstance(g, numbers.Integral) and not isinstance(g, bool) for g in groups):
            sizes = [int(g) for g in groups]
            if min(sizes) < 1 or sum(sizes) != n_features:
                problem = (f"group sizes must be >= 1, got {_head(sizes)}" if min(sizes) < 1
                           else f"the group sizes {_head(sizes)} sum to {sum(sizes)}, but X "
                                f"has {n_features} features")
                hint = ("; it has one entry per feature: for one group label per feature, "
                        "pass [np.flatnonzero(labels == g) for g in np.unique(labels)]"
                        if len(sizes) == n_features else "")
                raise ValueError(f"A list of ints in groups gives the sizes of contiguous "
                                 f"groups: {problem}{hint}.")
            return (np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64),
                    np.arange(n_features, dtype=np.int64))
        else:
            members = []
            for g, group in enumerate(groups):
                idx = np.asarray(group)
                if idx.ndim != 1 or idx.size == 0:
                    raise ValueError(f"group {g} is empty or not a list of feature indices.")
                if not np.issubdtype(idx.dtype, np.integer):
                    raise ValueError(f"group {g} holds non-integer indices: {group!r}.")
                members.append(idx.astype(np.int64))
    else:
        raise ValueError("groups must be an int, a list of group sizes or a list of lists "
                         f"of feature indices, got {groups!r}.")
    rows = np.concatenate(members)
    if rows.min() < 0 or rows.max() >= n_features:
        raise ValueError(f"group indices must lie in [0, {n_features - 1}], got "
                         f"{rows.min()}..{rows.max()}.")
    counts = np.bincount(rows, minlength=n_features)
    if np.any(counts > 1):
        raise ValueError(f"groups overlap: feature(s) {np.flatnonzero(counts > 1)[:10].tolist()} "
                         "belong to more than one group.")
    if np.any(counts == 0):
        raise ValueError(f"groups must cover every feature; missing: "
                         f"{np.flatnonzero(counts == 0)[:10].tolist()}.")
    ptr = np.concatenate([[0], np.cumsum([m.size for m in members])]).astype(np.int64)
    return ptr, rows


def _head(values, k=8):
    """The first ``k`` of ``values`` as text, for error messages about long lists."""
    values = list(values)
    shown = ", ".join(str(v) for v in values[:k])
    return f"[{shown}, ... ({len(values)} values)]" if len(values) > k else f"[{shown}]"


def _check_group_weights(weights, group_ptr):
    sizes = np.diff(group_ptr)
    if weights is None:
        return np.sqrt(sizes.astype(np.float64))
    weights = np.asarray(weights, dtype=np.float64)
    if weights.shape != sizes.shape:
        raise ValueError(f"weights must have one entry per group ({sizes.size}), got shape "
                         f"{weights.shape}.")
    if not np.all(np.isfinite(weights)) or np.any(weights <= 0):
        raise ValueError("group weights must be finite and > 0.")
    return weights


class BaseBlockPenalty(BaseSeparablePenalty):
    """Base class of the block family (see the module docstring)."""

    family = "block"
    positive = False

    def block_weights(self, n_features):
        """``(group_ptr, group_rows, c, a, b)`` of the penalty (see the module docstring)."""
        ptr, rows, c, a, b = self.unit_block_weights(n_features)
        return ptr, rows, self.alpha * c, self.alpha * a, self.alpha * b

    def unit_block_weights(self, n_features):
        """:meth:`block_weights` for ``alpha = 1``."""
        raise NotImplementedError

    def l1_l2_weights(self, n_features):
        raise ValueError(f"{type(self).__name__} is a block penalty: it is not separable.")

    def value(self, W):
        """``g(W)``; ``W`` of shape (n_features,) or (n_features, n_tasks)."""
        from ._group_kernels import block_penalty_value
        W = np.asarray(W, dtype=np.float64)
        W = W.reshape(W.shape[0], -1)
        ptr, rows, c, a, b = self.block_weights(W.shape[0])
        return block_penalty_value(np.ascontiguousarray(W), np.arange(ptr.size - 1), ptr, rows,
                                   a, c, b)

    def prox(self, W, step):
        """``argmin_V ||V - W||_F^2 / (2 step) + g(V)``, group by group."""
        from ._group_kernels import block_prox
        W = np.asarray(W, dtype=np.float64)
        shape = W.shape
        W = W.reshape(shape[0], -1)
        ptr, rows, c, a, b = self.block_weights(W.shape[0])
        stacked = np.ascontiguousarray(W[rows])
        for g in range(ptr.size - 1):
            block_prox(stacked, ptr[g], ptr[g + 1], rows, a, c[g], b[g], step,
                       bool(self.positive))
        out = np.empty_like(W)
        out[rows] = stacked
        return out.reshape(shape)

    def subdiff_distance(self, w, grad):
        raise NotImplementedError("use the block solver's KKT report")

    def alpha_max(self, corr_rows):
        """Smallest ``alpha`` with ``W = 0`` optimal, from the correlations at ``W = 0``.

        ``corr_rows`` (n_features, n_tasks) is minus the datafit gradient at 0 in
        feature order. Group ``g`` is zero iff ``||S_{alpha a}(C_g)|| <= alpha c_g``,
        i.e. ``1 / alpha <=`` the largest feasible scale of ``C_g`` for the unit weights
        (``(C_g - alpha a)_+`` instead of ``S_{alpha a}`` with ``positive``).
        """
        ptr, rows, c, a, _ = self.unit_block_weights(corr_rows.shape[0])
        stacked = np.ascontiguousarray(corr_rows[rows], dtype=np.float64)
        return float(block_alpha_max(stacked, ptr, rows, a, c, bool(self.positive)))

    def _check_common(self):
        self._check_alpha()
        if not isinstance(self.positive, (bool, np.bool_)):
            raise ValueError(f"positive must be a bool, got {self.positive!r}.")


class GroupL1(BaseBlockPenalty):
    """Group lasso penalty ``alpha * sum_g w_g ||W_g||``.

    Parameters
    ----------
    alpha : float, default=1.0
    groups : int, list of int or list of lists of int
        Partition of the features (see :func:`check_groups`).
    weights : array-like of shape (n_groups,), default=None
        Positive group weights ``w_g``; ``None`` means ``sqrt(group size)``
        (Yuan & Lin, 2006).
    positive : bool, default=False
        Constrain the coefficients to be non-negative (positive group lasso).
    """

    def __init__(self, alpha=1.0, groups=1, weights=None, positive=False):
        self.alpha = alpha
        self.groups = groups
        self.weights = weights
        self.positive = positive

    def unit_block_weights(self, n_features):
        self._check_common()
        ptr, rows = check_groups(self.groups, n_features)
        n_groups = ptr.size - 1
        return (ptr, rows, _check_group_weights(self.weights, ptr), np.zeros(n_features),
                np.zeros(n_groups))


class SparseGroupL1(BaseBlockPenalty):
    """Sparse-group lasso ``alpha * (l1_ratio ||W||_1 + (1 - l1_ratio) sum_g w_g ||W_g||)``.

    Simon, Friedman, Hastie & Tibshirani, "A sparse-group lasso", JCGS 2013.

    Parameters
    ----------
    alpha : float, default=1.0
    groups : int, list of int or list of lists of int
    l1_ratio : float in [0, 1], default=0.5
        ``tau`` of the paper: weight of the entrywise l1 part.
    weights : array-like of shape (n_groups,), default=None
        Positive group weights; ``None`` means ``sqrt(group size)``.
    positive : bool, default=False
        Constrain the coefficients to be non-negative.
    """

    def __init__(self, alpha=1.0, groups=1, l1_ratio=0.5, weights=None, positive=False):
        self.alpha = alpha
        self.groups = groups
        self.l1_ratio = l1_ratio
        self.weights = weights
        self.positive = positive

    def unit_block_weights(self, n_features):
        self._check_common()
        check_l1_ratio(self.l1_ratio)
        ptr, rows = check_groups(self.groups, n_features)
        weights = _check_group_weights(self.weights, ptr)
        return (ptr, rows, (1.0 - self.l1_ratio) * weights,
                np.full(n_features, float(self.l1_ratio)), np.zeros(ptr.size - 1))


class L21(BaseBlockPenalty):
    """Multi-task penalty ``alpha * (l1_ratio sum_j ||W_j||_2 + (1 - l1_ratio) ||W||_F^2 / 2)``.

    Rows ``W_j`` (one feature across tasks) are selected together; ``l1_ratio < 1``
    gives scikit-learn's ``MultiTaskElasticNet`` penalty.

    Parameters
    ----------
    alpha : float, default=1.0
    l1_ratio : float in [0, 1], default=1.0
    positive : bool, default=False
        Constrain every coefficient to be non-negative.
    """

    def __init__(self, alpha=1.0, l1_ratio=1.0, positive=False):
        self.alpha = alpha
        self.l1_ratio = l1_ratio
        self.positive = positive

    #: whether the l1 part acts on the row norms (L21) or on every entry (EntrywiseL1)
    _rowwise = True

    def unit_block_weights(self, n_features):
        self._check_common()
        check_l1_ratio(self.l1_ratio)
        singletons = np.arange(n_features + 1, dtype=np.int64)
        l1 = np.full(n_features, float(self.l1_ratio))
        none = np.zeros(n_features)
        ridge = np.full(n_features, 1.0 - self.l1_ratio)
        if self._rowwise:
            return singletons, singletons[:-1], l1, none, ridge
        return singletons, singletons[:-1], none, l1, ridge


class EntrywiseL1(L21):
    """Entrywise elastic net on a coefficient matrix, ``alpha (l1_ratio ||W||_1 + (1 - l1_ratio) ||W||_F^2 / 2)``.

    The separable penalty written for the block solver: needed by multi-output
    datafits (:class:`~sksafe.datafits.Multinomial`) whose coefficients are a
    matrix; each entry is selected on its own (compare :class:`L21`).

    Parameters
    ----------
    alpha : float, default=1.0
    l1_ratio : float in [0, 1], default=1.0
    positive : bool, default=False
        Constrain every coefficient to be non-negative.
    """

    _rowwise = False


def groups_from_labels(labels):
    """Group specification from one group label per feature (R's ``grpreg``/``gglasso`` style).

    Returns a list of lists of feature indices, groups in order of their first
    feature, for the ``groups`` parameter of the block penalties and estimators.
    """
    labels = np.asarray(labels)
    if labels.ndim != 1 or labels.size == 0:
        raise ValueError(f"labels must be a non-empty 1-D array, got shape {labels.shape}.")
    _, first, inverse = np.unique(labels, return_index=True, return_inverse=True)
    order = np.argsort(first)
    return [np.flatnonzero(inverse == g).tolist() for g in order]
