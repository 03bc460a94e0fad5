"""The datafit protocol.

A datafit is the loss part of the objective, written on the linear predictor
``z = X w + b`` and normalised by the (sample-weighted) number of samples::

    F(z) = sum_i s_i f(y_i, z_i),     s_i >= 0,  sum_i s_i = 1

(``s_i = 1 / n`` without sample weights, ``s_i = sw_i / sum(sw)`` with them, so that
integer weights behave exactly like repeated rows). Datafits are small
parameter objects whose methods call module-level ``@njit(cache=True)`` kernels
on length-``n`` vectors (or, for long vectors, numpy expressions: see
:data:`VECTOR_MIN_SAMPLES`); the solvers never need to know which datafit they run:

``value(z, y, s)``
    ``F(z)`` (float64 accumulator).
``raw_grad(z, y, s, out)`` / ``raw_hessian(z, y, s, out)``
    ``dF/dz_i`` and ``d2F/dz_i^2`` written into ``out``.
``dual_value(theta, y, s)``
    ``-F*(-theta) = -sum_i s_i f*(y_i, -theta_i / s_i)``, ``-inf`` outside its domain.
``zero_sum_dual(theta, y, s)``
    a dual point with ``sum_i theta_i = 0`` (the equality constraint of the
    intercept) close to ``theta`` and inside the domain of ``dual_value``: exact
    minimisation of the intercept leaves ``sum(theta)`` at rounding level, not 0,
    and a dual point off the constraint could overstate ``D`` and make
    screening unsafe. The base class scales down the dominant sign, which is
    right for any datafit whose conjugate domain is a product of intervals
    containing 0.
``gamma``
    strong-concavity constant of ``dual_value`` in the weighted norm
    ``||u||_s^2 = sum_i u_i^2 / s_i``; it sets the Gap Safe radius
    ``r = sqrt(2 G / gamma)``. ``None`` when the dual has none (Poisson): the
    duality gap still certifies the fit, but nothing is screened.
``dual_gamma(y, s)``
    the constant for one problem's target and weights, which the solvers use
    (``gamma`` unless overridden: Cox's depends on the data).
``hessian_bound``
    an upper bound of ``f''`` (Lipschitz constant of ``f'``), for step sizes;
    ``None`` when ``f''`` is unbounded (no FISTA then).
``intercept_mode``
    ``"centre"`` (the intercept is eliminated by centring X and y, exact for the
    quadratic loss), ``"newton"`` (the intercept is an explicit unpenalised
    variable, minimised exactly by Newton's method before each gap evaluation)
    or ``"none"`` (``F(z + c) = F(z)``, Cox: no intercept to fit, and every dual
    point has ``sum_i theta_i = 0``).
``intercept_shift(z, y, s)``
    the shift ``c`` minimising ``F(z + c)`` in closed form, or ``None`` (the
    default) when there is none: the solvers then take Newton steps.
``full_hessian`` / ``hessian_columns(z, y, s)``
    ``full_hessian = False`` (the default): ``d2F/dz^2`` is diagonal, and
    ``raw_hessian`` is all of it. A datafit whose Hessian couples the samples (Cox)
    sets it to True and returns from ``hessian_columns`` a function ``apply(X, cols,
    out)`` writing ``d2F/dz^2 @ X[:, cols]`` into ``out`` (``X`` the kernel design of
    :func:`sksafe.solvers.make_problem`): the prox-Newton models then use the exact
    Hessian (:mod:`sksafe.solvers._exact_newton`).
``check_target(y)``
    validate ``y`` and return it, as float64, in the form the kernels take
    (``ValueError`` otherwise): a vector, or for Cox an ``(n, 3)`` array of
    times, events and their sort order.
"""
import numpy as np
from sklearn.base import BaseEstimator


def zero_sum_factors(mass_pos, mass_neg):
    """Scalings ``(f_+, f_-)`` of the positive and negative parts of a vector whose
    positive entries sum to ``mass_pos`` and negative ones to ``-mass_neg`` that make it
    sum to zero by shrinking the larger part (:meth:`BaseDatafit.zero_sum_dual`; the
    distributed solver applies them to masses reduced over row blocks)."""
    if mass_pos > mass_neg:
        return mass_neg / mass_pos, 1.0
    if mass_neg > mass_pos:
        return 1.0, mass_pos / mass_neg
    return 1.0, 1.0


#: Length from which the methods of a datafit with ``_vector_kernels`` call those numpy
#: versions instead of its jitted loops. Without Intel's SVML (not a dependency), Numba
#: compiles ``exp`` and ``log`` to scalar libm calls, 5-14 ns per sample for the logistic
#: loss and its dual; numpy's own SIMD ``exp``/``log`` (AVX2 / AVX-512 on x86) take
#: about 0.7 ns, but each numpy operation costs about a microsecond to call. Measured
#: (logistic value / dual value, one core): equal near 1000 samples; at 7770 samples
#: (reuters) 89 -> 21 us and 107 -> 19 us.
VECTOR_MIN_SAMPLES = 1024


class BaseDatafit(BaseEstimator):
    """Base class of datafits (see the module docstring for the protocol).

    A datafit whose four vector operations are module-level jitted kernels
    only names them in ``_kernels = (value, raw_grad, raw_hessian, dual_value)``;
    the methods below dispatch to them. ``_vector_kernels``, with the same
    signatures, are numpy versions of the same formulas that replace the jitted
    loops from :data:`VECTOR_MIN_SAMPLES` samples on (datafits whose loops spend
    their time in ``exp`` and ``log``).
    """

    gamma = None
    hessian_bound = None
    intercept_mode = None
    is_classifier = False
    is_survival = False
    full_hessian = False
    _kernels = None
    _vector_kernels = None

    def _kernels_for(self, v):
        if self._vector_kernels is not None and v.shape[0] >= VECTOR_MIN_SAMPLES:
            return self._vector_kernels
        return self._kernels

    def value(self, z, y, s):
        """``F(z) = sum_i s_i f(y_i, z_i)``."""
        return self._kernels_for(z)[0](z, y, s)

    def raw_grad(self, z, y, s, out):
        """Write ``dF/dz_i`` into ``out``."""
        self._kernels_for(z)[1](z, y, s, out)

    def raw_hessian(self, z, y, s, out):
        """Write ``d2F/dz_i^2`` into ``out``."""
        self._kernels_for(z)[2](z, y, s, out)

    def dual_value(self, theta, y, s):
        """``-F*(-theta)``, ``-inf`` outside its domain."""
        return self._kernels_for(theta)[3](theta, y, s)

    def dual_gamma(self, y, s):
        """Strong-concavity constant of the dual for target ``y`` and weights ``s``."""
        return self.gamma

    def intercept_shift(self, z, y, s):
        """``argmin_c F(z + c)`` in closed form, or ``None`` (Newton steps then)."""
        return None

    def hessian_columns(self, z, y, s):
        """``None`` (diagonal Hessian), or ``apply(X, cols, out)`` with
        ``out = d2F/dz^2 @ X[:, cols]``."""
        return None

    def zero_sum_dual(self, theta, y, s):
        """A dual point with ``sum(theta) = 0`` near ``theta``, in the dual domain.

        Scales down the larger of the positive and negative parts of ``theta``
        (by ``negative mass / positive mass`` or its inverse). This stays in the
        domain of ``dual_value`` whenever each coordinate's domain is an interval
        containing 0 (logistic: ``0 <= y_i theta_i / s_i <= 1``; Huber: a box);
        a datafit whose domain is all of R^n may project instead.
        """
        theta = np.array(theta, dtype=np.float64)
        positive = theta > 0.0
        pos_factor, neg_factor = zero_sum_factors(theta[positive].sum(), -theta[~positive].sum())
        theta[positive] *= pos_factor
        theta[~positive] *= neg_factor
        return theta

    def check_target(self, y):
        """Validate ``y`` and return it as float64."""
        raise NotImplementedError
