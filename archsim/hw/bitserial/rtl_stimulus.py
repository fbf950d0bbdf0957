"""Stimulus for rtl/bitserial_pe: groups of weights (INT8/6/4/3 and FP3/FP4 with BitMoD's special
values) with FP16 activations and 8-bit scale codes, issued as per-cycle bit-term beats.

Expectations are independent of the PE model: each group's result is the exact integer
``sum (a * 2^25) * (2 w) * scale`` (units of 2^-26), and, for groups issued back to back, the
output cycles follow the closed form ``c_0 + sum_{j=1..g} max(c_j, S) + 2 + S`` (``c`` the group's
issue cycles, ``S`` the scale bits; BitMoD §IV-B: the dequantizer takes a group every ``S``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from archsim.hw.bitserial.pe import LANES, PIPELINE_CYCLES, fp16_units
from archsim.hw.bitserial.terms import fp_terms, int_terms

#: element values of FP3/FP4 and BitMoD's special values (4.1 fixed point, at most two '1' bits)
FP_VALUES = (0.0, 0.5, 1.0, 1.5, 2.0, 3.0, 4.0, 5.0, 6.0, 8.0)


@dataclass(frozen=True)
class PEGroup:
    """One quantization group: ``weights`` (INT codes, or FP element values when ``bits == 0``),
    FP16 activation bit patterns ``acts`` and the 8-bit ``scale`` code."""

    weights: np.ndarray
    acts: np.ndarray
    scale: int
    bits: int  # INT width; 0 for FP element values

    def terms(self):
        return fp_terms(self.weights) if self.bits == 0 else int_terms(self.weights, self.bits)

    @property
    def cycles(self) -> int:
        return len(self.weights) // LANES * self.terms()[3].shape[0]

    def partial_sum(self) -> int:
        """Exact group sum in units of 2^-26 (before the scale)."""
        two_w = np.rint(2 * np.asarray(self.weights, np.float64)).astype(np.int64)
        return int(sum(int(a) * int(w) for a, w in zip(fp16_units(self.acts), two_w)))

    def expected(self, dequant: bool) -> int:
        return self.partial_sum() * (self.scale if dequant else 1)


def beats(group: PEGroup) -> list[dict]:
    """The group's input beats: per step of 4 weights, one beat per term (most significant first)."""
    s, e, m, bsig = group.terms()
    out = []
    steps = len(group.weights) // LANES
    for st in range(steps):
        sl = slice(st * LANES, (st + 1) * LANES)
        for ti in range(len(bsig)):
            out.append({"in_valid": 1, "act": [int(x) for x in group.acts[sl]], "t_sign": [int(x) for x in s[ti, sl]],
                        "t_exp": [int(x) for x in e[ti, sl]], "t_man": [int(x) for x in m[ti, sl]],
                        "bsig": int(bsig[ti]), "group_end": int(st == steps - 1 and ti == len(bsig) - 1),
                        "scale": group.scale})
    return out


def idle_beat() -> dict:
    return {"in_valid": 0, "act": [0] * LANES, "t_sign": [0] * LANES, "t_exp": [0] * LANES, "t_man": [0] * LANES,
            "bsig": 0, "group_end": 0, "scale": 0}


def _fp16(values) -> np.ndarray:
    return np.asarray(values, np.float64).astype(np.float16).view(np.uint16).astype(np.int64)


def _random_acts(rng: np.random.Generator, n: int) -> np.ndarray:
    """Random finite FP16 patterns: every exponent 0..30 (subnormals included), some zeros."""
    sign = rng.integers(0, 2, n) << 15
    exp = rng.integers(0, 31, n) << 10
    frac = rng.integers(0, 1024, n)
    pat = sign | exp | frac
    pat[rng.random(n) < 0.05] = 0
    return pat.astype(np.int64)


def _random_group(rng: np.random.Generator, size: int) -> PEGroup:
    kind = rng.choice(["int8", "int6", "int4", "int3", "fp"])
    if kind == "fp":
        w = rng.choice(FP_VALUES, size) * rng.choice([-1.0, 1.0], size)
        return PEGroup(w, _random_acts(rng, size), int(rng.integers(0, 256)), 0)
    bits = int(kind[3:])
    q = 2 ** (bits - 1) - 1
    return PEGroup(rng.integers(-q, q + 1, size), _random_acts(rng, size), int(rng.integers(0, 256)), bits)


def directed_groups() -> list[PEGroup]:
    """Hand-picked groups issued back to back: INT8 with a negative term on the last lane first,
    groups shorter than the dequantizer (stalls), FP4 with special values, FP16 extremes."""
    return [
        PEGroup(np.array([1, -2, 3, -100, 127, -127, 0, 64]), _fp16([1.0, -2.0, 0.5, 3.0, 1.0, 1.0, 7.0, -0.25]), 3, 8),
        PEGroup(np.array([5, -6, 7, 1]), _fp16([2.0, 2.0, -2.0, 1024.0]), 255, 4),  # 2 cycles < 8: stall
        PEGroup(np.array([-31, 31, 2, -3]), _fp16([0.125, 8.0, -1.0, 3.0]), 1, 6),  # 3 cycles: stall
        PEGroup(np.array([8.0, -5.0, 0.5, 6.0, -8.0, 5.0, 1.5, 0.0]), _fp16([1.0, -1.0, 2.0, 0.5, 3.0, 3.0, 3.0, 3.0]),
                128, 0),
        PEGroup(np.array([127, -127, 1, -1]), _fp16([65504.0, -65504.0, 2.0**-24, -(2.0**-14)]), 200, 8),
        PEGroup(np.arange(-16, 16) % 7 - 3, _fp16(np.linspace(-4, 4, 32)), 77, 3),  # a longer group
    ]


def random_groups(seed: int, min_cycles: int) -> list[PEGroup]:
    rng = np.random.default_rng([seed, 11])
    out, total = [], 0
    while total < min_cycles:
        g = _random_group(rng, int(rng.choice([4, 8, 12, 16, 32, 64])))
        out.append(g)
        total += g.cycles
    return out


def closed_form_out_cycles(groups: list[PEGroup], scale_bits: int, dequant: bool) -> list[int]:
    """Output cycle of each group issued back to back from cycle 1 (no bubbles):
    ``c_0 + sum_{j=1..g} max(c_j, S) + pipeline + S`` (without dequantization: ``sum c + pipeline``)."""
    out, t = [], 0
    for i, g in enumerate(groups):
        c = g.cycles
        t += c if (i == 0 or not dequant) else max(c, scale_bits)
        out.append(t + PIPELINE_CYCLES + (scale_bits if dequant else 0))
    return out
