"""The PIM MAC unit at the cycle level: the oracle for ``rtl/pim_mac`` (no cocotb here).

One unit per bank (or per two banks). A MAC command brings a burst of ``lanes`` BF16 weights and
the matching ``lanes`` BF16 global-buffer inputs; three pipeline stages (``mac_pipeline_cycles`` = 3
in the dram_pim presets) multiply them exactly into FP32, sum the products with a pairwise adder
tree and add the sum to the accumulator, each add rounded to nearest even in FP32. The burst
marked ``last`` completes an output: its total goes to the result register and the accumulator
restarts at +0. RD (the RDMAC command) copies the result register to ``dout`` and frees it; a result
that arrives while the register is full and not being read sets the sticky ``overrun`` (the
executor's one-result-register rule prevents it).

Number rules, the RTL's: BF16 and FP32 without subnormals (an input with a zero exponent is zero;
a result below 2^-126 is zero with its sign); no infinities or NaNs as inputs; IEEE signed zeros
(x + (-x) = +0). FP32 adds use numpy's IEEE round-to-nearest-even; the flush is applied after each
operation, which equals the RTL's rounding everywhere except for results that round across 2^-126
(the bench keeps away from it: exponents within +-16).

:meth:`PimMacUnit.step` is one rising edge: inputs ``cmd`` (0 NOP, 1 MAC, 2 RD), ``last``, ``w``, ``x``
(BF16 bit patterns) -> every register after the edge, with the RTL's names (``dbg_`` dropped);
``dout`` is left out unless ``rd_valid``.
"""

from __future__ import annotations

import numpy as np

NOP, MAC, RD = 0, 1, 2
MIN_NORMAL = np.float32(2.0**-126)
#: registers of rtl/pim_mac (debug ports ``dbg_<name>``)
REGISTERS = ("s1_valid", "s1_last", "prod", "s2_valid", "s2_last", "sum", "acc")


def bf16_to_f32(bits) -> np.ndarray:
    """BF16 bit patterns -> float32 values (a zero exponent reads as a signed zero)."""
    b = np.asarray(bits, dtype=np.uint32) & 0xFFFF
    b = np.where((b & 0x7F80) == 0, b & 0x8000, b)
    return (b << 16).view(np.float32)


def f32_to_bits(v) -> np.ndarray:
    return np.asarray(v, dtype=np.float32).view(np.uint32)


def _flush(v: np.ndarray) -> np.ndarray:
    v = np.asarray(v, dtype=np.float32)
    tiny = (np.abs(v) < MIN_NORMAL) & (v != 0)
    return np.where(tiny, np.copysign(np.float32(0.0), v), v).astype(np.float32)


def fmul(a_bits, b_bits) -> np.ndarray:
    """Exact BF16 products in FP32 (flushed below 2^-126)."""
    with np.errstate(over="ignore", under="ignore"):
        return _flush(bf16_to_f32(a_bits) * bf16_to_f32(b_bits))


def fadd(a, b) -> np.ndarray:
    with np.errstate(over="ignore", under="ignore"):
        return _flush(np.asarray(a, np.float32) + np.asarray(b, np.float32))


def tree_sum(products: np.ndarray) -> np.float32:
    """Pairwise adder tree (heap order: node i adds nodes 2i+1 and 2i+2; the leaves are the lanes)."""
    n = len(products)
    tree = [np.float32(0)] * (2 * n - 1)
    tree[n - 1:] = [np.float32(p) for p in products]
    for i in range(n - 2, -1, -1):
        tree[i] = fadd(tree[2 * i + 1], tree[2 * i + 2])[()]
    return np.float32(tree[0])


class PimMacUnit:
    """Cycle-stepped model of ``rtl/pim_mac`` with ``lanes`` BF16 lanes (a power of two)."""

    def __init__(self, lanes: int = 16):
        if lanes < 2 or lanes & (lanes - 1):
            raise ValueError(f"lanes must be a power of two >= 2, got {lanes}")
        self.lanes = lanes
        self.reset()

    def reset(self) -> None:
        self.out_valid = self.rd_valid = self.overrun = 0
        self.out = self.dout = 0
        self.s1_valid = self.s1_last = self.s2_valid = self.s2_last = 0
        self.prod = np.zeros(self.lanes, dtype=np.int64)
        self.sum = 0
        self.acc = 0

    def state(self) -> dict:
        d = {"out_valid": self.out_valid, "out": self.out, "rd_valid": self.rd_valid}
        if self.rd_valid:
            d["dout"] = self.dout
        d.update(overrun=self.overrun, s1_valid=self.s1_valid, s1_last=self.s1_last, prod=self.prod.copy(),
                 s2_valid=self.s2_valid, s2_last=self.s2_last, sum=self.sum, acc=self.acc)
        return d

    def step(self, *, rst: int = 0, cmd: int = NOP, last: int = 0, w=None, x=None) -> dict:
        if rst:
            self.reset()
            return self.state()
        as_f32 = lambda bits: np.uint32(bits).view(np.float32)  # noqa: E731
        s2_done = self.s2_valid and self.s2_last
        rd = cmd == RD
        total = int(f32_to_bits(fadd(as_f32(self.acc), as_f32(self.sum))))
        # stage 3: the accumulator and the result register; the read-out sees the register before the edge
        read = int(rd and self.out_valid)
        new_dout = self.out if read else self.dout
        if s2_done and self.out_valid and not rd:
            self.overrun = 1
        new_out_valid = 1 if s2_done else (0 if rd else self.out_valid)
        if self.s2_valid:
            if self.s2_last:
                self.out = total
                self.acc = 0
            else:
                self.acc = total
        self.rd_valid, self.dout, self.out_valid = read, new_dout, new_out_valid
        # stage 2: the adder tree over the registered products
        if self.s1_valid:
            self.sum = int(f32_to_bits(tree_sum(self.prod.astype(np.uint32).view(np.float32))))
        self.s2_valid, self.s2_last = self.s1_valid, self.s1_last
        # stage 1: the products
        self.s1_valid = int(cmd == MAC)
        self.s1_last = int(cmd == MAC and bool(last))
        if cmd == MAC:
            self.prod = f32_to_bits(fmul(np.asarray(w), np.asarray(x))).astype(np.int64)
        return self.state()
