"""Solvers: working-set coordinate descent / prox-Newton with dynamic Gap Safe screening, FISTA."""
from ._problem import Problem, make_problem
from .certificate import duality_gap
from .working_set import SolveResult, solve

__all__ = ["Problem", "SolveResult", "duality_gap", "make_problem", "solve"]
