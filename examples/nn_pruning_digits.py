"""Prune a small CNN on digits with Auto-Train-Once, from scratch, to half its FLOPs.

Auto-Train-Once (Wu et al., CVPR 2024, arXiv 2403.14729) trains the network and a small
controller network together: the controller decides which channels to drop under a FLOPs
budget, a group proximal step drives the dropped channels to exactly zero, and at the end
they are cut out of the network, which gives a smaller ``nn.Module`` with the same outputs
and no fine-tuning. The script prints the per-layer FLOPs and parameters before and after,
the test accuracy and the time per epoch.

Run: ``python examples/nn_pruning_digits.py`` (about 20 s; needs ``pip install
sksafe[torch]``).
"""
import numpy as np
import torch
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from sksafe.nn.pruning import AutoTrainOnce

torch.set_num_threads(1)
X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = (torch.from_numpy(a) for a in train_test_split(
    (X / 16).astype(np.float32).reshape(-1, 1, 8, 8), y, test_size=0.25, stratify=y,
    random_state=0))

nn = torch.nn
torch.manual_seed(0)
model = nn.Sequential(nn.Conv2d(1, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(),
                      nn.Conv2d(16, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(),
                      nn.MaxPool2d(2),
                      nn.Conv2d(32, 64, 3, padding=1), nn.BatchNorm2d(64), nn.ReLU(),
                      nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(64, 10))

ato = AutoTrainOnce(model, X_train[:2], flops_target=0.5, epochs=60)
print("channel groups:", [(g.name, g.size) for g in ato.groups.groups])
ato.fit(X_train, y_train, X_test, y_test)

print("\nbefore:\n" + ato.cost_before_.to_markdown())
print("\nafter:\n" + ato.cost_after_.to_markdown())
print(f"\nkept FLOPs {ato.flops_ratio_:.3f} (target 0.5), kept parameters "
      f"{ato.params_ratio_:.3f}, channels kept per group {[int(k.sum()) for k in ato.mask_]}")
print(f"test accuracy of the pruned model: {ato.score(X_test, y_test):.3f}; "
      f"{np.mean(ato.epoch_times_):.3f} s per epoch")
