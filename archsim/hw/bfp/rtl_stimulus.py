"""Stimulus for rtl/bfp_dot: pairs of BFP blocks (sign-magnitude mantissas, stored exponents),
issued ``lanes`` elements per beat. The expectation of a random block pair comes from
:mod:`archsim.numerics` (quantize two random vectors) and :func:`archsim.hw.bfp.block_dot`;
directed blocks have their sums written out. A block's result is registered one edge after its
last beat."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from archsim.hw.bfp.dot import EXP_BIAS, block_dot, to_sign_magnitude
from archsim.numerics import BlockIntFormat


@dataclass(frozen=True)
class BlockPair:
    a: tuple[int, ...]  # signed mantissas
    b: tuple[int, ...]
    a_exp: int  # stored exponent E + 127 (0..254)
    b_exp: int
    expected_sum: int
    expected_exp: int


def pair_from_codes(a, b, ea: int, eb: int, p: int) -> BlockPair:
    """A block pair with its expectation written out: ``sum a_i b_i`` and ``E_a + E_b - 2 (p-2)``."""
    return BlockPair(tuple(int(x) for x in a), tuple(int(x) for x in b), ea + EXP_BIAS, eb + EXP_BIAS,
                     int(sum(int(x) * int(y) for x, y in zip(a, b))), ea + eb - 2 * (p - 2))


def directed_pairs(p: int, lanes: int, block: int) -> list[BlockPair]:
    top = 2 ** (p - 1) - 1
    n = block
    return [
        pair_from_codes([top] * n, [top] * n, 0, 0, p),  # largest sum: block * top^2
        pair_from_codes([top] * n, [-top] * n, 3, -5, p),  # most negative
        pair_from_codes([0] * n, [top] * n, -127, 127, p),  # a zero block (exponent -127), exponent extremes
        pair_from_codes([(-1) ** i * (i % (top + 1)) for i in range(lanes)], [1] * lanes, 127, 127, p),  # one beat
        pair_from_codes([1] * n, [-1] * n, -127, -127, p),
    ]


def random_pairs(p: int, lanes: int, block: int, seed: int, count: int) -> list[BlockPair]:
    """Random vectors with spread magnitudes quantized by the numerics BFP quantizer; blocks of
    ``lanes * k`` elements (``k`` random, at most ``block``)."""
    rng = np.random.default_rng([seed, p, lanes, block, 5])
    out = []
    for _ in range(count):
        n = lanes * int(rng.integers(1, block // lanes + 1))
        fmt = BlockIntFormat(f"bfp{p + 8}", mantissa_bits=p, block_size=n, rounding="even")
        qa = fmt.quantize(rng.standard_normal(n) * 2.0 ** float(rng.integers(-60, 60)))
        qb = fmt.quantize(rng.standard_normal(n) * 2.0 ** float(rng.integers(-60, 60)))
        s, e = block_dot(qa, qb)
        out.append(BlockPair(tuple(int(x) for x in qa.codes.ravel()), tuple(int(x) for x in qb.codes.ravel()),
                             int(qa.fields["exponent"][0]) + EXP_BIAS, int(qb.fields["exponent"][0]) + EXP_BIAS,
                             int(s[0]), int(e[0])))
    return out


def beats(pair: BlockPair, p: int, lanes: int) -> list[dict]:
    out = []
    n = len(pair.a)
    for i in range(0, n, lanes):
        out.append({"in_valid": 1, "a_m": [to_sign_magnitude(x, p) for x in pair.a[i:i + lanes]],
                    "b_m": [to_sign_magnitude(x, p) for x in pair.b[i:i + lanes]], "a_exp": pair.a_exp,
                    "b_exp": pair.b_exp, "last": int(i + lanes >= n)})
    return out


def idle_beat(lanes: int) -> dict:
    return {"in_valid": 0, "a_m": [0] * lanes, "b_m": [0] * lanes, "a_exp": 0, "b_exp": 0, "last": 0}
