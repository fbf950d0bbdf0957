"""The examples users copy run (reduced axes, --quick) and say what they claim."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((ROOT / "examples").glob("*.py"))


@pytest.mark.parametrize("script", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_example_runs_quick(script, tmp_path):
    proc = subprocess.run([sys.executable, str(script), str(tmp_path), "--quick", "--workers", "2"],
                          capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "wrote" in proc.stdout
    pngs = list(tmp_path.glob("*.png"))
    assert pngs and all(p.read_bytes()[:4] == b"\x89PNG" for p in pngs)
    assert (tmp_path / "sweep" / "results.sqlite").is_file() and (tmp_path / "sweep" / "results.csv").is_file()


def test_draco_depthwise_layer_by_hand():
    """conv2_dw of MobileNetV1 (112x112, 32 channels, G=1) on DRACO's 64x64 WS array: each of the
    32 groups is a GEMM M=12544, N=1, K=9 -> one fold of K x N = 9 x 1 PEs streaming T = M rows:
    12544 + 2*64 + 64 - 2 = 12734 cycles. DMA per group: load 12544 B of ifmap + 9 B of weights
    (100 + ceil(12553/256) = 150 cycles), write 12544 B (49 cycles): never longer than a fold.
    Total 150 + 32 x 12734 + 49 = 407,687 cycles; utilization 32 x 12544 x 9 / (407,687 x 4096)."""
    sys.path.insert(0, str(ROOT / "examples"))
    try:
        from draco_channels_per_group import ARCH
    finally:
        sys.path.pop(0)
    from archsim.api import run
    from archsim.dse import build_sweep
    from archsim.workload import load_workload

    arch = build_sweep({"arch": ARCH, "workloads": ["mobilenet_v1"]}).base
    res = run(arch, load_workload("mobilenet_v1"), level="analytic", record_events=False)
    row = next(r for r in res.ops if r["op"] == "conv2_dw")
    assert row["cycles"] == 150 + 32 * 12734 + 49
    assert row["utilization"] == pytest.approx(32 * 12544 * 9 / (407_687 * 4096))
    assert row["utilization"] < 0.0025  # 9 of 4,096 PEs mapped
