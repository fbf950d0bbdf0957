"""BitMoD's unified bit-serial term: ``v = (-1)^sign * man * 2^(exp + bsig)`` (HPCA'25 §IV-A).

Each cycle a PE lane receives one term per weight: ``sign`` (1 bit), ``exp`` (2 bits), ``man``
(1 bit, 0 for a zero term) and a ``bsig`` shared by the cycle.

* **INT-k / BFP mantissas** (two's complement code ``c``, ``|c| < 2^(k-1)``): radix-4 Booth digits
  ``d_i = -2 b_(2i+1) + b_(2i) + b_(2i-1)`` in ``{-2..2}``, ``i = 0..ceil(k/2)-1``; digit ``i`` is
  issued with ``bsig = 2i``, most significant first: ``man = d != 0``, ``exp = 1 if |d| == 2``.
* **FP3/FP4 and BitMoD's special values** (table values, multiples of 1/2 up to 8): as 4.1
  sign-magnitude fixed point they have at most two '1' bits. Cycle 0 (``bsig = 0``) carries the
  leading one when it is at position >= 0 (``exp`` = its position 0..3); cycle 1 (``bsig = -1``)
  carries the other one (position -1..2, ``exp`` = position + 1), or the single bit of 0.5.
"""

from __future__ import annotations

import numpy as np

from archsim.errors import InputError

FP_TERMS = 2
FP_BSIG = (0, -1)


def booth_digits(codes: np.ndarray, bits: int) -> np.ndarray:
    """Radix-4 Booth digits of ``bits``-bit two's complement ``codes``: shape ``(n_digits, ...)``,
    least significant digit first, ``sum_i d_i 4^i == codes``."""
    c = np.asarray(codes, dtype=np.int64)
    n = -(-bits // 2)
    lo, hi = -(1 << (bits - 1)), (1 << (bits - 1)) - 1
    if c.size and (c.min() < lo or c.max() > hi):
        raise InputError(None, "codes", f"{bits}-bit two's complement values ({lo}..{hi})", (int(c.min()), int(c.max())))
    u = c & ((1 << (2 * n + 1)) - 1)  # sign-extended to 2n+1 bits (numpy & on negatives is two's complement)

    def bit(j):
        return (u >> j) & 1 if j >= 0 else np.zeros_like(u)

    return np.stack([-2 * bit(2 * i + 1) + bit(2 * i) + bit(2 * i - 1) for i in range(n)])


def int_terms(codes: np.ndarray, bits: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``(sign, exp, man, bsig)`` for INT codes, issue order (most significant digit first):
    ``sign/exp/man`` have shape ``(terms, ...)``, ``bsig`` shape ``(terms,)``."""
    d = booth_digits(codes, bits)[::-1]
    n = d.shape[0]
    sign = (d < 0).astype(np.int64)
    man = (d != 0).astype(np.int64)
    exp = (np.abs(d) == 2).astype(np.int64)
    bsig = 2 * np.arange(n - 1, -1, -1, dtype=np.int64)
    return sign, exp, man, bsig


def fp_terms(values: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``(sign, exp, man, bsig)`` for FP3/FP4/BitMoD table values (element domain)."""
    v = np.asarray(values, dtype=np.float64)
    u = np.abs(v) * 2
    ui = np.rint(u).astype(np.int64)
    if np.any(ui != u) or np.any(ui > 16):
        raise InputError(None, "values", "multiples of 1/2 up to 8 (4.1 fixed point)", v[(ui != u) | (ui > 16)][:4])
    ones = np.zeros_like(ui)
    for j in range(5):
        ones += (ui >> j) & 1
    if np.any(ones > 2):
        raise InputError(None, "values", "values with at most two '1' bits in 4.1 fixed point", v[ones > 2][:4])
    # positions in value units: bit j of ui is 2^(j-1)
    top = np.where(ui > 0, np.floor(np.log2(np.maximum(ui, 1))).astype(np.int64) - 1, -2)
    rest = ui - np.where(ui > 0, 1 << (top + 1).clip(0), 0)
    low = np.where(rest > 0, np.floor(np.log2(np.maximum(rest, 1))).astype(np.int64) - 1, -2)
    # cycle 0 gets the leading one at position >= 0; cycle 1 the other one (or the lone 0.5)
    c0_pos = np.where(top >= 0, top, -2)
    c1_pos = np.where(top >= 0, low, top)
    sign = np.broadcast_to((v < 0).astype(np.int64), (2, *v.shape)).copy()
    man = np.stack([(c0_pos >= 0), (c1_pos >= -1)]).astype(np.int64)
    exp = np.stack([np.where(c0_pos >= 0, c0_pos, 0), np.where(c1_pos >= -1, c1_pos + 1, 0)]).astype(np.int64)
    return sign, exp, man, np.asarray(FP_BSIG, dtype=np.int64)


def term_values(sign: np.ndarray, exp: np.ndarray, man: np.ndarray, bsig: np.ndarray) -> np.ndarray:
    """Sum of the terms over the issue axis (0): the value each weight stands for."""
    shape = (-1,) + (1,) * (sign.ndim - 1)
    return np.sum(np.where(sign == 1, -1.0, 1.0) * man * np.ldexp(1.0, exp + bsig.reshape(shape)), axis=0)
