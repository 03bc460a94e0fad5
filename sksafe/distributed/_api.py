"""``solve_distributed``: input checks, block set-up and the global statistics of a fit."""
import time
import warnings

import numpy as np

from ..datafits.base import BaseDatafit
from . import _tasks
from ._runtime import RowBlockRuntime
from ._solver import DistributedProblem, _sum_in_order, solve_on_blocks


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


def check_supported(datafit, penalty):
    """Refuse, with a clear message, what the row-block solver does not handle."""
    if getattr(penalty, "family", None) != "separable_elastic_net":
        raise ValueError(f"The distributed solver handles the separable penalties (L1, "
                         f"ElasticNet, WeightedL1), not {penalty!r}.")
    if getattr(datafit, "multi_output", False) or datafit.intercept_mode == "none":
        raise ValueError(f"The distributed solver handles datafits whose loss is a sum over "
                         f"samples of a scalar function (Quadratic, Logistic, Poisson, Huber), "
                         f"not {datafit!r}.")
    if datafit.intercept_mode == "newton" and (
            type(datafit).zero_sum_dual is not BaseDatafit.zero_sum_dual
            or type(datafit).dual_gamma is not BaseDatafit.dual_gamma):
        raise ValueError(f"The distributed solver does not handle {datafit!r} (its dual "
                         f"point needs global information).")


def _as_row_blocks(X, y, sample_weight):
    """Row-chunked dask arrays ``X`` (one column chunk), ``y`` and weights chunked like ``X``."""
    import dask.array as da

    if not isinstance(X, da.Array):
        raise ValueError(f"X must be a dask array, got {type(X).__name__}; dask DataFrames: "
                         f"use .to_dask_array(lengths=True).")
    if X.ndim != 2:
        raise ValueError(f"X must be 2-D, got {X.ndim} dimension(s).")
    if any(np.isnan(c) for c in X.chunks[0]):
        X = X.compute_chunk_sizes()
    if X.shape[0] == 0 or X.shape[1] == 0:
        raise ValueError(f"X is empty: shape {X.shape}.")
    if len(X.chunks[1]) > 1:
        warnings.warn(f"X is chunked along the features ({len(X.chunks[1])} column chunks): "
                      f"rechunking to full-width row blocks, the layout of the row-block "
                      f"solver (a shuffle of the data).", UserWarning, stacklevel=4)
        X = X.rechunk({1: -1})
    row_chunks = X.chunks[0]

    def rows_like_X(v, name):
        if v is None:
            return None
        if not isinstance(v, da.Array):
            v = np.asarray(v)
            if v.ndim == 2 and v.shape[1] == 1:
                v = v.ravel()
            if v.ndim != 1:
                raise ValueError(f"{name} must be 1-D, got shape {v.shape}.")
            if v.shape[0] != X.shape[0]:
                raise ValueError(f"{name} has {v.shape[0]} rows, X has {X.shape[0]}.")
            return da.from_array(v, chunks=(row_chunks,))
        if v.ndim == 2 and v.shape[1] == 1:
            v = v[:, 0]
        if v.ndim != 1:
            raise ValueError(f"{name} must be 1-D, got shape {v.shape}.")
        if any(np.isnan(c) for c in v.chunks[0]):
            v = v.compute_chunk_sizes()
        if v.shape[0] != X.shape[0]:
            raise ValueError(f"{name} has {v.shape[0]} rows, X has {X.shape[0]}: the blocks "
                             f"do not match.")
        return v.rechunk((row_chunks,)) if v.chunks[0] != row_chunks else v

    return X, rows_like_X(y, "y"), rows_like_X(sample_weight, "sample_weight")


def build_problem(client, X, y, sample_weight, datafit, fit_intercept, *, max_retries, timeout):
    """Prepare the blocks on the workers and reduce the global statistics of the problem.

    Two rounds: the block moments (rows, weight sums, weighted column sums and
    target sum), then the weighted squared column norms, raw and centred at the
    global means (the centred ones in a second pass: no cancellation).
    """
    import dask

    x_parts = X.to_delayed().ravel()
    y_parts = y.to_delayed().ravel()
    w_parts = (sample_weight.to_delayed().ravel() if sample_weight is not None
               else [None] * len(x_parts))
    prepare = dask.delayed(_tasks.prepare_block, pure=True)
    blocks = client.compute([prepare(xp, yp, wp, datafit, k)
                             for k, (xp, yp, wp) in enumerate(zip(x_parts, y_parts, w_parts))])
    runtime = RowBlockRuntime(client, blocks, max_retries=max_retries, timeout=timeout)
    moments = runtime.run(lambda: [runtime.submit(_tasks.block_moments, k, runtime.blocks[k])
                                   for k in range(runtime.n_blocks)], "setup")
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
    runtime.replace_blocks([runtime.submit(_tasks.normalise_block, k, runtime.blocks[k],
                                           total_weight) for k in range(runtime.n_blocks)])
    norms = runtime.run(lambda: [runtime.submit(_tasks.block_sq_norms, k, runtime.blocks[k],
                                                x_mean) for k in range(runtime.n_blocks)],
                        "setup")
    raw_sq = _sum_in_order([n[0] for n in norms])
    centred_sq = _sum_in_order([n[1] for n in norms])
    if fit_intercept:
        centred_sq[centred_sq <= 1e-13 * raw_sq] = 0.0  # constant columns, as on one machine
    else:
        centred_sq = raw_sq
    problem = DistributedProblem(runtime, datafit, n_samples=X.shape[0], n_features=n_features,
                                 x_mean=x_mean, y_offset=y_offset,
                                 screen_norms=np.sqrt(centred_sq),
                                 fit_intercept=bool(fit_intercept), dtype=X.dtype)
    problem.block_sizes = [int(m[0]) for m in moments]
    return problem


def solve_distributed(X, y, datafit, penalty, *, sample_weight=None, fit_intercept=True,
                      tol=1e-4, max_iter=100, max_epochs=50_000, p0=10, screening=True,
                      verbose=0, client=None, max_retries=3, timeout=600.0):
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
    max_retries : int, default=3
        Replays of a round that failed because a worker died.
    timeout : float, default=600
        Seconds any single round may take (no wait is unbounded).

    Returns
    -------
    SolveResult
        As :func:`sksafe.solvers.solve`; ``dual_point`` is a dask array chunked
        like the rows, and ``communication`` holds the
        :class:`~sksafe.distributed.CommunicationLedger` of the fit.
    """
    start = time.perf_counter()
    check_supported(datafit, penalty)
    client = get_client(client)
    X, y, sample_weight = _as_row_blocks(X, y, sample_weight)
    problem = build_problem(client, X, y, sample_weight, datafit, fit_intercept,
                            max_retries=max_retries, timeout=timeout)
    result = solve_on_blocks(problem, penalty, tol=tol, max_iter=max_iter,
                             max_epochs=max_epochs, p0=p0, screening=screening,
                             verbose=verbose, start=start)
    result.dual_point = result.dual_point.to_dask_array()
    result.communication = problem.runtime.ledger
    return result
