"""Channel groups, FLOPs counting, the group proximal step, physical removal, bad input."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("torch_pruning")
nn = torch.nn

from sksafe.nn.pruning import (AutoTrainOnce, ChannelGroups, GroupLassoPruning,  # noqa: E402
                               L1FilterPruning, count_cost)


def digits_cnn():
    return nn.Sequential(nn.Conv2d(1, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(),
                         nn.Conv2d(16, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(),
                         nn.MaxPool2d(2),
                         nn.Conv2d(32, 64, 3, padding=1), nn.BatchNorm2d(64), nn.ReLU(),
                         nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(64, 10))


class Residual(nn.Module):
    """Two residual additions share one group; a 1x1 projection shortcut joins another."""

    def __init__(self):
        super().__init__()
        self.stem, self.bn0 = nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8)
        self.c1, self.b1 = nn.Conv2d(8, 6, 3, padding=1, bias=False), nn.BatchNorm2d(6)
        self.c2, self.b2 = nn.Conv2d(6, 8, 3, padding=1, bias=False), nn.BatchNorm2d(8)
        self.c3, self.b3 = nn.Conv2d(8, 12, 3, stride=2, padding=1), nn.BatchNorm2d(12)
        self.c4, self.b4 = nn.Conv2d(12, 12, 3, padding=1), nn.BatchNorm2d(12)
        self.short = nn.Conv2d(8, 12, 1, stride=2)
        self.fc = nn.Linear(12, 5)

    def forward(self, x):
        h = torch.relu(self.bn0(self.stem(x)))
        h = torch.relu(h + self.b2(self.c2(torch.relu(self.b1(self.c1(h))))))
        h = torch.relu(self.short(h) + self.b4(self.c4(torch.relu(self.b3(self.c3(h))))))
        return self.fc(h.mean((2, 3)))


class Branching(nn.Module):
    """Inception-like concatenation, a depthwise convolution, flatten into a linear layer."""

    def __init__(self):
        super().__init__()
        self.a, self.ba = nn.Conv2d(3, 6, 1), nn.BatchNorm2d(6)
        self.b, self.bb = nn.Conv2d(3, 5, 3, padding=1), nn.BatchNorm2d(5)
        self.dw, self.bdw = nn.Conv2d(5, 5, 3, padding=1, groups=5), nn.BatchNorm2d(5)
        self.mix, self.bmix = nn.Conv2d(11, 7, 1), nn.BatchNorm2d(7)
        self.head = nn.Sequential(nn.Flatten(), nn.Linear(7 * 16, 9), nn.GELU(),
                                  nn.Linear(9, 4))

    def forward(self, x):
        left = torch.relu(self.ba(self.a(x)))
        right = torch.relu(self.bdw(self.dw(torch.relu(self.bb(self.b(x))))))
        h = torch.relu(self.bmix(self.mix(torch.cat([left, right], 1))))
        return self.head(nn.functional.max_pool2d(h, 2))


def mlp():
    return nn.Sequential(nn.Linear(64, 32), nn.BatchNorm1d(32), nn.ReLU(),
                         nn.Linear(32, 24), nn.BatchNorm1d(24), nn.ReLU(), nn.Linear(24, 10))


def randomised(model):
    """Non-trivial batch-norm statistics and affine parameters, so that nothing is zero."""
    torch.manual_seed(1)
    for m in model.modules():
        if isinstance(m, nn.modules.batchnorm._BatchNorm):
            m.running_mean.normal_()
            m.running_var.uniform_(0.5, 2.0)
            m.weight.data.normal_()
            m.bias.data.normal_()
    return model.eval()


CASES = {"plain": (digits_cnn, (6, 1, 8, 8)), "residual": (Residual, (6, 3, 8, 8)),
         "branching": (Branching, (6, 3, 8, 8)), "mlp": (mlp, (6, 64))}


@pytest.mark.parametrize("case", list(CASES))
def test_pruned_model_equals_masked_model(case):
    make, shape = CASES[case]
    torch.manual_seed(0)
    model = randomised(make())
    example = torch.randn(shape)
    groups = ChannelGroups(model, example)
    rng = np.random.default_rng(0)
    mask = [rng.random(s) < 0.5 for s in groups.sizes]
    for m in mask:
        m[rng.integers(len(m))] = True
    pruned = groups.prune(mask, check=False)
    masked = groups.apply_mask(mask, __import__("copy").deepcopy(model)).eval()
    x = torch.randn((50,) + shape[1:])
    with torch.no_grad():
        expected = masked(x)
        np.testing.assert_allclose(pruned.eval()(x), expected, atol=1e-5, rtol=1e-5)
        with groups.gated(mask):  # gating the readers computes the same network
            np.testing.assert_allclose(model(x), expected, atol=1e-5, rtol=1e-5)
    # the pruned model is smaller, and the differentiable count matches the counted one
    after = count_cost(pruned, example)
    assert after.params < count_cost(model, example).params
    flops, params = groups.cost(mask)
    assert after.flops == round(float(flops)) and after.params == round(float(params))
    assert [r.flops for r in groups.cost(mask, per_layer=True).layers] == \
        [r.flops for r in after.layers]


def test_residual_and_branching_groups_couple_the_right_layers():
    def by_producers(model):
        groups = ChannelGroups(model, torch.randn(2, 3, 8, 8)).groups
        return {tuple(sorted(p[0] for p in g.producers)): g for g in groups}

    assert set(by_producers(Residual())) == {("b2", "bn0", "c2", "stem"), ("b1", "c1"),
                                             ("b3", "c3"), ("b4", "c4", "short")}
    branching = by_producers(Branching())
    assert set(branching) == {("a", "ba"), ("b", "bb", "bdw", "dw"), ("bmix", "mix"),
                              ("head.1",)}
    # mix reads 11 inputs: 6 from group a, then 5 from group b (through the depthwise conv)
    right = branching[("b", "bb", "bdw", "dw")]
    assert [c[2].tolist() for c in right.consumers if c[0] == "mix"] == [[6, 7, 8, 9, 10]]
    flat = [c for c in branching[("bmix", "mix")].consumers if c[0] == "head.1"][0]
    assert len(flat[2]) == 7 * 16 and flat[3].tolist() == np.repeat(np.arange(7), 16).tolist()


def test_counted_flops_match_a_hand_computation():
    report = count_cost(digits_cnn(), torch.randn(2, 1, 8, 8))
    hand = [9 * 1 * 16 * 64 + 16 * 64, 2 * 16 * 64,      # conv1 + bias, bn1 (8x8)
            9 * 16 * 32 * 64 + 32 * 64, 2 * 32 * 64,     # conv2, bn2 (8x8)
            9 * 32 * 64 * 16 + 64 * 16, 2 * 64 * 16,     # conv3, bn3 (4x4 after pooling)
            64 * 10 + 10]                                # linear
    assert [row.flops for row in report.layers] == hand
    assert report.flops == 611_978
    assert report.params == 160 + 32 + 4640 + 64 + 18496 + 128 + 650
    assert "| **total** | | | | | **611,978** |" in report.to_markdown()
    depthwise = count_cost(nn.Conv2d(4, 4, 3, groups=4, bias=False), torch.randn(1, 4, 5, 5))
    assert depthwise.flops == 9 * 4 * 9


def test_group_soft_thresholding_matches_its_closed_form_and_keeps_zeros_zero():
    torch.manual_seed(0)
    model = randomised(digits_cnn())
    groups = ChannelGroups(model, torch.randn(2, 1, 8, 8))
    conv, bn = model[3], model[4]
    g = [grp.name for grp in groups.groups].index("3")
    a = groups.offsets[g]
    with torch.no_grad():
        conv.weight[5].zero_()
        conv.bias[5] = 0
        bn.weight[5] = 0
        bn.bias[5] = 0
    before = [torch.cat([conv.weight[c].flatten(), conv.bias[c:c + 1], bn.weight[c:c + 1],
                         bn.bias[c:c + 1]]).detach().double().numpy() for c in range(32)]
    norms = groups.group_norms()[a:a + 32].numpy()
    np.testing.assert_allclose(norms, [np.linalg.norm(v) for v in before], rtol=1e-6)
    tau = torch.zeros(groups.n_channels, dtype=torch.float64)
    tau[a:a + 32] = torch.linspace(0, 1.2 * norms.max(), 32)
    groups.proximal_step(tau)
    for c in range(32):
        t, v = float(tau[a + c]), before[c]
        expected = max(0.0, 1 - t / np.linalg.norm(v)) * v if np.linalg.norm(v) > 0 else v
        after = torch.cat([conv.weight[c].flatten(), conv.bias[c:c + 1], bn.weight[c:c + 1],
                           bn.bias[c:c + 1]]).detach().double().numpy()
        np.testing.assert_allclose(after, expected, rtol=1e-5, atol=1e-7)
    zero = groups.group_norms()[a:a + 32] == 0
    assert zero[5] and zero[-1] and zero.sum() >= 2
    groups.proximal_step(torch.full((groups.n_channels,), 1e-3, dtype=torch.float64))
    assert torch.all(groups.group_norms()[a:a + 32][zero] == 0)


@pytest.mark.parametrize("target", [0, 1, 1.5, -0.2])
def test_flops_target_outside_the_open_unit_interval(target):
    for cls in (AutoTrainOnce, GroupLassoPruning, L1FilterPruning):
        with pytest.raises(ValueError, match=r"flops_target .* must be in \(0, 1\)"):
            cls(digits_cnn(), torch.randn(2, 1, 8, 8), flops_target=target)


def test_unreachable_target_and_models_without_prunable_groups():
    with pytest.raises(ValueError, match="cannot be reached: keeping one channel per group"):
        AutoTrainOnce(digits_cnn(), torch.randn(2, 1, 8, 8), flops_target=0.001)
    with pytest.raises(ValueError, match="no prunable channel groups"):
        AutoTrainOnce(nn.Sequential(nn.Flatten(), nn.Linear(64, 10)), torch.randn(2, 64),
                      flops_target=0.5)
    model = digits_cnn()
    with pytest.raises(ValueError, match="no prunable channel groups"):
        ChannelGroups(model, torch.randn(2, 1, 8, 8), ignored_layers=[model[0], model[3],
                                                                      model[7]])


@pytest.mark.parametrize("layer, message", [
    (nn.LayerNorm([4, 8, 8]), r"unsupported layer '1' \(LayerNorm\)"),
    (nn.Sigmoid(), r"unsupported layer '1' \(Sigmoid\)"),
    (nn.BatchNorm2d(4, affine=False), r"unsupported layer '1' \(BatchNorm2d with affine=False"),
    (nn.Conv2d(4, 4, 3, padding=1, groups=2), r"unsupported layer '1' \(Conv2d with groups=2"),
])
def test_unsupported_layers_are_named(layer, message):
    model = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), layer, nn.Conv2d(4, 4, 3, padding=1),
                          nn.Flatten(), nn.Linear(256, 3))
    with pytest.raises(ValueError, match=message):
        ChannelGroups(model, torch.randn(2, 1, 8, 8))


def test_a_coupling_torch_pruning_gets_wrong_is_refused():
    class CatFlatten(nn.Module):
        def __init__(self):
            super().__init__()
            self.a, self.b = nn.Conv2d(1, 6, 3, padding=1), nn.Conv2d(1, 4, 1)
            self.fc = nn.Linear(10 * 64, 3)

        def forward(self, x):
            return self.fc(torch.flatten(torch.cat([torch.relu(self.a(x)), self.b(x)], 1), 1))

    with pytest.raises(ValueError, match="Torch-Pruning could not resolve the channels of layer"):
        ChannelGroups(CatFlatten(), torch.randn(2, 1, 8, 8))


def test_a_mask_removing_a_whole_group_is_refused():
    groups = ChannelGroups(digits_cnn(), torch.randn(2, 1, 8, 8))
    mask = torch.ones(groups.n_channels)
    mask[:groups.sizes[0]] = 0
    with pytest.raises(ValueError, match="removes every channel of group '0'"):
        groups.prune(mask)
    with pytest.raises(ValueError, match="a mask needs 112 entries"):
        groups.prune(torch.ones(5))
