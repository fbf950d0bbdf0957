"""Whole generations: the sum of single steps, and the directions of InstInfer's claims."""

import pytest

from archsim.api import run
from archsim.hw.storage.generation import generation


@pytest.mark.parametrize("arch,kw", [("instinfer", {}), ("instinfer", {"sparse": True, "drives": 2}),
                                     ("flexgen", {})])
def test_generation_is_the_sum_of_its_steps(arch, kw):
    g = generation(arch, "opt-125m", batch=2, prompt_len=62, gen_len=4, **kw)
    steps = [run(arch, "opt-125m", phase="decode", batch=2, seq_len=s, level="analytic", **kw)
             .totals["per_token_latency_ns"] for s in range(63, 67)]
    assert g.contexts.tolist() == [63, 64, 65, 66]
    assert g.step_ns.tolist() == steps
    assert g.tokens_per_s == pytest.approx(2 * 4 / (sum(steps) * 1e-9))
    assert sum(g.breakdown_ns.values()) == sum(steps)


def test_directions_of_the_paper_hold_for_opt13b():
    """InstInfer Fig. 14: InstA beats FlexGen at batch 64; SparF beats dense InstA at batch 256."""
    fg = run("flexgen", "opt-13b", phase="decode", batch=64, seq_len=1536, level="analytic")
    ia = run("instinfer", "opt-13b", phase="decode", batch=64, seq_len=1536, level="analytic")
    assert ia.totals["tokens_per_s"] > 2 * fg.totals["tokens_per_s"]
    dense = run("instinfer", "opt-13b", phase="decode", batch=256, seq_len=1536, level="analytic")
    sparse = run("instinfer", "opt-13b", phase="decode", batch=256, seq_len=1536, level="analytic", sparse=True)
    assert sparse.totals["tokens_per_s"] > dense.totals["tokens_per_s"]
    assert fg.totals["kv_access_share"] > 0.98 and ia.totals["kv_access_share"] > 0.8
