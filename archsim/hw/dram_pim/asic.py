"""The ASIC's latency model: pipelined function units, ``asic_lanes`` elements per cycle, its own clock.

PIM-GPT's ASIC (TSMC 28 nm, 1 GHz) computes the non-linear functions with Taylor series (exp for
softmax and GELU), Newton-Raphson reciprocals and the fast inverse square root (LayerNorm), adds
partial sums and moves data (papers.md section 4.1). Here every operation is a sequence of
*passes*; a pass streams ``n`` elements through ``asic_lanes`` pipelined lanes:

    cycles(pass) = ceil(n / lanes) + depth(pass)

with depths (``P`` = ``asic_pipeline_cycles``, ``T`` = ``asic_taylor_terms``, ``N`` =
``asic_newton_iterations``): an add or multiply ``P``; ``exp`` ``P + T + 2`` (range reduction,
Horner stages, scaling by 2^k); reciprocal ``P + 1 + 2N`` (seed, then two FMAs per iteration);
inverse square root ``P + 2 + 3N`` (bit-trick seed, three FMAs per iteration); a reduction
``P + ceil(log2 lanes)`` (adder tree) per pass. Energy counts element *operations* (one per
Horner stage, Newton FMA, add, ...), priced per op.

Operations (``n`` elements, ``rows`` independent rows):

* LayerNorm: mean (reduce), centred squares (pass) and their sum (reduce), inverse square root per
  row, normalise with scale and shift (2 ops); RMSNorm skips the mean
* softmax (scaled scores): scale (1), max (reduce), subtract and exp, sum (reduce), reciprocal per
  row, multiply
* GELU (tanh form), SiLU, ReLU on VMM outputs; residual adds; rotary embedding (3 ops)
* VMM results: partial sums of K-tiles and the bias add, streamed as the results arrive
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from archsim.hw.dram_pim.spec import PimSpec


@dataclass(frozen=True)
class AsicWork:
    """Cycles (ASIC clock) and element operations of one ASIC task."""

    cycles: int
    ops: int
    what: str = ""

    def __add__(self, other: AsicWork) -> AsicWork:
        return AsicWork(self.cycles + other.cycles, self.ops + other.ops, self.what or other.what)


NOTHING = AsicWork(0, 0)


class Asic:
    def __init__(self, spec: PimSpec):
        self.spec = spec
        self.lanes = spec.asic_lanes
        p, t, n = spec.asic_pipeline_cycles, spec.asic_taylor_terms, spec.asic_newton_iterations
        self.d_op = p
        self.d_exp, self.ops_exp = p + t + 2, t + 2
        self.d_recip, self.ops_recip = p + 1 + 2 * n, 1 + 2 * n
        self.d_rsqrt, self.ops_rsqrt = p + 2 + 3 * n, 2 + 3 * n
        self.d_reduce = p + math.ceil(math.log2(self.lanes)) if self.lanes > 1 else p
        #: GELU, tanh form: x^3 (2), FMA, scale, exp(2y), +1, reciprocal, FMA, two multiplies
        self.ops_gelu = 8 + self.ops_exp + self.ops_recip
        self.d_gelu = p + 8 + self.d_exp + self.d_recip
        #: SiLU: x / (1 + exp(-x)): negate, exp, +1, reciprocal, multiply
        self.ops_silu = 3 + self.ops_exp + self.ops_recip
        self.d_silu = p + 3 + self.d_exp + self.d_recip

    @property
    def clock_hz(self) -> int:
        return self.spec.asic_clock_hz

    def ns(self, work: AsicWork) -> float:
        return work.cycles * 1e9 / self.clock_hz

    def _pass(self, n: int, depth: int, ops_per_element: int = 1) -> AsicWork:
        if n <= 0:
            return NOTHING
        return AsicWork(-(-n // self.lanes) + depth, n * ops_per_element)

    def elementwise(self, n: int, ops_per_element: int = 1, what: str = "elementwise") -> AsicWork:
        """``ops_per_element`` chained adds / multiplies per element (one pipelined pass)."""
        w = self._pass(n, self.d_op * ops_per_element, ops_per_element)
        return AsicWork(w.cycles, w.ops, what)

    def reduce(self, n: int) -> AsicWork:
        return self._pass(n, self.d_reduce)

    def layernorm(self, rows: int, cols: int, rms: bool = False) -> AsicWork:
        n = rows * cols
        w = NOTHING if rms else self.reduce(n)
        w = w + self._pass(n, self.d_op, 2) + self.reduce(n)
        w = w + self._pass(rows, self.d_rsqrt, self.ops_rsqrt)
        w = w + self._pass(n, 2 * self.d_op, 2)
        return AsicWork(w.cycles, w.ops, "rmsnorm" if rms else "layernorm")

    def softmax(self, rows: int, cols: int) -> AsicWork:
        n = rows * cols
        w = self._pass(n, self.d_op) + self.reduce(n) + self._pass(n, self.d_exp, 1 + self.ops_exp)
        w = w + self.reduce(n) + self._pass(rows, self.d_recip, self.ops_recip) + self._pass(n, self.d_op)
        return AsicWork(w.cycles, w.ops, "softmax")

    def activation(self, fn: str | None, n: int) -> AsicWork:
        if not fn or n <= 0:
            return NOTHING
        if fn == "gelu":
            w = self._pass(n, self.d_gelu, self.ops_gelu)
        elif fn == "silu":
            w = self._pass(n, self.d_silu, self.ops_silu)
        else:  # relu and anything piecewise linear: one compare-select
            w = self._pass(n, self.d_op, 1)
        return AsicWork(w.cycles, w.ops, fn)

    def vmm_post(self, outputs: int, partial_sums: int, bias: bool, activation: str | None) -> AsicWork:
        """Work on a VMM's results: partial-sum adds, bias adds, the activation function."""
        w = self._pass(partial_sums + (outputs if bias else 0), self.d_op)
        return w + self.activation(activation, outputs)

    def argmax(self, n: int) -> AsicWork:
        w = self.reduce(n)
        return AsicWork(w.cycles, w.ops, "argmax")
