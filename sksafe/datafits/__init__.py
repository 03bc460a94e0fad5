"""Datafits: ``Quadratic`` and ``Logistic`` (see :mod:`sksafe.datafits.base`)."""
from .base import BaseDatafit
from .logistic import Logistic
from .quadratic import Quadratic

__all__ = ["BaseDatafit", "Quadratic", "Logistic"]
