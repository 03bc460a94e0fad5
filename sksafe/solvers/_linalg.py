"""Dense linear algebra shared by the Newton steps of the solvers.

The face Newton steps of :class:`~sksafe.solvers._states.QuadraticCDState` and
the exact-Hessian models of :mod:`sksafe.solvers._exact_newton` both solve small
dense positive semi-definite systems, one thread at a time.
"""
import numpy as np
import scipy.linalg
from threadpoolctl import ThreadpoolController

_BLAS_CONTROLLER = []


def single_blas_thread():
    """Context limiting BLAS/LAPACK to one thread, like the rest of the solver.

    The face Newton steps factorise matrices of a few hundred rows, many times per
    fit: threads buy little there, and on a busy machine (or under joblib's
    parallel CV folds) spinning BLAS threads made them ten times slower in a
    measurement. The controller scans the loaded libraries once, at first use.
    """
    if not _BLAS_CONTROLLER:
        _BLAS_CONTROLLER.append(ThreadpoolController())
    return _BLAS_CONTROLLER[0].limit(limits=1, user_api="blas")


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
        eigval, eigvec = scipy.linalg.eigh(hessian, check_finite=False)
        keep = eigval > 1e-12 * max(eigval[-1], 0.0)
        basis = eigvec[:, keep]
        coords = basis.T @ grad
        null_part = grad - basis @ coords
        if null_part @ null_part > 1e-20 * (grad @ grad):
            direction = -null_part
            if np.all(np.isfinite(direction)) and grad @ direction < 0.0:
                return direction, np.inf
        direction = -basis @ (coords / eigval[keep])
    if not np.all(np.isfinite(direction)) or grad @ direction >= 0.0:
        return None, 0.0
    return direction, 1.0
