"""Gap Safe screening: dual points, duality gaps, safe spheres (see :mod:`.gap_safe`, :mod:`.group`)."""
from .gap_safe import (SeparableGeometry, computed_gap_radius, correlations, evaluate_dual,
                       gap_safe_radius, screening_priorities, sphere_test)
from .group import BlockGeometry

__all__ = ["computed_gap_radius", "correlations", "evaluate_dual", "gap_safe_radius",
           "screening_priorities", "sphere_test", "SeparableGeometry", "BlockGeometry"]
