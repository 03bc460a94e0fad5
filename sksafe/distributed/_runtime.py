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

Direct rounds. A round of tasks costs about 10 ms on a 2-core LocalCluster
even when the tasks do nothing: the scheduler materialises and orders every
graph update in a thread, and the client batches its messages to the scheduler
10 ms apart, so a fit made of short rounds spends most of its time there. A
round that applies one function to every block with the same arguments
(:meth:`BlockRuntime.map`) therefore goes straight to the workers instead: the
driver registers a worker plugin (:class:`~sksafe.distributed._service.BlockService`,
idempotent), which adds one operation to each worker's server; a direct round
sends ``func`` and its arguments to the worker holding each block, which finds
the block in its memory by the key of its task (the very same object, no copy,
no transfer), runs ``func(block, *args)`` and answers the driver directly (about
1.5-2 ms a round here, against 2-3 ms through one Dask actor per block, whose
calls the scheduler relays and whose creation was a round of its own in every
fit). Nothing is created per fit on the workers: the blocks stay tasks whose
lifetime and recomputation the scheduler manages. When a worker is lost, the
round fails with a connection error, or answers that the block is not there
(it was recomputed elsewhere): the blocks are located again (recomputed from
their lineage if needed) and the round is replayed, exactly as a round of
tasks. Rounds that chain per-block results (a dual point reused by several
rounds) stay tasks.
"""
import time
import uuid

import numpy as np
from dask.sizeof import sizeof

#: errors of the cluster (not of the computation) after which a round is replayed
_INFRASTRUCTURE_ERRORS = ("KilledWorker", "CommClosedError", "CancelledError",
                          "FutureCancelledError", "TimeoutError", "StreamClosedError")


#: longest wait, in seconds, for the scheduler to notice a worker that a direct round
#: could not reach (its connection closes when the process dies: milliseconds)
LOSS_NOTICE_SECONDS = 10.0


class BlockMoved(LookupError):
    """A direct round found no block under its key on the worker it asked (the block
    was recomputed elsewhere after a failure): the blocks are located again."""


class WorkerUnreachable(OSError):
    """A direct round could not reach the worker at :attr:`address`."""

    def __init__(self, address):
        super().__init__(f"the worker {address} cannot be reached")
        self.address = address


def _is_infrastructure_error(error, direct=False):
    if direct and isinstance(error, (OSError, BlockMoved)):
        return True
    return any(cls.__name__ in _INFRASTRUCTURE_ERRORS for cls in type(error).__mro__)


class CommunicationLedger:
    """Per-round record of what crossed the network.

    Attributes
    ----------
    rounds : list of dict
        One entry per round: ``kind``, ``bytes_sent`` (arguments of the tasks,
        measured with :func:`dask.sizeof.sizeof`), ``bytes_received`` (gathered
        results), ``floats_received``, ``n_units`` (unscreened features when the
        round is a correlation pass), ``ws_size``, ``n_columns`` (working-set columns
        brought to the driver), ``seconds``.
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


class _DirectRound:
    """The calls of one direct round (see the module), made at once and awaited together
    on the client's event loop: the driver's thread wakes that loop once per round."""

    def __init__(self, client, calls, func, args, transforms):
        self.client = client
        self.calls = calls  # [(worker address, block key)] in block order
        self.func, self.args, self.transforms = func, args, transforms

    async def _call(self, address, key):
        from distributed.protocol import to_serialize

        from ._service import HANDLER

        call = getattr(self.client.rpc(address), HANDLER)
        try:
            reply = await call(key=to_serialize(key), func=to_serialize(self.func),
                               args=to_serialize(self.args),
                               transforms=to_serialize(self.transforms))
        except OSError as error:  # distributed's comm errors included
            raise WorkerUnreachable(address) from error
        if reply["status"] == "missing":
            raise BlockMoved(f"no block {key!r} on {address}")
        if reply["status"] == "error":
            raise reply["exception"]
        return reply["result"]

    async def run(self):
        import asyncio

        return list(await asyncio.gather(*[self._call(address, key)
                                           for address, key in self.calls]))


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

    #: whether :meth:`map` rounds go straight to the blocks' workers (``False``: tasks,
    #: as every other round; the solver's numbers are the same either way)
    direct = True

    def __init__(self, client, blocks, *, max_retries=3, timeout=600.0):
        self.client = client
        self.blocks = list(blocks)
        # the blocks as given and the transforms applied since (see :meth:`transform`):
        # direct rounds name the former and the workers apply the latter themselves
        self._base_blocks = list(blocks)
        self._transforms = ()
        self.max_retries = max_retries
        self.timeout = timeout
        self.ledger = CommunicationLedger()
        self.generation = 0  # bumped by every recovery: cached per-block futures are stale
        self.owners = self._locate()
        self._pending_bytes = 0
        self._service = False  # whether this fit registered the workers' plugin

    @property
    def n_blocks(self):
        return len(self.blocks)

    def _live_workers(self):
        return set(self.client.scheduler_info(n_workers=-1)["workers"])

    def _locate(self):
        """The worker holding each block, as given (the direct rounds name those);
        blocks still being computed, and their transforms, are waited for, and a
        block whose computation failed raises what it raised (bad input)."""
        from distributed import wait

        wait(self.blocks + self._base_blocks, timeout=self.timeout)
        for future in self._base_blocks + self.blocks:
            if future.status in ("error", "cancelled"):
                future.result()
        who_has = self.client.who_has(self._base_blocks)
        holders = [sorted(who_has.get(future.key, ())) for future in self._base_blocks]
        if all(holders):
            return [held[0] for held in holders]
        live = sorted(self._live_workers())  # a call to the scheduler: only when needed
        return [held[0] if held else live[k % len(live)] for k, held in enumerate(holders)]

    def submit(self, func, k, *args, **kwargs):
        """Run ``func(*args, **kwargs)`` as a task on block ``k``'s worker (a Future)."""
        self._pending_bytes += sizeof((args, kwargs))
        return self.client.submit(func, *args, **kwargs, key=f"sksafe-{func.__name__}-"
                                  f"{uuid.uuid4().hex}-{k}", workers=[self.owners[k]],
                                  allow_other_workers=True, pure=False)

    def _register_service(self):
        """Install :class:`~sksafe.distributed._service.BlockService` on the workers
        (idempotent: a call to the scheduler when it is already there, as on the
        fits after the first on a cluster), once per fit."""
        if not self._service:
            from ._service import BlockService

            self.client.register_plugin(BlockService())
            self._service = True

    def map(self, func, *args, kind, **meta):
        """One round of ``func(block, *args)`` on every block (same arguments for all);
        the results in block order. Straight to the blocks' workers (see the module)
        unless :attr:`direct` is off."""
        def build():
            if not self.direct:
                return [self.submit(func, k, block, *args) for k, block in enumerate(self.blocks)]
            self._register_service()
            self._pending_bytes += self.n_blocks * sizeof((args, self._transforms))
            return _DirectRound(self.client, [(owner, block.key) for owner, block
                                              in zip(self.owners, self._base_blocks)],
                                func, args, self._transforms)

        return self.run(build, kind, **meta)

    @staticmethod
    def _are_tasks(futures):
        return not isinstance(futures, _DirectRound)

    def _results(self, futures, kind):
        """The results of ``futures`` (task futures, or a :class:`_DirectRound`), the wait
        bounded by :attr:`timeout`."""
        from distributed import wait
        from distributed.utils import sync

        try:
            if self._are_tasks(futures):
                wait(futures, timeout=self.timeout, return_when="ALL_COMPLETED")
                # straight from the workers: the scheduler relay costs two more hops
                # (~10 % of a fit made of small rounds on a LocalCluster)
                return self.client.gather(futures, direct=True)
            return sync(self.client.loop, futures.run, callback_timeout=self.timeout)
        except TimeoutError:
            raise TimeoutError(f"a {kind} round took more than {self.timeout} s") from None

    def gather(self, futures, kind, **meta):
        """Wait (bounded) for ``futures`` and record the round in the ledger."""
        start = time.perf_counter()
        results = self._results(futures, kind)
        entry = {"kind": kind, "bytes_sent": int(self._pending_bytes),
                 "bytes_received": int(sizeof(results)),
                 "floats_received": int(_count_floats(results)),
                 "n_units": int(meta.get("n_units", 0)), "ws_size": int(meta.get("ws_size", 0)),
                 "n_columns": int(meta.get("n_columns", 0)),
                 "seconds": time.perf_counter() - start}
        self._pending_bytes = 0
        self.ledger.rounds.append(entry)
        if self._are_tasks(futures):
            # a task may have run elsewhere than planned (a lost block recomputed): look
            # for lost workers; a direct round found every block where it was
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
        """One round: ``build()`` submits the tasks (or makes a direct round) and returns
        their futures.

        Failures of the cluster are recovered from by replaying ``build`` (which
        must only depend on the driver's state) up to ``max_retries`` times.
        """
        for attempt in range(self.max_retries + 1):
            futures = None
            try:
                futures = build()
                return self.gather(futures, kind, **meta)
            except Exception as error:  # noqa: BLE001 - re-raised unless the cluster failed
                direct = isinstance(futures, _DirectRound)
                if (not _is_infrastructure_error(error, direct=direct)
                        or attempt == self.max_retries):
                    raise
                self._pending_bytes = 0
                if isinstance(error, WorkerUnreachable):
                    self._await_notice(error.address)
                live = self._live_workers()
                if not live:
                    raise
                self._recover(sorted(set(self.owners) - live))

    def _await_notice(self, address):
        """Wait (bounded) until the scheduler too has removed the worker a direct round
        could not reach, so that the blocks are located after it did (and the loss is
        recorded); a worker still listed after :data:`LOSS_NOTICE_SECONDS` is asked again."""
        deadline = time.monotonic() + min(self.timeout, LOSS_NOTICE_SECONDS)
        while address in self._live_workers() and time.monotonic() < deadline:
            time.sleep(0.02)

    def transform(self, func, *args):
        """Replace every block by ``func(block, *args)``, where it lives.

        The new block futures are tasks (their lineage recomputes them after a
        failure); direct rounds name the original block and the workers apply the
        same chain of transforms themselves (it must be cheap: O(rows)).
        """
        self.blocks = [self.submit(func, k, block, *args) for k, block in enumerate(self.blocks)]
        self._pending_bytes = 0  # no round: the next one needs these blocks anyway
        self._transforms += ((func, args),)

    def close(self):
        """Let go of the blocks at the end of a fit: the workers free them now rather
        than when the driver's garbage collector breaks the fit's reference cycles
        (futures handed to the user keep what they depend on). No round can run
        afterwards."""
        self.blocks, self._base_blocks = [], []

    def replace_blocks(self, blocks):
        """Swap in new block futures living on the same workers."""
        self.blocks = self._base_blocks = list(blocks)
        self._transforms = ()
