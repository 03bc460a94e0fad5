r"""Compressors: what a node sends for a vector ``v``, as bytes, and what it decodes to.

Every compressor maps a float vector to a message (``bytes``) with
:meth:`Compressor.encode` and back with :meth:`Compressor.decode`. The decoded vector is
what the sender *and* its neighbours use (the sender decodes its own message too), so the
public copies of a gossip algorithm stay identical on every node, and the cost of a message
is ``8 * len(message)`` bits of real bytes.

The quantisers:

- :class:`QSGD`, the dithered (stochastic-rounding) quantiser of Alistarh, Grubic, Li,
  Tomioka & Vojnovic, "QSGD" (NeurIPS 2017), used by Malcom-PSGD and CHOCO-SGD. With
  ``s`` levels and ``u_k ~ U[0, 1)`` i.i.d.,

  .. math:: Q_s(v)_k = \|v\|_2 \, \mathrm{sign}(v_k) \, \ell_k / s, \qquad
            \ell_k = \lfloor s |v_k| / \|v\|_2 + u_k \rfloor \in \{0, \dots, s\},

  unbiased, with :math:`E\|Q_s(v) - v\|^2 \le \min(d/s^2, \sqrt{d}/s) \|v\|^2`.
  ``scaled=True`` divides by :math:`\tau = 1 + \min(d/s^2, \sqrt{d}/s)`, the biased
  variant of CHOCO-SGD (Koloskova, Stich & Jaggi, ICML 2019), a contraction:
  :math:`E\|Q(v)/\tau - v\|^2 \le (1 - 1/\tau) \|v\|^2`. The levels are sent with the
  entropy code of :mod:`sksafe.nn.coding` (``coding="entropy"``, Malcom-PSGD) or with a
  fixed number of bits per coordinate (``coding="fixed"``, as CHOCO-SGD counts them).
- :class:`TopK`, :class:`RandomK`: ``k`` coordinates as int32 index + float32 value
  (64 bits each, the count used by CHOCO-SGD);
- :class:`Sign`: ``(||v||_1 / d) sign(v)`` as one float32 and ``d`` sign bits
  (Karimireddy, Rebjock, Stich & Jaggi, "Error feedback fixes SignSGD", ICML 2019);
- :class:`Float32`: no compression, the vector in float32 (32 bits per coordinate).
"""
import numpy as np

from .coding import (decode_fixed_length, decode_levels, encode_fixed_length, encode_levels,
                     entropy_bound_bits)

__all__ = ["Compressor", "QSGD", "TopK", "RandomK", "Sign", "Float32", "qsgd_levels"]


def qsgd_levels(v, s, rng):
    """Dithered quantisation levels ``sign(v_k) l_k`` of ``v`` with ``s`` levels, and ``||v||``.

    Parameters
    ----------
    v : ndarray of shape (d,)
    s : int
        Number of levels (``>= 1``).
    rng : numpy.random.Generator
        Source of the dither ``u``; exactly ``d`` uniforms are drawn per call, also for
        ``v = 0``, so that the random stream does not depend on the data.

    Returns
    -------
    norm : float
        ``||v||_2``.
    levels : ndarray of int64, shape (d,)
    """
    v = np.asarray(v, dtype=np.float64)
    u = rng.random(v.size)
    norm = float(np.linalg.norm(v))
    if not np.isfinite(norm):
        raise ValueError("cannot quantise a vector with non-finite entries")
    if norm == 0.0:
        return 0.0, np.zeros(v.size, dtype=np.int64)
    # |v_k| / norm <= 1 up to rounding, which could otherwise give level s + 1
    magnitude = np.minimum(np.floor(s * (np.abs(v) / norm) + u), s).astype(np.int64)
    return norm, np.where(v < 0, -magnitude, magnitude)


class Compressor:
    """Base class: ``encode(v, rng) -> bytes`` and ``decode(message, dim) -> ndarray``.

    Subclasses may also define :meth:`entropy_bound`, the ideal length of a message's
    integer symbols, for reports.
    """

    def encode(self, v, rng):
        """The message for ``v`` (``rng``: a numpy Generator, used by random compressors)."""
        raise NotImplementedError

    def decode(self, message, dim):
        """The vector (float64, shape ``(dim,)``) that ``message`` stands for."""
        raise NotImplementedError

    def entropy_bound(self, message, dim):
        """``d H(z)`` of the message's integer symbols, or None where it does not apply."""
        return None

    def __repr__(self):
        params = ", ".join(f"{k}={v!r}" for k, v in vars(self).items() if not k.startswith("_"))
        return f"{type(self).__name__}({params})"


class QSGD(Compressor):
    """Dithered quantiser with ``s`` levels, sent entropy-coded or fixed-length.

    Parameters
    ----------
    s : int
        Number of quantisation levels, ``>= 1``.
    scaled : bool
        Divide by ``tau = 1 + min(d / s**2, sqrt(d) / s)`` (CHOCO-SGD's contraction).
    coding : {"entropy", "fixed"}
        ``"entropy"``: :func:`~sksafe.nn.coding.encode_levels` (Malcom-PSGD);
        ``"fixed"``: :func:`~sksafe.nn.coding.encode_fixed_length` (CHOCO-SGD).
    """

    def __init__(self, s=15, scaled=False, coding="entropy"):
        if int(s) != s or s < 1:
            raise ValueError(f"the number of quantisation levels s must be an integer >= 1, "
                             f"got {s!r}")
        if coding not in ("entropy", "fixed"):
            raise ValueError(f"coding must be 'entropy' or 'fixed', got {coding!r}")
        self.s = int(s)
        self.scaled = bool(scaled)
        self.coding = coding

    def variance_factor(self, dim):
        """``omega = min(d / s**2, sqrt(d) / s)``: ``E||Q(v) - v||^2 <= omega ||v||^2``."""
        return min(dim / self.s ** 2, np.sqrt(dim) / self.s)

    def encode(self, v, rng):
        norm, levels = qsgd_levels(v, self.s, rng)
        if self.coding == "entropy":
            return encode_levels(levels, norm)
        return encode_fixed_length(levels, self.s, norm)

    def decode_levels(self, message, dim):
        """``(norm, levels)`` of a message, before scaling."""
        if self.coding == "entropy":
            return decode_levels(message, dim)
        return decode_fixed_length(message, dim, self.s)

    def decode(self, message, dim):
        norm, levels = self.decode_levels(message, dim)
        scale = norm / self.s
        if self.scaled:
            scale /= 1.0 + self.variance_factor(dim)
        return scale * levels.astype(np.float64)

    def entropy_bound(self, message, dim):
        return entropy_bound_bits(self.decode_levels(message, dim)[1])


def _check_k(k):
    if int(k) != k or k < 1:
        raise ValueError(f"k must be an integer >= 1, got {k!r}")
    return int(k)


class _Sparsifier(Compressor):
    """``k`` coordinates sent as big-endian int32 indices followed by float32 values."""

    def __init__(self, k):
        self.k = _check_k(k)

    def _indices(self, v, rng):
        raise NotImplementedError

    def encode(self, v, rng):
        v = np.asarray(v, dtype=np.float64)
        idx = np.sort(self._indices(v, rng)[:min(self.k, v.size)])
        return idx.astype(">i4").tobytes() + v[idx].astype(">f4").tobytes()

    def decode(self, message, dim):
        k = min(self.k, dim)
        if len(message) != 8 * k:
            raise ValueError(f"message of {len(message)} bytes, expected {8 * k}")
        idx = np.frombuffer(message[:4 * k], dtype=">i4").astype(np.int64)
        out = np.zeros(dim)
        out[idx] = np.frombuffer(message[4 * k:], dtype=">f4")
        return out


class TopK(_Sparsifier):
    """The ``k`` coordinates of largest magnitude (biased; Stich, Cordonnier & Jaggi 2018)."""

    def _indices(self, v, rng):
        if self.k >= v.size:
            return np.arange(v.size)
        return np.argpartition(-np.abs(v), self.k - 1)[:self.k]


class RandomK(_Sparsifier):
    """``k`` coordinates drawn uniformly without replacement, unscaled (biased, contraction)."""

    def _indices(self, v, rng):
        return rng.permutation(v.size)[:self.k]


class Sign(Compressor):
    """``(||v||_1 / d) sign(v)``: one float32 scale and one bit per coordinate."""

    def encode(self, v, rng):
        v = np.asarray(v, dtype=np.float64)
        scale = np.array([np.abs(v).sum() / v.size], dtype=">f4")
        return scale.tobytes() + np.packbits(v >= 0).tobytes()

    def decode(self, message, dim):
        if len(message) != 4 + (dim + 7) // 8:
            raise ValueError(f"message of {len(message)} bytes, expected {4 + (dim + 7) // 8}")
        scale = float(np.frombuffer(message[:4], dtype=">f4")[0])
        positive = np.unpackbits(np.frombuffer(message[4:], dtype=np.uint8))[:dim]
        return scale * (2.0 * positive - 1.0)


class Float32(Compressor):
    """No compression: every coordinate as a float32 (``32 d`` bits)."""

    def encode(self, v, rng):
        return np.asarray(v, dtype=">f4").tobytes()

    def decode(self, message, dim):
        if len(message) != 4 * dim:
            raise ValueError(f"message of {len(message)} bytes, expected {4 * dim}")
        return np.frombuffer(message, dtype=">f4").astype(np.float64)
