"""The GPU's spans carry their ops' MACs and a utilization (FLOPs over the A6000's FP16 peak in
the span), derived here by hand from OPT-125m's dimensions; the analytic and event levels agree
and the report's MACs are the GPU's plus the engines'."""

import math
import re

import pytest

from archsim.api import resolve_arch, run
from archsim.hw.xpu.model import op_time_ns
from archsim.workload import load_workload

PEAK = 154.8e12  # RTX A6000 FP16 tensor, dense (datasheet; the a6000 preset)
D, FFN = 768, 3072  # OPT-125m hidden size and MLP width


def post_flops(b):
    """OPT-125m's post-attention ops of one layer for ``b`` sequences: o_proj, fc1, fc2 (2 FLOPs
    per MAC), the two residual adds (1 per element) and the MLP layernorm (8 per element)."""
    macs = b * (D * D + D * FFN + FFN * D)
    return 2 * macs + b * D + b * D + 8 * b * D, macs


def mlp_flops(b):
    """FlexGen's ``MLP`` layer: layernorm, fc1, fc2, residual add."""
    macs = b * (D * FFN + FFN * D)
    return 2 * macs + 8 * b * D + b * D, macs


def spans(res, op, unit="gpu"):
    return [r for r in res.events.rows() if r[2] == unit and r[3] == op]


def roofline_ns(g, names, frac=1.0):
    """Whole ns of the matching ops on the A6000 roofline for a fraction of the batch: compute and
    activation bytes scale with it, weight bytes do not (docs/storage.md)."""
    gpu = resolve_arch("a6000")
    total = 0.0
    for o in g.ops:
        if re.match(names, o.name):
            _, comp, mem, _, nbytes = op_time_ns(o, gpu)
            w = o.weight_bytes / nbytes * mem if nbytes else 0.0
            total += max(comp * frac, w + (mem - w) * frac) + gpu.launch_overhead_ns
    return math.ceil(total)


@pytest.mark.parametrize("level", ["analytic", "event"])
def test_instinfer_gpu_post_span_utilization_by_hand(level):
    g = load_workload("opt-125m", phase="decode", batch=2, seq_len=100)
    res = run(resolve_arch("instinfer").replace(micro_batches=1), g, level=level)
    (row,) = spans(res, "layers.0.gpu_post")
    start, end, _, _, kind, _, macs, util = row
    flops, want_macs = post_flops(2)
    assert (flops, want_macs) == (21_249_024, 10_616_832)
    assert end - start == roofline_ns(g, r"layers\.0\.(attn\.o_proj|attn_add|mlp)")
    assert kind == "compute" and macs == want_macs
    assert util == pytest.approx(flops / (PEAK * (end - start) * 1e-9), rel=1e-12)
    assert 0 < util < 0.01  # six ops of 5 us launch each dwarf 0.14 us of peak FP16 work
    # the report's per-op row: the same MACs and utilization
    (op,) = [r for r in res.ops if r["op"] == "layers.0.gpu_post"]
    assert op["macs"] == want_macs and op["utilization"] == pytest.approx(util)


def test_instinfer_micro_batches_split_the_gpu_work():
    g = load_workload("opt-125m", phase="decode", batch=4, seq_len=100)
    res = run(resolve_arch("instinfer").replace(micro_batches=2), g, level="event")
    flops, macs = post_flops(2)  # each micro-batch holds 2 of the 4 sequences
    for m in (0, 1):
        (row,) = spans(res, f"layers.3.gpu_post[mb{m}]")
        start, end, *_, span_macs, util = row
        assert end - start == roofline_ns(g, r"layers\.3\.(attn\.o_proj|attn_add|mlp)", 0.5)
        assert span_macs == macs
        assert util == pytest.approx(flops / (PEAK * (end - start) * 1e-9), rel=1e-12)


@pytest.mark.parametrize("level", ["analytic", "event"])
def test_flexgen_mlp_and_attention_spans_by_hand(level):
    g = load_workload("opt-125m", phase="decode", batch=2, seq_len=64)
    res = run("flexgen", g, level=level)
    (row,) = spans(res, "layers.5.mlp")
    start, end, *_, macs, util = row
    flops, want = mlp_flops(2)
    assert end - start == roofline_ns(g, r"layers\.5\.mlp")
    assert macs == want
    assert util == pytest.approx(flops / (PEAK * (end - start) * 1e-9), rel=1e-12)
    # the attention ops on the GPU: score and context GeMVs (2 x 12 heads x 64 tokens x 64 MACs
    # each) and the softmax (5 per score)
    (att,) = spans(res, "layers.5.attn.attention")
    start, end, *_, macs, util = att
    assert macs == 2 * (2 * 12 * 64 * 64)
    assert util == pytest.approx((2 * macs + 5 * 2 * 12 * 64) / (PEAK * (end - start) * 1e-9), rel=1e-12)


@pytest.mark.parametrize("arch,kw", [("instinfer", {"micro_batches": 3, "drives": 2}), ("instinfer", {"sparse": True}),
                                     ("flexgen", {"micro_batches": 2})])
def test_total_macs_are_the_gpu_rows_plus_the_engines(arch, kw):
    g = load_workload("opt-125m", phase="decode", batch=6, seq_len=300)
    a = run(resolve_arch(arch).replace(**kw), g, level="analytic")
    e = run(resolve_arch(arch).replace(**kw), g, level="event")
    # the levels place micro-batches differently (InstInfer overlaps them only at the event
    # level) but record the same GPU spans: duration, op, MACs, utilization
    def gpu_spans(r):
        return sorted((e - s, *rest) for s, e, *rest in r.events.rows() if rest[0] == "gpu")

    assert gpu_spans(a) == gpu_spans(e)
    for r in (a, e):
        gpu = sum(row["macs"] for row in r.ops if row["unit"] == "gpu")
        engine = sum(row["macs"] for row in r.ops if row["unit"] == "drive*.engine")
        assert r.totals["macs"] == gpu + engine
        assert all(0 < row["utilization"] <= 1 for row in r.ops if row["unit"] == "gpu")
    # every non-attention MAC of the graph runs on the GPU (all of them for FlexGen)
    attention = sum(o.macs for o in g.ops if re.search(r"attn\.(score|context)$", o.name))
    assert gpu == g.total_macs - (attention if arch == "instinfer" else 0)
    if not kw.get("sparse"):
        assert a.totals["macs"] == g.total_macs
