"""Counted FLOPs and parameters of the layers that structured pruning changes.

One formula per layer type, shared by :func:`count_cost` (a model as it is) and by
:class:`~sksafe.nn.pruning.ChannelGroups` (the same model with some channels masked, as a
differentiable function of the mask), so that the FLOPs the controller is trained against
are the FLOPs counted on the physically pruned model.
"""
from dataclasses import dataclass, field

from .._torch import require_torch

torch = require_torch()
nn = torch.nn

COUNTED_TYPES = (nn.Conv1d, nn.Conv2d, nn.Linear, nn.BatchNorm1d, nn.BatchNorm2d)


def is_depthwise(module):
    """A convolution with one filter per input channel (``groups == in == out``)."""
    return (isinstance(module, nn.modules.conv._ConvNd) and module.groups > 1
            and module.groups == module.in_channels == module.out_channels)


def layer_cost(module, kept_in, kept_out, spatial):
    """FLOPs and parameters of one layer with ``kept_in`` inputs and ``kept_out`` outputs.

    ``spatial`` is the number of output positions per sample and output channel (``H*W``
    for a 2-D convolution, 1 for a linear layer on vectors). FLOPs are multiply-accumulates,
    the convention of the pruning literature (ATO, Li et al. 2017):

    - convolution, kernel ``k_1 x ... x k_d``: ``prod(k) * c_in / groups * c_out * spatial``,
      plus ``c_out * spatial`` for the bias; a depthwise convolution has ``c_in / groups = 1``;
    - linear: ``c_in * c_out * spatial`` plus ``c_out * spatial`` for the bias;
    - batch normalisation (an affine map per channel at inference): ``2 * c * spatial``.

    ``kept_in`` and ``kept_out`` may be tensors (sums of a relaxed mask), which makes the
    result differentiable in the mask.
    """
    bias = getattr(module, "bias", None) is not None
    if isinstance(module, nn.modules.batchnorm._BatchNorm):
        return 2 * kept_out * spatial, 2 * kept_out
    if isinstance(module, nn.Linear):
        weights = kept_in * kept_out
    else:
        ksize = 1
        for k in module.kernel_size:
            ksize *= k
        fan_in = 1 if is_depthwise(module) else kept_in / module.groups
        weights = ksize * fan_in * kept_out
    params = weights + (kept_out if bias else 0)
    return params * spatial, params


@dataclass
class LayerCost:
    """One row of a :class:`CostReport`."""

    name: str
    kind: str
    in_channels: int
    out_channels: int
    spatial: int
    flops: int
    params: int


@dataclass
class CostReport:
    """Per-layer FLOPs and parameters of a model, as counted by :func:`count_cost`.

    Attributes
    ----------
    layers : list of LayerCost
        Convolutions, linear layers and batch normalisations, in execution order.
    flops : int
        Sum of the layers' FLOPs (multiply-accumulates per sample).
    params : int
        All parameters of the model (``sum(p.numel() for p in model.parameters())``).
    """

    layers: list = field(default_factory=list)
    params: int = 0

    @property
    def flops(self):
        return sum(layer.flops for layer in self.layers)

    def to_markdown(self):
        """The per-layer table as GitHub markdown."""
        lines = ["| layer | type | in | out | positions | FLOPs | params |",
                 "|---|---|---:|---:|---:|---:|---:|"]
        lines += [f"| {c.name} | {c.kind} | {c.in_channels} | {c.out_channels} | {c.spatial} "
                  f"| {c.flops:,} | {c.params:,} |" for c in self.layers]
        lines.append(f"| **total** | | | | | **{self.flops:,}** | **{self.params:,}** |")
        return "\n".join(lines)


def _channels(module):
    if isinstance(module, nn.Linear):
        return module.in_features, module.out_features
    if isinstance(module, nn.modules.batchnorm._BatchNorm):
        return module.num_features, module.num_features
    return module.in_channels, module.out_channels


def trace_layers(model, example_inputs):
    """Run the model once and return ``[(name, module, spatial)]`` for the counted layers.

    A layer called several times is recorded at every call (its cost is paid each time).
    """
    records = []

    def hook(module, inputs, output, name):
        c_out = _channels(module)[1]
        spatial = output.numel() // (output.shape[0] * c_out)
        if isinstance(module, nn.Linear) and output.dim() == 1:
            spatial = 1
        records.append((name, module, spatial))

    handles = [m.register_forward_hook(lambda mod, i, o, name=name: hook(mod, i, o, name))
               for name, m in model.named_modules() if isinstance(m, COUNTED_TYPES)]
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            model(*example_inputs) if isinstance(example_inputs, tuple) else model(example_inputs)
    finally:
        model.train(was_training)
        for h in handles:
            h.remove()
    return records


def count_cost(model, example_inputs):
    """Count the FLOPs and parameters of ``model``, layer by layer.

    Parameters
    ----------
    model : torch.nn.Module
    example_inputs : torch.Tensor or tuple of torch.Tensor
        A batch the model accepts (its size does not matter: FLOPs are per sample). The
        model is run once in ``eval()`` mode, without gradients, to find the output size of
        every layer.

    Returns
    -------
    CostReport
        One row per call of a convolution, linear layer or batch normalisation, with the
        FLOPs of :func:`layer_cost`; parameter-free layers (activations, pooling, additions)
        are not counted, as in the FLOPs models of Li et al. (2017) and Wu et al. (2024).
    """
    report = CostReport(params=sum(p.numel() for p in model.parameters()))
    for name, module, spatial in trace_layers(model, example_inputs):
        c_in, c_out = _channels(module)
        flops, params = layer_cost(module, c_in, c_out, spatial)
        report.layers.append(LayerCost(name, type(module).__name__, c_in, c_out, spatial,
                                       int(flops), int(params)))
    return report
