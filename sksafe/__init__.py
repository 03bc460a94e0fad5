"""sksafe: sparse convex models with dynamic Gap Safe screening, scikit-learn compatible.

Estimators: :class:`SparseGLM`, :class:`SafeScreeningLasso`,
:class:`SafeScreeningElasticNet`, :class:`SafeScreeningLogisticRegression`,
:class:`SparseHuberRegressor`, :class:`SparsePoissonRegressor`,
:class:`SafeScreeningGroupLasso`, :class:`SafeScreeningSparseGroupLasso`,
:class:`SafeScreeningMultiTaskLasso`, :class:`SafeScreeningMultiTaskElasticNet`,
:class:`SparseCoxRegression`, :class:`MCPRegression`, :class:`SCADRegression`
(non-convex); cross-validated: :class:`SafeScreeningLassoCV`,
:class:`SafeScreeningElasticNetCV`, :class:`SafeScreeningLogisticRegressionCV`,
:class:`SparseGLMCV`; feature selection: :class:`StabilitySelection`.
Building blocks: :mod:`sksafe.datafits`, :mod:`sksafe.penalties`,
:mod:`sksafe.solvers`, :mod:`sksafe.screening`; paths: :mod:`sksafe.paths`;
plots: :mod:`sksafe.plotting`; data: :mod:`sksafe.datasets`.
"""
from .estimators import (MCPRegression, SafeScreeningElasticNet, SafeScreeningElasticNetCV,
                         SafeScreeningGroupLasso, SafeScreeningLasso, SafeScreeningLassoCV,
                         SafeScreeningLogisticRegression, SafeScreeningLogisticRegressionCV,
                         SafeScreeningMultiTaskElasticNet, SafeScreeningMultiTaskLasso,
                         SafeScreeningSparseGroupLasso, SparseCoxRegression, SparseGLM,
                         SparseGLMCV, SparseHuberRegressor, SparsePoissonRegressor,
                         SCADRegression, StabilitySelection)

__version__ = "0.1.0.dev0"

__all__ = ["SparseGLM", "SafeScreeningLasso", "SafeScreeningElasticNet",
           "SafeScreeningLogisticRegression", "SparseHuberRegressor", "SparsePoissonRegressor",
           "SafeScreeningGroupLasso", "SafeScreeningSparseGroupLasso",
           "SafeScreeningMultiTaskLasso", "SafeScreeningMultiTaskElasticNet",
           "SparseCoxRegression", "SafeScreeningLassoCV", "SafeScreeningElasticNetCV",
           "SafeScreeningLogisticRegressionCV", "SparseGLMCV", "StabilitySelection",
           "MCPRegression", "SCADRegression", "__version__"]
