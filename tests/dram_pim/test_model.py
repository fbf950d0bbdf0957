"""End to end: GPT decode on the PIM device. Per-step rows, memoized layers, the generation loop,
the headline claims of PIM-GPT (row-hit rate, non-VMM share, channel scaling, ASIC clock), mapping
invariants derived by hand, determinism and input errors."""

import json

import numpy as np
import pytest

from archsim.api import resolve_arch, run
from archsim.errors import InputError
from archsim.hw.dram_pim import mapping
from archsim.hw.dram_pim.asic import Asic
from archsim.hw.dram_pim.device import CI, PimDevice
from archsim.hw.dram_pim.plan import build_plan
from archsim.report.json_report import render_report_json
from archsim.workload import load_workload


def test_weight_mapping_by_hand():
    # GPT-2 XL's fused q/k/v: K = 1600, N = 4800 on 128 units (8 channels x 16 banks), a 2 KB
    # global buffer (1024 BF16): K-tiles of 1024 and 576 elements = 64 + 36 bursts; 4800 / 128 =
    # 37.5 -> 38 slots per unit (channels 0-3 have 38 outputs per unit in their last slot... every
    # channel runs 38 slots, the last one half full); MACs per scope = 38 x 100 = 3,800; rows of
    # 64 bursts: ceil(3800 / 64) = 60 activations
    sp = resolve_arch("pim-gpt")
    v = mapping.weight_vmm(sp, 1600, 4800)
    assert len(v.programs) == 8
    prog = v.programs[0]
    assert [p.gb_bursts for p in prog.phases] == [64, 36]
    assert prog.mac_bursts == 3800
    assert len(np.unique(np.concatenate([p.rows for p in prog.phases]))) == 60
    assert sum(p.outputs for p in prog.phases) == 2 * 38
    assert v.macs == 1600 * 4800 and v.partial_sums == 4800
    assert sum(p.useful_macs for pr in v.programs for p in pr.phases) == 1600 * 4800


def test_attention_mapping_by_hand():
    sp = resolve_arch("pim-gpt")
    # score over 300 tokens, 25 heads of 64 (GPT-2 XL): token t on unit t mod 128; a tile of 16
    # heads (1024 query elements) and one of 9; channel 0 holds tokens 0-15, 128-143, 256-271
    # -> 3 slots; each (token, head) is 4 bursts: 3 x (16 + 9) x 4 = 300 MAC commands
    v = mapping.score_vmm(sp, 300, 25, 25, 64, 1024)
    p0 = v.programs[0]
    assert [p.gb_bursts for p in p0.phases] == [64, 36]
    assert p0.mac_bursts == 3 * 25 * 4 and sum(p.outputs for p in p0.phases) == 3 * 25
    assert v.macs == 300 * 25 * 64
    # context: 25 heads x 4 blocks of 16 columns = 100 blocks, 13 on channels 0-3 and 12 on 4-7;
    # each block's column is ceil(300 / 16) = 19 bursts, in its own 64-burst region
    v = mapping.context_vmm(sp, 300, 25, 25, 64, 1024)
    assert [pr.mac_bursts for pr in v.programs] == [13 * 19] * 4 + [12 * 19] * 4
    # the new token's K: 1600 elements = 100 bursts into one bank; its V: one burst per column
    v = mapping.kv_write(sp, 299, 25, 25, 64, 1024)
    writes = sum(getattr(p, "bursts", 0) for pr in v.programs for p in pr.phases)
    row_writes = sum(len(p.banks) for pr in v.programs for p in pr.phases if hasattr(p, "banks"))
    assert writes == 100 and row_writes == 1600


def test_asic_latency_by_hand():
    # LayerNorm over 768 elements on 128 lanes, pipeline 4: mean (6 + 4 + log2 128 = 17), centred
    # squares (6 + 4), their sum (17), inverse sqrt of one value (1 + 4 + 2 + 3 x 2 = 13),
    # normalise with scale and shift (6 + 2 x 4): 17 + 10 + 17 + 13 + 14 = 71 cycles
    a = Asic(resolve_arch("pim-gpt"))
    assert a.layernorm(1, 768).cycles == 71
    # softmax of 12 rows x 100: 1200 elements = 10 beats per pass; scale (10 + 4), max (10 + 11),
    # sub + exp (10 + 4 + 8 + 2), sum (10 + 11), 12 reciprocals (1 + 4 + 1 + 4), multiply (10 + 4)
    assert a.softmax(12, 100).cycles == 14 + 21 + 24 + 21 + 10 + 14


@pytest.fixture(scope="module")
def gpt2_step():
    return run("pim-gpt", "gpt2", phase="decode", seq_len=64)


def test_step_rows_cover_every_op_and_say_what_is_reused(gpt2_step):
    res = gpt2_step
    graph_ops = [op.name for op in load_workload("gpt2", phase="decode", seq_len=64).ops]
    names = [r["op"] for r in res.ops]
    assert set(graph_ops) <= set(names)
    rows = {r["op"]: r for r in res.ops}
    assert rows["layers.0.attn.k_proj"]["fused_into"] == "layers.0.attn.q_proj"
    assert rows["layers.5.mlp.fc1"]["memoized_from"] == "layers.0.mlp.fc1"
    assert rows["layers.0.mlp.fc1"]["memoized_from"] is None
    assert any("layers 1-11 reuse them" in n for n in res.notes)
    t = res.totals
    assert t["layers_simulated"] == 1 and t["steps_reused_from_layer0"] == 11 * 12
    # the rows tile the token's time
    spans = sorted((r["start_cycle"], r["end_cycle"]) for r in res.ops if not r["fused_into"])
    assert spans[0][0] == 0 and spans[-1][1] == t["cycles"]
    assert all(a[1] == b[0] for a, b in zip(spans, spans[1:]))
    assert t["vmm_ns"] + t["data_movement_ns"] + t["non_vmm_ns"] + t["refresh_ns"] == pytest.approx(t["time_ns"])
    assert t["energy_pj"] == pytest.approx(sum(res.energy_breakdown_pj.values()))
    assert t["energy_pj"] == pytest.approx(sum(r["energy_pj"] for r in res.ops), rel=1e-3)


def test_row_hit_rate_is_about_98_percent(gpt2_step):
    # every weight row is read whole: 63 hits in 64 bursts per bank (98.4 %); attention rows,
    # KV writes and refresh reopens take it a little lower (PIM-GPT: ~98 %)
    assert 0.975 <= gpt2_step.totals["row_hit_rate"] <= 0.985


def test_generation_grows_the_context_and_reports_per_token():
    res = run("pim-gpt", "gpt2", phase="decode", seq_len=100, tokens=40, record_events=True)
    t = res.totals
    assert [r["context"] for r in res.ops] == list(range(100, 140))
    assert t["tokens"] == 40 and (t["first_context"], t["last_context"]) == (100, 139)
    lat = [r["latency_ns"] for r in res.ops]
    assert t["latency_per_token_ns"] == pytest.approx(np.mean(lat))
    assert t["tokens_per_s"] == pytest.approx(40 / (t["time_ns"] * 1e-9))
    assert t["energy_per_token_pj"] == pytest.approx(t["energy_pj"] / 40)
    ev = res.events.select(unit="token")
    assert len(ev) == 40
    # attention grows with the context: the last token is slower than the first (refresh apart)
    spec = resolve_arch("pim-gpt").replace(refresh="none")
    short = run(spec, "gpt2", phase="decode", seq_len=100, tokens=1).totals["cycles"]
    long = run(spec, "gpt2", phase="decode", seq_len=900, tokens=1).totals["cycles"]
    assert long > short
    # one generation equals its tokens run one by one (without refresh, whose phase carries over)
    gen = run(spec, "gpt2", phase="decode", seq_len=100, tokens=3).ops
    for i, row in enumerate(gen):
        single = run(spec, "gpt2", phase="decode", seq_len=100 + i).totals
        assert row["cycles"] == single["cycles"] and row["energy_pj"] == pytest.approx(single["energy_pj"])


def test_channel_scaling_is_near_linear():
    lat = {ch: run("pim-gpt", "gpt3-small", phase="decode", seq_len=64, pim_channels=ch,
                   record_events=False).totals["latency_per_token_ns"] for ch in (1, 2, 4, 8)}
    for ch in (2, 4, 8):
        assert 0.9 * ch <= lat[1] / lat[ch] <= ch


def test_asic_at_100_mhz_costs_under_20_percent_and_non_vmm_is_about_1_percent():
    fast = run("pim-gpt", "gpt3-xl", phase="decode", seq_len=128, record_events=False).totals
    slow = run("pim-gpt", "gpt3-xl", phase="decode", seq_len=128, asic_clock_hz=100_000_000,
               record_events=False).totals
    assert 0.004 <= fast["non_vmm_share"] <= 0.02            # PIM-GPT: 1.16 % of GPT3-XL latency
    assert 1.0 < slow["cycles"] / fast["cycles"] <= 1.20     # PIM-GPT: <= 20 %


def test_levels_agree():
    spec = resolve_arch("pim-gpt").replace(refresh="none")
    ev = run(spec, "gpt2", phase="decode", seq_len=64, level="event", record_events=False).totals
    an = run(spec, "gpt2", phase="decode", seq_len=64, level="analytic", record_events=False).totals
    assert abs(an["cycles"] - ev["cycles"]) <= 0.02 * ev["cycles"]
    assert an["row_hits"] == ev["row_hits"] and an["bank_activations"] == ev["bank_activations"]
    with pytest.raises(InputError, match="cycle-stepped reference"):
        run("pim-gpt", "gpt2", phase="decode", level="cycle")


def test_refresh_overlay_matches_the_executor():
    # a step as long as many tREFI: the token timeline's penalty per refresh vs the executor
    # refreshing inside the same program from the same phase
    spec = resolve_arch("pim-gpt")
    dev = PimDevice(spec)
    prog = mapping.weight_vmm(spec, 6400, 1600).programs[0]
    from archsim.hw.dram_pim.device import refreshes_in
    from archsim.hw.dram_pim.executor import run_program

    base = run_program(dev.timing, prog)
    for start in (0, 1000, 2500):
        exact = run_program(dev.timing, prog, refresh_start=start)
        trefi = dev.trefi
        assert trefi == 3325                                  # gddr6-14000 tREFI (test_commands)
        # an interrupted stream stalls at least tRTP 4 + tRP 30 + tRFC 210 + tRCD 30 = 274 cycles
        assert dev.refresh_penalty[0] >= 4 + 30 + 210 + 30
        # the executor's first refresh falls at tREFI - start: the overlay's step starts at `start`
        n = refreshes_in(start, base.cycles, trefi, dev.refresh_penalty[0])
        # the executor only refreshes before a command: one due in the last read-out's tail is not
        assert exact.refreshes in (n - 1, n)
        overlay = base.cycles + n * dev.refresh_penalty[0]
        assert abs(exact.cycles - overlay) <= dev.refresh_penalty[0] + 0.01 * exact.cycles


def test_same_inputs_same_report():
    a = render_report_json(run("pim-gpt", "gpt2", phase="decode", seq_len=32, tokens=3))
    b = render_report_json(run("pim-gpt", "gpt2", phase="decode", seq_len=32, tokens=3))
    assert a == b
    doc = json.loads(a)
    assert doc["arch"]["kind"] == "dram_pim" and doc["arch"]["resolved"]["units"] == 128
    assert doc["options"]["tokens"] == 3 and "schema_version" in doc and "archsim_version" in doc
    for key in ("tokens_per_s", "latency_per_token_ns", "energy_per_token_pj", "row_hit_rate", "vmm_share",
                "non_vmm_share", "vmm_ns", "non_vmm_ns"):
        assert key in doc["totals"]


def test_input_errors():
    with pytest.raises(InputError, match="decode"):
        run("pim-gpt", "gpt2", phase="prefill", seq_len=8)
    with pytest.raises(InputError, match="decoder LLM"):
        run("pim-gpt", "resnet18")
    with pytest.raises(InputError, match="at most 1001 tokens"):
        run("pim-gpt", "gpt2", phase="decode", seq_len=24, tokens=2000)
    with pytest.raises(InputError, match="MoE"):
        run("pim-gpt", "mixtral-8x7b", phase="decode")
    with pytest.raises(InputError, match="banks_per_unit"):
        resolve_arch("pim-gpt").replace(banks_per_unit=3)


def test_plan_fuses_qkv_and_counts_layers():
    plan = build_plan(load_workload("gpt2-xl", phase="decode", seq_len=8))
    kinds = [s.kind for s in plan.steps if s.layer == 0]
    assert kinds == ["asic", "vmm", "kv_write", "score", "asic", "context", "vmm", "asic", "asic", "vmm", "vmm",
                     "asic"]
    qkv = next(s for s in plan.steps if s.name == "layers.0.attn.q_proj")
    assert (qkv.k, qkv.n, qkv.ops) == (1600, 4800, ("layers.0.attn.q_proj", "layers.0.attn.k_proj",
                                                      "layers.0.attn.v_proj"))
    assert sum(1 for s in plan.steps if s.twin) == 47 * 12


def test_gqa_and_rmsnorm_models_run():
    res = run("pim-gpt", "llama-2-7b", phase="decode", seq_len=16, record_events=False)
    assert res.totals["feasible"] is False  # 13.5 GB of weights in 4 GiB of PIM DRAM
    assert any("INFEASIBLE" in n for n in res.notes)
    res = run(resolve_arch("pim-gpt").replace(channels=32), "yi-6b", phase="decode", seq_len=16,
              record_events=False)
    assert res.totals["macs"] > 0 and res.totals["feasible"] is True


def test_counts_are_consistent():
    res = run("hbm-pim", "gpt2", phase="decode", seq_len=33, record_events=False)
    t = res.totals
    assert t["row_hits"] + t["row_misses"] + t["row_conflicts"] > 0
    dev = res.model_data["device"]
    c = res.model_data["tokens"][0].counts
    assert c[CI["accesses"]] == c[CI["hits"]] + c[CI["misses"]] + c[CI["conflicts"]]
    assert dev.programs_simulated < dev.program_lookups
