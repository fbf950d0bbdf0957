"""BFP dot-product unit (exact integer block sums; cycle model) and the BFP KV-cache footprint."""

from fractions import Fraction

import numpy as np
import pytest

from archsim.errors import InputError
from archsim.hw.bfp import (
    BfpDotModel,
    BfpDotSpec,
    KvLayout,
    block_dot,
    exact_sum,
    footprint_table,
    kv_cache_bytes,
)
from archsim.hw.bfp.dot import EXP_BIAS, from_sign_magnitude, to_sign_magnitude
from archsim.numerics import get_format


def test_block_dot_by_hand():
    # BFP12 blocks of 4: a = [1, .25, -1, 0] (E 0, mantissas 4, 1, -4, 0); b = [.5, .5, .5, .5]
    # (E -1, step 2^-3: mantissas 4, 4, 4, 4). S = 16 + 4 - 16 + 0 = 4; e = (0-2) + (-1-2) = -5
    f = get_format("bfp12", block=4)
    s, e = block_dot(f.quantize([1.0, 0.3, -0.9, 0.05]), f.quantize([0.5, 0.5, 0.5, 0.5]))
    assert (s.tolist(), e.tolist()) == ([4], [-5])
    assert exact_sum(s, e) == 4 * 2.0**-5 == 0.125


def test_block_dot_equals_exact_dot_of_dequantized_values():
    rng = np.random.default_rng(3)
    for name, block in (("bfp12", 32), ("bfp16", 64), ("mxint8", 16)):
        f = get_format(name, block=block)
        a, b = f.quantize(rng.standard_normal((3, 200)) * 10), f.quantize(rng.standard_normal((3, 200)))
        s, e = block_dot(a, b)
        ref = sum((Fraction(x) * Fraction(y) for x, y in zip(a.dequantize().ravel(), b.dequantize().ravel())),
                  Fraction(0))
        assert exact_sum(s, e) == float(ref)


def test_spec_widths_and_cycles():
    spec = BfpDotSpec(mantissa_bits=4, block_size=32, lanes=8)
    # |m| <= 7: product magnitude <= 49 (6 bits) + sign; 32 products need 5 more bits
    assert (spec.product_bits, spec.accumulator_bits, spec.beats_per_block) == (7, 12, 4)
    assert spec.cycles(3) == 3 * 4 + 2
    with pytest.raises(InputError):
        BfpDotSpec(block_size=32, lanes=5)


def test_sign_magnitude_patterns():
    assert to_sign_magnitude(-7, 4) == 0b1111 and to_sign_magnitude(5, 4) == 0b0101
    assert [from_sign_magnitude(p, 4) for p in (0b1111, 0b0101, 0b1000)] == [-7, 5, 0]


def test_cycle_model_timing_and_values():
    """Blocks back to back, one beat per cycle; a block's result is registered one edge after the
    edge that takes its last beat into stage 1."""
    spec = BfpDotSpec(mantissa_bits=4, block_size=8, lanes=4)
    f = get_format("bfp12", block=8)
    rng = np.random.default_rng(0)
    qa, qb = f.quantize(rng.standard_normal(24)), f.quantize(rng.standard_normal(24))
    s_ref, e_ref = block_dot(qa, qb)
    model = BfpDotModel(spec)
    outs = []
    beats = [(blk, beat) for blk in range(3) for beat in range(2)]
    for cyc in range(len(beats) + 3):
        if cyc < len(beats):
            blk, beat = beats[cyc]
            sl = slice(beat * 4, beat * 4 + 4)
            o = model.step(in_valid=1, a_m=[to_sign_magnitude(m, 4) for m in qa.codes[blk, sl]],
                           b_m=[to_sign_magnitude(m, 4) for m in qb.codes[blk, sl]],
                           a_exp=int(qa.fields["exponent"][blk]) + EXP_BIAS,
                           b_exp=int(qb.fields["exponent"][blk]) + EXP_BIAS, last=beat == 1)
        else:
            o = model.step()
        if o["out_valid"]:
            outs.append((cyc, o["out_sum"], o["out_exp"]))
        else:
            assert "out_sum" not in o
    # last beats at edges 1, 3, 5; results registered at edges 2, 4, 6
    assert [c for c, _, _ in outs] == [2, 4, 6]
    assert [s for _, s, _ in outs] == s_ref.tolist() and [e for _, _, e in outs] == e_ref.tolist()


def test_kv_footprint_bfp12_vs_bfp16():
    # Llama-2-7B: 32 layers x 32 KV heads x 128 -> 262144 K+V elements per token
    lay = KvLayout(32, 32, 128)
    assert lay.elements_per_token == 262144
    b12 = kv_cache_bytes(lay, 1000, get_format("bfp12", block=32))
    b16 = kv_cache_bytes(lay, 1000, get_format("bfp16", block=64))
    assert b12 == 262144 * 1000 * 4.25 / 8 and b16 == 262144 * 1000 * 8.125 / 8
    assert b16 / b12 == pytest.approx(8.125 / 4.25)  # ~1.91x, the paper's "2x"
    rows = footprint_table(lay, 1000, [("bfp12", 32), ("fp16", None)])
    assert rows[0]["saving_vs_fp16"] == pytest.approx(16 / 4.25) and rows[1]["saving_vs_fp16"] == 1.0
