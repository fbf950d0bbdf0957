"""Bit-serial terms (BitMoD §IV-A) and the cycle-stepped PE (§IV-B) on hand-derived cases."""

import numpy as np
import pytest

from archsim.errors import InputError
from archsim.hw.bitserial.pe import BitSerialPEModel, fp16_units
from archsim.hw.bitserial.terms import booth_digits, fp_terms, int_terms, term_values


@pytest.mark.parametrize("bits, terms", [(8, 4), (6, 3), (4, 2), (3, 2)])
def test_booth_terms_per_width_and_exact_values(bits, terms):
    codes = np.arange(-(2 ** (bits - 1) - 1), 2 ** (bits - 1))
    s, e, m, bsig = int_terms(codes, bits)
    assert s.shape[0] == terms  # INT8 4, INT6 3, INT4/INT3 2 cycles per weight
    assert bsig.tolist() == [2 * i for i in range(terms)][::-1]  # most significant digit first
    assert np.array_equal(term_values(s, e, m, bsig), codes)
    assert set(np.unique(e).tolist()) <= {0, 1} and set(np.unique(m).tolist()) <= {0, 1}


def test_booth_digits_by_hand():
    # 0b0111_1111 = 127 -> digits (lsb first) -1, 0, 0, 2: -1 + 2*64 = 127
    assert booth_digits(np.array([127]), 8)[:, 0].tolist() == [-1, 0, 0, 2]
    # -3 = 0b1111_1101 -> digits 1, -1, 0, 0: 1 - 4 = -3
    assert booth_digits(np.array([-3]), 8)[:, 0].tolist() == [1, -1, 0, 0]
    with pytest.raises(InputError):
        booth_digits(np.array([128]), 8)


def test_fp_terms_two_per_value():
    vals = np.array([0, 0.5, 1, 1.5, 2, 3, 4, 5, 6, 8, -0.5, -6, -8])
    s, e, m, bsig = fp_terms(vals)
    assert bsig.tolist() == [0, -1]
    assert np.array_equal(term_values(s, e, m, bsig), vals)
    # 6 = 110.0: cycle 0 leading one at 2^2 (exp 2), cycle 1 the 2^1 bit at bsig -1 (exp 2)
    i = 8
    assert (e[0, i], m[0, i], e[1, i], m[1, i]) == (2, 1, 2, 1)
    # 0.5: nothing in cycle 0, the 2^-1 bit in cycle 1 (exp 0)
    assert (m[0, 1], e[1, 1], m[1, 1]) == (0, 0, 1)
    with pytest.raises(InputError):
        fp_terms(np.array([7.0]))  # 111.0 has three '1' bits
    with pytest.raises(InputError):
        fp_terms(np.array([16.0]))  # beyond 4.1 fixed point (flint4's 16)


def drive(pe, weights, acts, bits, groups, scales):
    """Issue ``weights`` (INT ``bits``) x FP16 ``acts`` through one PE, 4 lanes per step, groups
    of ``len(weights)//groups``; returns (cycle of each output, outputs)."""
    s, e, m, bsig = int_terms(weights, bits)
    pat = acts.astype(np.float16).view(np.uint16)
    per = len(weights) // groups
    beats = []
    for g in range(groups):
        for st in range(per // 4):
            sl = slice(g * per + st * 4, g * per + st * 4 + 4)
            for ti in range(len(bsig)):
                end = int(st == per // 4 - 1 and ti == len(bsig) - 1)
                beats.append(dict(valid=1, act=pat[sl][None], t_sign=s[ti, sl][None], t_exp=e[ti, sl][None],
                                  t_man=m[ti, sl][None], bsig=int(bsig[ti]), group_end=end, scale=[scales[g]]))
    outs, i, cyc = [], 0, 0
    while len(outs) < groups:
        beat = beats[i] if i < len(beats) else {}
        ready = pe.ready()
        o = pe.step(**beat)
        if beat and ready:
            i += 1
        if o.out_valid:
            outs.append((cyc, int(o.out_value[0])))
        cyc += 1
    return outs


def test_pe_group_of_eight_int8_by_hand():
    # weights 1..8 (INT8: 4 cycles per 4 weights), activations all 0.5: partial sum 36 * 0.5 = 18;
    # in units of 2^-26: 18 * 2^26; times scale code 3
    pe = BitSerialPEModel(1, scale_bits=8)
    outs = drive(pe, np.arange(1, 9), np.full(8, 0.5), 8, 1, [3])
    # 8 input cycles (0..7); last beat in cycle 7 -> accumulated at the end of cycle 9 -> 8
    # dequantization cycles -> registered at the end of cycle 17
    assert outs == [(17, 3 * 18 * 2**26)]


def test_pe_stalls_when_a_group_is_shorter_than_the_dequantization():
    # groups of 4 INT8 weights = 4 cycles < 8 scale bits: hand-offs every 8 cycles.
    # group 0 last beat cycle 3 -> hand-off end of 5 -> out end of 13; groups 1, 2 hand off 8 later each
    pe = BitSerialPEModel(1, scale_bits=8)
    w = np.array([1, -2, 3, -4, 5, 6, -7, 8, 127, -127, 0, 1])
    a = np.array([1.0, 2.0, -1.0, 0.25, 1.0, 1.0, 1.0, 1.0, 0.5, 0.5, 3.0, -2.0])
    outs = drive(pe, w, a, 8, 3, [1, 2, 255])
    assert [c for c, _ in outs] == [13, 21, 29]
    ref = [sum(int(x) for x in fp16_units(a[g * 4:g * 4 + 4].astype(np.float16).view(np.uint16)) * 2 * w[g * 4:g * 4 + 4])
           for g in range(3)]
    assert [v for _, v in outs] == [ref[0] * 1, ref[1] * 2, ref[2] * 255]
    # closed form of physical.tile_timing: c0 + sum_{g>=1} max(c, 8) + pipeline 2 + 8 = 4 + 16 + 10 = 30 cycles
    assert outs[-1][0] + 1 == 30


def test_pe_fp16_subnormal_and_large_activations_exact():
    a = np.array([2.0**-24, -65504.0, 3.0e-5, 1024.0])
    w = np.array([127, -127, 1, -1])
    pe = BitSerialPEModel(1, scale_bits=8)
    (_, v), = drive(pe, w, a, 8, 1, [1])
    assert v == sum(int(x) for x in fp16_units(a.astype(np.float16).view(np.uint16)) * 2 * w)
    assert v * 2.0**-26 == pytest.approx(float(np.dot(a.astype(np.float16).astype(float), w)))
