"""Non-IID partitioners of sksafe.nn.federated (NumPy only: no torch, no flwr)."""
import subprocess
import sys

import numpy as np
import pytest

from sksafe.nn.federated.partition import (class_partition, dirichlet_partition, label_counts,
                                           split_clients, subsample_classes)


def _labels(n_classes=10, per_class=60, seed=0):
    return np.random.default_rng(seed).permutation(np.repeat(np.arange(n_classes), per_class))


def _assert_exact_cover(parts, n):
    allidx = np.concatenate(parts)
    assert allidx.size == n, "a sample is missing or assigned twice"
    assert np.array_equal(np.sort(allidx), np.arange(n))
    assert all(p.size > 0 for p in parts), "a client received no data"


@pytest.mark.parametrize("alpha", [0.01, 0.1, 0.5, 1.0, 100.0])
@pytest.mark.parametrize("n_clients", [5, 10, 20])
def test_dirichlet_assigns_every_sample_once(alpha, n_clients):
    y = _labels()
    parts = dirichlet_partition(y, n_clients, alpha, seed=3)
    assert len(parts) == n_clients
    _assert_exact_cover(parts, y.size)


def test_dirichlet_fractions_follow_alpha():
    """Without the balancing rule, the share of a class on a client is Dirichlet(alpha):
    mean 1/K, variance (1/K)(1-1/K)/(K alpha + 1). 400 classes x 1000 samples."""
    K, n_classes, per_class = 8, 400, 1000
    y = np.repeat(np.arange(n_classes), per_class)
    variances = {}
    for alpha in (0.1, 1.0):
        parts = dirichlet_partition(y, K, alpha, balance=False, seed=11)
        _assert_exact_cover(parts, y.size)
        frac = label_counts(y, parts, n_classes) / per_class  # (K, classes)
        np.testing.assert_allclose(frac.sum(0), 1.0)
        expected = (1 / K) * (1 - 1 / K) / (K * alpha + 1)
        assert abs(frac.mean() - 1 / K) < 1e-12  # every class is fully assigned
        variances[alpha] = frac.var()
        assert variances[alpha] == pytest.approx(expected, rel=0.12), alpha
    assert variances[0.1] > 4 * variances[1.0]


def test_dirichlet_over_clients_follows_alpha():
    """over="clients": client k's label distribution is Dirichlet(alpha * prior); with two
    balanced classes its positive share has mean 1/2, variance (1/4)/(alpha + 1)."""
    K = 400
    y = np.repeat([0, 1], 100_000)
    for alpha in (0.01, 0.1, 1.0):
        parts = dirichlet_partition(y, K, alpha, over="clients", seed=2)
        _assert_exact_cover(parts, y.size)
        counts = label_counts(y, parts, 2)
        share = counts[:, 1] / counts.sum(1)
        assert share.mean() == pytest.approx(0.5, abs=0.05)
        assert share.var() == pytest.approx(0.25 / (alpha + 1), rel=0.15), alpha
    # ten clients, two classes, alpha = 0.01: every client is supplied, almost always with
    # a single class
    y = _labels(n_classes=2, per_class=300)
    parts = split_clients(y, 10, "dirichlet-client:0.01", seed=0)
    _assert_exact_cover(parts, y.size)
    assert np.mean([np.unique(y[p]).size == 1 for p in parts]) >= 0.8


def test_dirichlet_heterogeneity_grows_as_alpha_shrinks():
    y = _labels(per_class=100)

    def classes_per_client(alpha):
        counts = np.mean([(label_counts(y, dirichlet_partition(y, 10, alpha, seed=s)) > 0)
                          .sum(1).mean() for s in range(5)])
        return counts

    seen = [classes_per_client(a) for a in (0.01, 0.1, 0.5, 1.0, 100.0)]
    assert all(a < b for a, b in zip(seen, seen[1:])), seen
    assert seen[0] < 2.0 and seen[-1] == 10.0


def test_dirichlet_is_reproducible():
    y = _labels()
    a = dirichlet_partition(y, 7, 0.3, seed=5)
    b = dirichlet_partition(y, 7, 0.3, seed=5)
    assert all(np.array_equal(p, q) for p, q in zip(a, b))


def test_class_partition_respects_class_sets():
    y = _labels()
    parts = class_partition(y, 20, classes_per_client=2, seed=0)
    _assert_exact_cover(parts, y.size)
    for k, p in enumerate(parts):
        assert set(np.unique(y[p])) == {(2 * k) % 10, (2 * k + 1) % 10}
    sets = [{0, 1, 2}, {3}, {4, 5, 6, 7}, {8, 9, 0}]
    parts = class_partition(y, 4, class_sets=sets, seed=1)
    _assert_exact_cover(parts, y.size)
    for s, p in zip(sets, parts):
        assert set(np.unique(y[p])) == s
    # class 0 is shared by clients 0 and 3: its samples are split between them
    assert abs(np.sum(y[parts[0]] == 0) - np.sum(y[parts[3]] == 0)) <= 1


def test_split_clients_schemes():
    y = _labels()
    for scheme in ("iid", "dirichlet:0.5", "dirichlet-client:0.5", "classes:1"):
        _assert_exact_cover(split_clients(y, 10, scheme, seed=0), y.size)
    parts = split_clients(y, 10, "classes:1", seed=0)
    assert all(np.unique(y[p]).size == 1 for p in parts)


@pytest.mark.parametrize("alpha", [0, -0.5, float("nan"), float("inf"), "1"])
def test_bad_alpha(alpha):
    with pytest.raises(ValueError, match="alpha must be a finite number > 0"):
        dirichlet_partition(_labels(), 5, alpha)


def test_more_clients_than_samples():
    y = np.array([0, 1, 0, 1, 2])
    with pytest.raises(ValueError, match=r"more clients \(6\) than samples \(5\)"):
        dirichlet_partition(y, 6, 1.0)
    with pytest.raises(ValueError, match="more clients"):
        class_partition(y, 6, classes_per_client=1)
    with pytest.raises(ValueError, match="more clients"):
        split_clients(y, 6, "iid")
    with pytest.raises(ValueError, match="n_clients must be an integer >= 1"):
        dirichlet_partition(y, 0, 1.0)


def test_client_with_no_data():
    y = np.array([0, 0, 0, 0, 1])
    # class 1 has one sample but two holders: client 2 gets nothing
    with pytest.raises(ValueError, match=r"clients \[2\] received no data"):
        class_partition(y, 3, class_sets=[{0}, {1}, {1}])
    with pytest.raises(ValueError, match="min_size must be an integer >= 1"):
        dirichlet_partition(_labels(), 5, 1.0, min_size=0)
    # 20 clients with alpha = 0.01 and no balancing: some client always ends up empty
    with pytest.raises(ValueError, match="no Dirichlet.*at least 1 samples"):
        dirichlet_partition(_labels(), 20, 0.01, balance=False, max_tries=20, seed=0)


def test_mismatched_class_sets():
    y = _labels(n_classes=4)
    with pytest.raises(ValueError, match=r"client 1 holds classes \[7\], which are not labels"):
        class_partition(y, 2, class_sets=[{0, 1, 2}, {3, 7}])
    with pytest.raises(ValueError, match=r"classes \[3\] are held by no client"):
        class_partition(y, 2, class_sets=[{0, 1}, {2}])
    with pytest.raises(ValueError, match="class set of client 0 is empty"):
        class_partition(y, 2, class_sets=[set(), {0, 1, 2, 3}])
    with pytest.raises(ValueError, match="2 class sets given for 3 clients"):
        class_partition(y, 3, class_sets=[{0, 1}, {2, 3}])
    with pytest.raises(ValueError, match="exactly one of"):
        class_partition(y, 2)
    with pytest.raises(ValueError, match="unknown partition scheme"):
        split_clients(y, 2, "dirichlet")
    with pytest.raises(ValueError, match="over must be"):
        dirichlet_partition(y, 2, 1.0, over="labels")


def test_subsample_classes():
    y = _labels(per_class=100)
    kept = subsample_classes(y, [7, 8], 0.2, seed=0)
    counts = np.bincount(y[kept], minlength=10)
    assert counts[7] == counts[8] == 20
    assert np.all(np.delete(counts, [7, 8]) == 100)
    with pytest.raises(ValueError, match="not labels"):
        subsample_classes(y, [12], 0.5)


def test_importing_the_package_imports_neither_torch_nor_flwr():
    code = ("import sys, sksafe.nn.federated, sksafe.nn.federated.partition; "
            "print('torch' in sys.modules, 'flwr' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120, check=True).stdout.split()
    assert out == ["False", "False"]
