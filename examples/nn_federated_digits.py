"""Federated digits on 20 heterogeneous clients: FedAvg vs foundation-model distillation.

The setting of Wu et al. (arXiv 2311.08479) in miniature: 20 clients hold scikit-learn
digits split by Dirichlet(alpha = 0.1) over their labels, with digits 7, 8 and 9 rare on
clients; a stand-in teacher (MLP 64-512-512-10 trained on the server's 500 public digits)
plays the foundation model. The lightweight student (MLP 64-32-10, group lasso on its
input pixels) is trained on Flower's simulation engine with plain FedAvg, with client-side
distillation from the teacher, and with server-side distillation on the public inputs.
The script prints the balanced test accuracy, the accuracy on the rare digits, and the
size and cost of the deployed student against the teacher's.

Run: ``python examples/nn_federated_digits.py`` (about 2 minutes on 2 CPU cores; needs
``pip install sksafe[federated]``).
"""
from sksafe.nn.federated import (LocalConfig, ServerDistillConfig, digits_task,
                                 train_federated)

if __name__ == "__main__":  # Flower's engine starts worker processes
    task = digits_task(n_clients=20, scheme="dirichlet-client:0.1", seed=0)
    print("samples per client and class (rows: clients, columns: digits 0-9):")
    print(task.label_counts)
    local = dict(epochs=2, lr=0.3, batch_size=16, penalty="group", mu=1e-2)
    methods = {
        "FedAvg": (LocalConfig(**local), None),
        "client KD": (LocalConfig(**local, beta=0.7, temperature=2.0), None),
        "server KD": (LocalConfig(**local), ServerDistillConfig(epochs=1, lr=0.3)),
    }
    for name, (config, server_kd) in methods.items():
        result = train_federated(task, local=config, server_kd=server_kd, n_rounds=20,
                                 engine="simulation", seed=0, num_cpus=2)
        final, size = result.final, result.size
        print(f"{name:10s} accuracy {final['accuracy']:.3f}, rare digits "
              f"{final['rare_accuracy']:.3f}; student: {size['nnz_params']} of "
              f"{size['n_params']} weights non-zero, reads {size['n_inputs_used']} of 64 "
              f"pixels, {size['macs_per_sample']:.0f} multiply-adds ({result.wall_time:.0f} s)")
    teacher = task.teacher
    print(f"teacher    accuracy {teacher['accuracy']:.3f}; {teacher['n_params']} weights, "
          f"{teacher['macs_per_sample']:.0f} multiply-adds per digit")
