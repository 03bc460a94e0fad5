"""Datafits: ``Quadratic``, ``Logistic`` and ``Huber`` (see :mod:`sksafe.datafits.base`)."""
from .base import BaseDatafit
from .huber import Huber
from .logistic import Logistic
from .quadratic import Quadratic

__all__ = ["BaseDatafit", "Quadratic", "Logistic", "Huber"]
