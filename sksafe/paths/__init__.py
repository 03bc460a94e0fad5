"""Regularisation paths with warm starts and sequential Gap Safe screening.

:func:`lasso_path`, :func:`enet_path` and :func:`logistic_path` have the
signatures and return values of scikit-learn's path functions;
:func:`sparse_glm_path` runs the path of any datafit with any separable penalty
and returns a :class:`PathResult`.
"""
from ._path import (PathResult, alpha_grid, enet_path, lasso_path, logistic_path,
                    sparse_glm_path)

__all__ = ["PathResult", "alpha_grid", "enet_path", "lasso_path", "logistic_path",
           "sparse_glm_path"]
