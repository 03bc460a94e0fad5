"""The bitstream codes: exact round trips (property-based) and lengths near the entropy."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from sksafe.nn.coding import (decode_fixed_length, decode_integers, decode_levels,
                              encode_fixed_length, encode_integers, encode_levels,
                              entropy_bound_bits, golomb_parameter)

FAST = settings(max_examples=150, deadline=None)


@st.composite
def sparse_levels(draw):
    """Integer vectors from all-zero to dense, with few or many distinct symbols."""
    d = draw(st.integers(1, 400))
    density = draw(st.sampled_from([0.0, 0.01, 0.1, 0.5, 1.0]))
    s = draw(st.sampled_from([1, 3, 15, 1000, 2 ** 40]))
    seed = draw(st.integers(0, 2 ** 32 - 1))
    rng = np.random.default_rng(seed)
    z = rng.integers(-s, s + 1, size=d)
    z[rng.random(d) >= density] = 0
    return z


@FAST
@given(sparse_levels(), st.floats(width=32, allow_nan=False))
def test_levels_round_trip(z, norm):
    payload = encode_levels(z, norm)
    norm_back, z_back = decode_levels(payload, z.size)
    np.testing.assert_array_equal(z_back, z)
    assert norm_back == norm or (np.isinf(norm) and norm_back == norm)


@FAST
@given(arrays(np.int64, st.integers(1, 300), elements=st.integers(-(2 ** 60), 2 ** 60)))
def test_levels_round_trip_arbitrary_integers(z):
    np.testing.assert_array_equal(decode_levels(encode_levels(z, 1.0), z.size)[1], z)


@pytest.mark.parametrize("z", [np.zeros(1000, dtype=int), np.full(7, -3),
                               np.arange(-50, 50), np.ones(1, dtype=int)])
def test_levels_edge_cases(z):
    payload = encode_levels(z, 2.5)
    norm, back = decode_levels(payload, z.size)
    assert norm == 2.5
    np.testing.assert_array_equal(back, z)


def test_all_zero_vector_costs_a_header_only():
    # 32-bit norm + gamma(1) for the implicit zero + delta(1) for "no other symbol"
    assert len(encode_levels(np.zeros(100_000, dtype=int), 0.0)) * 8 == 40


@FAST
@given(st.sampled_from(["gamma", "delta"]),
       st.lists(st.integers(1, 2 ** 62 - 1), min_size=1, max_size=50))
def test_elias_round_trip(code, values):
    payload, n_bits = encode_integers(values, code)
    assert len(payload) == (n_bits + 7) // 8
    np.testing.assert_array_equal(decode_integers(payload, len(values), code), values)


@FAST
@given(st.integers(1, 1000), st.lists(st.integers(0, 5000), min_size=1, max_size=50))
def test_golomb_round_trip(M, values):
    payload, _ = encode_integers(values, "golomb", M)
    np.testing.assert_array_equal(decode_integers(payload, len(values), "golomb", M), values)


def test_code_lengths():
    # Elias-gamma(n): 2 floor(log2 n) + 1 bits; Elias-delta(1) = 1 bit, delta(16) = 9 bits
    assert encode_integers([1, 2, 5, 1024], "gamma")[1] == 1 + 3 + 5 + 21
    assert encode_integers([1], "delta")[1] == 1
    assert encode_integers([16], "delta")[1] == 9
    # Golomb-Rice (M = 4): r = 9 -> 2 ones, a zero, 2 bits; truncated binary for M = 3:
    # remainders 0 (1 bit) and 2 (2 bits)
    assert encode_integers([9], "golomb", 4)[1] == 5
    assert encode_integers([0, 2], "golomb", 3)[1] == 2 + 3


def test_golomb_parameter_is_optimal_for_the_geometric_source():
    """Gallager-van Voorhis: theta^M + theta^(M+1) <= 1 < theta^(M-1) + theta^M."""
    for count, remaining in [(1, 2), (1, 10), (3, 100), (5, 10_000), (99, 100)]:
        M = golomb_parameter(count, remaining)
        theta = 1 - count / remaining
        assert theta ** M + theta ** (M + 1) <= 1 + 1e-12
        assert M == 1 or theta ** (M - 1) + theta ** M > 1


@pytest.mark.parametrize("p_zero, n_symbols", [(0.5, 7), (0.8, 5), (0.95, 31), (0.0, 15)])
def test_length_near_entropy_on_long_iid_sources(p_zero, n_symbols):
    """Golomb coding of the supports stays within 2% (+ the header) of d H(z)."""
    rng = np.random.default_rng(0)
    d = 200_000
    values = np.arange(n_symbols) - n_symbols // 2
    p = np.where(values == 0, p_zero, (1 - p_zero) / (n_symbols - 1))
    p = np.exp(-np.abs(values)) * (values != 0) if p_zero == 0 else p
    z = rng.choice(values, size=d, p=p / p.sum())
    bits = 8 * len(encode_levels(z, 1.0))
    bound = entropy_bound_bits(z)
    header = 32 + n_symbols * 2 * (2 * np.log2(d) + 1)  # norm, then value and count per symbol
    assert bound <= bits <= 1.02 * bound + header


def test_fixed_length_round_trip_and_size():
    rng = np.random.default_rng(0)
    z = rng.integers(-15, 16, size=1001)
    payload = encode_fixed_length(z, 15, 3.0)
    assert len(payload) == (32 + 1001 * 5 + 7) // 8
    norm, back = decode_fixed_length(payload, 1001, 15)
    assert norm == 3.0
    np.testing.assert_array_equal(back, z)


def test_bad_input():
    with pytest.raises(ValueError, match="integers"):
        encode_levels(np.array([0.5, 1.0]))
    with pytest.raises(ValueError, match="empty"):
        encode_levels(np.zeros(0, dtype=int))
    with pytest.raises(ValueError, match="gamma codes integers"):
        encode_integers([0], "gamma")
    with pytest.raises(ValueError, match="parameter M"):
        encode_integers([1], "golomb")
    payload = encode_levels(np.arange(-20, 20), 1.0)
    with pytest.raises(ValueError, match="truncated|corrupt|bytes"):
        decode_levels(payload[:-2], 40)
    with pytest.raises(ValueError, match="outside"):
        encode_fixed_length(np.array([4]), 3)
