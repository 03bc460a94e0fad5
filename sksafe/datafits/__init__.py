"""Datafits: ``Quadratic``, ``Logistic``, ``Huber``, ``Poisson``, ``Cox``, ``QuadraticMultiTask`` and ``Multinomial`` (see :mod:`sksafe.datafits.base`)."""
from .base import BaseDatafit
from .cox import Cox
from .huber import Huber
from .logistic import Logistic
from .multinomial import Multinomial
from .multitask import QuadraticMultiTask
from .poisson import Poisson
from .quadratic import Quadratic

__all__ = ["BaseDatafit", "Quadratic", "Logistic", "Huber", "Poisson", "Cox",
           "QuadraticMultiTask", "Multinomial"]
