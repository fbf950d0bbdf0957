"""Physical convention: hand-derived closed forms, and the fidelity ladder
(analytic == event == cycle-stepped reference, which also checks values against numpy)."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from archsim.hw.systolic import cycle as cycle_level
from archsim.hw.systolic.model import simulate
from archsim.hw.systolic.physical import fold_schedule, job_timing
from archsim.hw.systolic.spec import SystolicSpec
from archsim.mapping.gemm import GemmJob, gemm_geometry
from archsim.workload.graph import Graph, Op, OpKind, Tensor


def gemm_job(m, n, k, count=1):
    return GemmJob(m, n, k, count, m * k, k * n, m * n, gemm_geometry(m, n, k))


def one_matmul(m, n, k, batch=1):
    g = Graph("mm")
    a = Tensor("a", (batch, m, k), "int8", "input")
    b = Tensor("b", (k, n), "int8", "weight")
    c = Tensor("c", (batch, m, n), "int8", "activation")
    g.add_op(Op("mm", OpKind.MATMUL, (a, b), (c,), {"batch": batch, "m": m, "n": n, "k": k}))
    return g


def test_os_fold_includes_output_drain_and_true_count():
    # 8x8x8 GEMM on 4x4 OS, no memory limit worth mentioning: 4 folds of T + 2R + C - 2 = 18 cycles.
    # DMA at 4 B/cycle: fold 0 needs A rows 0-3 (32 B) + B cols 0-3 (32 B) -> 16 cycles before the
    # first fold; step 0 overlaps the 8-cycle load of A rows 4-7; steps 1-3 carry a 4-cycle
    # write-back of 16 outputs (+ 8 cycles to load B cols 4-7 in step 1); the epilogue writes the
    # last 16 outputs in 4 cycles: 16 + 4*18 + 4 = 92.
    spec = SystolicSpec(rows=4, cols=4, dataflow="os", dram_bytes_per_cycle=4)
    t = job_timing(fold_schedule(gemm_job(8, 8, 8), spec), 1, spec)
    assert (t.cycles, t.compute_cycles, t.stall_cycles) == (92, 72, 20)


def test_ws_stall_when_dram_is_slow():
    # 4x4x4 GEMM on 2x2 WS at 1 B/cycle: folds (fc, fr) each T + 2R + C - 2 = 4 + 4 + 2 - 2 = 8
    # cycles. Weights: 4 B per fold. A (16 B) fits: loaded by K-slice in the first column pass
    # (8 B each). Partial sums fit (4x2x4 B <= 32 KB): written once per column block (8 B).
    # prologue: A0 8 + W 4 = 12; step0: max(8, load A1 8 + W 4 = 12) = 12; step1: max(8, 4) = 8
    # (the next W only); step2: max(8, write 8 + W 4) = 12; step3: 8; epilogue: write 8.
    spec = SystolicSpec(rows=2, cols=2, dataflow="ws", dram_bytes_per_cycle=1)
    t = job_timing(fold_schedule(gemm_job(4, 4, 4), spec), 1, spec)
    assert t.compute_cycles == 4 * 8
    assert t.cycles == 12 + 12 + 8 + 12 + 8 + 8


def test_latency_is_paid_by_reads_not_writes():
    spec0 = SystolicSpec(rows=4, cols=4, dataflow="os", dram_bytes_per_cycle=1000)
    spec9 = spec0.replace(dram_latency_cycles=9)
    job = gemm_job(4, 4, 4)  # one fold: load, compute, write
    t0 = job_timing(fold_schedule(job, spec0), 1, spec0).cycles
    t9 = job_timing(fold_schedule(job, spec9), 1, spec9).cycles
    assert t9 - t0 == 9


def _ladder(m, n, k, count, rows, cols, df, bw, lat, sram):
    spec = SystolicSpec(rows=rows, cols=cols, dataflow=df, dram_bytes_per_cycle=bw, dram_latency_cycles=lat,
                        ifmap_sram_bytes=sram, filter_sram_bytes=sram, ofmap_sram_bytes=sram)
    sched = fold_schedule(gemm_job(m, n, k, count), spec)
    analytic = job_timing(sched, count, spec)
    rng = np.random.default_rng(m * 1000 + n * 100 + k)
    a_list = [rng.integers(-128, 128, (m, k)) for _ in range(count)]
    b_list = [rng.integers(-128, 128, (k, n)) for _ in range(count)]
    cyc = cycle_level.run_gemm(a_list, b_list, sched, spec)
    for out, a, b in zip(cyc.outputs, a_list, b_list):
        np.testing.assert_array_equal(out, a @ b)
    assert cyc.cycles == analytic.cycles
    assert cyc.macs == m * n * k * count
    assert cyc.ifmap_sram_reads == int(sched.ifmap_sram_reads.sum()) * count
    assert cyc.filter_sram_reads == int(sched.filter_sram_reads.sum()) * count
    assert cyc.ofmap_sram_writes == int(sched.ofmap_sram_writes.sum()) * count
    assert cyc.ofmap_sram_reads == int(sched.ofmap_sram_reads.sum()) * count
    assert cyc.dram_read_bytes == int(sched.load_bytes.sum()) * count
    assert cyc.dram_write_bytes == int(sched.write_bytes.sum()) * count
    assert cyc.fold_cycles == [] or all(fc >= c for fc, c in zip(cyc.fold_cycles, np.tile(sched.compute_cycles, count)))
    g = one_matmul(m, n, k, count)
    ev = simulate(g, spec, level="event")
    an = simulate(g, spec, level="analytic")
    assert ev.totals["cycles"] == an.totals["cycles"] == analytic.cycles
    assert sorted(ev.events.rows()) == sorted(an.events.rows())


@pytest.mark.parametrize("df", ["os", "ws", "is"])
def test_ladder_directed(df):
    _ladder(13, 9, 7, 2, 4, 3, df, 2.5, 3, 64)  # small SRAM: nothing resident, psums spill
    _ladder(5, 11, 6, 1, 3, 4, df, 64, 0, 1 << 20)  # everything fits, DRAM never the bottleneck


@given(
    m=st.integers(1, 14), n=st.integers(1, 14), k=st.integers(1, 14), count=st.integers(1, 2),
    rows=st.integers(1, 5), cols=st.integers(1, 5), df=st.sampled_from(["os", "ws", "is"]),
    bw=st.sampled_from([0.5, 1, 3, 7.25, 64]), lat=st.integers(0, 6), sram=st.sampled_from([16, 96, 4096]),
)
def test_ladder_random_shapes(m, n, k, count, rows, cols, df, bw, lat, sram):
    """The physical default equals the cycle-stepped reference on random small cases."""
    _ladder(m, n, k, count, rows, cols, df, bw, lat, sram)


def test_cycle_level_through_the_facade_checks_values():
    spec = SystolicSpec(rows=4, cols=4, dataflow="ws")
    res = simulate(one_matmul(9, 6, 5), spec, level="cycle")
    assert res.ops[0]["values_checked"] is True
    assert res.totals["cycles"] == simulate(one_matmul(9, 6, 5), spec, level="analytic").totals["cycles"]


def test_cycle_level_line_trace():
    spec = SystolicSpec(rows=2, cols=2, dataflow="os")
    sched = fold_schedule(gemm_job(2, 2, 2), spec)
    res = cycle_level.run_gemm([np.ones((2, 2), int)], [np.ones((2, 2), int)], sched, spec, trace=True)
    assert len(res.trace) == res.cycles and "array:" in res.trace[0]
