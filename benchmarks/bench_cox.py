"""Time-to-duality-gap benchmark of sparse Cox regression: sksafe, skglm, scikit-survival.

Every solver minimises the same objective, the L1-penalised Breslow partial likelihood
with uniform weights and no intercept::

    P(w) = 1/n sum_i d_i [log(sum_{j: t_j >= t_i} exp(x_j^T w)) - x_i^T w] + alpha ||w||_1

(the continuous times of the designs below have no ties, so skglm's ``Cox()`` value
and ours coincide; scikit-survival's ``CoxnetSurvivalAnalysis``, glmnet's coordinate
descent, uses the same ``1/n`` scaling and ``alpha``). ``alpha = alpha_max / 10`` and
``/ 50``. Every solver runs from a cold start with a decreasing ``tol``; after each
fit the benchmark computes the relative duality gap ``(P(w) - D) / P(0)`` of the
returned coefficients itself, ``D`` being the best dual value over the dual points
(rescaled negative gradients) of every fit of every solver on the problem, with
sksafe's exact Cox conjugate. The time to a gap is the time of the fastest fit whose
gap is below it (benchopt style), as in ``bench_solvers.py``.

The shared data folder holds no survival outcome, so the designs are real gene
expression matrices (``expression/gravier.npz``, ``expression/pomeroy.npz``,
standardised) with survival times drawn from a sparse Cox model on them, plus a
synthetic AR(1) design; the outcomes are simulated and say so in the results.

``python benchmarks/bench_cox.py --help`` for the options.
"""
import argparse
import gc
import sys
import time
import warnings
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

from bench_solvers import default_data_dir, fmt_time, machine_info  # noqa: E402

from sksafe import SparseCoxRegression  # noqa: E402
from sksafe.datafits import Cox  # noqa: E402
from sksafe.penalties import L1  # noqa: E402
from sksafe.screening.gap_safe import evaluate_dual  # noqa: E402
from sksafe.solvers import make_problem  # noqa: E402

TARGETS = (1e-4, 1e-6)
ALPHA_RATIOS = (10, 50)
TOL_GRID = tuple(10.0 ** (-k / 2) for k in range(2, 19))
SOLVERS = ("sksafe", "skglm", "coxnet")
#: iteration caps (skglm: prox-Newton outer iterations; Coxnet: coordinate-descent sweeps):
#: a fit cannot be interrupted, so they bound the time of one fit; a capped fit that
#: stops early is measured like any other (its gap decides)
MAX_ITER = {"skglm": 100, "coxnet": 20_000}


def survival_outcome(X, n_nonzero, seed):
    """Times from ``h(t | x) = exp(x^T w)`` (exponential baseline), ~30 % censored."""
    rng = np.random.default_rng(seed)
    w = np.zeros(X.shape[1])
    w[rng.choice(X.shape[1], n_nonzero, replace=False)] = rng.choice([-1, 1], n_nonzero) * 0.5
    risk = np.exp(X @ w)
    times = rng.exponential(1.0 / risk)
    censor = rng.exponential(2.5 / np.median(risk), size=X.shape[0])
    return np.column_stack([np.minimum(times, censor), (times <= censor).astype(float)])


def standardised(X):
    std = X.std(axis=0)
    keep = std > 0
    return (X[:, keep] - X[:, keep].mean(axis=0)) / std[keep]


def datasets(data_dir):
    out = []
    for name in ("gravier", "pomeroy"):
        path = data_dir / "expression" / f"{name}.npz"
        if not path.exists():
            print(f"[skip] {path} is absent")
            continue
        X = np.asfortranarray(standardised(np.load(path)["X"]))
        out.append((f"{name} (real X, simulated times)", X, survival_outcome(X, 10, 0)))
    rng = np.random.default_rng(0)
    n, p, rho = 300, 5000, 0.5
    X = np.empty((n, p))
    X[:, 0] = rng.standard_normal(n)
    for j in range(1, p):  # AR(1) columns
        X[:, j] = rho * X[:, j - 1] + np.sqrt(1 - rho ** 2) * rng.standard_normal(n)
    out.append(("synthetic AR(1) rho=0.5", np.asfortranarray(X), survival_outcome(X, 20, 1)))
    return out


def fit_function(solver, alpha):
    if solver == "sksafe":
        def fit(X, y, tol):
            return SparseCoxRegression(alpha=alpha, tol=tol, max_iter=1000).fit(X, y).coef_
    elif solver == "skglm":
        from skglm import CoxEstimator

        def fit(X, y, tol):
            # tol: skglm's KKT-violation stopping criterion
            return CoxEstimator(alpha=alpha, l1_ratio=1.0, method="breslow", tol=tol,
                                max_iter=MAX_ITER["skglm"]).fit(X, y).coef_
    else:
        from sksurv.linear_model import CoxnetSurvivalAnalysis
        from sksurv.util import Surv

        def fit(X, y, tol):
            # tol: Coxnet's (glmnet's) change of the coefficients between sweeps
            structured = Surv.from_arrays(event=y[:, 1].astype(bool), time=y[:, 0])
            model = CoxnetSurvivalAnalysis(alphas=[alpha], l1_ratio=1.0, tol=tol,
                                           max_iter=MAX_ITER["coxnet"], normalize=False)
            return model.fit(X, structured).coef_.ravel()
    return fit


class GapMeter:
    """Primal values and dual candidates of every fit of a problem, for one shared gap."""

    def __init__(self, X, y, alpha):
        self.problem = make_problem(X, y, None, Cox(), False)
        self.penalty = L1(alpha)
        self.a, self.b = self.penalty.l1_l2_weights(X.shape[1])
        self.X, self.alpha = X, alpha
        self.cols = np.arange(X.shape[1])
        self.best_dual = -np.inf
        self.p0 = Cox().value(np.zeros(X.shape[0]), self.problem.y, self.problem.s)

    def primal(self, coef):
        z = self.X @ coef
        return Cox().value(z, self.problem.y, self.problem.s) + self.alpha * np.abs(coef).sum()

    def add_dual(self, coef):
        pb = self.problem
        grad = np.empty(pb.n_samples)
        Cox().raw_grad(self.X @ coef, pb.y, pb.s, grad)
        dual = evaluate_dual(pb, Cox(), -grad, self.cols, self.a, self.b,
                             self.penalty.box(self.cols.size))[0]
        self.best_dual = max(self.best_dual, dual)
        return dual


def time_fits(fit, X, y, meter, budget):
    """Fits at decreasing ``tol`` (best of up to 3 runs each) until the target gap, the
    budget, or a numerical failure; returns ``(fits, error)``.

    Coxnet can raise ``ArithmeticError`` ("weights are too large") at small ``tol``
    and ``alpha``: the fits before it are kept and the error is reported.
    """
    fits, spent = [], 0.0
    try:
        fit(X, y, 1e-2)  # compile / warm up, untimed
        for tol in TOL_GRID:
            gc.collect()
            best = np.inf
            for _ in range(3):
                start = time.perf_counter()
                coef = fit(X, y, tol)
                elapsed = time.perf_counter() - start
                best = min(best, elapsed)
                if elapsed > 0.5:
                    break
            spent += best
            fits.append((tol, best, coef, meter.primal(coef), meter.add_dual(coef)))
            if best > budget or spent > 6 * budget:
                break
            if (meter.primal(coef) - fits[-1][4]) / meter.p0 < 0.1 * TARGETS[-1]:
                break
    except ArithmeticError as exc:
        print(f"[error] {exc}")
        return fits, type(exc).__name__
    return fits, None


def run_problem(name, X, y, alpha, ratio, solvers, budget):
    meter = GapMeter(X, y, alpha)
    records = {}
    for solver in solvers:
        try:
            fit = fit_function(solver, alpha)
        except ImportError as exc:
            print(f"[skip] {solver}: {exc}")
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            records[solver] = time_fits(fit, X, y, meter, budget)
    rows = []
    for solver, (fits, error) in records.items():
        gaps = [(max(p - meter.best_dual, 0.0) / meter.p0, t, (p - d) / meter.p0)
                for (_, t, _, p, d) in fits]
        row = {"dataset": name, "shape": f"{X.shape[0]} x {X.shape[1]}", "ratio": ratio,
               "solver": solver,
               "fits": f"{len(fits)}" + (f", then {error}" if error else ""),
               "best_gap": min((g for g, _, _ in gaps), default=np.inf),
               "best_own_gap": min((g for _, _, g in gaps), default=np.inf)}
        for target in TARGETS:
            times = [t for g, t, _ in gaps if g <= target and t <= budget]
            row[target] = min(times) if times else None
        rows.append(row)
    return rows


def ratio_text(ours, theirs, budget):
    if ours is None and theirs is None:
        return "n/a"
    if ours is None:
        return f">{budget / theirs:.2g}"
    if theirs is None:
        return f"<{ours / budget:.2g}"
    return f"{ours / theirs:.2g}"


def markdown(rows, budget):
    head = (["data", "n x p", "alpha", "solver"] + [f"t(gap<={t:.0e})" for t in TARGETS]
            + ["best gap", "best own-point gap", "fits", "sksafe / best other"])
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for row in rows:
        cells = [row["dataset"], row["shape"], f"amax/{row['ratio']}", row["solver"]]
        cells += [fmt_time(row[t], budget) for t in TARGETS]
        cells += [f"{row['best_gap']:.1e}", f"{row['best_own_gap']:.1e}", row["fits"]]
        if row["solver"] == "sksafe":
            others = [r for r in rows if r["dataset"] == row["dataset"]
                      and r["ratio"] == row["ratio"] and r["solver"] != "sksafe"]
            parts = []
            for t in TARGETS:
                times = [r[t] for r in others if r[t] is not None]
                parts.append(ratio_text(row[t], min(times) if times else None, budget))
            cells.append(" / ".join(parts))
        else:
            cells.append("")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", type=Path, default=default_data_dir())
    parser.add_argument("--budget", type=float, default=10.0,
                        help="seconds: a slower fit does not count (default 10)")
    parser.add_argument("--solvers", nargs="+", default=list(SOLVERS), choices=SOLVERS)
    parser.add_argument("--out", type=Path, default=HERE / "results" / "cox_results.md")
    args = parser.parse_args(argv)
    from threadpoolctl import threadpool_limits

    info = machine_info(1)
    for name in ("sksurv",):
        try:
            info["scikit-survival"] = __import__(name).__version__
        except ImportError:
            info["scikit-survival"] = "not installed"
    rows = []
    with threadpool_limits(limits=1, user_api="blas"):
        for name, X, y in datasets(args.data_dir):
            alpha_max = SparseCoxRegression(alpha=1e6).fit(X, y).alpha_max_
            for ratio in ALPHA_RATIOS:
                new = run_problem(name, X, y, alpha_max / ratio, ratio, args.solvers,
                                  args.budget)
                rows += new
                print(markdown(new, args.budget), flush=True)
    text = ["# Sparse Cox regression: time to a relative duality gap", "",
            "Objective, gap and timing rules: see the docstring of `benchmarks/bench_cox.py`. "
            "Survival times are **simulated** from a sparse Cox model (10 or 20 true "
            "coefficients of +-0.5, ~30 % censoring) on the designs named; no real survival "
            "outcome is in the shared data. Times are the fastest fit reaching the gap; "
            f"`>{args.budget:g}s` means no fit reached it within the budget. The machine is "
            "shared with other jobs (2 cores): timings are noisy, ratios within ~20 % are "
            "ties.", "", markdown(rows, args.budget), "", "Machine:", ""]
    text += [f"- {k}: {v}" for k, v in info.items()]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(text) + "\n")
    print(f"written {args.out}")


if __name__ == "__main__":
    main()
