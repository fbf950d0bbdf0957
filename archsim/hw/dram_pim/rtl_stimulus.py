"""Stimulus for ``rtl/pim_mac``: directed command sequences and seeded random ones (no cocotb).

A cycle's inputs are ``{"cmd", "last", "w", "x"}`` (BF16 bit patterns, ``lanes`` each). Directed,
in this order (each worked out by hand, see ``expected``):

1. one burst whose tree rounds up: lane 0 = 1.0 x 1.0, lane 1 = (1.5 x 2^-12) x 2^-12 = 1.5 x 2^-24
   = 0.75 ulp of 1.0: the sum is 1 + 2^-23 (0x3F800001); truncation would give 1.0
2. 16 lanes of 1.0 x 2.0 = 32.0 (0x42000000), read out three cycles after its result is ready
3. exact cancellation: 8 lanes of 3.0 and 8 of -3.0 -> +0
4. signed zeros: -0 x 1.0 everywhere -> the tree gives -0, the accumulator +0 + -0 = +0
5. an output of four bursts of 0.5 x 0.25 = 0.125 per lane, the last with a subnormal (zero) input
   in lane 0: (4 lanes - 1) x 0.125 (7.875 for 16 lanes)
6. a second result before the first is read: ``overrun``; the read-out returns the second

then random cycles: MAC (60 %, ``last`` 25 %), RD (20 %), NOP, BF16 values with exponents within
+-16 (so no result approaches 2^-126), zeros and subnormal inputs now and then.
"""

from __future__ import annotations

import numpy as np

from archsim.hw.dram_pim.unit import MAC, NOP, RD

ONE, TWO, HALF, QUARTER, THREE = 0x3F80, 0x4000, 0x3F00, 0x3E80, 0x4040
NEG = 0x8000


def bf16(sign: int, exp: int, man: int) -> int:
    """A BF16 pattern from its sign, unbiased exponent and 7-bit mantissa."""
    return (sign << 15) | ((exp + 127) << 7) | man


def idle(lanes: int) -> dict:
    return {"cmd": NOP, "last": 0, "w": [0] * lanes, "x": [0] * lanes}


def _mac(w, x, last):
    return {"cmd": MAC, "last": int(last), "w": list(w), "x": list(x)}


def _rd(lanes: int) -> dict:
    return {**idle(lanes), "cmd": RD}


def directed(lanes: int) -> tuple[list[dict], list[int]]:
    """The directed cycles and the FP32 results they read out, in order (module docstring)."""
    z = [0] * lanes
    seq: list[dict] = []
    want: list[int] = []
    w = z.copy()
    x = z.copy()
    w[0], x[0] = ONE, ONE
    w[1], x[1] = bf16(0, -12, 0x40), bf16(0, -12, 0)
    seq += [_mac(w, x, 1), idle(lanes), idle(lanes), _rd(lanes)]
    want.append(0x3F800001)
    seq += [_mac([ONE] * lanes, [TWO] * lanes, 1), idle(lanes), idle(lanes), idle(lanes), idle(lanes), _rd(lanes)]
    want.append(0x40000000 + ((lanes.bit_length() - 1) << 23))  # 2 x lanes = 2^(log2 lanes + 1)
    half = lanes // 2
    seq += [_mac([THREE] * half + [THREE | NEG] * half, [ONE] * lanes, 1), idle(lanes), idle(lanes), _rd(lanes)]
    want.append(0)
    seq += [_mac([NEG] * lanes, [ONE] * lanes, 1), idle(lanes), idle(lanes), _rd(lanes)]
    want.append(0)
    sub = [HALF] * lanes
    sub[0] = 0x0001  # a subnormal BF16: reads as zero
    seq += [_mac([HALF] * lanes, [QUARTER] * lanes, 0), _mac([HALF] * lanes, [QUARTER] * lanes, 0),
            _mac([HALF] * lanes, [QUARTER] * lanes, 0), _mac(sub, [QUARTER] * lanes, 1), idle(lanes), idle(lanes),
            _rd(lanes)]
    # 3 x lanes x 0.125 + (lanes - 1) x 0.125
    want.append(int(np.float32((4 * lanes - 1) * 0.125).view(np.uint32)))
    seq += [_mac([ONE] * lanes, [ONE] * lanes, 1), _mac([ONE] * lanes, [TWO] * lanes, 1), idle(lanes), idle(lanes),
            idle(lanes), _rd(lanes), idle(lanes), _rd(lanes)]
    want.append(int(np.float32(2 * lanes).view(np.uint32)))
    return seq, want


def _value(rng: np.random.Generator) -> int:
    r = rng.random()
    if r < 0.05:
        return int(rng.integers(0, 2)) << 15  # +-0
    if r < 0.07:
        return (int(rng.integers(0, 2)) << 15) | int(rng.integers(1, 128))  # subnormal: zero
    return bf16(int(rng.integers(0, 2)), int(rng.integers(-16, 17)), int(rng.integers(0, 128)))


def random_cycles(lanes: int, seed: int, n: int) -> list[dict]:
    rng = np.random.default_rng([seed, 6])
    out = []
    for _ in range(n):
        r = rng.random()
        if r < 0.6:
            out.append(_mac([_value(rng) for _ in range(lanes)], [_value(rng) for _ in range(lanes)],
                            rng.random() < 0.25))
        elif r < 0.8:
            out.append(_rd(lanes))
        else:
            out.append(idle(lanes))
    return out


def reference_dot(bursts: list[dict]) -> float:
    """An output's exact value in float64 from its bursts (subnormal inputs as zero): the
    independent check of the results read out (FP32 rounding keeps them within a few ulps)."""
    from archsim.hw.dram_pim.unit import bf16_to_f32

    return float(sum(np.dot(bf16_to_f32(b["w"]).astype(np.float64), bf16_to_f32(b["x"]).astype(np.float64))
                     for b in bursts))
