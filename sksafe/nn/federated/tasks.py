"""The two reproduction tasks: movie reviews with the MiniLM teacher, digits with a stand-in.

Both split the data the same way: a **balanced test set**, a **public split** held by the
server (labelled, to train the teacher's head or the stand-in teacher; its inputs, without
labels, are the unlabeled data of server-side distillation), and a **client pool**, from
which some classes are subsampled (rare on clients) before the pool is partitioned over
the clients (:func:`~sksafe.nn.federated.partition.split_clients`).

- :func:`movie_review_task`: 5000 IMDB reviews (raw text; ``shared/data/text``); the
  teacher is all-MiniLM-L6-v2 + a logistic head (:class:`~.teacher.FoundationTeacher`); the
  student a sparse bag-of-words (TF-IDF, vocabulary of the public split) linear model.
- :func:`digits_task`: scikit-learn's 1797 8x8 digits, ten classes, many clients; the
  stand-in teacher is an MLP 64-512-512-10 trained on the public split, the student an MLP
  64-32-10 (or multinomial logistic regression).
"""
import bz2
import functools
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .client import ClientData
from .models import ModelSpec, model_size, predict_logits, single_thread, train_model
from .partition import label_counts, split_clients, subsample_classes
from .strategy import EvalSet, evaluate_logits

__all__ = ["FederatedTask", "build_task", "digits_task", "movie_review_task",
           "load_movie_reviews", "balanced_split"]


@dataclass
class FederatedTask:
    """Everything a federated run needs (see the module docstring).

    Attributes
    ----------
    name : str
    clients : list of ClientData
    spec : ModelSpec
        The student.
    test : EvalSet
    public_X, public_teacher_logits : array-like
        The server's unlabeled public inputs and the teacher's logits on them.
    teacher : dict
        The teacher's test metrics (``accuracy``, ...) and inference cost (``n_params``,
        ``macs_per_sample``, ...).
    partition : str
    label_counts : ndarray of shape (n_clients, n_classes)
    """

    name: str
    clients: list
    spec: ModelSpec
    test: EvalSet
    public_X: object
    public_teacher_logits: np.ndarray
    teacher: dict
    partition: str
    label_counts: np.ndarray


def balanced_split(y, n_test_per_class, n_public, seed):
    """Indices ``(test, public, pool)``: a test set with ``n_test_per_class`` samples of every
    class, a stratified public split of ``n_public`` samples, and the rest."""
    from sklearn.model_selection import train_test_split
    y = np.asarray(y)
    rng = np.random.default_rng(seed)
    test = np.concatenate([rng.permutation(np.flatnonzero(y == c))[:n_test_per_class]
                           for c in np.unique(y)])
    rest = np.setdiff1d(np.arange(y.size), test)
    pool, public = train_test_split(rest, test_size=n_public, stratify=y[rest],
                                    random_state=int(rng.integers(2**31)))
    return np.sort(test), np.sort(public), np.sort(pool)


def build_task(name, spec, *, X_pool, y_pool, teacher_pool, X_public, teacher_public, X_test,
               y_test, teacher, n_clients, scheme, seed, rare_classes=(), keep=1.0):
    """Subsample the rare classes of the pool, partition it, and assemble the task."""
    kept = subsample_classes(y_pool, rare_classes, keep, seed) if rare_classes else \
        np.arange(len(y_pool))
    y_kept = np.asarray(y_pool)[kept]
    parts = split_clients(y_kept, n_clients, scheme, seed=seed)
    clients = [ClientData(X_pool[kept[p]], y_kept[p], teacher_pool[kept[p]]) for p in parts]
    return FederatedTask(name=name, clients=clients, spec=spec,
                         test=EvalSet(X_test, np.asarray(y_test), tuple(rare_classes)),
                         public_X=X_public, public_teacher_logits=teacher_public,
                         teacher=teacher, partition=scheme,
                         label_counts=label_counts(y_kept, parts, spec.n_classes))


@functools.lru_cache(maxsize=4)
def _digits_setup(split_seed, teacher_hidden, teacher_epochs):
    from sklearn.datasets import load_digits
    X, y = load_digits(return_X_y=True)
    X = (X / 16.0).astype(np.float32)
    test, public, pool = balanced_split(y, 30, 500, split_seed)
    teacher = ModelSpec(64, 10, teacher_hidden).build(split_seed)
    with single_thread():
        train_model(teacher, X[public], y[public], epochs=teacher_epochs, lr=0.05,
                    batch_size=32, seed=(split_seed, 7))
        logits = predict_logits(teacher, X)
    info = {**evaluate_logits(logits[test], y[test], n_classes=10), **model_size(teacher)}
    return X, y, logits, test, public, pool, info


def digits_task(n_clients=20, scheme="dirichlet-client:0.1", seed=0, *, hidden=(32,),
                rare_classes=(7, 8, 9), keep=0.2, split_seed=0, teacher_hidden=(512, 512),
                teacher_epochs=150):
    """scikit-learn digits: 300 test (30 per class), 500 public, 997 in the client pool.

    The stand-in teacher (MLP ``64-teacher_hidden-10``, trained by SGD on the public
    split, about 97 % test accuracy) plays the foundation model; ``keep`` of the pool's
    samples of ``rare_classes`` are kept.
    """
    X, y, logits, test, public, pool, info = _digits_setup(split_seed, tuple(teacher_hidden),
                                                           teacher_epochs)
    return build_task("digits", ModelSpec(64, 10, tuple(hidden)), X_pool=X[pool],
                      y_pool=y[pool], teacher_pool=logits[pool], X_public=X[public],
                      teacher_public=logits[public], X_test=X[test], y_test=y[test],
                      teacher=info, n_clients=n_clients, scheme=scheme, seed=seed,
                      rare_classes=rare_classes, keep=keep)


def load_movie_reviews(path):
    """``(texts, y)`` of ``movie_review.jsonl.bz2`` (one JSON object per line with
    ``review`` and ``sentiment``)."""
    with bz2.open(Path(path), "rt") as f:
        rows = [json.loads(line) for line in f]
    return [r["review"] for r in rows], np.array([int(r["sentiment"]) for r in rows])


@functools.lru_cache(maxsize=2)
def _movie_setup(path, split_seed, cache_dir, n_test_per_class, n_public):
    from sklearn.feature_extraction.text import TfidfVectorizer

    from .teacher import FoundationTeacher
    texts, y = load_movie_reviews(path)
    test, public, pool = balanced_split(y, n_test_per_class, n_public, split_seed)
    texts = np.asarray(texts, dtype=object)
    vectorizer = TfidfVectorizer(min_df=2, sublinear_tf=True, dtype=np.float32)
    vectorizer.fit(texts[public])  # the vocabulary is the server's, sent to the clients
    X = vectorizer.transform(texts).tocsr()
    teacher = FoundationTeacher(cache_dir=cache_dir)
    emb = teacher.embed(texts)  # one pass of the encoder over all texts (cached)
    teacher.fit(texts[public], y[public], embeddings=emb[public])
    logits = teacher.logits(texts, embeddings=emb)
    info = {**evaluate_logits(logits[test], y[test], n_classes=2),
            **teacher.cost(texts[test][:32])}
    return X, y, logits, test, public, pool, info


def movie_review_task(path, n_clients=10, scheme="dirichlet-client:0.1", seed=0, *,
                      rare_classes=(1,), keep=0.3, split_seed=0, cache_dir=None,
                      n_test_per_class=500,
                      n_public=1000):
    """IMDB movie reviews: 1000 test (500 per class), 1000 public, 3000 in the client pool.

    The teacher is :class:`~.teacher.FoundationTeacher` (MiniLM + logistic head trained on
    the public split); the student a linear model on TF-IDF bag-of-words features whose
    vocabulary (words in at least two public reviews) is the server's.
    """
    X, y, logits, test, public, pool, info = _movie_setup(
        str(path), split_seed, None if cache_dir is None else str(cache_dir),
        n_test_per_class, n_public)
    return build_task("movie_review", ModelSpec(X.shape[1], 2, ()), X_pool=X[pool],
                      y_pool=y[pool], teacher_pool=logits[pool], X_public=X[public],
                      teacher_public=logits[public], X_test=X[test], y_test=y[test],
                      teacher=info, n_clients=n_clients, scheme=scheme, seed=seed,
                      rare_classes=rare_classes, keep=keep)
