"""Structured (channel) pruning of torch models: Auto-Train-Once and baselines.

- :class:`AutoTrainOnce` -- Wu et al., "Auto-Train-Once: Controller Network Guided
  Automatic Network Pruning from Scratch", CVPR 2024 (arXiv 2403.14729): a controller
  network chooses which channels to drop under a FLOPs budget while the network trains from
  scratch; a group proximal step drives the dropped channels to exactly zero, and they are
  removed at the end without fine-tuning.
- :class:`L1FilterPruning` -- Li et al., "Pruning Filters for Efficient ConvNets", ICLR
  2017: train, remove the filters of smallest l1 norm, fine-tune.
- :class:`GroupLassoPruning` -- proximal SGD on the group lasso of every channel (the
  convex side's penalty applied to channels), then the budget's smallest groups are zeroed.
- :class:`DenseTrainer` -- the same training loop without pruning, the reference.

:class:`ChannelGroups` finds the channels that must be removed together with
Torch-Pruning's dependency graph, counts FLOPs under a mask, and removes channels
physically; :func:`count_cost` counts FLOPs and parameters per layer.

Importing this package never imports torch or torch_pruning: the names below are loaded
on first access, and raise an ImportError that says ``pip install sksafe[torch]`` when
those are missing.
"""
import importlib

_LAZY = {"ChannelGroups": "_groups", "ChannelGroup": "_groups",
         "count_cost": "_cost", "layer_cost": "_cost", "CostReport": "_cost",
         "LayerCost": "_cost",
         "Controller": "_controller", "flops_regularizer": "_controller",
         "AutoTrainOnce": "_methods", "L1FilterPruning": "_methods",
         "GroupLassoPruning": "_methods", "DenseTrainer": "_methods",
         "budget_mask": "_methods"}

__all__ = sorted(_LAZY)


def __getattr__(name):
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(_LAZY))
