"""Prox-Newton models with the exact Hessian of a datafit whose Hessian is not diagonal.

:class:`~sksafe.solvers._states.ProxNewtonState` models the datafit by
``F(z + v) ~ F(z) + grad^T v + v^T diag(h) v / 2``, which is Newton's model when
``F`` is separable in the samples. The Cox partial likelihood couples them:
``d2F/dz^2 = sum_k C_k (diag(p^k) - p^k p^k^T)`` (:mod:`sksafe.datafits.cox`), and
a diagonal model of it converges linearly, with a rate close to 1 on correlated
designs at small ``alpha`` (2856 Newton steps to a relative gap of 1e-6 on a
300 x 5000 AR(1) design at ``alpha_max / 50``). With ``H`` the exact Hessian,
the model over the working set ``W``::

    min_delta  grad^T X_W delta + delta^T (X_W^T H X_W) delta / 2 + g(w_W + delta)

is Newton's own, and an accurate solve of it converges quadratically near the
optimum (proximal Newton: Lee, Sun & Saunders, SIAM J. Optim. 2014). ``H`` is
never formed: the datafit applies it to the working-set columns in O(n) each
(:meth:`~sksafe.datafits.base.BaseDatafit.hessian_columns`), and the ``|W| x |W|``
matrix ``G = X_W^T (H X_W)`` is one BLAS product (a sparse-dense one for CSC
input, which stays sparse). The model is then solved on ``G`` alone, by
coordinate descent with Anderson extrapolation
(:func:`~sksafe.solvers._gram_kernels.gram_cd`, the kernel of the distributed
prox-Newton models) alternated with Newton steps on the face of the current
sign pattern (:func:`solve_gram_model`). The line search of the state is
unchanged, so the outer solver stays monotone.

Why the Gram matrix rather than coordinate descent that keeps ``v = H X_W delta``
up to date with the stored columns ``H x_j`` (the other way to use the exact
Hessian): an update costs ``O(|W|)`` instead of ``O(n)`` (a column dot product and
an update of ``v``), cheaper as long as ``|W| < 2 n`` (the working sets of
``benchmarks/bench_cox.py`` stay below ``2 n``: at most 604 for ``n = 300``); and,
above all, the face steps need ``G``. Plain coordinate descent used up to 1000
epochs on the models of a 300 x 5000 AR(1) design at ``alpha_max / 50`` (supports
of about 260 correlated columns); with exact models throughout, a fit to a
relative gap of 1e-6 took 1.68 s of CPU time with Anderson extrapolation but no
face steps, 1.54 s with face steps but no extrapolation, 0.82 s with both.

When to use it (:func:`exact_model_applies`): the Gram matrix is built when it
is small (``|W| <= max_gram_size``, ``n |W|`` entries of ``H X_W`` at most
``max_gram_entries``) and the working set has no other box than ``w >= 0`` or
none; and only near the optimum, once the KKT tolerance the state asks of the
model is ``<= exact_below`` times the largest L1 weight of ``W``. Far from it the
support is still changing, and the diagonal models, several times cheaper per
step, make as much progress per second: on the six problems of
``benchmarks/bench_cox.py`` the exact models from the first step were 1.4 to 1.7x
slower than the diagonal ones to a suboptimality of 1e-6 on gravier and on the
AR(1) design at ``alpha_max / 10`` (the diagonal models' duality gap lags behind
their objective, so to a certified gap of 1e-6 the exact ones were faster
everywhere, up to 7x). CPU times (ms) to a certified relative gap of 1e-6,
diagonal / exact from the start / switch at ``exact_below`` = 0.1, 0.03, 0.01::

    gravier 168 x 2905,  alpha_max / 10:    28 /   25 /  22 /  20 /  16
    gravier,             alpha_max / 50:   514 /  270 / 152 / 105 / 120
    pomeroy 60 x 7128,   alpha_max / 10:    23 /   13 /  14 /  12 /  11
    pomeroy,             alpha_max / 50:   128 /   32 /  28 /  35 /  36
    AR(1) 300 x 5000,    alpha_max / 10:   135 /  109 /  87 /  77 /  69
    AR(1),               alpha_max / 50:  7569 / 1090 / 708 / 646 / 799

(one noisy run each on a shared machine; 0.03 has the smallest worst case).
"""
import numpy as np

from ._design import xt_dot
from ._gram_kernels import gram_cd
from ._linalg import newton_direction

#: largest working set whose Gram matrix ``X_W^T H X_W`` is built (8 |W|^2 bytes)
max_gram_size = 3000
#: exact models once the model's KKT tolerance is below this fraction of the largest L1
#: weight of the working set (diagonal models before; see the module docstring)
exact_below = 0.03
#: largest ``H X_W`` (entries; 100 MB) built for it
max_gram_entries = 12_500_000
#: coordinate descent epochs on one exact model at most (an epoch costs ``|W|^2``)
max_model_epochs = 100
#: coordinate descent epochs between two series of face Newton steps
face_cd_epochs = 30
#: Anderson extrapolation of the model's coordinate descent (iterates per extrapolation - 1)
n_extrapolation = 5
#: consecutive face Newton steps on shrinking faces
max_face_steps = 1
#: the exact model is solved to this fraction of the KKT tolerance the state asks for:
#: its epochs are cheap, and an accurate model solve is what makes Newton quadratic
model_refinement = 0.1


def exact_model_applies(state, ws, kkt_tol):
    """Whether :func:`exact_newton_step` replaces the diagonal model on ``ws``.

    Needs a datafit with ``full_hessian``, no intercept (the shift-invariant Cox
    datafit has none: its Hessian is already flat along ``1``), a small enough
    Gram matrix, a box the Gram kernel supports (none, or ``w >= 0``), and the
    model's KKT tolerance ``kkt_tol`` at most ``exact_below`` times the largest L1
    weight on ``ws`` (any tolerance without one: ridge).
    """
    pb = state.problem
    if not state.datafit.full_hessian or pb.fit_intercept:
        return False
    if ws.size > max_gram_size or pb.n_samples * ws.size > max_gram_entries:
        return False
    lower, upper = state.box[0][ws], state.box[1][ws]
    if np.any(upper < np.inf):
        return False
    scale = np.max(state.a[ws])
    if scale > 0.0 and kkt_tol > exact_below * scale:
        return False
    return bool(np.all(lower == -np.inf) or np.all(lower == 0.0))


def exact_newton_step(state, ws, kkt_tol):
    """Minimise the exact second-order model plus penalty over ``ws``.

    ``state`` is a :class:`~sksafe.solvers._states.ProxNewtonState` whose ``grad``
    holds ``grad F(z)`` at its point ``z``. In ``u = w_W + delta`` the model is
    ``u^T G u / 2 - c^T u + g(u)`` with ``G = X_W^T H X_W`` and ``c = G w_W - X_W^T
    grad``; it is solved by coordinate descent to KKT violation
    ``model_refinement * kkt_tol``. Returns ``(delta, 0.0)`` (no intercept step).
    """
    pb = state.problem
    apply = state.datafit.hessian_columns(state.z, pb.y, pb.s)
    hx = np.empty((pb.n_samples, ws.size), order="F")
    apply(pb.X, ws, hx)
    X_ws = pb.X_matrix[:, ws]
    gram = np.asarray(X_ws.T @ hx, dtype=np.float64)  # sparse @ dense is dense
    gram = 0.5 * (gram + gram.T)  # symmetric up to rounding
    x_grad = np.empty(ws.size)
    xt_dot(pb.X, state.grad, ws, x_grad)
    w_ws = state.w[ws]
    u = w_ws.copy()
    positive = bool(np.all(state.box[0][ws] == 0.0))
    # rank(G) <= rank(H) <= n - 1 (F is flat along 1)
    solve_gram_model(gram, gram @ w_ws - x_grad, u, state.a[ws], state.b[ws], positive,
                     model_refinement * kkt_tol, pb.n_samples - 1)
    return u - w_ws, 0.0


def solve_gram_model(gram, c, u, a, b, positive, tol, rank):
    """Minimise ``u^T G u / 2 - c^T u + sum_j a_j |u_j| + b_j u_j^2 / 2`` (``u >= 0`` if
    ``positive``) to KKT violation ``tol``, starting from ``u`` (updated in place).

    Coordinate descent alone converges linearly, with a rate close to 1 when the
    working-set columns are correlated (``G`` badly conditioned). It finds the sign
    pattern quickly, though, and on the face of a sign pattern the model is a
    smooth quadratic, minimised by one linear solve. So :func:`_face_steps` (an
    active-set method, as the face steps of
    :class:`~sksafe.solvers._states.QuadraticCDState`) alternate with chunks of
    ``face_cd_epochs`` epochs, ``max_model_epochs`` at most: near the optimum the
    first face step lands on the model's minimiser and no epoch is needed. The
    limits were measured (CPU time to gap 1e-6 on the AR(1) design above, noisy
    machine): 100 epochs per model 0.82 to 0.90 s, 50: 2.6 s, 300: 1.5 s, 1000: 1.4
    to 1.5 s; one face step per round 0.86 s, two: 0.98 s.
    """
    epochs = 0
    while epochs < max_model_epochs:
        _face_steps(gram, c, u, a, b, positive, rank)
        done, criterion = gram_cd(gram, c, u, a, b, positive, face_cd_epochs, tol, -1.0, 1,
                                  n_extrapolation)
        epochs += max(done, 1)
        if criterion <= tol:
            return


def _face_steps(gram, c, u, a, b, positive, rank):
    """Newton steps on the model restricted to the face of ``u``'s sign pattern.

    On the face (non-zero coordinates free, zeros fixed) the objective is the
    quadratic with gradient ``(G u - c + a sign(u) + b u)_f`` and Hessian ``G_ff +
    diag(b_f)``. The step is shortened where a coordinate that may not change sign
    (penalised, or ``positive``) reaches zero, which it is set to; the smaller face
    gets the next step, up to ``max_face_steps``.
    """
    face = np.flatnonzero(u)
    for _ in range(max_face_steps):
        if face.size == 0 or (face.size > rank and not np.all(b[face] > 0.0)):
            return  # a singular face Hessian: its factorisation would not pay
        u_f = u[face]
        grad = gram[face] @ u - c[face] + a[face] * np.sign(u_f) + b[face] * u_f
        hessian = gram[np.ix_(face, face)]
        hessian[np.diag_indices_from(hessian)] += b[face]
        direction, longest = newton_direction(hessian, grad)
        if direction is None:
            return
        kinked = ((a[face] > 0.0) | positive) & (u_f * direction < 0.0)
        to_zero = np.full(face.size, np.inf)
        to_zero[kinked] = -u_f[kinked] / direction[kinked]
        length = min(longest, to_zero.min())
        if not 0.0 < length < np.inf:
            return
        u_new = u_f + length * direction
        u_new[to_zero <= length] = 0.0
        u[face] = u_new
        if length == longest:
            return
        face = face[u_new != 0.0]
