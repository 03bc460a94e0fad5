"""Malcom-PSGD against CHOCO-SGD and uncompressed D-SGD on scikit-learn's digits.

Setting (issue 6; Campbell, Liu, Woldemariam & Scaglione, arXiv 2311.05760): 8 nodes on a
ring and on a 2 x 4 torus, IID and label-skewed splits of the 1347 training digits,
multinomial logistic regression (d = 650, convex) and a 64-32-10 ReLU MLP (d = 2410).
Every method runs the same minibatches (32 per node and step) from the same initial model
and, for the two compressed ones, the same quantiser: CHOCO-scaled QSGD with s = 15
levels and consensus rate 0.5. What differs:

- Malcom-PSGD: l1 penalty ``mu`` with the soft threshold after the consensus step
  (``order="prox_last"``, so the node models are exactly sparse), messages coded with the
  Elias/Golomb vector code;
- Malcom-PSGD, mu = 0: the same code without the l1 step (isolates the coding gain; its
  trajectory is CHOCO-SGD's, bit for bit);
- CHOCO-SGD: no l1, fixed-length code (32-bit norm + 5 bits per coordinate);
- D-SGD: float32 models, ``x_i <- sum_j w_ij (x_j - eta g_j)``.

Bits are the lengths of the encoded messages (one per node and step, sent to every
neighbour), averaged over the nodes. Writes ``results/malcom_psgd_results.md`` and the
figures ``results/malcom_psgd_{logreg,mlp,sparsity}.png``.

Run: ``python benchmarks/bench_malcom_psgd.py`` (about 3 minutes on 2 CPU cores).
"""
import argparse
import os
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

from sksafe.nn import (QSGD, DecentralizedOptimizer, Float32, LocalNetwork, ring,  # noqa: E402
                       split_by_label, split_iid, torus)

RESULTS = Path(__file__).parent / "results"
N_NODES, BATCH, S_LEVELS, GAMMA = 8, 32, 15, 0.5
MODELS = {  # learning rate, l1 weight of Malcom-PSGD, target test accuracy
    "logreg": dict(lr=0.3, mu=3e-3, target=0.92),
    "mlp": dict(lr=0.1, mu=1e-3, target=0.90),
}
METHODS = {
    "Malcom-PSGD": dict(coding="entropy", l1=True),
    "Malcom-PSGD (mu=0)": dict(coding="entropy", l1=False),
    "CHOCO-SGD": dict(coding="fixed", l1=False),
    "D-SGD": dict(coding=None, l1=False),
}
TOPOLOGIES = {"ring": lambda: ring(N_NODES), "torus 2x4": lambda: torus(2, 4)}
SPLITS = ("iid", "label-skewed")


def load_data():
    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(
        (X / 16).astype(np.float32), y, test_size=0.25, stratify=y, random_state=0)
    return tuple(torch.from_numpy(a) for a in (X_train, X_test, y_train, y_test))


def make_model(kind):
    torch.manual_seed(0)
    if kind == "logreg":
        return torch.nn.Linear(64, 10)
    return torch.nn.Sequential(torch.nn.Linear(64, 32), torch.nn.ReLU(), torch.nn.Linear(32, 10))


def run(kind, topology, split, method, data, n_steps, eval_every):
    """One decentralized training run; returns the evaluation history."""
    X_train, X_test, y_train, y_test = data
    if split == "iid":
        shards = split_iid(len(y_train), N_NODES, seed=0)
    else:
        shards = split_by_label(y_train.numpy(), N_NODES, seed=0)
    spec, hyper = METHODS[method], MODELS[kind]
    compressed = spec["coding"] is not None
    models = [make_model(kind) for _ in range(N_NODES)]
    opt = DecentralizedOptimizer(
        models, LocalNetwork(topology),
        compressor=QSGD(S_LEVELS, scaled=True, coding=spec["coding"]) if compressed else Float32(),
        lr=hyper["lr"], mu=hyper["mu"] if spec["l1"] else 0.0,
        gamma=GAMMA if compressed else 1.0, order="prox_last", seed=0,
        record_entropy=spec["coding"] == "entropy")
    evaluator = make_model(kind)
    batches = np.random.default_rng(0)
    history = []
    for step in range(1, n_steps + 1):
        for shard, model in zip(shards, models):
            idx = torch.from_numpy(batches.choice(shard, BATCH))
            torch.nn.functional.cross_entropy(model(X_train[idx]), y_train[idx]).backward()
        opt.step()
        opt.zero_grad()
        if step % eval_every == 0:
            engine = opt.engine
            torch.nn.utils.vector_to_parameters(torch.from_numpy(engine.average()).float(),
                                                evaluator.parameters())
            with torch.no_grad():
                accuracy = (evaluator(X_test).argmax(1) == y_test).double().mean().item()
            history.append(dict(
                step=step, accuracy=accuracy, consensus=engine.consensus_error(),
                bits=float(engine.bits_sent.mean()),
                entropy_bound=float(engine.entropy_bound_sent.mean()),
                sparsity=float(np.mean([np.mean(x == 0) for x in engine.models]))))
    return history


def bits_to_target(history, target):
    for row in history:
        if row["accuracy"] >= target:
            return row["bits"]
    return None


def machine():
    cpu = "unknown CPU"
    if os.path.exists("/proc/cpuinfo"):
        with open("/proc/cpuinfo") as f:
            names = [line.split(":", 1)[1].strip() for line in f if line.startswith("model name")]
        cpu = f"{names[0]} ({len(names)} cores visible)" if names else cpu
    return (f"{cpu}, {platform.system()} {platform.release()}, Python "
            f"{platform.python_version()}, torch {torch.__version__} (1 thread), numpy "
            f"{np.__version__}; no GPU (none is lent to this task, so the larger-model GPU "
            "run of issue 6 was not possible)")


def fmt_bits(bits):
    return "not reached" if bits is None else f"{bits / 1e6:.3f}"


def write_table(results, n_steps, elapsed, path):
    lines = [
        "# Malcom-PSGD vs CHOCO-SGD vs D-SGD on digits (8 nodes)",
        "",
        f"`python benchmarks/bench_malcom_psgd.py` ({time.strftime('%Y-%m-%d')}, "
        f"{elapsed / 60:.1f} min). Machine: {machine()}.",
        "",
        f"{n_steps} steps, minibatch {BATCH} per node, QSGD s = {S_LEVELS} (CHOCO-scaled), "
        f"consensus rate {GAMMA}, same minibatches and initial model for every method. "
        "Bits: mean over nodes of the cumulative length of the encoded messages (Mbit). "
        "`saving` = 1 - Malcom-PSGD bits / CHOCO-SGD bits to the target accuracy.",
        "",
        "| model | topology | split | target | Malcom-PSGD | Malcom (mu=0) | CHOCO-SGD | "
        "D-SGD | saving vs CHOCO | saving vs D-SGD | final acc. Malcom / CHOCO / D-SGD | "
        "Malcom sparsity | Malcom bits / entropy bound |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    savings, coding_only, per_step, mu0_wins = [], [], {}, 0
    for (kind, top, split), runs in results.items():
        target = MODELS[kind]["target"]
        to_target = {m: bits_to_target(h, target) for m, h in runs.items()}
        malcom, choco, dsgd = (to_target[m] for m in ("Malcom-PSGD", "CHOCO-SGD", "D-SGD"))
        vs_choco = 1 - malcom / choco if malcom and choco else None
        vs_dsgd = 1 - malcom / dsgd if malcom and dsgd else None
        if vs_choco is not None:
            savings.append(vs_choco)
        plain = to_target["Malcom-PSGD (mu=0)"]
        if plain and choco:
            coding_only.append(1 - plain / choco)
        mu0_wins += bool(plain and (malcom is None or plain <= malcom))
        last = {m: h[-1] for m, h in runs.items()}
        dim = sum(p.numel() for p in make_model(kind).parameters())
        for m in METHODS:
            per_step.setdefault((kind, m), []).append(last[m]["bits"] / n_steps / dim)
        ratio = last["Malcom-PSGD"]["bits"] / last["Malcom-PSGD"]["entropy_bound"]
        lines.append(
            f"| {kind} | {top} | {split} | {target:.2f} | "
            + " | ".join(fmt_bits(to_target[m]) for m in METHODS)
            + f" | {'-' if vs_choco is None else f'{vs_choco:.0%}'}"
            + f" | {'-' if vs_dsgd is None else f'{vs_dsgd:.1%}'} | "
            + " / ".join(f"{last[m]['accuracy']:.3f}"
                         for m in ("Malcom-PSGD", "CHOCO-SGD", "D-SGD"))
            + f" | {last['Malcom-PSGD']['sparsity']:.0%} | {ratio:.3f} |")
    if savings:
        summary = (f"Median saving of Malcom-PSGD over CHOCO-SGD in bits to the target: "
                   f"{np.median(savings):.0%} (range {min(savings):.0%} to {max(savings):.0%}, "
                   f"{len(savings)} settings where both reached it)")
    else:
        summary = "Malcom-PSGD and CHOCO-SGD did not both reach the target in any setting"
    lines += ["", summary + "; the paper reports about 75%."]
    if coding_only:
        lines += ["", f"The same without the l1 step (Malcom-PSGD, mu = 0: CHOCO-SGD's trajectory "
                      f"with the entropy code): median saving {np.median(coding_only):.0%} "
                      f"(range {min(coding_only):.0%} to {max(coding_only):.0%})."]
    lines += ["", "Bits per parameter and step, mean over the settings:", "",
              "| model | " + " | ".join(METHODS) + " |", "|---|" + "---|" * len(METHODS)]
    for kind in MODELS:
        lines.append(f"| {kind} | " + " | ".join(f"{np.mean(per_step[kind, m]):.2f}"
                                                 for m in METHODS) + " |")
    last_malcom = [runs["Malcom-PSGD"][-1] for runs in results.values()]
    ratios = [r["bits"] / r["entropy_bound"] - 1 for r in last_malcom]
    by_model = {kind: [r["sparsity"] for r, key in zip(last_malcom, results) if key[0] == kind]
                for kind in MODELS}
    sparsity = ", ".join(f"{kind}: {min(v):.0%} to {max(v):.0%} zeros"
                         for kind, v in by_model.items()) + f" after {n_steps} steps"
    lines += ["", READING.format(
        mu0_wins=mu0_wins, n_settings=len(results), sparsity=sparsity,
        median=np.median(savings) if savings else float("nan"),
        median_4bit=1 - (1 - np.median(savings)) * 5 / 4 if savings else float("nan"),
        entropy_low=min(ratios), entropy_high=max(ratios))]
    path.write_text("\n".join(lines) + "\n")
    return savings


READING = """\
## Reading

- **Where the saving comes from.** CHOCO-SGD's fixed-length code spends 5 bits per
  coordinate (a level in [-15, 15]) plus the norm; the Elias/Golomb code of the same levels
  spends about one to one and a half (table above), because most levels of a norm-scaled
  residual are 0 or +-1. This alone gives the saving: the mu = 0 column, whose quantised
  messages are exactly CHOCO-SGD's, reached the target with no more bits than Malcom-PSGD in
  {mu0_wins} of {n_settings} settings.
- **The l1 step** makes the node models exactly sparse ({sparsity}; see
  `malcom_psgd_sparsity.png`) but barely changes the bits per step: the residual
  `x_i - x̂_i` that is quantised stays dense, since the public copy carries quantisation
  error on every coordinate, zero or not. At these mu it costs some accuracy. We did not
  reproduce the paper's account that the sparsity of the model is what makes the messages
  cheap.
- **Against the paper's ~75%.** Our median saving over CHOCO-SGD ({median:.0%}) is close to
  the headline number, but on a different task (digits, 8 nodes; the paper's models, data
  and mu are not known to us) and for a different reason (the code, not the sparsity). It
  depends on the baseline's accounting: ours counts the real bytes (sign bit and norm
  included); a count without the sign bit (4 bits per coordinate) would make the baseline
  20% cheaper and the median saving {median_4bit:.0%}.
- **Versus uncompressed D-SGD** (32 bits per coordinate) both compressed methods save far
  more, at the cost of a larger consensus error (figures).
- Malcom-PSGD's messages are {entropy_low:.0%} to {entropy_high:.0%} longer than
  `d H(z)` (last column): the 32-bit norm and the symbol table are a visible share of a
  message of a few hundred bytes.
"""


def plot_curves(results, kind, path):
    settings = [key for key in results if key[0] == kind]
    fig, axes = plt.subplots(2, len(settings), figsize=(4 * len(settings), 6.5), sharey="row")
    for col, key in enumerate(settings):
        for method, history in results[key].items():
            bits = [r["bits"] for r in history]
            axes[0, col].semilogx(bits, [r["accuracy"] for r in history], label=method)
            axes[1, col].loglog(bits, [r["consensus"] for r in history], label=method)
        axes[0, col].axhline(MODELS[kind]["target"], color="grey", lw=0.8, ls=":")
        axes[0, col].set_title(f"{key[1]}, {key[2]}")
        axes[1, col].set_xlabel("cumulative bits per node")
    axes[0, 0].set_ylabel("test accuracy (averaged model)")
    axes[1, 0].set_ylabel("consensus error (1/N) sum ||x_i - x̄||²")
    axes[0, 0].legend(fontsize=8)
    fig.suptitle(f"digits, 8 nodes, {kind}")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_sparsity(results, path):
    fig, ax = plt.subplots(figsize=(6.5, 4))
    for (kind, top, split), runs in results.items():
        history = runs["Malcom-PSGD"]
        ax.plot([r["step"] for r in history], [r["sparsity"] for r in history],
                label=f"{kind}, {top}, {split}")
    ax.set_xlabel("iteration")
    ax.set_ylabel("fraction of exact zeros in the node models")
    ax.set_title("Malcom-PSGD: model sparsity over time")
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--eval-every", type=int, default=20)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    torch.set_num_threads(1)
    args.out.mkdir(parents=True, exist_ok=True)
    data = load_data()
    results = {}
    start = time.perf_counter()
    for kind in MODELS:
        for top_name, make_topology in TOPOLOGIES.items():
            for split in SPLITS:
                key = (kind, top_name, split)
                results[key] = {}
                for method in METHODS:
                    tic = time.perf_counter()
                    results[key][method] = run(kind, make_topology(), split, method, data,
                                               args.steps, args.eval_every)
                    final = results[key][method][-1]
                    print(f"{kind:6s} {top_name:9s} {split:12s} {method:18s} "
                          f"acc {final['accuracy']:.3f}  {final['bits'] / 1e6:8.3f} Mbit  "
                          f"{time.perf_counter() - tic:5.1f} s", flush=True)
    elapsed = time.perf_counter() - start
    savings = write_table(results, args.steps, elapsed, args.out / "malcom_psgd_results.md")
    for kind in MODELS:
        plot_curves(results, kind, args.out / f"malcom_psgd_{kind}.png")
    plot_sparsity(results, args.out / "malcom_psgd_sparsity.png")
    print(f"savings vs CHOCO-SGD: {np.round(savings, 3).tolist()}; {elapsed:.0f} s")


if __name__ == "__main__":
    main()
