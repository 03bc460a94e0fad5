"""Blocks on a Dask cluster: placement, rounds, the communication ledger, recovery.

A *round* submits one small task per block, pinned to the worker that holds the
block, and gathers the results; partial sums are then added on the driver in
block order, so the numbers do not depend on which worker answers first.

Placement and failures. Tasks name the block's worker with
``allow_other_workers=True``: while that worker lives the scheduler runs them
there (no block ever travels), and when it dies the scheduler is free to
recompute the lost block from its lineage (every block is created by a task
from the user's collection, never scattered) on a live worker. The driver
notices that a worker left, looks the blocks up again, records the recovery in
the ledger and, if the round itself failed (``KilledWorker``, a closed
connection, a timeout), replays it from its own state, at most ``max_retries``
times. Rounds are pure functions of the driver's state, so a replayed round
gives the same numbers. See distributed's scheduler docs on worker restrictions
and on recomputation of lost keys, and ``../shared/notes/dask.md`` section 4.5.
"""
import time
import uuid

import numpy as np
from dask.sizeof import sizeof

#: errors of the cluster (not of the computation) after which a round is replayed
_INFRASTRUCTURE_ERRORS = ("KilledWorker", "CommClosedError", "CancelledError",
                          "FutureCancelledError", "TimeoutError", "StreamClosedError")


def _is_infrastructure_error(error):
    return any(cls.__name__ in _INFRASTRUCTURE_ERRORS for cls in type(error).__mro__)


class CommunicationLedger:
    """Per-round record of what crossed the network.

    Attributes
    ----------
    rounds : list of dict
        One entry per round: ``kind``, ``bytes_sent`` (arguments of the tasks,
        measured with :func:`dask.sizeof.sizeof`), ``bytes_received`` (gathered
        results), ``floats_received``, ``n_units`` (unscreened features when the
        round is a correlation pass), ``ws_size``, ``seconds``.
    recoveries : list of dict
        Worker losses seen during the fit: ``round``, ``lost_workers``, ``moved_blocks``.
    """

    def __init__(self):
        self.rounds = []
        self.recoveries = []

    @property
    def n_rounds(self):
        return len(self.rounds)

    @property
    def bytes_sent(self):
        return int(sum(r["bytes_sent"] for r in self.rounds))

    @property
    def bytes_received(self):
        return int(sum(r["bytes_received"] for r in self.rounds))

    def summary(self):
        """Totals per round kind: ``{kind: {"rounds", "bytes_sent", "bytes_received", "seconds"}}``."""
        table = {}
        for entry in self.rounds:
            row = table.setdefault(entry["kind"], {"rounds": 0, "bytes_sent": 0,
                                                   "bytes_received": 0, "seconds": 0.0})
            row["rounds"] += 1
            row["bytes_sent"] += entry["bytes_sent"]
            row["bytes_received"] += entry["bytes_received"]
            row["seconds"] += entry["seconds"]
        return table

    def __repr__(self):
        return (f"CommunicationLedger(rounds={self.n_rounds}, bytes_sent={self.bytes_sent}, "
                f"bytes_received={self.bytes_received}, recoveries={len(self.recoveries)})")


def _count_floats(result):
    if isinstance(result, np.ndarray):
        return result.size
    if isinstance(result, (tuple, list)):
        return sum(_count_floats(r) for r in result)
    return 1


class BlockRuntime:
    """The (row or column) blocks of one fit and the machinery to run rounds on them.

    Parameters
    ----------
    client : distributed.Client
    blocks : list of Future
        One :class:`~sksafe.distributed._tasks.RowBlock` future per block, in row order.
    max_retries : int
        Replays of a failed round before giving up.
    timeout : float
        Seconds a round may take before it counts as failed (every wait is bounded).
    """

    def __init__(self, client, blocks, *, max_retries=3, timeout=600.0):
        self.client = client
        self.blocks = list(blocks)
        self.max_retries = max_retries
        self.timeout = timeout
        self.ledger = CommunicationLedger()
        self.generation = 0  # bumped by every recovery: cached per-block futures are stale
        self.owners = self._locate()
        self._pending_bytes = 0

    @property
    def n_blocks(self):
        return len(self.blocks)

    def _live_workers(self):
        return set(self.client.scheduler_info(n_workers=-1)["workers"])

    def _locate(self):
        """The worker holding each block (blocks still being computed are waited for)."""
        from distributed import wait

        wait(self.blocks, timeout=self.timeout)
        who_has = self.client.who_has(self.blocks)
        live = sorted(self._live_workers())
        owners = []
        for k, future in enumerate(self.blocks):
            holders = sorted(who_has.get(future.key, ()))
            owners.append(holders[0] if holders else live[k % len(live)])
        return owners

    def submit(self, func, k, *args, **kwargs):
        """Run ``func(*args, **kwargs)`` as a task on block ``k``'s worker (a Future)."""
        self._pending_bytes += sizeof((args, kwargs))
        return self.client.submit(func, *args, **kwargs, key=f"sksafe-{func.__name__}-"
                                  f"{uuid.uuid4().hex}-{k}", workers=[self.owners[k]],
                                  allow_other_workers=True, pure=False)

    def gather(self, futures, kind, **meta):
        """Wait (bounded) for ``futures`` and record the round in the ledger."""
        from distributed import wait

        start = time.perf_counter()
        try:
            wait(futures, timeout=self.timeout, return_when="ALL_COMPLETED")
        except TimeoutError:
            raise TimeoutError(f"a {kind} round took more than {self.timeout} s") from None
        # straight from the workers: the scheduler relay costs two more hops (~10 % of
        # a fit made of small rounds on a LocalCluster)
        results = self.client.gather(futures, direct=True)
        entry = {"kind": kind, "bytes_sent": int(self._pending_bytes),
                 "bytes_received": int(sizeof(results)),
                 "floats_received": int(_count_floats(results)),
                 "n_units": int(meta.get("n_units", 0)), "ws_size": int(meta.get("ws_size", 0)),
                 "seconds": time.perf_counter() - start}
        self._pending_bytes = 0
        self.ledger.rounds.append(entry)
        self._check_owners()
        return results

    def _check_owners(self):
        live = self._live_workers()
        lost = sorted(set(self.owners) - live)
        if lost:
            self._recover(lost)

    def _recover(self, lost):
        previous = list(self.owners)
        self.owners = self._locate()
        self.generation += 1
        self.ledger.recoveries.append({
            "round": self.ledger.n_rounds, "lost_workers": lost,
            "moved_blocks": [k for k in range(self.n_blocks) if previous[k] != self.owners[k]]})

    def run(self, build, kind, **meta):
        """One round: ``build()`` submits the tasks and returns their futures.

        Failures of the cluster are recovered from by replaying ``build`` (which
        must only depend on the driver's state) up to ``max_retries`` times.
        """
        for attempt in range(self.max_retries + 1):
            try:
                return self.gather(build(), kind, **meta)
            except Exception as error:  # noqa: BLE001 - re-raised unless the cluster failed
                if not _is_infrastructure_error(error) or attempt == self.max_retries:
                    raise
                self._pending_bytes = 0
                live = self._live_workers()
                if not live:
                    raise
                self._recover(sorted(set(self.owners) - live))

    def replace_blocks(self, blocks):
        """Swap in new block futures (e.g. compacted ones) living on the same workers."""
        self.blocks = list(blocks)
