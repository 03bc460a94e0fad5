"""Auto-Train-Once against l1-filter pruning, group-lasso pruning and the dense model.

Setting (issue 7; Wu et al., "Auto-Train-Once", CVPR 2024, arXiv 2403.14729): scikit-learn's
digits (8 x 8), split 70/15/15 into train/validation/test (stratified, fixed), two models

- CNN: conv3x3(1->16)-BN-ReLU, conv3x3(16->32)-BN-ReLU, maxpool, conv3x3(32->64)-BN-ReLU,
  global average pooling, linear(64->10) (24,170 parameters, 611,978 FLOPs);
- MLP: 64-128-128-10 with BatchNorm1d and ReLU on the hidden layers;

kept-FLOPs targets p = 0.3, 0.5, 0.7, seeds 0, 1, 2 (model initialisation, batches,
controller), the same recipe for every method: 60 epochs, AdamW (lr 1e-3, weight decay
5e-4), 3 warm-up epochs then cosine, batch 64, label smoothing 0.1. Methods:

- dense: no pruning;
- ATO: controller every step on a held-out 10% of the training set, lambda 10 then 1000,
  FLOPs weight 4, schedule 6 / 12 / 28 / 33 (controller start, projection start, lambda
  switch, freeze); zero groups removed at the end, no fine-tuning;
- group lasso: proximal group lasso on every channel (lambda 0.02) until epoch 33, then the
  budget's weakest channels (norm relative to their layer) are zeroed and removed;
- l1 + FT: 40 dense epochs, l1-norm filter pruning (same fraction per layer), 20 epochs of
  fine-tuning of the smaller network.

FLOPs and parameters are counted per layer (``sksafe.nn.pruning.count_cost``) on the dense
and on the physically pruned model; accuracy is the pruned model's on the test split; time
is the wall time of an epoch's training steps (controller steps included). Writes
``results/pruning_results.md``, ``results/pruning_runs.csv`` and
``results/pruning_accuracy_flops.png``.

Run: ``python benchmarks/bench_pruning.py`` (about 6 minutes on 2 CPU cores).
"""
import argparse
import csv
import platform
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402

from sksafe.nn.pruning import (AutoTrainOnce, DenseTrainer, GroupLassoPruning,  # noqa: E402
                               L1FilterPruning)

RESULTS = Path(__file__).parent / "results"
nn = torch.nn
METHODS = {"ATO": AutoTrainOnce, "group lasso": GroupLassoPruning, "l1 + FT": L1FilterPruning}


def conv_bn_relu(c_in, c_out):
    return [nn.Conv2d(c_in, c_out, 3, padding=1), nn.BatchNorm2d(c_out), nn.ReLU()]


def cnn():
    return nn.Sequential(*conv_bn_relu(1, 16), *conv_bn_relu(16, 32), nn.MaxPool2d(2),
                         *conv_bn_relu(32, 64), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                         nn.Linear(64, 10))


def mlp():
    return nn.Sequential(nn.Linear(64, 128), nn.BatchNorm1d(128), nn.ReLU(),
                         nn.Linear(128, 128), nn.BatchNorm1d(128), nn.ReLU(), nn.Linear(128, 10))


MODELS = {"CNN": (cnn, (-1, 1, 8, 8)), "MLP": (mlp, (-1, 64))}


def data():
    X, y = load_digits(return_X_y=True)
    X = (X / 16).astype(np.float32)
    X_tr, X_rest, y_tr, y_rest = train_test_split(X, y, test_size=0.3, stratify=y,
                                                  random_state=0)
    X_va, X_te, y_va, y_te = train_test_split(X_rest, y_rest, test_size=0.5, stratify=y_rest,
                                              random_state=0)
    return [torch.from_numpy(a) for a in (X_tr, y_tr, X_va, y_va, X_te, y_te)]


def run(model_name, method, target, seed, split, epochs):
    make, shape = MODELS[model_name]
    X_tr, y_tr, X_va, y_va, X_te, y_te = (t.reshape(shape) if t.dim() == 2 else t
                                          for t in split)
    torch.manual_seed(seed)
    model = make()
    kwargs = dict(epochs=epochs, random_state=seed)
    if method == "dense":
        trainer = DenseTrainer(model, X_tr[:2], **kwargs)
    else:
        trainer = METHODS[method](model, X_tr[:2], flops_target=target, **kwargs)
    start = time.perf_counter()
    trainer.fit(X_tr, y_tr, X_va, y_va)
    summary = trainer.summary()
    return dict(model=model_name, method=method, target=target, seed=seed,
                test_accuracy=trainer.score(X_te, y_te),
                val_accuracy=trainer.history_[-1]["val_accuracy"], **summary,
                wall=time.perf_counter() - start), trainer


def table(rows):
    lines = ["| model | method | target p | test accuracy | kept FLOPs | kept params | "
             "FLOPs after | params after | s / epoch |",
             "|---|---|---:|---:|---:|---:|---:|---:|---:|"]
    keys = sorted({(r["model"], r["method"], r["target"]) for r in rows},
                  key=lambda k: (k[0], k[2] if k[2] else 1, k[1]))
    for model, method, target in keys:
        rs = [r for r in rows if (r["model"], r["method"], r["target"]) == (model, method, target)]
        acc = np.array([r["test_accuracy"] for r in rs])
        fr = np.array([r["flops_ratio"] for r in rs])
        pr = np.array([r["params_ratio"] for r in rs])
        lines.append(
            f"| {model} | {method} | {target if target else '-'} | "
            f"{acc.mean():.3f} ± {acc.std():.3f} | {fr.mean():.3f} ({fr.min():.3f}-{fr.max():.3f})"
            f" | {pr.mean():.3f} | {np.mean([r['flops_after'] for r in rs]):,.0f} | "
            f"{np.mean([r['params_after'] for r in rs]):,.0f} | "
            f"{np.mean([r['epoch_time'] for r in rs]):.3f} |")
    return "\n".join(lines)


def figure(rows, path):
    fig, axes = plt.subplots(1, 2, figsize=(10, 4), sharey=True)
    for ax, model in zip(axes, MODELS):
        for method, marker in [("ATO", "o"), ("group lasso", "s"), ("l1 + FT", "^")]:
            rs = [r for r in rows if r["model"] == model and r["method"] == method]
            ax.scatter([r["flops_ratio"] for r in rs], [r["test_accuracy"] for r in rs],
                       marker=marker, label=method, alpha=0.8)
        dense = [r["test_accuracy"] for r in rows if r["model"] == model and
                 r["method"] == "dense"]
        ax.axhline(np.mean(dense), color="k", ls="--", lw=1, label="dense (mean)")
        for p in (0.3, 0.5, 0.7):
            ax.axvline(p, color="grey", lw=0.5)
        ax.set_title(f"{model} on digits")
        ax.set_xlabel("kept FLOPs fraction (counted on the pruned model)")
    axes[0].set_ylabel("test accuracy")
    axes[0].legend(loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--epochs", type=int, default=60)
    parser.add_argument("--seeds", type=int, default=3)
    args = parser.parse_args()
    torch.set_num_threads(1)
    split = data()
    start = time.time()
    rows, example = [], None
    for model_name in MODELS:
        for seed in range(args.seeds):
            row, _ = run(model_name, "dense", None, seed, split, args.epochs)
            rows.append(row)
            for target in (0.3, 0.5, 0.7):
                for method in METHODS:
                    row, trainer = run(model_name, method, target, seed, split, args.epochs)
                    rows.append(row)
                    print({k: (round(v, 3) if isinstance(v, float) else v)
                           for k, v in row.items()}, flush=True)
                    if (model_name, method, target, seed) == ("CNN", "ATO", 0.5, 0):
                        example = trainer
    minutes = (time.time() - start) / 60
    RESULTS.mkdir(exist_ok=True)
    with open(RESULTS / "pruning_runs.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    figure(rows, RESULTS / "pruning_accuracy_flops.png")
    errors = [abs(r["flops_ratio"] - r["target"]) for r in rows if r["method"] == "ATO"]
    machine = (f"{platform.processor() or platform.machine()} VM, 2 CPU cores, "
               f"{platform.system()} {platform.release()}, Python {platform.python_version()}, "
               f"torch {torch.__version__} (1 thread); no GPU is lent to this task, so the "
               "ResNet-on-GPU run of issue 7 was not possible")
    text = ["# Structured pruning on digits: ATO vs baselines vs dense",
            "",
            f"`python benchmarks/bench_pruning.py` ({time.strftime('%Y-%m-%d')}, "
            f"{minutes:.1f} min). Machine: {machine}.",
            "",
            f"{args.epochs} epochs for every method, seeds 0-{args.seeds - 1}; mean ± std over "
            "seeds (kept FLOPs: mean, min-max). `target p` is the kept fraction of the dense "
            "model's counted FLOPs; `kept FLOPs` and `kept params` are counted on the "
            "physically pruned model. Dense: CNN 611,978 FLOPs and 24,170 parameters, MLP "
            f"{rows[-10]['flops_before']:,} FLOPs and {rows[-10]['params_before']:,} "
            "parameters.",
            "",
            table(rows),
            "",
            f"ATO's achieved kept-FLOPs fraction is within {max(errors):.3f} of the target "
            f"over all {len(errors)} runs (mean absolute error {np.mean(errors):.3f}).",
            "",
            "Per-layer counts of one ATO run (CNN, p = 0.5, seed 0), before and after:",
            "",
            example.cost_before_.to_markdown(),
            "",
            example.cost_after_.to_markdown(),
            "",
            "![accuracy vs kept FLOPs](pruning_accuracy_flops.png)",
            ""]
    (RESULTS / "pruning_results.md").write_text("\n".join(text))
    print("\n".join(text))


if __name__ == "__main__":
    main()
