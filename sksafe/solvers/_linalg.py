"""Dense linear algebra shared by the Newton steps of the solvers.

The face Newton steps of :class:`~sksafe.solvers._states.QuadraticCDState` and
the exact-Hessian models of :mod:`sksafe.solvers._exact_newton` both solve small
dense positive semi-definite systems, one thread at a time.
"""
import threading
from contextlib import contextmanager

import numpy as np
import scipy.linalg
import scipy.linalg.lapack
from threadpoolctl import ThreadpoolController

_BLAS_LIMIT = threading.local()  # per thread: controller, local setters, depth, saved state


@contextmanager
def single_blas_thread():
    """Context limiting BLAS/LAPACK to one thread, like the rest of the solver.

    The face Newton steps factorise matrices of a few hundred rows, many times per
    fit: threads buy little there, and on a busy machine (or under joblib's
    parallel CV folds) spinning BLAS threads made them ten times slower in a
    measurement. One thread also makes their last digits independent of the thread
    that runs the fit. With scipy's OpenBLAS (0.3.30 and 0.3.31 here), the
    process-wide setter that threadpoolctl calls, used from a worker thread after
    the main thread had used it, left that worker at 2 threads, as if OpenBLAS kept
    a count per thread; a CV fold fitted in a worker thread then differed from the
    same fold in the main thread by 1e-14. So OpenBLAS libraries that have
    ``openblas_set_num_threads_local`` are limited through it, for the calling
    thread only, and not through the process-wide setter as well (with both, the
    threading-backend CV test still failed 3 runs of 5); other BLAS libraries go
    through threadpoolctl. Nested uses in one thread share the outermost limit;
    each thread scans the libraries once (0.7 ms).
    """
    state = _BLAS_LIMIT
    if getattr(state, "controller", None) is None:
        state.controller = ThreadpoolController()
        blas = [lib for lib in state.controller.lib_controllers if lib.user_api == "blas"]
        local = [hasattr(lib.dynlib, "openblas_set_num_threads_local") for lib in blas]
        state.local_setters = [lib.dynlib.openblas_set_num_threads_local
                               for lib, has in zip(blas, local) if has]
        state.others = [lib.filepath for lib, has in zip(blas, local) if not has]
        state.depth, state.saved, state.limiter = 0, [], None
    if state.depth == 0:
        state.saved = [setter(1) for setter in state.local_setters]
        if state.others:
            state.limiter = state.controller.select(filepath=state.others).limit(limits=1)
    state.depth += 1
    try:
        yield
    finally:
        state.depth -= 1
        if state.depth == 0:
            if state.limiter is not None:
                state.limiter.restore_original_limits()
            for setter, previous in zip(state.local_setters, state.saved):
                setter(previous)
            state.limiter, state.saved = None, []


def newton_direction(hessian, grad):
    """Descent direction of ``q(d) = grad^T d + d^T H d / 2`` for a symmetric positive
    semi-definite ``H``: the Newton direction ``-H^{-1} grad`` (Cholesky).

    When ``H`` is singular (more free coordinates than samples, duplicated
    columns) and ``grad`` has a component in its null space, ``q`` decreases
    linearly, without bound, along minus that component: it is returned, and the
    caller's step stops where a coordinate reaches zero (what LARS does when the
    active set outgrows the samples). Otherwise the minimal-norm minimiser
    ``-H^+ grad``. Returns ``(direction, longest)`` with ``longest`` the length at
    which ``q`` stops decreasing (1, or ``inf`` along a null direction), or
    ``(None, 0)`` if rounding leaves no descent direction.
    """
    try:
        factor = scipy.linalg.cho_factor(hessian, check_finite=False)
        direction = -scipy.linalg.cho_solve(factor, grad, check_finite=False)
    except scipy.linalg.LinAlgError:
        null_part, direction = _semidefinite_parts(hessian, grad)
        if null_part @ null_part > 1e-20 * (grad @ grad):
            if np.all(np.isfinite(null_part)) and grad @ null_part > 0.0:
                return -null_part, np.inf
    if not np.all(np.isfinite(direction)) or grad @ direction >= 0.0:
        return None, 0.0
    return direction, 1.0


def _semidefinite_parts(hessian, grad):
    """``(null_part, -H^+ grad)``: the component of ``grad`` in the null space of the
    singular ``H`` and the minimal-norm minimiser of ``q`` over its range.

    A rank-revealing (pivoted) Cholesky factorisation ``P^T H P = R^T R``, ``R = [R11
    R12]`` of rank ``r`` (LAPACK ``dpstrf``, about |f|^3 / 3 flops, where an
    eigendecomposition costs about 9 |f|^3): the null space is spanned by the
    columns of ``P [-R11^{-1} R12; I]``. Pivots below ``1e-12`` times the largest
    diagonal entry count as zero.
    """
    size = hessian.shape[0]
    tol = 1e-12 * max(float(np.max(np.diag(hessian))), 0.0)
    factor, piv, rank, _ = scipy.linalg.lapack.dpstrf(hessian, tol=tol, lower=0)
    piv = piv[:size] - 1  # LAPACK's pivots count from one
    R11 = np.triu(factor[:rank, :rank])
    mixing = scipy.linalg.solve_triangular(R11, factor[:rank, rank:], check_finite=False)
    gram = np.eye(size - rank) + mixing.T @ mixing  # N^T N, N = [-mixing; I]
    gram_factor = scipy.linalg.cho_factor(gram, check_finite=False)

    def project_out_of_range(v):
        """The null-space component of ``v`` (permuted coordinates)."""
        coeff = scipy.linalg.cho_solve(gram_factor, v[rank:] - mixing.T @ v[:rank],
                                       check_finite=False)
        return np.concatenate([-mixing @ coeff, coeff])

    g = grad[piv]
    null_part = np.empty(size)
    null_part[piv] = project_out_of_range(g)
    half = scipy.linalg.solve_triangular(R11, g[:rank], trans="T", check_finite=False)
    basic = np.concatenate([-scipy.linalg.solve_triangular(R11, half, check_finite=False),
                            np.zeros(size - rank)])
    direction = np.empty(size)
    direction[piv] = basic - project_out_of_range(basic)
    return null_part, direction
