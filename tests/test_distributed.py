"""The Dask row-block solver: exactness against one machine, safe screening, communication,
placement, fault tolerance and bad input (LocalCluster with 2 workers, as in CI)."""
import os
import signal
import subprocess
import sys
import time
import warnings

import numpy as np
import pytest
import scipy.sparse as sp

distributed = pytest.importorskip("distributed")
da = pytest.importorskip("dask.array")

from sksafe import (SafeScreeningElasticNet, SafeScreeningLasso,  # noqa: E402
                    SafeScreeningLogisticRegression, SparseGLM, SparsePoissonRegressor)
from sksafe.datafits import Cox, Huber, Logistic, Poisson, Quadratic  # noqa: E402
from sksafe.distributed import solve_distributed  # noqa: E402
from sksafe.distributed import _runtime  # noqa: E402
from sksafe.penalties import L1, ElasticNet, GroupL1, WeightedL1  # noqa: E402
from sksafe.solvers import solve  # noqa: E402

from conftest import duality_gap  # noqa: E402


@pytest.fixture(scope="module")
def client():
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster) as c:
        yield c


def _problem(loss, n=90, p=160, sparse=False, seed=0):
    rng = np.random.default_rng(seed)
    if sparse:
        X = sp.random(n, p, density=0.2, format="csr", random_state=seed,
                      data_rvs=rng.standard_normal)
    else:
        X = rng.standard_normal((n, p))
    w = np.zeros(p)
    w[:6] = rng.choice([-2.0, 2.0], 6)
    z = np.asarray(X @ w).ravel() + 0.3
    if loss == "quadratic":
        y = z + 0.3 * rng.standard_normal(n)
    elif loss == "logistic":
        y = np.where(rng.random(n) < 1 / (1 + np.exp(-z)), 1.0, -1.0)
    elif loss == "poisson":
        y = rng.poisson(np.exp(np.clip(0.3 * z, -3, 3))).astype(float)
    else:  # huber, with outliers
        y = z + 0.3 * rng.standard_normal(n)
        y[:5] += 20
    return X, y


def _dask(X, rows):
    """Uneven row blocks: ``rows`` lists the block sizes."""
    chunks = (tuple(rows), (X.shape[1],))
    if sp.issparse(X):
        X = X.tocsr()
        parts = np.cumsum([0, *rows])
        blocks = [da.from_array(X[a:b], chunks=X[a:b].shape, asarray=False)
                  for a, b in zip(parts[:-1], parts[1:])]
        return da.concatenate(blocks, axis=0)
    return da.from_array(X, chunks=chunks)


DATAFITS = {"quadratic": Quadratic(), "logistic": Logistic(), "poisson": Poisson(),
            "huber": Huber(1.5)}
ALPHA = {"quadratic": 0.08, "logistic": 0.03, "poisson": 0.05, "huber": 0.05}

CASES = [
    ("quadratic", "l1", False, (90,), True),
    ("quadratic", "l1", True, (40, 50), True),
    ("quadratic", "enet", False, (30, 25, 35), False),
    ("quadratic", "positive", True, (61, 29), True),
    ("logistic", "l1", False, (45, 45), True),
    ("logistic", "enet", True, (30, 25, 35), True),
    ("logistic", "l1", False, (90,), False),
    ("poisson", "l1", False, (50, 40), True),
    ("huber", "l1", True, (20, 70), True),
]


def _penalty(kind, alpha):
    return {"l1": L1(alpha), "enet": ElasticNet(alpha, l1_ratio=0.6),
            "positive": L1(alpha, positive=True)}[kind]


def _assert_same_coef(result, single, penalty):
    """Coefficients equal to 1e-8 relative, same support."""
    scale = max(np.linalg.norm(single.coef), 1.0)
    # both points are within sqrt(2 G / mu) of the optimum when the L2 part makes P
    # mu-strongly convex; the L1-only problems here converge much further than that bound
    _, b = penalty.l1_l2_weights(single.coef.shape[0])
    bound = 1e-8 * scale
    if b[0] > 0:
        bound = max(bound, 2 * np.sqrt(2 * (result.gap + single.gap) / b[0]))
    assert np.linalg.norm(result.coef - single.coef) <= bound
    np.testing.assert_array_equal(result.coef != 0, single.coef != 0)


@pytest.mark.parametrize("loss, pen, sparse, rows, fit_intercept", CASES)
def test_same_solution_as_one_machine(client, loss, pen, sparse, rows, fit_intercept):
    X, y = _problem(loss, sparse=sparse)
    datafit, penalty = DATAFITS[loss], _penalty(pen, ALPHA[loss])
    tol = 1e-13
    single = solve(X, y, datafit, penalty, fit_intercept=fit_intercept, tol=tol)
    result = solve_distributed(_dask(X, rows), da.from_array(y, chunks=(rows,)), datafit,
                               penalty, fit_intercept=fit_intercept, tol=tol)
    assert result.converged and result.relative_gap <= tol
    assert abs(result.primal - single.primal) <= tol * single.primal_zero
    assert result.primal_zero == pytest.approx(single.primal_zero, rel=1e-12)
    _assert_same_coef(result, single, penalty)
    assert result.intercept == pytest.approx(single.intercept, rel=1e-7, abs=1e-8)
    # the gap the solver reports, recomputed independently (tests/conftest.py)
    if loss in ("quadratic", "logistic", "huber"):
        a, b = penalty.l1_l2_weights(X.shape[1])
        rel, *_ = duality_gap(X, y, result.coef, result.intercept, loss=loss, a=a, b=b,
                              positive=penalty.positive, fit_intercept=fit_intercept)
        assert rel <= 1e-12
    # the dual point: the one-process fit's, up to their distance in coefficients
    dual = result.dual_point.compute()
    np.testing.assert_allclose(dual, single.dual_point, rtol=1e-6,
                               atol=1e-6 * np.abs(single.dual_point).max())


@pytest.mark.parametrize("loss, pen, sparse, rows, fit_intercept", [
    ("quadratic", "enet", True, (40, 50), True),
    ("logistic", "l1", False, (30, 25, 35), True),
    ("poisson", "positive", True, (50, 40), False),
])
@pytest.mark.parametrize("budget", ["none", "small"])
def test_working_sets_solved_by_rounds_same_solution(client, loss, pen, sparse, rows,
                                                     fit_intercept, budget):
    """Working sets above the driver's byte budget are solved by rounds over the blocks
    (Gram / proximal Newton models); with a budget of a few columns a fit switches
    between the driver's solve and the rounds, and drops cached columns."""
    X, y = _problem(loss, sparse=sparse)
    datafit, penalty = DATAFITS[loss], _penalty(pen, ALPHA[loss])
    tol = 1e-12
    single = solve(X, y, datafit, penalty, fit_intercept=fit_intercept, tol=tol)
    n = X.shape[0]
    # target, weights and any 24 columns (counted as the driver stores them: 12 bytes per
    # entry and 8 per column when sparse), so that no working set of more fits
    columns = (np.full(X.shape[1], 8.0 * n) if not sp.issparse(X)
               else 12.0 * np.diff(sp.csc_matrix(X).indptr) + 8.0)
    max_bytes = 0 if budget == "none" else 8 * n * 3 + np.sort(columns)[:24].sum()
    result = solve_distributed(_dask(X, rows), y, datafit, penalty, tol=tol,
                               fit_intercept=fit_intercept, central_max_bytes=max_bytes)
    assert result.converged and result.relative_gap <= tol
    assert abs(result.primal - single.primal) <= tol * single.primal_zero
    _assert_same_coef(result, single, penalty)
    kinds = result.communication.summary()
    by_rounds = "gram" if loss == "quadratic" else "newton_model"
    assert by_rounds in kinds
    # the dual point: from the driver's rows, or by a round when it holds no column
    np.testing.assert_allclose(result.dual_point.compute(), single.dual_point, rtol=1e-6,
                               atol=1e-6 * np.abs(single.dual_point).max())
    if budget == "none":
        assert "columns" not in kinds and "dual_point" in kinds
    else:
        assert "columns" in kinds
        ws_sizes = [r["ws_size"] for r in result.communication.rounds
                    if r["kind"] == "columns"]
        assert max(ws_sizes) <= 24


@pytest.mark.parametrize("layout", ["rows", "columns"])
def test_sparse_working_sets_counted_as_stored(client, layout):
    """The driver's column budget counts sparse columns by their stored entries: a
    budget that holds all 400 columns as stored, 20 as dense, solves working sets of
    more than 100 columns on the driver (counted as dense, they went to Newton-model or
    CoCoA rounds)."""
    rng = np.random.default_rng(31)
    n, p = 200, 400
    X = sp.random(n, p, density=0.03, format="csc", random_state=31,
                  data_rvs=rng.standard_normal)
    w = np.zeros(p)
    w[:40] = rng.choice([-3.0, 3.0], 40)
    y = np.where(rng.random(n) < 1 / (1 + np.exp(-(X @ w))), 1.0, -1.0)
    max_bytes = 8 * n * 3 + 12 * X.nnz + 8 * p  # target, weights, every column as stored
    chunks = ((100, 100), (p,)) if layout == "rows" else ((n,), (150, 250))
    penalty = L1(0.003)
    result = solve_distributed(da.from_array(X, chunks=chunks, asarray=False), y, Logistic(),
                               penalty, tol=1e-10, central_max_bytes=max_bytes, layout=layout)
    single = solve(X, y, Logistic(), penalty, tol=1e-10)
    assert np.count_nonzero(single.coef) > 100
    kinds = result.communication.summary()
    assert "newton_model" not in kinds and "cocoa" not in kinds
    assert result.converged and result.relative_gap <= 1e-10
    _assert_same_coef(result, single, penalty)


def test_working_set_columns_travel_once(client, monkeypatch):
    """The driver fetches each working-set column once (``n`` floats), and solves the
    working sets without further rounds: two rounds per outer iteration at most."""
    from sksafe.distributed import _tasks

    X, y = _problem("logistic", n=120, p=300, seed=22)
    run_map, requested = _runtime.BlockRuntime.map, []

    def recorded_map(self, func, *args, **kwargs):
        if func is _tasks.fetch_columns:
            requested.append(np.asarray(args[0]).copy())
        if func is _tasks.block_point_correlations and args[7] is not None:  # guessed ones
            requested.append(np.asarray(args[7]).copy())
        return run_map(self, func, *args, **kwargs)

    monkeypatch.setattr(_runtime.BlockRuntime, "map", recorded_map)
    result = solve_distributed(_dask(X, (60, 60)), y, Logistic(), L1(0.02), tol=1e-10)
    single = solve(X, y, Logistic(), L1(0.02), tol=1e-10)
    _assert_same_coef(result, single, L1(0.02))
    rounds = result.communication.rounds
    assert {r["kind"] for r in rounds} == {"setup", "correlations", "columns"}
    fetched = np.concatenate(requested)
    assert np.unique(fetched).size == fetched.size  # no column twice
    assert np.all(np.isin(np.flatnonzero(result.coef), fetched))
    # floats received: the blocks' rows of the fetched columns, nothing else (in column
    # rounds, or along with the correlations when guessed)
    assert sum(r["n_columns"] for r in rounds) == fetched.size
    for r in rounds:
        message = 2 * (r["n_units"] + 3) if r["kind"] == "correlations" else 0
        if r["kind"] in ("correlations", "columns"):
            assert r["floats_received"] == message + X.shape[0] * r["n_columns"]
    # two setup rounds, the certificate (the last gap's correlations reused)
    assert len(rounds) <= 3 + 2 * result.n_iter
    with pytest.raises(ValueError, match="central_max_bytes"):
        solve_distributed(_dask(X, (60, 60)), y, Logistic(), L1(0.02), central_max_bytes=-1)


def _fits_without_and_with(monkeypatch, constant, off, tol):
    """``(X, plain, shipped)``: a sparse logistic problem fitted with the row solver's
    ``constant`` set to ``off`` (a round-saving device disabled), then as shipped."""
    from sksafe.distributed import _solver

    X, y = _problem("logistic", n=200, p=3000, sparse=True, seed=23)
    Xd = _dask(X, (100, 100))
    monkeypatch.setattr(_solver, constant, off)
    plain = solve_distributed(Xd, y, Logistic(), L1(0.005), tol=tol)
    monkeypatch.undo()
    return X, plain, solve_distributed(Xd, y, Logistic(), L1(0.005), tol=tol)


def test_guessed_columns_save_rounds(client, monkeypatch):
    """Columns of the next working set guessed from the current ranking come with the
    correlation round: fewer rounds, the same fit."""
    _, plain, guessed = _fits_without_and_with(monkeypatch, "PREFETCH_FACTOR", 0, 1e-10)
    assert guessed.converged and plain.converged
    _assert_same_coef(guessed, plain, L1(0.005))
    assert guessed.n_iter == plain.n_iter
    kinds = [r["kind"] for r in guessed.communication.rounds]
    plain_kinds = [r["kind"] for r in plain.communication.rounds]
    # one correlation round per outer iteration and the certificate either way; the
    # column rounds are what the guesses save
    assert kinds.count("correlations") == plain_kinds.count("correlations")
    assert kinds.count("columns") < plain_kinds.count("columns") / 2
    assert (plain.communication.n_rounds - guessed.communication.n_rounds
            == plain_kinds.count("columns") - kinds.count("columns"))


@pytest.mark.parametrize("loss", ["quadratic", "logistic", "poisson"])
def test_zero_point_comes_with_the_moments_without_intercept(client, loss):
    """Without an intercept the dual point at ``w = 0`` needs no global statistic: its
    correlations (hence ``alpha_max`` and the first working set) come with the setup
    round, with weights, and the fit is the single-machine one."""
    X, y = _problem(loss, seed=25)
    sw = np.random.default_rng(2).uniform(0.5, 2.0, X.shape[0])
    datafit, penalty = DATAFITS[loss], L1(ALPHA[loss])
    single = solve(X, y, datafit, penalty, sample_weight=sw, fit_intercept=False, tol=1e-12)
    result = solve_distributed(_dask(X, (50, 40)), y, datafit, penalty, sample_weight=sw,
                               fit_intercept=False, tol=1e-12)
    assert result.alpha_max == pytest.approx(single.alpha_max, rel=1e-12)
    assert result.primal_zero == pytest.approx(single.primal_zero, rel=1e-12)
    _assert_same_coef(result, single, penalty)
    kinds = [r["kind"] for r in result.communication.rounds]
    assert kinds[:2] == ["setup", "columns"]  # the first working set's columns, at once
    with_intercept = solve_distributed(_dask(X, (50, 40)), y, datafit, penalty,
                                       sample_weight=sw, tol=1e-12)
    assert [r["kind"] for r in with_intercept.communication.rounds][2] == "correlations"


def test_each_fit_names_its_own_blocks(client):
    """Two fits on the same data prepare blocks under different keys: with the keys of
    the data alone, the second fit's blocks were those the first fit was releasing, and
    a worker could drop one the second was told it holds (``BlockMoved``, about one
    pair of consecutive fits in 40 on the test cluster)."""
    from sksafe.distributed._api import build_problem
    from sksafe.distributed._columns import column_runtime
    X, y = _problem("quadratic", seed=25)
    Xd = _dask(X, (50, 40))
    keys, datafit = [], Quadratic()  # one datafit object, as in a path or a grid search
    for _ in range(2):
        problem = build_problem(client, Xd, y, None, datafit, False, max_retries=1,
                                timeout=60)
        keys.append({block.key for block in problem.runtime._base_blocks})  # (as prepared)
        problem.runtime.close()
    assert not keys[0] & keys[1]
    by_columns = da.from_array(X, chunks=(X.shape[0], 80))
    columns = [{block.key for block in column_runtime(client, by_columns, max_retries=1,
                                                        timeout=60)[0]._base_blocks}
               for _ in range(2)]
    assert not columns[0] & columns[1]


def test_certificate_comes_with_the_last_gap_evaluation(client, monkeypatch):
    """A gap evaluation after a working-set solve below the tolerance correlates every
    feature when the screened ones cost little: the final certificate needs no round
    of its own, and the fit is the same to the bit."""
    X, plain, ahead = _fits_without_and_with(monkeypatch, "CERTIFICATE_AHEAD_ENTRIES", 0, 1e-8)
    assert ahead.converged and ahead.relative_gap <= 1e-8
    np.testing.assert_array_equal(ahead.coef, plain.coef)
    assert ahead.gap == plain.gap
    assert ahead.communication.n_rounds == plain.communication.n_rounds - 1
    units = [r["n_units"] for r in ahead.communication.rounds if r["kind"] == "correlations"]
    plain_units = [r["n_units"] for r in plain.communication.rounds
                   if r["kind"] == "correlations"]
    # plain: the last gap evaluation on the unscreened features, then the certificate on
    # the others; ahead: both in one round
    assert plain_units[-2] + plain_units[-1] == X.shape[1] and units[-1] == X.shape[1]
    assert units[:-1] == plain_units[:-2]


def test_sample_weights_and_weighted_l1(client):
    X, y = _problem("quadratic", seed=3)
    rng = np.random.default_rng(1)
    sw = rng.integers(0, 3, X.shape[0]).astype(float)
    penalty = WeightedL1(0.05, weights=rng.uniform(0.5, 2.0, X.shape[1]))
    single = solve(X, y, Quadratic(), penalty, sample_weight=sw, tol=1e-10)
    result = solve_distributed(_dask(X, (50, 40)), y, Quadratic(), penalty,
                               sample_weight=da.from_array(sw, chunks=30), tol=1e-10)
    np.testing.assert_allclose(result.coef, single.coef, rtol=1e-7, atol=1e-9)
    # weights behave like repeated rows
    rows = np.repeat(np.arange(X.shape[0]), sw.astype(int))
    repeated = solve_distributed(_dask(X[rows], (rows.size,)), y[rows], Quadratic(), penalty,
                                 tol=1e-10)
    np.testing.assert_allclose(repeated.coef, result.coef, rtol=1e-7, atol=1e-9)


def test_float32_blocks(client):
    X, y = _problem("logistic", seed=4)
    single = solve(X.astype(np.float32), y, Logistic(), L1(0.03), tol=1e-8)
    result = solve_distributed(_dask(X.astype(np.float32), (45, 45)), y, Logistic(), L1(0.03),
                               tol=1e-8)
    assert result.relative_gap <= 1e-8
    np.testing.assert_allclose(result.coef, single.coef, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("loss", ["quadratic", "logistic"])
def test_screening_is_safe(client, loss):
    """Every screened feature is zero in a no-screening reference at gap 1e-13."""
    X, y = _problem(loss, n=80, p=400, seed=5)
    datafit, penalty = DATAFITS[loss], L1(ALPHA[loss])
    result = solve_distributed(_dask(X, (40, 40)), y, datafit, penalty, tol=1e-12)
    reference = solve(X, y, datafit, penalty, tol=1e-13, screening=False)
    screened = result.screened_at >= 0
    assert screened.sum() > 0.5 * X.shape[1]
    assert np.all(reference.coef[screened] == 0)


def test_screening_shrinks_the_messages(client):
    X, y = _problem("quadratic", n=80, p=600, seed=6)
    Xd = _dask(X, (40, 40))
    with_screening = solve_distributed(Xd, y, Quadratic(), L1(0.1), tol=1e-10)
    without = solve_distributed(Xd, y, Quadratic(), L1(0.1), tol=1e-10, screening=False)
    np.testing.assert_allclose(with_screening.coef, without.coef, rtol=1e-7, atol=1e-10)
    rounds = [r for r in with_screening.communication.rounds if r["kind"] == "correlations"]
    # a correlation round moves |S| floats (plus 3 scalars) per block: O(unscreened), not O(p)
    # (and the rows of the guessed working-set columns it brings along, if any)
    for r in rounds:
        assert r["floats_received"] == 2 * (r["n_units"] + 3) + X.shape[0] * r["n_columns"]
    assert rounds[-2]["n_units"] < X.shape[1] / 4  # before the final full certificate
    loop = [r["n_units"] for r in rounds[1:-1]]
    loop_without = [r["n_units"] for r in without.communication.rounds
                    if r["kind"] == "correlations"][1:-1]
    assert loop[-1] < 0.25 * loop_without[-1]
    summary = with_screening.communication.summary()
    assert summary["correlations"]["rounds"] == len(rounds)


def test_reproducible_to_the_bit(client):
    X, y = _problem("logistic", seed=7)
    first = solve_distributed(_dask(X, (30, 30, 30)), y, Logistic(), L1(0.03), tol=1e-8)
    second = solve_distributed(_dask(X, (30, 30, 30)), y, Logistic(), L1(0.03), tol=1e-8)
    np.testing.assert_array_equal(first.coef, second.coef)
    assert first.intercept == second.intercept


def test_no_block_moves_between_workers(client):
    X, y = _problem("quadratic", n=400, p=500, seed=8)
    Xd = client.persist(_dask(X, (200, 200)))
    distributed.wait(Xd)

    def outgoing(dask_worker):
        return dask_worker.transfer_outgoing_bytes_total

    def incoming(dask_worker):  # fetches of a worker from another worker
        return dask_worker.state.transfer_incoming_count_total

    before, fetches = sum(client.run(outgoing).values()), sum(client.run(incoming).values())
    solve_distributed(Xd, y, Quadratic(), L1(0.05), tol=1e-8)
    moved = sum(client.run(outgoing).values()) - before
    assert moved < 200 * 500 * 8 / 4  # far less than one block (800 kB)
    assert sum(client.run(incoming).values()) == fetches


def test_fit_lets_go_of_its_blocks(client):
    """At the end of a fit its prepared blocks are released at once, not when the
    driver's garbage collector gets to the fit's reference cycles, nothing of the fit
    stays in the workers' memory (the dual point handed back is on the driver), and the
    direct rounds left nothing behind on the workers."""
    import gc

    X, y = _problem("quadratic", n=120, p=200, seed=24)
    Xd = client.persist(_dask(X, (60, 60)))
    distributed.wait(Xd)

    def held(dask_worker):  # keys of this module's fits (other tests' data aside)
        names = [str(k) for k in dask_worker.data] + [str(k) for k in dask_worker.state.actors]
        return [n for n in names if "sksafe-" in n or "prepare_block" in n]

    def fit_keys():
        return sorted(k for keys in client.run(held).values() for k in keys)

    def wait_for(condition):
        deadline = time.monotonic() + 10
        while not condition() and time.monotonic() < deadline:
            time.sleep(0.05)
        return condition()

    gc.collect()
    assert wait_for(lambda: not fit_keys())
    gc.disable()
    try:
        result = solve_distributed(Xd, y, Quadratic(), L1(0.05), tol=1e-8)
        assert {r["kind"] for r in result.communication.rounds} == {"setup", "correlations",
                                                                      "columns"}
        assert wait_for(lambda: not fit_keys())  # without a collection
    finally:
        gc.enable()
    assert result.dual_point.compute().shape == (120,)


def test_estimators_fit_and_predict_dask_arrays(client):
    X, y = _problem("quadratic", seed=9)
    Xd, yd = _dask(X, (50, 40)), da.from_array(y, chunks=((50, 40),))
    for est in (SafeScreeningLasso(alpha=0.08, tol=1e-13),
                SafeScreeningElasticNet(alpha=0.08, l1_ratio=0.5, tol=1e-13)):
        on_dask = est.__class__(**est.get_params()).fit(Xd, yd)
        local = est.fit(X, y)
        np.testing.assert_allclose(on_dask.coef_, local.coef_, rtol=1e-5, atol=1e-6)
        assert on_dask.intercept_ == pytest.approx(local.intercept_)
        assert on_dask.dual_gap_ <= 1e-13
        assert on_dask.fit_report_.communication.n_rounds > 0
        prediction = on_dask.predict(Xd)
        assert isinstance(prediction, da.Array)
        np.testing.assert_allclose(prediction.compute(), local.predict(X), rtol=1e-5,
                                   atol=1e-5)
    Xc, yc = _problem("logistic", seed=9)
    labels = np.where(yc > 0, "yes", "no")
    clf = SafeScreeningLogisticRegression(alpha=0.03, tol=1e-10)
    on_dask = clf.fit(_dask(Xc, (45, 45)), da.from_array(labels, chunks=45))
    local = SafeScreeningLogisticRegression(alpha=0.03, tol=1e-10).fit(Xc, labels)
    np.testing.assert_allclose(on_dask.coef_, local.coef_, rtol=1e-7, atol=1e-10)
    np.testing.assert_array_equal(on_dask.predict(_dask(Xc, (45, 45))).compute(),
                                  local.predict(Xc))
    np.testing.assert_allclose(on_dask.predict_proba(_dask(Xc, (45, 45))).compute(),
                               local.predict_proba(Xc), rtol=1e-7)
    glm = SparseGLM(datafit=Logistic(), penalty=L1(0.03), tol=1e-10)
    np.testing.assert_array_equal(glm.fit(_dask(Xc, (45, 45)), labels).classes_,
                                  ["no", "yes"])
    np.testing.assert_array_equal(glm.predict(_dask(Xc, (45, 45))).compute(),
                                  local.predict(Xc))
    counts = _problem("poisson", seed=9)
    poisson = SparsePoissonRegressor(alpha=0.05, tol=1e-8).fit(_dask(counts[0], (90,)),
                                                               counts[1])
    assert poisson.dual_gap_ <= 1e-8


def test_one_vs_rest_on_dask(client):
    rng = np.random.default_rng(10)
    X = rng.standard_normal((90, 40))
    y = np.argmax(X[:, :3] + 0.5 * rng.standard_normal((90, 3)), axis=1)
    local = SafeScreeningLogisticRegression(alpha=0.02, tol=1e-9).fit(X, y)
    on_dask = SafeScreeningLogisticRegression(alpha=0.02, tol=1e-9).fit(_dask(X, (45, 45)), y)
    np.testing.assert_allclose(on_dask.coef_, local.coef_, rtol=1e-6, atol=1e-9)
    np.testing.assert_array_equal(on_dask.classes_, local.classes_)


def test_bad_input(client):
    X, y = _problem("quadratic", seed=11)
    Xd = _dask(X, (45, 45))
    bad = X.copy()
    bad[60, 3] = np.nan
    with pytest.raises(ValueError, match="NaN or infinity \\(row block 1\\)"):
        solve_distributed(_dask(bad, (45, 45)), y, Quadratic(), L1(0.1))
    with pytest.raises(ValueError, match="y has 89 rows, X has 90"):
        solve_distributed(Xd, y[:-1], Quadratic(), L1(0.1))
    with pytest.raises(ValueError, match="y has 89 rows"):
        solve_distributed(Xd, da.from_array(y[:-1], chunks=40), Quadratic(), L1(0.1))
    with pytest.raises(ValueError, match="1-D"):
        solve_distributed(Xd, np.column_stack([y, y]), Quadratic(), L1(0.1))
    with pytest.raises(ValueError, match="labels in \\{-1, \\+1\\}"):
        solve_distributed(Xd, y, Logistic(), L1(0.1))
    with pytest.raises(ValueError, match="separable penalties"):
        solve_distributed(Xd, y, Quadratic(), GroupL1(0.1, groups=10))
    with pytest.raises(ValueError, match="bounds"):
        solve_distributed(Xd, y, Quadratic(), L1(0.1, bounds=(-1.0, 1.0)))
    with pytest.raises(ValueError, match="empty"):
        solve_distributed(Xd[:, :0], y, Quadratic(), L1(0.1))
    with pytest.raises(ValueError, match="must be a dask array"):
        solve_distributed(X, y, Quadratic(), L1(0.1), client=client)
    with pytest.raises(ValueError, match="alpha"):
        SafeScreeningLasso(alpha=-1.0).fit(Xd, y)
    with pytest.raises(ValueError, match="multinomial"):
        SafeScreeningLogisticRegression(multi_class="multinomial").fit(
            Xd, np.arange(90) % 3)
    with pytest.raises(ValueError, match="solver"):
        SafeScreeningLogisticRegression(solver="fista").fit(Xd, np.sign(y))
    # column chunks: merged with a warning, same answer
    with pytest.warns(UserWarning, match="chunked along the features"):
        merged = solve_distributed(da.from_array(X, chunks=(45, 80)), y, Quadratic(), L1(0.1),
                                   tol=1e-10)
    np.testing.assert_allclose(merged.coef, solve(X, y, Quadratic(), L1(0.1), tol=1e-10).coef,
                               rtol=1e-7, atol=1e-10)


def test_closed_or_missing_client(monkeypatch):
    X, y = _problem("quadratic", seed=12)
    Xd = _dask(X, (45, 45))
    with distributed.Client(processes=False, n_workers=1, dashboard_address=None) as c:
        pass
    with pytest.raises(ValueError, match="not running"):
        solve_distributed(Xd, y, Quadratic(), L1(0.1), client=c)

    def no_client():  # what distributed says when no client was ever created
        raise ValueError("No clients found")

    monkeypatch.setattr(distributed, "default_client", no_client)
    with pytest.raises(ValueError, match="needs a dask.distributed Client"):
        SafeScreeningLasso(alpha=0.1).fit(Xd, y)


def test_round_timeout_is_bounded(client, monkeypatch):
    X, y = _problem("quadratic", seed=13)

    def slow_moments(block, *args):
        time.sleep(3)

    monkeypatch.setattr("sksafe.distributed._tasks.block_moments", slow_moments)
    # without the bound the round would end after 3 s with no moments (a TypeError later)
    with pytest.raises(TimeoutError, match="setup round took more than"):
        solve_distributed(_dask(X, (45, 45)), y, Quadratic(), L1(0.1), timeout=0.5,
                          max_retries=0)


@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize("layout", ["rows", "columns"])
def test_worker_killed_mid_fit_gives_the_same_result(monkeypatch, layout):
    """SIGKILL of a worker process during a fit: the blocks are recomputed from their
    lineage on a live worker and the fit ends at the same point as without failure."""
    X, y = _problem("logistic", n=200, p=300, seed=14)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster) as c:
        Xd = (_dask(X, (100, 100)) if layout == "rows"
              else da.from_array(X, chunks=(200, 150)))
        reference = solve_distributed(Xd, y, Logistic(), L1(0.02), tol=1e-9)
        kill_at = reference.communication.n_rounds // 2  # mid-fit
        pids = c.run(os.getpid)
        gather = _runtime.BlockRuntime.gather
        state = {"rounds": 0, "killed": None}

        def gather_then_kill(self, futures, kind, **meta):
            state["rounds"] += 1
            if state["rounds"] == kill_at:
                owner = self.owners[0]
                state["killed"] = owner
                os.kill(pids[owner], signal.SIGKILL)
            return gather(self, futures, kind, **meta)

        monkeypatch.setattr(_runtime.BlockRuntime, "gather", gather_then_kill)
        result = solve_distributed(Xd, y, Logistic(), L1(0.02), tol=1e-9)
    assert state["killed"] is not None
    recoveries = result.communication.recoveries
    assert recoveries and state["killed"] in recoveries[0]["lost_workers"]
    np.testing.assert_array_equal(result.coef, reference.coef)
    assert result.intercept == reference.intercept


def test_cluster_started_with_the_dask_command_line(tmp_path):
    """A scheduler and two workers as separate processes (``dask scheduler``/``dask worker``)."""
    port = 8786 + os.getpid() % 500
    address = f"tcp://127.0.0.1:{port}"
    env = {**os.environ, "DASK_DISTRIBUTED__WORKER__DAEMON": "False"}
    scheduler = subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_scheduler",
                                  "--host", "127.0.0.1", "--port", str(port),
                                  "--dashboard-address", ":0"], env=env,
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    workers = [subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_worker", address,
                                 "--nthreads", "1", "--no-dashboard", "--host", "127.0.0.1"],
                                env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
               for _ in range(2)]
    try:
        with distributed.Client(address, timeout=60) as c:
            c.wait_for_workers(2, timeout=60)
            X, y = _problem("quadratic", seed=15)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                result = solve_distributed(_dask(X, (45, 45)), y, Quadratic(), L1(0.08),
                                           tol=1e-10, client=c)
            single = solve(X, y, Quadratic(), L1(0.08), tol=1e-10)
            np.testing.assert_allclose(result.coef, single.coef, rtol=1e-7, atol=1e-10)
    finally:
        for proc in [*workers, scheduler]:
            proc.terminate()
        for proc in [*workers, scheduler]:
            proc.wait(timeout=30)


# ---------------------------------------------------------------------------------------------
# column blocks (p >> n)
# ---------------------------------------------------------------------------------------------
def _survival(n, seed):
    rng = np.random.default_rng(seed)
    return np.column_stack([rng.exponential(1.0, n), (rng.random(n) < 0.7).astype(float)])


COLUMN_CASES = [
    ("quadratic", L1(0.08), False, True, (300, 200, 100)),
    ("quadratic", ElasticNet(0.08, l1_ratio=0.5), True, False, (250, 350)),
    ("logistic", L1(0.03), False, True, (600,)),
    ("logistic", ElasticNet(0.03, l1_ratio=0.7), True, True, (100, 500)),
    ("cox", L1(0.08), False, False, (200, 200, 200)),
]


@pytest.mark.parametrize("loss, penalty, sparse, fit_intercept, widths", COLUMN_CASES)
def test_column_blocks_same_solution_as_one_machine(client, loss, penalty, sparse,
                                                    fit_intercept, widths):
    X, y = _problem("quadratic" if loss == "cox" else loss, n=70, p=600, sparse=sparse,
                    seed=16)
    datafit = Cox() if loss == "cox" else DATAFITS[loss]
    if loss == "cox":
        y = _survival(X.shape[0], 16)
    tol = 1e-12
    single = solve(X, y, datafit, penalty, fit_intercept=fit_intercept, tol=tol)
    Xd = da.from_array(sp.csc_matrix(X) if sparse else X, chunks=(X.shape[0], widths),
                       asarray=False)
    result = solve_distributed(Xd, y, datafit, penalty, fit_intercept=fit_intercept, tol=tol,
                               layout="columns")
    assert "screening" in result.communication.summary()  # the column layout ran
    assert result.converged and result.relative_gap <= tol
    assert abs(result.primal - single.primal) <= tol * single.primal_zero
    np.testing.assert_array_equal(result.coef != 0, single.coef != 0)
    _, b = penalty.l1_l2_weights(X.shape[1])
    bound = 1e-8 * max(np.linalg.norm(single.coef), 1.0)
    if b[0] > 0:
        bound = max(bound, 2 * np.sqrt(2 * (result.gap + single.gap) / b[0]))
    assert np.linalg.norm(result.coef - single.coef) <= bound
    assert result.alpha_max == pytest.approx(single.alpha_max, rel=1e-10)
    # the correlation rounds bring back two scalars per block, whatever p
    for r in result.communication.rounds:
        if r["kind"] == "correlations":
            assert r["floats_received"] == 2 * len(widths)


def test_column_blocks_screening_is_safe_and_genotypes_stay_int8(client):
    rng = np.random.default_rng(17)
    G = np.asfortranarray(rng.integers(0, 3, (60, 900)).astype(np.int8))
    w = np.zeros(900)
    w[:8] = rng.standard_normal(8)
    y = G @ w + 0.5 * rng.standard_normal(60)
    reference = solve(G.astype(np.float64), y, Quadratic(), L1(0.05), tol=1e-13,
                      screening=False)
    for layout in ("columns", "rows"):
        Gd = da.from_array(G, chunks=(60, 300) if layout == "columns" else (30, 900))
        result = solve_distributed(Gd, y, Quadratic(), L1(0.05), tol=1e-12, layout=layout)
        screened = result.screened_at >= 0
        assert screened.sum() > 450
        assert np.all(reference.coef[screened] == 0)
        np.testing.assert_allclose(result.coef, reference.coef, rtol=1e-7, atol=1e-9)


def test_estimator_picks_the_column_layout_from_the_chunks(client):
    X, y = _problem("quadratic", n=60, p=400, seed=18)
    local = SafeScreeningLasso(alpha=0.1, tol=1e-12).fit(X, y)
    on_columns = SafeScreeningLasso(alpha=0.1, tol=1e-12).fit(
        da.from_array(X, chunks=(60, 150)), da.from_array(y, chunks=60))
    assert "screening" in on_columns.fit_report_.communication.summary()
    np.testing.assert_allclose(on_columns.coef_, local.coef_, rtol=1e-7, atol=1e-10)
    assert on_columns.intercept_ == pytest.approx(local.intercept_, rel=1e-9)
    with pytest.warns(UserWarning, match="chunked along the samples"):
        both = solve_distributed(da.from_array(X, chunks=(30, 150)), y, Quadratic(), L1(0.1),
                                 tol=1e-12, layout="columns")
    np.testing.assert_allclose(both.coef, local.coef_, rtol=1e-7, atol=1e-10)
    with pytest.raises(ValueError, match="layout must be"):
        solve_distributed(da.from_array(X, chunks=(60, 150)), y, Quadratic(), L1(0.1),
                          layout="diagonal")
    bad = X.copy()
    bad[3, 200] = np.inf
    with pytest.raises(ValueError, match="NaN or infinity \\(column block 1\\)"):
        solve_distributed(da.from_array(bad, chunks=(60, 150)), y, Quadratic(), L1(0.1))


COCOA_CASES = [
    ("quadratic", L1(0.1), False, True, (150, 100)),
    ("quadratic", ElasticNet(0.1, l1_ratio=0.6), True, False, (40, 120, 90)),
    ("logistic", L1(0.04), True, True, (90, 160)),
    ("logistic", L1(0.04, positive=True), False, False, (70, 180)),
]


@pytest.mark.parametrize("loss, penalty, sparse, fit_intercept, widths", COCOA_CASES)
def test_column_blocks_cocoa_working_sets(client, loss, penalty, sparse, fit_intercept,
                                          widths):
    """ProxCoCoA+ working-set solves: the global gap and the single-machine objective are
    reached, no column travels, and the ledger counts the rounds the history reports."""
    X, y = _problem(loss, n=60, p=250, sparse=sparse, seed=22)
    datafit = DATAFITS[loss]
    tol = 1e-8
    single = solve(X, y, datafit, penalty, fit_intercept=fit_intercept, tol=1e-12)
    Xd = da.from_array(sp.csc_matrix(X) if sparse else X, chunks=(X.shape[0], widths),
                       asarray=False)
    result = solve_distributed(Xd, y, datafit, penalty, fit_intercept=fit_intercept, tol=tol,
                               layout="columns", column_solver="cocoa")
    assert result.converged and result.relative_gap <= tol
    assert abs(result.primal - single.primal) <= tol * single.primal_zero
    # the returned point, certified independently of the solver (tests/conftest.py)
    a, b = penalty.l1_l2_weights(X.shape[1])
    rel, *_ = duality_gap(X, y, result.coef, result.intercept, loss=loss, a=a, b=b,
                          positive=penalty.positive, fit_intercept=fit_intercept)
    assert rel <= 2 * tol
    kinds = result.communication.summary()
    assert "columns" not in kinds  # the working-set columns stay on their workers
    rounds = sum(h.get("cocoa_rounds", 0) for h in result.history)
    assert rounds > 0 and kinds["cocoa"]["rounds"] == rounds
    for r in result.communication.rounds:
        if r["kind"] == "cocoa":  # per block: X_k u (n floats), correlations and coefficients
            n_blocks = (r["floats_received"] - 2 * r["ws_size"]) / X.shape[0]
            assert n_blocks == int(n_blocks) and 1 <= n_blocks <= len(widths)


@pytest.mark.parametrize("centre", [False, True])
def test_cocoa_local_step_solves_its_subproblem(centre):
    """The worker's local ProxCoCoA+ subproblem ``min_u -theta^T X_c u + (sigma / 2)
    ||X_c u||_s^2 + g(w + u)`` is the weighted Lasso with target ``X_c w + theta /
    (sigma s)`` and penalty ``g / sigma``: solved exactly by enough local epochs."""
    from sksafe.distributed._cocoa import cocoa_local_step
    from sksafe.distributed._columns import (column_block_stats, configure_column_block,
                                             prepare_column_block)

    rng = np.random.default_rng(24)
    n, p, alpha, sigma = 50, 30, 0.05, 2.5
    X = rng.standard_normal((n, p))
    s = rng.uniform(0.5, 2.0, n)
    s /= s.sum()
    block = prepare_column_block(X, 0, 0)
    means, _, centred, _ = column_block_stats(block, s, centre)
    block = configure_column_block(block, means, np.sqrt(centred), np.full(p, alpha),
                                   np.zeros(p), np.full(p, -np.inf), np.full(p, np.inf), s)
    ws = np.arange(0, p, 2)
    coef = rng.standard_normal(ws.size) * (rng.random(ws.size) < 0.5)
    theta = s * rng.standard_normal(n)
    if centre:
        theta -= s * theta.sum()  # the dual point of a fit with an intercept sums to zero
    _, change, new = cocoa_local_step(block, ws, coef, theta, 0.0, sigma, 5000)
    X_c = X[:, ws] - means[ws]
    target = X_c @ coef + theta / (sigma * s)
    exact = solve(X[:, ws], target, Quadratic(), L1(alpha / sigma), sample_weight=s,
                  fit_intercept=centre, tol=1e-15)
    np.testing.assert_allclose(new, exact.coef, rtol=1e-9, atol=1e-11)
    np.testing.assert_allclose(change, X[:, ws] @ (new - coef), rtol=1e-9, atol=1e-11)


def test_cocoa_predictor_follows_coefficients_changed_outside(client):
    """Coefficients the outer loop changes (screened non-zeros set to 0) reach the shared
    vector ``v = X w`` of ProxCoCoA+ by one ``point`` round; unchanged ones cost none."""
    from sksafe.distributed._cocoa import CocoaWorkingSet
    from sksafe.distributed._columns import ColumnBlockSolver, column_runtime

    X, y = _problem("quadratic", n=40, p=90, sparse=True, seed=25)
    X = sp.csc_matrix(X)
    runtime, starts, widths = column_runtime(
        client, da.from_array(X, chunks=(40, (20, 70)), asarray=False), max_retries=0,
        timeout=60)
    engine = ColumnBlockSolver(runtime, starts, widths, y, None, Quadratic(), L1(0.1), True,
                               "cd")
    engine.setup(np.full(40, 1 / 40))
    cocoa = CocoaWorkingSet(engine)
    w = np.zeros(90)
    w[[3, 25, 60, 89]] = [1.0, -2.0, 0.5, 3.0]
    cocoa._sync(w)
    np.testing.assert_allclose(cocoa.v, X @ w, rtol=1e-13, atol=1e-13)
    w[[25, 89]] = 0.0
    cocoa._sync(w)
    cocoa._sync(w)
    np.testing.assert_allclose(cocoa.v, X @ w, rtol=1e-13, atol=1e-13)
    assert runtime.ledger.summary()["point"]["rounds"] == 2


def test_column_solver_option_is_checked(client):
    X, y = _problem("quadratic", n=40, p=120, seed=23)
    Xd = da.from_array(X, chunks=(40, 60))
    with pytest.raises(ValueError, match="column_solver must be 'auto', 'central' or 'cocoa'"):
        solve_distributed(Xd, y, Quadratic(), L1(0.1), column_solver="admm")
    with pytest.raises(ValueError, match="column_solver='cocoa' solves the working sets of "
                                         "column blocks"):
        solve_distributed(da.from_array(X, chunks=(20, 120)), y, Quadratic(), L1(0.1),
                          column_solver="cocoa")
    counts = np.abs(np.round(y)).astype(float)
    with pytest.raises(ValueError, match="bound on its second derivative"):
        solve_distributed(Xd, counts, Poisson(), L1(0.1), column_solver="cocoa")


def test_column_solver_auto_switches_to_cocoa_beyond_the_driver_budget(client):
    """``column_solver="auto"``: central while the working-set columns fit
    ``central_max_bytes``, ProxCoCoA+ rounds beyond, same optimum either way; a datafit
    ProxCoCoA+ cannot take is solved centrally all the same, with a ResourceWarning."""
    X, y = _problem("logistic", n=60, p=250, seed=24)
    Xd = da.from_array(X, chunks=(60, (120, 130)))
    single = solve(X, y, Logistic(), L1(0.03), tol=1e-12)
    budget = 8 * X.shape[0] * 12  # twelve columns: the first working sets fit, later ones not
    result = solve_distributed(Xd, y, Logistic(), L1(0.03), tol=1e-8, layout="columns",
                               central_max_bytes=budget)
    assert result.relative_gap <= 1e-8
    assert abs(result.primal - single.primal) <= 1e-8 * single.primal_zero
    kinds = result.communication.summary()
    assert kinds["columns"]["rounds"] > 0 and kinds["cocoa"]["rounds"] > 0
    for record in result.history:  # no working set above the budget was solved centrally
        if record["ws_size"] > 12:
            assert record.get("cocoa_rounds", 0) > 0
    counts = np.abs(np.round(3 * X[:, :5].sum(axis=1)))
    with pytest.warns(ResourceWarning, match="exceeds central_max_bytes"):
        poisson = solve_distributed(Xd, counts, Poisson(), L1(0.02), tol=1e-8,
                                    layout="columns", central_max_bytes=8 * 60 * 2)
    reference = solve(X, counts, Poisson(), L1(0.02), tol=1e-12)
    assert abs(poisson.primal - reference.primal) <= 1e-8 * reference.primal_zero


def test_ledger_matches_the_transfer_counters_of_distributed(client, monkeypatch):
    """What the ledger says the driver gathered is what the workers served (sizeof-based
    counters of distributed); nothing else left the workers: no block moved.

    Rounds of tasks are checked against the counters; direct rounds (which
    distributed does not count) must record the same bytes as the same rounds made
    of tasks, and leave the transfer counters alone."""
    X, y = _problem("quadratic", n=200, p=800, seed=19)
    Xd = client.persist(_dask(X, (100, 100)))
    distributed.wait(Xd)

    def outgoing(dask_worker):
        return dask_worker.transfer_outgoing_bytes_total

    def fit(datafit, target, direct):
        monkeypatch.setattr(_runtime.BlockRuntime, "direct", direct)
        before = sum(client.run(outgoing).values())
        result = solve_distributed(Xd, target, datafit, L1(0.05), tol=1e-8)
        return result.communication, sum(client.run(outgoing).values()) - before

    for datafit, target in ((Quadratic(), y), (Logistic(), np.sign(y))):
        ledger, served = fit(datafit, target, direct=False)
        assert abs(served - ledger.bytes_received) <= 0.05 * ledger.bytes_received
        assert ledger.bytes_sent > 0 and len(ledger.rounds) == ledger.n_rounds
        direct, served_direct = fit(datafit, target, direct=True)
        rounds = direct.rounds
        assert [r["kind"] for r in rounds] == [r["kind"] for r in ledger.rounds]
        assert ([r["floats_received"] for r in rounds]
                == [r["floats_received"] for r in ledger.rounds])
        np.testing.assert_allclose([r["bytes_received"] for r in rounds],
                                   [r["bytes_received"] for r in ledger.rounds], rtol=0.01, atol=64)
        # the driver holds the working sets' columns here: every round is direct, and
        # only the dual point handed back as a dask array leaves through transfers
        assert served_direct < 0.05 * ledger.bytes_received


def test_path_on_row_blocks(client):
    from sksafe.paths import sparse_glm_path

    X, y = _problem("logistic", n=80, p=200, seed=20)
    local = sparse_glm_path(X, y, Logistic(), L1(), n_alphas=8, eps=0.05, tol=1e-11)
    on_dask = sparse_glm_path(_dask(X, (40, 40)), da.from_array(y, chunks=40), Logistic(),
                              L1(), n_alphas=8, eps=0.05, tol=1e-11)
    np.testing.assert_allclose(on_dask.alphas, local.alphas, rtol=1e-12)
    np.testing.assert_allclose(on_dask.coefs, local.coefs, rtol=1e-6, atol=1e-7)
    assert np.all(on_dask.dual_gaps <= 1e-11)
    # sequential screening: the first gap of each fit (at the previous dual point) screens
    assert np.all(on_dask.n_screened[1:] > 0)
    reference = solve(X, y, Logistic(), L1(on_dask.alphas[-1]), tol=1e-13, screening=False)
    assert np.all(reference.coef[on_dask.screened_at[:, -1] >= 0] == 0)
    with pytest.raises(ValueError, match="coef_init"):
        sparse_glm_path(_dask(X, (40, 40)), y, Logistic(), L1(), coef_init=np.zeros(200))


def test_grid_search_under_the_dask_joblib_backend(client):
    """In-memory data, many independent fits: GridSearchCV runs its fits as Dask tasks."""
    import joblib
    from sklearn.model_selection import GridSearchCV
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X, y = _problem("quadratic", n=90, p=60, seed=21)
    pipe = make_pipeline(StandardScaler(), SafeScreeningLasso(tol=1e-10))
    grid = {"safescreeninglasso__alpha": [0.02, 0.1, 0.5]}
    local = GridSearchCV(pipe, grid, cv=3).fit(X, y)
    with joblib.parallel_config(backend="dask"):
        on_dask = GridSearchCV(pipe, grid, cv=3, n_jobs=-1).fit(X, y)
    assert on_dask.best_params_ == local.best_params_
    np.testing.assert_allclose(on_dask.cv_results_["mean_test_score"],
                               local.cv_results_["mean_test_score"], rtol=1e-9)
