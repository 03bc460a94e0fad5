"""scikit-learn estimators built on the solvers of :mod:`sksafe.solvers`."""
from .base import SparseGLM
from .cox import SparseCoxRegression
from .cv import (SafeScreeningElasticNetCV, SafeScreeningLassoCV,
                 SafeScreeningLogisticRegressionCV, SparseGLMCV)
from .group import SafeScreeningGroupLasso, SafeScreeningSparseGroupLasso
from .huber import SparseHuberRegressor
from .linear import SafeScreeningElasticNet, SafeScreeningLasso
from .logistic import SafeScreeningLogisticRegression
from .multitask import SafeScreeningMultiTaskElasticNet, SafeScreeningMultiTaskLasso
from .nonconvex import MCPRegression, SCADRegression
from .poisson import SparsePoissonRegressor
from .stability import StabilitySelection

__all__ = ["SparseGLM", "SafeScreeningLasso", "SafeScreeningElasticNet",
           "SafeScreeningLogisticRegression", "SparseHuberRegressor", "SparsePoissonRegressor",
           "SafeScreeningGroupLasso", "SafeScreeningSparseGroupLasso",
           "SafeScreeningMultiTaskLasso", "SafeScreeningMultiTaskElasticNet",
           "SparseCoxRegression", "SafeScreeningLassoCV", "SafeScreeningElasticNetCV",
           "SafeScreeningLogisticRegressionCV", "SparseGLMCV", "StabilitySelection",
           "MCPRegression", "SCADRegression"]
