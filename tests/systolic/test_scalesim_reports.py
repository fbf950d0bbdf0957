"""``archsim run --convention scalesim`` writes SCALE-Sim's report files byte for byte as SCALE-Sim
2.0.2 itself wrote them (tests/golden/scalesim/reports/, see its README)."""

import subprocess
import sys
from pathlib import Path

import pytest

REPORTS = Path(__file__).parents[1] / "golden" / "scalesim" / "reports"
FILES = ("COMPUTE_REPORT.csv", "BANDWIDTH_REPORT.csv", "DETAILED_ACCESS_REPORT.csv")


@pytest.mark.parametrize("df", ["os", "ws", "is"])
@pytest.mark.parametrize("topo, golden", [("dp.csv", "dp"), ("g.csv", "gemm")])
def test_report_files_identical_to_scalesim(tmp_path, df, topo, golden):
    out = tmp_path / "out"
    r = subprocess.run([sys.executable, "-m", "archsim.cli", "run", "--arch", str(REPORTS / f"small_{df}.cfg"),
                        "--workload", str(REPORTS / topo), "--convention", "scalesim", "--level", "analytic",
                        "--out", str(out)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    for f in FILES:
        assert (out / f).read_bytes() == (REPORTS / f"{golden}_{df}" / f).read_bytes(), f
