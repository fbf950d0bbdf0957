"""The BFP dot-product unit: integer mantissa MACs per block, one exponent add per block.

Two blocks ``a`` and ``b`` of a BFP format with ``p``-bit sign-magnitude mantissas ``m`` and
8-bit shared exponents ``E`` (:mod:`archsim.numerics.block`) hold ``a_i = m_a,i 2^(E_a - (p-2))``;
their dot product is exactly ``S * 2^e`` with the integer ``S = sum_i m_a,i m_b,i`` and
``e = E_a + E_b - 2 (p - 2)``. The unit computes ``S`` with ``lanes`` multipliers per cycle
(``block / lanes`` beats per block) into an accumulator of ``2 (p - 1) + ceil(log2 block) + 1``
bits and outputs ``(S, e)`` per block: no rounding anywhere, so hardware and this model agree
bit for bit. Converting ``S 2^e`` to FP32 or summing blocks of different exponents is the job of
the unit that consumes the output.

Timing (:class:`BfpDotModel`, the oracle for ``rtl/bfp_dot``): stage 1 multiplies one beat and
sums it with an adder tree, stage 2 accumulates; the result of a block whose last beat enters at
the edge ending cycle ``t`` is registered at the edge ending cycle ``t + 1`` (``pipeline_cycles =
2`` edges from the last beat's). A new block can start the cycle after the previous block's last
beat (back-to-back blocks, one beat per cycle).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from archsim.errors import InputError
from archsim.numerics.base import Quantized
from archsim.numerics.block import BlockIntFormat

#: E8M0-style stored exponent = E + EXP_BIAS (0..254)
EXP_BIAS = 127


@dataclass(frozen=True)
class BfpDotSpec:
    """A BFP dot-product unit: ``mantissa_bits`` (p, sign included), ``block_size`` elements
    per block, ``lanes`` multipliers per cycle (a divisor of the block)."""

    mantissa_bits: int = 4
    block_size: int = 32
    lanes: int = 8
    pipeline_cycles: int = 2

    def __post_init__(self) -> None:
        if not 2 <= self.mantissa_bits <= 24:
            raise InputError(None, "mantissa_bits", "2..24", self.mantissa_bits)
        if self.block_size < 1 or self.lanes < 1 or self.block_size % self.lanes:
            raise InputError(None, "lanes", f"a divisor of the block size {self.block_size}", self.lanes)

    @property
    def beats_per_block(self) -> int:
        return self.block_size // self.lanes

    @property
    def product_bits(self) -> int:
        """Signed bits of one mantissa product: magnitude ``(2^(p-1)-1)^2`` plus sign."""
        return 2 * (self.mantissa_bits - 1) + 1

    @property
    def accumulator_bits(self) -> int:
        """Signed accumulator width that holds a block sum without overflow."""
        return 2 * (self.mantissa_bits - 1) + math.ceil(math.log2(self.block_size)) + 1

    def cycles(self, blocks: int) -> int:
        """Cycles from the first beat of the first block to the last block's result."""
        return blocks * self.beats_per_block + self.pipeline_cycles if blocks else 0


def block_dot(a: Quantized, b: Quantized) -> tuple[np.ndarray, np.ndarray]:
    """Per-block ``(S, e)`` of two BFP-quantized tensors of the same shape and format
    (blocks along the same axis): ``sum(a * b)`` over a block is exactly ``S * 2^e``."""
    fa, fb = a.format, b.format
    if not isinstance(fa, BlockIntFormat) or not isinstance(fb, BlockIntFormat):
        raise InputError(None, "format", "BFP / MXINT block formats", (fa.name, fb.name))
    if a.codes.shape != b.codes.shape or fa.group_size != fb.group_size:
        raise InputError(None, "shape", "two tensors blocked the same way", (a.codes.shape, b.codes.shape))
    real = a.grouping.mask()  # a partial last block is padded: padding contributes nothing
    s = np.sum(a.codes.astype(np.int64) * b.codes.astype(np.int64) * real, axis=-1)
    e = fa.step_exponent(a.fields["exponent"]) + fb.step_exponent(b.fields["exponent"])
    return s, e


def exact_sum(s: np.ndarray, e: np.ndarray) -> float:
    """``sum_i s_i 2^(e_i)`` computed exactly in integers, then rounded once to float64."""
    s_l, e_l = [int(v) for v in np.ravel(s)], [int(v) for v in np.ravel(e)]
    if not s_l:
        return 0.0
    lo = min(e_l)
    total = sum(si << (ei - lo) for si, ei in zip(s_l, e_l))
    return math.ldexp(float(total), lo) if abs(total) < 2**1000 else float(total) * 2.0**lo


# -- the cycle model (oracle for rtl/) ---------------------------------------------------------------
def to_sign_magnitude(m: int, bits: int) -> int:
    """``bits``-wide sign-magnitude pattern of the integer ``m`` (sign is the top bit)."""
    mag = abs(int(m))
    if mag >= 1 << (bits - 1):
        raise InputError(None, "mantissa", f"|m| < 2^{bits - 1}", m)
    return ((1 << (bits - 1)) if m < 0 else 0) | mag


def from_sign_magnitude(pattern: int, bits: int) -> int:
    mag = pattern & ((1 << (bits - 1)) - 1)
    return -mag if pattern >> (bits - 1) & 1 else mag


#: registers of rtl/bfp_dot (debug ports ``dbg_<name>``)
DOT_REGISTERS = ("s1_valid", "s1_last", "s1_sum", "s1_exp", "acc", "acc_exp", "first")


class BfpDotModel:
    """Cycle-stepped BFP dot-product unit (the model of ``rtl/bfp_dot``). :meth:`step` is one
    rising edge: it takes the input ports before the edge and returns every register after it,
    with the RTL's names (``out_sum``/``out_exp`` only when ``out_valid``).

    Inputs per beat: ``a_m``/``b_m`` (``lanes`` sign-magnitude patterns of ``p`` bits),
    ``a_exp``/``b_exp`` (stored exponents ``E + 127``, used on a block's first beat) and
    ``last`` (1 on a block's last beat). ``in_valid = 0`` cycles are bubbles.
    """

    def __init__(self, spec: BfpDotSpec):
        self.spec = spec
        self.reset()

    def reset(self) -> None:
        self.s1_valid = self.s1_last = 0
        self.s1_sum = self.s1_exp = 0
        self.acc = 0
        self.acc_exp = 0
        self.first = 1
        self.out_valid, self.out_sum, self.out_exp = 0, 0, 0

    def state(self) -> dict:
        d = {"out_valid": self.out_valid}
        if self.out_valid:
            d.update(out_sum=self.out_sum, out_exp=self.out_exp)
        d.update({name: getattr(self, name) for name in DOT_REGISTERS})
        return d

    def step(self, *, rst: int = 0, in_valid: int = 0, a_m=(), b_m=(), a_exp: int = 0, b_exp: int = 0,
             last: int = 0) -> dict:
        if rst:
            self.reset()
            return self.state()
        p, lanes = self.spec.mantissa_bits, self.spec.lanes
        # stage 2 (uses stage-1 registers from the previous cycle)
        self.out_valid = 0
        if self.s1_valid:
            total = self.acc + self.s1_sum
            if self.s1_last:
                self.out_valid, self.out_sum, self.out_exp = 1, total, self.s1_exp
                self.acc = 0
            else:
                self.acc = total
        # stage 1
        if in_valid:
            if len(a_m) != lanes or len(b_m) != lanes:
                raise InputError(None, "a_m/b_m", f"{lanes} mantissas per beat", (len(a_m), len(b_m)))
            prod = sum(from_sign_magnitude(x, p) * from_sign_magnitude(y, p) for x, y in zip(a_m, b_m))
            e_now = (a_exp - EXP_BIAS) + (b_exp - EXP_BIAS) - 2 * (p - 2)
            e_use = e_now if self.first else self.acc_exp
            if self.first:
                self.acc_exp = e_now
            self.s1_valid, self.s1_last, self.s1_sum, self.s1_exp = 1, int(bool(last)), prod, e_use
            self.first = int(bool(last))
        else:
            self.s1_valid = 0
        return self.state()
