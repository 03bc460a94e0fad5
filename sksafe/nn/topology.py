"""Communication graphs and their gossip (mixing) matrices.

A decentralized algorithm runs on ``N`` nodes joined by an undirected connected graph.
Node ``i`` averages with its neighbours through a **mixing matrix** ``W``:
symmetric, doubly stochastic (``W 1 = 1``), with ``w_ij > 0`` only on the edges and the
diagonal. Gossip ``x <- W x`` then converges to the average at a linear rate governed by
the **spectral gap** ``delta = 1 - max(|lambda_2(W)|, |lambda_N(W)|)`` (Boyd, Ghosh,
Prabhakar & Shah, "Randomized gossip algorithms", IEEE Trans. Inf. Theory 2006; the same
``delta`` appears in the rates of CHOCO-SGD, Koloskova, Stich & Jaggi, ICML 2019).

Two weightings are provided:

- ``"uniform"``: every edge gets ``1 / (1 + d_max)`` and the diagonal the rest,
  ``w_ii = 1 - d_i / (1 + d_max)``. On regular graphs this is the matrix of the CHOCO-SGD
  experiments (``1/3`` on a ring, ``1/5`` on a 2-D torus with four neighbours).
- ``"metropolis"`` (Metropolis-Hastings): ``w_ij = 1 / (1 + max(d_i, d_j))`` on the edges
  and ``w_ii = 1 - sum_j w_ij`` (Xiao & Boyd, "Fast linear iterations for distributed
  averaging", 2004); it needs only the degrees of the two ends of an edge.
"""
import numpy as np
from scipy.sparse.csgraph import connected_components

__all__ = ["Topology", "ring", "torus", "complete", "erdos_renyi"]

_WEIGHTINGS = ("uniform", "metropolis")


class Topology:
    """An undirected connected graph of ``n_nodes`` nodes with a mixing matrix.

    Parameters
    ----------
    adjacency : array-like of shape (n_nodes, n_nodes)
        Symmetric 0/1 (or boolean) adjacency matrix; the diagonal is ignored.
    weights : {"uniform", "metropolis"} or array-like of shape (n_nodes, n_nodes)
        How the mixing matrix is built from the graph (see the module docstring), or an
        explicit matrix, which must be symmetric, doubly stochastic, non-negative and
        zero outside the edges and the diagonal.
    name : str, optional
        A label used in reports.

    Attributes
    ----------
    n_nodes : int
    adjacency : ndarray of bool, shape (n_nodes, n_nodes)
    mixing_matrix : ndarray of shape (n_nodes, n_nodes)
        ``W``.
    spectral_gap : float
        ``1 - max(|lambda_2(W)|, |lambda_N(W)|)``, in ``(0, 1]`` for a connected graph
        with a positive-definite enough ``W``; gossip contracts the disagreement by
        ``1 - spectral_gap`` per round.

    Raises
    ------
    ValueError
        If the graph is disconnected, the adjacency is not square and symmetric, or an
        explicit mixing matrix is not a valid gossip matrix of the graph.
    """

    def __init__(self, adjacency, weights="metropolis", name=None):
        A = np.asarray(adjacency)
        if A.ndim != 2 or A.shape[0] != A.shape[1] or A.shape[0] < 1:
            raise ValueError(f"adjacency must be a non-empty square matrix, got shape {A.shape}")
        A = A != 0
        np.fill_diagonal(A, False)
        if not np.array_equal(A, A.T):
            raise ValueError("adjacency must be symmetric (the graph is undirected)")
        n_components, labels = connected_components(A, directed=False)
        if n_components > 1:
            parts = [np.flatnonzero(labels == c).tolist() for c in range(n_components)]
            raise ValueError(f"the topology is disconnected: {n_components} components "
                             f"{parts}; gossip cannot reach consensus")
        self.n_nodes = A.shape[0]
        self.adjacency = A
        self.name = name or f"graph({self.n_nodes})"
        self.mixing_matrix = _mixing_matrix(A, weights)
        self._neighbors = tuple(tuple(np.flatnonzero(row).tolist()) for row in A)
        eig = np.sort(np.linalg.eigvalsh(self.mixing_matrix))[::-1]
        second = max(abs(eig[1]), abs(eig[-1])) if self.n_nodes > 1 else 0.0
        self.spectral_gap = float(1.0 - second)
        if self.spectral_gap <= 1e-12:
            raise ValueError(f"the mixing matrix has spectral gap {self.spectral_gap:.3g}: "
                             "gossip with it does not converge to the average")

    def neighbors(self, node):
        """Neighbours of ``node`` in increasing order (the node itself excluded)."""
        return self._neighbors[node]

    def degree(self, node):
        return len(self._neighbors[node])

    def __repr__(self):
        return (f"Topology({self.name!r}, n_nodes={self.n_nodes}, "
                f"spectral_gap={self.spectral_gap:.4f})")


def _mixing_matrix(A, weights):
    n = A.shape[0]
    deg = A.sum(axis=1)
    if isinstance(weights, str):
        if weights == "uniform":
            W = A / (1.0 + deg.max(initial=0))
        elif weights == "metropolis":
            W = A / (1.0 + np.maximum.outer(deg, deg))
        else:
            raise ValueError(f"weights must be one of {_WEIGHTINGS} or a matrix, got {weights!r}")
        W = W.astype(np.float64)
        np.fill_diagonal(W, 1.0 - W.sum(axis=1))
        return W
    W = np.asarray(weights, dtype=np.float64)
    if W.shape != (n, n):
        raise ValueError(f"mixing matrix has shape {W.shape}, expected {(n, n)}")
    off_graph = ~(A | np.eye(n, dtype=bool))
    checks = [
        (np.allclose(W, W.T, atol=1e-12), "is not symmetric"),
        (np.all(W >= 0), "has negative entries"),
        (np.allclose(W.sum(axis=1), 1.0, atol=1e-12), "is not doubly stochastic"),
        (not np.any(W[off_graph]), "has weight on pairs that are not edges"),
    ]
    for ok, problem in checks:
        if not ok:
            raise ValueError(f"mixing matrix {problem}")
    return W.copy()


def ring(n_nodes, weights="uniform"):
    """Cycle of ``n_nodes`` nodes, ``i`` joined to ``i + 1 mod n`` (one edge for two nodes).

    With ``"uniform"`` weights every node keeps ``1/3`` and gives ``1/3`` to each
    neighbour, the ring of the CHOCO-SGD experiments.
    """
    n = _check_count(n_nodes, "n_nodes", 2)
    A = np.zeros((n, n), dtype=bool)
    idx = np.arange(n)
    A[idx, (idx + 1) % n] = A[(idx + 1) % n, idx] = True
    return Topology(A, weights, name=f"ring({n})")


def torus(rows, cols, weights="uniform"):
    """2-D torus (grid with wrap-around) of ``rows x cols`` nodes, numbered row-major.

    Node ``(r, c)`` is joined to ``(r +- 1, c)`` and ``(r, c +- 1)`` modulo the sides; a side
    of length 2 gives one neighbour in that direction instead of two (so ``torus(2, 4)``,
    eight nodes, has degree 3), a side of length 1 none.
    """
    rows = _check_count(rows, "rows", 1)
    cols = _check_count(cols, "cols", 1)
    n = rows * cols
    if n < 2:
        raise ValueError("a torus needs at least two nodes")
    A = np.zeros((n, n), dtype=bool)
    for r in range(rows):
        for c in range(cols):
            i = r * cols + c
            for j in (((r + 1) % rows) * cols + c, r * cols + (c + 1) % cols):
                if j != i:
                    A[i, j] = A[j, i] = True
    return Topology(A, weights, name=f"torus({rows}x{cols})")


def complete(n_nodes, weights="uniform"):
    """Every pair joined; with ``"uniform"`` weights ``W = 11^T / n`` (exact averaging)."""
    n = _check_count(n_nodes, "n_nodes", 1)
    return Topology(~np.eye(n, dtype=bool), weights, name=f"complete({n})")


def erdos_renyi(n_nodes, p, seed=None, weights="metropolis", max_tries=1000):
    """Random graph with each edge present independently with probability ``p``.

    Graphs are drawn until a connected one comes up (at most ``max_tries`` draws), so the
    result is an Erdos-Renyi graph conditioned on connectivity.

    Raises
    ------
    ValueError
        If ``p`` is outside ``(0, 1]`` or no connected graph came up in ``max_tries`` draws
        (``p`` far below the connectivity threshold ``log(n) / n``).
    """
    n = _check_count(n_nodes, "n_nodes", 1)
    if not 0.0 < p <= 1.0:
        raise ValueError(f"edge probability p must be in (0, 1], got {p}")
    rng = np.random.default_rng(seed)
    for _ in range(max_tries):
        upper = np.triu(rng.random((n, n)) < p, k=1)
        A = upper | upper.T
        if connected_components(A, directed=False)[0] == 1:
            return Topology(A, weights, name=f"erdos_renyi({n}, p={p})")
    raise ValueError(f"no connected Erdos-Renyi graph with n={n}, p={p} in {max_tries} draws; "
                     f"use p above log(n)/n = {np.log(n) / n:.3f}")


def _check_count(value, name, minimum):
    if int(value) != value or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)
