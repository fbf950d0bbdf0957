"""Roofline baseline: per-op time derived by hand from the datasheet numbers in the presets."""

import pytest

from archsim.api import resolve_arch
from archsim.hw.xpu.model import op_time_ns, simulate
from archsim.workload.graph import Graph, Op, OpKind, Tensor


def gemv_graph(k=4096, n=4096):
    g = Graph("gemv")
    x = Tensor("x", (1, k), "fp16", "input")
    w = Tensor("w", (k, n), "fp16", "weight")
    y = Tensor("y", (1, n), "fp16")
    g.add_op(Op("fc", OpKind.MATMUL, (x, w), (y,), {"m": 1, "n": n, "k": k}))
    return g


def test_h100_gemv_is_memory_bound_at_peak_bandwidth():
    spec = resolve_arch("h100")
    op = gemv_graph().ops[0]
    t, comp, mem, ops, nbytes = op_time_ns(op, spec)
    # bytes: 4096 (x) + 4096*4096 (w) + 4096 (y), all fp16
    assert nbytes == 2 * (4096 + 4096 * 4096 + 4096)
    assert mem == pytest.approx(nbytes / 3.352e12 * 1e9)
    assert comp == pytest.approx(2 * 4096 * 4096 / 989.4e12 * 1e9)
    assert t == pytest.approx(mem)


def test_t4_launch_overhead_and_efficiency():
    spec = resolve_arch("t4")
    op = gemv_graph(64, 64).ops[0]
    t, comp, mem, _, nbytes = op_time_ns(op, spec)
    assert mem == pytest.approx(nbytes / (320e9 * 0.8) * 1e9)
    assert t == pytest.approx(max(comp, mem) + 5000)


def test_xeon_fp16_falls_back_to_fp32_peak():
    spec = resolve_arch("xeon-6154")
    assert spec.peak("fp16") == 1.728e12


def test_result_totals_and_energy():
    res = simulate(gemv_graph(), resolve_arch("h100"))
    nbytes = 2 * (4096 + 4096 * 4096 + 4096)
    assert res.totals["energy_pj"] == pytest.approx(0.23 * 2 * 4096 * 4096 + 27.84 * nbytes)
    assert res.totals["time_ns"] == pytest.approx(nbytes / 3.352e12 * 1e9)
