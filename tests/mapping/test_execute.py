"""Executing a mapping on the systolic model (``archsim run --mapping``): the simulated DRAM
traffic is exactly the mapping's, the two levels agree, and timing follows the address plan."""

import json
import subprocess
import sys

import pytest

from archsim.errors import InputError
from archsim.hw.systolic.model import simulate
from archsim.hw.systolic.spec import SystolicSpec
from archsim.mapping.api import map_graph
from archsim.mapping.execute import execute_mapping
from archsim.mapping.mapping_file import Mapping, mapping_document, write_mapping
from archsim.mapping.optimize import MapOptions
from archsim.mapping.plan import Plan, Residency, evaluate
from archsim.mapping.problem import MemProblem
from archsim.workload import load_workload
from archsim.workload.importers.plain_graph import plain_graph

SPEC = SystolicSpec(name="t", rows=32, cols=32, dataflow="ws", ifmap_sram_bytes=1 << 20, filter_sram_bytes=1 << 20,
                    ofmap_sram_bytes=1 << 20, dram_bytes_per_cycle=64, dram_latency_cycles=100)


@pytest.fixture(scope="module")
def r18_mapping(tmp_path_factory):
    g = load_workload("resnet18")
    r = map_graph(g, "M_R", options=MapOptions(time_limit_s=10))
    path = write_mapping(mapping_document(r, graph_params=g.params), tmp_path_factory.mktemp("m") / "r18.json")
    return g, r, path


@pytest.mark.parametrize("level", ["analytic", "event"])
def test_dram_traffic_is_the_mappings(r18_mapping, level):
    g, r, path = r18_mapping
    res = simulate(g, SPEC, level=level, mapping=str(path))
    c = r.cost
    loads = sum(x.bytes for x in c.transfers if x.when == "before")
    writes = sum(x.bytes for x in c.transfers if x.when == "after")
    assert loads == c.compulsory_load_bytes + c.reload_bytes
    assert writes == c.compulsory_store_bytes + c.spill_bytes
    t = res.totals
    assert (t["dram_read_bytes"], t["dram_write_bytes"]) == (loads, writes)
    assert t["dram_read_bytes"] + t["dram_write_bytes"] == c.total_bytes
    assert (t["compulsory_bytes"], t["non_compulsory_bytes"]) == (c.compulsory_bytes, c.non_compulsory_bytes)
    ev = res.events.columns()
    dram = ev["unit"] == "dram"
    assert int(ev["bytes"][dram & (ev["kind"] == "dram_read")].sum()) == loads
    assert int(ev["bytes"][dram & (ev["kind"] == "dram_write")].sum()) == writes
    acts = {(row["component"], row["action"]): row["count"] for row in res.actions.rows()}
    assert acts[("dram", "read_bytes")] == loads and acts[("dram", "write_bytes")] == writes
    assert [row["op"] for row in res.ops] == [r.problem.op_names[v] for v in r.plan.order]
    assert sum(row["macs"] for row in res.ops) == g.total_macs


def test_analytic_equals_event(r18_mapping):
    g, _, path = r18_mapping
    a = simulate(g, SPEC, level="analytic", mapping=str(path))
    e = simulate(g, SPEC, level="event", mapping=str(path))
    assert a.totals == e.totals
    assert [(o["start_cycle"], o["end_cycle"]) for o in a.ops] == [(o["start_cycle"], o["end_cycle"]) for o in e.ops]
    assert sorted(a.events.rows()) == sorted(e.events.rows())


def test_gemm_compute_is_the_fold_time(r18_mapping):
    """conv1 of ResNet-18 on a 32x32 WS array: m = 112*112 = 12544, n = 64, k = 7*7*3 = 147.
    WS folds: rows over k (ceil(147/32) = 5), columns over n (64/32 = 2), T = m; each fold
    T + 2R + C - 2 = 12544 + 64 + 32 - 2 = 12638 cycles; 10 folds = 126380 cycles."""
    g, _, path = r18_mapping
    res = simulate(g, SPEC, level="analytic", mapping=str(path))
    conv1 = next(o for o in res.ops if o["op"] == "conv1")
    assert conv1["compute_cycles"] == 10 * 12638


def _hand(w_addr: int):
    """x(1000 B) -> a (elementwise, 1000 B) -> b (elementwise, 500 B, weight 500 B)."""
    doc = {"name": "hand", "inputs": {"x": 1000},
           "ops": [{"name": "a", "output_bytes": 1000}, {"name": "b", "output_bytes": 500, "weight_bytes": 500}],
           "edges": [["x", "a"], ["a", "b"]]}
    g = plain_graph(doc)
    p = MemProblem.from_graph(g, 10000)
    t = p.tensor_index()
    plan = Plan.of([0, 1], [Residency(t["x"], 0, 0, 0), Residency(t["a"], 0, 1, 1000),
                            Residency(t["b.weight"], 1, 1, w_addr), Residency(t["b"], 1, 1, 2500)])
    m = Mapping("hand", p, plan, evaluate(p, plan), {"status": "HAND"})
    spec = SystolicSpec(name="h", rows=4, cols=4, ifmap_sram_bytes=4000, filter_sram_bytes=4000,
                        ofmap_sram_bytes=4000, dram_bytes_per_cycle=10, dram_latency_cycles=100, vector_lanes=10)
    return g, spec, m


@pytest.mark.parametrize("level", ["analytic", "event"])
def test_hand_timeline_with_prefetch(level):
    """bw 10 B/cycle, latency 100, 10 lanes. DMA order: load x, then b's weight (its range
    2000..2499 is never used before, so it is prefetched), then the store of b.
    x: link 0-100, arrives 200. weight: link 200-250, arrives 350. a computes 1000 ops / 10 =
    100 cycles from 200 to 300; b waits for its weight: 350-400 (500 ops); store b: 400-450."""
    g, spec, m = _hand(2000)
    res = execute_mapping(g, spec, m, level=level)
    assert res.totals["cycles"] == 450 and res.totals["epilogue_cycles"] == 50
    a, b = res.ops
    assert (a["start_cycle"], a["end_cycle"], a["compute_cycles"], a["stall_cycles"]) == (0, 300, 100, 200)
    assert (b["start_cycle"], b["end_cycle"], b["compute_cycles"], b["stall_cycles"]) == (300, 400, 50, 50)
    assert (a["dram_read_bytes"], b["dram_read_bytes"], b["dram_write_bytes"]) == (1000, 500, 500)
    spans = sorted((s, e, k, n) for s, e, u, _op, k, n, _m, _ut in res.events.rows() if u == "dram")
    assert spans == [(0, 100, "dram_read", 1000), (200, 250, "dram_read", 500), (400, 450, "dram_write", 500)]


@pytest.mark.parametrize("level", ["analytic", "event"])
def test_hand_timeline_waits_for_a_busy_range(level):
    """The same plan with b's weight at address 0, where x sits while a runs: the weight can
    only be loaded after a ends (300): link 300-350, arrives 450; b 450-500; store 500-550."""
    g, spec, m = _hand(0)
    res = execute_mapping(g, spec, m, level=level)
    assert res.totals["cycles"] == 550
    assert [(o["start_cycle"], o["end_cycle"]) for o in res.ops] == [(0, 300), (300, 500)]


def test_refusals(r18_mapping, tmp_path):
    g, r, path = r18_mapping
    small = SystolicSpec(name="small", ifmap_sram_bytes=1 << 18, filter_sram_bytes=1 << 18, ofmap_sram_bytes=1 << 18)
    with pytest.raises(InputError, match="inputs.scratchpad_bytes: expected at most 786432 bytes"):
        simulate(g, small, mapping=str(path))
    with pytest.raises(InputError, match="--level"):
        simulate(g, SPEC, level="cycle", mapping=str(path))
    with pytest.raises(InputError, match="--convention"):
        simulate(g, SPEC.replace(convention="scalesim"), mapping=str(path))
    with pytest.raises(InputError, match="inputs.graph"):
        simulate(load_workload("mobilenet_v1"), SPEC, mapping=str(path))
    act = map_graph(g, "M_R", options=MapOptions(time_limit_s=5), include_weights=False)
    apath = write_mapping(mapping_document(act), tmp_path / "act.json")
    with pytest.raises(InputError, match="weights_in_scratchpad"):
        simulate(g, SPEC, mapping=str(apath))


def test_cli_run_with_mapping(r18_mapping, tmp_path):
    _, r, path = r18_mapping
    out = tmp_path / "run"
    cmd = [sys.executable, "-m", "archsim.cli", "run", "--arch", "tpu-like-128", "--workload", "resnet18",
           "--mapping", str(path)]
    res = subprocess.run(cmd + ["--out", str(out)], capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    rep = json.loads((out / "report.json").read_text())
    assert rep["totals"]["dram_read_bytes"] + rep["totals"]["dram_write_bytes"] == r.cost.total_bytes
    assert rep["options"]["mapping"]["graph_hash"] == r.problem.graph_hash
    assert (out / "timeline.perfetto.json").stat().st_size > 0
    bad = subprocess.run([sys.executable, "-m", "archsim.cli", "run", "--arch", "tpu-like-128", "--workload",
                          "mobilenet_v1", "--mapping", str(path)], capture_output=True, text=True)
    assert bad.returncode == 2 and len(bad.stderr.strip().splitlines()) == 1 and "inputs.graph" in bad.stderr
