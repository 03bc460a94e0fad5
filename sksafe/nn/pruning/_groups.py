"""Zero-invariant channel groups of a torch model, found with Torch-Pruning.

A *channel group* is a set of channels that must be removed together: the output channel
``c`` of a convolution, the matching scale and shift of the batch normalisation after it,
every other layer whose output is added to it (residual connections), and the input
channel of every layer that reads it, through concatenations and flattening included.
Torch-Pruning's dependency graph (Fang et al., "DepGraph: Towards any structural pruning",
CVPR 2023) traces the model through autograd and finds these couplings for arbitrary
graphs; this module checks its answer, turns it into index maps, and adds what pruning
*during* training needs: a differentiable FLOPs count of a masked model, gates, the group
proximal step, and physical removal checked against the masked model.

The parameters of a group that produce channel ``c`` (filter ``c`` of each convolution or
row ``c`` of each linear layer, their biases, and the scale and shift of each batch
normalisation) form the zero-invariant group (ZIG) of Chen et al. (OTO, NeurIPS 2021):
when they are all zero the channel is zero after every supported layer, so removing it,
and the matching inputs of the layers that read it, leaves the network's function
unchanged.
"""
import copy
from dataclasses import dataclass

import numpy as np

from .._torch import require_torch
from ._cost import (COUNTED_TYPES, CostReport, LayerCost, _channels, is_depthwise, layer_cost,
                    trace_layers)

torch = require_torch()
nn = torch.nn

try:
    import torch_pruning as tp
except ImportError as exc:  # pragma: no cover - exercised only without torch-pruning
    raise ImportError("sksafe.nn.pruning needs Torch-Pruning for channel-group discovery: "
                      "install it with `pip install sksafe[torch]`") from exc

# Layers that map a zero channel to a zero channel (f(0) = 0, per-channel or positively
# homogeneous), so that zeroing a group and removing it give the same network.
ZERO_PRESERVING = (nn.ReLU, nn.ReLU6, nn.LeakyReLU, nn.GELU, nn.SiLU, nn.Tanh, nn.Hardswish,
                   nn.ELU, nn.Mish, nn.Identity, nn.Dropout, nn.Dropout1d, nn.Dropout2d,
                   nn.MaxPool1d, nn.MaxPool2d, nn.AvgPool1d, nn.AvgPool2d,
                   nn.AdaptiveAvgPool1d, nn.AdaptiveAvgPool2d, nn.AdaptiveMaxPool1d,
                   nn.AdaptiveMaxPool2d, nn.Flatten)
_CONV = nn.modules.conv._ConvNd
_BN = nn.modules.batchnorm._BatchNorm


def _check_layers(model):
    """Refuse layers whose channels are not zero-invariant, naming the first one found."""
    for name, module in model.named_modules():
        own = list(module.parameters(recurse=False))
        if isinstance(module, COUNTED_TYPES):
            if isinstance(module, _CONV) and 1 < module.groups and not is_depthwise(module):
                raise ValueError(f"unsupported layer {name!r} ({type(module).__name__} with "
                                 f"groups={module.groups}): only groups=1 and depthwise "
                                 "convolutions can be pruned")
            if isinstance(module, _BN) and not module.affine:
                raise ValueError(f"unsupported layer {name!r} ({type(module).__name__} with "
                                 "affine=False): a zeroed channel would come out as "
                                 "-mean/std, not zero")
        elif own or (not list(module.children()) and not isinstance(module, ZERO_PRESERVING)):
            raise ValueError(f"unsupported layer {name!r} ({type(module).__name__}): channel "
                             "pruning supports Conv1d/Conv2d, Linear, BatchNorm1d/2d and "
                             "zero-preserving parameter-free layers (activations with "
                             "f(0) = 0, pooling, dropout, flatten)")


@dataclass
class ChannelGroup:
    """One prunable channel group.

    Attributes
    ----------
    name : str
        The layer whose output channels define the group (Torch-Pruning's root layer).
    size : int
        Number of channels.
    producers : list of (str, Module, ndarray)
        Layers whose *output* channels belong to the group (convolutions, linear layers,
        batch normalisations) with, for each of their channels, its channel in the group.
    consumers : list of (str, Module, ndarray)
        Layers whose *inputs* read the group, with the group channel of each input
        (a linear layer after ``flatten`` reads every channel at many inputs).
    """

    name: str
    size: int
    producers: list
    consumers: list


class ChannelGroups:
    """The prunable channel groups of a model, and what pruning needs to know about them.

    Parameters
    ----------
    model : torch.nn.Module
        Built from convolutions (groups 1 or depthwise), linear layers, batch
        normalisations with ``affine=True`` and zero-preserving parameter-free layers, in
        any graph (residual additions, concatenations, flattening); other layers raise a
        ValueError that names them. Channels that reach the model's output are not
        prunable (they are the output).
    example_inputs : torch.Tensor or tuple of torch.Tensor
        A batch the model accepts, used to trace it.
    ignored_layers : sequence of torch.nn.Module, optional
        Layers whose output channels must be kept; their groups are left out.

    Attributes
    ----------
    groups : list of ChannelGroup
    sizes : list of int
        Channels per group; a *mask* is a 1-D tensor of length ``sum(sizes)`` (group after
        group, 1 = keep), or a list of per-group arrays.
    dense_flops, dense_params : int
        Counted FLOPs (:func:`~sksafe.nn.pruning.count_cost`) and parameters of the model.

    Notes
    -----
    Torch-Pruning 1.6 mis-maps the channels of a concatenation that is flattened straight
    into a linear layer; the index maps are checked (every channel of every layer owned by
    at most one group, every group channel produced by every producer) and such a model is
    refused with a ValueError rather than pruned wrongly. :meth:`prune` also compares the
    pruned and the masked model on ``example_inputs``.
    """

    def __init__(self, model, example_inputs, ignored_layers=()):
        _check_layers(model)
        self.model = model
        self.example_inputs = example_inputs
        self._names = {m: n for n, m in model.named_modules()}
        graph = tp.DependencyGraph().build_dependency(model, example_inputs, verbose=False)
        self._layers = trace_layers(model, example_inputs)
        # execution order, so that the controller's GRU reads the layers input to output
        position = {}
        for i, (name, _, _) in enumerate(self._layers):
            position.setdefault(name, i)
        groups = (self._convert(graph, group)
                  for group in graph.get_all_groups(ignored_layers=list(ignored_layers)))
        self.groups = sorted((g for g in groups if g is not None),
                             key=lambda g: position[g.name])
        if not self.groups:
            raise ValueError("the model has no prunable channel groups: every channel of its "
                             "convolutions and linear layers reaches the output or is ignored")
        self.sizes = [g.size for g in self.groups]
        self.offsets = np.concatenate([[0], np.cumsum(self.sizes)])
        self.n_channels = int(self.offsets[-1])
        self._index_maps()
        self.dense_flops, self.dense_params = (int(v) for v in self.cost(None))

    def _convert(self, graph, group):
        producers, consumers, sink = [], [], False
        root = group[0].dep.target.module
        for item in group:
            node, module = item.dep.target, item.dep.target.module
            is_out = graph.is_out_channel_pruning_fn(item.dep.handler)
            if is_out and not node.outputs:
                sink = True
            if not isinstance(module, COUNTED_TYPES):
                continue
            entry = (self._names[module], module, np.asarray(item.root_idxs, dtype=np.int64),
                     np.asarray(item.idxs, dtype=np.int64))
            (producers if is_out else consumers).append(entry)
        if sink:
            return None
        size = _channels(root)[1]
        checked = []
        for name, module, roots, idxs in producers:
            if sorted(idxs.tolist()) != list(range(_channels(module)[1])) or \
                    sorted(roots.tolist()) != list(range(size)):
                raise ValueError(f"Torch-Pruning could not resolve the channels of layer "
                                 f"{name!r} in the group of {self._names[root]!r} (a "
                                 "concatenation flattened into a linear layer?); pass it in "
                                 "ignored_layers or reshape the model")
            owner = np.empty(len(idxs), dtype=np.int64)
            owner[idxs] = roots
            checked.append((name, module, owner))
        readers = [(name, module, idxs, roots) for name, module, roots, idxs in consumers]
        return ChannelGroup(self._names[root], size, checked, readers)

    def _index_maps(self):
        """Per layer, the flat mask index of each input and output channel.

        Index ``n_channels`` stands for "not pruned" and reads a constant 1.
        """
        self._out_index, self._in_index = {}, {}
        for g, group in enumerate(self.groups):
            base = self.offsets[g]
            for name, module, owner in group.producers:
                self._claim(self._out_index, module, _channels(module)[1], np.arange(len(owner)),
                            base + owner, name, "output")
            for name, module, idxs, roots in group.consumers:
                self._claim(self._in_index, module, _channels(module)[0], idxs, base + roots,
                            name, "input")
        self._out_index = {m: torch.as_tensor(v) for m, v in self._out_index.items()}
        self._in_index = {m: torch.as_tensor(v) for m, v in self._in_index.items()}

    def _claim(self, table, module, n, idxs, flat, name, side):
        index = table.setdefault(module, np.full(n, self.n_channels, dtype=np.int64))
        if np.any(index[idxs] != self.n_channels):
            raise ValueError(f"Torch-Pruning assigned {side} channels of layer {name!r} to two "
                             "groups; pass it in ignored_layers or reshape the model")
        index[idxs] = flat

    # masks ---------------------------------------------------------------------------------
    def flat_mask(self, mask):
        """A mask as one float tensor of length ``n_channels`` (``None`` = keep all)."""
        if mask is None:
            return torch.ones(self.n_channels)
        if isinstance(mask, torch.Tensor):
            flat = mask.reshape(-1)
        else:
            flat = torch.as_tensor(np.concatenate([np.asarray(m, dtype=np.float32).ravel()
                                                   for m in mask]))
        if flat.numel() != self.n_channels:
            raise ValueError(f"a mask needs {self.n_channels} entries, one per channel of the "
                             f"{len(self.groups)} groups; got {flat.numel()}")
        return flat.to(torch.get_default_dtype())

    def split(self, mask):
        """The flat mask as a list of boolean arrays, one per group."""
        flat = self.flat_mask(mask).detach().cpu().numpy() > 0.5
        return [flat[a:b] for a, b in zip(self.offsets[:-1], self.offsets[1:])]

    def _padded(self, mask):
        flat = self.flat_mask(mask)
        return torch.cat([flat, flat.new_ones(1)])

    def cost(self, mask, per_layer=False):
        """FLOPs and parameters of the model with the channels of ``mask`` removed.

        Uses :func:`~sksafe.nn.pruning.layer_cost` with the kept channel counts; with a
        relaxed (0..1) or straight-through mask the FLOPs are differentiable in it. With
        ``per_layer=True`` returns a :class:`~sksafe.nn.pruning.CostReport` instead.
        """
        padded = self._padded(mask)
        total_flops, rows = 0, []
        counted = set()
        params = sum(p.numel() for p in self.model.parameters())
        for name, module, spatial in self._layers:
            c_in, c_out = _channels(module)
            kept_in = padded[self._in_index[module]].sum() if module in self._in_index else c_in
            kept_out = (padded[self._out_index[module]].sum() if module in self._out_index
                        else c_out)
            if isinstance(module, _BN):
                kept_in = kept_out
            flops, layer_params = layer_cost(module, kept_in, kept_out, spatial)
            _, full_params = layer_cost(module, c_in, c_out, spatial)
            total_flops = total_flops + flops
            if module not in counted:
                counted.add(module)
                params = params - full_params + layer_params
            rows.append(LayerCost(name, type(module).__name__, _int(kept_in), _int(kept_out),
                                  spatial, _int(flops), _int(layer_params)))
        if per_layer:
            return CostReport(rows, _int(params))
        return total_flops, params

    def gated(self, mask):
        """Context manager: multiply every input channel of a pruned layer by its mask value.

        The model then computes the masked network (for a 0/1 mask, exactly the pruned
        one) while its weights stay intact; with a relaxed mask it is differentiable in the
        mask. The gates of Wu et al. (2024) sit after batch norm and ReLU; gating the
        readers of a channel instead gives the same function through residual additions,
        concatenations and flattening, because the layers in between are per-channel and
        positively homogeneous.
        """
        return _Gates(self, mask)

    # parameters of the groups ------------------------------------------------------------
    def _producer_params(self):
        for g, group in enumerate(self.groups):
            for _, module, owner in group.producers:
                flat = torch.as_tensor(self.offsets[g] + owner)
                for p in (module.weight, module.bias):
                    if p is not None:
                        yield p, flat

    def group_norms(self):
        """Euclidean norm of each channel's ZIG (all producer parameters of the channel)."""
        sq = torch.zeros(self.n_channels, dtype=torch.float64)
        with torch.no_grad():
            for p, flat in self._producer_params():
                sq.index_add_(0, flat, p.detach().reshape(p.shape[0], -1).double().pow(2).sum(1))
        return sq.sqrt()

    def group_dims(self):
        """Number of parameters in each channel's ZIG."""
        dims = torch.zeros(self.n_channels, dtype=torch.float64)
        for p, flat in self._producer_params():
            dims.index_add_(0, flat, torch.full((len(flat),), p[0].numel(), dtype=torch.float64))
        return dims

    def proximal_step(self, thresholds):
        r"""Group soft-thresholding of every channel's ZIG, in place.

        For channel ``c`` with parameters :math:`v_c` and threshold :math:`\tau_c \ge 0`,

        .. math:: v_c \leftarrow \max\left(0, 1 - \frac{\tau_c}{\|v_c\|_2}\right) v_c,

        the proximal operator of :math:`\tau_c \|v_c\|_2` (group lasso; Yuan & Lin 2006).
        A group whose norm is at most :math:`\tau_c` becomes exactly zero, and a zero group
        stays zero.

        Parameters
        ----------
        thresholds : torch.Tensor of shape (n_channels,)
            :math:`\tau`; 0 leaves a channel unchanged.
        """
        norms = self.group_norms()
        tau = torch.as_tensor(thresholds, dtype=torch.float64)
        scale = torch.where(norms > tau, 1 - tau / norms.clamp_min(1e-300),
                            torch.zeros_like(norms))
        with torch.no_grad():
            for p, flat in self._producer_params():
                shape = (-1,) + (1,) * (p.dim() - 1)
                p.mul_(scale[flat].to(p.dtype).reshape(shape))

    def apply_mask(self, mask, model=None):
        """Zero the ZIG of every masked channel, in place (of ``model``, a copy of the
        traced model, when given): the *masked network*."""
        keep = self.flat_mask(mask) > 0.5
        params = self._producer_params()
        if model is not None:
            twin = dict(zip(self.model.parameters(), model.parameters()))
            params = ((twin[p], flat) for p, flat in params)
        with torch.no_grad():
            for p, flat in params:
                p.mul_(keep[flat].to(p.dtype).reshape((-1,) + (1,) * (p.dim() - 1)))
        return model if model is not None else self.model

    def prune(self, mask, check=True, atol=1e-5):
        """Physically remove the masked channels: a smaller copy of the model.

        Parameters
        ----------
        mask : tensor or list of arrays
            1 = keep. Every group must keep at least one channel.
        check : bool, default=True
            Compare the pruned copy with the masked network (:meth:`apply_mask` on a copy)
            on ``example_inputs`` in ``eval()`` mode and raise a RuntimeError if they differ
            by more than ``atol`` relative to the output scale.

        Returns
        -------
        torch.nn.Module
            A deep copy of the model with smaller layers (Torch-Pruning rewrites the
            weights, biases and running statistics of every coupled layer).
        """
        keep = self.split(mask)
        for group, k in zip(self.groups, keep):
            if not k.any():
                raise ValueError(f"the mask removes every channel of group {group.name!r}; "
                                 "keep at least one")
        pruned = copy.deepcopy(self.model)
        names = dict(pruned.named_modules())
        graph = tp.DependencyGraph().build_dependency(pruned, self.example_inputs,
                                                      verbose=False)
        for group, k in zip(self.groups, keep):
            drop = np.flatnonzero(~k).tolist()
            if drop:
                root = names[group.name]
                handler = graph.get_pruner_of_module(root).prune_out_channels
                graph.get_pruning_group(root, handler, drop).prune()
        if check:
            masked = self.apply_mask(mask, copy.deepcopy(self.model))
            self._compare(masked, pruned, atol)
        return pruned

    def _compare(self, masked, pruned, atol):
        inputs = self.example_inputs if isinstance(self.example_inputs, tuple) \
            else (self.example_inputs,)
        masked.eval()
        pruned.eval()
        with torch.no_grad():
            a, b = masked(*inputs), pruned(*inputs)
        scale = max(1.0, float(a.abs().max()))
        gap = float((a - b).abs().max())
        if gap > atol * scale:
            raise RuntimeError(f"the pruned model differs from the masked model by {gap:.3g}: "
                               "a layer or operation of this model is not zero-invariant")


def _int(value):
    return int(round(float(value.detach() if isinstance(value, torch.Tensor) else value)))


class _Gates:
    def __init__(self, groups, mask):
        self.groups, self.padded, self.handles = groups, groups._padded(mask), []

    def __enter__(self):
        for module, index in self.groups._in_index.items():
            gate = self.padded[index]
            self.handles.append(module.register_forward_pre_hook(
                lambda mod, args, gate=gate: _gate_input(mod, args, gate)))
        return self

    def __exit__(self, *exc):
        for h in self.handles:
            h.remove()


def _gate_input(module, args, gate):
    x = args[0]
    if isinstance(module, nn.Linear):
        return (x * gate.to(x.dtype),) + args[1:]
    return (x * gate.to(x.dtype).reshape((1, -1) + (1,) * (x.dim() - 2)),) + args[1:]
