"""Cycle-stepped model of BitMoD bit-serial PEs (the oracle for the RTL and the cycle level).

One PE (BitMoD HPCA'25 §IV-B, Fig. 5) takes per cycle four FP16 activations and four weight
bit-terms (``sign``, ``exp``, ``man``) with a shared ``bsig`` (:mod:`.terms`) and accumulates the
4-way dot product; at the end of a quantization group its partial sum goes to a bit-serial
dequantization unit that multiplies it by the group's 8-bit scale code, one scale bit per cycle.

Pipeline (registers at each rising edge):

1. *align*: per lane, the product sign ``s_a xor s_t``, the activation significand (11 bits with
   the hidden one; 0 when ``man`` is 0) and its shift ``max(E, 1) + exp + bsig + 1``;
2. *tree*: the four shifted, signed significands summed;
3. *accumulate*: ``acc += tree``; on the group's last beat the final partial sum ``P`` is handed to
   the dequantization unit (``acc`` restarts at 0 for the next group);
4. *dequantize*: ``scale_bits`` cycles, LSB first: ``dq += P << i`` when bit ``i`` of the scale is 1;
   the result ``P * scale`` is registered on the output (``out_valid`` for one cycle).

Numbers are exact integers in units of ``2^-26`` (an FP16 subnormal LSB is ``2^-24``, the smallest
term ``2^-1``): the accumulator needs 58 bits for a group of 128 INT8 weights, the dequantized
output 66. (BitMoD's PE keeps a floating ``(m_ACC, e_ACC)`` accumulator with 3 guard bits and
round-to-nearest-even; this model accumulates exactly, so its timing is BitMoD's and its result is
the exact one.)

Timing: a group's last beat entering in cycle ``t`` is accumulated at the end of cycle ``t + 2``
(``PIPELINE_CYCLES = 2``) and, dequantized, registered at the end of ``t + 2 + scale_bits``. The
dequantization unit accepts a new partial sum every ``scale_bits`` cycles; a group shorter than
that stalls the pipeline (``ready = 0``) until the unit is free. Without dequantization (a block
format's exponent is a shift) the partial sum is registered at the end of ``t + 2``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from archsim.errors import InputError

LANES = 4
PIPELINE_CYCLES = 2
#: the accumulator's LSB is 2^ACC_LSB_EXP
ACC_LSB_EXP = -26
#: largest term significance: INT8's most significant Booth digit (4^3); the accumulator (64 bits)
#: then holds any group of up to 2^12 cycles exactly: |product| < 2^(11 + 30 + 1 + 6 + 1)
BSIG_MAX = 6
ACC_BITS = 64


def fp16_fields(patterns: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(sign, max(E, 1), significand)`` of FP16 bit patterns (significand with hidden one)."""
    a = np.asarray(patterns, dtype=np.int64)
    e = (a >> 10) & 31
    if np.any(e == 31):
        raise InputError(None, "activations", "finite FP16 values (no Inf/NaN)")
    f = a & 1023
    return (a >> 15) & 1, np.maximum(e, 1), np.where(e > 0, f | 1024, f)


def fp16_units(patterns: np.ndarray) -> np.ndarray:
    """FP16 values as exact integers in units of 2^-25 (``value * 2^25``)."""
    s, ep, man = fp16_fields(patterns)
    return np.where(s == 1, -1, 1) * (man << ep)


@dataclass
class PEOutputs:
    out_valid: int = 0
    out_value: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=object))


class BitSerialPEModel:
    """``n_pes`` BitMoD PEs in lockstep (one control stream, per-PE data).

    Call :meth:`ready` for the combinational back-pressure of the current cycle, then
    :meth:`step` with the inputs driven in that cycle (ignored when not ready); it returns the
    registered outputs after the edge. Inputs: ``valid``, ``act`` ``(n_pes, 4)`` FP16 patterns,
    ``t_sign``/``t_exp``/``t_man`` ``(n_pes, 4)``, ``bsig`` (-1..6), ``group_end`` (1 on a group's
    last beat) and ``scale`` ``(n_pes,)`` (the group's scale code, sampled with ``group_end``).
    """

    def __init__(self, n_pes: int = 1, *, scale_bits: int = 8, dequant: bool = True, lanes: int = LANES):
        self.n, self.lanes, self.scale_bits, self.dequant = n_pes, lanes, scale_bits, dequant
        self.reset()

    def reset(self) -> None:
        n, lanes = self.n, self.lanes
        self.r1_valid = self.r1_end = 0
        self.r1_sign = np.zeros((n, lanes), np.int64)
        self.r1_man = np.zeros((n, lanes), np.int64)
        self.r1_shift = np.zeros((n, lanes), np.int64)
        self.r1_scale = np.zeros(n, np.int64)
        self.r2_valid = self.r2_end = 0
        self.r2_sum = np.zeros(n, np.int64)
        self.r2_scale = np.zeros(n, np.int64)
        self.acc = np.zeros(n, np.int64)
        self.dq_cnt = 0
        self.dq_p = np.zeros(n, dtype=object)
        self.dq_s = np.zeros(n, np.int64)
        self.dq_acc = np.zeros(n, dtype=object)
        self.cycle = 0

    def ready(self) -> int:
        """1 unless a finished group waits for the dequantization unit (then the pipeline holds)."""
        return int(not (self.dequant and self.r2_valid and self.r2_end and self.dq_cnt > 1))

    def step(self, *, valid: int = 0, act=None, t_sign=None, t_exp=None, t_man=None, bsig: int = 0,
             group_end: int = 0, scale=None) -> PEOutputs:
        stall = not self.ready()
        out = PEOutputs(0, np.zeros(self.n, dtype=object))
        # dequantization unit: one scale bit per cycle, LSB first
        if self.dq_cnt:
            i = self.scale_bits - self.dq_cnt
            bit = (self.dq_s >> i) & 1
            self.dq_acc = self.dq_acc + np.where(bit == 1, self.dq_p * (1 << i), 0)
            self.dq_cnt -= 1
            if self.dq_cnt == 0:
                out = PEOutputs(1, self.dq_acc.copy())
        if not stall:
            # stage 3: accumulate the tree sum of the previous cycle
            if self.r2_valid:
                total = self.acc + self.r2_sum
                if self.r2_end:
                    if self.dequant:
                        self.dq_p = total.astype(object)
                        self.dq_s = self.r2_scale.copy()
                        self.dq_acc = np.zeros(self.n, dtype=object)
                        self.dq_cnt = self.scale_bits
                    else:
                        out = PEOutputs(1, total.astype(object))
                    self.acc = np.zeros(self.n, np.int64)
                else:
                    self.acc = total
            # stage 2: shifted significands through the adder tree
            self.r2_valid, self.r2_end = self.r1_valid, self.r1_end
            if self.r1_valid:
                signed = np.where(self.r1_sign == 1, -1, 1) * (self.r1_man << self.r1_shift)
                self.r2_sum = signed.sum(axis=1)
                self.r2_scale = self.r1_scale.copy()
            # stage 1: align
            self.r1_valid, self.r1_end = int(bool(valid)), int(bool(valid and group_end))
            if valid:
                s_a, ep, man = fp16_fields(np.asarray(act).reshape(self.n, self.lanes))
                ts = np.asarray(t_sign, np.int64).reshape(self.n, self.lanes)
                te = np.asarray(t_exp, np.int64).reshape(self.n, self.lanes)
                tm = np.asarray(t_man, np.int64).reshape(self.n, self.lanes)
                if not -1 <= bsig <= BSIG_MAX:
                    raise InputError(None, "bsig", f"-1..{BSIG_MAX}", bsig)
                self.r1_sign = s_a ^ ts
                self.r1_man = man * tm
                self.r1_shift = ep + te + bsig + 1
                self.r1_scale = np.asarray(scale if scale is not None else np.zeros(self.n), np.int64).reshape(self.n)
        self.cycle += 1
        return out


#: registers of rtl/bitserial_pe (debug ports ``dbg_<name>``), in the model's order
PE_REGISTERS = ("r1_valid", "r1_end", "r1_sign", "r1_man", "r1_shift", "r1_scale", "r2_valid", "r2_end", "r2_sum",
                "r2_scale", "acc", "dq_cnt", "dq_p", "dq_s", "dq_acc")


class BitSerialPEPorts:
    """One PE behind the pins of ``rtl/bitserial_pe`` (the RTL co-verification model).

    :meth:`step` is one rising edge: it takes the input ports before the edge (``rst``,
    ``in_valid``, ``act``/``t_sign``/``t_exp``/``t_man`` as lists of 4 lane values, ``bsig``,
    ``group_end``, ``scale``) and returns every register after it, ``ready`` (combinational,
    from the new state) and ``out_valid`` with ``out_value`` (only when valid)."""

    def __init__(self, scale_bits: int = 8, dequant: bool = True, lanes: int = LANES):
        self.pe = BitSerialPEModel(1, scale_bits=scale_bits, dequant=dequant, lanes=lanes)
        self.out_valid = 0
        self.out_value = 0

    def state(self) -> dict:
        pe = self.pe
        d = {"ready": pe.ready(), "out_valid": self.out_valid}
        if self.out_valid:
            d["out_value"] = self.out_value
        d.update({"r1_valid": pe.r1_valid, "r1_end": pe.r1_end, "r1_sign": pe.r1_sign[0].copy(),
                  "r1_man": pe.r1_man[0].copy(), "r1_shift": pe.r1_shift[0].copy(), "r1_scale": int(pe.r1_scale[0]),
                  "r2_valid": pe.r2_valid, "r2_end": pe.r2_end, "r2_sum": int(pe.r2_sum[0]),
                  "r2_scale": int(pe.r2_scale[0]), "acc": int(pe.acc[0]), "dq_cnt": pe.dq_cnt, "dq_p": int(pe.dq_p[0]),
                  "dq_s": int(pe.dq_s[0]), "dq_acc": int(pe.dq_acc[0])})
        return d

    def step(self, *, rst: int = 0, in_valid: int = 0, act=(0, 0, 0, 0), t_sign=(0, 0, 0, 0), t_exp=(0, 0, 0, 0),
             t_man=(0, 0, 0, 0), bsig: int = 0, group_end: int = 0, scale: int = 0) -> dict:
        if rst:
            self.pe.reset()
            self.out_valid, self.out_value = 0, 0
            return self.state()
        lanes = self.pe.lanes
        out = self.pe.step(valid=int(bool(in_valid)), act=np.asarray(act).reshape(1, lanes),
                           t_sign=np.asarray(t_sign).reshape(1, lanes), t_exp=np.asarray(t_exp).reshape(1, lanes),
                           t_man=np.asarray(t_man).reshape(1, lanes), bsig=int(bsig), group_end=int(bool(group_end)),
                           scale=[int(scale)])
        self.out_valid = out.out_valid
        if out.out_valid:
            self.out_value = int(out.out_value[0])
        return self.state()
