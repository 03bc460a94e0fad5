"""Time-to-duality-gap benchmark of sksafe against scikit-learn, skglm and celer.

Every solver minimises the same objective, without intercept (``fit_intercept=False``
for every solver on every problem)::

    Lasso:     P(w) = 1/(2n) ||y - X w||^2                  + alpha ||w||_1
    L1-logreg: P(w) = 1/n sum_i log(1 + exp(-y_i x_i^T w))  + alpha ||w||_1,  y_i in {-1, +1}

for alpha = alpha_max / 10, / 100, / 1000. Every solver is run several times from a
cold start with a decreasing ``tol``; after each fit the benchmark computes the
relative duality gap of the returned coefficients itself, with the same code for
every solver (:func:`relative_gap`). The time to reach a gap ``g`` is the time of the
fastest single fit whose gap is ``<= g`` (benchopt-style). See README.md.

Run ``python benchmarks/bench_solvers.py --help`` for the options; ``--quick`` is a
short smoke run (a few minutes).
"""
import argparse
import csv
import datetime
import gc
import math
import os
import platform
import subprocess
import sys
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import scipy
import scipy.sparse as sp
from scipy.signal import lfilter
from scipy.special import entr, expit

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
TARGETS = (1e-4, 1e-6, 1e-8)
ALPHA_RATIOS = (10, 100, 1000)
#: requested relative-gap levels of the fit sequence (half decades, 1e-1 ... 1e-12)
TOL_GRID = tuple(10.0 ** (-k / 2) for k in range(2, 25))
#: fits faster than REPEAT_BELOW seconds are timed REPEATS times (fastest kept)
REPEATS = 3
REPEAT_BELOW = 0.5
SOLVERS = ("sksafe", "sklearn", "skglm", "celer")
MODELS = ("lasso", "logreg")
DATASETS = ("leukemia", "reuters", "gisette", "wheat", "synthetic")
QUICK_DATASETS = ("leukemia", "reuters", "synthetic")


# --------------------------------------------------------------------------- data
def default_data_dir():
    env = os.environ.get("SKSAFE_BENCH_DATA")
    return Path(env) if env else REPO.parent / "shared" / "data"


@dataclass
class Dataset:
    name: str
    X: object                 # float64 ndarray (C order) or CSR with int32 indices
    y_reg: np.ndarray         # target of the Lasso
    y_clf: np.ndarray         # labels in {-1, +1} of the logistic regression
    note: str
    variants: dict = field(default_factory=dict)   # cached layouts of X

    @property
    def shape(self):
        return self.X.shape

    def layout(self, kind):
        """X as ``"F"`` (Fortran dense / CSC) or ``"C"`` (C dense / CSR), int32 indices.

        Built once, outside the timed region, so that no solver pays for a layout
        conversion that another one is spared (each gets the layout it prefers).
        """
        if kind not in self.variants:
            X = self.X
            if sp.issparse(X):
                X = X.tocsc() if kind == "F" else X.tocsr()
                X.sort_indices()
                X.indices = X.indices.astype(np.int32)
                X.indptr = X.indptr.astype(np.int32)
            else:
                X = np.asfortranarray(X) if kind == "F" else np.ascontiguousarray(X)
            self.variants[kind] = X
        return self.variants[kind]


def _labels_pm1(y):
    y = np.asarray(y)
    values = np.unique(y)
    assert values.size == 2, values
    return np.where(y == values[1], 1.0, -1.0)


def _svmlight(path, n_features):
    from sklearn.datasets import load_svmlight_file
    X, y = load_svmlight_file(str(path), n_features=n_features)
    X = sp.csr_matrix(X, dtype=np.float64)
    X.indices = X.indices.astype(np.int32)
    X.indptr = X.indptr.astype(np.int32)
    return X, _labels_pm1(y)


def load_leukemia_std(data_dir, quick):
    from sksafe.datasets import load_leukemia
    X, y = load_leukemia(return_X_y=True)
    std = X.std(axis=0)
    std[std == 0] = 1.0
    X = (X - X.mean(axis=0)) / std
    y = _labels_pm1(y)
    return Dataset("leukemia", np.ascontiguousarray(X), y, y,
                   "sksafe.datasets.load_leukemia (Golub, 72 x 7129); columns standardised "
                   "(mean 0, std 1); y = -1 (ALL) / +1 (AML) for both models")


def load_reuters(data_dir, quick):
    path = data_dir / "libsvm" / "reuters.trn.bz2"
    if not path.exists():
        return None
    X, y = _svmlight(path, 8315)
    return Dataset("reuters", X, y, y,
                   "libsvm/reuters.trn.bz2, sparse CSR (int32 indices), as shipped; "
                   "y in {-1, +1} for both models")


def load_gisette(data_dir, quick):
    path = data_dir / "libsvm" / "gisette_scale.t.bz2"
    if not path.exists():
        return None
    X, y = _svmlight(path, 5000)
    return Dataset("gisette", X.toarray(), y, y,
                   "libsvm/gisette_scale.t.bz2 (test split, 1000 x 5000), densified, as "
                   "shipped (LIBSVM-scaled); y in {-1, +1} for both models")


def load_wheat(data_dir, quick):
    path = data_dir / "genotypes" / "wheat_bglr.npz"
    if not path.exists():
        return None
    with np.load(path, allow_pickle=False) as d:
        X = d["X"].astype(np.float64)
        y = d["y"].astype(np.float64)
    y_clf = np.where(y > np.median(y), 1.0, -1.0)
    return Dataset("wheat", X, y, y_clf,
                   "genotypes/wheat_bglr.npz (599 x 1279 DArT markers 0/1, int8 -> float64, "
                   "not standardised); Lasso on the yield y; logistic on y binarised at its "
                   "median (+1 above, -1 otherwise)")


def make_synthetic(n_samples, n_features, rho=0.5, n_nonzero=50, snr=3.0, seed=0,
                   block=2000):
    """Gaussian design with corr(x_i, x_j) = rho**|i-j| (AR(1) across features).

    Built block of columns by block of columns (never more than ``n x block`` noise in
    memory besides X): ``x_j = rho x_{j-1} + sqrt(1 - rho^2) e_j`` with ``x_0 ~ N(0, 1)``,
    so every column is N(0, 1). ``w*`` has ``n_nonzero`` entries +-1 (random signs) at
    random positions; ``y = X w* + noise`` with ``||X w*|| / ||noise|| = snr``.
    """
    rng = np.random.default_rng(seed)
    X = np.empty((n_samples, n_features), order="F")
    scale = math.sqrt(1.0 - rho ** 2)
    state = rng.standard_normal(n_samples)          # x_{-1}
    for start in range(0, n_features, block):
        stop = min(start + block, n_features)
        noise = rng.standard_normal((n_samples, stop - start))
        out, _ = lfilter([scale], [1.0, -rho], noise, axis=1, zi=(rho * state)[:, None])
        X[:, start:stop] = out
        state = out[:, -1]
    w = np.zeros(n_features)
    support = rng.choice(n_features, size=min(n_nonzero, n_features), replace=False)
    w[support] = rng.choice([-1.0, 1.0], size=support.size)
    signal = X @ w
    noise = rng.standard_normal(n_samples)
    noise *= np.linalg.norm(signal) / (snr * np.linalg.norm(noise))
    y = signal + noise
    return X, y, np.where(y > 0, 1.0, -1.0)


def load_synthetic(data_dir, quick):
    p = 10_000 if quick else 100_000
    X, y, y_clf = make_synthetic(500, p)
    return Dataset("synthetic", X, y, y_clf,
                   f"synthetic 500 x {p}, corr(x_i, x_j) = 0.5^|i-j| (AR(1) columns, built "
                   "blockwise), seed 0, 50 nonzero coefficients +-1, SNR 3; Lasso on y, "
                   "logistic on sign(y)")


LOADERS = {"leukemia": load_leukemia_std, "reuters": load_reuters, "gisette": load_gisette,
           "wheat": load_wheat, "synthetic": load_synthetic}


# --------------------------------------------------------------------------- gap
def alpha_max(X, y, model):
    """Smallest alpha with w = 0 optimal (no intercept)."""
    corr = np.abs(np.asarray(X.T @ y)).max() / X.shape[0]
    return corr if model == "lasso" else corr / 2.0


def relative_gap(X, y, w, model, alpha):
    """Relative duality gap ``(P(w) - D(theta)) / P(0)`` of coefficients ``w``.

    The one gap function used for every solver. ``theta = -grad F(X w)`` (Lasso:
    ``(y - X w) / n``; logistic: ``y_i sigmoid(-y_i x_i^T w) / n``) rescaled by
    ``min(1, alpha / ||X^T theta||_inf)`` so that it is dual feasible; then
    ``D(theta) = theta^T y - n ||theta||^2 / 2`` (Lasso) or
    ``D(theta) = (1/n) sum_i H(n y_i theta_i)`` with ``H`` the binary entropy
    (logistic). ``P(0) = ||y||^2 / (2n)`` or ``log 2``. Returns
    ``(relative gap, P(w) / P(0), D(theta) / P(0))``.
    """
    w = np.asarray(w, dtype=np.float64).ravel()
    n = X.shape[0]
    z = np.asarray(X @ w).ravel()
    penalty = alpha * np.abs(w).sum()
    if model == "lasso":
        r = y - z
        primal = 0.5 * (r @ r) / n + penalty
        primal_zero = 0.5 * (y @ y) / n
        theta = r / n
    else:
        yz = y * z
        primal = np.logaddexp(0.0, -yz).mean() + penalty
        primal_zero = math.log(2.0)
        theta = y * expit(-yz) / n
    dual_norm = np.abs(np.asarray(X.T @ theta)).max()
    if dual_norm > alpha:
        theta = theta * (alpha / dual_norm)
    if model == "lasso":
        dual = theta @ y - 0.5 * n * (theta @ theta)
    else:
        u = np.clip(n * y * theta, 0.0, 1.0)
        dual = (entr(u) + entr(1.0 - u)).mean()
    return (primal - dual) / primal_zero, primal / primal_zero, dual / primal_zero


# --------------------------------------------------------------------------- solvers
@dataclass
class SolverSpec:
    name: str
    layout: str                # "F" (Fortran / CSC) or "C" (C / CSR) input
    make: object               # make(alpha, n_samples, tol) -> unfitted estimator
    tol_factor: float = 1.0    # tol = requested relative gap * tol_factor
    caps_iter: bool = False    # max_iter counts passes over the data: capped by the budget
    label: str = ""


def solver_specs(model):
    """The four solvers for one model, with the parameter mapping to our objective."""
    specs = {}
    import sksafe
    if model == "lasso":
        specs["sksafe"] = SolverSpec(
            "sksafe", "F", lambda a, n, tol: sksafe.SafeScreeningLasso(
                alpha=a, fit_intercept=False, tol=tol, max_iter=1000),
            label="SafeScreeningLasso(alpha, tol=gap)")
    else:
        specs["sksafe"] = SolverSpec(
            "sksafe", "F", lambda a, n, tol: sksafe.SafeScreeningLogisticRegression(
                alpha=a, fit_intercept=False, tol=tol, max_iter=1000),
            label="SafeScreeningLogisticRegression(alpha, tol=gap)")
    from sklearn.linear_model import Lasso, LogisticRegression
    if model == "lasso":
        # stops when the (same, residual-based) gap <= tol ||y||^2 / n = 2 tol P(0)
        specs["sklearn"] = SolverSpec(
            "sklearn", "F", lambda a, n, tol, max_iter=1_000_000: Lasso(
                alpha=a, fit_intercept=False, tol=tol, max_iter=max_iter, precompute=False,
                selection="cyclic"),
            tol_factor=0.5, caps_iter=True, label="Lasso (coordinate descent), tol=gap/2")
    else:
        specs["sklearn"] = SolverSpec(
            "sklearn", "C", lambda a, n, tol, max_iter=1_000_000: LogisticRegression(
                solver="liblinear", l1_ratio=1.0, C=1.0 / (n * a), fit_intercept=False,
                tol=tol, max_iter=max_iter, random_state=0),
            caps_iter=True, label="LogisticRegression(liblinear, l1, C=1/(n alpha))")
    try:
        import skglm
    except ImportError:
        pass
    else:
        if model == "lasso":
            specs["skglm"] = SolverSpec(
                "skglm", "F", lambda a, n, tol: skglm.Lasso(
                    alpha=a, fit_intercept=False, tol=tol, max_iter=1000),
                label="Lasso(alpha), tol on KKT violation")
        else:
            specs["skglm"] = SolverSpec(
                "skglm", "F", lambda a, n, tol: skglm.SparseLogisticRegression(
                    alpha=a, fit_intercept=False, tol=tol, max_iter=1000),
                label="SparseLogisticRegression(alpha), tol on KKT violation")
    try:
        import celer
    except ImportError:
        pass
    else:
        if model == "lasso":
            # stops when its best gap <= tol ||y||^2 / n = 2 tol P(0)
            specs["celer"] = SolverSpec(
                "celer", "F", lambda a, n, tol: celer.Lasso(
                    alpha=a, fit_intercept=False, tol=tol, max_iter=1000),
                tol_factor=0.5, label="Lasso(alpha), tol=gap/2")
        else:
            # sum-form objective: C = 1 / (n alpha); stops when gap <= tol n log 2
            # (relative gap tol); checks X as C-ordered / CSR itself
            specs["celer"] = SolverSpec(
                "celer", "C", lambda a, n, tol: celer.LogisticRegression(
                    C=1.0 / (n * a), tol=tol, max_iter=1000),
                label="LogisticRegression(C=1/(n alpha)), tol=gap")
    return specs


def timed_fit(estimator, X, y):
    # cheap once main() has gc.freeze()-d the imported modules and data: every fit
    # starts with an empty young generation and no full collection pending
    gc.collect()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        start = time.perf_counter()
        estimator.fit(X, y)
        elapsed = time.perf_counter() - start
    return elapsed, np.asarray(estimator.coef_, dtype=np.float64).ravel()


def warm_up(spec, dataset, model):
    """One untimed fit on a small slice with the same layout/dtypes (JIT, caches)."""
    X = dataset.layout(spec.layout)
    n, p = X.shape
    rows = np.arange(min(n, 200))
    cols = np.arange(min(p, 2000))
    Xs = X[rows][:, cols]
    if sp.issparse(Xs):
        Xs = Xs.tocsc() if spec.layout == "F" else Xs.tocsr()
        Xs.sort_indices()
        Xs.indices = Xs.indices.astype(np.int32)
        Xs.indptr = Xs.indptr.astype(np.int32)
    else:
        Xs = np.asfortranarray(Xs) if spec.layout == "F" else np.ascontiguousarray(Xs)
    y = (dataset.y_reg if model == "lasso" else dataset.y_clf)[rows]
    if model == "logreg" and np.unique(y).size < 2:
        y = y.copy()
        y[0] = -y[0]
    amax = alpha_max(Xs, y, model)
    if amax <= 0:
        return
    for tol in (1e-3, 1e-8):
        timed_fit(spec.make(amax / 10, Xs.shape[0], tol * spec.tol_factor), Xs, y)


@dataclass
class RunRecord:
    tol: float
    time: float
    gap: float       # relative gap at the fit's own (residual) dual point
    primal: float    # P(w) / P(0)
    dual: float      # D(theta(w)) / P(0)
    nnz: int
    pooled_gap: float = np.inf   # P(w) / P(0) minus the best dual value of the problem


def pool_duals(records_by_solver):
    """Set ``pooled_gap`` of every fit: its primal minus the best dual value of the problem.

    Any dual-feasible point bounds ``P*`` from below, so ``P(w) - max D`` over the
    residual dual points of *every* fit of *every* solver on the same problem is a
    valid duality gap of ``w``, computed by the benchmark the same way for all. It
    is much closer to the true suboptimality ``P(w) - P*`` than the gap at ``w``'s own
    residual (which is ``O(sqrt(P(w) - P*))`` and penalises solvers that stop early on
    a better dual point, e.g. an extrapolated one).
    """
    best_dual = max(r.dual for records in records_by_solver for r in records)
    for records in records_by_solver:
        for r in records:
            r.pooled_gap = max(r.primal - best_dual, 0.0)
    return best_dual


def run_sequence(spec, dataset, model, alpha, budget, log):
    """Fits with decreasing tol (cold start each); stops on the budget rules."""
    from sklearn.base import clone

    X = dataset.layout(spec.layout)
    X_gap = dataset.layout("C")
    y = dataset.y_reg if model == "lasso" else dataset.y_clf
    n = X.shape[0]
    records = []
    total = 0.0
    best_dual = -np.inf
    reason = "tol grid exhausted"
    growth = 1.0
    max_iter = None
    for level in TOL_GRID:
        if records:
            last = records[-1]
            if last.primal - best_dual <= TARGETS[-1]:
                reason = "reached smallest target"
                break
            if last.time > budget:
                reason = "last fit over budget"
                break
            if last.time * growth > 1.5 * budget:
                reason = "next fit predicted over budget"
                break
            if total > 6 * budget:
                reason = "sequence time over 6 x budget"
                break
        tol = level * spec.tol_factor
        est = spec.make(alpha, n, tol) if max_iter is None else spec.make(alpha, n, tol,
                                                                          max_iter)
        elapsed, coef = timed_fit(est, X, y)
        for _ in range(REPEATS - 1 if elapsed < REPEAT_BELOW else 0):
            # short fits are noisy: keep the fastest of a few identical ones
            elapsed = min(elapsed, timed_fit(clone(est), X, y)[0])
        gap, primal, dual = relative_gap(X_gap, y, coef, model, alpha)
        best_dual = max(best_dual, dual)
        total += elapsed
        if records and records[-1].time > 0:
            growth = min(max(elapsed / records[-1].time, 1.0), 10.0)
        records.append(RunRecord(tol, elapsed, gap, primal, dual, int(np.count_nonzero(coef))))
        log(f"      tol={tol:8.1e}  time={elapsed:9.4f}s  gap={gap:9.2e}  nnz={records[-1].nnz}")
        if spec.caps_iter:
            # passes over the data are ~constant in cost: bound the next fit to ~1.5 budget
            n_iter = int(np.max(getattr(est, "n_iter_", 0)))
            if n_iter > 0 and elapsed > 0:
                max_iter = max(10, int(1.5 * budget * n_iter / elapsed))
    else:
        if records and records[-1].primal - best_dual <= TARGETS[-1]:
            reason = "reached smallest target"
    return records, reason


def time_to_targets(records, budget):
    out = []
    for target in TARGETS:
        times = [r.time for r in records if r.pooled_gap <= target and r.time <= budget]
        out.append(min(times) if times else None)
    return out


# --------------------------------------------------------------------------- report
def machine_info(blas_threads):
    info = {}
    cpu = "unknown"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        cpu = platform.processor() or "unknown"
    info["CPU"] = cpu
    info["cores (os.cpu_count)"] = str(os.cpu_count())
    try:
        info["cores usable (affinity)"] = str(len(os.sched_getaffinity(0)))
    except AttributeError:
        pass
    try:
        with open("/proc/meminfo") as f:
            kb = int(next(line for line in f if line.startswith("MemTotal")).split()[1])
        info["RAM"] = f"{kb / 1024 ** 2:.1f} GiB"
    except (OSError, StopIteration):
        pass
    try:
        info["load average at start"] = ", ".join(f"{v:.2f}" for v in os.getloadavg())
    except OSError:
        pass
    info["OS"] = platform.platform()
    info["Python"] = platform.python_version()
    import numba
    import sklearn
    import sksafe
    info["numpy"] = np.__version__
    info["scipy"] = scipy.__version__
    info["scikit-learn"] = sklearn.__version__
    info["numba"] = numba.__version__
    for name in ("skglm", "celer"):
        try:
            module = __import__(name)
            info[name] = getattr(module, "__version__", "?")
        except ImportError:
            info[name] = "not installed"
    commit = ""
    # the git commit describes the timed code only if sksafe is imported from this checkout
    # (a non-editable install in site-packages would silently time an older copy)
    imported_from = Path(sksafe.__file__).resolve().parent.parent
    if imported_from != REPO.resolve():
        raise RuntimeError(f"sksafe is imported from {imported_from}, not from this checkout "
                           f"{REPO}: install it editable (pip install -e .) or set PYTHONPATH.")
    try:
        commit = subprocess.run(["git", "-C", str(REPO), "describe", "--always", "--dirty"],
                                capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        pass
    info["sksafe"] = sksafe.__version__ + (f" (git {commit})" if commit else "")
    info["BLAS threads during fits"] = str(blas_threads)
    info["date"] = datetime.datetime.now().isoformat(timespec="seconds")
    return info


def fmt_time(t, budget):
    if t is None:
        return f">{budget:g}s"
    if t >= 10:
        return f"{t:.1f}s"
    if t >= 0.1:
        return f"{t:.2f}s"
    return f"{t * 1e3:.3g}ms"


def ratio(ours, theirs, budget):
    """``ours / theirs`` with the budget as a bound when one side did not get there."""
    if ours is None and theirs is None:
        return None, "n/a"
    if theirs is None:
        value = ours / budget
        return value, f"<{value:.2g}"
    if ours is None:
        value = budget / theirs
        return value, f">{value:.2g}"
    value = ours / theirs
    return value, f"{value:.2g}"


def build_rows(results, budget):
    """One row per problem and solver, with the ratio columns on the sksafe row."""
    rows = []
    for problem in results:
        by_solver = {r["solver"]: r for r in problem["solvers"]}
        ours = by_solver.get("sksafe")
        for res in problem["solvers"]:
            row = dict(dataset=problem["dataset"], shape=problem["shape"],
                       model=problem["model"], alpha_ratio=problem["alpha_ratio"],
                       alpha=problem["alpha"], solver=res["solver"], fits=len(res["records"]),
                       best_gap=min((r.pooled_gap for r in res["records"]), default=np.nan),
                       best_own_gap=min((r.gap for r in res["records"]), default=np.nan),
                       stop=res["reason"])
            for target, t in zip(TARGETS, res["times"]):
                row[f"time_{target:.0e}"] = t
            if res["solver"] == "sksafe":
                for target_i, target in enumerate(TARGETS):
                    competitors = [(r["times"][target_i], r["solver"])
                                   for r in problem["solvers"] if r["solver"] != "sksafe"]
                    reached = [(t, s) for t, s in competitors if t is not None]
                    best = min(reached) if reached else (None, None)
                    if not competitors:
                        best_txt = (None, "n/a")
                    else:
                        best_txt = ratio(ours["times"][target_i], best[0], budget)
                    row[f"vs_best_{target:.0e}"] = best_txt
                    row[f"best_competitor_{target:.0e}"] = best[1] or ""
                    sk = by_solver.get("sklearn")
                    row[f"vs_sklearn_{target:.0e}"] = (
                        ratio(ours["times"][target_i], sk["times"][target_i], budget)
                        if sk else (None, "n/a"))
            rows.append(row)
    return rows


def markdown_table(rows, budget):
    keys = [f"{t:.0e}" for t in TARGETS]
    head = (["dataset", "n x p", "model", "alpha", "solver"]
            + [f"t(gap<={k})" for k in keys]
            + ["best gap", "best own-point gap", "fits", "sksafe / best other",
               "sksafe / sklearn"])
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for row in rows:
        cells = [row["dataset"], row["shape"], row["model"],
                 f"amax/{row['alpha_ratio']}", row["solver"]]
        cells += [fmt_time(row[f"time_{k}"], budget) for k in keys]
        cells += [f"{row['best_gap']:.1e}", f"{row['best_own_gap']:.1e}", str(row["fits"])]
        if row["solver"] == "sksafe":
            cells.append(" / ".join(row[f"vs_best_{k}"][1] for k in keys))
            cells.append(" / ".join(row[f"vs_sklearn_{k}"][1] for k in keys))
        else:
            cells += ["", ""]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def summary_table(rows):
    """Geometric mean over problems of the sksafe ratios, per target."""
    keys = [f"{t:.0e}" for t in TARGETS]
    lines = ["| ratio (geometric mean over problems) | " + " | ".join(
        f"gap {k}" for k in keys) + " |", "|---|" + "---|" * len(keys)]
    for what, label in (("vs_best", "sksafe / best other"), ("vs_sklearn", "sksafe / sklearn")):
        cells = []
        for k in keys:
            values = [row[f"{what}_{k}"][0] for row in rows
                      if row["solver"] == "sksafe" and row[f"{what}_{k}"][0] is not None]
            values = [v for v in values if v > 0]
            cells.append(f"{math.exp(np.mean(np.log(values))):.2g} ({len(values)} problems)"
                         if values else "n/a")
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def write_csv(path, rows):
    keys = [f"{t:.0e}" for t in TARGETS]
    fields = (["dataset", "shape", "model", "alpha_ratio", "alpha", "solver"]
              + [f"time_{k}" for k in keys] + ["best_gap", "best_own_gap", "fits", "stop"]
              + [f"sksafe_over_best_{k}" for k in keys] + [f"best_competitor_{k}" for k in keys]
              + [f"sksafe_over_sklearn_{k}" for k in keys])
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(fields)
        for row in rows:
            out = [row["dataset"], row["shape"], row["model"], row["alpha_ratio"],
                   f"{row['alpha']:.6g}", row["solver"]]
            out += ["" if row[f"time_{k}"] is None else f"{row[f'time_{k}']:.6g}" for k in keys]
            out += [f"{row['best_gap']:.3e}", f"{row['best_own_gap']:.3e}", row["fits"],
                    row["stop"]]
            for what in ("vs_best", "best_competitor", "vs_sklearn"):
                for k in keys:
                    value = row.get(f"{what}_{k}", "")
                    if isinstance(value, tuple):
                        value = value[1]
                    out.append(value)
            writer.writerow(out)


# --------------------------------------------------------------------------- main
def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true",
                        help="smoke run: leukemia, reuters and a 500 x 10000 synthetic design, "
                             "alpha_max/10 and /100 only, budget 5 s")
    parser.add_argument("--datasets", nargs="+", choices=DATASETS, default=None)
    parser.add_argument("--models", nargs="+", choices=MODELS, default=list(MODELS))
    parser.add_argument("--solvers", nargs="+", choices=SOLVERS, default=list(SOLVERS))
    parser.add_argument("--alpha-ratios", nargs="+", type=int, default=None,
                        help="alpha = alpha_max / ratio (default 10 100 1000; quick: 10 100)")
    parser.add_argument("--budget", type=float, default=None,
                        help="seconds a single fit may take to count (default 10; quick: 5)")
    parser.add_argument("--blas-threads", type=int, default=1,
                        help="BLAS threads during the timed fits (default 1)")
    parser.add_argument("--data-dir", type=Path, default=default_data_dir())
    parser.add_argument("--output-dir", type=Path, default=HERE / "results")
    parser.add_argument("--tag", default=None,
                        help="suffix of the result files (default: 'quick' with --quick)")
    parser.add_argument("-v", "--verbose", action="store_true", help="print every fit")
    args = parser.parse_args(argv)
    if args.datasets is None:
        args.datasets = list(QUICK_DATASETS if args.quick else DATASETS)
    if args.alpha_ratios is None:
        args.alpha_ratios = [10, 100] if args.quick else list(ALPHA_RATIOS)
    if args.budget is None:
        args.budget = 5.0 if args.quick else 10.0
    if args.tag is None and args.quick:
        args.tag = "quick"
    return args


def main(argv=None):
    args = parse_args(argv)
    from threadpoolctl import threadpool_limits

    start_all = time.perf_counter()
    info = machine_info(args.blas_threads)
    log = print if args.verbose else (lambda *a, **k: None)
    print("Machine: " + "; ".join(f"{k}: {v}" for k, v in info.items()), flush=True)
    results, notes, skipped = [], [], []
    with threadpool_limits(limits=args.blas_threads, user_api="blas"):
        for name in args.datasets:
            t0 = time.perf_counter()
            dataset = LOADERS[name](args.data_dir, args.quick)
            if dataset is None:
                msg = f"{name}: data file not found under {args.data_dir}, skipped"
                print(msg, flush=True)
                skipped.append(msg)
                continue
            n, p = dataset.shape
            shape = f"{n} x {p}" + (" sparse" if sp.issparse(dataset.X) else "")
            notes.append(f"**{name}** ({shape}): {dataset.note}")
            print(f"{name}: {shape}, loaded in {time.perf_counter() - t0:.1f}s", flush=True)
            for model in args.models:
                specs = solver_specs(model)
                y = dataset.y_reg if model == "lasso" else dataset.y_clf
                amax = alpha_max(dataset.layout("C"), y, model)
                for solver in args.solvers:
                    if solver in specs:
                        warm_up(specs[solver], dataset, model)
                gc.collect()
                gc.freeze()  # long-lived objects out of the collector's way (cheap gc.collect)
                for ratio_ in args.alpha_ratios:
                    alpha = amax / ratio_
                    problem = dict(dataset=name, shape=shape, model=model, alpha_ratio=ratio_,
                                   alpha=alpha, solvers=[])
                    for solver in args.solvers:
                        if solver not in specs:
                            continue
                        t1 = time.perf_counter()
                        log(f"  {name} {model} amax/{ratio_} {solver}")
                        records, reason = run_sequence(specs[solver], dataset, model, alpha,
                                                       args.budget, log)
                        problem["solvers"].append(dict(solver=solver, records=records,
                                                       reason=reason,
                                                       wall=time.perf_counter() - t1))
                    pool_duals([res["records"] for res in problem["solvers"]])
                    for res in problem["solvers"]:
                        res["times"] = time_to_targets(res["records"], args.budget)
                        print(f"  {name:9s} {model:6s} amax/{ratio_:<5d} {res['solver']:8s} "
                              + "  ".join(fmt_time(t, args.budget).rjust(8)
                                          for t in res["times"])
                              + f"   best gap {min(r.pooled_gap for r in res['records']):.1e}"
                              f" (own dual point {min(r.gap for r in res['records']):.1e}), "
                              f"{len(res['records'])} fits, {res['wall']:.1f}s wall "
                              f"({res['reason']})", flush=True)
                    results.append(problem)
            del dataset
            gc.unfreeze()
            gc.collect()
    wall = time.perf_counter() - start_all

    rows = build_rows(results, args.budget)
    table = markdown_table(rows, args.budget)
    summary = summary_table(rows)
    specs_text = []
    for model in args.models:
        for solver, spec in solver_specs(model).items():
            if solver in args.solvers:
                specs_text.append(f"- {model} / {solver}: `{spec.label}`, input layout "
                                  f"{'Fortran/CSC' if spec.layout == 'F' else 'C/CSR'}")
    date = datetime.date.today().isoformat()
    suffix = f"_{args.tag}" if args.tag else ""
    args.output_dir.mkdir(parents=True, exist_ok=True)
    md_path = args.output_dir / f"results_{date}{suffix}.md"
    csv_path = args.output_dir / f"results_{date}{suffix}.csv"
    command = "python benchmarks/bench_solvers.py " + " ".join(sys.argv[1:] if argv is None
                                                               else argv)
    text = [f"# sksafe solver benchmark ({date}{', quick' if args.quick else ''})", "",
            f"Command: `{command.strip()}`; total wall time {wall / 60:.1f} min.", "",
            "## Machine", ""]
    text += [f"- {k}: {v}" for k, v in info.items()]
    text += ["", "## Problems", "",
             "All solvers minimise the same objective without intercept "
             "(`fit_intercept=False` everywhere): Lasso `1/(2n)||y - Xw||^2 + alpha||w||_1`, "
             "L1-logistic `1/n sum log(1 + exp(-y_i x_i^T w)) + alpha||w||_1` (y in {-1, +1}); "
             "alpha = alpha_max / " + ", ".join(str(r) for r in args.alpha_ratios) + ".", ""]
    text += [f"- {note}" for note in notes] + [f"- {msg}" for msg in skipped]
    text += ["", "## Solvers", ""] + specs_text
    text += ["", "## Method", "",
             f"Time (`time.perf_counter`; fastest of {REPEATS} identical fits when one takes "
             f"< {REPEAT_BELOW:g} s; after an untimed warm-up fit per dataset/model/solver) "
             f"of the fastest cold-start fit whose relative duality gap, computed by the "
             f"benchmark from the returned coefficients with one formula for every solver, "
             f"is <= the target. The gap of a fit is `P(w) - max D` with the maximum over "
             f"the residual dual points of every fit of every solver on the problem "
             f"(any dual-feasible point bounds `P*` from below); 'best own-point gap' is "
             f"the classical gap at the fit's own residual dual point. Fits use a decreasing `tol` "
             f"(half decades from 1e-1 to 1e-12 of relative gap, times the solver's factor). "
             f"Budget {args.budget:g} s per fit: a target reached only by a slower fit, or "
             f"not at all, reads `>{args.budget:g}s`. Ratios < 1: sksafe faster; `<x` / `>x` "
             f"are bounds from the budget. BLAS limited to {args.blas_threads} thread(s) "
             f"during fits. See benchmarks/README.md.", "",
             "## Results", "", table, "", summary, ""]
    if args.quick:
        text.insert(2, "Smoke run (`--quick`): small problems and a short budget; "
                       "not the reference numbers.\n")
    md_path.write_text("\n".join(text))
    write_csv(csv_path, rows)
    print()
    print(table)
    print()
    print(summary)
    print(f"\nWrote {md_path} and {csv_path} (total {wall / 60:.1f} min)")


if __name__ == "__main__":
    main()
