r"""Lossless bitstream codes for quantised model residuals.

The message a Malcom-PSGD node sends is a float32 norm and an integer vector
``z in {-s, ..., s}^d`` that is mostly zero. It is coded with a *vector source code* in
the spirit of Woldemariam et al., "Low-complexity vector source coding for discrete long
sequences with unknown distributions" (arXiv 2309.05633), the coder of Malcom-PSGD
(Campbell, Liu, Woldemariam & Scaglione, arXiv 2311.05760): the vector is described by
the **frequency** and the **support** of each symbol, and the supports by the
**run-lengths** between their positions, Golomb-coded.

Bitstream layout (most significant bit first; the decoder knows ``d``):

1. the norm, 32 bits (IEEE-754 float32);
2. the *implicit* symbol ``a_0``, the most frequent value (zero for sparse vectors):
   ``gamma(zz(a_0) + 1)``, where ``zz`` is the zigzag map ``a -> 2a`` (``a >= 0``),
   ``a -> -2a - 1`` (``a < 0``) and ``gamma`` is the Elias-gamma code;
3. the number ``K`` of other symbols present: ``delta(K + 1)`` (Elias-delta);
4. for each other symbol ``a``, by decreasing frequency ``n_a`` (ties: smaller ``zz``
   first): ``gamma(zz(a) + 1)``, ``delta(n_a)``, then the ``n_a`` run-lengths of its
   support *within the positions not yet assigned to an earlier symbol*
   (``r_1 = p_1``, ``r_k = p_k - p_{k-1} - 1``, ranks in the shrinking index set of
   ``d_rem`` positions), each Golomb-coded with the parameter ``M_a`` that is optimal for
   a geometric source with success probability ``pi_a = n_a / d_rem`` (Gallager & van
   Voorhis, IEEE Trans. Inf. Theory 1975):

   .. math:: M_a = \left\lceil \frac{\log(1 + \theta)}{-\log \theta} \right\rceil,
             \qquad \theta = 1 - \pi_a .

   The positions left at the end hold ``a_0``.
5. zero padding to a whole byte.

Codes (``n >= 1``, ``N = floor(log2 n)``): Elias-gamma writes ``N`` zeros then ``n`` in
``N + 1`` bits (``2N + 1`` bits); Elias-delta writes ``gamma(N + 1)`` then the ``N`` low
bits of ``n``; Golomb with parameter ``M`` writes ``r // M`` ones, a zero, then
``r mod M`` in truncated binary (``ceil(log2 M) - 1`` or ``ceil(log2 M)`` bits; exactly
``log2 M`` bits when ``M`` is a power of two, i.e. a Golomb-Rice code).

Coding the most frequent value implicitly keeps every ``pi_a <= 1/2``, where Golomb codes
are within a few hundredths of a bit per run of the entropy of the runs; by the chain
rule the supports then cost about ``d * H(z)`` bits, ``H`` the empirical entropy of the
symbols (:func:`entropy_bound_bits`), plus ``O(K log d)`` bits of header. All lengths
reported by sksafe are the lengths of the bytes these functions return.
"""
import math

import numpy as np
from numba import njit

__all__ = ["encode_levels", "decode_levels", "entropy_bound_bits", "golomb_parameter",
           "encode_integers", "decode_integers", "encode_fixed_length",
           "decode_fixed_length", "fixed_length_width"]

_NORM_BITS = 32
_CODES = {"gamma": 0, "delta": 1, "golomb": 2}


# ---------------------------------------------------------------------------------------------
# bit-level primitives (bits are uint8 0/1 in a preallocated array; ``write=False`` only
# counts, so one routine gives both the exact length and the stream)
# ---------------------------------------------------------------------------------------------
@njit(cache=True)
def _floor_log2(n):
    k = 0
    while n > 1:
        n >>= 1
        k += 1
    return k


@njit(cache=True)
def _put(bits, pos, value, nbits, write):
    if write:
        for k in range(nbits - 1, -1, -1):
            bits[pos] = (value >> k) & 1
            pos += 1
        return pos
    return pos + nbits


@njit(cache=True)
def _get(bits, pos, nbits):
    if pos + nbits > bits.size:
        raise ValueError("truncated bitstream")
    value = 0
    for k in range(nbits):
        value = (value << 1) | bits[pos + k]
    return value, pos + nbits


@njit(cache=True)
def _put_gamma(bits, pos, n, write):
    N = _floor_log2(n)
    pos = _put(bits, pos, 0, N, write)
    return _put(bits, pos, n, N + 1, write)


@njit(cache=True)
def _get_gamma(bits, pos):
    N = 0
    while True:
        if pos >= bits.size:
            raise ValueError("truncated bitstream")
        if bits[pos]:
            break
        N += 1
        pos += 1
    if N > 62:
        raise ValueError("corrupt bitstream: Elias code longer than 63 bits")
    return _get(bits, pos, N + 1)


@njit(cache=True)
def _put_delta(bits, pos, n, write):
    N = _floor_log2(n)
    pos = _put_gamma(bits, pos, N + 1, write)
    return _put(bits, pos, n & ((1 << N) - 1), N, write)


@njit(cache=True)
def _get_delta(bits, pos):
    N1, pos = _get_gamma(bits, pos)
    if N1 > 63:
        raise ValueError("corrupt bitstream: Elias-delta length above 63 bits")
    low, pos = _get(bits, pos, N1 - 1)
    return (1 << (N1 - 1)) | low, pos


@njit(cache=True)
def _ceil_log2(M):
    b = _floor_log2(M)
    return b if (1 << b) == M else b + 1


@njit(cache=True)
def _put_golomb(bits, pos, r, M, write):
    q = r // M
    rem = r - q * M
    if write:
        for _ in range(q):
            bits[pos] = 1
            pos += 1
        bits[pos] = 0
        pos += 1
    else:
        pos += q + 1
    b = _ceil_log2(M)
    cutoff = (1 << b) - M  # the first `cutoff` remainders take one bit less
    if rem < cutoff:
        return _put(bits, pos, rem, b - 1, write)
    return _put(bits, pos, rem + cutoff, b, write)


@njit(cache=True)
def _get_golomb(bits, pos, M):
    q = 0
    while True:
        if pos >= bits.size:
            raise ValueError("truncated bitstream")
        bit = bits[pos]
        pos += 1
        if bit == 0:
            break
        q += 1
    b = _ceil_log2(M)
    cutoff = (1 << b) - M
    rem = 0
    if b > 0:
        rem, pos = _get(bits, pos, b - 1)
        if rem >= cutoff:
            extra, pos = _get(bits, pos, 1)
            rem = ((rem << 1) | extra) - cutoff
    return q * M + rem, pos


@njit(cache=True)
def _golomb_parameter(count, remaining):
    if count >= remaining:
        return 1
    theta = 1.0 - count / remaining
    M = math.ceil(math.log(1.0 + theta) / -math.log(theta))
    return max(1, int(M))


@njit(cache=True)
def _zigzag(a):
    return 2 * a if a >= 0 else -2 * a - 1


@njit(cache=True)
def _unzigzag(u):
    return u // 2 if u % 2 == 0 else -(u + 1) // 2


# ---------------------------------------------------------------------------------------------
# the vector code
# ---------------------------------------------------------------------------------------------
@njit(cache=True)
def _write_levels(bits, norm_bits, z, symbols, counts, implicit, write):
    d = z.size
    pos = _put(bits, 0, norm_bits, _NORM_BITS, write)
    pos = _put_gamma(bits, pos, _zigzag(implicit) + 1, write)
    pos = _put_delta(bits, pos, symbols.size + 1, write)
    free = np.arange(d)
    n_free = d
    for k in range(symbols.size):
        a = symbols[k]
        pos = _put_gamma(bits, pos, _zigzag(a) + 1, write)
        pos = _put_delta(bits, pos, counts[k], write)
        M = _golomb_parameter(counts[k], n_free)
        run = 0
        kept = 0
        for idx in range(n_free):
            p = free[idx]
            if z[p] == a:
                pos = _put_golomb(bits, pos, run, M, write)
                run = 0
            else:
                free[kept] = p
                kept += 1
                run += 1
        n_free = kept
    return pos


@njit(cache=True)
def _read_levels(bits, d):
    norm_bits, pos = _get(bits, 0, _NORM_BITS)
    u, pos = _get_gamma(bits, pos)
    implicit = _unzigzag(u - 1)
    n_symbols, pos = _get_delta(bits, pos)
    n_symbols -= 1
    z = np.empty(d, dtype=np.int64)
    assigned = np.zeros(d, dtype=np.bool_)
    free = np.arange(d)
    n_free = d
    for _ in range(n_symbols):
        u, pos = _get_gamma(bits, pos)
        a = _unzigzag(u - 1)
        count, pos = _get_delta(bits, pos)
        if count > n_free:
            raise ValueError("corrupt bitstream: a symbol count exceeds the free positions")
        M = _golomb_parameter(count, n_free)
        rank = -1
        for _ in range(count):
            run, pos = _get_golomb(bits, pos, M)
            rank += run + 1
            if rank >= n_free:
                raise ValueError("corrupt bitstream: a run goes past the end of the vector")
            z[free[rank]] = a
            assigned[free[rank]] = True
        kept = 0
        for idx in range(n_free):
            if not assigned[free[idx]]:
                free[kept] = free[idx]
                kept += 1
        n_free = kept
    for idx in range(n_free):
        z[free[idx]] = implicit
    return norm_bits, z, pos


def _symbol_table(z):
    values, counts = np.unique(z, return_counts=True)
    zz = np.where(values >= 0, 2 * values, -2 * values - 1)
    order = np.lexsort((zz, -counts))  # decreasing frequency, ties by zigzag value
    values, counts = values[order], counts[order]
    return values[0], values[1:].copy(), counts[1:].copy()


def _float32_bits(norm):
    return int(np.array(norm, dtype=">f4").view(">u4")[()])


def _bits_float32(word):
    return float(np.array(word, dtype=">u4").view(">f4")[()])


def _as_levels(levels):
    z = np.asarray(levels)
    if z.ndim != 1:
        raise ValueError(f"levels must be a 1-D integer array, got shape {z.shape}")
    if z.size and not np.issubdtype(z.dtype, np.integer):
        raise ValueError(f"levels must be integers, got dtype {z.dtype}")
    if z.size and np.max(np.abs(z.astype(np.int64))) >= 2 ** 61:
        raise ValueError("levels must lie in (-2**61, 2**61)")
    return z.astype(np.int64, copy=False)


def encode_levels(levels, norm=0.0):
    """Encode an integer vector and a float32 norm into bytes (the Malcom-PSGD message).

    Parameters
    ----------
    levels : array-like of int, shape (d,)
        The quantisation levels ``z`` (any integers of magnitude below ``2**61``).
    norm : float
        Scale sent in the 32-bit header (rounded to float32).

    Returns
    -------
    bytes
        The bitstream described in the module docstring; ``8 * len(result)`` is the number
        of bits the message costs.
    """
    z = _as_levels(levels)
    if z.size == 0:
        raise ValueError("cannot encode an empty vector")
    implicit, symbols, counts = _symbol_table(z)
    word = _float32_bits(norm)
    empty = np.zeros(0, dtype=np.uint8)
    n_bits = _write_levels(empty, word, z, symbols, counts, implicit, False)
    bits = np.zeros(n_bits, dtype=np.uint8)
    _write_levels(bits, word, z, symbols, counts, implicit, True)
    return np.packbits(bits).tobytes()


def decode_levels(payload, dim):
    """Inverse of :func:`encode_levels`: ``(norm, levels)`` from the bytes and ``d``.

    Raises
    ------
    ValueError
        If the bytes are truncated or do not describe a vector of length ``dim``.
    """
    if dim < 1:
        raise ValueError(f"dim must be >= 1, got {dim}")
    bits = np.unpackbits(np.frombuffer(payload, dtype=np.uint8))
    word, z, end = _read_levels(bits, int(dim))
    if len(payload) != (end + 7) // 8:
        raise ValueError(f"bitstream has {len(payload)} bytes, the code ended after {end} bits")
    return _bits_float32(word), z


def entropy_bound_bits(levels):
    """``d * H(z)`` in bits, ``H`` the empirical entropy of the symbols of ``z``.

    The ideal length of ``z`` under its own symbol frequencies: the reference the
    encoder's output is compared with (the encoder also pays for the 32-bit norm and the
    symbol table, and Golomb codes are slightly above the entropy of the runs).
    """
    z = _as_levels(levels)
    _, counts = np.unique(z, return_counts=True)
    p = counts / z.size
    return float(-(counts * np.log2(p)).sum())


def golomb_parameter(count, remaining):
    """Optimal Golomb parameter for ``count`` positions among ``remaining`` (see above)."""
    if not 0 < count <= remaining:
        raise ValueError(f"need 0 < count <= remaining, got count={count}, remaining={remaining}")
    return int(_golomb_parameter(int(count), int(remaining)))


# ---------------------------------------------------------------------------------------------
# sequences of integers with one code (exposed for tests and for other coders)
# ---------------------------------------------------------------------------------------------
@njit(cache=True)
def _write_sequence(bits, values, code, M, write):
    pos = 0
    for v in values:
        if code == 0:
            pos = _put_gamma(bits, pos, v, write)
        elif code == 1:
            pos = _put_delta(bits, pos, v, write)
        else:
            pos = _put_golomb(bits, pos, v, M, write)
    return pos


@njit(cache=True)
def _read_sequence(bits, count, code, M):
    out = np.empty(count, dtype=np.int64)
    pos = 0
    for k in range(count):
        if code == 0:
            out[k], pos = _get_gamma(bits, pos)
        elif code == 1:
            out[k], pos = _get_delta(bits, pos)
        else:
            out[k], pos = _get_golomb(bits, pos, M)
    return out


def _code_id(code, M):
    if code not in _CODES:
        raise ValueError(f"code must be one of {sorted(_CODES)}, got {code!r}")
    if code == "golomb" and (M is None or M < 1):
        raise ValueError(f"the Golomb code needs a parameter M >= 1, got {M!r}")
    return _CODES[code], int(M or 1)


def encode_integers(values, code, M=None):
    """Code a sequence with Elias-gamma, Elias-delta (``values >= 1``) or Golomb(M) (``>= 0``).

    Returns ``(payload, n_bits)``: the bytes and the exact code length before padding.
    """
    code_id, M = _code_id(code, M)
    v = np.asarray(values, dtype=np.int64).ravel()
    low = 0 if code == "golomb" else 1
    if v.size and (v.min() < low or v.max() >= 2 ** 62):
        raise ValueError(f"{code} codes integers in [{low}, 2**62)")
    n_bits = _write_sequence(np.zeros(0, dtype=np.uint8), v, code_id, M, False)
    bits = np.zeros(n_bits, dtype=np.uint8)
    _write_sequence(bits, v, code_id, M, True)
    return np.packbits(bits).tobytes(), int(n_bits)


def decode_integers(payload, count, code, M=None):
    """Inverse of :func:`encode_integers` for ``count`` values."""
    code_id, M = _code_id(code, M)
    bits = np.unpackbits(np.frombuffer(payload, dtype=np.uint8))
    return _read_sequence(bits, int(count), code_id, M)


# ---------------------------------------------------------------------------------------------
# fixed-length code (the CHOCO-SGD baseline)
# ---------------------------------------------------------------------------------------------
def fixed_length_width(s):
    """Bits per coordinate of :func:`encode_fixed_length`: ``ceil(log2(2s + 1))``."""
    return int(2 * s).bit_length()


def encode_fixed_length(levels, s, norm=0.0):
    """32-bit norm, then every level ``z_k in [-s, s]`` as ``z_k + s`` in a fixed width.

    This is how the CHOCO-SGD authors count the bits of a quantised vector (a fixed
    number of bits per coordinate), written out as a real bitstream:
    ``32 + d * ceil(log2(2s + 1))`` bits, padded to whole bytes.
    """
    z = _as_levels(levels)
    if z.size and np.max(np.abs(z)) > s:
        raise ValueError(f"levels outside [-{s}, {s}]")
    width = fixed_length_width(s)
    shifts = np.arange(width - 1, -1, -1)
    body = ((z + s)[:, None] >> shifts) & 1
    head = (_float32_bits(norm) >> np.arange(_NORM_BITS - 1, -1, -1)) & 1
    return np.packbits(np.concatenate([head, body.ravel()]).astype(np.uint8)).tobytes()


def decode_fixed_length(payload, dim, s):
    """Inverse of :func:`encode_fixed_length`: ``(norm, levels)``."""
    width = fixed_length_width(s)
    n_bits = _NORM_BITS + dim * width
    if len(payload) != (n_bits + 7) // 8:
        raise ValueError(f"fixed-length message of {len(payload)} bytes, expected "
                         f"{(n_bits + 7) // 8} for d={dim}, s={s}")
    bits = np.unpackbits(np.frombuffer(payload, dtype=np.uint8))[:n_bits].astype(np.int64)
    word = int(bits[:_NORM_BITS] @ (1 << np.arange(_NORM_BITS - 1, -1, -1)))
    body = bits[_NORM_BITS:].reshape(dim, width) @ (1 << np.arange(width - 1, -1, -1))
    return _bits_float32(word), body - s
