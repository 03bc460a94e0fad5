"""sksafe: sparse convex models with dynamic Gap Safe screening, scikit-learn compatible.

Estimators: :class:`SparseGLM`, :class:`SafeScreeningLasso`,
:class:`SafeScreeningElasticNet`, :class:`SafeScreeningLogisticRegression`,
:class:`SparseHuberRegressor`, :class:`SparsePoissonRegressor`.
Building blocks: :mod:`sksafe.datafits`, :mod:`sksafe.penalties`,
:mod:`sksafe.solvers`, :mod:`sksafe.screening`; data: :mod:`sksafe.datasets`.
"""
from .estimators import (SafeScreeningElasticNet, SafeScreeningLasso,
                         SafeScreeningLogisticRegression, SparseGLM, SparseHuberRegressor,
                         SparsePoissonRegressor)

__version__ = "0.1.0.dev0"

__all__ = ["SparseGLM", "SafeScreeningLasso", "SafeScreeningElasticNet",
           "SafeScreeningLogisticRegression", "SparseHuberRegressor", "SparsePoissonRegressor",
           "__version__"]
