"""Decentralized learning with compressed communication (torch models; torch optional).

Malcom-PSGD (Campbell, Liu, Woldemariam & Scaglione, arXiv 2311.05760) and its
baselines CHOCO-SGD and decentralized SGD, for any ``torch.nn.Module``, simulated in one
process or run over ``torch.distributed`` (gloo). The building blocks are NumPy and need
no torch: :mod:`~sksafe.nn.topology` (graphs and mixing matrices),
:mod:`~sksafe.nn.coding` (Elias/Golomb bitstreams), :mod:`~sksafe.nn.compression`
(quantisers and sparsifiers), :mod:`~sksafe.nn.gossip` (the algorithm on NumPy vectors)
and :mod:`~sksafe.nn.data` (splits). Importing this package never imports torch; the
torch-backed objects (:mod:`~sksafe.nn.optim`, the distributed network) import it when
they are created and raise an ImportError that says ``pip install sksafe[torch]`` when it
is missing.

:mod:`sksafe.nn.pruning` prunes channels of torch models during training: Auto-Train-Once
(Wu et al., CVPR 2024) and the l1-filter and group-lasso baselines, with channel groups found
by Torch-Pruning; it is loaded lazily as well.
"""
from . import pruning
from .compression import QSGD, Compressor, Float32, RandomK, Sign, TopK
from .data import split_by_label, split_iid
from .gossip import GossipSGD
from .network import (LocalNetwork, NodeFailureError, TorchDistributedNetwork,
                      run_distributed)
from .optim import DSGD, ChocoSGD, DecentralizedOptimizer, MalcomPSGD
from .topology import Topology, complete, erdos_renyi, ring, torus

__all__ = ["pruning", "Topology", "ring", "torus", "complete", "erdos_renyi",
           "Compressor", "QSGD", "TopK", "RandomK", "Sign", "Float32",
           "GossipSGD", "LocalNetwork", "TorchDistributedNetwork", "NodeFailureError",
           "run_distributed", "DecentralizedOptimizer", "MalcomPSGD", "ChocoSGD", "DSGD",
           "split_iid", "split_by_label"]
