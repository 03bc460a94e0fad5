"""What a path reuses from one fit to the next, and that reusing it changes no result.

* ``SolveResult.dual_correlations`` is ``X_c^T dual_point`` (centred columns with an
  intercept), dense and CSC; passed back with the dual point it gives the same fit;
* the point ``w = 0`` is computed once per problem (``problem.cache``);
* the correlation memo of :func:`sksafe.screening.correlations` answers nested sets of
  columns of one candidate from one pass, and recomputes for a new candidate;
* the prox-Newton state's ``theta`` is shared, read-only, and follows the point;
* the secant warm start of a path predicts a path linear in ``log alpha`` exactly,
  and a path whose prediction would be bad (separable logistic data) still reaches
  its tolerance at every alpha; ``solve`` starts from the previous solution instead
  (``fallback_init``) exactly when the prediction's objective is not lower, and
  :func:`~sksafe.solvers.working_set.primal_value` (FISTA's test) is ``P`` at the
  point clipped into the box, with the intercept in the user's coordinates
  (eliminated for the quadratic datafit).
"""
import sys

import numpy as np
import pytest
import scipy.sparse as sp

from conftest import make_classification_data, make_regression_data
from sksafe.datafits import Logistic, Quadratic
from sksafe.paths import sparse_glm_path
from sksafe.paths._path import _secant_start
from sksafe.penalties import L1, ElasticNet
from sksafe.screening import correlations
from sksafe.solvers import make_problem, solve
from sksafe.solvers import working_set


def _problem_data(loss, seed, n, p, sparse=False):
    """``(X, y, datafit)``; ``sparse``: CSC with the entries of magnitude <= 0.5 dropped."""
    if loss == "logistic":
        X, y = make_classification_data(n=n, p=p, seed=seed)
        datafit = Logistic()
    else:
        X, y = make_regression_data(n=n, p=p, seed=seed)
        datafit = Quadratic()
    if sparse:
        X = sp.csc_matrix(np.where(np.abs(X) > 0.5, X, 0.0))
    return X, y, datafit


def _centred_correlations(X, theta, fit_intercept):
    X = X.toarray() if sp.issparse(X) else X
    if fit_intercept:
        X = X - X.mean(axis=0)
    return X.T @ theta


@pytest.mark.parametrize("fit_intercept", [False, True])
@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "sparse"])
@pytest.mark.parametrize("loss", ["quadratic", "logistic"])
def test_dual_correlations_are_those_of_the_dual_point(loss, sparse, fit_intercept):
    X, y, datafit = _problem_data(loss, 3, 50, 30, sparse)
    res = solve(X, y, datafit, L1(0.05), tol=1e-10, fit_intercept=fit_intercept)
    expected = _centred_correlations(X, res.dual_point, fit_intercept)
    np.testing.assert_allclose(res.dual_correlations, expected, rtol=1e-10, atol=1e-13)


@pytest.mark.parametrize("loss", ["quadratic", "logistic"])
def test_warm_start_with_dual_correlations_gives_the_same_fit(loss):
    X, y, datafit = _problem_data(loss, 5, 60, 80)
    problem = make_problem(X, y, None, datafit, True)
    first = solve(X, y, datafit, L1(0.1), tol=1e-12, problem=problem)
    kwargs = dict(tol=1e-12, problem=problem, coef_init=first.coef,
                  intercept_init=first.intercept, dual_init=first.dual_point)
    with_corr = solve(X, y, datafit, L1(0.08), dual_init_correlations=first.dual_correlations,
                      **kwargs)
    without = solve(X, y, datafit, L1(0.08), **kwargs)
    cold = solve(X, y, datafit, L1(0.08), tol=1e-12)
    for res in (with_corr, without):
        assert res.converged
        np.testing.assert_allclose(res.coef, cold.coef, atol=1e-6)
        assert abs(res.primal - cold.primal) <= 1e-11 * cold.primal_zero


def test_zero_point_is_computed_once_per_problem(monkeypatch):
    X, y = make_regression_data(n=40, p=60, seed=2)
    problem = make_problem(X, y, None, Quadratic(), True)
    calls = []
    original = working_set.SeparableGeometry.correlations_all

    def counting(self, theta):
        calls.append(sys._getframe(1).f_code.co_name)
        return original(self, theta)

    monkeypatch.setattr(working_set.SeparableGeometry, "correlations_all", counting)
    results = [solve(X, y, Quadratic(), L1(alpha), tol=1e-10, problem=problem)
               for alpha in (0.3, 0.2, 0.1)]
    zero_keys = [key for key in problem.cache if key[0] == "zero_point"]
    assert len(zero_keys) == 1
    assert calls.count("_zero_point") == 1
    assert len({res.primal_zero for res in results}) == 1
    fresh = solve(X, y, Quadratic(), L1(0.1), tol=1e-10)
    np.testing.assert_allclose(results[-1].coef, fresh.coef, atol=1e-8)
    assert results[-1].alpha_max == pytest.approx(fresh.alpha_max, rel=1e-12)


@pytest.mark.parametrize("solver", ["prox_newton", "cd", "fista"])
@pytest.mark.parametrize("loss", ["quadratic", "logistic"])
def test_fallback_init_starts_from_the_better_point(loss, solver, monkeypatch):
    """``fallback_init=(coef, value)`` replaces ``coef_init`` exactly when ``P(coef_init)``
    is not below ``value``: the first gap evaluation (FISTA: its loop) starts at the
    chosen point."""
    if solver == "cd" and loss == "logistic":
        pytest.skip("coordinate descent is the quadratic datafit's solver")
    import sksafe.solvers.fista as fista
    starts = []
    original = fista.fista_loop

    def recording(problem, datafit, a, b, box, unpenalised, coef0, *args, **kwargs):
        starts.append(coef0.copy())
        return original(problem, datafit, a, b, box, unpenalised, coef0, *args, **kwargs)

    monkeypatch.setattr(fista, "fista_loop", recording)
    X, y, datafit = _problem_data(loss, 12, 50, 30)
    problem = make_problem(X, y, None, datafit, True)
    penalty = L1(0.02)
    good = solve(X, y, datafit, penalty, tol=1e-10, problem=problem, solver=solver)
    bad = good.coef + 0.5
    p_good = working_set.primal_value(problem, datafit, penalty, good.coef, good.intercept,
                                      solver)
    p_bad = working_set.primal_value(problem, datafit, penalty, bad, good.intercept, solver)
    assert p_bad > p_good
    kwargs = dict(tol=1e-10, problem=problem, solver=solver, intercept_init=good.intercept)
    for start, fallback, from_good in [(bad, (good.coef, p_good), True),
                                       (good.coef, (bad, p_bad), True),
                                       (bad, (good.coef, np.inf), False)]:
        starts.clear()
        res = solve(X, y, datafit, penalty, coef_init=start, fallback_init=fallback, **kwargs)
        assert res.converged
        np.testing.assert_allclose(res.coef, good.coef, atol=1e-6)
        if solver == "fista":
            np.testing.assert_array_equal(starts[0], good.coef if from_good else bad)
            continue
        first = res.history[0]["primal"]  # (after the intercept is polished)
        if from_good:
            assert first == pytest.approx(p_good, rel=1e-9)
        else:
            assert first > p_good + 0.5 * (p_bad - p_good)


def test_alpha_max_is_remembered_per_penalty_family():
    """The fits of one problem share ``alpha_max`` only within a penalty family: the
    same class and parameters but ``alpha``."""
    X, y = make_regression_data(n=40, p=60, seed=3)
    problem = make_problem(X, y, None, Quadratic(), True)
    penalties = [L1(0.1), L1(0.05), ElasticNet(0.1, l1_ratio=0.5), L1(0.1, positive=True),
                 ElasticNet(0.2, l1_ratio=0.25)]
    for penalty in penalties:
        shared = solve(X, y, Quadratic(), penalty, tol=1e-8, problem=problem)
        fresh = solve(X, y, Quadratic(), penalty, tol=1e-8)
        assert shared.alpha_max == pytest.approx(fresh.alpha_max, rel=1e-12)
    assert len({solve(X, y, Quadratic(), p, problem=problem).alpha_max
                for p in penalties}) == 4


@pytest.mark.parametrize("fit_intercept", [False, True])
@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "sparse"])
def test_correlation_memo_answers_nested_column_sets(sparse, fit_intercept, monkeypatch):
    X, y, datafit = _problem_data("quadratic", 4, 30, 20, sparse)
    problem = make_problem(X, y, None, datafit, fit_intercept)
    read = []
    import sksafe.screening.gap_safe as gap_safe
    original = gap_safe.xt_dot

    def counting(X_kernel, theta, cols, out):
        read.extend(cols.tolist())
        return original(X_kernel, theta, cols, out)

    monkeypatch.setattr(gap_safe, "xt_dot", counting)
    rng = np.random.default_rng(0)
    theta = rng.standard_normal(30)
    expected = _centred_correlations(X, theta, fit_intercept)
    subsets = [np.array([3, 7]), np.array([1, 3, 7, 11]), np.arange(20)]
    for cols in subsets:
        np.testing.assert_allclose(correlations(problem, theta, cols), expected[cols],
                                   rtol=1e-12, atol=1e-13)
    assert sorted(read) == list(range(20))  # every column read once
    other = theta.copy()
    other[0] += 1.0
    np.testing.assert_allclose(correlations(problem, other, np.arange(20)),
                               _centred_correlations(X, other, fit_intercept), rtol=1e-12,
                               atol=1e-13)
    assert len(read) == 40  # a new candidate is recomputed
    theta[5] -= 2.0  # the memo keeps its own copy: changing the caller's array is seen
    np.testing.assert_allclose(correlations(problem, theta, np.arange(20)),
                               _centred_correlations(X, theta, fit_intercept), rtol=1e-12,
                               atol=1e-13)


def test_prox_newton_theta_is_shared_read_only_and_follows_the_point():
    X, y = make_classification_data(n=40, p=10, seed=1)
    problem = make_problem(X, y, None, Logistic(), True)
    a, b = L1(0.01).l1_l2_weights(10)
    state = working_set._make_state("prox_newton", problem, Logistic(), a, b,
                                    L1(0.01).box(10), np.array([], dtype=int), np.zeros(10),
                                    0.0)
    first = state.theta()
    assert state.theta() is first
    assert not first.flags.writeable
    state.solve_subproblem(np.arange(10), 1e-12, 5)
    moved = state.theta()
    assert moved is not first
    grad = np.empty(40)
    Logistic().raw_grad(state.z, problem.y, problem.s, grad)
    np.testing.assert_allclose(state.grad, grad, rtol=1e-14)
    assert abs(moved.sum()) <= 1e-14 * np.abs(moved).sum()  # the intercept's constraint


def test_secant_start_is_exact_on_a_path_linear_in_log_alpha():
    alphas = np.geomspace(1.0, 0.01, 6)
    slope = np.array([0.0, 1.0, -2.0, 0.5])
    coefs = np.asfortranarray(np.outer(slope, np.log(alphas[0] / alphas)))
    for k in range(2, 6):
        np.testing.assert_allclose(_secant_start(coefs, k, alphas), coefs[:, k], atol=1e-14)
    assert _secant_start(coefs, 1, alphas) is None
    crossing = coefs.copy()
    crossing[1, 2] = 0.1 * crossing[1, 1]  # shrinking fast: the line crosses zero
    assert _secant_start(crossing, 3, alphas)[1] == 0.0


@pytest.mark.parametrize("penalty", [L1(), ElasticNet(l1_ratio=0.5)], ids=["l1", "enet"])
def test_path_on_separable_logistic_data_converges_everywhere(penalty):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((30, 8))
    y = np.where(X[:, 0] + 0.5 * X[:, 1] > 0, 1.0, -1.0)  # linearly separable
    path = sparse_glm_path(X, y, Logistic(), penalty, n_alphas=30, eps=1e-4, tol=1e-8,
                           max_iter=200)
    assert np.all(path.dual_gaps <= 1e-8)
    for k in (5, 15, 29):
        single = solve(X, y, Logistic(), penalty.with_alpha(path.alphas[k]), tol=1e-10)
        assert np.abs(path.coefs[:, k] - single.coef).max() <= 1e-3 * max(
            1.0, np.abs(single.coef).max())


@pytest.mark.parametrize("fit_intercept", [False, True])
@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "sparse"])
@pytest.mark.parametrize("loss", ["quadratic", "logistic"])
def test_primal_value_is_the_objective_at_the_clipped_point(loss, sparse, fit_intercept):
    X, y, datafit = _problem_data(loss, 11, 40, 25, sparse)
    penalty = ElasticNet(alpha=0.07, l1_ratio=0.6, positive=True)
    problem = make_problem(X, y, None, datafit, fit_intercept)
    coef = np.random.default_rng(2).standard_normal(X.shape[1])  # about half outside the box
    value = working_set.primal_value(problem, datafit, penalty, coef, 0.4)
    w = np.maximum(coef, 0.0)
    Xw = X @ w
    if loss == "quadratic":  # the intercept is eliminated: its optimum, whatever was passed
        residual = y - Xw - ((y - Xw).mean() if fit_intercept else 0.0)
        loss_value = np.mean(residual ** 2) / 2
    else:
        loss_value = np.mean(np.logaddexp(0.0, -y * (Xw + (0.4 if fit_intercept else 0.0))))
    penalty_term = 0.07 * (0.6 * w.sum() + 0.4 / 2 * w @ w)
    np.testing.assert_allclose(value, loss_value + penalty_term, rtol=1e-12)
