"""The Flower client: local training of the student, optionally distilled from the teacher.

A :class:`DistillClient` is a ``flwr.client.NumPyClient``; the same object runs inside
Flower's simulation engine (one Ray actor per concurrently trained client) and in a real
client process connected to a Flower server over gRPC (:mod:`~sksafe.nn.federated.engine`).
The teacher runs only at training time: its logits on the client's samples are part of
the client's data (:class:`ClientData`), and the model the client trains and the server
deploys is the student alone.
"""
import copy
from dataclasses import dataclass

import numpy as np

from ._flower import require_flwr
from .models import ModelSpec, get_weights, set_weights, single_thread, train_model, train_mutual

flwr = require_flwr()
from flwr.app import ArrayRecord  # noqa: E402
from flwr.client import NumPyClient  # noqa: E402

__all__ = ["ClientData", "LocalConfig", "DistillClient", "ClientFactory"]


@dataclass
class ClientData:
    """A client's samples: features ``X`` (dense or SciPy sparse), labels ``y`` and, for
    distillation, the teacher's logits on them (``None`` when no teacher is used)."""

    X: object
    y: np.ndarray
    teacher_logits: np.ndarray = None

    def __post_init__(self):
        self.y = np.asarray(self.y)
        if self.X.shape[0] == 0:
            raise ValueError("a client with no data: every client needs at least one sample")
        if self.y.shape != (self.X.shape[0],):
            raise ValueError(f"X has {self.X.shape[0]} rows but y has shape {self.y.shape}")
        if self.teacher_logits is not None and len(self.teacher_logits) != self.X.shape[0]:
            raise ValueError(f"{len(self.teacher_logits)} teacher logits for "
                             f"{self.X.shape[0]} samples")


@dataclass(frozen=True)
class LocalConfig:
    """What a client does in one round.

    Parameters
    ----------
    epochs, lr, batch_size : int, float, int
        Local proximal SGD (see :func:`~sksafe.nn.federated.models.train_model`).
    beta : float
        Teacher weight of the local loss; 0 is FedAvg.
    temperature : float
    penalty : {None, "l1", "group"}
    mu : float
        Penalty weight.
    private : ModelSpec, optional
        Enables the private/proxy variant: each client keeps a private model of this
        architecture (never sent) and trains the shared student as its proxy
        (:func:`~sksafe.nn.federated.models.train_mutual`).
    mutual : float
        Weight of the mutual distillation between proxy and private model.
    seed : int
        Minibatch orders and private-model initialisations derive from ``(seed, cid)``.
    """

    epochs: int = 1
    lr: float = 0.1
    batch_size: int = 32
    beta: float = 0.0
    temperature: float = 2.0
    penalty: str = None
    mu: float = 0.0
    private: ModelSpec = None
    mutual: float = 0.5
    seed: int = 0


class DistillClient(NumPyClient):
    """One client of a federated run.

    Parameters
    ----------
    cid : int
        Client index (it seeds the minibatch order and is reported with every result, so
        that the server aggregates in a fixed order).
    data : ClientData
    spec : ModelSpec
        The student's architecture (the model the server sends).
    config : LocalConfig
    state : flwr.app.RecordDict or dict, optional
        Where the private model of the proxy variant persists between rounds: Flower's
        per-client ``Context.state`` (kept across rounds by the simulation engine and by a
        client process alike).
    """

    def __init__(self, cid, data, spec, config, state=None):
        if config.beta > 0 and data.teacher_logits is None:
            raise ValueError(f"client {cid}: beta > 0 but the client has no teacher logits")
        self.cid, self.data, self.spec, self.config = int(cid), data, spec, config
        self.state = {} if state is None else state

    def get_parameters(self, config):
        return get_weights(self.spec.build(self.config.seed))

    def _private_model(self):
        seed = np.random.SeedSequence([self.config.seed, self.cid, 1]).generate_state(1)[0]
        private = self.config.private.build(int(seed))
        if "private" in self.state:
            set_weights(private, self.state["private"].to_numpy_ndarrays())
        return private

    def fit(self, parameters, config):
        cfg, data = self.config, self.data
        rnd = int(config["server_round"])
        model = self.spec.build()
        set_weights(model, parameters)
        kwargs = dict(epochs=cfg.epochs, lr=cfg.lr, batch_size=cfg.batch_size,
                      teacher_logits=data.teacher_logits if cfg.beta > 0 else None,
                      beta=cfg.beta, temperature=cfg.temperature, penalty=cfg.penalty,
                      mu=cfg.mu, seed=(cfg.seed, self.cid), first_epoch=(rnd - 1) * cfg.epochs)
        with single_thread():
            if cfg.private is None:
                loss = train_model(model, data.X, data.y, **kwargs)
            else:
                private = self._private_model()
                loss = train_mutual(model, private, data.X, data.y, mutual=cfg.mutual, **kwargs)
                self.state["private"] = ArrayRecord(get_weights(private))
        return get_weights(model), int(data.X.shape[0]), {"cid": self.cid, "loss": loss}


class ClientFactory:
    """Builds the Flower client of a client index (picklable: sent to Ray actors and to
    client processes).

    Parameters
    ----------
    datasets : dict of int to ClientData
    spec : ModelSpec
    config : LocalConfig
    """

    def __init__(self, datasets, spec, config):
        self.datasets, self.spec, self.config = dict(datasets), spec, config

    def __call__(self, cid, state=None):
        return DistillClient(cid, self.datasets[cid], self.spec, self.config, state).to_client()

    def subset(self, cids):
        """The factory restricted to some clients (what one client process needs)."""
        restricted = copy.copy(self)
        restricted.datasets = {c: self.datasets[c] for c in cids}
        return restricted
