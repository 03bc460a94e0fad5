"""Whole regularisation paths and 5-fold cross-validation: sksafe vs scikit-learn, celer, skglm.

Every solver minimises the objectives of ``bench_solvers.py`` (no intercept anywhere)::

    Lasso:     P(w) = 1/(2n) ||y - X w||^2                  + alpha ||w||_1
    L1-logreg: P(w) = 1/n sum_i log(1 + exp(-y_i x_i^T w))  + alpha ||w||_1,  y_i in {-1, +1}

over the same grid: 100 alphas, geometric from alpha_max down to alpha_max / 1000.

* **Path**: each solver computes the whole path (its own path function, or a loop over
  the grid with warm starts where it has none) with a decreasing ``tol`` until the
  largest relative duality gap over the 100 points is <= 1e-6. The benchmark computes
  that gap itself at every point (``bench_solvers.relative_gap``; the dual value is the
  best one found at that alpha by any run of any solver, a valid lower bound of P*),
  and the time of the fastest run that reaches it is reported.
* **CV**: each package's cross-validation estimator on the same grid and the same 5
  folds (``KFold`` / ``StratifiedKFold``, shuffled, seed 0), with the ``tol`` that reached
  the 1e-6 gap on the whole-data path; the time includes the final refit.

One process, one BLAS thread, ``n_jobs=1`` for every package; an untimed warm-up on a
slice of the data compiles the JIT code first. A run that exceeds its budget is stopped
between two fits (SIGALRM) and reads ``>budget``. liblinear's random coordinate order is
seeded (``random_state=0``): unseeded, a reuters CV run now and then spent minutes in one
fold's fit, inside C code that the budget cannot interrupt. Run ``python
benchmarks/bench_paths_cv.py --help``; ``--quick`` is a short smoke run.
"""
import argparse
import csv
import datetime
import gc
import signal
import sys
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from sklearn.model_selection import KFold, StratifiedKFold

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import bench_solvers as bs  # noqa: E402  (loaders, gap formula, machine description)

TARGET = 1e-6
N_ALPHAS = 100
EPS = 1e-3
N_FOLDS = 5
#: half decades: a run that stops just above the target is followed by a close one
TOLS = (1e-6, 3e-7, 1e-7, 3e-8, 1e-8, 3e-9, 1e-9)
PROBLEMS = (("leukemia", "lasso"), ("leukemia", "logreg"), ("riboflavin", "lasso"),
            ("wheat", "lasso"), ("singh", "logreg"), ("reuters", "logreg"))
#: problems whose 5-fold CV is left out of the default run (time; see the Method section)
NO_CV = (("wheat", "lasso"),)
#: a peer's budget is FACTOR times sksafe's time (the speed-up target), within [base, cap]
FACTOR = 5.0
CAPS = (100.0, 240.0)
#: sksafe's own budgets (path, CV)
OURS_BUDGETS = (300.0, 600.0)
QUICK_PROBLEMS = (("leukemia", "lasso"), ("leukemia", "logreg"), ("riboflavin", "lasso"))
SOLVERS = ("sksafe", "sklearn", "celer", "skglm")


# --------------------------------------------------------------------------- data
def _standardised_npz(data_dir, relative, name, note, regression):
    path = data_dir / relative
    if not path.exists():
        return None
    with np.load(path, allow_pickle=False) as d:
        X = d["X"].astype(np.float64)
        y = d["y"].astype(np.float64)
    std = X.std(axis=0)
    X = (X - X.mean(axis=0)) / np.where(std > 0, std, 1.0)
    y_clf = np.where(y > np.median(y), 1.0, -1.0) if regression else bs._labels_pm1(y)
    # centred: without an intercept the Lasso would spend coefficients on the mean
    y_reg = y - y.mean() if regression else y_clf
    return bs.Dataset(name, np.ascontiguousarray(X), y_reg, y_clf, note)


def load_riboflavin(data_dir, quick):
    return _standardised_npz(
        data_dir, "regression/riboflavin.npz", "riboflavin",
        "regression/riboflavin.npz (Buhlmann et al., 71 x 4088 log expression), columns "
        "standardised; Lasso on the centred log riboflavin production rate", regression=True)


def load_singh(data_dir, quick):
    return _standardised_npz(
        data_dir, "expression/singh.npz", "singh",
        "expression/singh.npz (Singh et al. prostate, 102 x 12600), columns standardised; "
        "y = -1 (normal) / +1 (tumour) for both models", regression=False)


def load_wheat_centred(data_dir, quick):
    """bench_solvers' wheat markers, columns centred: without an intercept, uncentred 0/1
    markers make every solver spend its time fitting the mean (none reaches 1e-6)."""
    dataset = bs.load_wheat(data_dir, quick)
    if dataset is None:
        return None
    dataset.X = np.ascontiguousarray(dataset.X - dataset.X.mean(axis=0))
    dataset.note += "; columns centred (what fit_intercept=True does to dense data)"
    return dataset


LOADERS = {"leukemia": bs.load_leukemia_std, "riboflavin": load_riboflavin,
           "wheat": load_wheat_centred, "singh": load_singh, "reuters": bs.load_reuters}


# --------------------------------------------------------------------------- budget
class OverBudget(Exception):
    pass


class time_limit:
    """Raise :class:`OverBudget` after ``seconds`` (checked when Python code runs again)."""

    def __init__(self, seconds):
        self.seconds = seconds

    def _raise(self, signum, frame):
        raise OverBudget

    def __enter__(self):
        self.previous = signal.signal(signal.SIGALRM, self._raise)
        signal.setitimer(signal.ITIMER_REAL, self.seconds)

    def __exit__(self, *exc):
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, self.previous)
        return False


# --------------------------------------------------------------------------- solvers
def _warm_loop(model, param, X, y, grid):
    """Fit ``model`` at every alpha of the grid in turn (``param(alpha)`` sets it)."""
    coefs = np.empty((X.shape[1], grid.shape[0]))
    for k, alpha in enumerate(grid):
        model.set_params(**param(alpha)).fit(X, y)
        coefs[:, k] = np.asarray(model.coef_).ravel()
    return coefs


def path_runner(solver, model):
    """``run(X, y, grid, tol) -> coefs (n_features, n_alphas)``, its input layout, and a label."""
    if solver == "sksafe":
        from sksafe.paths import lasso_path, logistic_path
        if model == "lasso":
            return (lambda X, y, g, tol: lasso_path(X, y, alphas=g, tol=tol, max_iter=1000)[1],
                    "F", "sksafe.paths.lasso_path, tol = relative gap")
        return (lambda X, y, g, tol: logistic_path(X, y, alphas=g, tol=tol, max_iter=1000,
                                                    fit_intercept=False)[1],
                "F", "sksafe.paths.logistic_path, tol = relative gap")
    if solver == "sklearn":
        from sklearn.linear_model import LogisticRegression
        from sklearn.linear_model import lasso_path as sklearn_lasso_path
        if model == "lasso":
            return (lambda X, y, g, tol: sklearn_lasso_path(X, y, alphas=g, tol=tol / 2,
                                                            max_iter=1_000_000)[1],
                    "F", "sklearn.linear_model.lasso_path (CD, gap-safe screening), tol = gap/2")
        return (lambda X, y, g, tol: _warm_loop(
                    LogisticRegression(solver="liblinear", l1_ratio=1.0, fit_intercept=False,
                                       tol=tol, max_iter=1_000_000, random_state=0),
                    lambda a: {"C": 1.0 / (X.shape[0] * a)}, X, y, g),
                "C", "LogisticRegression(liblinear, C = 1/(n alpha)) per alpha (liblinear has "
                     "no warm start)")
    if solver == "celer":
        from celer import celer_path
        if model == "lasso":
            return (lambda X, y, g, tol: celer_path(X, y, "lasso", alphas=g, tol=tol / 2,
                                                    prune=1, max_iter=100)[1],
                    "F", "celer_path('lasso', prune=1), tol = gap/2")
        return (lambda X, y, g, tol: celer_path(X, y, "logreg", alphas=g * X.shape[0], tol=tol,
                                                use_PN=True, prune=1, max_iter=100)[1],
                "F", "celer_path('logreg', use_PN=True, alphas = n alpha), tol = gap")
    if solver == "skglm":
        from skglm import SparseLogisticRegression
        from skglm.datafits import Quadratic
        from skglm.penalties import L1
        from skglm.solvers import AndersonCD
        if model == "lasso":
            return (lambda X, y, g, tol: AndersonCD(tol=tol, fit_intercept=False,
                                                    max_iter=1000).path(
                        X, y, Quadratic(), L1(1.0), alphas=g)[1],
                    "F", "AndersonCD.path (Lasso), tol on the KKT violation")
        return (lambda X, y, g, tol: _warm_loop(
                    SparseLogisticRegression(alpha=g[0], tol=tol, fit_intercept=False,
                                             max_iter=1000, warm_start=True),
                    lambda a: {"alpha": a}, X, y, g),
                "F", "SparseLogisticRegression(warm_start=True) over the grid, tol on the KKT "
                     "violation")
    raise ValueError(solver)


def cv_runner(solver, model):
    """``run(X, y, grid, folds, tol) -> fitted CV estimator`` (None when the package has none)."""
    n_folds = N_FOLDS
    if solver == "sksafe":
        from sksafe import SafeScreeningLassoCV, SafeScreeningLogisticRegressionCV
        if model == "lasso":
            return (lambda X, y, g, folds, tol: SafeScreeningLassoCV(
                alphas=g, cv=folds, fit_intercept=False, tol=tol, max_iter=1000).fit(X, y),
                "SafeScreeningLassoCV")
        return (lambda X, y, g, folds, tol: SafeScreeningLogisticRegressionCV(
            alphas=g, cv=folds, fit_intercept=False, tol=tol, max_iter=1000,
            scoring="accuracy").fit(X, y), "SafeScreeningLogisticRegressionCV(scoring='accuracy')")
    if solver == "sklearn":
        from sklearn.linear_model import LassoCV, LogisticRegressionCV
        if model == "lasso":
            return (lambda X, y, g, folds, tol: LassoCV(
                alphas=g, cv=folds, fit_intercept=False, tol=tol / 2,
                max_iter=1_000_000).fit(X, y), "LassoCV")
        return (lambda X, y, g, folds, tol: LogisticRegressionCV(
            Cs=1.0 / (X.shape[0] * (n_folds - 1) / n_folds * g), l1_ratios=(1.0,),
            solver="liblinear", fit_intercept=False, cv=folds, tol=tol, max_iter=1_000_000,
            random_state=0,
            scoring="accuracy", use_legacy_attributes=False).fit(X, y),
            "LogisticRegressionCV(liblinear, Cs = 1/(n_train alpha))")
    if solver == "celer":
        if model != "lasso":
            return None, "no logistic CV estimator"
        from celer import LassoCV as CelerLassoCV
        return (lambda X, y, g, folds, tol: CelerLassoCV(
            alphas=g, cv=folds, fit_intercept=False, tol=tol / 2, max_iter=100).fit(X, y),
            "celer.LassoCV")
    if solver == "skglm":
        from skglm import GeneralizedLinearEstimatorCV
        from skglm.datafits import Logistic, Quadratic
        from skglm.penalties import L1
        from skglm.solvers import AndersonCD, ProxNewton
        if model == "lasso":
            return (lambda X, y, g, folds, tol: GeneralizedLinearEstimatorCV(
                Quadratic(), L1(1.0), AndersonCD(tol=tol, fit_intercept=False, max_iter=1000),
                alphas=g, cv=n_folds, random_state=0).fit(X, y),
                "GeneralizedLinearEstimatorCV(Quadratic, L1, AndersonCD), its own KFold(5, "
                "shuffle, seed 0) = the same folds")
        return (lambda X, y, g, folds, tol: GeneralizedLinearEstimatorCV(
            Logistic(), L1(1.0), ProxNewton(tol=tol, fit_intercept=False, max_iter=1000),
            alphas=g, cv=n_folds, random_state=0).fit(X, y),
            "GeneralizedLinearEstimatorCV(Logistic, L1, ProxNewton), its own "
            "StratifiedKFold(5, shuffle, seed 0) = the same folds")
    raise ValueError(solver)


# --------------------------------------------------------------------------- runs
@dataclass
class PathRun:
    tol: float
    time: float                 # None when over budget
    primal: np.ndarray = None   # P(w_k) / P(0) per alpha
    dual: np.ndarray = None     # D(theta(w_k)) / P(0) per alpha
    own_gap: float = np.inf     # max over the path of the gap at the run's own dual points
    pooled_gap: float = np.inf


@dataclass
class Entry:
    solver: str
    path_label: str = ""
    cv_label: str = ""
    runs: list = field(default_factory=list)
    path_time: float = None
    path_tol: float = None
    path_gap: float = None
    cv_time: float = None
    cv_note: str = ""
    path_budget: float = None
    cv_budget: float = None


def path_gaps(X_gap, y, coefs, grid, model):
    out = np.array([bs.relative_gap(X_gap, y, coefs[:, k], model, alpha)
                    for k, alpha in enumerate(grid)])
    return out[:, 0], out[:, 1], out[:, 2]


def warm_up(dataset, model, solvers):
    """Compile every solver's JIT code on a slice (same layout and dtypes), untimed."""
    X = dataset.layout("C")
    rows, cols = np.arange(min(X.shape[0], 60)), np.arange(min(X.shape[1], 500))
    y = (dataset.y_reg if model == "lasso" else dataset.y_clf)[rows]
    if model == "logreg" and np.unique(y).size < 2:
        y = y.copy()
        y[0] = -y[0]
    Xs = X[rows][:, cols]
    grid = np.geomspace(1.0, 1e-2, 5) * bs.alpha_max(Xs, y, model)
    folds = [(np.arange(30, 60), np.arange(30)), (np.arange(30), np.arange(30, 60))]
    for solver in solvers:
        run, layout, _ = path_runner(solver, model)
        Xl = Xs.tocsc() if sp.issparse(Xs) and layout == "F" else Xs
        Xl = np.asfortranarray(Xl) if not sp.issparse(Xl) and layout == "F" else Xl
        cv, _ = cv_runner(solver, model)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for call in (lambda: run(Xl, y, grid, 1e-4),
                         lambda: cv is not None and cv(Xl, y, grid, folds, 1e-4)):
                try:
                    call()
                except Exception:  # noqa: BLE001 - the timed run records the error
                    pass


def peer_budget(base, ours, cap):
    """A peer's budget: long enough to show a speed-up of FACTOR, within ``[base, cap]``."""
    return base if ours is None else float(min(max(base, np.ceil(FACTOR * ours)), cap))


def run_path_sequence(entry, run, X, X_gap, y, grid, model, budget, pool, log):
    """Runs with decreasing tol until the gap against ``pool`` is reached; returns the pool."""
    spent = 0.0
    for tol in TOLS:
        gc.collect()
        record = PathRun(tol, None)
        try:
            with warnings.catch_warnings(), time_limit(budget):
                warnings.simplefilter("ignore")
                start = time.perf_counter()
                coefs = run(X, y, grid, tol)
                record.time = time.perf_counter() - start
        except OverBudget:
            log(f"    {entry.solver} path tol={tol:.0e}: over the {budget:g} s budget")
            entry.runs.append(record)
            break
        except Exception as exc:  # noqa: BLE001 - a peer broken by a dependency
            entry.cv_note = f"path fails: {type(exc).__name__}: {exc}"[:160]
            break
        gaps, record.primal, record.dual = path_gaps(X_gap, y, coefs, grid, model)
        record.own_gap = float(gaps.max())
        entry.runs.append(record)
        pool = np.maximum(pool, record.dual)
        pooled_so_far = float(np.max(record.primal - pool))
        log(f"    {entry.solver} path tol={tol:.0e}: {record.time:.2f} s, max gap "
            f"{pooled_so_far:.1e} (own dual points {record.own_gap:.1e})")
        spent += record.time
        if pooled_so_far <= TARGET or spent > 2 * budget:
            break  # the final pool is better still: a pass stays one
    return pool


def run_problem(dataset, model, solvers, budgets, with_cv, log):
    """Paths then CV of every solver on one problem; ``budgets`` = (path, CV) bases."""
    X_gap = dataset.layout("C")
    y = dataset.y_reg if model == "lasso" else dataset.y_clf
    n = X_gap.shape[0]
    amax = bs.alpha_max(X_gap, y, model)
    grid = np.geomspace(amax, amax * EPS, N_ALPHAS)
    splitter = (KFold(N_FOLDS, shuffle=True, random_state=0) if model == "lasso"
                else StratifiedKFold(N_FOLDS, shuffle=True, random_state=0))
    folds = list(splitter.split(np.arange(n), y))
    warm_up(dataset, model, solvers)
    entries = []
    # best dual value found so far at each alpha, by any run (sksafe runs first, so it
    # gains nothing from the others' points while they all gain from its)
    pool = np.full(grid.shape[0], -np.inf)
    ours = {"path": None, "cv": None}
    for solver in solvers:
        run, layout, label = path_runner(solver, model)
        entry = Entry(solver, path_label=label)
        entry.path_budget = (OURS_BUDGETS[0] if solver == "sksafe"
                             else peer_budget(budgets[0], ours["path"], CAPS[0]))
        pool = run_path_sequence(entry, run, dataset.layout(layout), X_gap, y, grid, model,
                                 entry.path_budget, pool, log)
        if solver == "sksafe":
            ours["path"] = min((r.time for r in entry.runs if r.time is not None),
                               default=None)
        entries.append(entry)
    for entry in entries:
        for r in entry.runs:
            if r.primal is not None:
                r.pooled_gap = float(np.max(np.maximum(r.primal - pool, 0.0)))
        passed = [r for r in entry.runs if r.time is not None and r.pooled_gap <= TARGET]
        done = [r for r in entry.runs if r.time is not None]
        if passed:
            best = min(passed, key=lambda r: r.time)
            entry.path_time, entry.path_tol, entry.path_gap = best.time, best.tol, best.pooled_gap
        else:
            entry.path_gap = min((r.pooled_gap for r in done), default=None)
            entry.cv_note = (entry.cv_note or "tol did not reach the gap on the path")
        if not with_cv:
            entry.cv_label, entry.cv_note = "", "CV not run on this problem (see Method)"
            continue
        cv_tol = entry.path_tol if passed else (done[-1].tol if done else TOLS[0])
        cv, entry.cv_label = cv_runner(entry.solver, model)
        if cv is None:
            continue
        entry.cv_budget = (OURS_BUDGETS[1] if entry.solver == "sksafe"
                           else peer_budget(budgets[1], ours["cv"], CAPS[1]))
        _, layout, _ = path_runner(entry.solver, model)
        gc.collect()
        try:
            with warnings.catch_warnings(), time_limit(entry.cv_budget):
                warnings.simplefilter("ignore")
                start = time.perf_counter()
                fitted = cv(dataset.layout(layout), y, grid, folds, cv_tol)
                entry.cv_time = time.perf_counter() - start
            if entry.solver == "sksafe":
                ours["cv"] = entry.cv_time
                entry.cv_note = (f"max fold gap {fitted.cv_dual_gaps_.max():.1e}; "
                                 + entry.cv_note).strip("; ")
        except OverBudget:
            pass
        except Exception as exc:  # noqa: BLE001 - e.g. celer.LassoCV with scikit-learn 1.9
            entry.cv_label += " (fails)"
            entry.cv_note = f"CV fails: {type(exc).__name__}: {exc}"[:160]
        log(f"    {entry.solver} CV tol={cv_tol:.0e}: "
            f"{bs.fmt_time(entry.cv_time, entry.cv_budget)}")
    return entries


# --------------------------------------------------------------------------- report
def speedup(ours, ours_budget, theirs, theirs_budget):
    """``theirs / ours`` (how many times faster sksafe is), a bound when one is over budget."""
    value, text = bs.ratio(ours, theirs, theirs_budget if theirs is None else ours_budget)
    if value is None:
        return None, text
    bound = {"<": ">", ">": "<"}.get(text[0], "")
    return 1.0 / value, f"{bound}{1.0 / value:.3g}"


def build_rows(results):
    rows = []
    for problem in results:
        ours = next(e for e in problem["entries"] if e.solver == "sksafe")
        for e in problem["entries"]:
            row = dict(dataset=problem["dataset"], shape=problem["shape"], model=problem["model"],
                       solver=e.solver, path_time=e.path_time, path_tol=e.path_tol,
                       path_gap=e.path_gap, cv_time=e.cv_time, cv_note=e.cv_note,
                       path_text=bs.fmt_time(e.path_time, e.path_budget),
                       cv_text=cv_text(e), has_cv=cv_text(e) != "n/a")
            if e.solver != "sksafe":
                row["path_speedup"] = speedup(ours.path_time, ours.path_budget, e.path_time,
                                              e.path_budget)
                if row["has_cv"] and cv_text(ours) != "n/a":
                    row["cv_speedup"] = speedup(ours.cv_time, ours.cv_budget, e.cv_time,
                                                e.cv_budget)
            rows.append(row)
    return rows


def cv_text(entry):
    if not entry.cv_label or "no logistic" in entry.cv_label or "(fails)" in entry.cv_label:
        return "n/a"
    return bs.fmt_time(entry.cv_time, entry.cv_budget)


def markdown_table(rows):
    head = ("| data | model | solver | path time | path tol | max gap | path: sksafe faster by "
            "| 5-fold CV time | CV: sksafe faster by | note |")
    lines = [head, "|" + "---|" * 10]
    for r in rows:
        lines.append("| " + " | ".join([
            f"{r['dataset']} ({r['shape']})", r["model"], r["solver"], r["path_text"],
            f"{r['path_tol']:.0e}" if r["path_tol"] else "-",
            f"{r['path_gap']:.1e}" if r["path_gap"] is not None else "-",
            r.get("path_speedup", (None, ""))[1], r["cv_text"],
            r.get("cv_speedup", (None, ""))[1], r["cv_note"]]) + " |")
    return "\n".join(lines)


def summary(rows):
    out = []
    for task in ("path", "cv"):
        for peer in SOLVERS[1:]:
            values = [r[f"{task}_speedup"][0] for r in rows
                      if r["solver"] == peer and r.get(f"{task}_speedup", (None,))[0]]
            if values:
                gmean = float(np.exp(np.mean(np.log(values))))
                out.append(f"- {task}: sksafe vs {peer}: geometric mean speed-up {gmean:.3g}x "
                           f"(min {min(values):.3g}x, max {max(values):.3g}x, "
                           f"{len(values)} problems; bounds counted at their value)")
        best = []
        for key in {(r["dataset"], r["model"]) for r in rows}:
            peers = [r for r in rows if (r["dataset"], r["model"]) == key
                     and r["solver"] != "sksafe" and r.get(f"{task}_speedup", (None,))[0]]
            if peers:
                best.append(min(r[f"{task}_speedup"][0] for r in peers))
        if best:
            out.append(f"- {task}: against the fastest peer of each problem: sksafe faster on "
                       f"{sum(v > 1 for v in best)} of {len(best)}; smallest speed-up "
                       f"{min(best):.3g}x")
    return "\n".join(out)


def write_csv(path, rows):
    keys = ["dataset", "shape", "model", "solver", "path_time", "path_tol", "path_gap",
            "cv_time", "path_speedup", "cv_speedup", "cv_note"]
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(keys)
        for r in rows:
            writer.writerow([r.get(k)[1] if isinstance(r.get(k), tuple) else r.get(k)
                             for k in keys])


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="three small problems")
    parser.add_argument("--problems", nargs="+", default=None,
                        help="dataset:model pairs, e.g. leukemia:lasso reuters:logreg")
    parser.add_argument("--solvers", nargs="+", default=list(SOLVERS), choices=SOLVERS)
    parser.add_argument("--budget-path", type=float, default=None,
                        help="a peer's least budget per path run, s (default 30; 15 with "
                             "--quick)")
    parser.add_argument("--budget-cv", type=float, default=None,
                        help="a peer's least budget per CV run, s (default 60; 30 with "
                             "--quick)")
    parser.add_argument("--cv-everywhere", action="store_true",
                        help="also run the CV of the problems in NO_CV")
    parser.add_argument("--data-dir", type=Path, default=bs.default_data_dir())
    parser.add_argument("--output-dir", type=Path, default=HERE / "results")
    parser.add_argument("--tag", default=None)
    parser.add_argument("--verbose", action="store_true")
    args = parser.parse_args(argv)
    if args.problems is None:
        args.problems = [f"{d}:{m}" for d, m in (QUICK_PROBLEMS if args.quick else PROBLEMS)]
    args.problems = [tuple(p.split(":")) for p in args.problems]
    args.budget_path = args.budget_path or (15.0 if args.quick else 30.0)
    args.budget_cv = args.budget_cv or (30.0 if args.quick else 60.0)
    if args.tag is None and args.quick:
        args.tag = "quick"
    return args


def main(argv=None):
    args = parse_args(argv)
    from threadpoolctl import threadpool_limits

    start_all = time.perf_counter()
    info = bs.machine_info(1)
    log = print if args.verbose else (lambda *a, **k: None)
    print("Machine: " + "; ".join(f"{k}: {v}" for k, v in info.items()), flush=True)
    budgets = (args.budget_path, args.budget_cv)
    results, notes, skipped, cache = [], [], [], {}
    with threadpool_limits(limits=1, user_api="blas"):
        for name, model in args.problems:
            if name not in cache:
                cache.clear()
                cache[name] = LOADERS[name](args.data_dir, args.quick)
                if cache[name] is not None:
                    n, p = cache[name].shape
                    shape = f"{n} x {p}" + (" sparse" if sp.issparse(cache[name].X) else "")
                    notes.append(f"**{name}** ({shape}): {cache[name].note}")
            dataset = cache[name]
            if dataset is None:
                skipped.append(f"{name}: data file not found under {args.data_dir}, skipped")
                print(skipped[-1], flush=True)
                continue
            n, p = dataset.shape
            shape = f"{n} x {p}" + (" sparse" if sp.issparse(dataset.X) else "")
            t0 = time.perf_counter()
            with_cv = args.cv_everywhere or (name, model) not in NO_CV
            entries = run_problem(dataset, model, args.solvers, budgets, with_cv, log)
            results.append(dict(dataset=name, shape=shape, model=model, entries=entries))
            for e in entries:
                print(f"{name:10s} {model:6s} {e.solver:7s} path "
                      f"{bs.fmt_time(e.path_time, e.path_budget):>8s} (tol "
                      f"{e.path_tol or float('nan'):.0e}, gap {e.path_gap or float('nan'):.1e})"
                      f"  CV {cv_text(e):>8s}"
                      f"  {e.cv_note}", flush=True)
            print(f"  ({time.perf_counter() - t0:.0f} s)", flush=True)
    wall = time.perf_counter() - start_all
    rows = build_rows(results)
    table, text_summary = markdown_table(rows), summary(rows)
    labels = sorted({(r["model"], e.solver, e.path_label, cv_runner(e.solver, r["model"])[1])
                     for r in results for e in r["entries"]})
    date = datetime.date.today().isoformat()
    suffix = f"_{args.tag}" if args.tag else ""
    args.output_dir.mkdir(parents=True, exist_ok=True)
    md_path = args.output_dir / f"paths_cv_{date}{suffix}.md"
    command = "python benchmarks/bench_paths_cv.py " + " ".join(
        sys.argv[1:] if argv is None else argv)
    text = [f"# sksafe path and cross-validation benchmark ({date}"
            f"{', quick' if args.quick else ''})", "",
            f"Command: `{command.strip()}`; total wall time {wall / 60:.1f} min.", "",
            "## Machine", "",
            "Shared with other jobs during the run (2 cores, other engineers' tests and "
            "benchmarks): timings are noisy, ratios of a few tens of percent are not "
            "significant.", ""]
    text += [f"- {k}: {v}" for k, v in info.items()]
    text += ["", "## Problems", "",
             f"No intercept anywhere (`fit_intercept=False`): Lasso `1/(2n)||y - Xw||^2 + "
             f"alpha||w||_1`, L1-logistic `1/n sum log(1 + exp(-y_i x_i^T w)) + alpha||w||_1` "
             f"(y in {{-1, +1}}). Grid: {N_ALPHAS} alphas from alpha_max to alpha_max / "
             f"{1 / EPS:g}, geometric, the same for every solver; {N_FOLDS} folds "
             f"(KFold for the Lasso, StratifiedKFold for the logistic regression; shuffled, "
             f"seed 0), the same for every solver.", ""]
    text += [f"- {note}" for note in notes] + [f"- {msg}" for msg in skipped]
    text += ["", "## Solvers", ""]
    text += [f"- {model} / {solver}: path `{path_label}`; CV `{cv_label}`"
             for model, solver, path_label, cv_label in labels]
    text += ["", "## Method", "",
             f"Path: runs with `tol` = {', '.join(f'{t:.0e}' for t in TOLS)} (times the "
             f"solver's factor) until the largest relative duality gap over the path, computed "
             f"by the benchmark at every alpha from the returned coefficients (against the "
             f"best dual value found so far; sksafe runs first), is <= "
             f"{TARGET:.0e}; 'max gap' is `max_k (P(w_k) - max D_k) / P(0)` with `max D_k` the "
             f"best dual value found at alpha_k by any run of any solver (any dual-feasible "
             f"point bounds P* from below). The time is that of the fastest run reaching the "
             f"target. CV: one run of each package's CV estimator with the `tol` that reached "
             f"the target on the path (the fold problems are smaller versions of the same "
             f"problem); the time includes the refit. scikit-learn's `LogisticRegressionCV` "
             f"takes `Cs = 1/(n_train alpha)` with `n_train = 4n/5` (the folds differ by one "
             f"sample at most). Budgets, checked between two fits (`>x` reads: stopped after x "
             f"seconds): sksafe {OURS_BUDGETS[0]:g} s per path run and {OURS_BUDGETS[1]:g} s "
             f"per CV run; a peer gets {FACTOR:g} times sksafe's time (the speed-up target), "
             f"at least {budgets[0]:g} s (path) / {budgets[1]:g} s (CV) and at most "
             f"{CAPS[0]:g} s / {CAPS[1]:g} s; a sequence of path runs stops after twice its "
             f"budget in all. CV left out of the default run on "
             f"{', '.join(f'{d} {m}' for d, m in NO_CV)} (`--cv-everywhere` runs it): the "
             f"peers' paths take tens of seconds there, and their capped CV runs "
             f"({CAPS[1]:g} s each) would add a quarter of an hour to the run. "
             f"Speed-up = peer time / sksafe time (`>`/`<`: bounds from a budget). One "
             f"process, one BLAS thread, `n_jobs=1` everywhere; an untimed warm-up on a "
             f"slice compiles the JIT code first. liblinear visits the coordinates in a "
             f"random order: it is seeded (`random_state=0`), since unseeded, about one "
             f"reuters CV run in six spent minutes in one fold's fit (in C, where the "
             f"budget cannot stop it).", "",
             "## Results", "", table, "", text_summary, ""]
    if args.quick:
        text.insert(2, "Smoke run (`--quick`): three small problems, short budgets.\n")
    md_path.write_text("\n".join(text))
    write_csv(md_path.with_suffix(".csv"), rows)
    print()
    print(table)
    print()
    print(text_summary)
    print(f"\nwritten {md_path}")


if __name__ == "__main__":
    main()
