"""Executors: who hosts which node and how the encoded messages travel.

A network exposes ``topology``, ``nodes`` (the nodes this process hosts) and
``exchange(messages)``: given the message (bytes) of each hosted node, it returns the
messages of every node whose public copy the hosted nodes keep (themselves and their
neighbours), as a ``{sender: bytes}`` dict.

- :class:`LocalNetwork` hosts all nodes in one process (experiments and tests).
- :class:`TorchDistributedNetwork` hosts the node ``rank`` of a ``torch.distributed``
  process group (gloo backend) and sends the bytes to the neighbours with point-to-point
  messages. Every wait is bounded: a neighbour that died or hangs raises
  :class:`NodeFailureError` naming it instead of blocking forever.
- :func:`run_distributed` launches one process per node on ``127.0.0.1`` with
  ``torch.multiprocessing`` (spawn) and collects their results; ``torchrun`` works as
  well, with :class:`TorchDistributedNetwork` created inside the script after
  ``torch.distributed.init_process_group("gloo")``.
"""
import datetime
import os
import queue as queue_module
import socket
import time
import traceback

from ._torch import require_torch

__all__ = ["LocalNetwork", "TorchDistributedNetwork", "NodeFailureError", "run_distributed",
           "free_port"]


class NodeFailureError(RuntimeError):
    """A node of a distributed run died, hung, or failed; the message says which."""


class LocalNetwork:
    """All ``topology.n_nodes`` nodes in this process; messages are handed over in memory.

    Parameters
    ----------
    topology : Topology
    """

    def __init__(self, topology):
        self.topology = topology
        self.nodes = tuple(range(topology.n_nodes))

    def exchange(self, messages):
        missing = set(self.nodes) - set(messages)
        if missing:
            raise ValueError(f"no message from nodes {sorted(missing)}")
        return dict(messages)


class TorchDistributedNetwork:
    """The node ``rank`` of an initialised ``torch.distributed`` process group.

    Each message is sent to every neighbour as its length (one int64) followed by the bytes
    (uint8 tensor), with ``isend``/``irecv`` on the group's backend (gloo on CPU).

    Parameters
    ----------
    topology : Topology
        Must have exactly ``world_size`` nodes; node ``i`` is rank ``i``.
    timeout : float
        Seconds to wait for a neighbour's message before raising
        :class:`NodeFailureError`. A neighbour that exits closes its connections, which
        fails the wait at once; the timeout bounds the wait on one that hangs.

    Raises
    ------
    ValueError
        If the process group is not initialised or its size differs from the topology's
        node count.
    """

    def __init__(self, topology, timeout=60.0):
        torch = require_torch()
        dist = torch.distributed
        if not dist.is_available() or not dist.is_initialized():
            raise ValueError("torch.distributed is not initialised: call "
                             "torch.distributed.init_process_group('gloo', ...) first")
        world = dist.get_world_size()
        if world != topology.n_nodes:
            raise ValueError(f"the process group has {world} processes but the topology has "
                             f"{topology.n_nodes} nodes; launch one process per node")
        if not timeout > 0:
            raise ValueError(f"timeout must be > 0 seconds, got {timeout}")
        self.topology = topology
        self.rank = dist.get_rank()
        self.nodes = (self.rank,)
        self.timeout = float(timeout)
        self._torch = torch
        self._dist = dist
        self._round = 0

    def _wait(self, work, peer, what):
        try:
            work.wait(datetime.timedelta(seconds=self.timeout))
        except RuntimeError as exc:
            raise NodeFailureError(
                f"node {self.rank}, gossip round {self._round}: {what} neighbour {peer} "
                f"failed (it died, hung for more than {self.timeout:g} s, or closed its "
                f"connection): {exc}") from exc

    def exchange(self, messages):
        torch, dist = self._torch, self._dist
        own = messages[self.rank]
        peers = self.topology.neighbors(self.rank)
        length = torch.tensor([len(own)], dtype=torch.int64)
        data = torch.frombuffer(bytearray(own), dtype=torch.uint8)
        sends = [(dist.isend(length, dst=j, tag=0), j) for j in peers]
        sends += [(dist.isend(data, dst=j, tag=1), j) for j in peers]
        lengths = {j: torch.empty(1, dtype=torch.int64) for j in peers}
        pending = {j: dist.irecv(lengths[j], src=j, tag=0) for j in peers}
        for j in peers:
            self._wait(pending[j], j, "receiving the message length from")
        buffers = {j: torch.empty(int(lengths[j].item()), dtype=torch.uint8) for j in peers}
        for j in peers:
            self._wait(dist.irecv(buffers[j], src=j, tag=1), j, "receiving the message from")
        for work, j in sends:
            self._wait(work, j, "sending to")
        self._round += 1
        received = {j: buffers[j].numpy().tobytes() for j in peers}
        received[self.rank] = own
        return received


def free_port():
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _node_main(rank, world_size, port, timeout, fn, args, results):
    torch = require_torch()
    dist = torch.distributed
    try:
        dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank,
                                world_size=world_size,
                                timeout=datetime.timedelta(seconds=timeout))
        results.put((rank, "ok", fn(rank, *args)))
    except BaseException as exc:  # report every failure to the parent, then exit non-zero
        results.put((rank, "error", f"{type(exc).__name__}: {exc}\n{traceback.format_exc()}"))
        results.close()
        results.join_thread()
        # a failed node must not wait in the group's teardown for peers that are gone
        os._exit(1)
    dist.destroy_process_group()


def run_distributed(fn, n_nodes, args=(), timeout=120.0, node_timeout=30.0):
    """Run ``fn(rank, *args)`` in ``n_nodes`` processes joined by a gloo process group.

    Processes are started with ``torch.multiprocessing`` (spawn), the group is initialised
    over TCP on ``127.0.0.1`` on a free port, and each return value is sent back to the
    parent (it must be picklable, and so must ``fn``: define it at module level).

    Parameters
    ----------
    fn : callable
        ``fn(rank, *args)``; it typically builds a
        :class:`TorchDistributedNetwork` and trains.
    n_nodes : int
        Number of processes (= nodes).
    args : tuple
    timeout : float
        Seconds for the whole run; the processes still alive after it are terminated.
    node_timeout : float
        Timeout of the process group (initialisation and collective waits); pass the same
        value to :class:`TorchDistributedNetwork` in ``fn``.

    Returns
    -------
    list
        ``fn``'s return value of every rank, in rank order.

    Raises
    ------
    NodeFailureError
        If a process raised, exited without a result, or the run exceeded ``timeout``;
        the message lists what every node reported.
    """
    torch = require_torch()
    mp = torch.multiprocessing.get_context("spawn")
    results = mp.Queue()
    port = free_port()
    procs = [mp.Process(target=_node_main, daemon=True,
                        args=(rank, n_nodes, port, node_timeout, fn, args, results))
             for rank in range(n_nodes)]
    for proc in procs:
        proc.start()
    reports = {}
    deadline = time.monotonic() + timeout
    grace = None  # once a node failed, the others get node_timeout + 5 s to report
    while len(reports) < n_nodes and time.monotonic() < deadline:
        try:
            rank, status, value = results.get(timeout=0.2)
            reports[rank] = (status, value)
        except queue_module.Empty:
            pass
        for rank, proc in enumerate(procs):
            if rank not in reports and not proc.is_alive() and proc.exitcode != 0:
                # give a report in flight a moment to arrive before declaring a silent death
                try:
                    r, status, value = results.get(timeout=0.5)
                    reports[r] = (status, value)
                except queue_module.Empty:
                    reports[rank] = ("error", f"process exited with code {proc.exitcode} "
                                              "without reporting")
        failed = any(status != "ok" for status, _ in reports.values())
        if failed and grace is None:
            grace = time.monotonic() + node_timeout + 5.0
            deadline = min(deadline, grace)
    for proc in procs:
        proc.join(timeout=5.0)
        if proc.is_alive():
            proc.terminate()
            proc.join(timeout=5.0)
    if len(reports) == n_nodes and all(status == "ok" for status, _ in reports.values()):
        return [reports[rank][1] for rank in range(n_nodes)]
    lines = []
    for rank in range(n_nodes):
        silent = (f"still running {node_timeout + 5:g} s after another node failed (hung); "
                  "terminated" if grace is not None else
                  f"no report within the {timeout:g} s limit (hung); terminated")
        status, value = reports.get(rank, ("error", silent))
        if status != "ok":
            lines.append(f"  node {rank}: {value.strip().splitlines()[0]}")
    raise NodeFailureError("distributed run failed:\n" + "\n".join(lines))
