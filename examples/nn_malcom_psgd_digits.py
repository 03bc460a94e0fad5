"""Decentralized training of an MLP on digits with Malcom-PSGD, simulated on 8 nodes.

Eight nodes on a ring each hold one eighth of scikit-learn's digits and train the same
64-32-10 network. They never share data, only their models, and those only as
quantised, entropy-coded residuals (Malcom-PSGD, Campbell et al., arXiv 2311.05760). The
script trains once with Malcom-PSGD and once with CHOCO-SGD (same quantiser, fixed-length
code), and prints the test accuracy of the nodes' average model, the sparsity of the
node models, and the bits each node sent.

The training loop is an ordinary torch loop: one ``backward()`` per node, then
``opt.step()``. Replacing ``LocalNetwork(topology)`` by
``TorchDistributedNetwork(topology)`` (one process per node, see
``sksafe.nn.run_distributed``) runs the same code over ``torch.distributed``.

Run: ``python examples/nn_malcom_psgd_digits.py`` (needs ``pip install sksafe[torch]``).
"""
import numpy as np
import torch
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from sksafe.nn import QSGD, ChocoSGD, LocalNetwork, MalcomPSGD, ring, split_iid

torch.set_num_threads(1)
X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = (torch.from_numpy(a) for a in train_test_split(
    (X / 16).astype(np.float32), y, test_size=0.25, stratify=y, random_state=0))
topology = ring(8)
shards = split_iid(len(y_train), topology.n_nodes, seed=0)
print(topology)


def mlp():
    torch.manual_seed(0)  # every node starts from the same model
    return torch.nn.Sequential(torch.nn.Linear(64, 32), torch.nn.ReLU(), torch.nn.Linear(32, 10))


quantiser = QSGD(s=15, scaled=True)  # CHOCO's contraction-scaled QSGD, for both methods
optimizers = {
    "Malcom-PSGD": lambda nodes: MalcomPSGD(nodes, LocalNetwork(topology), lr=0.1, mu=1e-3,
                                            gamma=0.5, compressor=quantiser, order="prox_last"),
    "CHOCO-SGD": lambda nodes: ChocoSGD(nodes, LocalNetwork(topology), lr=0.1, gamma=0.5,
                                        compressor=QSGD(s=15, scaled=True, coding="fixed")),
}
for name, make_optimizer in optimizers.items():
    nodes = [mlp() for _ in range(topology.n_nodes)]
    opt = make_optimizer(nodes)
    rng = np.random.default_rng(0)
    for step in range(600):
        for shard, net in zip(shards, nodes):
            batch = torch.from_numpy(rng.choice(shard, 32))
            loss = torch.nn.functional.cross_entropy(net(X_train[batch]), y_train[batch])
            loss.backward()
        opt.step()
        opt.zero_grad()

    average = mlp()
    torch.nn.utils.vector_to_parameters(torch.from_numpy(opt.engine.average()).float(),
                                        average.parameters())
    with torch.no_grad():
        accuracy = (average(X_test).argmax(1) == y_test).float().mean().item()
    zeros = np.mean([np.mean(x == 0) for x in opt.engine.models])
    print(f"{name:12s} test accuracy {accuracy:.3f}, {zeros:.0%} of the weights exactly zero, "
          f"{opt.bits_sent.mean() / 1e6:.2f} Mbit sent per node "
          f"({opt.bits_sent.mean() / opt.t / opt.engine.dim:.2f} bits per parameter and step)")
