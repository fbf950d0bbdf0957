"""The request-level SimPy API (DramPort) and the systolic array's ``--dram`` option."""

import subprocess
import sys

import pytest

from archsim.api import run
from archsim.engine import Simulation
from archsim.hw.dram.port import DramPort
from archsim.hw.dram.standard import load_standard
from archsim.hw.systolic.spec import SystolicSpec
from archsim.workload.graph import Graph, Op, OpKind, Tensor


def test_port_read_then_write_closed_form():
    # DDR4-2400 (1.2 GHz) next to a 1 GHz core: SimPy ticks are 1/6 GHz, a DRAM cycle is 5 ticks.
    # Read 8 KB = one row of bank 0 (128 requests, column bits lowest): ACT at 0, RDs at 17 + 6k
    # (tRCD, then tCCD_L), the last returns at 17 + 6 * 127 + CL 17 + tBURST 4 = 800.
    # Then 4 KB written at 1 MB = row 8 of bank 0: PRE at 800 (tRAS, tRTP long met), ACT at
    # 800 + tRP = 817, WRs at 817 + tRCD = 834 + 6k; a write completes when its last burst issues:
    # 834 + 6 * 63 = 1212.
    s = load_standard("ddr4-2400")
    sim = Simulation({"core": 1_000_000_000, "dram": s.clock_hz})
    dram = DramPort(sim, "dram", s)
    done = {}

    def dma(env):
        yield dram.read(0, 8192, op="a")
        done["read"] = env.now
        yield dram.write(1 << 20, 4096, op="b")
        done["write"] = env.now

    sim.process(dma(sim.env))
    sim.run()
    assert done == {"read": 800 * 5, "write": 1212 * 5}
    r = dram.finish()
    assert r.total_cycles == 1213
    assert r.command_totals() == {"ACT": 2, "PRE": 1, "PREA": 0, "RD": 128, "WR": 64, "RDA": 0, "WRA": 0,
                                  "REFab": 0, "REFpb": 0}
    assert r.active_cycles == [[800 + (1213 - 817)]]
    ev = sim.events.to_dict()  # spans in core cycles (5/6 of a DRAM cycle each)
    assert ev["kind"] == ["dram_read", "dram_write"] and ev["bytes"] == [8192, 4096]
    assert ev["end_cycle"] == [800 * 5 // 6, 1212 * 5 // 6]


def test_port_concurrent_streams_and_idle_refresh_catch_up():
    # two transfers in flight at once share the controller; a transfer after a long idle gap sees
    # the refreshes that fell due meanwhile (tREFI = 3900 cycles on HBM2, one per pseudo-channel)
    s = load_standard("hbm2")
    sim = Simulation({"dram": s.clock_hz})
    dram = DramPort(sim, "dram", s)
    out = []

    def reader(env, base, delay):
        yield env.timeout(delay)
        yield dram.read(base, 2048)
        out.append((base, env.now))

    sim.process(reader(sim.env, 0, 0))
    sim.process(reader(sim.env, 1 << 26, 0))
    sim.process(reader(sim.env, 1 << 27, 10_000))
    sim.run()
    assert [b for b, _ in out] == [0, 1 << 26, 1 << 27]
    assert out[2][1] > 10_000
    r = dram.finish()
    assert r.command_totals()["REFab"] == 2 * (r.total_cycles // 3900) and r.total_cycles > 10_000


def vector_graph(nbytes):
    g = Graph("v")
    x = Tensor("x", (nbytes,), "int8", "input")
    y = Tensor("y", (nbytes,), "int8", "activation")
    g.add_op(Op("relu", OpKind.ELEMENTWISE, (x,), (y,), {"elements": nbytes}))
    return g


def test_systolic_dram_option_end_to_end():
    spec = SystolicSpec(rows=16, cols=16, dataflow="ws", clock_hz=1_000_000_000, dram_bytes_per_cycle=32,
                        vector_lanes=4096)
    g = vector_graph(1 << 18)
    base = run(spec, g, level="event")
    analytic = run(spec, g, level="analytic")
    assert base.totals["cycles"] == analytic.totals["cycles"]  # no --dram: unchanged
    d = run(spec, g, level="event", dram="hbm2")
    # 256 KiB read + 256 KiB written through one HBM2 channel (32 GB/s peak = 32 B per 1 GHz core
    # cycle): at least 512 KiB / 32 B of data-bus time
    assert d.totals["cycles"] >= 2 * (1 << 18) // 32
    assert d.actions.get("dram.read", "read_burst") == (1 << 18) // 32
    assert d.actions.get("dram.write", "write_burst") == (1 << 18) // 32
    assert d.actions.get("dram", "read_bytes") == 0
    assert "dram.act" in d.energy_breakdown_pj and any("DRAM: hbm2" in n for n in d.notes)
    four = run(spec, g, level="event", dram="hbm2", dram_channels=4)
    assert four.totals["cycles"] < d.totals["cycles"] / 2.5
    again = run(spec, g, level="event", dram="hbm2")
    assert again.totals == d.totals  # deterministic
    a = run(spec, g, level="analytic", dram="hbm2")
    assert a.totals["cycles"] == analytic.totals["cycles"] and any("fixed-bandwidth" in n for n in a.notes)


def test_systolic_gemm_with_dram_is_at_least_its_compute():
    spec = SystolicSpec(rows=32, cols=32, dataflow="os", clock_hz=1_000_000_000, ifmap_sram_bytes=4096,
                        filter_sram_bytes=4096, ofmap_sram_bytes=4096)
    g = Graph("mm")
    a = Tensor("a", (1, 256, 256), "int8", "input")
    b = Tensor("b", (256, 256), "int8", "weight")
    c = Tensor("c", (1, 256, 256), "int8", "activation")
    g.add_op(Op("mm", OpKind.MATMUL, (a, b), (c,), {"batch": 1, "m": 256, "n": 256, "k": 256}))
    res = run(spec, g, level="event", dram="ddr4-2400")
    row = res.ops[0]
    assert row["cycles"] >= row["compute_cycles"] and row["stall_cycles"] > 0
    assert res.actions.get("dram.act", "act") > 0


def test_unknown_dram_standard_is_exit_2():
    r = subprocess.run([sys.executable, "-m", "archsim.cli", "run", "--arch", "tpu-like-128", "--workload",
                        "resnet18", "--dram", "hbm9"], capture_output=True, text=True)
    assert r.returncode == 2 and "--standard" in r.stderr and r.stderr.count("\n") == 1


def test_spec_field_validation():
    with pytest.raises(Exception, match="dram_channels"):
        SystolicSpec(dram="hbm2", dram_channels=0)
