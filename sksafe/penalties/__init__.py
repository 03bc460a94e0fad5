"""Penalties: ``L1``, ``ElasticNet``, ``WeightedL1`` (separable, :mod:`sksafe.penalties.base`) and
``GroupL1``, ``SparseGroupL1``, ``L21`` (block, :mod:`sksafe.penalties.group`), ``MCP``,
``SCAD`` (non-convex, :mod:`sksafe.penalties.nonconvex`)."""
from .base import BaseSeparablePenalty
from .group import (L21, BaseBlockPenalty, EntrywiseL1, GroupL1, SparseGroupL1,
                    groups_from_labels)
from .nonconvex import MCP, SCAD
from .separable import L1, ElasticNet, WeightedL1

__all__ = ["BaseSeparablePenalty", "L1", "ElasticNet", "WeightedL1",
           "BaseBlockPenalty", "GroupL1", "SparseGroupL1", "L21", "EntrywiseL1",
           "groups_from_labels", "MCP", "SCAD"]
