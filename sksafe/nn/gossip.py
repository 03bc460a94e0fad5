r"""The decentralized proximal SGD engine with compressed gossip (NumPy, no torch).

Problem (Campbell, Liu, Woldemariam & Scaglione, "Compressed and sparse models for
non-convex decentralized learning", arXiv 2311.05760, the Malcom-PSGD paper):

.. math:: \min_{x \in \mathbb{R}^d} \; \frac{1}{N} \sum_{i=1}^N F_i(x) + \mu \|x\|_1,

``F_i`` the (possibly non-convex) expected loss of node ``i``. Every node keeps its model
``x_i`` and *public copies* ``x̂_j`` of itself and of its neighbours, all starting at
zero, and only ever sends compressed differences, as in CHOCO-SGD (Koloskova, Stich &
Jaggi, ICML 2019; Koloskova, Lin, Stich & Jaggi, ICLR 2020). One iteration of the default
order (``"prox_first"``, Algorithm 1 of Malcom-PSGD as reconstructed in our notes), with
learning rate ``eta_t``, consensus rate ``gamma_t``, mixing matrix ``W`` and the soft
threshold :math:`S_\tau(u) = \mathrm{sign}(u) \max(|u| - \tau, 0)`:

.. math::

   x_i^{t+1/2} &= S_{\eta_t \mu}\big(x_i^t - \eta_t g_i^t\big),
       \qquad g_i^t = \nabla f(x_i^t; \xi_i^t) \\
   q_i &= Q\big(x_i^{t+1/2} - \hat x_i^t\big) \quad \text{(encoded, sent, decoded)} \\
   \hat x_j^{t+1} &= \hat x_j^t + q_j \quad \text{for } j = i \text{ and its neighbours} \\
   x_i^{t+1} &= x_i^{t+1/2} + \gamma_t \sum_j w_{ij} \big(\hat x_j^{t+1} - \hat x_i^{t+1}\big).

The other orders: ``"prox_last"`` takes a plain SGD step and applies the soft threshold
after the consensus step, :math:`x_i^{t+1} = S_{\eta_t\mu}(x_i^{t+1/2} + \gamma_t \sum_j
w_{ij}(\hat x_j^{t+1} - \hat x_i^{t+1}))`; ``"gossip_first"`` is the order of the CHOCO-SGD
convex code: the proximal gradient step, then the consensus step with the *old* public
copies, then quantise ``x_i^{t+1} - x̂_i^t``. With ``mu = 0`` and the default order this
is CHOCO-SGD; with :class:`~sksafe.nn.compression.Float32` and ``gamma = 1`` it is
uncompressed decentralized SGD, :math:`x_i^{t+1} = \sum_j w_{ij} x_j^{t+1/2}` (up to float32 rounding).

The engine runs the nodes a *network* hosts: all of them for
:class:`~sksafe.nn.network.LocalNetwork` (in-process simulation), one for
:class:`~sksafe.nn.network.TorchDistributedNetwork`. The arithmetic is the same in both,
in the same order, with per-node random streams seeded by ``(seed, node)``, so the two
executors give bit-identical trajectories.
"""
import numpy as np

from .compression import Compressor

__all__ = ["GossipSGD", "soft_threshold", "ORDERS"]

#: the step orders of :class:`GossipSGD`
ORDERS = ("prox_first", "prox_last", "gossip_first")


def soft_threshold(u, tau):
    """``S_tau(u) = sign(u) max(|u| - tau, 0)``, the proximal operator of ``tau ||.||_1``."""
    if tau == 0.0:
        return u
    return np.sign(u) * np.maximum(np.abs(u) - tau, 0.0)


def _schedule(value, name, check):
    """A callable ``t -> value`` from a constant or a callable, checked at every use."""
    if callable(value):
        return lambda t: check(float(value(t)), f"{name}({t})")
    check(float(value), name)
    return lambda t: float(value)


def _check_gamma(gamma, name):
    if not 0.0 < gamma <= 1.0:
        raise ValueError(f"the consensus rate {name} must be in (0, 1], got {gamma}")
    return gamma


def _check_nonnegative(value, name):
    if not value >= 0.0:
        raise ValueError(f"{name} must be >= 0, got {value}")
    return value


class GossipSGD:
    """Decentralized proximal SGD with compressed gossip of public copies (see module doc).

    Parameters
    ----------
    network : LocalNetwork or TorchDistributedNetwork
        Says which nodes this process hosts and carries the messages.
    x0 : sequence of ndarray
        Initial model of each hosted node (in ``network.nodes`` order), all of length
        ``d``.
    compressor : Compressor
        How residuals are compressed and coded (e.g. :class:`~sksafe.nn.compression.QSGD`).
    lr : float or callable
        Learning rate ``eta_t`` (``>= 0``), a constant or a function of the iteration ``t``.
    mu : float
        Weight of the l1 penalty (``0``: no proximal step).
    gamma : float or callable
        Consensus rate ``gamma_t in (0, 1]``, a constant or a function of ``t``.
    order : {"prox_first", "prox_last", "gossip_first"}
        Step order (see the module docstring).
    seed : int
        Node ``i`` draws its dither from ``numpy.random.default_rng([seed, i])``.
    record_entropy : bool
        Also record ``d H(z)`` of every quantised message (``entropy_bound_sent``).

    Attributes
    ----------
    models : list of ndarray
        ``x_i`` of every hosted node (float64, updated in place).
    t : int
        Iterations done.
    bits_sent : ndarray of int64
        Cumulative bits each hosted node has sent (8 x message bytes; one message per
        iteration goes to all neighbours).
    last_bits : ndarray of int64
        Bits of each hosted node's last message.
    entropy_bound_sent : ndarray of float
        Cumulative ``d H(z)`` of the messages (with ``record_entropy=True``).
    """

    def __init__(self, network, x0, *, compressor, lr, mu=0.0, gamma=1.0, order="prox_first",
                 seed=0, record_entropy=False):
        if not isinstance(compressor, Compressor):
            raise ValueError(f"compressor must be a sksafe.nn.compression.Compressor, "
                             f"got {compressor!r}")
        if order not in ORDERS:
            raise ValueError(f"order must be one of {ORDERS}, got {order!r}")
        self.network = network
        self.topology = network.topology
        self.nodes = tuple(network.nodes)
        if len(x0) != len(self.nodes):
            raise ValueError(f"{len(x0)} initial models for the {len(self.nodes)} hosted nodes")
        self.models = [np.array(x, dtype=np.float64).ravel() for x in x0]
        self.dim = self.models[0].size
        if any(x.size != self.dim for x in self.models):
            raise ValueError("all nodes must have models of the same size")
        self.compressor = compressor
        self.lr = _schedule(lr, "lr", _check_nonnegative)
        self.gamma = _schedule(gamma, "gamma", _check_gamma)
        self.mu = _check_nonnegative(float(mu), "mu")
        self.order = order
        self.record_entropy = record_entropy
        known = set(self.nodes)
        for i in self.nodes:
            known.update(self.topology.neighbors(i))
        self.public = {j: np.zeros(self.dim) for j in sorted(known)}
        self._rngs = [np.random.default_rng([seed, i]) for i in self.nodes]
        self.t = 0
        self.bits_sent = np.zeros(len(self.nodes), dtype=np.int64)
        self.last_bits = np.zeros(len(self.nodes), dtype=np.int64)
        self.entropy_bound_sent = np.zeros(len(self.nodes))

    def _mixing(self, i):
        """``sum_j w_ij (x̂_j - x̂_i)`` over the neighbours, in increasing ``j``."""
        row = self.topology.mixing_matrix[i]
        own = self.public[i]
        total = np.zeros(self.dim)
        for j in self.topology.neighbors(i):
            total += row[j] * (self.public[j] - own)
        return total

    def step(self, grads):
        """One iteration with the stochastic gradients ``grads`` of the hosted nodes.

        Raises
        ------
        ValueError
            If a gradient has the wrong size or a schedule gives a value out of range.
        NodeFailureError
            From a distributed network when a neighbour died or did not answer in time.
        """
        if len(grads) != len(self.nodes):
            raise ValueError(f"{len(grads)} gradients for the {len(self.nodes)} hosted nodes")
        eta, gamma = self.lr(self.t), self.gamma(self.t)
        tau = eta * self.mu if self.order != "prox_last" else 0.0
        halves, messages = [], {}
        for k, i in enumerate(self.nodes):
            g = np.asarray(grads[k], dtype=np.float64).ravel()
            if g.size != self.dim:
                raise ValueError(f"gradient of node {i} has size {g.size}, expected {self.dim}")
            half = soft_threshold(self.models[k] - eta * g, tau)
            if self.order == "gossip_first":
                half = half + gamma * self._mixing(i)
            messages[i] = self.compressor.encode(half - self.public[i], self._rngs[k])
            halves.append(half)
        received = self.network.exchange(messages)
        for j in sorted(self.public):
            self.public[j] += self.compressor.decode(received[j], self.dim)
        for k, i in enumerate(self.nodes):
            if self.order == "gossip_first":
                new = halves[k]
            else:
                new = halves[k] + gamma * self._mixing(i)
                if self.order == "prox_last":
                    new = soft_threshold(new, eta * self.mu)
            self.models[k][:] = new
            bits = 8 * len(messages[i])
            self.last_bits[k] = bits
            self.bits_sent[k] += bits
            if self.record_entropy:
                self.entropy_bound_sent[k] += self.compressor.entropy_bound(messages[i], self.dim)
        self.t += 1

    def _require_all_nodes(self):
        if len(self.nodes) != self.topology.n_nodes:
            raise ValueError("needs every node's model: only available when this process "
                             "hosts all nodes (LocalNetwork)")

    def average(self):
        """``x̄ = (1/N) sum_i x_i`` (all nodes must be hosted here)."""
        self._require_all_nodes()
        return np.mean(self.models, axis=0)

    def consensus_error(self):
        """``(1/N) sum_i ||x_i - x̄||^2`` (all nodes must be hosted here)."""
        mean = self.average()
        return float(np.mean([np.sum((x - mean) ** 2) for x in self.models]))
