"""Optimizer-like objects for torch models: Malcom-PSGD, CHOCO-SGD, decentralized SGD.

Each object wraps the ``nn.Module`` (or parameter list) of every node the network hosts,
flattens its parameters into one vector per node and runs :class:`~sksafe.nn.gossip.GossipSGD`
on them. It is used like a ``torch.optim`` optimizer: compute the loss of every hosted
node, call ``backward()``, then :meth:`~DecentralizedOptimizer.step` (which reads the
``.grad`` of the parameters, communicates, and writes the new parameters back) and
:meth:`~DecentralizedOptimizer.zero_grad`.
"""
import numpy as np

from ._torch import require_torch
from .compression import QSGD, Float32
from .gossip import GossipSGD

__all__ = ["DecentralizedOptimizer", "MalcomPSGD", "ChocoSGD", "DSGD"]


class DecentralizedOptimizer:
    """Decentralized proximal SGD with compressed gossip over torch parameters.

    Parameters
    ----------
    modules : sequence of torch.nn.Module or of iterables of tensors
        One entry per node hosted by ``network`` (all nodes for
        :class:`~sksafe.nn.network.LocalNetwork`, one for
        :class:`~sksafe.nn.network.TorchDistributedNetwork`), in ``network.nodes`` order.
        Every node's parameters are flattened into one vector of the same length ``d``.
    network : LocalNetwork or TorchDistributedNetwork
    compressor : Compressor
    lr, mu, gamma, order, seed, record_entropy
        As in :class:`~sksafe.nn.gossip.GossipSGD` (``lr`` and ``gamma`` may be functions
        of the iteration: learning-rate and consensus-rate schedules).

    Attributes
    ----------
    engine : GossipSGD
        The NumPy state (models in float64, public copies, bit counters).
    """

    def __init__(self, modules, network, *, compressor, lr, mu=0.0, gamma=1.0,
                 order="prox_first", seed=0, record_entropy=False):
        torch = require_torch()
        self._torch = torch
        modules = list(modules)
        if len(modules) != len(network.nodes):
            raise ValueError(f"{len(modules)} models given for the {len(network.nodes)} nodes "
                             "this network hosts")
        self.param_groups = [list(m.parameters()) if isinstance(m, torch.nn.Module) else list(m)
                             for m in modules]
        x0 = [self._flat(params, lambda p: p) for params in self.param_groups]
        self.engine = GossipSGD(network, x0, compressor=compressor, lr=lr, mu=mu, gamma=gamma,
                                order=order, seed=seed, record_entropy=record_entropy)

    def _flat(self, params, field):
        chunks = []
        for p in params:
            value = field(p)
            chunks.append(np.zeros(p.numel()) if value is None
                          else value.detach().reshape(-1).to(self._torch.float64).cpu().numpy())
        return np.concatenate(chunks)

    def zero_grad(self, set_to_none=True):
        """Reset the gradients of every hosted node's parameters."""
        for params in self.param_groups:
            for p in params:
                if set_to_none:
                    p.grad = None
                elif p.grad is not None:
                    p.grad.zero_()

    def step(self):
        """One iteration: proximal SGD step, compressed exchange, consensus; in place.

        Parameters without a gradient count as having a zero gradient.
        """
        grads = [self._flat(params, lambda p: p.grad) for params in self.param_groups]
        self.engine.step(grads)
        torch = self._torch
        with torch.no_grad():
            for params, x in zip(self.param_groups, self.engine.models):
                offset = 0
                for p in params:
                    chunk = torch.from_numpy(x[offset:offset + p.numel()]).view_as(p)
                    p.copy_(chunk)
                    offset += p.numel()

    @property
    def bits_sent(self):
        """Cumulative bits sent by each hosted node (8 x the bytes of its messages)."""
        return self.engine.bits_sent

    @property
    def t(self):
        """Number of iterations done."""
        return self.engine.t


class MalcomPSGD(DecentralizedOptimizer):
    """Malcom-PSGD: l1-proximal decentralized SGD, QSGD residuals, entropy-coded.

    Campbell, Liu, Woldemariam & Scaglione, "Compressed and sparse models for non-convex
    decentralized learning" (arXiv 2311.05760). The soft threshold keeps many parameters
    exactly zero on every node, so the quantised residuals are sparse and the vector code
    of :mod:`sksafe.nn.coding` sends them in far fewer bits than a fixed-length code.
    Defaults: ``QSGD(s=15, scaled=True)`` (entropy-coded; the scaled quantiser is a
    contraction, stable with ``gamma`` up to about 0.5 on models of thousands of
    parameters, where the unscaled one can diverge), ``mu=1e-4``, ``gamma=0.5``, order
    ``"prox_first"``; see :class:`DecentralizedOptimizer` for the parameters.
    """

    def __init__(self, modules, network, *, lr, mu=1e-4, gamma=0.5, compressor=None,
                 order="prox_first", seed=0, record_entropy=False):
        super().__init__(modules, network, compressor=compressor or QSGD(15, scaled=True),
                         lr=lr, mu=mu, gamma=gamma, order=order, seed=seed,
                         record_entropy=record_entropy)


class ChocoSGD(DecentralizedOptimizer):
    """CHOCO-SGD: decentralized SGD with compressed public copies, no l1, fixed-length code.

    Koloskova, Stich & Jaggi (ICML 2019); Koloskova, Lin, Stich & Jaggi (ICLR 2020).
    Defaults: ``QSGD(s=15, scaled=True, coding="fixed")`` (a fixed number of bits per
    coordinate, as its authors count them, plus the 32-bit norm), ``mu=0``, ``gamma=0.5``.
    """

    def __init__(self, modules, network, *, lr, gamma=0.5, compressor=None, mu=0.0,
                 order="prox_first", seed=0, record_entropy=False):
        compressor = compressor or QSGD(15, scaled=True, coding="fixed")
        super().__init__(modules, network, compressor=compressor, lr=lr, mu=mu, gamma=gamma,
                         order=order, seed=seed, record_entropy=record_entropy)


class DSGD(DecentralizedOptimizer):
    """Uncompressed decentralized SGD: ``x_i <- sum_j w_ij (x_j - eta g_j)``, 32-bit floats.

    Lian, Zhang, Zhang, Hsieh, Zhang & Liu, "Can decentralized algorithms outperform
    centralized algorithms?" (NeurIPS 2017), in its adapt-then-combine form; the engine
    with :class:`~sksafe.nn.compression.Float32` messages and ``gamma = 1``.
    """

    def __init__(self, modules, network, *, lr, mu=0.0, seed=0):
        super().__init__(modules, network, compressor=Float32(), lr=lr, mu=mu, gamma=1.0,
                         seed=seed)
