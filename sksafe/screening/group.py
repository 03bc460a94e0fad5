"""Gap Safe screening for block penalties: groups first, then features inside groups.

With ``Theta`` of shape ``(n, T)``, ``C_g = X_c,g^T Theta`` and ``S_a`` the entrywise
soft-thresholding of :mod:`sksafe.penalties._group_kernels`, a group is zero at
the optimum when ``||S_a(C*_g)||_F <= c_g``, and a feature ``j`` of a surviving group
when ``max_t |C*_jt| <= a_j``. Both maps are 1-Lipschitz in ``C``, and
``||C_g - C*_g||_F <= ||X_g||_{s,2} ||Theta - Theta*||_s <= ||X_g||_{s,2} r`` with
``||X_g||_{s,2}`` the spectral norm of ``diag(sqrt(s)) X_c,g`` and ``r = sqrt(2 G / gamma)``
the Gap Safe radius, hence the two tests (Ndiaye, Fercoq, Gramfort & Salmon, "GAP
safe screening rules for sparse-group lasso", NeurIPS 2016; JMLR 2017)::

    ||S_a(C_g)||_F + r ||X_g||_{s,2} < c_g                 (group g is zero)
    max_t |C_jt| + r ||X_j||_s < a_j                         (row j is zero)

With ``positive`` (``W >= 0``), ``S_a`` becomes the one-sided ``P_a(C) = (C - a)_+`` and
``|C_jt|`` becomes ``C_jt``. Both are still 1-Lipschitz, and optimality still gives
``||P_a(C*_g)||_F >= c_g`` on a non-zero group (on its support
``C*_g = a + c_g W*_g / ||W*_g|| + b_g W*_g`` with ``W*_g >= 0``, and ``P_a`` is monotone)
and ``C*_jt >= a_j`` on a positive entry: the same two tests are safe.
"""
import numpy as np

from ..penalties._group_kernels import block_dual_norms, block_dual_scaling, unit_rows
from ..solvers._block_kernels import block_correlations
from .gap_safe import SCREENING_MARGIN, screening_priorities, sphere_test


class BlockGeometry:
    """Dual feasibility and screening units of a block penalty: the groups.

    Same interface as :class:`sksafe.screening.gap_safe.SeparableGeometry`; dual
    points have shape ``(n_samples, n_tasks)``. ``live_rows`` marks the features
    not screened on their own (shared with the solver state, which keeps them at 0).

    Parameters
    ----------
    problem : Problem
    datafit : datafit object
    block : tuple
        ``(group_ptr, group_rows, c, a, b)`` of the penalty.
    group_norms : ndarray of shape (n_groups,)
        ``||X_g||_{s,2}`` with the screening centring.
    positive : bool, default=False
        Whether the coefficients are constrained to be non-negative.
    """

    def __init__(self, problem, datafit, block, group_norms, positive=False):
        self.problem, self.datafit = problem, datafit
        self.positive = bool(positive)
        self.group_ptr, self.group_rows, self.c, self.a, self.b = block
        self.thresholds = self.c
        self.norms = group_norms
        self.n_units = self.c.shape[0]
        self.unpenalised = np.zeros(self.n_units, dtype=bool)
        self.gamma = problem.gamma
        self.live_rows = problem.screen_norms > 0
        self._row_maxima = []  # (theta, rows, row maxima) of recent evaluations
        self.has_feature_level = bool(np.any(self.a > 0))

    def _theta_sums(self, theta):
        return theta.sum(axis=0) if self.problem.fit_intercept else np.zeros(theta.shape[1])

    def correlations_all(self, theta):
        """Correlations of ``theta`` with every feature, shape ``(n_features, n_tasks)``."""
        units = np.arange(self.n_units)
        stacked = np.empty((self.problem.n_features, theta.shape[1]))
        block_correlations(self.problem.X, theta, self.problem.x_offset, self._theta_sums(theta),
                           self.group_ptr, self.group_rows, np.ones(self.problem.n_features,
                                                                   dtype=np.bool_),
                           units, stacked)
        out = np.empty_like(stacked)
        out[self.group_rows] = stacked
        return out

    def evaluate(self, theta, units, corr_all=None, full=False):
        """``(D, kappa, dual_norms)`` of ``kappa * theta`` restricted to ``units``.

        With ``full`` every feature counts, including those screened one by one
        (the final certificate); otherwise they are left out of the dual.
        """
        rows = unit_rows(units, self.group_ptr, self.group_rows)
        live = np.ones(self.problem.n_features, dtype=np.bool_) if full else self.live_rows
        corr = np.empty((rows.shape[0], theta.shape[1]))
        if corr_all is None:
            ptr = block_correlations(self.problem.X, theta, self.problem.x_offset,
                                     self._theta_sums(theta), self.group_ptr, self.group_rows,
                                     live, units, corr)
        else:
            corr[:] = np.where(live[rows, None], corr_all[rows], 0.0)
            ptr = np.concatenate([[0], np.cumsum(np.diff(self.group_ptr)[units])])
        kappa = block_dual_scaling(corr, ptr, rows, units, self.a, self.c, self.b,
                                   self.positive)
        dual_norms = np.empty(units.shape[0])
        row_max = np.empty(rows.shape[0])
        conj = block_dual_norms(corr, ptr, rows, units, self.a, self.c, self.b, kappa,
                                self.positive, dual_norms, row_max)
        self._row_maxima = [entry for entry in self._row_maxima[-3:] if entry[0] is not theta]
        self._row_maxima.append((theta, rows, row_max))
        scaled = (kappa * theta).reshape(self.problem.y.shape)
        dual = self.datafit.dual_value(scaled, self.problem.y, self.problem.s) - conj
        return dual, kappa, dual_norms

    def sphere_test(self, dual_norms, radius, units):
        return sphere_test(dual_norms, radius, self.norms[units], self.thresholds[units])

    def priorities(self, dual_norms, units):
        return screening_priorities(dual_norms, self.norms[units], self.thresholds[units])

    def nonzero(self, state, units):
        """Whether each unit has a non-zero coefficient."""
        if units.size == 0:
            return np.zeros(0, dtype=bool)
        rows_nonzero = np.any(state.w[self.group_rows] != 0.0, axis=1)
        per_group = np.logical_or.reduceat(rows_nonzero, self.group_ptr[:-1])
        return per_group[units]

    def screen_within(self, state, radius, units, theta):
        """Feature-level test inside the surviving ``units`` (sparse-group penalties).

        Uses the row maxima that :meth:`evaluate` computed for the candidate ``theta``
        whose gap gave ``radius`` (the test needs that very point). Screened rows
        are fixed at zero in ``state`` and left out of later duals. Returns whether a
        non-zero coefficient was zeroed.
        """
        if not self.has_feature_level or units.size == 0:
            return False
        _, evaluated_rows, maxima = next(e for e in self._row_maxima if e[0] is theta)
        row_max = np.zeros(self.problem.n_features)
        row_max[evaluated_rows] = maxima
        rows = unit_rows(units, self.group_ptr, self.group_rows)
        margin = self.a[rows] * (1.0 - SCREENING_MARGIN)
        out = (row_max[rows] + radius * self.problem.screen_norms[rows] < margin)
        out &= self.live_rows[rows]
        if not np.any(out):
            return False
        newly = rows[out]
        moved = bool(np.any(state.w[newly] != 0.0))
        state.zero_rows(newly)
        self.live_rows[newly] = False
        return moved
