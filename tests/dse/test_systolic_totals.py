"""The sweep fast path (archsim.hw.systolic.totals.analytic_totals) equals simulate() at the
analytic level: every total, the energy float included, for random GEMMs/convolutions and specs
and for whole networks. (simulate's analytic level is itself checked against the cycle-stepped
reference and SCALE-Sim in tests/systolic.) Hand-derived values: test_hand_rows.py."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from archsim.api import resolve_arch
from archsim.energy import EnergyTable
from archsim.hw.systolic.model import simulate
from archsim.hw.systolic.spec import SystolicSpec
from archsim.hw.systolic.totals import LoweredWorkload, analytic_totals
from archsim.workload import load_workload
from archsim.workload.builders.layers import conv2d, elementwise
from archsim.workload.graph import Graph, Op, OpKind, Tensor

TABLE = EnergyTable.load("default")


def _check(graph: Graph, spec: SystolicSpec) -> None:
    want = simulate(graph, spec, level="analytic", record_events=False, energy_table=TABLE).totals
    got = analytic_totals(LoweredWorkload.of(graph), spec, TABLE)
    assert got == want


specs = st.builds(
    SystolicSpec,
    rows=st.integers(1, 24), cols=st.integers(1, 24), dataflow=st.sampled_from(["os", "ws", "is"]),
    acc_bytes=st.sampled_from([2, 4]),
    ifmap_sram_bytes=st.integers(64, 1 << 16), filter_sram_bytes=st.integers(64, 1 << 16),
    ofmap_sram_bytes=st.integers(64, 1 << 16),
    dram_bytes_per_cycle=st.sampled_from([1.0, 3.7, 16.0, 64.0, 0.5]),
    dram_latency_cycles=st.integers(0, 120), vector_lanes=st.integers(1, 64),
)


@st.composite
def graphs(draw) -> Graph:
    g = Graph("random")
    dtype = draw(st.sampled_from(["int8", "fp16"]))
    for i in range(draw(st.integers(1, 3))):
        if draw(st.booleans()):
            groups = draw(st.sampled_from([1, 2, 3, 4]))
            cin = groups * draw(st.integers(1, 4))
            cout = groups * draw(st.integers(1, 4))
            hw = draw(st.integers(3, 14))
            x = Tensor(f"x{i}", (draw(st.integers(1, 2)), cin, hw, hw), dtype, "input")
            y = conv2d(g, f"conv{i}", x, cout, draw(st.sampled_from([1, 3])), stride=draw(st.sampled_from([1, 2])),
                       pad=draw(st.integers(0, 1)), groups=groups)
            if draw(st.booleans()):
                elementwise(g, f"relu{i}", (y,), y.shape, fn="relu")
        else:
            b, m, n, k = (draw(st.integers(1, 6)), draw(st.integers(1, 40)), draw(st.integers(1, 40)),
                          draw(st.integers(1, 40)))
            x = Tensor(f"a{i}", (b, m, k), dtype, "input")
            w = Tensor(f"w{i}", (b, k, n), dtype, "weight")
            y = Tensor(f"c{i}", (b, m, n), dtype, "activation")
            g.add_op(Op(f"mm{i}", OpKind.MATMUL, (x, w), (y,), {"batch": b, "m": m, "n": n, "k": k}))
    return g


@given(graphs(), specs)
def test_random_graphs_equal_simulate(graph, spec):
    _check(graph, spec)


@pytest.mark.parametrize("workload, kw", [
    ("resnet50", {}),
    ("mobilenet_v1", {"channels_per_group": 8}),
    ("gpt2", {"phase": "decode", "seq_len": 256, "batch": 2}),
])
@pytest.mark.parametrize("rows, cols, dataflow", [(16, 8, "os"), (64, 64, "ws"), (128, 32, "is")])
def test_networks_equal_simulate(workload, kw, rows, cols, dataflow):
    spec = resolve_arch("tpu-like-128").replace(rows=rows, cols=cols, dataflow=dataflow,
                                                 ifmap_sram_bytes=262144, ofmap_sram_bytes=65536)
    _check(load_workload(workload, **kw), spec)


def test_other_conventions_are_refused():
    with pytest.raises(ValueError):
        analytic_totals(LoweredWorkload.of(load_workload("resnet18")), SystolicSpec(convention="scalesim"), TABLE)
