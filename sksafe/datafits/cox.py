r"""Cox proportional-hazards datafit: Breslow's negative log partial likelihood.

Notation
--------
Samples ``i`` have a time ``t_i >= 0``, an event indicator ``d_i in {0, 1}``
(1: the event was observed at ``t_i``; 0: censored at ``t_i``) and normalised
weights ``s_i >= 0``, ``sum_i s_i = 1``. Sorting the distinct times gives tie
groups ``G_1 < G_2 < ... < G_K``; the risk set of group ``k`` is every sample
still at risk, ``R_k = G_k u G_{k+1} u ... u G_K``. With ``c_i = s_i d_i`` (event
weights) and ``C_k = sum_{i in G_k} c_i``, the datafit on the linear predictor
``z = X w`` is::

    F(z) = sum_k [ C_k log( sum_{j in R_k} s_j exp(z_j) ) - sum_{i in G_k} c_i z_i
                   - C_k log C_k ]

Tied events share one risk set (Breslow, 1974); a weight multiplies a sample
both in the event sum and inside every risk set containing it (the weighted
partial likelihood of R's ``survival::coxph`` and of glmnet, Simon, Friedman,
Hastie & Tibshirani, J. Stat. Softw. 2011), so an integer weight is exactly a
repeated row (repeated rows are tied events, which Breslow's rule treats as one
risk set). The constant ``- sum_k C_k log C_k`` is the value of a perfect fit
(``inf_z F = 0``, by Jensen's inequality on each group), so ``F >= 0`` and
``P(0) > 0`` as the relative duality gap needs; without ties and with uniform
weights ``F`` is exactly skglm's ``Cox()`` datafit (``1/n`` times the negative
log partial likelihood). ``F(z + c 1) = F(z)``: the model has no intercept.

Derivatives (O(n) after one sort)
---------------------------------
With ``q_j = s_j exp(z_j)``, ``Q_k = sum_{j in R_k} q_j`` (suffix sums in time
order), ``p^k_j = q_j / Q_k`` on ``R_k`` (the softmax of the risk set) and
``A_k = sum_{l <= k} C_l / Q_l`` (Breslow's cumulative hazard, prefix sums)::

    dF/dz_j  = q_j A_{g(j)} - c_j                     (g(j): the group of j)
    d2F/dz^2 = sum_k C_k (diag(p^k) - p^k p^k^T)  <=  diag(q_j A_{g(j)})

The Hessian is not diagonal. The prox-Newton models use it exactly
(:mod:`sksafe.solvers._exact_newton`, through :meth:`Cox.hessian_columns`): with
the risk-set means ``m_k = E_{p^k}[v]`` and their running average
``vbar_g = sum_{k <= g} (C_k / Q_k) m_k / A_g``::

    (d2F/dz^2 v)_j = q_j A_{g(j)} (v_j - vbar_{g(j)})

one backward recursion (``m_k = (Q_{k+1} / Q_k) m_{k+1} + sum_{i in G_k} (q_i / Q_k)
v_i``) and one forward (``vbar_g = (A_{g-1} / A_g) vbar_{g-1} + (C_g / Q_g / A_g)
m_g``), O(n) per product with every factor a ratio in ``[0, 1]``
(:func:`cox_hessian_factors`): no overflow where the risk sets differ by
``exp(700)``. On a 300 x 5000 AR(1) design at ``alpha_max / 50``, a fit to a
relative gap of 1e-6 took 2856 Newton steps (7.6 s) with the diagonal models
below, 42 (1.1 s) with exact ones from the first step, and 379 (0.65 s), 11 of
them exact, with the solver's rule: diagonal models far from the optimum, where
they are cheaper, exact ones near it (:mod:`sksafe.solvers._exact_newton`).

Where the exact model is not used (far from the optimum, a working set too large
for its Gram matrix, a box other than ``w >= 0``), the models take a diagonal. Two
candidates: the majorant on the right (``Var_p(v) <= E_p[v^2]``; skglm's
choice), which makes every model an upper bound of ``F``, and the exact
diagonal ``sum_k C_k p^k_j (1 - p^k_j) = q_j A_{g(j)} - q_j^2 B_{g(j)}``,
``B_k = sum_{l <= k} C_l / Q_l^2`` (glmnet's choice), which is not a bound but is
closer to the curvature along the coordinate directions the models move in.
Under the solver's line search the exact diagonal was measured faster
(``raw_hessian``): 1311 to 2001 Newton steps instead of 1470 to 4032 at
``alpha_max / 50`` on synthetic designs of 200 x 500, 500 x 2000 and
100 x 5000, and never more steps; every step was accepted at full length with
either. Since ``F`` is flat along ``1``, the Newton models get a free intercept
that the step drops (see :class:`~sksafe.solvers._states.ProxNewtonState`):
without it an uncentred design (column means 5) did not converge in 300 outer
iterations. Risk-set sums are running log-sum-exps (no overflow, no underflow
to ``log 0``).

Exact conjugate (the dual value)
--------------------------------
``F*(u) = sup_z u^T z - F(z)`` has a closed form, computable in O(n). Write
``m_j = u_j + c_j`` and the suffix sums ``U_k = sum_{l >= k} sum_{j in G_l} u_j``
(``U_{K+1} = 0``), ``M_k = sum_{j in G_k} m_j`` and ``W_k = M_k + U_{k+1}``. Then::

    F*(u) = sum_j m_j log(m_j / s_j) - sum_k [ W_k log W_k - U_{k+1} log U_{k+1} ]
            + sum_k C_k log C_k

on the domain ``{U_1 = sum_j u_j = 0, U_k >= 0 for all k, m_j >= 0, m_j = 0 where
s_j = 0}`` (``0 log 0 = 0``), and ``+inf`` outside.

*Proof.* ``F = sum_k C_k h_k`` with ``h_k`` a weighted log-sum-exp over ``R_k``
minus a linear term, whose conjugate is the relative entropy
``sum_j v_j log(v_j / s_j)`` of a probability vector ``v`` on ``R_k``. The
conjugate of a sum of finite convex functions is the (exact) infimal
convolution of their conjugates, so ``F*(u)`` is the smallest value of
``sum_k C_k sum_j v^k_j log(v^k_j / s_j) + sum_k C_k log C_k`` over probability
vectors ``v^k`` on ``R_k`` with ``sum_k C_k v^k = m`` (a transport of the event
mass onto the samples at risk). Such a decomposition exists iff ``m >= 0``,
``sum m = sum c`` and no more mass ``m`` sits before a time than events happened
before it, i.e. ``U_k >= 0`` (Hall's condition for nested sets): that is the
domain. In its interior the optimality conditions of the transport give
``v^k_j = q_j / Q_k`` for some ``q > 0``, i.e. ``u = grad F(z)`` with
``z_j = log(q_j / s_j)``; summation by parts of ``m_j = q_j A_{g(j)}`` gives
``U_k = A_{k-1} Q_k`` and ``W_k = A_k Q_k``, so ``Q_{k+1} / Q_k = U_{k+1} / W_k``
and ``A_k = W_k / Q_k``, and substituting ``q_j = m_j / A_{g(j)}`` in
``F*(u) = u^T z - F(z)`` gives the formula (the scale of ``q`` cancels). Both sides
are continuous on the polyhedral domain (a closed convex function is continuous
on a polyhedron, Gale-Klee-Rockafellar), so the formula holds on its boundary
too. Blocks where ``U_k = 0`` decouple, which the ``0 log 0`` terms express.

So ``dual_value`` is the *exact* ``-F*(-theta)`` of any point, not only of the
solvers' ``theta = -kappa grad F(z)`` (those have ``m = kappa m(z) + (1 - kappa) c
>= 0``, inside the domain): there is no looser "decomposition" bound to carry.
The formula is also numerically benign: ``x log x`` is continuous at 0, so the
rounding of a suffix sum near 0 (a fit whose last samples have negligible risk)
moves the value by ``O(eps log eps)``, never by a division; values off the
domain by rounding only are clipped to it.

Strong concavity (Gap Safe screening)
-------------------------------------
For a probability vector ``p`` the covariance ``diag(p) - p p^T`` has largest
eigenvalue ``<= 1/2``: ``Var_p(v) <= E_p[(v - (v_max + v_min) / 2)^2]
<= (v_max - v_min)^2 / 4 <= (v_max^2 + v_min^2) / 2 <= ||v||^2 / 2``. Hence for
every ``z``::

    v^T d2F(z) v <= 1/2 sum_k C_k sum_{j in R_k} v_j^2 = 1/2 sum_j E_j v_j^2
                 <= L sum_j s_j v_j^2,     L = max_{s_j > 0} E_j / (2 s_j)

with ``E_j = sum_{k <= g(j)} C_k`` the event weight up to ``t_j``. ``grad F`` is
thus ``L``-Lipschitz from the norm ``sqrt(sum_j s_j v_j^2)`` to its dual
``||u||_s = sqrt(sum_j u_j^2 / s_j)``, so ``F*`` is ``1/L``-strongly convex in
``||.||_s`` and the dual is ``gamma = 1 / L`` strongly concave: the Gap Safe
sphere of :mod:`sksafe.screening.gap_safe` applies with this data-dependent
``gamma`` (:meth:`Cox.dual_gamma`). The bound is attained (two late samples
carrying all the risk, with opposite directions), so it cannot be improved
without using ``z``; with uniform weights ``L`` is half the number of events,
which makes the sphere wider than the logistic one (``gamma = 4``): screening
starts at smaller gaps. Every dual point satisfies ``sum_i theta_i = 0``, so the
sphere test uses centred column norms, as with an intercept.
"""
import numpy as np
from numba import njit
from sklearn.utils import column_or_1d

from ..solvers._design import col_axpy
from .base import BaseDatafit

#: relative rounding tolerated at the edge of the conjugate's domain
_DOMAIN_ROUNDING = 1e-12
_EPS = np.finfo(np.float64).eps

#: columns of the target array the kernels take (see :meth:`Cox.check_target`)
TIME, EVENT, ORDER = 0, 1, 2


def survival_target(y):
    """Validate survival data and return it as an ``(n, 2)`` float64 array ``[time, event]``.

    Parameters
    ----------
    y : structured array or array-like of shape (n_samples, 2) or (n_samples,)
        Either a structured array with two fields, the event indicator first and the
        time second (scikit-survival's ``Surv.from_arrays`` layout; any field names),
        or a numeric array whose columns are ``time`` and ``event`` (skglm's and
        glmnet's layout), or a vector of times when every event was observed (no
        censoring; skglm's and lifelines' convention).

    Returns
    -------
    target : ndarray of shape (n_samples, 2)
        Times in column 0, events (0.0 or 1.0) in column 1.
    """
    array = np.asarray(y)
    if array.ndim == 2 and array.shape[1] == 1:
        array = column_or_1d(array, warn=True)  # a column of times, as scikit-learn reads it
    if array.dtype.names is not None:
        if len(array.dtype.names) != 2 or array.ndim != 1:
            raise ValueError(
                "A structured survival target needs one dimension and exactly two fields "
                f"(event indicator, time); got fields {array.dtype.names} and shape "
                f"{array.shape}.")
        event_name, time_name = array.dtype.names
        events, times = array[event_name], array[time_name]
    elif array.ndim == 1:
        times, events = array, np.ones(array.shape[0])
    else:
        if array.ndim != 2 or array.shape[1] != 2:
            raise ValueError(
                "The Cox datafit needs survival data: an array of shape (n_samples, 2) with "
                "columns (time, event), a structured array with fields (event, time), or a "
                f"vector of uncensored times; got an array of shape {array.shape}.")
        times, events = array[:, 0], array[:, 1]
    try:
        times = np.asarray(times, dtype=np.float64)
        events = np.asarray(events, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"Survival times and events must be numeric: {exc}") from None
    if times.shape[0] == 0:
        raise ValueError("The survival target is empty.")
    if not np.all(np.isfinite(times)):
        raise ValueError("Survival times must be finite (no NaN or infinity).")
    if np.any(times < 0):
        raise ValueError(f"Survival times must be non-negative; got a minimum of "
                         f"{times.min():g}.")
    if not np.all((events == 0.0) | (events == 1.0)):
        raise ValueError("Event indicators must be 0 (censored) or 1 (event observed); got "
                         f"values {np.unique(events[(events != 0) & (events != 1)])[:5]}.")
    if not np.any(events == 1.0):
        raise ValueError("The survival data has no event (every sample is censored): the "
                         "partial likelihood is constant and there is nothing to fit.")
    return np.column_stack([times, events])


@njit(cache=True)
def _order(y):
    """The sort permutation stored in the target (float-coded, exact below 2^53)."""
    n = y.shape[0]
    order = np.empty(n, dtype=np.int64)
    for pos in range(n):
        order[pos] = np.int64(y[pos, ORDER])
    return order


@njit(cache=True)
def _log_risk_sums(z, y, s, order, log_q):
    """``log_q[pos] = log sum_{j at sorted position >= pos} s_j exp(z_j)`` (running log-sum-exp).

    The log of a group's risk-set sum ``Q_k`` is ``log_q`` at the group's first
    position. Zero weights contribute nothing (``-inf`` before any positive one).
    """
    top = -np.inf
    acc = 0.0
    for pos in range(z.shape[0] - 1, -1, -1):
        j = order[pos]
        if s[j] > 0.0:
            if z[j] > top:
                acc = acc * np.exp(top - z[j]) + s[j]
                top = z[j]
            else:
                acc += s[j] * np.exp(z[j] - top)
        log_q[pos] = top + np.log(acc) if acc > 0.0 else -np.inf


@njit(cache=True)
def _group_end(y, order, start):
    """One past the last sorted position tied in time with ``start``."""
    end = start + 1
    t = y[order[start], TIME]
    while end < order.shape[0] and y[order[end], TIME] == t:
        end += 1
    return end


@njit(cache=True)
def _sorted_log_risk(z, y, s):
    """``(order, log_q)``: the time order and the log risk-set sums along it."""
    order = _order(y)
    log_q = np.empty(z.shape[0])
    _log_risk_sums(z, y, s, order, log_q)
    return order, log_q


@njit(cache=True)
def _group_events(y, s, order, start, end):
    """``C_k``: the event weight of the tie group at sorted positions ``[start, end)``."""
    events = 0.0
    for pos in range(start, end):
        j = order[pos]
        events += s[j] * y[j, EVENT]
    return events


@njit(cache=True)
def cox_value(z, y, s):
    order, log_q = _sorted_log_risk(z, y, s)
    val = 0.0
    for j in range(z.shape[0]):
        val -= s[j] * y[j, EVENT] * z[j]
    start = 0
    while start < z.shape[0]:
        end = _group_end(y, order, start)
        events = _group_events(y, s, order, start, end)
        if events > 0.0:
            val += events * (log_q[start] - np.log(events))
        start = end
    return val


@njit(cache=True)
def _accumulate_log(top, acc, term):
    """One step of a running log-sum-exp ``top + log(acc)``: add ``exp(term)``."""
    if term > top:
        return term, acc * np.exp(top - term) + 1.0
    return top, acc + np.exp(term - top)


@njit(cache=True)
def _risk_weights(z, y, s, curvature, out):
    """``out_j = sum_{k : j in R_k} C_k p^k_j`` (``q_j A_{g(j)}``), or with ``curvature``
    the Hessian diagonal ``sum_{k : j in R_k} C_k p^k_j (1 - p^k_j)``.

    ``log A_k`` and ``log B_k = log sum_{l <= k} C_l / Q_l^2`` are running
    log-sum-exps; ``s_j exp(z_j + log A)`` and ``s_j^2 exp(2 z_j + log B)`` are sums
    of ``C_k p`` and ``C_k p^2`` with ``p <= 1``, so nothing overflows.
    """
    order, log_q = _sorted_log_risk(z, y, s)
    top_a, acc_a = -np.inf, 0.0
    top_b, acc_b = -np.inf, 0.0
    start = 0
    while start < z.shape[0]:
        end = _group_end(y, order, start)
        events = _group_events(y, s, order, start, end)
        if events > 0.0:
            top_a, acc_a = _accumulate_log(top_a, acc_a, np.log(events) - log_q[start])
            if curvature:
                top_b, acc_b = _accumulate_log(top_b, acc_b,
                                               np.log(events) - 2.0 * log_q[start])
        log_a = top_a + np.log(acc_a) if acc_a > 0.0 else -np.inf
        log_b = top_b + np.log(acc_b) if acc_b > 0.0 else -np.inf
        for pos in range(start, end):
            j = order[pos]
            if s[j] == 0.0:
                out[j] = 0.0
                continue
            out[j] = s[j] * np.exp(z[j] + log_a)
            if curvature:
                # p (1 - p) summed: the difference rounds below 0 when one sample
                # carries its risk sets (p ~ 1)
                out[j] = max(out[j] - s[j] * s[j] * np.exp(2.0 * z[j] + log_b), 0.0)
        start = end


@njit(cache=True)
def cox_raw_grad(z, y, s, out):
    _risk_weights(z, y, s, False, out)
    for j in range(z.shape[0]):
        out[j] -= s[j] * y[j, EVENT]


@njit(cache=True)
def cox_raw_hessian(z, y, s, out):
    _risk_weights(z, y, s, True, out)


@njit(cache=True)
def cox_hessian_factors(z, y, s):
    """The O(n) factors of the Hessian ``d2F/dz^2 = sum_k C_k (diag(p^k) - p^k p^k^T)``.

    Returns ``(order, bounds, ratio, keep, gain, share, risk)``: the time order, the
    group boundaries (group ``k`` holds the sorted positions ``[bounds[k],
    bounds[k+1])``) and, every factor in ``[0, 1]`` or a risk weight, so that
    :func:`cox_hessian_matvec` needs no exponential::

        ratio_k = Q_{k+1} / Q_k                 share_pos = q_j / Q_{g(j)}
        keep_k  = A_{k-1} / A_k                 gain_k    = (C_k / Q_k) / A_k
        risk_pos = q_j A_{g(j)}                 (j = order[pos])

    (``keep = 1``, ``gain = 0`` while ``A_k = 0``; ``0 / 0 = 0`` otherwise). All are
    ratios of the running log-sum-exps of :func:`_risk_weights`.
    """
    order, log_q = _sorted_log_risk(z, y, s)
    n = z.shape[0]
    bounds = np.empty(n + 1, dtype=np.int64)
    log_group = np.empty(n)  # log Q_k
    n_groups = 0
    start = 0
    while start < n:
        bounds[n_groups] = start
        log_group[n_groups] = log_q[start]
        n_groups += 1
        start = _group_end(y, order, start)
    bounds[n_groups] = n
    bounds = bounds[:n_groups + 1]
    ratio = np.zeros(n_groups)
    keep = np.ones(n_groups)
    gain = np.zeros(n_groups)
    share = np.zeros(n)
    risk = np.zeros(n)
    top_a, acc_a = -np.inf, 0.0
    log_a_before = -np.inf
    for k in range(n_groups):
        log_qk = log_group[k]
        if k + 1 < n_groups and log_group[k + 1] > -np.inf:
            ratio[k] = np.exp(log_group[k + 1] - log_qk)
        events = _group_events(y, s, order, bounds[k], bounds[k + 1])
        if events > 0.0:
            top_a, acc_a = _accumulate_log(top_a, acc_a, np.log(events) - log_qk)
        log_a = top_a + np.log(acc_a) if acc_a > 0.0 else -np.inf
        if log_a > -np.inf:
            keep[k] = np.exp(log_a_before - log_a)
            if events > 0.0:
                gain[k] = np.exp(np.log(events) - log_qk - log_a)
        log_a_before = log_a
        for pos in range(bounds[k], bounds[k + 1]):
            j = order[pos]
            if s[j] > 0.0:
                share[pos] = s[j] * np.exp(z[j] - log_qk)
                risk[pos] = s[j] * np.exp(z[j] + log_a)
    return order, bounds, ratio, keep, gain, share, risk


@njit(cache=True)
def cox_hessian_matvec(order, bounds, ratio, keep, gain, share, risk, v, out):
    """``out = d2F/dz^2 @ v`` in O(n) from :func:`cox_hessian_factors`.

    ``(H v)_j = q_j A_{g(j)} (v_j - vbar_{g(j)})``: with the risk-set means
    ``m_k = sum_{i in R_k} p^k_i v_i`` (a backward recursion, ``m_k = ratio_k m_{k+1}
    + sum_{i in G_k} share_i v_i``) and their running average ``vbar_g = sum_{k <= g}
    (C_k / Q_k) m_k / A_g`` (forward, ``vbar_g = keep_g vbar_{g-1} + gain_g m_g``),
    the expansion of ``sum_k C_k (p^k_j v_j - p^k_j m_k)`` over the risk sets holding
    ``j``. Convex combinations only: no cancellation beyond ``v_j - vbar``.
    """
    n_groups = ratio.shape[0]
    means = np.empty(n_groups)
    mean = 0.0
    for k in range(n_groups - 1, -1, -1):
        acc = ratio[k] * mean
        for pos in range(bounds[k], bounds[k + 1]):
            acc += share[pos] * v[order[pos]]
        means[k] = acc
        mean = acc
    average = 0.0
    for k in range(n_groups):
        average = keep[k] * average + gain[k] * means[k]
        for pos in range(bounds[k], bounds[k + 1]):
            j = order[pos]
            out[j] = risk[pos] * (v[j] - average)


@njit(cache=True)
def cox_hessian_columns(X, cols, order, bounds, ratio, keep, gain, share, risk, out):
    """``out[:, k] = d2F/dz^2 @ X[:, cols[k]]`` (dense or CSC ``X``; one dense column at a time)."""
    column = np.zeros(out.shape[0])
    for k in range(cols.shape[0]):
        column[:] = 0.0
        col_axpy(X, cols[k], 1.0, column)
        cox_hessian_matvec(order, bounds, ratio, keep, gain, share, risk, column, out[:, k])


@njit(cache=True)
def _tolerated(value, scale):
    """``value`` clipped to 0 when it is negative by rounding only, ``-1`` when beyond it."""
    if value >= 0.0:
        return value
    if value >= -scale:
        return 0.0
    return -1.0


@njit(cache=True)
def _xlogx(x):
    return x * np.log(x) if x > 0.0 else 0.0


@njit(cache=True)
def cox_dual_value(theta, y, s):
    """``-F*(-theta)`` by the closed form of the module docstring, ``-inf`` off its domain."""
    order = _order(y)
    n = theta.shape[0]
    conj = 0.0
    tail = 0.0  # U_{k+1}, the suffix sum of u = -theta after the current group
    tail_abs = 0.0  # the same sum of |u|: the scale of its rounding
    end = n
    while end > 0:
        start = end - 1
        t = y[order[start], TIME]
        while start > 0 and y[order[start - 1], TIME] == t:
            start -= 1
        mass = 0.0
        events = 0.0
        group_u = 0.0
        for pos in range(start, end):
            j = order[pos]
            if s[j] == 0.0:
                if theta[j] != 0.0:
                    return -np.inf
                continue
            c = s[j] * y[j, EVENT]
            m = _tolerated(c - theta[j], _DOMAIN_ROUNDING * (c + abs(theta[j])))
            if m < 0.0:
                return -np.inf
            conj += _xlogx(m) - m * np.log(s[j])
            mass += m
            events += c
            group_u -= theta[j]
            tail_abs += abs(theta[j])
        conj += _xlogx(events) - _xlogx(mass + tail) + _xlogx(tail)
        tail += group_u
        end = start
        if end > 0:
            tail = _tolerated(tail, (_DOMAIN_ROUNDING + n * _EPS) * tail_abs)
            if tail < 0.0:
                return -np.inf
    # U_1 = sum(u) must vanish: F is invariant to shifts of z
    if abs(tail) > (_DOMAIN_ROUNDING + n * _EPS) * tail_abs:
        return -np.inf
    return -conj


class Cox(BaseDatafit):
    r"""Cox proportional hazards: Breslow's weighted negative log partial likelihood.

    ``F(z) = sum_k [C_k log(sum_{j in R_k} s_j exp(z_j)) - sum_{i in G_k} s_i d_i z_i
    - C_k log C_k]`` over the groups ``G_k`` of tied times, ``R_k`` the samples with
    ``t_j >= t_k`` and ``C_k`` the weight of the events of ``G_k`` (see the module
    docstring for the derivation of the derivatives, the exact conjugate and the
    strong-concavity constant). ``F >= 0``, with equality only in the limit of a
    perfect ranking; without ties and with uniform weights it is skglm's
    ``Cox()`` (``1/n`` times the negative log partial likelihood, Breslow ties).

    The target is survival data, ``(time, event)`` per sample (see
    :func:`survival_target` for the accepted layouts); :meth:`check_target` sorts
    the times once per problem. ``F(z + c) = F(z)``: there is no intercept
    (``intercept_mode = "none"``: the solvers ignore ``fit_intercept`` and report
    an intercept of 0), and every dual point satisfies ``sum_i theta_i = 0``.

    Every fit is certified by the exact duality gap. The Gap Safe sphere uses the
    data-dependent ``gamma`` of :meth:`dual_gamma` (the class attribute ``gamma``
    is ``None``: no constant works for every data set). FISTA is not available
    (``hessian_bound = None``); the prox-Newton solver's models use the exact
    Hessian (``full_hessian``: :meth:`hessian_columns` applies it in O(n) per
    column), or where that model is not built its exact diagonal,
    ``sum_k C_k p^k_j (1 - p^k_j)``.
    """

    gamma = None
    hessian_bound = None
    intercept_mode = "none"
    is_survival = True
    full_hessian = True

    _kernels = (cox_value, cox_raw_grad, cox_raw_hessian, cox_dual_value)

    def check_target(self, y):
        """Validate ``(time, event)`` data and add the time order: ``(n, 3)`` float64.

        Columns: time, event (0/1), and the stable argsort of the times (the
        sorted position ``k`` holds sample ``order[k]``), which the kernels read.
        """
        target = survival_target(y)
        order = np.argsort(target[:, TIME], kind="stable")
        return np.column_stack([target, order.astype(np.float64)])

    def hessian_columns(self, z, y, s):
        """``apply(X, cols, out)``: ``out = d2F/dz^2 @ X[:, cols]``, O(n) per column.

        The factors of :func:`cox_hessian_factors` are computed once, here, at ``z``.
        """
        factors = cox_hessian_factors(z, y, s)

        def apply(X, cols, out):
            cox_hessian_columns(X, cols, *factors, out)
        return apply

    def dual_gamma(self, y, s):
        """``1 / L``, ``L = max_{s_j > 0} E_j / (2 s_j)``, ``E_j`` the event weight up to ``t_j``.

        Raises ``ValueError`` when no event has a positive weight (``F`` is then 0).
        """
        order = y[:, ORDER].astype(np.int64)
        times = y[order, TIME]
        c = (s * y[:, EVENT])[order]
        if not np.any(c > 0.0):
            raise ValueError("Every event has a zero sample_weight: the partial likelihood "
                             "is constant and there is nothing to fit.")
        # E_j: cumulative event weight over the groups up to and including t_j's
        group_last = np.searchsorted(times, times, side="right") - 1
        cumulative = np.cumsum(c)[group_last]
        weights = s[order]
        positive = weights > 0.0
        return float(1.0 / np.max(cumulative[positive] / (2.0 * weights[positive])))
