r"""Student models, the distillation loss, local training with proximal steps, model sizes.

The objective a client minimises on its data :math:`(x_i, y_i)_{i \le n}`, with student
logits :math:`s(x)`, teacher logits :math:`t(x)`, temperature :math:`T` and teacher weight
:math:`\beta \in [0, 1]`, is

.. math::

    \frac{1}{n} \sum_i \Big[(1 - \beta)\, \mathrm{CE}(s(x_i), y_i)
    + \beta\, T^2\, \mathrm{KL}\big(\sigma(t(x_i) / T) \,\|\, \sigma(s(x_i) / T)\big)\Big]
    + \mu\, \Omega(W),

(Hinton, Vinyals & Dean, arXiv 1503.02531; the :math:`T^2` keeps the gradient scale of the
soft term independent of :math:`T`), with :math:`\sigma` the softmax and :math:`\Omega` the
l1 norm of the weight matrices (``penalty="l1"``) or the group lasso of the input
features, :math:`\sum_j \|W^{(1)}_{:, j}\|_2` over the columns of the first layer
(``penalty="group"``, Yuan & Lin 2006), so that the deployed student is sparse or reads
fewer inputs. It is minimised by proximal SGD: a gradient step on the smooth part, then the
proximal operator of :math:`\eta \mu \Omega` (the soft threshold of
:func:`sksafe.nn.gossip.soft_threshold` for l1, its block version for groups).
:math:`\beta = 0` is plain cross-entropy: FedAvg's local objective.
"""
import contextlib
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from .._torch import require_torch
from ..gossip import soft_threshold

torch = require_torch()
nn = torch.nn
F = nn.functional

__all__ = ["MLP", "ModelSpec", "distillation_loss", "kd_term", "train_model", "train_mutual",
           "proximal_step", "predict_logits", "get_weights", "set_weights", "model_size",
           "PENALTIES"]

PENALTIES = (None, "l1", "group")


class MLP(nn.Module):
    """Fully connected ReLU network; ``hidden=()`` is multinomial logistic regression.

    Accepts dense tensors and sparse COO tensors (a bag-of-words batch): the first layer of
    a sparse input is a sparse-dense product, so a student never densifies its input.

    Parameters
    ----------
    n_features, n_classes : int
    hidden : tuple of int
        Widths of the hidden layers.
    """

    def __init__(self, n_features, n_classes, hidden=()):
        super().__init__()
        sizes = (int(n_features), *map(int, hidden), int(n_classes))
        self.layers = nn.ModuleList(nn.Linear(a, b) for a, b in zip(sizes[:-1], sizes[1:]))

    def forward(self, x):
        for i, layer in enumerate(self.layers):
            if i:
                x = F.relu(x)
            x = (torch.sparse.mm(x, layer.weight.t()) + layer.bias if x.is_sparse
                 else layer(x))
        return x


@dataclass(frozen=True)
class ModelSpec:
    """How to build a model (picklable, so that client processes can build it).

    ``build(seed)`` returns :class:`MLP` ``(n_features, n_classes, hidden)`` initialised from
    ``torch.manual_seed(seed)`` without touching the caller's global torch RNG.
    """

    n_features: int
    n_classes: int
    hidden: tuple = ()

    def build(self, seed=0):
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(int(seed))
            return MLP(self.n_features, self.n_classes, self.hidden)


def get_weights(model):
    """The parameters of ``model`` as a list of float32 NumPy arrays (state-dict order)."""
    return [p.detach().cpu().numpy().astype(np.float32, copy=True) for p in model.parameters()]


def set_weights(model, weights):
    """Copy a list of arrays (as from :func:`get_weights`) into ``model``, in place."""
    params = list(model.parameters())
    if len(params) != len(weights):
        raise ValueError(f"{len(weights)} arrays given for a model with {len(params)} "
                         "parameter tensors")
    with torch.no_grad():
        for p, w in zip(params, weights):
            w = np.asarray(w)
            if tuple(w.shape) != tuple(p.shape):
                raise ValueError(f"array of shape {w.shape} given for a parameter of shape "
                                 f"{tuple(p.shape)}")
            p.copy_(torch.from_numpy(w))


def kd_term(student_logits, teacher_logits, temperature):
    r""":math:`T^2 \frac{1}{n}\sum_i \mathrm{KL}(\sigma(t_i / T) \| \sigma(s_i / T))`."""
    T = float(temperature)
    log_p_t = F.log_softmax(teacher_logits / T, dim=1)
    log_p_s = F.log_softmax(student_logits / T, dim=1)
    return T * T * (log_p_t.exp() * (log_p_t - log_p_s)).sum(1).mean()


def distillation_loss(student_logits, y, teacher_logits=None, beta=0.0, temperature=1.0):
    r"""The client loss: cross-entropy mixed with the tempered KL to the teacher.

    :math:`(1-\beta)\,\mathrm{CE}(s, y) + \beta T^2 \mathrm{KL}(\sigma(t/T) \| \sigma(s/T))`,
    batch means of both terms (module docstring). With ``beta == 0`` the teacher is not
    evaluated and the loss is exactly the cross-entropy (FedAvg's).
    """
    if not 0.0 <= beta <= 1.0:
        raise ValueError(f"beta (the teacher weight) must be in [0, 1], got {beta!r}")
    if not temperature > 0:
        raise ValueError(f"temperature must be > 0, got {temperature!r}")
    ce = F.cross_entropy(student_logits, y)
    if beta == 0.0:
        return ce
    if teacher_logits is None:
        raise ValueError("beta > 0 needs teacher logits")
    return (1.0 - beta) * ce + beta * kd_term(student_logits, teacher_logits, temperature)


def _group_soft_threshold(weight, tau):
    """Block soft threshold of the columns of ``weight``: ``w_j <- max(0, 1 - tau/||w_j||) w_j``."""
    norms = weight.norm(dim=0)
    scale = torch.where(norms > tau, 1 - tau / norms.clamp_min(1e-300), torch.zeros_like(norms))
    weight.mul_(scale)


def proximal_step(model, penalty, tau):
    r"""Proximal operator of :math:`\tau\,\Omega` on the student's weights, in place.

    ``penalty="l1"``: :math:`W \leftarrow S_\tau(W)` on every weight matrix (biases are not
    penalised); ``"group"``: the columns of the first layer's weight (one per input
    feature) are block soft-thresholded, so that an input whose column is zero is never read
    at inference; ``None`` or ``tau == 0``: nothing.
    """
    if penalty not in PENALTIES:
        raise ValueError(f"penalty must be one of {PENALTIES}, got {penalty!r}")
    if penalty is None or tau == 0:
        return
    with torch.no_grad():
        if penalty == "group":
            _group_soft_threshold(model.layers[0].weight, float(tau))
            return
        for layer in model.layers:
            w = layer.weight
            w.copy_(torch.from_numpy(soft_threshold(w.detach().numpy(), float(tau))))


def _rows(X, idx):
    """A batch of rows as a tensor: dense float32, or sparse COO for a SciPy matrix."""
    if sp.issparse(X):
        coo = X[idx].tocoo()
        indices = torch.from_numpy(np.vstack([coo.row, coo.col]).astype(np.int64))
        # rows of a CSR matrix give sorted, unique (row, col) pairs: already coalesced
        return torch.sparse_coo_tensor(indices, torch.from_numpy(coo.data.astype(np.float32)),
                                       coo.shape, check_invariants=False, is_coalesced=True)
    return torch.from_numpy(np.ascontiguousarray(X[idx], dtype=np.float32))


def predict_logits(model, X, batch_size=1024):
    """Logits of ``model`` on all rows of ``X`` (dense array or SciPy sparse), as NumPy."""
    model.eval()
    out = []
    with torch.no_grad():
        for start in range(0, X.shape[0], batch_size):
            idx = np.arange(start, min(start + batch_size, X.shape[0]))
            out.append(model(_rows(X, idx)).numpy())
    return np.concatenate(out) if out else np.zeros((0, model.layers[-1].out_features))


def _epochs(n, batch_size, seed, epochs, first_epoch):
    """Minibatch index arrays of epochs ``first_epoch .. first_epoch + epochs - 1``.

    The permutation of epoch ``e`` depends on ``(seed, e)`` only, so that ``R`` rounds of
    ``E`` local epochs on one client visit the data in the same order as ``R * E`` epochs
    of centralized training.
    """
    seed = tuple(np.atleast_1d(seed).tolist())
    for e in range(first_epoch, first_epoch + epochs):
        perm = np.random.default_rng((*seed, e)).permutation(n)
        for start in range(0, n, batch_size):
            yield perm[start:start + batch_size]


def _check_training(X, y, teacher_logits, epochs, lr, batch_size, penalty, mu):
    if X.shape[0] == 0:
        raise ValueError("no training data (a client with no samples)")
    if len(y) != X.shape[0]:
        raise ValueError(f"X has {X.shape[0]} rows but y has {len(y)} labels")
    if teacher_logits is not None and len(teacher_logits) != X.shape[0]:
        raise ValueError(f"teacher_logits has {len(teacher_logits)} rows for {X.shape[0]} "
                         "samples")
    if epochs < 0 or lr <= 0 or batch_size < 1 or mu < 0:
        raise ValueError(f"need epochs >= 0, lr > 0, batch_size >= 1, mu >= 0; got "
                         f"{epochs}, {lr}, {batch_size}, {mu}")
    if penalty not in PENALTIES:
        raise ValueError(f"penalty must be one of {PENALTIES}, got {penalty!r}")


def train_model(model, X, y, *, epochs, lr, batch_size=32, teacher_logits=None, beta=0.0,
                temperature=1.0, penalty=None, mu=0.0, seed=0, first_epoch=0):
    """Proximal minibatch SGD on the client objective of the module docstring, in place.

    Parameters
    ----------
    model : MLP
    X : ndarray or scipy.sparse matrix of shape (n, d)
    y : ndarray of shape (n,)
        Integer labels.
    epochs, lr, batch_size : int, float, int
        Plain SGD (no momentum: the optimiser has no state, so a federated round can stop
        and restart it without loss).
    teacher_logits : ndarray of shape (n, n_classes), optional
        Needed when ``beta > 0``.
    beta, temperature : float
    penalty : {None, "l1", "group"}
    mu : float
        Weight of the penalty; the proximal step uses ``tau = lr * mu``.
    seed : int or tuple of int
        Seeds the minibatch order (with the epoch index).
    first_epoch : int
        Index of the first epoch (a client passes ``(round - 1) * epochs``).

    Returns
    -------
    float
        Mean training loss over the minibatches (``nan`` if ``epochs == 0``).
    """
    y = np.asarray(y)
    _check_training(X, y, teacher_logits, epochs, lr, batch_size, penalty, mu)
    yt = torch.from_numpy(y.astype(np.int64))
    tt = None if teacher_logits is None else torch.from_numpy(
        np.asarray(teacher_logits, dtype=np.float32))
    model.train()
    opt = torch.optim.SGD(model.parameters(), lr=lr)
    losses = []
    for idx in _epochs(X.shape[0], batch_size, seed, epochs, first_epoch):
        loss = distillation_loss(model(_rows(X, idx)), yt[idx],
                                 None if tt is None else tt[idx], beta, temperature)
        opt.zero_grad()
        loss.backward()
        opt.step()
        proximal_step(model, penalty, lr * mu)
        losses.append(float(loss.detach()))
    return float(np.mean(losses)) if losses else float("nan")


def train_mutual(proxy, private, X, y, *, epochs, lr, batch_size=32, teacher_logits=None,
                 beta=0.0, temperature=1.0, mutual=0.5, penalty=None, mu=0.0, seed=0,
                 first_epoch=0):
    r"""ProxyFL-style local training of a shared proxy and a private model, in place.

    Kalra, Wen, Cresswell, Volkovs & Tizhoosh, "Decentralized federated learning through
    proxy model sharing", Nature Communications 14 (2023). On every minibatch both models
    take one SGD step; each distils from the other's current (detached) logits with
    weight ``mutual`` and keeps its supervised, teacher-distilled loss with weight
    ``1 - mutual``:

    .. math::

        L_\text{private} = (1 - m) L_\beta(p) + m\, T^2 \mathrm{KL}(\sigma(s/T) \| \sigma(p/T)),
        \quad
        L_\text{proxy} = (1 - m) L_\beta(s) + m\, T^2 \mathrm{KL}(\sigma(p/T) \| \sigma(s/T)),

    with :math:`L_\beta` the loss of :func:`distillation_loss`. Only the proxy is shared
    (aggregated by the server) and deployed; the private model, possibly larger, never
    leaves the client. The penalty applies to the proxy.

    Returns
    -------
    float
        Mean proxy loss over the minibatches.
    """
    y = np.asarray(y)
    _check_training(X, y, teacher_logits, epochs, lr, batch_size, penalty, mu)
    if not 0.0 <= mutual <= 1.0:
        raise ValueError(f"mutual must be in [0, 1], got {mutual!r}")
    yt = torch.from_numpy(y.astype(np.int64))
    tt = None if teacher_logits is None else torch.from_numpy(
        np.asarray(teacher_logits, dtype=np.float32))
    proxy.train()
    private.train()
    opts = [torch.optim.SGD(m.parameters(), lr=lr) for m in (proxy, private)]
    losses = []
    for idx in _epochs(X.shape[0], batch_size, seed, epochs, first_epoch):
        xb, t = _rows(X, idx), (None if tt is None else tt[idx])
        s, p = proxy(xb), private(xb)
        loss_proxy = ((1 - mutual) * distillation_loss(s, yt[idx], t, beta, temperature)
                      + mutual * kd_term(s, p.detach(), temperature))
        loss_private = ((1 - mutual) * distillation_loss(p, yt[idx], t, beta, temperature)
                        + mutual * kd_term(p, s.detach(), temperature))
        for opt in opts:
            opt.zero_grad()
        (loss_proxy + loss_private).backward()
        for opt in opts:
            opt.step()
        proximal_step(proxy, penalty, lr * mu)
        losses.append(float(loss_proxy.detach()))
    return float(np.mean(losses)) if losses else float("nan")


def model_size(model, X=None):
    """Size and inference cost of a (sparse) student as it would be deployed.

    Parameters
    ----------
    model : MLP
    X : ndarray or scipy.sparse matrix, optional
        Inputs on which to average the cost of the first layer: with a sparse input, a
        sample costs one multiply-add per non-zero input times the non-zeros of its
        weight column.

    Returns
    -------
    dict
        ``n_params`` (dense count), ``nnz_params`` (non-zero weights and biases),
        ``n_inputs_used`` (input features with a non-zero weight column),
        ``dense_bytes`` (float32), ``sparse_bytes`` (CSR storage of every weight matrix:
        4-byte values and column indices, 4-byte row pointers, dense biases, whichever of
        CSR and dense is smaller per layer) and ``macs_per_sample`` (multiply-adds of one
        prediction on the stored non-zeros).
    """
    n_params = nnz = dense_bytes = sparse_bytes = 0
    macs = 0.0
    for i, layer in enumerate(model.layers):
        W = layer.weight.detach().numpy()
        b = layer.bias.detach().numpy()
        nz_w = int(np.count_nonzero(W))
        n_params += W.size + b.size
        nnz += nz_w + int(np.count_nonzero(b))
        dense_bytes += 4 * (W.size + b.size)
        sparse_bytes += min(4 * W.size, 8 * nz_w + 4 * (W.shape[0] + 1)) + 4 * b.size
        if i == 0 and X is not None:
            col_nnz = np.count_nonzero(W, axis=0).astype(np.float64)
            present = (X != 0) if sp.issparse(X) else (np.asarray(X) != 0)
            macs += float(np.asarray(present @ col_nnz).mean()) + b.size
        else:
            macs += nz_w + b.size
    first = model.layers[0].weight.detach().numpy()
    return {"n_params": int(n_params), "nnz_params": int(nnz),
            "n_inputs_used": int(np.count_nonzero(np.abs(first).sum(0))),
            "n_inputs": int(first.shape[1]), "dense_bytes": int(dense_bytes),
            "sparse_bytes": int(sparse_bytes), "macs_per_sample": macs}


@contextlib.contextmanager
def single_thread():
    """Run torch on one thread inside the block (clients share the machine's cores)."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(previous)
