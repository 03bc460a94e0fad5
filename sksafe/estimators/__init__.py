"""scikit-learn estimators built on the solvers of :mod:`sksafe.solvers`."""
from .base import SparseGLM
from .huber import SparseHuberRegressor
from .linear import SafeScreeningElasticNet, SafeScreeningLasso
from .logistic import SafeScreeningLogisticRegression
from .poisson import SparsePoissonRegressor

__all__ = ["SparseGLM", "SafeScreeningLasso", "SafeScreeningElasticNet",
           "SafeScreeningLogisticRegression", "SparseHuberRegressor", "SparsePoissonRegressor"]
