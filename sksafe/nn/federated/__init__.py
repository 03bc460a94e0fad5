"""Federated learning of lightweight clients with foundation-model distillation.

Wu, Lin, Willmott, Condessa, Huang, Li & Ganesh, "Leveraging Foundation Models to Improve
Lightweight Clients in Federated Learning" (arXiv 2311.08479): a foundation model, used
only at training time, distils its knowledge into small client models trained
federatedly on non-IID data, so that the deployed clients stay cheap while their accuracy
on classes rarely seen by clients improves.

Runs on the Flower engine (``pip install sksafe[federated]``): its simulation mode for many
clients in one process, or a real server and client processes on 127.0.0.1
(:mod:`~sksafe.nn.federated.engine`). Methods: FedAvg; FedAvg with client-side
distillation (cross-entropy + temperature-scaled KL to the teacher); server-side
distillation of the aggregated student on unlabeled public data (FedDF-style); a
private/proxy-model variant; l1 or group-lasso penalties by proximal steps so that the
deployed student is sparse.

- :mod:`~sksafe.nn.federated.partition` (NumPy only): Dirichlet and class-specific splits;
- :mod:`~sksafe.nn.federated.models`: students, the distillation loss, local training;
- :mod:`~sksafe.nn.federated.teacher`: all-MiniLM-L6-v2 + head, loaded offline;
- :mod:`~sksafe.nn.federated.client`, :mod:`~sksafe.nn.federated.strategy`: the Flower
  client and server strategy;
- :mod:`~sksafe.nn.federated.tasks`: the movie-review and digits reproduction tasks.

Importing this package imports neither torch nor flwr: the names below are loaded on first
access and raise an ImportError that says what to install when those are missing.
"""
import importlib

_LAZY = {"dirichlet_partition": "partition", "class_partition": "partition",
         "subsample_classes": "partition", "label_counts": "partition",
         "split_clients": "partition",
         "MLP": "models", "ModelSpec": "models", "distillation_loss": "models",
         "kd_term": "models", "train_model": "models", "train_mutual": "models",
         "proximal_step": "models", "model_size": "models", "predict_logits": "models",
         "get_weights": "models", "set_weights": "models",
         "load_minilm": "teacher", "FoundationTeacher": "teacher",
         "TeacherUnavailableError": "teacher",
         "ClientData": "client", "LocalConfig": "client", "DistillClient": "client",
         "ClientFactory": "client",
         "FedDistill": "strategy", "ServerDistillConfig": "strategy", "EvalSet": "strategy",
         "ClientFailureError": "strategy", "evaluate_logits": "strategy",
         "run_simulation": "engine", "run_processes": "engine", "train_federated": "engine",
         "FederatedResult": "engine",
         "FederatedTask": "tasks", "digits_task": "tasks", "movie_review_task": "tasks",
         "load_movie_reviews": "tasks"}

__all__ = sorted(_LAZY)


def __getattr__(name):
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    module = importlib.import_module(f".{_LAZY[name]}", __name__)
    value = getattr(module, name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(_LAZY))
