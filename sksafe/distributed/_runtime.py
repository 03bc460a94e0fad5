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
(:meth:`BlockRuntime.map`) therefore goes straight to the workers instead: one
:class:`~sksafe.distributed._tasks.BlockServer` actor per block, created on the
block's worker from the block's future (so it holds the very same object, no
copy, no transfer), runs ``func(block, *args)`` in the worker's actor thread
and answers the driver directly (about 3 ms a round; see distributed's
documentation on actors). Actors are not recomputed by the scheduler; a lost
one is replaced: the round fails with a connection error, the blocks are
located again (recomputed from their lineage if needed), new actors are made
for them and the round is replayed, exactly as a round of tasks. Rounds that
chain per-block results (a dual point reused by several rounds) stay tasks.
"""
import time
import uuid

import numpy as np
from dask.sizeof import sizeof

#: errors of the cluster (not of the computation) after which a round is replayed
_INFRASTRUCTURE_ERRORS = ("KilledWorker", "CommClosedError", "CancelledError",
                          "FutureCancelledError", "TimeoutError", "StreamClosedError")
#: what distributed raises when an actor's worker is gone (a plain ``OSError`` when it
#: cannot be reached, this ``RuntimeError`` once the scheduler has declared it lost)
_LOST_ACTOR = "Worker holding Actor was lost"


def _is_infrastructure_error(error, direct=False):
    if direct and (isinstance(error, OSError) or _LOST_ACTOR in str(error)):
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
    """The actor calls of one direct round, made and awaited on the client's event loop
    in one go: the driver's thread wakes that loop once per round, not once per call
    and per result (each wake-up is a hand-over of the GIL between the two threads)."""

    def __init__(self, actors, func, args, transforms):
        self.actors, self.func, self.args, self.transforms = actors, func, args, transforms

    async def run(self):
        calls = [actor.apply(self.func, self.args, self.transforms) for actor in self.actors]
        return [await call for call in calls]


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

    #: whether :meth:`map` rounds go to the blocks' actors (``False``: tasks, as every
    #: other round; the solver's numbers are the same either way)
    direct = True

    def __init__(self, client, blocks, *, max_retries=3, timeout=600.0):
        self.client = client
        self.blocks = list(blocks)
        self.max_retries = max_retries
        self.timeout = timeout
        self.ledger = CommunicationLedger()
        self.generation = 0  # bumped by every recovery: cached per-block futures are stale
        self.owners = self._locate()
        self._pending_bytes = 0
        # the blocks as given and the transforms applied since (see :meth:`transform`):
        # the actors hold the former and apply the latter themselves
        self._base_blocks = list(blocks)
        self._transforms = ()
        self._server_futures = self._servers = None  # the actors (see :meth:`_actors`)

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

    def _actors(self):
        """One :class:`~sksafe.distributed._tasks.BlockServer` actor per block, on its
        worker; ``None`` at the first call, which only submits them (they are made
        while that round runs as tasks)."""
        from ._tasks import BlockServer

        if self._server_futures is None:
            self._server_futures = [
                self.client.submit(BlockServer, block, actor=True,
                                   key=f"sksafe-server-{uuid.uuid4().hex}-{k}",
                                   workers=[self.owners[k]], allow_other_workers=True)
                for k, block in enumerate(self._base_blocks)]
            return None
        if self._servers is None:
            # a round of its own in the ledger (kind "actors"), once per set of blocks
            self._servers = self.gather(self._server_futures, "actors")
        return self._servers

    def map(self, func, *args, kind, **meta):
        """One round of ``func(block, *args)`` on every block (same arguments for all);
        the results in block order. Direct to the blocks' actors (see the module)
        unless :attr:`direct` is off; the first round runs as tasks while the actors
        are made."""
        def build():
            actors = self._actors() if self.direct else None
            if actors is None:
                return [self.submit(func, k, block, *args) for k, block in enumerate(self.blocks)]
            self._pending_bytes += self.n_blocks * sizeof((args, self._transforms))
            return _DirectRound(actors, func, args, self._transforms)

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
            # for lost workers; an actor that answered is alive where it was made
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
        # the actors of lost workers are gone: new ones for all blocks
        self._server_futures = self._servers = None
        self.generation += 1
        self.ledger.recoveries.append({
            "round": self.ledger.n_rounds, "lost_workers": lost,
            "moved_blocks": [k for k in range(self.n_blocks) if previous[k] != self.owners[k]]})

    def run(self, build, kind, **meta):
        """One round: ``build()`` submits the tasks (or actor calls) and returns their futures.

        Failures of the cluster are recovered from by replaying ``build`` (which
        must only depend on the driver's state) up to ``max_retries`` times.
        """
        for attempt in range(self.max_retries + 1):
            try:
                return self.gather(build(), kind, **meta)
            except Exception as error:  # noqa: BLE001 - re-raised unless the cluster failed
                if (not _is_infrastructure_error(error, direct=self._servers is not None)
                        or attempt == self.max_retries):
                    raise
                self._pending_bytes = 0
                live = self._live_workers()
                if not live:
                    raise
                self._recover(sorted(set(self.owners) - live))

    def transform(self, func, *args):
        """Replace every block by ``func(block, *args)``, where it lives.

        The new block futures are tasks (their lineage recomputes them after a
        failure); the actors keep the original block and apply the same chain of
        transforms themselves, so no new actor is needed.
        """
        self.blocks = [self.submit(func, k, block, *args) for k, block in enumerate(self.blocks)]
        self._pending_bytes = 0  # no round: the next one needs these blocks anyway
        self._transforms += ((func, args),)

    def close(self):
        """Let go of the blocks and their actors at the end of a fit: the workers free
        the blocks now rather than when the driver's garbage collector breaks the
        fit's reference cycles (futures handed to the user keep what they depend on;
        the actors, and the block objects they hold, go with distributed's actor
        handles at the driver's next collection). No round can run afterwards."""
        self._server_futures = self._servers = None
        self.blocks, self._base_blocks = [], []

    def replace_blocks(self, blocks):
        """Swap in new block futures living on the same workers (new actors if needed)."""
        self.blocks = self._base_blocks = list(blocks)
        self._transforms = ()
        self._server_futures = self._servers = None
