"""The saved mappings in mappings/ (ResNet-18, ResNet-50 and MobileNetV1 at their single-op
minimum scratchpad, M_R): still valid for the zoo's graphs, still optimal, executable."""

from pathlib import Path

import pytest

from archsim.hw.systolic.spec import SystolicSpec
from archsim.mapping.api import map_graph
from archsim.mapping.execute import execute_mapping
from archsim.mapping.mapping_file import load_mapping, problem_for_mapping
from archsim.mapping.optimize import MapOptions
from archsim.workload import load_workload

MAPPINGS = Path(__file__).resolve().parents[2] / "mappings"
#: model -> (scratchpad bytes, non-compulsory bytes, best baseline's non-compulsory bytes)
GOLDEN = {
    "resnet18": (2409984, 100352, 150528),
    "resnet50": (2485248, 602112, 10436608),
    "mobilenet_v1": (1206336, 0, 0),
}


@pytest.mark.parametrize("model", sorted(GOLDEN))
def test_golden_mapping(model):
    sp, nc, base = GOLDEN[model]
    m = load_mapping(MAPPINGS / f"{model}_M_R.json")  # loading re-checks the whole plan
    g = load_workload(model)
    m.check_graph(problem_for_mapping(g, m))
    d = m.document
    assert d["status"] == "OPTIMAL" and d["inputs"]["scratchpad_bytes"] == sp
    assert m.cost.non_compulsory_bytes == nc == d["traffic"]["bound_bytes"]
    assert d["baselines"][d["best_baseline"]]["non_compulsory_bytes"] == base
    # solving again gives the same figures
    r = map_graph(g, sp, options=MapOptions(time_limit_s=30))
    assert (r.status, r.cost.non_compulsory_bytes, r.cost.compulsory_bytes, r.cost.peak_bytes) == (
        "OPTIMAL", nc, m.cost.compulsory_bytes, m.cost.peak_bytes)
    spec = SystolicSpec(name="u", rows=128, cols=128, dataflow="ws", ifmap_sram_bytes=sp, filter_sram_bytes=1,
                        ofmap_sram_bytes=1)
    res = execute_mapping(g, spec, m, level="analytic", record_events=False)
    assert res.totals["dram_read_bytes"] + res.totals["dram_write_bytes"] == m.cost.total_bytes
