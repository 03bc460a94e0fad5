"""sksafe: sparse convex models with dynamic Gap Safe screening, scikit-learn compatible.

Estimators: :class:`SparseGLM`, :class:`SafeScreeningLasso`,
:class:`SafeScreeningElasticNet`, :class:`SafeScreeningLogisticRegression`,
:class:`SparseHuberRegressor`, :class:`SparsePoissonRegressor`,
:class:`SafeScreeningGroupLasso`, :class:`SafeScreeningSparseGroupLasso`,
:class:`SafeScreeningMultiTaskLasso`, :class:`SafeScreeningMultiTaskElasticNet`,
:class:`SparseCoxRegression`.
Building blocks: :mod:`sksafe.datafits`, :mod:`sksafe.penalties`,
:mod:`sksafe.solvers`, :mod:`sksafe.screening`; data: :mod:`sksafe.datasets`.
"""
from .estimators import (SafeScreeningElasticNet, SafeScreeningGroupLasso, SafeScreeningLasso,
                         SafeScreeningLogisticRegression, SafeScreeningMultiTaskElasticNet,
                         SafeScreeningMultiTaskLasso, SafeScreeningSparseGroupLasso,
                         SparseCoxRegression, SparseGLM, SparseHuberRegressor,
                         SparsePoissonRegressor)

__version__ = "0.1.0.dev0"

__all__ = ["SparseGLM", "SafeScreeningLasso", "SafeScreeningElasticNet",
           "SafeScreeningLogisticRegression", "SparseHuberRegressor", "SparsePoissonRegressor",
           "SafeScreeningGroupLasso", "SafeScreeningSparseGroupLasso",
           "SafeScreeningMultiTaskLasso", "SafeScreeningMultiTaskElasticNet",
           "SparseCoxRegression", "__version__"]
