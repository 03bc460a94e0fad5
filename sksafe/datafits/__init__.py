"""Datafits: ``Quadratic``, ``Logistic``, ``Huber`` and ``Poisson`` (see :mod:`sksafe.datafits.base`)."""
from .base import BaseDatafit
from .huber import Huber
from .logistic import Logistic
from .poisson import Poisson
from .quadratic import Quadratic

__all__ = ["BaseDatafit", "Quadratic", "Logistic", "Huber", "Poisson"]
