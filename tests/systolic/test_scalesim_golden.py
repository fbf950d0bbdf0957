"""archsim's scalesim convention against real SCALE-Sim v2 (2.0.2) runs, on every report column.

The golden files in tests/golden/scalesim/ were produced by running SCALE-Sim itself
(tools/scalesim_golden.py; see tests/golden/scalesim/README.md). Every layer of every case must
agree exactly: cycles, stalls, the three utilizations, SRAM and DRAM access counts, DRAM start and
stop cycles and the average bandwidths.
"""

import json
from pathlib import Path

import pytest

from archsim.hw.systolic.scalesim import (
    BANDWIDTH_REPORT,
    COMPUTE_REPORT,
    DETAILED_ACCESS_REPORT,
    simulate_layer,
)
from archsim.hw.systolic.spec import SystolicSpec
from archsim.mapping.gemm import ConvGeometry, gemm_geometry

GOLDEN = Path(__file__).parents[1] / "golden" / "scalesim"
COLUMNS = COMPUTE_REPORT + BANDWIDTH_REPORT + DETAILED_ACCESS_REPORT
FAST_GROUPS = ("worked_examples", "random_cases")


def _cases(groups):
    for name in groups:
        path = GOLDEN / f"{name}.json"
        for case in json.loads(path.read_text())["cases"]:
            yield pytest.param(case, id=case["case"])


def _geometries(case):
    for row in case["topology"]:
        if case["input_type"] == "gemm":
            yield row[0], gemm_geometry(int(row[1]), int(row[2]), int(row[3]))
        else:
            vals = [int(x) for x in row[1:]]
            if len(vals) == 7:
                vals.append(vals[6])
            yield row[0], ConvGeometry(*vals)


def _spec(case):
    c = case["cfg"]
    return SystolicSpec(rows=c["ArrayHeight"], cols=c["ArrayWidth"], dataflow=c["Dataflow"], convention="scalesim",
                        ifmap_sram_bytes=c["IfmapSramSzkB"] * 1024, filter_sram_bytes=c["FilterSramSzkB"] * 1024,
                        ofmap_sram_bytes=c["OfmapSramSzkB"] * 1024)


def _check(case):
    spec = _spec(case)
    for (name, geo), gold in zip(_geometries(case), case["layers"], strict=True):
        got = simulate_layer(geo, spec)
        diffs = {col: (getattr(got, field), gold[col]) for col, field in COLUMNS if getattr(got, field) != gold[col]}
        assert not diffs, f"{case['case']} layer {name}: (archsim, SCALE-Sim) {diffs}"


@pytest.mark.parametrize("case", list(_cases(FAST_GROUPS)))
def test_layer_equals_scalesim(case):
    _check(case)


@pytest.mark.slow
@pytest.mark.parametrize("case", list(_cases(("resnet50_128",))))
def test_resnet50_128x128_equals_scalesim(case):
    _check(case)
