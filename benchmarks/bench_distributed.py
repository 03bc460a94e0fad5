"""Distributed fitting on a 2-worker Dask LocalCluster (issue: Dask, sample and feature blocks).

(a) Problems that fit one machine (the setting of ``../shared/notes/dask.md`` section 3):
    dense 2000 x 20000 L1 logistic regression and Lasso (20 true features), and
    sparse (1 %) L1 logistic regressions of 2000 x 20000 (200 true features) and
    20 000 x 200 000 ("sparse-large", 40 million entries, 2000 true features), at
    alpha = alpha_max / 10, no intercept. Compared: single-machine sksafe, sksafe on row
    blocks and on column blocks (2 worker processes; row blocks also with every working
    set solved by rounds over the blocks, ``central_max_bytes=0``, instead of on the
    driver, except on sparse-large, where those rounds take minutes), and dask-ml's
    ``LogisticRegression`` / ``LinearRegression`` with ``solver="admm"`` and ``"proximal_grad"`` (defaults:
    ``max_iter=100``, ``tol=1e-4``; "raw" mode, ``fit_intercept=False`` and
    ``solver_kwargs={"normalize": False}``, so that dask-ml solves exactly
    ``sum_i loss_i + lambda ||w||_1``; its ``C = 1 / lambda``, i.e. ``lambda = n alpha``
    for logistic and ``lambda = 2 n alpha`` for its least squares without 1/2).
    sksafe runs to relative duality gap 1e-6; every returned point is certified by
    :func:`sksafe.solvers.duality_gap` and compared with a reference at gap 1e-10.
(b) Bytes per round with and without screening (the ledgers of (a)).
(c) A problem larger than one worker's ``memory_limit``: 5000 x 300 000 int8
    genotypes (1.5 GB; each worker capped at 1.3 GB), blocks generated lazily on the
    workers from seeds, fitted to gap 1e-6 in both layouts; peak resident memory of
    each worker process reported.
(d) The working-set solver of the column layout (``--parts d``): working-set columns
    fetched to the driver and solved there (``column_solver="central"``) vs
    ProxCoCoA+ rounds over the blocks (``"cocoa"``), on the column-block versions of
    the dense logistic and Lasso problems of (a) and on a 2000 x 20000 int8 genotype
    Lasso (alpha_max / 5): time to relative gap 1e-6 (median of ``--repeat``),
    rounds, bytes sent and received, and the relative gap after each outer
    iteration with the CoCoA rounds it took.

The data are generated *on the workers* (one block per worker, from a seed) and
identically on the driver for the single-machine fits, dense ones in Fortran order
on both sides: the layout the solvers work in, so that neither side's time includes
a layout copy (until 2026-11-24 the driver's matrix was C-ordered and the
single-machine fit copied 320 MB to Fortran order in every timed run, while the
workers did the same for their blocks in parallel). Both sides still do what their
entry point does: :func:`sksafe.distributed.solve_distributed` checks each block for
non-finite values in every fit, :func:`sksafe.solvers.solve` takes validated data.
Timings are wall-clock
(the median of ``--repeat`` runs, default one), on the machine described in the
results file. Both sides are warmed up alike before they are timed: the
single-machine side by its ``alpha_max`` and reference fits on the full data,
the cluster by one full-size fit at ``tol=1e-2`` (Numba caches loaded and block
memory touched on *both* workers).

Run ``python benchmarks/bench_distributed.py [--quick] [--parts a,c,d] [--repeat N]
[--skip-dask-ml] [--print-only] [--output FILE]``; results go to
``benchmarks/results/distributed_<date>.md`` or ``FILE`` (``--print-only``: printed,
no file).
"""
import argparse
import datetime
import resource
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import scipy.sparse as sp

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from bench_solvers import fmt_time, machine_info  # noqa: E402

TOL = 1e-6


# ---------------------------------------------------------------------------------------------
# data, generated per block from seeds
# ---------------------------------------------------------------------------------------------
def dense_rows(seed, n_rows, p):
    """Fortran-ordered, the solvers' layout (see the module docstring)."""
    return np.asfortranarray(np.random.default_rng(seed).standard_normal((n_rows, p)))


def sparse_rows(seed, n_rows, p, density=0.01):
    rng = np.random.default_rng(seed)
    return sp.random(n_rows, p, density=density, format="csc", random_state=rng,
                     data_rvs=rng.standard_normal)


def genotype_block(seed, n_rows, n_cols):
    """Minor-allele counts 0/1/2 with per-SNP frequencies, Fortran order (kernel layout)."""
    rng = np.random.default_rng(seed)
    freq = rng.uniform(0.05, 0.5, n_cols)
    block = np.empty((n_rows, n_cols), dtype=np.int8, order="F")
    for j in range(n_cols):
        block[:, j] = rng.binomial(2, freq[j], n_rows)
    return block


def peak_rss_mib():
    """Peak resident memory of this process, in MiB: ``VmHWM`` of ``/proc/self/status``
    (Linux), the high-water mark of this process's own memory since it was started.

    Not ``getrusage``'s ``ru_maxrss``: a worker started by ``spawn`` is forked from
    the driver before it executes Python afresh, and ``ru_maxrss`` keeps the forked
    copy's resident size, i.e. the driver's at the time (measured: 1012 MiB in a
    worker whose own peak was 62 MiB, beside a driver holding 1 GB).
    """
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    # not Linux (see above): ru_maxrss is in bytes on macOS, in KiB elsewhere
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 1024


def make_problem(kind, n, p, n_blocks, seed=0):
    """``(X dask rows, X dask columns, X local, y)``."""
    import dask
    import dask.array as da

    rows = n // n_blocks
    sparse = kind.startswith("sparse")
    maker = sparse_rows if sparse else dense_rows
    blocks = [maker(seed + k, rows, p) for k in range(n_blocks)]
    X_local = sp.vstack(blocks, format="csc") if sparse else np.asfortranarray(np.vstack(blocks))
    meta = sp.csc_matrix((0, 0)) if sparse else np.empty((0, 0))
    X_rows = da.concatenate([da.from_delayed(dask.delayed(maker)(seed + k, rows, p),
                                             shape=(rows, p), dtype=np.float64, meta=meta)
                             for k in range(n_blocks)], axis=0)
    rng = np.random.default_rng(seed + 1000)
    n_true = p // 100 if sparse else 20
    w = np.zeros(p)
    w[rng.choice(p, n_true, replace=False)] = rng.choice([-1.0, 1.0], n_true) * (
        2.0 if sparse else 1.0)
    z = np.asarray(X_local @ w).ravel()
    if kind == "lasso":
        y = z + rng.standard_normal(n)
    else:
        y = np.where(rng.random(n) < 1.0 / (1.0 + np.exp(-z)), 1.0, -1.0)
    X_cols = X_rows.rechunk((n, p // n_blocks)) if not sparse else None
    return X_rows, X_cols, X_local, y


# ---------------------------------------------------------------------------------------------
# runs
# ---------------------------------------------------------------------------------------------
def certify(X, y, datafit, penalty, coef):
    """Relative duality gap ``G / P(0)`` at ``coef`` (no intercept)."""
    from sksafe.solvers import duality_gap

    return duality_gap(X, y, datafit, penalty, coef, 0.0, fit_intercept=False)[1]


def timed(repeat, fit):
    """``(median seconds over repeat runs, result of the last run)`` of ``fit()``."""
    seconds = []
    for _ in range(repeat):
        start = time.perf_counter()
        result = fit()
        seconds.append(time.perf_counter() - start)
    return float(np.median(seconds)), result


def run_sksafe_dask(client, X, y, datafit, penalty, layout, screening=True, repeat=1, tol=TOL,
                    **options):
    from sksafe.distributed import solve_distributed

    return timed(repeat, lambda: solve_distributed(X, y, datafit, penalty, tol=tol,
                                                   fit_intercept=False, layout=layout,
                                                   screening=screening, client=client,
                                                   **options))


def run_dask_ml(X, y, kind, alpha, solver):
    """dask-ml in raw mode; returns ``(seconds, coef)`` (``None`` coef: it failed)."""
    import dask.array as da
    from dask_ml.linear_model import LinearRegression, LogisticRegression

    n = X.shape[0]
    if kind == "lasso":
        est = LinearRegression(penalty="l1", C=1.0 / (2 * n * alpha), fit_intercept=False,
                               solver=solver, solver_kwargs={"normalize": False})
        target = da.from_array(y, chunks=(X.chunks[0],))
    else:
        est = LogisticRegression(penalty="l1", C=1.0 / (n * alpha), fit_intercept=False,
                                 solver=solver, solver_kwargs={"normalize": False})
        target = da.from_array((y > 0).astype(np.float64), chunks=(X.chunks[0],))
    start = time.perf_counter()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            est.fit(X, target)
    except Exception as error:  # noqa: BLE001 - reported in the table
        return time.perf_counter() - start, None, f"{type(error).__name__}: {error}"[:80]
    return time.perf_counter() - start, np.asarray(est.coef_).ravel(), ""


def problem_a(client, kind, n, p):
    """A problem of (a) on the cluster: ``(X rows, X columns, X local, y, datafit, penalty,
    reference fit at gap 1e-10)``, alpha = alpha_max / 10; the dask arrays persisted."""
    from sksafe.datafits import Logistic, Quadratic
    from sksafe.penalties import L1
    from sksafe.solvers import solve

    X_rows, X_cols, X_local, y = make_problem(kind, n, p, n_blocks=2)
    X_rows = client.persist(X_rows)
    X_cols = client.persist(X_cols) if X_cols is not None else None
    datafit = Quadratic() if kind == "lasso" else Logistic()
    alpha = solve(X_local, y, datafit, L1(1.0), fit_intercept=False, tol=1e-2).alpha_max / 10
    penalty = L1(alpha)
    reference = solve(X_local, y, datafit, penalty, fit_intercept=False, tol=1e-10)
    return X_rows, X_cols, X_local, y, datafit, penalty, reference


def part_a(client, quick, repeat=1, dask_ml=True):
    from sksafe.solvers import solve

    n, p = (400, 4000) if quick else (2000, 20000)
    rows, table, ledgers = [], [], {}
    for kind, n, p in (("logistic", n, p), ("lasso", n, p), ("sparse", n, p),
                       ("sparse-large", 10 * n, 10 * p)):
        X_rows, X_cols, X_local, y, datafit, penalty, reference = problem_a(client, kind, n, p)
        alpha = penalty.alpha
        p_star = reference.primal

        def record(method, seconds, coef, note=""):
            if coef is None:
                rows.append((kind, method, seconds, None, None, None, note))
                return
            gap = certify(X_local, y, datafit, penalty, coef)
            primal = gap_primal(X_local, y, datafit, penalty, coef)
            support = np.count_nonzero(coef)
            rows.append((kind, method, seconds, gap, (primal - p_star) / p_star, support,
                         note))

        seconds, single = timed(repeat, lambda: solve(X_local, y, datafit, penalty,
                                                      fit_intercept=False, tol=TOL))
        record("sksafe, one process", seconds, single.coef)
        # warm-up as the single-machine side had (its alpha_max and reference fits)
        run_sksafe_dask(client, X_rows, y, datafit, penalty, "rows", tol=1e-2)
        seconds, res = run_sksafe_dask(client, X_rows, y, datafit, penalty, "rows",
                                       repeat=repeat)
        record("sksafe-dask, row blocks", seconds, res.coef, f"{res.communication.n_rounds} rounds")
        ledgers[(kind, "rows", True)] = res.communication
        seconds, res = run_sksafe_dask(client, X_rows, y, datafit, penalty, "rows",
                                       screening=False, repeat=repeat)
        record("sksafe-dask, row blocks, no screening", seconds, res.coef,
               f"{res.communication.n_rounds} rounds")
        ledgers[(kind, "rows", False)] = res.communication
        if kind != "sparse-large":
            seconds, res = run_sksafe_dask(client, X_rows, y, datafit, penalty, "rows",
                                           repeat=repeat, central_max_bytes=0)
            record("sksafe-dask, row blocks, working sets by rounds", seconds, res.coef,
                   f"{res.communication.n_rounds} rounds")
        if X_cols is not None:
            run_sksafe_dask(client, X_cols, y, datafit, penalty, "columns", tol=1e-2)
            seconds, res = run_sksafe_dask(client, X_cols, y, datafit, penalty, "columns",
                                           repeat=repeat)
            record("sksafe-dask, column blocks", seconds, res.coef,
                   f"{res.communication.n_rounds} rounds")
            ledgers[(kind, "columns", True)] = res.communication
        for solver in ("admm", "proximal_grad") if dask_ml else ():
            if kind.startswith("sparse"):
                rows.append((kind, f"dask-ml {solver}", None, None, None, None,
                             "scipy.sparse chunks fail in dask-ml (notes §1.1)"))
                continue
            seconds, coef, note = run_dask_ml(X_rows, y, kind, alpha, solver)
            record(f"dask-ml {solver}", seconds, coef, note)
        table.append((kind, n, p, alpha, reference.primal, np.count_nonzero(reference.coef)))
    return rows, table, ledgers


def gap_primal(X, y, datafit, penalty, coef):
    z = np.asarray(X @ coef).ravel()
    s = np.full(X.shape[0], 1.0 / X.shape[0])
    return datafit.value(z, datafit.check_target(y), s) + penalty.value(coef)


def part_c(quick):
    """5000 x 300 000 int8 genotypes on two workers capped below the data size."""
    import dask
    import dask.array as da
    from distributed import Client, LocalCluster

    from sksafe.datafits import Quadratic
    from sksafe.distributed import solve_distributed
    from sksafe.penalties import L1

    n, p = (1000, 20000) if quick else (5000, 300_000)
    # a worker process holds ~300 MB of interpreter, NumPy, SciPy, Numba and sksafe before
    # any data: 1.3 GB leaves room for half the 1.5 GB matrix, not for all of it. No spilling
    # (the blocks are the working data) and no pausing below 95 %.
    limit = "600MB" if quick else "1.3GB"
    out = []
    memory = {"distributed.worker.memory.target": False,
              "distributed.worker.memory.spill": False,
              "distributed.worker.memory.pause": 0.95,
              "distributed.worker.memory.terminate": 0.99}
    for layout in ("rows", "columns"):
        with dask.config.set(memory), LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                          memory_limit=limit, dashboard_address=None) as cluster, \
                Client(cluster) as client:
            client.wait_for_workers(2, timeout=120)
            if layout == "rows":
                parts = [da.from_delayed(dask.delayed(genotype_block)(k, n // 2, p),
                                         shape=(n // 2, p), dtype=np.int8) for k in range(2)]
                X = da.concatenate(parts, axis=0)
            else:
                parts = [da.from_delayed(dask.delayed(genotype_block)(10 + k, n, p // 2),
                                         shape=(n, p // 2), dtype=np.int8) for k in range(2)]
                X = da.concatenate(parts, axis=1)
            rng = np.random.default_rng(7)
            causal = np.sort(rng.choice(p, 100, replace=False))
            # y from the causal columns only: one lazy pass that keeps 100 columns
            y = X[:, causal].compute().astype(np.float64) @ rng.normal(0, 0.3, 100)
            y += rng.standard_normal(n)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                alpha_max = solve_distributed(X, y, Quadratic(), L1(1e12), layout=layout,
                                              client=client).alpha_max
                start = time.perf_counter()
                res = solve_distributed(X, y, Quadratic(), L1(alpha_max / 5), tol=TOL,
                                        layout=layout, client=client, timeout=300)
            seconds = time.perf_counter() - start
            peaks = client.run(peak_rss_mib)
            out.append((layout, n, p, limit, seconds, res.relative_gap,
                        int(np.count_nonzero(res.coef)), len(causal),
                        list(peaks.values()), res.communication))
    return out


def part_d(client, quick, repeat=1):
    """Column layout: working sets solved centrally vs by ProxCoCoA+ rounds."""
    import dask
    import dask.array as da

    from sksafe.datafits import Quadratic
    from sksafe.distributed._cocoa import LOCAL_EPOCHS
    from sksafe.penalties import L1
    from sksafe.solvers import solve

    n, p = (400, 4000) if quick else (2000, 20000)
    out = []
    for kind in ("logistic", "lasso", "genotypes"):
        if kind == "genotypes":
            parts = [da.from_delayed(dask.delayed(genotype_block)(20 + k, n, p // 2),
                                     shape=(n, p // 2), dtype=np.int8) for k in range(2)]
            X_cols = client.persist(da.concatenate(parts, axis=1))
            X_local = np.hstack([genotype_block(20 + k, n, p // 2) for k in range(2)])
            rng = np.random.default_rng(8)
            causal = rng.choice(p, 100, replace=False)
            y = X_local[:, causal] @ rng.normal(0, 0.3, 100) + rng.standard_normal(n)
            datafit = Quadratic()
            X_float = X_local.astype(np.float64)
            alpha = solve(X_float, y, datafit, L1(1.0), fit_intercept=False,
                          tol=1e-2).alpha_max / 5
            penalty = L1(alpha)
            reference = solve(X_float, y, datafit, penalty, fit_intercept=False, tol=1e-10)
        else:
            _, X_cols, X_float, y, datafit, penalty, reference = problem_a(client, kind, n, p)
        for column_solver in ("central", "cocoa"):
            options = dict(column_solver=column_solver,
                           max_epochs=LOCAL_EPOCHS * COCOA_ROUNDS)
            run_sksafe_dask(client, X_cols, y, datafit, penalty, "columns", tol=1e-2, **options)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # a CoCoA run out of rounds is reported below
                seconds, res = run_sksafe_dask(client, X_cols, y, datafit, penalty, "columns",
                                               repeat=repeat, **options)
            gap = certify(X_float, y, datafit, penalty, res.coef)
            summary = res.communication.summary()
            trajectory = [(h["relative_gap"], h.get("cocoa_rounds", 0)) for h in res.history]
            out.append((kind, column_solver, seconds, gap, res.communication,
                        summary.get("cocoa", {}).get("rounds", 0), len(res.history),
                        trajectory))
    return out


#: CoCoA rounds allowed per working-set solve in (d): ``max_epochs = LOCAL_EPOCHS * COCOA_ROUNDS``
COCOA_ROUNDS = 1000


def cocoa_lines(cocoa):
    lines = ["", "## (d) Column layout: working sets solved centrally vs by ProxCoCoA+", "",
             "Dense logistic and Lasso of (a) in 2 column blocks, and an int8 genotype "
             "Lasso of the same shape at alpha_max / 5; relative gap 1e-6 (certified by "
             "`sksafe.solvers.duality_gap`); at most "
             f"{COCOA_ROUNDS} CoCoA rounds per working set.", "",
             "| problem | working-set solver | time | relative gap | outer iterations | "
             "rounds (CoCoA) | bytes sent | bytes received |",
             "|---|---|---|---|---|---|---|---|"]
    for kind, solver, seconds, gap, ledger, cocoa_rounds, outer, _ in cocoa:
        lines.append(f"| {kind} | {solver} | {fmt_time(seconds, 0)} | {gap:.1e} | {outer} | "
                     f"{ledger.n_rounds} ({cocoa_rounds}) | {ledger.bytes_sent:,} | "
                     f"{ledger.bytes_received:,} |")
    lines += ["", "Relative gap after each outer iteration (CoCoA rounds of its working-set "
              "solve):", ""]
    for kind, solver, *_, trajectory in cocoa:
        steps = ", ".join(f"{g:.1e}" + (f" ({r})" if r else "") for g, r in trajectory)
        lines.append(f"- {kind}, {solver}: {steps}")
    return lines


def write_results(rows, table, ledgers, big, quick, print_only=False, cocoa=(), output=None):
    date = datetime.date.today().isoformat()
    path = (Path(output) if output is not None
            else HERE / "results" / f"distributed_{date}{'_quick' if quick else ''}.md")
    lines = [f"# Distributed fitting on Dask ({date})", "",
             "Command: `" + " ".join(["python", "benchmarks/bench_distributed.py"]
                                     + sys.argv[1:]) + "`",
             "", "Machine:", ""]
    lines += [f"- {k}: {v}" for k, v in machine_info(None).items()]
    lines += ["- cluster: `LocalCluster(n_workers=2, threads_per_worker=1, processes=True)` on "
              "the same 2 cores as the driver; sksafe entries: median of the `--repeat` runs "
              "(default 1), dask-ml: one run; the machine may be shared with other jobs "
              "(see the load average), so timings are noisy.", "",
              "## (a) Problems that fit one machine, alpha = alpha_max / 10, no intercept", ""]
    lines += ["| problem | n | p | alpha | P* (gap 1e-10) | support |", "|---|---|---|---|---|---|"]
    lines += [f"| {k} | {n} | {p} | {a:.4g} | {ps:.8g} | {s} |" for k, n, p, a, ps, s in table]
    lines += ["", "Relative gap: certified by `sksafe.solvers.duality_gap` at the returned "
              "point; suboptimality: `(P - P*) / P*`; support: non-zeros.", "",
              "| problem | method | time | relative gap | suboptimality | support | note |",
              "|---|---|---|---|---|---|---|"]
    single = {r[0]: r[2] for r in rows if r[1] == "sksafe, one process"}
    for kind, method, seconds, gap, subopt, support, note in rows:
        t = fmt_time(seconds, 0) if seconds is not None else "—"
        if seconds is not None and method != "sksafe, one process":
            t += f" ({seconds / single[kind]:.1f}x)"
        g = f"{gap:.1e}" if gap is not None else "—"
        so = f"{subopt:.1e}" if subopt is not None else "—"
        lines.append(f"| {kind} | {method} | {t} | {g} | {so} | "
                     f"{support if support is not None else '—'} | {note} |")
    lines += ["", "## (b) Communication per round, row blocks, with and without screening", "",
              "| problem | screening | rounds | bytes received | correlation rounds: first / "
              "last message (bytes) |", "|---|---|---|---|---|"]
    for (kind, layout, screening), ledger in ledgers.items():
        if layout != "rows":
            continue
        corr = [r for r in ledger.rounds if r["kind"] == "correlations"]
        lines.append(f"| {kind} | {'yes' if screening else 'no'} | {ledger.n_rounds} | "
                     f"{ledger.bytes_received:,} | {corr[0]['bytes_received']:,} / "
                     f"{corr[-2]['bytes_received'] if len(corr) > 1 else 0:,} |")
    lines += ["", "(The last correlation round of a fit is the final certificate over every "
              "feature, or the last gap evaluation when it correlated every feature ahead of "
              "the certificate; the column is the one before it.)", "",
              "Rounds of the timed row-block fits (screening on) by kind: seconds from "
              "the last submission to the last result, i.e. what the driver waited; the "
              "rest of a fit is its own work (working-set solves, ranking, set-up).", "",
              "| problem | kind | rounds | seconds | bytes sent | bytes received |",
              "|---|---|---|---|---|---|"]
    for (kind, layout, screening), ledger in ledgers.items():
        if layout != "rows" or not screening:
            continue
        for what, row in ledger.summary().items():
            lines.append(f"| {kind} | {what} | {row['rounds']} | {row['seconds'] * 1e3:.1f} ms | "
                         f"{row['bytes_sent']:,} | {row['bytes_received']:,} |")
    lines += ["",
              "## (c) Larger than one worker's memory: int8 genotypes, Lasso at alpha_max / 5",
              "", "| layout | n | p | worker memory_limit | time | relative gap | support | "
              "causal SNPs | peak RSS per worker (MiB) | rounds | bytes received |",
              "|---|---|---|---|---|---|---|---|---|---|---|"]
    for layout, n, p, limit, seconds, gap, support, causal, peaks, ledger in big:
        lines.append(f"| {layout} | {n} | {p} | {limit} | {fmt_time(seconds, 0)} | {gap:.1e} | "
                     f"{support} | {causal} | {', '.join(f'{v:.0f}' for v in peaks)} | "
                     f"{ledger.n_rounds} | {ledger.bytes_received:,} |")
    if cocoa:
        lines += cocoa_lines(cocoa)
    print("\n".join(lines))
    if not print_only:
        path.write_text("\n".join(lines) + "\n")
    return path


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--skip-large", action="store_true", help="skip part (c)")
    parser.add_argument("--parts", default="a,c,d",
                        help="parts to run, comma-separated: a (with b), c, d (default a,c,d)")
    parser.add_argument("--repeat", type=int, default=1,
                        help="timed runs per entry of (a); the median is reported")
    parser.add_argument("--skip-dask-ml", action="store_true", help="no dask-ml fits in (a)")
    parser.add_argument("--print-only", action="store_true",
                        help="print the tables, write no results file")
    parser.add_argument("--output", default=None,
                        help="results file (default benchmarks/results/distributed_<date>.md)")
    args = parser.parse_args()
    parts = set(args.parts.split(","))
    if args.skip_large:
        parts.discard("c")
    from distributed import Client, LocalCluster

    rows, table, ledgers, cocoa = [], [], {}, []
    if parts & {"a", "d"}:
        with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                          dashboard_address=None) as cluster, Client(cluster) as client:
            if "a" in parts:
                rows, table, ledgers = part_a(client, args.quick, args.repeat,
                                              dask_ml=not args.skip_dask_ml)
            if "d" in parts:
                cocoa = part_d(client, args.quick, args.repeat)
        # (a), (b) and (d) kept if (c) fails
        write_results(rows, table, ledgers, [], args.quick, args.print_only, cocoa, args.output)
    if "c" in parts:
        write_results(rows, table, ledgers, part_c(args.quick), args.quick, args.print_only,
                      cocoa, args.output)


if __name__ == "__main__":
    main()
