"""Training on scikit-learn's digits: ATO and the baselines learn and meet the FLOPs target."""
import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("torch_pruning")
nn = torch.nn

from sklearn.datasets import load_digits  # noqa: E402

from sksafe.nn.pruning import (AutoTrainOnce, DenseTrainer, GroupLassoPruning,  # noqa: E402
                               L1FilterPruning)

from test_pruning_groups import digits_cnn  # noqa: E402  (pytest puts tests/nn on sys.path)


@pytest.fixture(scope="module")
def digits():
    torch.set_num_threads(1)
    data = load_digits()
    X = torch.tensor(data.data / 16.0, dtype=torch.float32)
    y = torch.tensor(data.target)
    order = torch.randperm(len(X), generator=torch.Generator().manual_seed(0))
    return X[order[:1400]], y[order[:1400]], X[order[1400:]], y[order[1400:]]


def mlp():
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(64, 128), nn.BatchNorm1d(128), nn.ReLU(),
                         nn.Linear(128, 128), nn.BatchNorm1d(128), nn.ReLU(), nn.Linear(128, 10))


def test_ato_learns_meets_the_target_and_removes_exact_zeros(digits):
    Xtr, ytr, Xte, yte = (t.reshape(-1, 1, 8, 8) if t.dim() == 2 else t for t in digits)
    torch.manual_seed(0)
    ato = AutoTrainOnce(digits_cnn(), Xtr[:2], flops_target=0.5, epochs=30, random_state=0)
    ato.fit(Xtr, ytr, Xte, yte)
    assert ato.score(Xte, yte) > 0.9  # chance is 0.1
    assert abs(ato.flops_ratio_ - 0.5) <= 0.05
    assert ato.params_ratio_ < 0.8
    assert ato.masked_norm_ == 0.0  # the proximal steps zeroed every masked group exactly
    history = [np.concatenate(m) for m in ato.mask_history_]
    window = history[ato.controller_start:ato.freeze_epoch]
    assert any((a != b).any() for a, b in zip(window, window[1:]))  # the controller moves
    assert all((h == history[-1]).all() for h in history[ato.freeze_epoch:])  # then freezes
    assert history[-1].sum() == sum(k.sum() for k in ato.mask_)
    # no fine-tuning: the removed model is the trained model with its masked groups at zero
    with torch.no_grad():
        ato.model.eval()
        np.testing.assert_allclose(ato.pruned_model_.eval()(Xte), ato.model(Xte), atol=1e-4)
    row = ato.history_[-1]
    assert row["flops_ratio"] == pytest.approx(ato.flops_ratio_)
    assert row["val_accuracy"] == pytest.approx(ato.score(Xte, yte))
    assert len(ato.epoch_times_) == 30 and ato.summary()["epoch_time"] > 0


@pytest.mark.parametrize("cls", [GroupLassoPruning, L1FilterPruning])
def test_baselines_learn_and_meet_the_target(digits, cls):
    Xtr, ytr, Xte, yte = digits
    pruner = cls(mlp(), Xtr[:2], flops_target=0.3, epochs=15, random_state=0).fit(Xtr, ytr)
    assert pruner.score(Xte, yte) > 0.9
    assert 0.25 <= pruner.flops_ratio_ <= 0.3  # the budget is met from below, tightly
    assert pruner.cost_after_.layers[0].out_channels < 128


def test_dense_trainer_is_the_unpruned_reference(digits):
    Xtr, ytr, Xte, yte = digits
    dense = DenseTrainer(mlp(), Xtr[:2], epochs=8).fit(Xtr, ytr)
    assert dense.pruned_model_ is dense.model and dense.flops_ratio_ == 1.0
    assert dense.score(Xte, yte) > 0.9
