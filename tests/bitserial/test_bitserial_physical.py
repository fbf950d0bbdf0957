"""The physical convention: closed form derived by hand, and the fidelity ladder
(analytic == event == cycle-stepped PEs on real data)."""

import numpy as np
import pytest

from archsim.api import resolve_arch
from archsim.errors import InputError
from archsim.hw.bitserial.model import simulate
from archsim.hw.bitserial.physical import gemm_job, schedule, tile_timing
from archsim.workload import load_workload


def test_small_gemm_by_hand(one_linear):
    """64x256 FP16 by 256x64 bitmod-fp4 weights on BitMoD's 32x32 array (dp 4), DRAM 32 B/cycle,
    30 cycles latency.

    Compute: 2 terms per weight, 64 steps per tile -> 128 cycles (two groups of 128: 64 cycles each,
    >= 8 dequantization cycles, no stall); 4 output tiles; + pipeline 2 + last dequantization 8.
    Bytes: B = 64*256*(4 + 10/128)/8 = 8352 (4176 per 32-channel block); A = 64*256*2 = 32768
    (16384 per 32-token tile); each tile writes 32*32*2 = 2048. Both operands fit half a buffer,
    every nest moves 41120 bytes; channels-outer (both blocks one chunk, tiles inner) steps
    (t0,c0) (t0,c1) (t1,c0) (t1,c1) load 4176+16384 = 20560, 4176, 16384, 0.
    load(x) = ceil(x/32) + 30: prologue L(20560) = 643 + 30 = 673.
    step0 max(128, 0 + 131+30) = 161; step1 max(128, 64 + 512+30) = 606; step2 max(128, 64) = 128;
    step3 max(128+10, 64) = 138; epilogue write 64. Total 673+161+606+128+138+64 = 1770.
    (tokens-outer, loads 20560, 16384, 4176, 0, also gives 1770: 673+542+225+128+138+64.)
    """
    spec = resolve_arch("bitmod")
    g = one_linear()
    job = gemm_job(g.ops[0], spec, None)
    tt = tile_timing(job, spec)
    assert (tt.terms, tt.tile_cycles, tt.first_slack, tt.tail_cycles) == (2, 128, 0, 10)
    sched = schedule(job, spec)
    assert sched.order == "channels-outer/half"
    assert sched.load_bytes.tolist() == [20560, 4176, 16384, 0]
    assert sched.write_bytes.tolist() == [2048] * 4
    for level in ("analytic", "event", "cycle"):
        res = simulate(g, spec, level=level)
        assert res.totals["cycles"] == 1770, level
        assert res.totals["compute_cycles"] == 4 * 128 + 10
        assert res.totals["dram_read_bytes"] == 8352 + 32768 and res.totals["dram_write_bytes"] == 4 * 2048


def test_int8_weights_take_four_terms_and_int6_three(one_linear):
    spec = resolve_arch("bitmod")
    g = one_linear(32, 32, 256)
    for fmt, terms in (("int8", 4), ("int6", 3), ("int4", 2), ("fp3-ea", 2)):
        job = gemm_job(g.ops[0], spec.replace(weight_format=fmt), None)
        assert tile_timing(job, spec).tile_cycles == 64 * terms  # 256/4 steps, no stall (>= 8)


def test_bit_parallel_fp16_one_cycle_per_step(one_linear):
    spec = resolve_arch("fp16")  # 32x24, dot product 1
    res = simulate(one_linear(48, 64, 100), spec, level="analytic")
    # tiles ceil(64/32) * ceil(48/24) = 4, 100 steps each, + pipeline 2
    assert res.totals["compute_cycles"] == 4 * 100 + 2


def test_stall_when_groups_are_shorter_than_dequantization(one_linear):
    """Group 16, INT8, dp 4: 16 cycles per group >= 8; group 8: 8 cycles; INT4 group 8: 4 < 8 ->
    each later group takes 8: per tile 64/8 = 8 groups -> 8 * 8, first group 4 cycles less."""
    spec = resolve_arch("bitmod").replace(weight_format="int4", group_size=8)
    g = one_linear(32, 32, 64)
    tt = tile_timing(gemm_job(g.ops[0], spec, None), spec)
    assert (tt.tile_cycles, tt.first_slack) == (64, 4)
    for level in ("analytic", "cycle"):
        assert simulate(g, spec, level=level).totals["compute_cycles"] == 64 - 4 + 10


@pytest.mark.parametrize("fmt", ["bitmod-fp3", "int8", "fp4-er", "mxfp4", "bfp12"])
def test_cycle_level_equals_analytic_on_a_small_array(one_linear, fmt):
    spec = resolve_arch("bitmod").replace(rows=4, cols=4, weight_format=fmt, dram_latency_cycles=7)
    g = one_linear(6, 9, 300)  # partial tiles in both dimensions, a partial last group
    a = simulate(g, spec, level="analytic")
    c = simulate(g, spec, level="cycle")
    e = simulate(g, spec, level="event")
    assert a.totals["cycles"] == c.totals["cycles"] == e.totals["cycles"]
    assert c.ops[0]["values_checked"] and c.ops[0]["groups_checked"] > 0


def test_levels_agree_on_an_llm_decode_step_with_gqa_and_bfp_kv():
    g = load_workload("llama-3-8b", phase="decode", seq_len=300)
    spec = resolve_arch("bitmod").replace(kv_format="bfp12", kv_block=32)
    a = simulate(g, spec, level="analytic", record_events=True)
    e = simulate(g, spec, level="event", record_events=True)
    assert a.totals == e.totals
    assert sorted(a.events.rows()) == sorted(e.events.rows())  # the same spans, recorded in another order
    score = next(r for r in a.ops if r["op"] == "layers.0.attn.score")
    # GQA: 32 query heads over 8 KV heads -> 8 GEMMs of m = 4 queries, n = 300 keys, k = 128
    assert (score["count"], score["m"], score["n"], score["k"]) == (8, 4, 300, 128)
    assert score["format"] == "bfp12" and score["terms"] == 2  # 4-bit sign-magnitude mantissa


def test_bfp12_kv_cache_cuts_attention_bytes_and_cycles():
    g = load_workload("llama-2-7b", phase="decode", seq_len=2048)
    spec = resolve_arch("bitmod")
    int8 = simulate(g, spec, level="analytic", record_events=False)
    bfp = simulate(g, spec.replace(kv_format="bfp12", kv_block=32), level="analytic", record_events=False)

    def kv_read(res):
        return sum(r["dram_read_bytes"] for r in res.ops if r["kind"].startswith("attention"))

    # K and V of 2048 tokens x 32 heads x 128: 8 + 16/128... int8 with uint8 group scale = 8.0625 bits;
    # BFP12_32 = 4.25 bits: the attention reads shrink by about 8.0625/4.25
    assert kv_read(int8) / kv_read(bfp) == pytest.approx(8.0625 / 4.25, rel=0.01)
    assert bfp.totals["cycles"] < int8.totals["cycles"]


def test_unsupported_formats_are_input_errors():
    spec = resolve_arch("bitmod")
    with pytest.raises(InputError, match="weight_format"):
        spec.replace(weight_format="fp16")  # not in bitmod's list
    with pytest.raises(InputError, match="weight_format"):
        resolve_arch("fp16").replace(weight_format="int4")
    with pytest.raises(InputError, match="bit-terms"):
        spec.replace(weight_formats=(), weight_format="flint4")  # 16 does not fit 4.1 fixed point
    with pytest.raises(InputError, match="kv_format"):
        spec.replace(kv_format="fp16")


def test_timeline_spans_are_coalesced_per_op_and_keep_bytes_and_macs():
    g = load_workload("opt-125m", phase="prefill", seq_len=256)
    res = simulate(g, resolve_arch("bitmod"), level="analytic")
    cols = res.events.columns()
    fc1 = cols["op"] == "layers.0.mlp.fc1"
    for kind in ("compute", "dram_read", "dram_write"):
        assert 0 < int(((cols["kind"] == kind) & fc1).sum()) <= 64
    dram = np.isin(cols["kind"], ["dram_read", "dram_write"])
    assert int(cols["bytes"][dram].sum()) == res.totals["dram_read_bytes"] + res.totals["dram_write_bytes"]
    assert int(cols["macs"][cols["kind"] == "compute"].sum()) == res.totals["macs"]
    assert res.events.end_cycle == res.totals["cycles"]
