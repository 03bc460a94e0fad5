"""The ATO controller network and its FLOPs regulariser (Wu et al., CVPR 2024)."""

from .._torch import require_torch

torch = require_torch()
nn = torch.nn


class Controller(nn.Module):
    r"""Controller network: one binary mask per channel group, from a BiGRU over layers.

    Group (layer) ``l`` has a fixed, orthogonally initialised embedding
    :math:`e_l \in \mathbb{R}^{d}` (not trained). A bidirectional GRU reads
    :math:`e_1, \dots, e_L` as a sequence, so every layer's decision sees every other
    layer's; each output :math:`h_l \in \mathbb{R}^{2H}` goes through a shared LayerNorm and
    a ReLU, then a head :math:`W_l \in \mathbb{R}^{C_l \times 2H}` without bias gives one
    logit :math:`o_{l,c}` per channel. The relaxed mask is a Gumbel-sigmoid

    .. math:: s = \sigma\left(\frac{o + g + b}{T}\right), \qquad
              g = -\log(-\log(u + 10^{-20}) + 10^{-20}), \quad u \sim U(0, 1),

    with temperature ``T = 0.4`` and offset ``b = 3`` (so that the first masks keep nearly
    every channel), and the hard mask is :math:`\mathbf{1}[s \ge 1/2]` with the
    straight-through gradient of ``s``. This is the hypernetwork of Wu et al., "Auto-Train-
    Once", CVPR 2024 (after Gao et al.'s earlier controller-based pruning), with their
    sizes: ``d = 64``, ``H = 128``. The noise is drawn in training and evaluation mode alike,
    as there.

    Parameters
    ----------
    sizes : sequence of int
        Channels per group, ``C_1, ..., C_L``.
    embed_dim, hidden : int
        ``d`` and ``H``.
    temperature, offset : float
        ``T`` and ``b``.
    """

    def __init__(self, sizes, embed_dim=64, hidden=128, temperature=0.4, offset=3.0):
        super().__init__()
        self.sizes = [int(s) for s in sizes]
        self.temperature, self.offset = temperature, offset
        embeddings = torch.empty(len(self.sizes), embed_dim)
        nn.init.orthogonal_(embeddings)
        self.register_buffer("embeddings", embeddings.unsqueeze(1))
        self.gru = nn.GRU(embed_dim, hidden, bidirectional=True)
        self.norm = nn.LayerNorm(2 * hidden)
        self.heads = nn.ModuleList(nn.Linear(2 * hidden, s, bias=False) for s in self.sizes)

    def logits(self):
        """The channel logits ``o``, all groups concatenated."""
        h, _ = self.gru(self.embeddings)
        h = torch.relu(self.norm(h[:, 0]))
        return torch.cat([head(h[l]) for l, head in enumerate(self.heads)])

    def forward(self, generator=None):
        """The relaxed mask ``s`` (one sample of the Gumbel noise)."""
        o = self.logits()
        u = torch.rand(o.shape, generator=generator, dtype=o.dtype)
        g = -torch.log(-torch.log(u + 1e-20) + 1e-20)
        return torch.sigmoid((o + g + self.offset) / self.temperature)

    @staticmethod
    def harden(soft):
        """``1[s >= 1/2]`` with the gradient of ``s`` (straight-through)."""
        hard = (soft >= 0.5).to(soft.dtype)
        return hard - soft.detach() + soft

    def param_groups(self, weight_decay):
        """AdamW groups: no weight decay on biases and normalisation parameters."""
        decay = [p for n, p in self.named_parameters() if n.endswith("weight") and p.dim() > 1]
        rest = [p for n, p in self.named_parameters() if not (n.endswith("weight")
                                                                and p.dim() > 1)]
        return [{"params": decay, "weight_decay": weight_decay},
                {"params": rest, "weight_decay": 0.0}]


def flops_regularizer(ratio, target, band=0.005):
    r"""ATO's FLOPs penalty: zero gradient within ``band`` of the target, log outside.

    .. math::

       R(r, p) = \begin{cases}
         \log\big(\max(r, p + \delta) / p\big) & r > p, \\
         \log\big(p / \min(r, p - \delta)\big) & r \le p,
       \end{cases}

    with :math:`r` the kept FLOPs fraction of the masked network, :math:`p` the target and
    :math:`\delta` = ``band`` (Wu et al., 2024).
    """
    if float(ratio.detach()) > target:
        return torch.log(torch.clamp(ratio, min=target + band) / target)
    return torch.log(target / torch.clamp(ratio, max=target - band))
