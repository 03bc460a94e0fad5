"""Penalties: ``L1``, ``ElasticNet``, ``WeightedL1`` (see :mod:`sksafe.penalties.base`)."""
from .base import BaseSeparablePenalty
from .separable import L1, ElasticNet, WeightedL1

__all__ = ["BaseSeparablePenalty", "L1", "ElasticNet", "WeightedL1"]
