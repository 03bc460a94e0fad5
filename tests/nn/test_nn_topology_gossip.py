"""Mixing matrices, gossip averaging, and convergence of the NumPy engine on a convex problem."""
import numpy as np
import pytest
from sklearn.linear_model import Lasso

from sksafe.nn import (QSGD, Float32, GossipSGD, LocalNetwork, Topology, complete, erdos_renyi,
                       ring, torus)
from sksafe.nn.gossip import ORDERS, soft_threshold

TOPOLOGIES = [ring(8), ring(2), torus(3, 3), torus(2, 4), complete(5), erdos_renyi(12, 0.3, seed=0),
              ring(6, weights="metropolis"), erdos_renyi(10, 0.4, seed=1, weights="uniform")]


@pytest.mark.parametrize("top", TOPOLOGIES, ids=lambda t: t.name)
def test_mixing_matrix_is_a_valid_gossip_matrix(top):
    W = top.mixing_matrix
    np.testing.assert_allclose(W, W.T, atol=0)
    np.testing.assert_allclose(W.sum(axis=0), 1.0, atol=1e-14)
    np.testing.assert_allclose(W.sum(axis=1), 1.0, atol=1e-14)
    assert np.all(W >= 0)
    off = ~(top.adjacency | np.eye(top.n_nodes, dtype=bool))
    assert not np.any(W[off])
    assert np.all(W[top.adjacency] > 0)
    assert 0 < top.spectral_gap <= 1
    # connected: the graph Laplacian has a single zero eigenvalue
    lap = np.diag(top.adjacency.sum(1)) - top.adjacency
    assert np.sum(np.linalg.eigvalsh(lap) < 1e-9) == 1
    for i in range(top.n_nodes):
        assert top.neighbors(i) == tuple(np.flatnonzero(top.adjacency[i]))


def test_known_matrices_and_gaps():
    np.testing.assert_allclose(ring(8).mixing_matrix[0, [7, 0, 1]], 1 / 3)
    np.testing.assert_allclose(torus(3, 3).mixing_matrix[4, [1, 3, 4, 5, 7]], 1 / 5)
    assert torus(2, 4).degree(0) == 3
    assert complete(6).spectral_gap == pytest.approx(1.0)
    # ring with 1/3 weights: lambda_2 = (1 + 2 cos(2 pi / n)) / 3
    assert ring(8).spectral_gap == pytest.approx(1 - (1 + 2 * np.cos(2 * np.pi / 8)) / 3)


@pytest.mark.parametrize("top", TOPOLOGIES[:6], ids=lambda t: t.name)
def test_gossip_converges_to_the_average(top):
    x = np.random.default_rng(0).standard_normal((top.n_nodes, 3))
    y = x.copy()
    for _ in range(400):
        y = top.mixing_matrix @ y
    np.testing.assert_allclose(y, np.broadcast_to(x.mean(0), x.shape), atol=1e-10)


@pytest.mark.parametrize("compressor, gamma", [(QSGD(7), 0.3), (QSGD(3, scaled=True), 0.5),
                                               (QSGD(7, coding="fixed"), 0.3), (Float32(), 1.0)])
def test_compressed_gossip_without_gradients_reaches_the_average(compressor, gamma):
    top = torus(3, 3)
    x0 = np.random.default_rng(1).standard_normal((9, 50))
    engine = GossipSGD(LocalNetwork(top), list(x0), compressor=compressor, lr=0.0,
                       gamma=gamma, seed=0)
    zero = [np.zeros(50)] * 9
    for _ in range(300):
        engine.step(zero)
        # the average is invariant: W is symmetric and doubly stochastic
        np.testing.assert_allclose(engine.average(), x0.mean(0), atol=1e-10)
    assert engine.consensus_error() < 1e-8 * np.mean(np.sum((x0 - x0.mean(0)) ** 2, 1))


def test_disconnected_topology_is_refused():
    A = np.zeros((4, 4), dtype=bool)
    A[0, 1] = A[1, 0] = A[2, 3] = A[3, 2] = True
    with pytest.raises(ValueError, match=r"disconnected: 2 components \[\[0, 1\], \[2, 3\]\]"):
        Topology(A)
    with pytest.raises(ValueError, match="no connected Erdos-Renyi"):
        erdos_renyi(30, 0.01, seed=0, max_tries=5)


def test_bad_mixing_matrices_are_refused():
    A = ring(4).adjacency
    with pytest.raises(ValueError, match="symmetric"):
        Topology(np.triu(A))
    with pytest.raises(ValueError, match="doubly stochastic"):
        Topology(A, weights=0.5 * (A + np.eye(4)))
    with pytest.raises(ValueError, match="not edges"):
        Topology(A, weights=np.full((4, 4), 0.25))
    with pytest.raises(ValueError, match="spectral gap"):
        # a periodic chain: all weight on the edges, eigenvalue -1
        Topology(A, weights=A / 2.0)
    with pytest.raises(ValueError, match="weights must be one of"):
        ring(4, weights="max-degree")
    with pytest.raises(ValueError, match="n_nodes must be an integer >= 2"):
        ring(1)


def _engine(**kwargs):
    params = dict(compressor=QSGD(3), lr=0.1, gamma=0.5)
    params.update(kwargs)
    return GossipSGD(LocalNetwork(ring(4)), [np.zeros(3)] * 4, **params)


@pytest.mark.parametrize("gamma", [0.0, -0.1, 1.5, np.nan])
def test_gamma_outside_the_unit_interval_is_refused(gamma):
    with pytest.raises(ValueError, match=r"consensus rate gamma must be in \(0, 1\]"):
        _engine(gamma=gamma)


def test_schedules_are_checked_when_used():
    engine = _engine(gamma=lambda t: 0.5 if t < 2 else 2.0, lr=lambda t: 0.1 / (1 + t))
    zero = [np.zeros(3)] * 4
    engine.step(zero)
    engine.step(zero)
    with pytest.raises(ValueError, match=r"gamma\(2\) must be in \(0, 1\], got 2.0"):
        engine.step(zero)


def test_other_bad_engine_input():
    with pytest.raises(ValueError, match="order must be one of"):
        _engine(order="random")
    with pytest.raises(ValueError, match="lr must be >= 0"):
        _engine(lr=-1.0)
    with pytest.raises(ValueError, match="Compressor"):
        _engine(compressor="qsgd")
    with pytest.raises(ValueError, match="size 2, expected 3"):
        _engine().step([np.zeros(2)] * 4)
    with pytest.raises(ValueError, match="3 gradients for the 4"):
        _engine().step([np.zeros(3)] * 3)


def test_soft_threshold():
    np.testing.assert_array_equal(soft_threshold(np.array([-3.0, -0.5, 0.0, 0.2, 2.0]), 1.0),
                                  [-2.0, 0.0, 0.0, 0.0, 1.0])


@pytest.fixture(scope="module")
def lasso_problem():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((400, 20))
    w = np.zeros(20)
    w[:5] = [2.0, -1.5, 1.0, 3.0, -2.0]
    y = X @ w + 0.5 * rng.standard_normal(400)
    alpha = 0.1
    ref = Lasso(alpha=alpha, fit_intercept=False, tol=1e-12, max_iter=100_000).fit(X, y).coef_
    return X, y, alpha, ref


@pytest.mark.parametrize("order", ORDERS)
@pytest.mark.parametrize("compressor, gamma", [(QSGD(15), 0.3), (QSGD(15, coding="fixed"), 0.3),
                                               (Float32(), 1.0)])
def test_every_node_reaches_the_centralised_lasso_solution(lasso_problem, order, compressor,
                                                           gamma):
    """min (1/8) sum_i (1/(2 n_i)) ||y_i - X_i x||^2 + alpha ||x||_1 over a ring of 8 nodes.

    Equal shards make the average of the local losses the centralised Lasso objective of
    scikit-learn; with full local gradients and a decaying step every node ends within
    1% of its solution, near zero where it is zero.
    """
    X, y, alpha, ref = lasso_problem
    shards = np.array_split(np.arange(X.shape[0]), 8)
    engine = GossipSGD(LocalNetwork(ring(8)), [np.zeros(20)] * 8, compressor=compressor,
                       lr=lambda t: 0.1 / (1 + t / 500), mu=alpha, gamma=gamma, order=order,
                       seed=1)
    for _ in range(2500):
        engine.step([X[s].T @ (X[s] @ x - y[s]) / len(s) for s, x in zip(shards, engine.models)])
    for x in engine.models:
        assert np.linalg.norm(x - ref) < 0.01 * np.linalg.norm(ref)
        assert np.all(np.abs(x[ref == 0]) < 0.02)
        if order == "prox_last":  # the model itself comes out of the soft threshold
            assert np.all(x[ref != 0] != 0) and np.mean(x[ref == 0] == 0) >= 0.7
