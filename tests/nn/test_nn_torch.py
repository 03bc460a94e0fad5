"""The torch interface: optimizers on nn.Modules, simulated vs torch.distributed, failures."""
import os
import subprocess
import sys
import time

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from sksafe.nn import (DSGD, QSGD, ChocoSGD, LocalNetwork, MalcomPSGD,  # noqa: E402
                       NodeFailureError, TorchDistributedNetwork, ring, run_distributed)

N_FEATURES, N_CLASSES, N_SAMPLES = 12, 3, 240


def _data():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((N_SAMPLES, N_FEATURES)).astype(np.float32)
    W = np.zeros((N_FEATURES, N_CLASSES))
    W[:4] = rng.standard_normal((4, N_CLASSES)) * 2
    y = np.argmax(X @ W + rng.gumbel(size=(N_SAMPLES, N_CLASSES)), axis=1)
    return torch.from_numpy(X), torch.from_numpy(y)


def _model():
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Linear(N_FEATURES, 8), torch.nn.Tanh(),
                               torch.nn.Linear(8, N_CLASSES))


def train(network, steps, die_at=None, hang=False):
    """A user's training loop; the same code runs simulated (all nodes) or as one rank."""
    torch.set_num_threads(1)
    X, y = _data()
    n = network.topology.n_nodes
    models = [_model() for _ in network.nodes]
    opt = MalcomPSGD(models, network, lr=lambda t: 0.2 / (1 + t / 50), mu=1e-3, gamma=0.4,
                     compressor=QSGD(7), seed=5)
    for t in range(steps):
        for i, model in zip(network.nodes, models):
            if t == die_at and i == n - 1:
                if hang:
                    time.sleep(600)  # a node stops answering, mid-run
                os._exit(3)  # a node dies without a word, mid-run
            gen = torch.Generator().manual_seed(1000 * t + i)
            batch = i + n * torch.randint(0, N_SAMPLES // n, (16,), generator=gen)
            torch.nn.functional.cross_entropy(model(X[batch]), y[batch]).backward()
        opt.step()
        opt.zero_grad()
    return [x.copy() for x in opt.engine.models], opt.bits_sent.copy()


def distributed_node(rank, n_nodes, steps, die_at=None, hang=False):
    try:
        TorchDistributedNetwork(ring(n_nodes + 1), timeout=5)
        mismatch = None
    except ValueError as exc:
        mismatch = str(exc)
    network = TorchDistributedNetwork(ring(n_nodes), timeout=4 if hang else 20)
    return train(network, steps, die_at, hang), mismatch


def test_simulated_and_distributed_trajectories_are_identical():
    steps = 12
    sim_models, sim_bits = train(LocalNetwork(ring(4)), steps)
    results = run_distributed(distributed_node, 4, args=(4, steps), timeout=150,
                              node_timeout=30)
    for rank, ((models, bits), mismatch) in enumerate(results):
        np.testing.assert_array_equal(models[0], sim_models[rank])
        assert bits[0] == sim_bits[rank]
        assert "process group has 4 processes but the topology has 5 nodes" in mismatch
    assert np.all(sim_bits > 0)


@pytest.mark.parametrize("hang, expected", [
    (False, ["node 2: process exited with code 3 without reporting",
             # the survivors raise themselves, naming the dead neighbour or the closed link
             "node 0: NodeFailureError: node 0, gossip round 3",
             "node 1: NodeFailureError: node 1, gossip round 3"]),
    (True, ["node 2: still running 13 s after another node failed (hung); terminated",
            "node 0: NodeFailureError: node 0, gossip round 3", "hung for more than 4 s"]),
], ids=["dies", "hangs"])
def test_a_failing_node_makes_the_others_fail_fast(hang, expected):
    """Node 2 of a 3-node ring exits (or stops answering) at step 3 of 8: bounded failure."""
    # a hang would end in run_distributed's overall timeout instead, without these lines
    with pytest.raises(NodeFailureError) as info:
        run_distributed(distributed_node, 3, args=(3, 8, 3, hang), timeout=150, node_timeout=8)
    for line in expected:
        assert line in str(info.value)


def test_distributed_network_needs_an_initialised_group():
    with pytest.raises(ValueError, match="init_process_group"):
        TorchDistributedNetwork(ring(3))


def test_optimizer_writes_the_engine_models_into_the_parameters():
    X, y = _data()
    models = [_model() for _ in range(4)]
    opt = ChocoSGD(models, LocalNetwork(ring(4)), lr=0.1, gamma=0.3)
    for i, model in enumerate(models):
        torch.nn.functional.cross_entropy(model(X[i::4]), y[i::4]).backward()
    opt.step()
    for model, x in zip(models, opt.engine.models):
        flat = torch.nn.utils.parameters_to_vector(model.parameters()).detach().numpy()
        np.testing.assert_array_equal(flat, x.astype(np.float32))
        assert all(p.grad is not None for p in model.parameters())
    opt.zero_grad()
    assert all(p.grad is None for m in models for p in m.parameters())
    fixed_bits = 32 + 5 * opt.engine.dim  # norm + 5 bits per level in [-15, 15]
    assert opt.t == 1 and np.all(opt.bits_sent == 8 * ((fixed_bits + 7) // 8))


def test_malcom_fits_a_convex_model_as_well_as_dsgd_with_far_fewer_bits():
    """Multinomial logistic regression on a ring: same accuracy, a fraction of D-SGD's bits."""
    X, y = _data()
    results = {}
    for name, make in [("malcom", lambda m, net: MalcomPSGD(m, net, lr=0.5, mu=1e-3, gamma=0.4)),
                       ("dsgd", lambda m, net: DSGD(m, net, lr=0.5))]:
        models = [torch.nn.Linear(N_FEATURES, N_CLASSES) for _ in range(4)]
        for m in models:
            m.load_state_dict(models[0].state_dict())
        opt = make(models, LocalNetwork(ring(4)))
        for _ in range(150):
            for i, m in enumerate(models):
                torch.nn.functional.cross_entropy(m(X[i::4]), y[i::4]).backward()
            opt.step()
            opt.zero_grad()
        avg = np.mean(opt.engine.models, axis=0)
        W = avg[:N_FEATURES * N_CLASSES].reshape(N_CLASSES, N_FEATURES)
        accuracy = np.mean(np.argmax(X.numpy() @ W.T + avg[-N_CLASSES:], 1) == y.numpy())
        results[name] = accuracy, opt.bits_sent.mean(), opt.engine.consensus_error() / (avg @ avg)
    assert results["malcom"][0] >= results["dsgd"][0] - 0.03 and results["dsgd"][0] > 0.8
    assert results["malcom"][1] < 0.25 * results["dsgd"][1]
    assert results["malcom"][2] < 1e-2


def test_bad_optimizer_input():
    with pytest.raises(ValueError, match="3 models given for the 4 nodes"):
        MalcomPSGD([_model() for _ in range(3)], LocalNetwork(ring(4)), lr=0.1)
    with pytest.raises(ValueError, match=r"consensus rate gamma must be in \(0, 1\]"):
        MalcomPSGD([_model() for _ in range(4)], LocalNetwork(ring(4)), lr=0.1, gamma=0)
    with pytest.raises(ValueError, match="levels s must be an integer >= 1"):
        MalcomPSGD([_model() for _ in range(4)], LocalNetwork(ring(4)), lr=0.1,
                   compressor=QSGD(0))


@pytest.mark.parametrize("imports, use", [
    ("sksafe, sksafe.nn", "sksafe.nn.MalcomPSGD([], sksafe.nn.LocalNetwork(sksafe.nn.ring(3)), lr=1)"),
    ("sksafe, sksafe.nn, sksafe.nn.pruning", "sksafe.nn.pruning.AutoTrainOnce"),
], ids=["nn", "pruning"])
def test_importing_never_pulls_torch_and_the_hint_names_the_extra(imports, use):
    """Importing sksafe and its nn packages loads neither torch nor torch_pruning; using a
    torch-backed name without torch raises an ImportError naming the extra."""
    code = (f"import sys, {imports}\n"
            "assert 'torch' not in sys.modules and 'torch_pruning' not in sys.modules\n"
            "sys.modules['torch'] = None\n"
            f"try:\n    {use}\nexcept ImportError as e:\n    print(e)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert "pip install sksafe[torch]" in out.stdout
