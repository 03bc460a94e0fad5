"""The workers' side of the direct rounds: a worker plugin serving the blocks it holds.

Imported by the driver only when a fit registers it (it needs ``distributed``), and by
each worker when the scheduler installs it there.
"""
import asyncio
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import scipy.sparse as sp
from distributed.diagnostics.plugin import WorkerPlugin
from distributed.protocol import to_serialize

#: blocks of at most this many stored entries are served on the worker's event loop
#: (a pass over them takes about a millisecond), larger ones in the service's thread
INLINE_ENTRIES = 2**20
#: the operation :class:`BlockService` adds to the workers
HANDLER = "sksafe_block_apply"


def _stored_entries(block):
    matrix = getattr(block, "X_matrix", None)
    if matrix is None:
        return np.inf
    return matrix.nnz if sp.issparse(matrix) else matrix.size


class BlockService(WorkerPlugin):
    """Worker plugin answering the direct rounds of
    :meth:`sksafe.distributed._runtime.BlockRuntime.map` on the blocks its worker holds.

    Registered on the cluster by the driver (idempotent, under :attr:`name`; the
    scheduler installs it on workers that join later), it adds the handler
    :data:`HANDLER` to the worker's server, as distributed's own extensions do
    (P2P shuffling adds its handlers the same way). A call names a block by the
    key of its task, finds it in the worker's memory (no copy, no transfer; the
    scheduler keeps managing its lifetime and recomputes it from its lineage after
    a failure) and returns ``func(block, *args)`` after the cheap per-block
    transforms applied to the blocks since (e.g.
    :func:`~sksafe.distributed._tasks.normalise_block`, O(rows);
    a pure function of the block and that chain). Small blocks are served on the
    worker's event loop: the hand-over to a thread and back costs about 0.8 ms,
    more than the work (measured on a 2-core machine); larger ones in the
    service's own thread, so that the event loop stays responsive.
    """

    name = "sksafe-blocks"
    idempotent = True

    def setup(self, worker):
        self.worker = worker
        self.executor = ThreadPoolExecutor(1, thread_name_prefix="sksafe-blocks")
        worker.handlers[HANDLER] = self.apply

    def teardown(self, worker):
        worker.handlers.pop(HANDLER, None)
        self.executor.shutdown(wait=False)

    async def apply(self, key=None, func=None, args=(), transforms=()):
        """``{"status": "OK", "result": ...}``; ``"missing"`` when the block is not
        in this worker's memory; ``"error"`` with the exception ``func`` raised."""
        try:
            block = self.worker.data[key]  # on the event loop, as the worker itself reads it
        except KeyError:
            return {"status": "missing"}
        try:
            if _stored_entries(block) <= INLINE_ENTRIES:
                result = _apply(block, func, args, transforms)
            else:
                result = await asyncio.get_running_loop().run_in_executor(
                    self.executor, _apply, block, func, args, transforms)
        except Exception as error:  # noqa: BLE001 - handed to the driver, which raises it
            return {"status": "error", "exception": to_serialize(error)}
        return {"status": "OK", "result": to_serialize(result)}



def _apply(block, func, args, transforms):
    """``func(block, *args)`` on the block after ``transforms`` (``((func, args), ...)``,
    applied in order)."""
    for transform, transform_args in transforms:
        block = transform(block, *transform_args)
    return func(block, *args)
