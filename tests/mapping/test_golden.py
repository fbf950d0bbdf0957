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
#: Scratchpad = M_R, the largest single-op working set (int8, so bytes = elements):
#:   resnet18 layer4.0.conv2: in 512x7x7 + weight 512x512x3x3 + bias 512 + out 512x7x7
#:   resnet50 layer4.0.conv2: in 512x14x14 + weight 512x512x3x3 + bias 512 + out 512x7x7
#:   mobilenet_v1 conv2_pw: in 32x112x112 + weight 64x32 + bias 64 + out 64x112x112
#: resnet18 traffic: layer4.0.conv2 and layer4.1.conv2 each fill M_R exactly, so whatever else is
#: live across them goes to DRAM and back (spill + reload). Across layer4.1.conv2 that is the
#: residual layer4.0.add.out (512x7x7 = 25088); across layer4.0.conv2 the cheapest choice is
#: layer4.0.downsample.out (25088, downsample run first) rather than layer3.1.add.out (256x14x14 =
#: 50176): optimum 2 x 2 x 25088. The graph order (downsample after conv2) pays
#: 2 x 50176 + 2 x 25088 for the same two steps: the best baseline.
#: resnet50 traffic: layer4.0.conv2 fills M_R exactly. Across it either layer3.5.add.out
#: (1024x14x14 = 200704, downsample run after conv2, the graph order) or layer4.0.downsample.out
#: (2048x7x7 = 100352, downsample run first) is live; the second is cheaper and feasible if
#: downsample also runs before conv1 (its working set, 200704 + 2048x1024 + 2048 + 100352 =
#: 2400256, leaves 84992 bytes, too few for conv1's 512x14x14 output). layer4.1.conv2 and
#: layer4.2.conv2 use 512x7x7 + 512x512x3x3 + 512 + 512x7x7 = 2409984, leaving 75264, too few for
#: the residual live across each (layer4.0.add.out, layer4.1.add.out: 100352, read again by the
#: block's add). Every other op leaves room for what is live across it. Optimum: 3 x 2 x 100352.
#: resnet50's best baseline: a regression value from the saved mapping file (no hand derivation).
#: mobilenet_v1 is a chain: across each op only its own input and output are live, and every op's
#: working set is at most M_R by the definition of M_R, so nothing is spilled, by the optimum or
#: by the baselines.
R18_MR = 512 * 7 * 7 + 512 * 512 * 3 * 3 + 512 + 512 * 7 * 7  # 2409984
R18_NC = 2 * 2 * (512 * 7 * 7)  # 100352
R18_BASE = 2 * (256 * 14 * 14) + 2 * (512 * 7 * 7)  # 150528
R50_MR = 512 * 14 * 14 + 512 * 512 * 3 * 3 + 512 + 512 * 7 * 7  # 2485248
R50_NC = 3 * 2 * (2048 * 7 * 7)  # 602112
GOLDEN = {
    "resnet18": (R18_MR, R18_NC, R18_BASE),
    "resnet50": (R50_MR, R50_NC, 10436608),
    "mobilenet_v1": (32 * 112 * 112 + 64 * 32 + 64 + 64 * 112 * 112, 0, 0),  # 1206336
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
