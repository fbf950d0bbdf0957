"""Pareto fronts (against the definition, by hand and by brute force) and archsim pareto."""

from __future__ import annotations

import json

import numpy as np
import pytest

from archsim.cli import main
from archsim.dse import build_sweep, pareto_front, pareto_mask, run_sweep

from .helpers import SMALL_ARCH


def brute_force(v: np.ndarray) -> np.ndarray:
    n = len(v)
    return np.array([not any(all(v[j] <= v[i]) and any(v[j] < v[i]) for j in range(n) if j != i)
                     for i in range(n)])


def test_hand_cases():
    pts = np.array([(1, 5), (2, 3), (3, 4), (4, 1), (2, 3), (5, 5), (4, 2)])
    assert pareto_mask(pts).tolist() == [True, True, False, True, True, False, False]
    assert pareto_mask(np.array([(1, 2), (1, 1), (0, 3)])).tolist() == [False, True, True]
    assert pareto_mask(np.array([(1, 0.5), (2, 0.9), (3, 0.7)]), [False, True]).tolist() == [True, True, False]
    assert pareto_mask(np.zeros((0, 2))).tolist() == []


@pytest.mark.parametrize("d", [2, 3])
def test_matches_brute_force(d):
    rng = np.random.default_rng(7)
    v = rng.integers(0, 12, size=(200, d)).astype(float)
    assert (pareto_mask(v) == brute_force(v)).all()


def test_front_rows_sorted_and_missing_values_left_out():
    rows = [{"point": 0, "e": 3.0, "c": 1}, {"point": 1, "e": 1.0, "c": 3}, {"point": 2, "e": 2.0, "c": 2},
            {"point": 3, "e": 2.5, "c": 2.5}, {"point": 4, "e": None, "c": 0}]
    assert [r["point"] for r in pareto_front(rows, "e", "c")] == [1, 2, 0]


@pytest.fixture
def sweep_dir(tmp_path, gemm_file):
    spec = build_sweep({"name": "p", "arch": SMALL_ARCH, "workloads": [str(gemm_file(m=64, n=48, k=40))],
                        "axes": {"rows": [2, 4, 8, 16], "cols": [2, 4, 8, 16], "dataflow": ["os", "ws"]}})
    res = run_sweep(spec, tmp_path / "s", workers=1, progress=False)
    return tmp_path / "s", res.rows


def test_cli_prints_front_and_writes_a_deterministic_png(sweep_dir, capsys):
    out, rows = sweep_dir
    assert main(["pareto", str(out), "--x", "area_mm2", "--y", "cycles"]) == 0
    text = capsys.readouterr().out
    png = out / "pareto_area_mm2_cycles.png"
    first = png.read_bytes()
    assert first[:8] == b"\x89PNG\r\n\x1a\n"
    front = pareto_front(rows, "area_mm2", "cycles")
    assert f"{len(front)} of {len(rows)} points" in text
    assert main(["pareto", str(out), "--x", "area_mm2", "--y", "cycles", "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert [r["key"] for r in doc["front"]] == [r["key"] for r in front]
    # smallest area first, fewest cycles last; no other point beats a front point in both
    assert doc["front"][0]["area_mm2"] == min(r["area_mm2"] for r in rows)
    assert doc["front"][-1]["cycles"] == min(r["cycles"] for r in rows)
    assert png.read_bytes() == first


def test_cli_where_maximize_and_errors(sweep_dir, capsys):
    out, rows = sweep_dir
    assert main(["pareto", str(out), "--x", "area_mm2", "--y", "utilization", "--maximize", "utilization",
                 "--where", "dataflow=ws", "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    ws = [r for r in rows if r["dataflow"] == "ws"]
    want = pareto_front(ws, "area_mm2", "utilization", maximize=["utilization"])
    assert [r["key"] for r in doc["front"]] == [r["key"] for r in want]
    for argv in (["--x", "cyclez"], ["--where", "flavour=x"], ["--maximize", "macs"]):
        assert main(["pareto", str(out), *argv]) == 2
        assert capsys.readouterr().err.count("\n") == 1
    assert main(["pareto", str(out.parent / "nothing")]) == 2
