"""Running a federated job on Flower: simulation, or real processes on 127.0.0.1.

- :func:`run_simulation`: Flower's simulation engine (``flwr.simulation.run_simulation``,
  Ray backend), many virtual clients on one machine; the server runs in this process.
- :func:`run_processes`: one Flower server process and one process per client, talking
  gRPC over ``127.0.0.1``. The server is ``flwr.server.start_server`` and the clients
  ``flwr.client.start_client``: Flower's gRPC server and client.

Flower 1.41 marks both Python entry points deprecated (``run_simulation``, and the gRPC
pair since 1.13) in favour of its deployment runtime (SuperLink, SuperNodes, the ``flwr
run`` CLI). That runtime runs code only as a packaged Flower App (a FAB built from a
``pyproject.toml`` project) submitted with the CLI, launches a further subprocess per
ServerApp and ClientApp call, and installs the app's dependencies with ``uv`` at run time
unless told not to; handing a strategy and client objects to the engine from Python is
what the entry points used here do, and they ship and work in flwr 1.41 (the version
installable here: 1.42 needs a certifi release newer than the package index has).
- :func:`train_federated`: a :class:`~.tasks.FederatedTask` with a method's client and
  server settings, on either engine.

Every wait is bounded. In the process engine the parent watches all processes: a client
that dies (or raises) makes the server's round fail with
:class:`~.strategy.ClientFailureError`, a client that hangs is caught by the round
timeout, a client that never connects by ``connect_timeout``, and the whole run by
``timeout``, after which every process still alive is terminated; the error raised lists
what each process reported.
"""
import logging
import multiprocessing
import os
import queue as queue_module
import time
import traceback
from dataclasses import dataclass, replace

from ..network import free_port
from ._flower import require_flwr
from .client import ClientFactory, LocalConfig
from .models import model_size, set_weights
from .strategy import BoundedClientManager, ClientFailureError, FedDistill

flwr = require_flwr()
from flwr.client import ClientApp  # noqa: E402
from flwr.server import ServerApp, ServerAppComponents, ServerConfig  # noqa: E402

__all__ = ["run_simulation", "run_processes", "train_federated", "FederatedResult"]

ENGINES = ("simulation", "processes")


@dataclass
class FederatedResult:
    """Outcome of a federated run.

    Attributes
    ----------
    model : MLP
        The final (deployed) student.
    history : list of dict
        Per round (0 = the initial model): ``accuracy``, ``balanced_accuracy``,
        ``rare_accuracy``, ``per_class``, ``nnz_params``, ``time``.
    size : dict
        :func:`~sksafe.nn.federated.models.model_size` of the student on the test inputs.
    engine : str
    wall_time : float
        Seconds for the whole run (engine start-up included).
    """

    model: object
    history: list
    size: dict
    engine: str
    wall_time: float

    @property
    def final(self):
        """The metrics of the last round."""
        return self.history[-1]


def _quiet(verbose):
    logging.getLogger("flwr").setLevel(logging.INFO if verbose else logging.WARNING)


class _SimulationClientFn:
    """``client_fn(context)`` of the ClientApp: the virtual client of ``partition-id``."""

    def __init__(self, factory):
        self.factory = factory

    def __call__(self, context):
        return self.factory(int(context.node_config["partition-id"]), context.state)


class _ServerFn:
    def __init__(self, strategy, n_rounds, round_timeout, connect_timeout):
        self.args = strategy, n_rounds, round_timeout, connect_timeout

    def __call__(self, context):
        strategy, n_rounds, round_timeout, connect_timeout = self.args
        return ServerAppComponents(
            strategy=strategy, client_manager=BoundedClientManager(connect_timeout),
            config=ServerConfig(num_rounds=n_rounds, round_timeout=round_timeout))


def _check_run(strategy, n_clients, n_rounds):
    if n_clients != strategy.n_clients:
        raise ValueError(f"the strategy expects {strategy.n_clients} clients, got {n_clients}")
    if n_rounds < 1:
        raise ValueError(f"n_rounds must be >= 1, got {n_rounds}")


def run_simulation(strategy, factory, n_clients, n_rounds, *, round_timeout=300.0,
                   num_cpus=None, verbose=False):
    """Run ``n_rounds`` of ``strategy`` with ``n_clients`` virtual clients (Ray backend).

    Parameters
    ----------
    strategy : FedDistill
    factory : ClientFactory
    n_clients, n_rounds : int
    round_timeout : float
        Seconds the server waits for a round's results.
    num_cpus : int, optional
        CPUs given to Ray (default: all); one client trains per CPU at a time.
    verbose : bool
        Flower's INFO log.

    Returns
    -------
    dict
        ``strategy.report()``.

    Raises
    ------
    ClientFailureError
        If a client failed in some round.
    """
    _check_run(strategy, n_clients, n_rounds)
    _quiet(verbose)
    from flwr.simulation import run_simulation as flwr_run_simulation

    # Ray binds its services to 127.0.0.1, so that a simulation stays on the loopback
    init_args = {"_node_ip_address": "127.0.0.1",
                 "num_cpus": num_cpus or os.cpu_count(), "include_dashboard": False,
                 "logging_level": logging.INFO if verbose else logging.ERROR,
                 "log_to_driver": bool(verbose)}
    flwr_run_simulation(
        server_app=ServerApp(server_fn=_ServerFn(strategy, n_rounds, round_timeout, 60.0)),
        client_app=ClientApp(client_fn=_SimulationClientFn(factory)),
        num_supernodes=n_clients,
        backend_config={"client_resources": {"num_cpus": 1, "num_gpus": 0.0},
                        "init_args": init_args},
        verbose_logging=verbose)
    if strategy.error is not None:
        raise strategy.error
    if len(strategy.history) < n_rounds + (strategy.test is not None):
        raise ClientFailureError(f"the simulation stopped after {len(strategy.history) - 1} "
                                 f"of {n_rounds} rounds")
    return strategy.report()


def _server_main(strategy, address, n_rounds, round_timeout, connect_timeout, verbose,
                 reports):
    try:
        _quiet(verbose)
        from flwr.server import start_server
        start_server(server_address=address, strategy=strategy,
                     client_manager=BoundedClientManager(connect_timeout),
                     config=ServerConfig(num_rounds=n_rounds, round_timeout=round_timeout))
        reports.put(("server", "ok", strategy.report()))
    except BaseException as exc:  # report every failure to the parent, then exit non-zero
        reports.put(("server", "error", f"{type(exc).__name__}: {exc}\n"
                                        f"{traceback.format_exc()}"))
        reports.close()
        reports.join_thread()
        os._exit(1)  # the gRPC server's threads must not keep a failed server alive


def _client_main(cid, factory, address, connect_timeout, verbose, reports):
    try:
        _quiet(verbose)
        from flwr.client import start_client
        start_client(server_address=address, client_fn=lambda context: factory(cid, context.state),
                     insecure=True, max_wait_time=connect_timeout)
        reports.put((cid, "ok", None))
    except BaseException as exc:
        reports.put((cid, "error", f"{type(exc).__name__}: {exc}"))
        reports.close()
        reports.join_thread()
        os._exit(1)


def run_processes(strategy, factory, n_clients, n_rounds, *, timeout=600.0, round_timeout=60.0,
                  connect_timeout=120.0, host="127.0.0.1", verbose=False):
    """Run a Flower server process and ``n_clients`` client processes on ``host``.

    Processes are started with ``multiprocessing`` (spawn); each client process receives
    only its own data. The parent process supervises them (module docstring).

    Parameters
    ----------
    strategy : FedDistill
        Sent to the server process; its report comes back.
    factory : ClientFactory
    n_clients, n_rounds : int
    timeout : float
        Seconds for the whole run.
    round_timeout : float
        Seconds the server waits for a round's results (a client that hangs).
    connect_timeout : float
        Seconds the server waits for the clients to connect, and a client for the server.
    host : str
        A loopback address.

    Returns
    -------
    dict
        The strategy's report (final weights and history).

    Raises
    ------
    ClientFailureError
        If the server or a client failed, died or hung; the message lists every process
        that did not finish cleanly.
    """
    _check_run(strategy, n_clients, n_rounds)
    address = f"{host}:{free_port()}"
    ctx = multiprocessing.get_context("spawn")
    reports = ctx.Queue()
    procs = {"server": ctx.Process(
        target=_server_main, daemon=True,
        args=(strategy, address, n_rounds, round_timeout, connect_timeout, verbose, reports))}
    for cid in range(n_clients):
        procs[cid] = ctx.Process(target=_client_main, daemon=True,
                                 args=(cid, factory.subset([cid]), address, connect_timeout,
                                       verbose, reports))
    for proc in procs.values():
        proc.start()
    status = {}
    deadline = time.monotonic() + timeout
    while "server" not in status and time.monotonic() < deadline:
        try:
            name, outcome, value = reports.get(timeout=0.2)
            status[name] = (outcome, value)
        except queue_module.Empty:
            pass
        for name, proc in procs.items():
            if name not in status and proc.exitcode not in (None, 0):
                status[name] = ("died", f"process exited with code {proc.exitcode}")
    # the server is done (or the run timed out): the clients disconnect within seconds
    end = time.monotonic() + 10.0
    for name, proc in procs.items():
        proc.join(timeout=max(0.0, end - time.monotonic()))
    while True:
        try:
            name, outcome, value = reports.get(timeout=0.5)
        except queue_module.Empty:
            break
        if status.get(name, ("died",))[0] == "died":
            status[name] = (outcome, value)
    for name, proc in procs.items():
        if proc.is_alive():
            proc.terminate()
            proc.join(timeout=5.0)
            status.setdefault(name, ("hung", f"still running after the {timeout:g} s limit "
                                             "or 10 s after the server stopped; terminated"))
    outcome, value = status.get("server", ("hung", "no report"))
    bad = {k: v for k, v in status.items() if v[0] != "ok"}
    if outcome == "ok" and not bad:
        return value
    lines = [f"  {'server' if k == 'server' else f'client {k}'}: {o}: "
             f"{str(v).strip().splitlines()[0]}" for k, (o, v) in bad.items()]
    raise ClientFailureError("federated run failed:\n" + "\n".join(lines))


def train_federated(task, *, local, n_rounds, server_kd=None, engine="simulation", seed=0,
                    **engine_kwargs):
    """Train the task's student federatedly with the given client and server settings.

    Parameters
    ----------
    task : FederatedTask
    local : LocalConfig
        The clients' training (teacher weight ``beta``, penalty, private/proxy models).
    n_rounds : int
    server_kd : ServerDistillConfig, optional
        Server-side distillation on the task's public data.
    engine : {"simulation", "processes"}
    seed : int
        Seeds the initial student, the minibatch orders (with each client index) and the
        server distillation. Replaces ``local.seed``.
    **engine_kwargs
        Passed to :func:`run_simulation` or :func:`run_processes`.

    Returns
    -------
    FederatedResult
    """
    if engine not in ENGINES:
        raise ValueError(f"engine must be one of {ENGINES}, got {engine!r}")
    if not isinstance(local, LocalConfig):
        raise TypeError(f"local must be a LocalConfig, got {type(local).__name__}")
    local = replace(local, seed=int(seed))
    strategy = FedDistill(task.spec, len(task.clients), test=task.test, server_kd=server_kd,
                          public_X=task.public_X, public_teacher_logits=task.public_teacher_logits,
                          penalty=local.penalty, mu=local.mu, lr=local.lr, seed=seed)
    factory = ClientFactory(dict(enumerate(task.clients)), task.spec, local)
    runner = run_simulation if engine == "simulation" else run_processes
    start = time.perf_counter()
    report = runner(strategy, factory, len(task.clients), n_rounds, **engine_kwargs)
    wall = time.perf_counter() - start
    model = task.spec.build()
    set_weights(model, report["weights"])
    return FederatedResult(model=model, history=report["history"],
                           size=model_size(model, task.test.X), engine=engine, wall_time=wall)
