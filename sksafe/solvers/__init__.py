"""Solvers: working-set coordinate descent / prox-Newton with dynamic Gap Safe screening, FISTA."""
from ._problem import Problem, make_problem
from .working_set import SolveResult, solve

__all__ = ["Problem", "SolveResult", "make_problem", "solve"]
