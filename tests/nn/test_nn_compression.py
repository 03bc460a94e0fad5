"""Quantiser unbiasedness and variance, and the message round trip of every compressor."""
import numpy as np
import pytest

from sksafe.nn.coding import fixed_length_width
from sksafe.nn.compression import QSGD, Float32, RandomK, Sign, TopK, qsgd_levels


def _samples(compressor, v, n, seed=0):
    rng = np.random.default_rng(seed)
    return np.array([compressor.decode(compressor.encode(v, rng), v.size) for _ in range(n)])


def _exact_variance(v, s):
    """Per coordinate: (||v|| / s)^2 f (1 - f), f the fractional part of s |v_k| / ||v||."""
    scaled = s * np.abs(v) / np.linalg.norm(v)
    frac = scaled - np.floor(scaled)
    return (np.linalg.norm(v) / s) ** 2 * frac * (1 - frac)


@pytest.mark.parametrize("s", [1, 4, 15])
def test_qsgd_is_unbiased(s):
    v = np.random.default_rng(1).standard_normal(40)
    n = 20_000
    q = _samples(QSGD(s), v, n)
    z = (q.mean(axis=0) - v) / np.sqrt(_exact_variance(v, s) / n)
    # 40 standardised means: none beyond 4.5, and their mean square near 1
    assert np.max(np.abs(z)) < 4.5
    assert 0.5 < np.mean(z ** 2) < 1.6


@pytest.mark.parametrize("s", [1, 2, 7, 31])
def test_qsgd_variance_bound(s):
    v = np.random.default_rng(2).standard_normal(100) * np.linspace(0.1, 3, 100)
    q = _samples(QSGD(s), v, 4000, seed=s)
    empirical = np.mean(np.sum((q - v) ** 2, axis=1))
    exact = _exact_variance(v, s).sum()
    assert empirical == pytest.approx(exact, rel=0.06)
    assert exact <= QSGD(s).variance_factor(v.size) * v @ v


@pytest.mark.parametrize("s", [1, 3, 15])
def test_scaled_qsgd_is_a_contraction(s):
    """CHOCO's scaled variant: E||Q(v)/tau - v||^2 <= (1 - 1/tau) ||v||^2."""
    v = np.random.default_rng(3).standard_normal(400)
    compressor = QSGD(s, scaled=True)
    q = _samples(compressor, v, 2000, seed=s)
    tau = 1 + compressor.variance_factor(v.size)
    assert np.mean(np.sum((q - v) ** 2, axis=1)) <= (1 - 1 / tau) * (v @ v)


def test_levels_stay_in_range_and_zero_vector():
    rng = np.random.default_rng(0)
    v = np.zeros(10)
    v[3] = -2.0  # |v_k| = ||v||: the top level exactly, never s + 1
    norm, levels = qsgd_levels(v, 5, rng)
    assert norm == 2.0 and levels[3] == -5 and np.count_nonzero(levels) == 1
    assert qsgd_levels(np.zeros(5), 3, rng)[1].tolist() == [0] * 5
    with pytest.raises(ValueError, match="non-finite"):
        qsgd_levels(np.array([1.0, np.nan]), 3, rng)


@pytest.mark.parametrize("compressor", [QSGD(7), QSGD(7, coding="fixed"), QSGD(3, scaled=True),
                                        TopK(5), RandomK(5), Sign(), Float32()])
def test_sender_and_receiver_decode_the_same_vector(compressor):
    rng = np.random.default_rng(0)
    v = rng.standard_normal(37)
    message = compressor.encode(v, rng)
    assert isinstance(message, bytes)
    q = compressor.decode(message, 37)
    np.testing.assert_array_equal(q, compressor.decode(bytes(message), 37))
    assert q.shape == (37,) and np.all(np.isfinite(q))


def test_message_sizes_are_the_documented_ones():
    rng = np.random.default_rng(0)
    v = rng.standard_normal(1000)
    assert 8 * len(QSGD(15, coding="fixed").encode(v, rng)) == 32 + 1000 * fixed_length_width(15)
    assert fixed_length_width(15) == 5 and fixed_length_width(1) == 2
    assert 8 * len(TopK(10).encode(v, rng)) == 10 * 64
    assert 8 * len(Sign().encode(v, rng)) == 32 + 1000
    assert 8 * len(Float32().encode(v, rng)) == 32 * 1000


def test_topk_keeps_the_largest_and_sign_scales_by_the_l1_norm():
    v = np.array([0.1, -5.0, 0.3, 4.0, -0.2])
    np.testing.assert_allclose(TopK(2).decode(TopK(2).encode(v, None), 5), [0, -5, 0, 4, 0])
    q = Sign().decode(Sign().encode(v, None), 5)
    np.testing.assert_allclose(q, np.sign(v) * np.abs(v).mean(), rtol=1e-6)


def test_entropy_coding_beats_fixed_length_on_sparse_residuals():
    rng = np.random.default_rng(0)
    v = np.zeros(5000)
    v[rng.choice(5000, 100, replace=False)] = rng.standard_normal(100)
    entropy = QSGD(15).encode(v, np.random.default_rng(1))
    fixed = QSGD(15, coding="fixed").encode(v, np.random.default_rng(1))
    assert len(entropy) < 0.1 * len(fixed)
    assert QSGD(15).entropy_bound(entropy, 5000) <= 8 * len(entropy)


@pytest.mark.parametrize("s", [0, -1, 2.5])
def test_bad_number_of_levels(s):
    with pytest.raises(ValueError, match="levels s must be an integer >= 1"):
        QSGD(s)


def test_bad_compressor_parameters():
    with pytest.raises(ValueError, match="coding"):
        QSGD(3, coding="huffman")
    with pytest.raises(ValueError, match="k must be"):
        TopK(0)
