"""Sweep rows against hand-derived cycle counts, energies and areas (not computed with archsim).

One matmul C[8x4] = A[8x16] W[16x4] (int8) on a 4x4 output-stationary array, 16 B/cycle or
2 B/cycle of DRAM, no latency, SRAMs that hold everything:

* folds: M=8 on the rows (2 row folds), N=4 on the columns (1 column fold), K=16 streamed;
  each fold takes K + 2R + C - 2 = 16 + 8 + 4 - 2 = 26 cycles;
* loads: fold 0 = its 4 rows of A (64 B) + the whole 16x4 filter block (64 B) = 128 B, fold 1 =
  its 64 B of A (the filter block stays); writes: 4x4 outputs = 16 B per fold;
* 16 B/cycle: load 8 + 4 cycles, write 1 cycle:  8 + max(26, 4) + max(26, 1) + 1 = 61 cycles;
* 2 B/cycle:  load 64 + 32, write 8:            64 + max(26, 32) + max(26, 8) + 8 = 130 cycles;
* the same GEMM 3 times back to back (batch 3): fold loads 128, 64, 128, 64, 128, 64 B;
  16 B/cycle: 8 + 6 x 26 + 1 = 165; 2 B/cycle: 64 + (32 + 72 + 40 + 72 + 40 + 26) + 8 = 354.

Energy (default table, 45 nm): 512 MACs x 0.23 pJ; SRAM bytes: ifmap 128 read + 128 written,
filter 128 read + 64 written, ofmap 2 x 16 partial sums x 4 B = 128 written + 32 B read for the
write-back, 608 B x 2.5 pJ; DRAM 192 B read + 32 B written = 224 B x 31.2 pJ.
"""

from __future__ import annotations

import pytest

from archsim.dse import build_sweep, run_sweep

from .helpers import SMALL_ARCH

PE_MM2 = 0.24 * 331 / 65536  # TPU v1: MXU 24 % of a <= 331 mm2 die, 65,536 PEs
SRAM_MM2_PER_BYTE = 0.29 * 331 / (24 * 2**20)  # Unified Buffer: 29 % for 24 MiB
ENERGY_ONE_PJ = 512 * 0.23 + 608 * 2.5 + 224 * 31.2


def test_rows_match_hand_derivation(tmp_path, gemm_file):
    one, three = gemm_file("one.json"), gemm_file("three.json", batch=3)
    spec = build_sweep({"arch": SMALL_ARCH, "workloads": [str(one), str(three)],
                        "axes": {"dram_bytes_per_cycle": [16, 2]}}, source=None)
    res = run_sweep(spec, tmp_path / "out", workers=1, progress=False)
    got = {(r["workload"], r["dram_bytes_per_cycle"]): r for r in res.rows}
    assert [r["status"] for r in res.rows] == ["ok"] * 4
    assert got[("one", 16.0)]["cycles"] == 61
    assert got[("one", 2.0)]["cycles"] == 130
    assert got[("three", 16.0)]["cycles"] == 165
    assert got[("three", 2.0)]["cycles"] == 354
    assert got[("one", 16.0)]["utilization"] == pytest.approx(512 / (61 * 16))
    assert got[("one", 2.0)]["stall_cycles"] == 130 - 52
    assert got[("one", 16.0)]["time_ns"] == pytest.approx(61.0)
    assert got[("one", 16.0)]["dram_read_bytes"] == 192 and got[("one", 16.0)]["dram_write_bytes"] == 32
    for (name, _), r in got.items():
        reps = 3 if name == "three" else 1
        assert r["macs"] == 512 * reps
        assert r["energy_pj"] == pytest.approx(ENERGY_ONE_PJ * reps)
        assert r["area_mm2"] == pytest.approx(16 * PE_MM2 + 3 * 65536 * SRAM_MM2_PER_BYTE)


def test_area_model_reproduces_tpu_v1_floorplan():
    """A 256x256 array with 24 MiB of SRAM is the TPU v1's MXU + Unified Buffer: 53 % of 331 mm2."""
    from archsim.dse.area import AreaModel
    from archsim.hw.systolic.spec import SystolicSpec

    tpu = SystolicSpec(rows=256, cols=256, ifmap_sram_bytes=16 * 2**20, filter_sram_bytes=4 * 2**20,
                       ofmap_sram_bytes=4 * 2**20)
    assert AreaModel().area_mm2(tpu) == pytest.approx(0.53 * 331)
    assert AreaModel(pe_mm2=1.0, sram_mm2_per_byte=0.0).area_mm2(tpu) == 65536
