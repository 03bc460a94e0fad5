"""Cold-start cost: import time and first-fit time (Numba compilation) in a fresh process.

For each case (sksafe SafeScreeningLasso, sksafe SafeScreeningLogisticRegression,
skglm Lasso) and each repetition, a new empty Numba cache directory is created
(``NUMBA_CACHE_DIR``) and a fresh interpreter (``sys.executable -c ...``) is started
twice with it:

(a) empty cache: every ``cache=True`` function is compiled and written to the cache;
(b) warm cache: the same directory, so cached machine code is loaded instead.

The child times, with ``time.perf_counter``: ``import numpy`` (baseline), the import
of the package, the generation of a 100 x 10000 Gaussian problem (not reported),
the first fit (compilation + solve) and a second identical fit (steady state).
The parent also reports the wall time of the whole child process (interpreter
start-up included). Results go to ``benchmarks/results/cold_start_<date>.md``.

Usage::

    python benchmarks/bench_cold_start.py [--repeat 3] [--cases sksafe_lasso ...]
"""
import argparse
import datetime
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent

_PROBLEM = """
rng = np.random.default_rng(0)
X = rng.standard_normal((100, 10000))
w = np.zeros(10000); w[:10] = 1.0
y = X @ w + 0.5 * rng.standard_normal(100)
"""

# each child prints one JSON line; the fit uses the estimator's defaults except alpha
CASES = {
    "sksafe_lasso": dict(
        label="sksafe SafeScreeningLasso", package="sksafe",
        imports="import sksafe\nfrom sksafe import SafeScreeningLasso",
        fit="SafeScreeningLasso(alpha=alpha).fit(X, y)",
        alpha="np.abs(X.T @ (y - y.mean())).max() / 100 / 10"),
    "sksafe_logreg": dict(
        label="sksafe SafeScreeningLogisticRegression", package="sksafe",
        imports="import sksafe\nfrom sksafe import SafeScreeningLogisticRegression",
        fit="SafeScreeningLogisticRegression(alpha=alpha).fit(X, y > np.median(y))",
        alpha="np.abs(X.T @ np.where(y > np.median(y), 0.5, -0.5)).max() / 100 / 10"),
    "skglm_lasso": dict(
        label="skglm Lasso", package="skglm",
        imports="import skglm\nfrom skglm import Lasso",
        fit="Lasso(alpha=alpha).fit(X, y)",
        alpha="np.abs(X.T @ (y - y.mean())).max() / 100 / 10"),
}


def child_code(case):
    spec = CASES[case]
    return "\n".join([
        "import time, json, warnings",
        "warnings.simplefilter('ignore')",
        "t0 = time.perf_counter()",
        "import numpy as np",
        "t1 = time.perf_counter()",
        spec["imports"],
        "t2 = time.perf_counter()",
        _PROBLEM,
        f"alpha = {spec['alpha']}",
        "t3 = time.perf_counter()",
        spec["fit"],
        "t4 = time.perf_counter()",
        spec["fit"],
        "t5 = time.perf_counter()",
        "print(json.dumps(dict(numpy_import=t1 - t0, import_=t2 - t1, first_fit=t4 - t3, "
        "second_fit=t5 - t4)))",
    ])


def run_child(case, cache_dir):
    env = dict(os.environ, NUMBA_CACHE_DIR=str(cache_dir))
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", child_code(case)], env=env,
                          capture_output=True, text=True, timeout=900)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise RuntimeError(f"{case} failed:\n{proc.stderr}")
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    out["process_wall"] = wall
    out["cache_files"] = sum(1 for p in Path(cache_dir).rglob("*") if p.is_file())
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=3,
                        help="repetitions (each with a new empty cache); median reported")
    parser.add_argument("--cases", nargs="+", choices=list(CASES), default=list(CASES))
    parser.add_argument("--output-dir", type=Path, default=HERE / "results")
    args = parser.parse_args(argv)

    sys.path.insert(0, str(HERE))
    from bench_solvers import machine_info
    info = machine_info(blas_threads="library default")
    info.pop("BLAS threads during fits", None)
    started = time.perf_counter()

    fields = ("numpy_import", "import_", "first_fit", "second_fit", "process_wall")
    results = {}
    for case in args.cases:
        for rep in range(args.repeat):
            cache_dir = Path(tempfile.mkdtemp(prefix="sksafe_numba_cache_"))
            try:
                for state in ("empty", "warm"):
                    out = run_child(case, cache_dir)
                    results.setdefault((case, state), []).append(out)
                    print(f"{case:14s} cache {state:5s} rep {rep + 1}: "
                          + "  ".join(f"{k}={out[k]:.3f}s" for k in fields)
                          + f"  cache files={out['cache_files']}", flush=True)
            finally:
                shutil.rmtree(cache_dir, ignore_errors=True)

    head = ["case", "Numba cache", "import numpy", "import package", "first fit",
            "second fit", "process wall", "cache files"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for case in args.cases:
        for state in ("empty", "warm"):
            runs = results[(case, state)]
            cells = [CASES[case]["label"], state]
            for k in fields:
                values = [r[k] for r in runs]
                med = statistics.median(values)
                cells.append(f"{med:.2f}s" + (f" ({min(values):.2f}-{max(values):.2f})"
                                              if len(values) > 1 else ""))
            cells.append(str(runs[-1]["cache_files"]))
            lines.append("| " + " | ".join(cells) + " |")
    table = "\n".join(lines)
    date = datetime.date.today().isoformat()
    command = ("python benchmarks/bench_cold_start.py "
               + " ".join(sys.argv[1:] if argv is None else argv)).strip()
    text = [f"# Cold-start benchmark ({date})", "",
            f"Command: `{command}`; total {time.perf_counter() - started:.0f} s.", "",
            "## Machine", ""]
    text += [f"- {k}: {v}" for k, v in info.items()]
    text += ["", "## Method", "",
             "Each row: a fresh `sys.executable -c ...` process with `NUMBA_CACHE_DIR` set "
             "to a new temporary directory (`empty`: nothing cached yet, so every "
             "`cache=True` function compiles and is written there), then a second fresh "
             "process with the same directory (`warm`: compiled code loaded from the cache). "
             "Timings inside the child with `time.perf_counter`: `import numpy` alone, then "
             "the package import (which pulls in scipy, scikit-learn and numba), then the "
             "first `fit` on a 100 x 10000 Gaussian problem (10 true features, "
             "alpha = alpha_max / 10 for the intercept-fitted problem, estimator defaults "
             "otherwise: `fit_intercept=True`, `tol=1e-4`; logistic labels y > median(y)), "
             "then the same fit again. `process wall` is measured by the parent and "
             "includes interpreter start-up. "
             f"Median over {args.repeat} repetition(s), each with its own new cache "
             "directory (min-max in brackets). `cache files`: files in the cache directory "
             "after the run.", "", "## Results", "", table, ""]
    args.output_dir.mkdir(parents=True, exist_ok=True)
    path = args.output_dir / f"cold_start_{date}.md"
    path.write_text("\n".join(text))
    print()
    print(table)
    print(f"\nWrote {path}")


if __name__ == "__main__":
    main()
