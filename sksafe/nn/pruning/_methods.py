"""Pruning trainers: Auto-Train-Once, the two baselines, and dense training.

All four share one training loop (AdamW, linear warm-up then cosine learning rate,
cross-entropy with label smoothing, shuffled mini-batches) so that they differ only in how
they choose and remove channels.
"""
import math
import time

import numpy as np

from .._torch import require_torch
from ._controller import Controller, flops_regularizer
from ._cost import count_cost
from ._groups import ChannelGroups

torch = require_torch()
nn = torch.nn
F = nn.functional


def _warmup_cosine(t, total, warmup, peak):
    """Learning rate at step ``t`` of ``total``: linear warm-up, then cosine decay to 0."""
    if t < warmup:
        return peak * (t + 1) / warmup
    return 0.5 * peak * (1 + math.cos(math.pi * (t - warmup) / max(1, total - warmup)))


def budget_mask(groups, scores, flops_target):
    """Remove the lowest-scoring channels until the kept FLOPs fraction is at most the target.

    Channels are removed in increasing ``scores`` order, except the best channel of every
    group, which is always kept; the number removed is the smallest that meets the budget,
    found by bisection (the FLOPs of the pruned model do not increase as channels go).

    Parameters
    ----------
    groups : ChannelGroups
    scores : array-like of shape (n_channels,)
    flops_target : float
        Kept fraction of the dense model's FLOPs, in (0, 1).

    Returns
    -------
    torch.Tensor of shape (n_channels,)
        The mask, 1 = keep.
    """
    scores = np.asarray(scores, dtype=np.float64)
    protected = {int(a + np.argmax(scores[a:b]))
                 for a, b in zip(groups.offsets[:-1], groups.offsets[1:])}
    order = [c for c in np.argsort(scores, kind="stable") if c not in protected]

    def mask_removing(n):
        mask = torch.ones(groups.n_channels)
        mask[order[:n]] = 0
        return mask

    def fits(n):
        return float(groups.cost(mask_removing(n))[0]) <= flops_target * groups.dense_flops

    if not fits(len(order)):
        raise ValueError(f"flops_target={flops_target} cannot be reached: keeping one channel "
                         f"per group leaves {_min_ratio(groups):.3f} of the FLOPs")
    lo, hi = 0, len(order)
    while lo < hi:
        mid = (lo + hi) // 2
        lo, hi = (lo, mid) if fits(mid) else (mid + 1, hi)
    return mask_removing(lo)


def _min_ratio(groups):
    mask = torch.zeros(groups.n_channels)
    mask[groups.offsets[:-1]] = 1
    return float(groups.cost(mask)[0]) / groups.dense_flops


class DenseTrainer:
    r"""Train a classifier without pruning: the shared loop, and the dense reference.

    Minimises the label-smoothed cross-entropy :math:`L(W)` with AdamW (Loshchilov &
    Hutter, 2019), learning rate warmed up linearly for ``warmup_epochs`` then decayed to 0
    on a cosine (the schedule of Wu et al., 2024).

    Parameters
    ----------
    model : torch.nn.Module
        Trained in place.
    example_inputs : torch.Tensor
        A batch the model accepts, used to trace it and count FLOPs.
    epochs, batch_size, lr, weight_decay, warmup_epochs, label_smoothing
        The training recipe.
    random_state : int
        Seeds the shuffling (and, in the subclasses, the controller and its noise).

    Attributes
    ----------
    pruned_model_ : torch.nn.Module
        The model to deploy (here ``model`` itself; a smaller copy in the subclasses).
    mask_ : list of ndarray of bool or None
        Kept channels per group (``None`` without pruning).
    cost_before_, cost_after_ : CostReport
        Counted FLOPs and parameters, per layer, of ``model`` before and of
        ``pruned_model_`` after training.
    flops_ratio_, params_ratio_ : float
        ``cost_after_`` over ``cost_before_``.
    epoch_times_ : list of float
        Wall time of every epoch's training steps (seconds; evaluation not included).
    history_ : list of dict
        Per epoch: ``loss`` (mean training loss), ``flops_ratio`` of the current mask,
        ``kept`` (channels kept), and ``val_accuracy`` of the masked network when validation
        data is given.
    """

    def __init__(self, model, example_inputs, *, epochs=60, batch_size=64, lr=1e-3,
                 weight_decay=5e-4, warmup_epochs=3, label_smoothing=0.1, random_state=0):
        if epochs < 1 or warmup_epochs < 0 or warmup_epochs >= epochs:
            raise ValueError(f"need epochs >= 1 and 0 <= warmup_epochs < epochs, got "
                             f"epochs={epochs}, warmup_epochs={warmup_epochs}")
        self.model, self.example_inputs = model, example_inputs
        self.epochs, self.batch_size, self.lr = epochs, batch_size, lr
        self.weight_decay, self.warmup_epochs = weight_decay, warmup_epochs
        self.label_smoothing, self.random_state = label_smoothing, random_state
        self.groups = None
        self.mask = None

    # the loop ----------------------------------------------------------------------------
    def fit(self, X, y, X_val=None, y_val=None):
        """Train (and prune) on tensors ``X`` (samples first) and integer labels ``y``."""
        if len(X) != len(y):
            raise ValueError(f"X has {len(X)} samples but y has {len(y)}")
        self._gen = torch.Generator().manual_seed(self.random_state)
        self.cost_before_ = count_cost(self.model, self.example_inputs)
        X, y = self._setup(X, y)
        self._net = self.model
        self._optimizer = self._make_optimizer(self._net)
        self.history_, self.epoch_times_ = [], []
        steps = max(1, math.ceil(len(X) / self.batch_size))
        for epoch in range(self.epochs):
            self._epoch_start(epoch)
            start, total = time.perf_counter(), 0.0
            order = torch.randperm(len(X), generator=self._gen)
            for i in range(steps):
                batch = order[i * self.batch_size:(i + 1) * self.batch_size]
                lr = self._lr(epoch, i, steps)
                for group in self._optimizer.param_groups:
                    group["lr"] = lr
                self._net.train()
                self._optimizer.zero_grad(set_to_none=True)
                loss = F.cross_entropy(self._net(X[batch]), y[batch],
                                       label_smoothing=self.label_smoothing)
                loss.backward()
                self._optimizer.step()
                total += loss.item()
                self._after_step(epoch, i, lr)
            self.epoch_times_.append(time.perf_counter() - start)
            self.history_.append(self._record(epoch, total / steps, X_val, y_val))
        self._finish()
        self.cost_after_ = count_cost(self.pruned_model_, self.example_inputs)
        self.flops_ratio_ = self.cost_after_.flops / self.cost_before_.flops
        self.params_ratio_ = self.cost_after_.params / self.cost_before_.params
        return self

    def _make_optimizer(self, net):
        return torch.optim.AdamW(net.parameters(), lr=self.lr, weight_decay=self.weight_decay)

    def _lr(self, epoch, i, steps):
        return _warmup_cosine(epoch * steps + i, self.epochs * steps,
                              self.warmup_epochs * steps, self.lr)

    def _setup(self, X, y):
        return X, y

    def _epoch_start(self, epoch):
        pass

    def _after_step(self, epoch, i, lr):
        pass

    def _finish(self):
        self.pruned_model_, self.mask_ = self.model, None

    def _record(self, epoch, loss, X_val, y_val):
        row = {"epoch": epoch, "loss": loss, "time": self.epoch_times_[-1]}
        if self.groups is not None and self._net is self.model:
            row["flops_ratio"] = float(self.groups.cost(self.mask)[0]) / self.groups.dense_flops
            row["kept"] = int(self.groups.flat_mask(self.mask).sum())
        if X_val is not None:
            if self.groups is not None and self._net is self.model:
                with self.groups.gated(self.mask):
                    row["val_accuracy"] = _accuracy(self._net, X_val, y_val)
            else:
                row["val_accuracy"] = _accuracy(self._net, X_val, y_val)
        return row

    def score(self, X, y):
        """Accuracy of ``pruned_model_`` on ``(X, y)``."""
        return _accuracy(self.pruned_model_, X, y)

    def summary(self):
        """FLOPs, parameters and epoch time before/after, as a dict."""
        return {"flops_before": self.cost_before_.flops, "flops_after": self.cost_after_.flops,
                "params_before": self.cost_before_.params,
                "params_after": self.cost_after_.params, "flops_ratio": self.flops_ratio_,
                "params_ratio": self.params_ratio_,
                "epoch_time": float(np.mean(self.epoch_times_))}


def _accuracy(model, X, y, batch=1024):
    was = model.training
    model.eval()
    with torch.no_grad():
        hits = sum(int((model(X[i:i + batch]).argmax(1) == y[i:i + batch]).sum())
                   for i in range(0, len(X), batch))
    model.train(was)
    return hits / len(X)


class _Pruner(DenseTrainer):
    """The loop plus a FLOPs target, channel groups and the group proximal projection."""

    def __init__(self, model, example_inputs, *, flops_target, ignored_layers=(), **kwargs):
        if not 0 < flops_target < 1:
            raise ValueError(f"flops_target (the kept fraction of FLOPs) must be in (0, 1), "
                             f"got {flops_target}")
        super().__init__(model, example_inputs, **kwargs)
        self.flops_target = flops_target
        self.groups = ChannelGroups(model, example_inputs, ignored_layers)
        if _min_ratio(self.groups) > flops_target:
            raise ValueError(f"flops_target={flops_target} cannot be reached: keeping one "
                             f"channel per group leaves {_min_ratio(self.groups):.3f} of the "
                             "FLOPs")

    def _schedule(self, projection_start, lambda_switch, freeze_epoch):
        """Defaults scaled from the paper's schedule; checks the order of the phases."""
        e, w = self.epochs, self.warmup_epochs
        self.projection_start = e // 5 if projection_start is None else projection_start
        self.lambda_switch = (e - w) // 2 if lambda_switch is None else lambda_switch
        self.freeze_epoch = (self.lambda_switch + max(1, e // 12) if freeze_epoch is None
                             else freeze_epoch)
        if not (0 <= self.projection_start <= self.lambda_switch <= self.freeze_epoch < e):
            raise ValueError("need 0 <= projection_start <= lambda_switch <= freeze_epoch < "
                             f"epochs, got {self.projection_start}, {self.lambda_switch}, "
                             f"{self.freeze_epoch}, {e}")

    def _project(self, lam, lr, weights=None):
        r"""Proximal step on the masked channels, threshold ``lam * lr * weight``.

        Without ``weights``, a masked channel of group ``l`` gets ATO's weight: the fraction
        of all masked channels that lie in group ``l``.
        """
        off = 1 - self.groups.flat_mask(self.mask).double()
        if weights is None:
            per_group = torch.stack([off[a:b].sum() for a, b in
                                     zip(self.groups.offsets[:-1], self.groups.offsets[1:])])
            weights = torch.repeat_interleave(per_group / off.sum().clamp_min(1),
                                              torch.as_tensor(self.groups.sizes))
        self.groups.proximal_step(lam * lr * weights * off)

    def _finish(self):
        self.mask_ = self.groups.split(self.mask)
        off = self.groups.flat_mask(self.mask) < 0.5
        self.masked_norm_ = float(self.groups.group_norms()[off].max()) if off.any() else 0.0
        self.pruned_model_ = self.groups.prune(self.mask)


class AutoTrainOnce(_Pruner):
    r"""Auto-Train-Once: controller-guided channel pruning from scratch.

    Wu, Gao, Zhang, Li, Bao, Zhang, Wang & Huang, "Auto-Train-Once: Controller Network
    Guided Automatic Network Pruning from Scratch", CVPR 2024 (arXiv 2403.14729). With
    channel groups :math:`g` (:class:`ChannelGroups`), a mask :math:`w \in \{0, 1\}^{G}`
    produced by the :class:`Controller` with parameters :math:`\theta`, and
    :math:`W_g` the zero-invariant parameters of channel :math:`g`, ATO alternates

    - **weights**, on the training data at full width:
      :math:`\min_W L(W) + \lambda \sum_{g: w_g = 0} c_g \|W_g\|_2`, by an AdamW step on
      :math:`L` followed by the group proximal step
      :math:`W_g \leftarrow \max(0, 1 - \eta_t \lambda c_g / \|W_g\|_2)\, W_g` on the masked
      channels, with :math:`\eta_t` the current learning rate and :math:`c_g` the fraction of
      all masked channels that lie in :math:`g`'s group;
    - **controller**, every ``controller_every`` weight steps, on a held-out slice of the
      training data (the network in ``eval()`` mode, gated by the relaxed mask
      :math:`s(\theta)`):
      :math:`\min_\theta L(f(x; W \odot s(\theta))) + 2\gamma R(r(\mathrm{hard}(s)), p)`,
      with :math:`r` the kept FLOPs fraction, :math:`p` = ``flops_target`` and :math:`R`
      :func:`flops_regularizer`; AdamW (lr 1e-3, weight decay 1e-2 except on biases and
      norms), learning rate divided by 10 from ``lambda_switch`` on.

    Schedule (epochs; the defaults scale the paper's): the controller trains from
    ``controller_start`` (``epochs // 10``); the projection mask is re-read from the
    controller at the start of every epoch until ``freeze_epoch`` (``lambda_switch +
    max(1, epochs // 12)``), then frozen; the proximal step runs from ``projection_start``
    (``epochs // 5``) with :math:`\lambda` = ``lam`` until ``lambda_switch``
    (``(epochs - warmup_epochs) // 2``) and ``lam_final`` after, which drives the masked
    channels to exactly zero. At the end they are removed (:meth:`ChannelGroups.prune`),
    with no fine-tuning.

    Differences from the authors' recipe, on purpose: the controller's data is a slice of
    the training set the weights never see (``controller_fraction``; the original samples
    it from the same data); the FLOPs fraction is that of the whole counted model
    (:func:`count_cost`), not of the gated layers only; every group keeps at least its
    channel with the largest relaxed mask value (so that no layer vanishes).

    Parameters
    ----------
    model : torch.nn.Module
        Trained in place; see :class:`ChannelGroups` for the supported layers.
    example_inputs : torch.Tensor
    flops_target : float
        Kept fraction of the model's FLOPs, :math:`p \in (0, 1)`.
    reg_weight : float, default=4.0
        :math:`\gamma`.
    lam, lam_final : float, default=10, 1000
        :math:`\lambda` before and after ``lambda_switch``.
    controller_every : int, default=1
        Weight steps per controller step. The authors use 20 with ImageNet's ~1,250 steps
        per epoch; on small data sets the controller needs every step to settle on a mask
        whose FLOPs are near the target before the freeze.
    controller_fraction : float, default=0.1
        Share of the training data held out for the controller.
    controller_start, projection_start, lambda_switch, freeze_epoch : int, optional
    ignored_layers : sequence of torch.nn.Module
        Layers whose output channels are never pruned.
    **kwargs
        The training recipe of :class:`DenseTrainer`.

    Attributes
    ----------
    controller_ : Controller
    mask_history_ : list of ndarray
        The projection mask of every epoch (it changes while the controller trains and is
        constant from ``freeze_epoch`` on).
    masked_norm_ : float
        Largest norm of a masked channel's parameters before removal (0 when the proximal
        steps have zeroed them all).
    """

    def __init__(self, model, example_inputs, *, flops_target, reg_weight=4.0, lam=10.0,
                 lam_final=1000.0, controller_every=1, controller_fraction=0.1,
                 controller_start=None, projection_start=None, lambda_switch=None,
                 freeze_epoch=None, ignored_layers=(), **kwargs):
        super().__init__(model, example_inputs, flops_target=flops_target,
                         ignored_layers=ignored_layers, **kwargs)
        if not 0 < controller_fraction < 1:
            raise ValueError(f"controller_fraction must be in (0, 1), got {controller_fraction}")
        self.reg_weight, self.lam, self.lam_final = reg_weight, lam, lam_final
        self.controller_every, self.controller_fraction = controller_every, controller_fraction
        self._schedule(projection_start, lambda_switch, freeze_epoch)
        self.controller_start = (self.epochs // 10 if controller_start is None
                                 else controller_start)
        if not 0 <= self.controller_start < self.freeze_epoch:
            raise ValueError(f"need 0 <= controller_start < freeze_epoch, got "
                             f"{self.controller_start} and {self.freeze_epoch}")

    def _setup(self, X, y):
        torch.manual_seed(self.random_state)
        self.controller_ = Controller(self.groups.sizes)
        self._ctrl_opt = torch.optim.AdamW(self.controller_.param_groups(1e-2), lr=1e-3)
        order = torch.randperm(len(X), generator=self._gen)
        n_ctrl = max(1, int(round(self.controller_fraction * len(X))))
        self._Xc, self._yc = X[order[:n_ctrl]], y[order[:n_ctrl]]
        self._ctrl_order, self._ctrl_pos = torch.randperm(n_ctrl, generator=self._gen), 0
        self.mask, self.mask_history_ = None, []
        self._step = 0
        return X[order[n_ctrl:]], y[order[n_ctrl:]]

    def _controller_mask(self):
        with torch.no_grad():
            soft = self.controller_(self._gen)
        hard = (soft >= 0.5).to(soft.dtype)
        for a, b in zip(self.groups.offsets[:-1], self.groups.offsets[1:]):
            if not hard[a:b].any():
                hard[a + int(torch.argmax(soft[a:b]))] = 1
        return hard

    def _epoch_start(self, epoch):
        if epoch == self.lambda_switch:
            for group in self._ctrl_opt.param_groups:
                group["lr"] *= 0.1
        if self.controller_start <= epoch < self.freeze_epoch:
            self.mask = self._controller_mask()
        self.mask_history_.append(self.groups.split(self.mask))

    def _after_step(self, epoch, i, lr):
        self._step += 1
        if epoch >= self.projection_start and self.mask is not None:
            self._project(self.lam if epoch < self.lambda_switch else self.lam_final, lr)
        if self.controller_start <= epoch < self.freeze_epoch and \
                self._step % self.controller_every == 0:
            self._controller_step()

    def _controller_step(self):
        end = self._ctrl_pos + self.batch_size
        if end > len(self._Xc):
            self._ctrl_order, self._ctrl_pos, end = \
                torch.randperm(len(self._Xc), generator=self._gen), 0, self.batch_size
        batch = self._ctrl_order[self._ctrl_pos:end]
        self._ctrl_pos = end
        self.model.eval()
        self.controller_.train()
        soft = self.controller_(self._gen)
        ratio = self.groups.cost(Controller.harden(soft))[0] / self.groups.dense_flops
        with self.groups.gated(soft):
            loss = F.cross_entropy(self.model(self._Xc[batch]), self._yc[batch])
        loss = loss + 2 * self.reg_weight * flops_regularizer(ratio, self.flops_target)
        self._ctrl_opt.zero_grad(set_to_none=True)
        loss.backward()
        self._ctrl_opt.step()
        self.model.train()


class GroupLassoPruning(_Pruner):
    r"""Channel pruning by the group lasso, with no controller.

    Until ``freeze_epoch`` every channel is penalised: AdamW steps on :math:`L(W)` each
    followed by the proximal step of :math:`\lambda \sum_g \sqrt{d_g} \|W_g\|_2` (Yuan &
    Lin, 2006; :math:`d_g` the number of parameters of channel :math:`g`),

    .. math:: W_g \leftarrow \max\left(0, 1 - \frac{\eta_t \lambda \sqrt{d_g}}
              {\|W_g\|_2}\right) W_g,

    from ``projection_start`` on -- the group version of the soft-thresholding that the
    convex side of sksafe applies to coefficients, and the proximal-gradient core of
    OTO (Chen et al., NeurIPS 2021). At ``freeze_epoch`` the channels with the smallest
    norm relative to the mean norm of their group (:meth:`relative_norms`) are masked
    until the FLOPs target is met (:func:`budget_mask`); from then on the penalty acts only on them, with
    :math:`\lambda` = ``lam_final`` and ATO's per-group weights, which zeroes them, and they
    are removed at the end without fine-tuning. Same schedule and recipe as
    :class:`AutoTrainOnce`, so that the two differ only in who picks the channels.

    Parameters
    ----------
    model, example_inputs, flops_target, ignored_layers
        As in :class:`AutoTrainOnce`.
    lam : float, default=0.02
        :math:`\lambda` while every channel is penalised.
    lam_final : float, default=1000
    projection_start, freeze_epoch : int, optional
        Defaults as in :class:`AutoTrainOnce`.
    **kwargs
        The training recipe of :class:`DenseTrainer`.
    """

    def __init__(self, model, example_inputs, *, flops_target, lam=0.02, lam_final=1000.0,
                 projection_start=None, freeze_epoch=None, ignored_layers=(), **kwargs):
        super().__init__(model, example_inputs, flops_target=flops_target,
                         ignored_layers=ignored_layers, **kwargs)
        self.lam, self.lam_final = lam, lam_final
        self._schedule(projection_start, None, freeze_epoch)
        self._sqrt_dims = self.groups.group_dims().sqrt()

    def _epoch_start(self, epoch):
        if epoch == self.freeze_epoch:
            self.mask = budget_mask(self.groups, self.relative_norms(), self.flops_target)

    def relative_norms(self):
        """Each channel's group norm over the mean group norm of its layer.

        Layers differ in fan-in and scale, so raw norms would send the whole budget to one
        layer; relative to its layer, a channel the penalty has shrunk (or zeroed) scores
        low wherever it is.
        """
        norms = self.groups.group_norms()
        for a, b in zip(self.groups.offsets[:-1], self.groups.offsets[1:]):
            norms[a:b] /= norms[a:b].mean().clamp_min(1e-30)
        return norms

    def _after_step(self, epoch, i, lr):
        if self.projection_start <= epoch < self.freeze_epoch:
            self.groups.proximal_step(self.lam * lr * self._sqrt_dims)
        elif epoch >= self.freeze_epoch:
            self._project(self.lam_final, lr)


class L1FilterPruning(_Pruner):
    r"""Magnitude (l1-norm) filter pruning, then fine-tuning.

    Li, Kadav, Durdanovic, Samet & Graf, "Pruning Filters for Efficient ConvNets", ICLR
    2017: train the dense network for ``epochs - finetune_epochs`` epochs; score channel
    :math:`c` by :math:`\sum_i |W_{c,i}|`, the l1 norm of its filters (of every
    convolution or linear layer producing it); in every group remove the same fraction of
    channels, those of smallest score, with the fraction the smallest that meets the FLOPs
    target (:func:`budget_mask` on within-group ranks); remove them physically and
    fine-tune the smaller network for ``finetune_epochs`` epochs (AdamW, cosine learning
    rate from ``finetune_lr``).

    Parameters
    ----------
    model, example_inputs, flops_target, ignored_layers
        As in :class:`AutoTrainOnce`.
    finetune_epochs : int, optional
        Default ``epochs // 3``.
    finetune_lr : float, optional
        Default ``lr``.
    **kwargs
        The training recipe of :class:`DenseTrainer`.
    """

    def __init__(self, model, example_inputs, *, flops_target, finetune_epochs=None,
                 finetune_lr=None, ignored_layers=(), **kwargs):
        super().__init__(model, example_inputs, flops_target=flops_target,
                         ignored_layers=ignored_layers, **kwargs)
        self.finetune_epochs = self.epochs // 3 if finetune_epochs is None else finetune_epochs
        self.finetune_lr = self.lr if finetune_lr is None else finetune_lr
        self.prune_epoch = self.epochs - self.finetune_epochs
        if not self.warmup_epochs < self.prune_epoch < self.epochs:
            raise ValueError(f"finetune_epochs={self.finetune_epochs} leaves no dense training "
                             f"after {self.warmup_epochs} warm-up epochs, or no fine-tuning")

    def _lr(self, epoch, i, steps):
        if epoch < self.prune_epoch:
            return _warmup_cosine(epoch * steps + i, self.prune_epoch * steps,
                                  self.warmup_epochs * steps, self.lr)
        return _warmup_cosine((epoch - self.prune_epoch) * steps + i,
                              self.finetune_epochs * steps, 0, self.finetune_lr)

    def filter_norms(self):
        """l1 norm of every channel's filters (convolutions and linear layers only)."""
        norms = torch.zeros(self.groups.n_channels, dtype=torch.float64)
        for g, group in enumerate(self.groups.groups):
            for _, module, owner in group.producers:
                if not isinstance(module, nn.modules.batchnorm._BatchNorm):
                    l1 = module.weight.detach().abs().reshape(len(owner), -1).sum(1).double()
                    norms.index_add_(0, torch.as_tensor(self.groups.offsets[g] + owner), l1)
        return norms

    def _epoch_start(self, epoch):
        if epoch != self.prune_epoch:
            return
        norms = self.filter_norms()
        ranks = torch.zeros_like(norms)
        for a, b in zip(self.groups.offsets[:-1], self.groups.offsets[1:]):
            ranks[a + torch.argsort(norms[a:b])] = (torch.arange(b - a) + 1.0).double() / (b - a)
        self.mask = budget_mask(self.groups, ranks, self.flops_target)
        self._net = self.groups.prune(self.mask)
        self._optimizer = self._make_optimizer(self._net)

    def _finish(self):
        self.mask_ = self.groups.split(self.mask)
        self.pruned_model_ = self._net
