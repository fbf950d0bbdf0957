"""The roofline baselines of the PIM-GPT comparison: the xpu kind's generation loop equals its
steps run one by one, and the t4-eager preset's per-op overhead follows from its stated source."""

import pytest

from archsim.api import resolve_arch, run
from archsim.workload import load_workload


def test_xpu_generation_is_the_sum_of_its_steps():
    gen = run("t4", "gpt2", phase="decode", seq_len=7, tokens=4)
    for i, row in enumerate(gen.ops):
        single = run("t4", "gpt2", phase="decode", seq_len=7 + i).totals
        assert row["time_ns"] == pytest.approx(single["time_ns"], rel=1e-12)
        assert row["energy_pj"] == pytest.approx(single["energy_pj"], rel=1e-12)
        assert row["context"] == 7 + i
    t = gen.totals
    assert t["tokens_per_s"] == pytest.approx(4 / (t["time_ns"] * 1e-9))
    assert any("context-independent ops costed once" in n for n in gen.notes)


def test_t4_eager_overhead_follows_from_gpt_fast():
    # gpt-fast (PyTorch blog, 2023): LLaMA-7B at batch 1 on an A100 in eager mode, 25.5 tokens/s;
    # archsim's a100 roofline of the same step with the T4 preset's efficiency knobs (0.7, 0.8)
    g = load_workload("llama-2-7b", phase="decode", seq_len=128)
    assert len(g.ops) == 515                                   # as the t4-eager preset's comment states
    # the roofline by hand from the A100 datasheet (312 TFLOPS FP16, 2.039 TB/s) and the knobs: each
    # op max(ops / (312e12 x 0.7), bytes read + written / (2.039e12 x 0.8)), ops one after another
    roofline_ns = sum(max((2 * op.macs if op.is_gemm else op.vector_ops) / (312e12 * 0.7),
                          (op.input_bytes + op.output_bytes) / (2.039e12 * 0.8)) * 1e9 for op in g.ops)
    assert roofline_ns == pytest.approx(8.31e6, rel=0.005)     # the preset comment's 8.31 ms
    a100 = resolve_arch("a100").replace(compute_efficiency=0.7, memory_efficiency=0.8)
    assert run(a100, g, record_events=False).totals["time_ns"] == pytest.approx(roofline_ns, rel=1e-12)
    per_op_ns = (1e9 / 25.5 - roofline_ns) / len(g.ops)       # (39.22 - 8.31) ms / 515 = 60.0 us
    spec = resolve_arch("t4-eager")
    assert spec.launch_overhead_ns == pytest.approx(per_op_ns, rel=0.005)
    t4 = resolve_arch("t4")
    for f in ("fp16_flops", "fp32_flops", "mem_bytes_per_s", "compute_efficiency", "memory_efficiency"):
        assert getattr(spec, f) == getattr(t4, f)


def test_speedup_over_the_t4_falls_with_model_size():
    # launch-bound small models gain the most (PIM-GPT: 137x for the smallest, 41x for the largest)
    sp = {}
    for m in ("gpt2", "gpt2-medium", "gpt3-xl"):
        pim = run("pim-gpt", m, phase="decode", seq_len=1, tokens=8, record_events=False).totals
        gpu = run("t4-eager", m, phase="decode", seq_len=1, tokens=8, record_events=False).totals
        sp[m] = gpu["latency_per_token_ns"] / pim["latency_per_token_ns"]
    assert sp["gpt2"] > sp["gpt2-medium"] > sp["gpt3-xl"] > 10
    assert 41 <= sp["gpt2"] <= 137
