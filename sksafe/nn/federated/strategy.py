r"""The Flower server strategy: FedAvg, server-side distillation, proximal step, evaluation.

:class:`FedDistill` is a ``flwr.server.strategy.FedAvg``. Each round:

1. every client trains the current student locally (:class:`~.client.DistillClient`);
2. the server averages the returned weights with Flower's FedAvg aggregation, weighted
   by the clients' sample counts, :math:`w = \sum_k n_k w_k / \sum_k n_k` (McMahan et al.,
   AISTATS 2017), in the fixed order of the client indices;
3. optionally (FedDF-style; Lin, Kong, Stich & Jaggi, NeurIPS 2020) it distils the
   averaged student on unlabeled public data, minimising
   :math:`T^2\,\mathrm{KL}(\sigma(t/T)\|\sigma(s/T))` by proximal SGD, where the target
   :math:`t` is the foundation teacher's logits (``target="teacher"``, the teacher on the
   server) or the mean logits of the clients' models (``target="ensemble"``, FedDF's own
   ensemble distillation);
4. with a penalty and no server distillation it applies one proximal step
   :math:`\mathrm{prox}_{\eta\mu\Omega}` to the average: averaging sparse client models
   gives the union of their supports, and this step (the server-side proximal step of
   federated composite optimisation; Yuan, Zaheer & Reddi, ICML 2021) restores the exact
   zeros of the deployed model;
5. it evaluates the student on the balanced test set: accuracy, accuracy on the classes
   rare on clients, non-zero parameters.

A client that fails (an exception, a process that dies, a round timeout) makes the round
raise :class:`ClientFailureError` naming it: a run never continues silently with fewer
clients.
"""
import time
from dataclasses import dataclass, field

import numpy as np

from ._flower import require_flwr
from .models import (get_weights, predict_logits, proximal_step, set_weights,
                     single_thread, train_model)

flwr = require_flwr()
from flwr.common import ndarrays_to_parameters, parameters_to_ndarrays  # noqa: E402
from flwr.server.client_manager import SimpleClientManager  # noqa: E402
from flwr.server.strategy import FedAvg  # noqa: E402

__all__ = ["FedDistill", "ServerDistillConfig", "EvalSet", "ClientFailureError",
           "BoundedClientManager", "evaluate_logits"]


class ClientFailureError(RuntimeError):
    """A client of a federated run failed, died, hung or never connected; the message says
    which and in which round."""


@dataclass(frozen=True)
class ServerDistillConfig:
    """Server-side distillation of the aggregated student on unlabeled public data.

    Parameters
    ----------
    epochs, lr, batch_size : int, float, int
        Proximal SGD on the public set after each aggregation.
    temperature : float
    target : {"teacher", "ensemble"}
        Distil towards the foundation teacher's logits or towards the mean logits of the
        round's client models (FedDF).
    """

    epochs: int = 1
    lr: float = 0.1
    batch_size: int = 64
    temperature: float = 2.0
    target: str = "teacher"

    def __post_init__(self):
        if self.target not in ("teacher", "ensemble"):
            raise ValueError(f"target must be 'teacher' or 'ensemble', got {self.target!r}")


@dataclass
class EvalSet:
    """The server's balanced test set, and the classes that are rare on the clients."""

    X: object
    y: np.ndarray
    rare_classes: tuple = field(default=())


def evaluate_logits(logits, y, rare_classes=(), n_classes=None):
    """Accuracy, mean per-class accuracy and accuracy on ``rare_classes`` of ``logits``."""
    y = np.asarray(y)
    n_classes = logits.shape[1] if n_classes is None else n_classes
    pred = np.argmax(logits, axis=1)
    per_class = np.array([np.mean(pred[y == c] == c) if np.any(y == c) else np.nan
                          for c in range(n_classes)])
    rare = [c for c in rare_classes if np.any(y == c)]
    return {"accuracy": float(np.mean(pred == y)),
            "balanced_accuracy": float(np.nanmean(per_class)),
            "rare_accuracy": float(np.mean(per_class[rare])) if rare else float("nan"),
            "per_class": per_class.tolist()}


class BoundedClientManager(SimpleClientManager):
    """Flower's client manager with the wait for clients bounded by ``connect_timeout``.

    Flower's own waits up to a day for the clients a round needs; a client process that
    died before joining would hang the server that long.
    """

    def __init__(self, connect_timeout):
        super().__init__()
        self.connect_timeout = float(connect_timeout)

    def wait_for(self, num_clients, timeout=86400):
        return super().wait_for(num_clients, timeout=min(timeout, self.connect_timeout))


def _round_config(server_round):
    return {"server_round": server_round}


def _train_loss(fit_metrics):
    """Sample-weighted mean of the clients' training losses."""
    n = np.array([count for count, _ in fit_metrics], dtype=np.float64)
    loss = np.array([metrics["loss"] for _, metrics in fit_metrics])
    return {"train_loss": float(n @ loss / n.sum())}


def _describe(failure):
    if isinstance(failure, BaseException):
        return f"{type(failure).__name__}: {failure}"
    proxy, res = failure
    return f"node {proxy.cid}: {res.status.message}"


class FedDistill(FedAvg):
    """FedAvg with optional server-side distillation and proximal step (module docstring).

    Parameters
    ----------
    spec : ModelSpec
        The student.
    n_clients : int
        Every round trains all clients; fewer available clients is an error.
    test : EvalSet, optional
        Evaluated after every round (and before the first).
    server_kd : ServerDistillConfig, optional
    public_X : ndarray or scipy.sparse matrix, optional
        Unlabeled public data of the server distillation.
    public_teacher_logits : ndarray, optional
        The teacher's logits on ``public_X`` (``target="teacher"``).
    penalty : {None, "l1", "group"}
    mu, lr : float
        Penalty weight and the step of the server's proximal operator (``tau = lr * mu``,
        the clients' learning rate).
    seed : int
        The initial student is ``spec.build(seed)``; the server distillation's minibatch
        order derives from it.
    """

    def __init__(self, spec, n_clients, *, test=None, server_kd=None, public_X=None,
                 public_teacher_logits=None, penalty=None, mu=0.0, lr=0.1, seed=0):
        if server_kd is not None:
            if public_X is None:
                raise ValueError("server distillation needs unlabeled public data (public_X)")
            if server_kd.target == "teacher" and public_teacher_logits is None:
                raise ValueError("server distillation towards the teacher needs "
                                 "public_teacher_logits")
        if public_teacher_logits is not None:
            public_teacher_logits = np.asarray(public_teacher_logits, dtype=np.float32)
            if public_teacher_logits.shape != (public_X.shape[0], spec.n_classes):
                raise ValueError(f"public_teacher_logits has shape "
                                 f"{public_teacher_logits.shape}, expected "
                                 f"({public_X.shape[0]}, {spec.n_classes}): the teacher's "
                                 "classes must match the student's")
        self.spec, self.n_clients, self.test = spec, int(n_clients), test
        self.server_kd, self.public_X = server_kd, public_X
        self.public_teacher_logits = public_teacher_logits
        self.penalty, self.mu, self.lr, self.seed = penalty, float(mu), float(lr), int(seed)
        self.weights = get_weights(spec.build(seed))
        self.history = []
        self.error = None
        self._t0 = None
        super().__init__(fraction_fit=1.0, fraction_evaluate=0.0, min_fit_clients=n_clients,
                         min_evaluate_clients=0, min_available_clients=n_clients,
                         initial_parameters=ndarrays_to_parameters(self.weights),
                         on_fit_config_fn=_round_config, accept_failures=False, inplace=False,
                         fit_metrics_aggregation_fn=_train_loss)

    def _fail(self, message):
        self.error = ClientFailureError(message)
        raise self.error

    def configure_fit(self, server_round, parameters, client_manager):
        instructions = super().configure_fit(server_round, parameters, client_manager)
        if len(instructions) < self.n_clients:
            self._fail(f"round {server_round}: only {client_manager.num_available()} of "
                       f"{self.n_clients} clients are connected (a client died or never "
                       "joined)")
        return instructions

    def aggregate_fit(self, server_round, results, failures):
        if failures or len(results) < self.n_clients:
            self._fail(f"round {server_round}: {len(failures)} of {self.n_clients} clients "
                       "failed (died, raised, or exceeded the round timeout): "
                       + "; ".join(_describe(f) for f in failures))
        results = sorted(results, key=lambda r: int(r[1].metrics["cid"]))
        parameters, metrics = super().aggregate_fit(server_round, results, [])
        model = self.spec.build()
        set_weights(model, parameters_to_ndarrays(parameters))
        with single_thread():
            if self.server_kd is not None:
                self._distill(model, server_round, results)
            else:
                proximal_step(model, self.penalty, self.lr * self.mu)
        self.weights = get_weights(model)
        return ndarrays_to_parameters(self.weights), metrics

    def _distill(self, model, server_round, results):
        kd = self.server_kd
        if kd.target == "teacher":
            target = self.public_teacher_logits
        else:
            client = self.spec.build()
            logits = []
            for _, res in results:
                set_weights(client, parameters_to_ndarrays(res.parameters))
                logits.append(predict_logits(client, self.public_X))
            target = np.mean(logits, axis=0)
        # beta = 1: the loss is the soft term alone, the (pseudo-)labels carry no weight
        train_model(model, self.public_X, np.argmax(target, axis=1), epochs=kd.epochs,
                    lr=kd.lr, batch_size=kd.batch_size, teacher_logits=target, beta=1.0,
                    temperature=kd.temperature, penalty=self.penalty, mu=self.mu,
                    seed=(self.seed, 2**31), first_epoch=(server_round - 1) * kd.epochs)

    def evaluate(self, server_round, parameters):
        if self._t0 is None:
            self._t0 = time.perf_counter()
        if self.test is None:
            return None
        model = self.spec.build()
        set_weights(model, parameters_to_ndarrays(parameters))
        with single_thread():
            logits = predict_logits(model, self.test.X)
        metrics = evaluate_logits(logits, self.test.y, self.test.rare_classes,
                                  self.spec.n_classes)
        nnz = sum(int(np.count_nonzero(w)) for w in get_weights(model))
        self.history.append({"round": server_round, "nnz_params": nnz,
                             "time": time.perf_counter() - self._t0, **metrics})
        scalars = {k: v for k, v in metrics.items() if k != "per_class"}
        return 1.0 - metrics["accuracy"], scalars

    def report(self):
        """What a run returns: the final student weights and the per-round history."""
        return {"weights": self.weights, "history": self.history}
