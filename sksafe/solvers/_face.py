"""Newton steps on a face: the pieces both working-set states share.

On the *face* of a sign pattern (the non-zero coefficients keep their signs, the
others stay at zero, no box bound is crossed) the objective ``F(X w + b) + sum_j
a_j |w_j| + b_j w_j^2 / 2`` is smooth: ``sum_j a_j sign(w_j) w_j + b_j w_j^2 / 2``
plus the datafit. Coordinate descent identifies the face quickly but converges
slowly on it when the columns are correlated; a Newton step restricted to the face
converges quadratically once the face is the optimal one (the active-set idea of
LARS and of the face steps of :class:`~sksafe.solvers._states.QuadraticCDState`).
This module sizes such steps, builds their Hessian and keeps them on the face.
"""
import numpy as np

from ._design import csc_row_pairs, csc_weighted_gram, xt_dot
from ._linalg import newton_direction

#: largest face (free coefficients) on which a Newton step is attempted: its dense
#: Hessian (8 |face|^2 bytes) and Cholesky factorisation stay small
MAX_FACE_SIZE = 2500
#: largest dense copy ``X[:, face]`` (entries; 100 MB) a Newton step may make
MAX_FACE_ENTRIES = 12_500_000
#: a flop of the Newton step (BLAS-3 product, Cholesky) costs about this fraction of
#: a flop of a coordinate descent epoch (level-1 loops): sizes the epochs between steps
BLAS_SPEEDUP = 0.2
#: the same for a sparse Hessian ``X_f^T D X_f``, for the steps of struggling models.
#: Not a flop ratio: the product is far cheaper than this says (1.6 ms for 328 reuters
#: columns, 9 ms with scipy's sparse product, priced as about 90 ms of epochs), but on
#: sparse text the faces of cold fits keep changing and those steps are mostly wasted;
#: 1.0 instead of 0.2 kept them rare (relathe L1-logistic at alpha_max / 100: 68 -> 53
#: ms, reuters with an intercept at / 1000: 514 -> 400 ms, while basehock kept its face
#: steps and its speed-up). :func:`face_step_work` gives what a step really costs.
SPARSE_GRAM_SPEEDUP = 1.0


def column_work(problem, cols):
    """Stored entries of ``X[:, cols]``: the cost of one pass over those columns."""
    if problem.is_sparse:
        indptr = problem.X[2]
        return int(np.sum(indptr[cols + 1] - indptr[cols]))
    return problem.n_samples * cols.size


def face_fits(problem, free):
    """Whether a Newton step on the face ``free`` is small enough to attempt."""
    return 0 < free.size <= MAX_FACE_SIZE and (
        problem.is_sparse or problem.n_samples * free.size <= MAX_FACE_ENTRIES)


def face_newton_cost(problem, free):
    """Cost of one face Newton step in coordinate-descent entry units (Hessian and
    factorisation, discounted by :data:`BLAS_SPEEDUP` or :data:`SPARSE_GRAM_SPEEDUP`).

    A face with more free coordinates than samples is priced 27 times higher (9 |f|^3
    instead of |f|^3 / 3, the cost of the eigendecomposition its singular Hessian once
    needed; :func:`~sksafe.solvers._linalg.newton_direction` now uses a pivoted
    Cholesky factorisation there). In general position no optimum has that many
    non-zero coefficients, and the steps on such faces mostly walk one kink at a time:
    on leukemia (72 x 7129) at alpha_max / 1000 the Lasso fit takes 58 ms with this
    price and 116 ms with the Cholesky one (it took 240 ms when those steps were
    eigendecompositions priced as Cholesky steps).
    """
    gram = column_work(problem, free) * free.size
    return ((SPARSE_GRAM_SPEEDUP if problem.is_sparse else BLAS_SPEEDUP) * gram
            + _factorisation_cost(problem, free))


def _factorisation_cost(problem, free, flop=BLAS_SPEEDUP):
    return flop * free.size ** 3 * (1 / 3 if free.size <= problem.n_samples else 9)


#: a flop of LAPACK's Cholesky factorisation or of a BLAS-3 product on one core, in
#: coordinate-descent entries: 0.3 ms for the 8 Mflop factorisation of 283 reuters
#: columns, where an entry of an epoch costs 1.4 ns (what :func:`face_step_work`
#: measures; :data:`BLAS_SPEEDUP` is a price, not a measurement)
MEASURED_FLOP = 0.03


def face_step_work(problem, free, limit=np.inf):
    """The work of one face Newton step in coordinate-descent entry units, as measured.

    Unlike :func:`face_newton_cost`, which prices the steps of struggling models
    high on purpose, this is what a step costs: the Hessian (a sparse design: the
    row products of :func:`~sksafe.solvers._design.csc_weighted_gram`, about 1.3 ns
    each against 1.4 ns for an entry of an epoch on reuters; a dense one: BLAS
    products), its factorisation (both at :data:`MEASURED_FLOP`), and three
    passes over the columns (the gradient, the step and the Gram kernel's
    transposition; an intercept adds two). The row products are
    counted (one pass) only when a lower bound does not already exceed ``limit``.
    """
    entries = column_work(problem, free)
    fixed = 3 * entries + _factorisation_cost(problem, free, MEASURED_FLOP)
    n = problem.n_samples
    if not problem.is_sparse:
        return fixed + 2 * MEASURED_FLOP * n * free.size ** 2
    lower = fixed + entries ** 2 / (2 * n)  # sum_i r_i^2 >= (sum_i r_i)^2 / n
    if lower > limit:
        return lower
    _, indices, indptr = problem.X
    return fixed + csc_row_pairs(indices, indptr, free, n)


def face_changes(before, after):
    """Coordinates that entered or left a face, plus sign flips on both: ``before``
    and ``after`` are ``(free coordinates (sorted), their signs)``."""
    _, was, now = np.intersect1d(before[0], after[0], assume_unique=True, return_indices=True)
    return (before[0].size + after[0].size - 2 * was.size
            + int(np.count_nonzero(before[1][was] != after[1][now])))


def free_on_face(w, cols, box):
    """Mask of ``cols`` free to move on the current face: non-zero, inside the box."""
    lower, upper = box
    values = w[cols]
    return (values != 0.0) & (values > lower[cols]) & (values < upper[cols])


def face_gram(problem, cols, weights, offsets):
    """``sum_i weights_i (x_i - offsets)(x_i - offsets)^T`` over the rows of ``X[:, cols]``
    (dense), ``X`` the problem's design.

    The columns are centred implicitly (sparse data stay sparse): with ``X_f = X[:,
    cols]`` and ``c = X_f^T weights`` it is ``X_f^T W X_f - c o^T - o c^T + sum(weights)
    o o^T``.
    Sparse designs go through :func:`~sksafe.solvers._design.csc_weighted_gram`
    (no copy of the columns), whose cost follows the sparsity of the rows; dense
    ones through BLAS.
    """
    weights = np.asarray(weights, dtype=np.float64)
    if problem.is_sparse:
        data, indices, indptr = problem.X
        gram = csc_weighted_gram(data, indices, indptr, cols, weights, problem.n_samples)
    else:
        X_f = problem.X_matrix[:, cols]
        gram = X_f.T @ (X_f * weights[:, None])
    if offsets is not None:
        col_sums = np.empty(cols.shape[0])
        xt_dot(problem.X, weights, cols, col_sums)
        gram -= np.outer(col_sums, offsets) + np.outer(offsets, col_sums)
        gram += weights.sum() * np.outer(offsets, offsets)
    return gram


def longest_step_on_face(w, direction, longest, a, lower, upper):
    """``(length, step)``: ``step = length * direction`` with the largest ``length <=
    longest`` that keeps every coordinate on its face (a penalised coordinate stops
    at its kink, every coordinate at its bound); the blocking ones land exactly on
    zero or on their bound. ``(0, None)`` when no positive length is possible."""
    to_zero = np.full_like(w, np.inf)
    to_bound = np.full_like(w, np.inf)
    with np.errstate(divide="ignore", invalid="ignore"):
        crossing = (a > 0.0) & (w * direction < 0.0)
        to_zero[crossing] = -w[crossing] / direction[crossing]
        bound = np.where(direction > 0.0, upper, lower)
        moving = direction != 0.0
        to_bound[moving] = (bound[moving] - w[moving]) / direction[moving]
    length = float(min(longest, to_zero.min(), to_bound.min()))
    if not 0.0 < length < np.inf:
        return 0.0, None
    step = length * direction
    at_zero = (to_zero <= length) & (to_zero <= to_bound)
    at_bound = (to_bound <= length) & ~at_zero
    step[at_zero] = -w[at_zero]
    step[at_bound] = bound[at_bound] - w[at_bound]
    return length, step


def newton_step_on_face(hessian, grad, w, a, lower, upper):
    """``(step, full)``: the Newton step of ``q(d) = grad^T d + d^T H d / 2``
    (:func:`~sksafe.solvers._linalg.newton_direction`) kept on the face by
    :func:`longest_step_on_face`; ``full`` is whether nothing shortened it (else a
    coordinate reached its kink or bound). ``(None, False)`` when there is no step."""
    direction, longest = newton_direction(hessian, grad)
    if direction is None:
        return None, False
    length, step = longest_step_on_face(w, direction, longest, a, lower, upper)
    return step, length == longest
