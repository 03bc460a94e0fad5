"""``solve_distributed``: input checks, block set-up and the global statistics of a fit."""
import time
import warnings

import numpy as np

from ..datafits.base import BaseDatafit
from . import _tasks
from ._central import WorkingColumns, central_budget
from ._cocoa import check_cocoa_datafit
from ._columns import column_runtime, solve_on_columns
from ._runtime import BlockRuntime
from ._solver import (CentralRows, DistributedProblem, _sum_in_order, distributed_alpha_max,
                      solve_on_blocks)


def get_client(client=None):
    """``client``, or the default ``distributed`` client; a clear error when there is none."""
    try:
        import distributed
    except ImportError as error:  # pragma: no cover - the extra is installed in CI
        raise ValueError("Fitting dask arrays needs dask.distributed: pip install "
                         "'sksafe[dask]'.") from error
    if client is None:
        try:
            client = distributed.default_client()
        except ValueError:
            raise ValueError("Fitting dask arrays needs a dask.distributed Client: create one "
                             "first (client = Client(...)) or use 'with Client(...):'.") from None
    if client.status != "running":
        raise ValueError(f"The dask.distributed client is not running (status "
                         f"{client.status!r}): it was closed.")
    if not client.scheduler_info(n_workers=-1)["workers"]:
        raise ValueError("The dask.distributed cluster has no workers.")
    return client


def check_supported(datafit, penalty, layout="rows"):
    """Refuse, with a clear message, what the distributed solvers do not handle.

    Both layouts take separable penalties and single-output datafits; row blocks
    need a loss that is a sum over samples of scalar functions (not Cox, whose
    risk sets span the blocks), column blocks take Cox too (the dual point lives
    on the driver).
    """
    if getattr(penalty, "family", None) != "separable_elastic_net":
        raise ValueError(f"The distributed solver handles the separable penalties (L1, "
                         f"ElasticNet, WeightedL1), not {penalty!r}.")
    if getattr(penalty, "bounds", None) is not None:
        raise ValueError("Box constraints (bounds) are not supported by the distributed solver "
                         "yet; positive=True is.")
    if getattr(datafit, "multi_output", False):
        raise ValueError(f"The distributed solver handles single-output datafits, not "
                         f"{datafit!r}.")
    if layout == "columns":
        return
    if datafit.intercept_mode == "none":
        raise ValueError(f"The distributed solver handles datafits whose loss is a sum over "
                         f"samples of a scalar function (Quadratic, Logistic, Poisson, Huber), "
                         f"not {datafit!r}.")
    if datafit.intercept_mode == "newton" and (
            type(datafit).zero_sum_dual is not BaseDatafit.zero_sum_dual
            or type(datafit).dual_gamma is not BaseDatafit.dual_gamma):
        raise ValueError(f"The distributed solver does not handle {datafit!r} (its dual "
                         f"point needs global information).")


def _check_blocks(X, y, sample_weight, layout="auto"):
    """Validate the dask input and resolve the layout.

    Returns ``(X, y, sample_weight, layout)``. Row blocks: ``X`` has one column
    chunk (column chunks are merged with a warning) and ``y`` and the weights are
    dask arrays chunked like its rows, or NumPy vectors (sliced per block when the
    blocks are prepared). Column blocks: ``X`` has one row chunk (row
    chunks are merged with a warning) and ``y`` and the weights are NumPy vectors
    on the driver. ``layout="auto"`` takes columns when ``X`` is chunked along the
    features only, rows otherwise.
    """
    import dask.array as da

    if not isinstance(X, da.Array):
        raise ValueError(f"X must be a dask array, got {type(X).__name__}; dask DataFrames: "
                         f"use .to_dask_array(lengths=True).")
    if X.ndim != 2:
        raise ValueError(f"X must be 2-D, got {X.ndim} dimension(s).")
    if layout not in ("auto", "rows", "columns"):
        raise ValueError(f"layout must be 'auto', 'rows' or 'columns', got {layout!r}.")
    if any(np.isnan(c) for c in X.chunks[0]):
        X = X.compute_chunk_sizes()
    if X.shape[0] == 0 or X.shape[1] == 0:
        raise ValueError(f"X is empty: shape {X.shape}.")
    if layout == "auto":
        layout = "columns" if len(X.chunks[0]) == 1 and len(X.chunks[1]) > 1 else "rows"
    axis, other = (1, 0) if layout == "rows" else (0, 1)
    if len(X.chunks[axis]) > 1:
        what = "features" if layout == "rows" else "samples"
        warnings.warn(f"X is chunked along the {what} ({len(X.chunks[axis])} chunks): "
                      f"rechunking to {layout[:-1]} blocks, the layout of this solve (a shuffle "
                      f"of the data; chunk X along one axis only to avoid it).", UserWarning,
                      stacklevel=4)
        X = X.rechunk({axis: -1})
    row_chunks = X.chunks[0]

    def like_rows(v, name):
        if v is None:
            return None
        if isinstance(v, da.Array):
            if v.ndim == 2 and v.shape[1] == 1:
                v = v[:, 0]
            if v.ndim != 1:
                raise ValueError(f"{name} must be 1-D, got shape {v.shape}.")
            if any(np.isnan(c) for c in v.chunks[0]):
                v = v.compute_chunk_sizes()
            if v.shape[0] != X.shape[0]:
                raise ValueError(f"{name} has {v.shape[0]} rows, X has {X.shape[0]}: the "
                                 f"blocks do not match.")
            if layout == "columns":
                return np.asarray(v.compute())
            return v.rechunk((row_chunks,)) if v.chunks[0] != row_chunks else v
        v = np.asarray(v)
        if v.ndim == 2 and v.shape[1] == 1:
            v = v.ravel()
        # on the driver (columns) a target may be a matrix: survival times and events
        if v.ndim != 1 and not (layout == "columns" and name == "y" and v.ndim == 2):
            raise ValueError(f"{name} must be 1-D, got shape {v.shape}.")
        if v.shape[0] != X.shape[0]:
            raise ValueError(f"{name} has {v.shape[0]} rows, X has {X.shape[0]}.")
        return v

    y, sample_weight = like_rows(y, "y"), like_rows(sample_weight, "sample_weight")
    if layout == "columns":
        if y.dtype.kind in "fc" and not np.all(np.isfinite(y)):
            raise ValueError("y contains NaN or infinity.")
        if sample_weight is not None:
            sample_weight = np.asarray(sample_weight, dtype=np.float64)
            if not np.all(np.isfinite(sample_weight)) or np.any(sample_weight < 0):
                raise ValueError("sample_weight must be finite and non-negative.")
            if not np.any(sample_weight > 0):
                raise ValueError("sample_weight must have at least one positive entry.")
    return X, y, sample_weight, layout


def _row_parts(v, row_chunks):
    """The per-block pieces of a row vector: its chunks (a dask array chunked like the
    rows), or slices of a NumPy vector, which travel inside the blocks' tasks (no
    task of their own to run first, and no transfer to the block's worker)."""
    if v is None:
        return [None] * len(row_chunks)
    if isinstance(v, np.ndarray):
        bounds = np.cumsum((0, *row_chunks))
        return [v[start:stop] for start, stop in zip(bounds[:-1], bounds[1:])]
    return v.to_delayed().ravel()


def build_problem(client, X, y, sample_weight, datafit, fit_intercept, *, max_retries, timeout,
                  central_max_bytes=None):
    """Prepare the blocks on the workers and reduce the global statistics of the problem.

    The block moments (rows, weight sums, weighted column sums and target sum,
    and the target and weights themselves when the driver may solve working
    sets: see :mod:`sksafe.distributed._central`) in one round; with an
    intercept a second round for the weighted squared column norms, raw and
    centred at the global means (two passes: no cancellation), without one the
    raw norms and the correlations of the dual point at ``w = 0``
    (:func:`~sksafe.distributed._tasks.block_zero_point`) come with the moments. Both are direct rounds
    (:meth:`~sksafe.distributed._runtime.BlockRuntime.map`) once the blocks are
    computed and located.
    """
    import dask

    x_parts = X.to_delayed().ravel()
    y_parts = _row_parts(y, X.chunks[0])
    w_parts = _row_parts(sample_weight, X.chunks[0])
    # keys of their own (not pure): a fit on the data of the previous one would otherwise
    # name its blocks like those the previous fit is releasing, and a worker could drop
    # a block the new fit was just told it holds (about one fit pair in 40, BlockMoved)
    prepare = dask.delayed(_tasks.prepare_block, pure=False)
    blocks = client.compute([prepare(xp, yp, wp, datafit, k)
                             for k, (xp, yp, wp) in enumerate(zip(x_parts, y_parts, w_parts))])
    runtime = BlockRuntime(client, blocks, max_retries=max_retries, timeout=timeout)
    n_samples = X.shape[0]
    budget = central_budget(client, central_max_bytes)
    # target, weights and one column: below that the driver never solves a working set
    samples = 3 * 8 * n_samples <= budget
    # without an intercept neither the squared norms nor the dual point at w = 0 need
    # global statistics: in the same round
    moments = runtime.map(_tasks.block_moments, samples, not fit_intercept,
                          None if fit_intercept else datafit, kind="setup")
    total_weight = _sum_in_order([m[1] for m in moments])
    if not total_weight > 0:
        raise ValueError("sample_weight must have at least one positive entry.")
    n_features = X.shape[1]
    x_mean = np.zeros(n_features)
    y_offset = 0.0
    centre = datafit.intercept_mode == "centre"
    if fit_intercept:
        x_mean = _sum_in_order([m[2] for m in moments]) / total_weight
        if centre:
            y_offset = _sum_in_order([m[3] for m in moments]) / total_weight
    runtime.transform(_tasks.normalise_block, total_weight)
    if fit_intercept:
        norms = runtime.map(_tasks.block_sq_norms, x_mean, kind="setup")
        raw_sq = _sum_in_order([n[0] for n in norms])
        centred_sq = _sum_in_order([n[1] for n in norms])
        centred_sq[centred_sq <= 1e-13 * raw_sq] = 0.0  # constant columns, as on one machine
    else:
        centred_sq = _sum_in_order([m[4] for m in moments]) / total_weight
    central = None
    if samples:
        raw_weights = np.concatenate([m[7] for m in moments])
        entries = (None if any(m[8] is None for m in moments)
                   else _sum_in_order([m[8] for m in moments]))
        central = CentralRows(np.concatenate([m[6] for m in moments]), raw_weights,
                              raw_weights / total_weight,
                              WorkingColumns(n_samples, n_features,
                                             budget - 3 * 8 * n_samples, entries))
    problem = DistributedProblem(runtime, datafit, n_samples=n_samples, n_features=n_features,
                                 x_mean=x_mean, y_offset=y_offset,
                                 screen_norms=np.sqrt(centred_sq),
                                 fit_intercept=bool(fit_intercept),
                                 block_sizes=[int(m[0]) for m in moments], central=central)
    if not fit_intercept:
        problem.zero_sums = tuple(_sum_in_order([m[5][i] for m in moments]) / total_weight
                                  for i in range(4))
    return problem


def solve_distributed(X, y, datafit, penalty, *, sample_weight=None, fit_intercept=True,
                      tol=1e-4, max_iter=100, max_epochs=50_000, p0=10, screening=True,
                      verbose=0, client=None, layout="auto", max_retries=3, timeout=600.0,
                      central_max_bytes=None, column_solver="auto"):
    """Minimise ``P(w, b) = F(X w + b) + g(w)`` on a Dask cluster, to relative duality gap ``tol``.

    ``F(z) = sum_i s_i f(y_i, z_i)`` (weights normalised to sum to one) and
    ``g(w) = sum_j a_j |w_j| + b_j w_j^2 / 2``, exactly as :func:`sksafe.solvers.solve`:
    the same working-set algorithm with dynamic Gap Safe screening, whose data
    passes are reductions over the row blocks of ``X`` where they live (see
    :mod:`sksafe.distributed`). The solver stops when ``G <= tol * P(0)``.

    Parameters
    ----------
    X : dask.array.Array of shape (n_samples, n_features)
        Row blocks of ndarrays or scipy.sparse matrices (CSC is used as is, other
        formats are converted per block; never densified). Column chunks are
        merged with a warning.
    y : dask.array.Array or ndarray of shape (n_samples,)
        Target in the datafit's form (``{-1, +1}`` for :class:`~sksafe.datafits.Logistic`).
    datafit, penalty : objects of :mod:`sksafe.datafits` / :mod:`sksafe.penalties`
        A datafit that is a sum of scalar losses (Quadratic, Logistic, Poisson,
        Huber) and a separable penalty.
    sample_weight : dask.array.Array or ndarray of shape (n_samples,), default=None
    fit_intercept : bool, default=True
    tol, max_iter, max_epochs, p0, screening, verbose
        As in :func:`sksafe.solvers.solve`.
    client : distributed.Client, default=None
        The cluster to use; the default client when ``None``.
    layout : {"auto", "rows", "columns"}, default="auto"
        Row blocks (sample partition: every data pass is a reduction over blocks)
        or column blocks (feature partition for ``p >> n``: each worker screens its
        own columns, the driver solves the working-set problem). ``"auto"`` follows
        the chunking of ``X``: columns when it is chunked along the features only.
    max_retries : int, default=3
        Replays of a round that failed because a worker died.
    timeout : float, default=600
        Seconds any single round may take (no wait is unbounded).
    central_max_bytes : float, default=None
        Largest size, in bytes, of the working-set columns ``X[:, W]`` that the
        driver fetches to solve the working-set problem itself with the
        single-machine solver (counted as stored on the driver: ``8 n`` bytes a
        dense column, 12 bytes per stored entry plus 8 a sparse one). ``None``
        means 256 MiB; either way at most a quarter of the
        smallest worker memory limit. Row blocks: larger working sets are solved by
        rounds over the blocks (least-squares Gram, proximal Newton models); ``0``
        always does so. The target and the weights (``n`` floats each) come to the
        driver when the budget holds them. Column blocks: see ``column_solver``.
    column_solver : {"auto", "central", "cocoa"}, default="auto"
        Column blocks: how the working-set problem of each outer iteration is
        solved. ``"central"``: its new columns come to the driver (``n |W_new|``
        floats, each column once per fit), which solves it with the single-machine
        solver. ``"cocoa"``: no column moves; ProxCoCoA+ rounds (Smith et al.,
        JMLR 18(230), 2018) send the dual candidate to the blocks and bring back
        ``n + 2 |W_k|`` floats per block, each block solving a local quadratic model
        on its own working-set columns by coordinate descent, until the working-set
        duality gap is below the inner tolerance (``max_epochs`` counts the local
        epochs: at most ``max_epochs / 5`` rounds per working set). Needs a datafit
        with a bounded second derivative (Quadratic, Logistic, Huber). ``"auto"``:
        central while the working-set columns fit ``central_max_bytes`` (the
        faster one, by measurement: see :mod:`sksafe.distributed._columns`), cocoa
        beyond, where the datafit allows it (otherwise central all the same, with
        a ``ResourceWarning``).

    Returns
    -------
    SolveResult
        As :func:`sksafe.solvers.solve`; ``dual_point`` is a dask array chunked
        like the rows (its ``n`` floats computed on the driver, from its own rows or
        by one direct round: see ``DualCandidate.to_dask_array``), and
        ``communication`` holds the
        :class:`~sksafe.distributed.CommunicationLedger` of the fit.
    """
    start = time.perf_counter()
    client = get_client(client)
    X, y, sample_weight, layout = _check_blocks(X, y, sample_weight, layout)
    check_supported(datafit, penalty, layout)
    if column_solver not in ("auto", "central", "cocoa"):
        raise ValueError(f"column_solver must be 'auto', 'central' or 'cocoa', got "
                         f"{column_solver!r}.")
    if column_solver == "cocoa":
        if layout != "columns":
            raise ValueError("column_solver='cocoa' solves the working sets of column blocks; "
                             "X is laid out in row blocks here (chunk it along the features "
                             "only, or pass layout='columns').")
        check_cocoa_datafit(datafit)
    options = dict(tol=tol, max_iter=max_iter, max_epochs=max_epochs, p0=p0,
                   screening=screening, verbose=verbose, start=start)
    if layout == "columns":
        runtime, starts, widths = column_runtime(client, X, max_retries=max_retries,
                                                 timeout=timeout)
        budget = central_budget(client, central_max_bytes)
        return solve_on_columns(runtime, starts, widths, y, sample_weight, datafit, penalty,
                                fit_intercept=fit_intercept, column_solver=column_solver,
                                central_max_bytes=budget, **options)
    problem = build_problem(client, X, y, sample_weight, datafit, fit_intercept,
                            max_retries=max_retries, timeout=timeout,
                            central_max_bytes=central_max_bytes)
    result = solve_on_blocks(problem, penalty, **options)
    result.dual_point = result.dual_point.to_dask_array()
    result.communication = problem.runtime.ledger
    problem.runtime.close()
    return result


def path_distributed(X, y, datafit, penalty, alphas, *, sample_weight=None, fit_intercept=True,
                     tol=1e-4, max_iter=100, max_epochs=50_000, p0=10, screening=True,
                     client=None, max_retries=3, timeout=600.0, progress=None,
                     central_max_bytes=None):
    """A regularisation path on row blocks: the blocks are prepared once, each fit
    starts from the previous solution and its dual point (sequential screening).

    ``alphas`` is a decreasing grid, or a callable ``alpha_max -> grid`` (the
    automatic grid needs ``alpha_max``, known after the first reduction);
    ``central_max_bytes`` as in :func:`solve_distributed` (the working-set columns
    stay on the driver from one fit to the next). Returns a :class:`sksafe.paths.PathResult` whose ``communication`` attribute
    lists one ledger for the whole path.
    """
    from ..paths._path import run_path

    client = get_client(client)
    X, y, sample_weight, _ = _check_blocks(X, y, sample_weight, "rows")
    check_supported(datafit, penalty, "rows")
    problem = build_problem(client, X, y, sample_weight, datafit, fit_intercept,
                            max_retries=max_retries, timeout=timeout,
                            central_max_bytes=central_max_bytes)
    if callable(alphas):
        alphas = alphas(distributed_alpha_max(problem, penalty))

    def fit(pen, coef, intercept, dual):
        return solve_on_blocks(problem, pen, tol=tol, max_iter=max_iter, max_epochs=max_epochs,
                               p0=p0, screening=screening, verbose=0,
                               start=time.perf_counter(), coef_init=coef,
                               intercept_init=intercept, dual_init=dual)

    path = run_path(problem, datafit, penalty, np.asarray(alphas, dtype=np.float64), tol=tol,
                    progress=progress, fit=fit)
    path.communication = problem.runtime.ledger
    problem.runtime.close()
    return path
