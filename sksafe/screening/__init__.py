"""Gap Safe screening: dual points, duality gaps, safe spheres (see :mod:`.gap_safe`)."""
from .gap_safe import (correlations, evaluate_dual, gap_safe_radius,
                       screening_priorities, sphere_test)

__all__ = ["correlations", "evaluate_dual", "gap_safe_radius", "screening_priorities",
           "sphere_test"]
