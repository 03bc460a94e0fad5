"""Solvers: working-set coordinate descent / prox-Newton with dynamic Gap Safe screening, FISTA."""
from ._problem import Problem, make_problem
from .certificate import duality_gap
from .nonconvex import kkt_violation
from .working_set import SolveResult, alpha_max, solve

__all__ = ["Problem", "SolveResult", "alpha_max", "duality_gap", "kkt_violation", "make_problem",
           "solve"]
