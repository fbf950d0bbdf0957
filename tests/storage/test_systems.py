"""InstInfer and FlexGen decode steps: totals derived by hand from the stage formulas, the
analytic and event levels against each other, the breakdown, feasibility and determinism."""

import math
import re

import pytest

from archsim.api import resolve_arch, run
from archsim.hw.storage.engine import dense_closed_form_ns
from archsim.hw.xpu.model import op_time_ns
from archsim.report.json_report import render_report_json
from archsim.workload import load_workload


def gpu_ns(ops, names):
    """Whole ns of running the ops whose names match ``names`` on the A6000 roofline."""
    gpu = resolve_arch("a6000")
    return math.ceil(sum(op_time_ns(o, gpu)[0] for o in ops if re.match(names, o.name)))


def _instinfer_step_by_hand(res, g, attention, kv_access):
    ops = g.ops
    down = math.ceil(2 * (12 + 24) * 64 * 2 / 7e9 * 1e9)  # q, k, v of 2 seqs: 9216 B -> 1317 ns
    up = math.ceil(2 * 12 * 64 * 2 / 7e9 * 1e9)  # 3072 B -> 439 ns
    assert (down, up) == (1317, 439)
    step = gpu_ns(ops, r"embed") + gpu_ns(ops, r"(final_norm|lm_head)")
    for i in range(12):
        step += gpu_ns(ops, rf"layers\.{i}\.(attn_norm|attn\.[qkv]_proj)")
        step += down + attention + up
        step += gpu_ns(ops, rf"layers\.{i}\.(attn\.o_proj|attn_add|mlp)")
    assert res.totals["per_token_latency_ns"] == step
    assert res.totals["tokens_per_s"] == pytest.approx(2 / (step * 1e-9))
    assert res.totals["breakdown_ns"]["kv_access"] == 12 * kv_access
    assert res.totals["breakdown_ns"]["transfers"] == 12 * (down + up)
    assert res.totals["pcie_bytes"] == 12 * (9216 + 3072)
    assert res.totals["flash_pages_read"] == 12 * 24 * 6
    assert sum(res.totals["breakdown_ns"].values()) == step
    # the engine's GeMV work (2 x 100 x 64 MACs per task) equals the graph's attention MACs
    assert res.totals["macs"] == g.total_macs


# opt-125m, batch 2, context 100: 2 seqs x 12 heads = 24 tasks; a page holds 4096 / (64 x 2) = 32
# tokens, so a task reads 2 x floor(99/32) = 6 pages, one per channel -> latency F = tR + x =
# 35760 + 2925.71 -> 38686 ns; C = 4 x 100 x 64 / 13.3e9 + 100 / 15.1e6 = 1924.81 + 6622.52 -> 8548 ns.
F, C = 38686, 8548


def test_instinfer_step_by_hand_serial_engine():
    """The engine without overlap (one buffer per kernel, the array drains between batches): two
    kernels, C < F, flash-bound: 24 F + C."""
    g = load_workload("opt-125m", phase="decode", batch=2, seq_len=100)
    spec = resolve_arch("instinfer").replace(micro_batches=1, engine_task_buffers=1, flash_queueing="batch")
    res = run(spec, g, level="analytic")
    _instinfer_step_by_hand(res, g, 24 * F + C, 24 * F)


def test_instinfer_step_by_hand_double_buffered():
    """The preset's engine: two buffers per kernel, per-die flash queues. A 6-page batch occupies
    the array 6 / 8 channels x (tR + x) / 8 dies = 3626.8 -> S = 3627 ns, but its latency is
    F = 38686: with K B = 4 fetches in flight each buffer cycles F + C per task. Task 1's buffer
    (kernel 1) starts one occupancy after task 0 and carries tasks 1, 5, ..., 21 (6 cycles), then
    kernel 1 computes task 23 after task 21: S + 6 (F + C) + C."""
    g = load_workload("opt-125m", phase="decode", batch=2, seq_len=100)
    res = run(resolve_arch("instinfer").replace(micro_batches=1), g, level="analytic")
    s = 3627
    attention = s + 6 * (F + C) + C
    assert attention == dense_closed_form_ns(24, 2, F, C, s, 2) == 295579
    _instinfer_step_by_hand(res, g, attention, 24 * s)


def test_flexgen_step_by_hand():
    g = load_workload("opt-125m", phase="decode", batch=2, seq_len=64)
    res = run("flexgen", g, level="analytic")
    ops = g.ops
    kv = 64 * 2 * 12 * 64 * 2  # FlexGen loads k_cache[:S] for the GPU batch: 196,608 B per tensor
    new = 2 * 12 * 64 * 2  # new k (or v): 3,072 B
    a = math.ceil(kv / 2.147e9 * 1e9)  # SSD -> pinned buffer
    h = math.ceil(kv / 25.78e9 * 1e9)  # pinned buffer -> GPU
    u = math.ceil(new / 25.78e9 * 1e9)  # GPU -> pinned buffer
    w = math.ceil(new / 0.746e9 * 1e9)  # pinned buffer -> file
    # K and V loads queue at the SSD (K then V) and at the link: 2a + h when h < a
    load = max(2 * a, a + h) + h
    # stores of the previous attention's k, v queue at the SSD behind both reads
    store = max(2 * u, max(u, 2 * a) + w) + w
    last_store = max(2 * u, u + w) + w
    attn = [gpu_ns(ops, rf"layers\.{i}\.(attn|attn_norm|attn_add)\b") for i in range(12)]
    mlp = [gpu_ns(ops, rf"layers\.{i}\.mlp") for i in range(12)]
    step = max(gpu_ns(ops, r"embed"), load) + sum(attn) + gpu_ns(ops, r"(final_norm|lm_head)")
    step += sum(max(m, load, store) for m in mlp[:-1]) + max(mlp[-1], last_store)
    assert res.totals["per_token_latency_ns"] == step
    assert res.totals["kv_bytes_read"] == 12 * 2 * kv
    ev = run("flexgen", g, level="event")
    assert ev.totals["per_token_latency_ns"] == step


@pytest.mark.parametrize("kw", [{}, {"drives": 3}, {"sparse": True}, {"drives": 2, "sparse": True},
                                {"drives": 2, "drive_split": "batch"},
                                {"sparse": True, "engine_task_buffers": 1, "flash_queueing": "batch"}])
def test_instinfer_event_equals_analytic_without_micro_batches(kw):
    g = load_workload("opt-125m", phase="decode", batch=6, seq_len=1024)
    spec = resolve_arch("instinfer").replace(micro_batches=1, **kw)
    a = run(spec, g, level="analytic")
    e = run(spec, g, level="event")
    assert a.totals["per_token_latency_ns"] == e.totals["per_token_latency_ns"]
    assert a.totals["breakdown_ns"] == e.totals["breakdown_ns"]
    assert sorted(a.events.rows()) == sorted(e.events.rows())


@pytest.mark.parametrize("kv", [{}, {"kv_path": "gds"}, {"kv_location": "host"}, {"micro_batches": 2}])
def test_flexgen_event_equals_analytic(kv):
    g = load_workload("opt-125m", phase="decode", batch=4, seq_len=256)
    spec = resolve_arch("flexgen").replace(**kv)
    a = run(spec, g, level="analytic")
    e = run(spec, g, level="event")
    assert a.totals["per_token_latency_ns"] == e.totals["per_token_latency_ns"]
    assert sorted(a.events.rows()) == sorted(e.events.rows())


def test_micro_batches_overlap_gpu_and_drive_work():
    g = load_workload("opt-1.3b", phase="decode", batch=8, seq_len=256)
    spec = resolve_arch("instinfer").replace(micro_batches=2)
    a = run(spec, g, level="analytic")
    e = run(spec, g, level="event")
    assert e.totals["per_token_latency_ns"] < a.totals["per_token_latency_ns"]
    for r in (a, e):
        assert sum(r.totals["breakdown_ns"].values()) == r.totals["per_token_latency_ns"]
    # overlap hides GPU work first, never KV access
    assert e.totals["breakdown_ns"]["kv_access"] == a.totals["breakdown_ns"]["kv_access"]
    assert e.totals["breakdown_ns"]["gpu"] < a.totals["breakdown_ns"]["gpu"]


def test_page_flush_step_waits_for_programs():
    # opt-125m: 32 tokens per page; token 128 completes a page of K and of V per (seq, head)
    g16 = load_workload("opt-125m", phase="decode", batch=2, seq_len=128)
    g17 = load_workload("opt-125m", phase="decode", batch=2, seq_len=129)
    spec = resolve_arch("instinfer").replace(micro_batches=1)
    r16, r17 = run(spec, g16, level="analytic"), run(spec, g17, level="analytic")
    assert r16.totals["flash_pages_programmed"] == 12 * 24 * 2
    assert r17.totals["flash_pages_programmed"] == 0
    assert r16.totals["breakdown_ns"]["kv_write"] > 0 == r17.totals["breakdown_ns"]["kv_write"]


def test_flexgen_relay_buffer_stops_batch_128_at_2048_tokens():
    # one K tensor: 2048 tokens x 128 seqs x 40 heads x 128 x 2 B = 2.68e9 B > the 2 GiB pinned relay
    big = run("flexgen", "opt-13b", phase="decode", batch=128, seq_len=2048, level="analytic")
    assert 2048 * 128 * 40 * 128 * 2 > 2**31
    assert not big.totals["feasible"] and "relay buffer" in big.totals["infeasible_reasons"][0]
    ok = run("flexgen", "opt-13b", phase="decode", batch=64, seq_len=2048, level="analytic")
    assert ok.totals["feasible"]
    csd = run("instinfer", "opt-13b", phase="decode", batch=256, seq_len=2048, level="analytic")
    assert csd.totals["feasible"]


def test_drives_scale_the_attention():
    g = load_workload("opt-13b", phase="decode", batch=16, seq_len=1024)
    one = run("instinfer", g, level="analytic")
    two = run(resolve_arch("instinfer").replace(drives=2), g, level="analytic")
    ratio = one.totals["per_token_latency_ns"] / two.totals["per_token_latency_ns"]
    assert 1.9 < ratio < 2.0  # the drives split the 40 heads 20/20; only the GPU part stays


def test_energy_is_priced_per_action_and_matches_the_rows():
    r = run("instinfer", "opt-125m", phase="decode", batch=2, seq_len=100, level="analytic")
    acts = {(c, a): n for (_, c, a), n in r.actions.counts.items()}
    # NAND page read: 25 mA x 3.3 V x tR 35760 ns (Micron MT29F ICC1) = 2.9502 uJ = 2950200 pJ
    flash_pj = acts[("flash", "page_read")] * (25e-3 * 3.3 * 35760e-9 * 1e12)
    assert r.energy_breakdown_pj["drive0.flash"] == pytest.approx(flash_pj)
    assert sum(row["energy_pj"] for row in r.ops) == pytest.approx(r.totals["energy_pj"])
    assert any("pcie" in n for n in r.notes)


def test_same_inputs_give_identical_reports():
    a = run("instinfer", "opt-125m", phase="decode", batch=3, seq_len=200, drives=2, sparse=True)
    b = run("instinfer", "opt-125m", phase="decode", batch=3, seq_len=200, drives=2, sparse=True)
    assert render_report_json(a) == render_report_json(b)
