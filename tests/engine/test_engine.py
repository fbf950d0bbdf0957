"""Engine: integer-tick clock domains, links, components and the event/action recorders."""

from fractions import Fraction

import numpy as np
import pytest

from archsim.engine import ActionCounts, Component, EventTable, Link, Simulation, transfer_cycles
from archsim.errors import InputError


def test_clock_domains_share_an_exact_tick():
    sim = Simulation({"core": 700_000_000, "dram": 1_000_000_000})
    # lcm(7e8, 1e9) = 7e9 ticks per second: 10 ticks per core cycle, 7 per DRAM cycle
    assert sim.base_hz == 7_000_000_000
    assert sim.clock("core").period_ticks == 10 and sim.clock("dram").period_ticks == 7


def test_components_in_two_domains_meet_at_exact_times():
    sim = Simulation({"core": 3, "mem": 2})  # 6 ticks per second: core cycle = 2 ticks, mem cycle = 3
    core, mem = Component(sim, "core0", "core"), Component(sim, "mem0", "mem")
    seen = []

    def proc(c, n):
        yield c.cycles(n)
        seen.append((c.name, sim.now_ticks))

    sim.process(proc(core, 3))  # 3 core cycles = 6 ticks = 1 s
    sim.process(proc(mem, 2))  # 2 mem cycles = 6 ticks = 1 s
    sim.run()
    assert sorted(seen) == [("core0", 6), ("mem0", 6)]


def test_bad_clock_is_an_input_error():
    with pytest.raises(InputError, match="clocks.core"):
        Simulation({"core": 1.5e9 + 0.5})


def test_link_serialises_and_pipelines_latency():
    sim = Simulation({"core": 1_000_000_000})
    link = Link(sim, "dram", "core", Fraction(5, 2), latency_cycles=4)
    done = []

    def xfer(n, tag):
        yield from link.transfer(n, op=tag, kind="dram_read")
        done.append((tag, link.now_cycles))

    sim.process(xfer(10, "a"))  # ceil(10 / 2.5) = 4 cycles busy, data at 4 + 4 = 8
    sim.process(xfer(3, "b"))  # waits for a: busy 4..6 (ceil(3/2.5)=2), data at 6 + 4 = 10
    sim.run()
    assert done == [("a", 8), ("b", 10)]
    assert sorted(sim.events.rows())[0][:5] == (0, 4, "dram", "a", "dram_read")
    assert sim.actions.get("dram", "dram_read_bytes") == 13
    assert transfer_cycles(0, 3) == 0 and transfer_cycles(7, 0.5) == 14


def test_event_table_append_extend_select_and_shift():
    t = EventTable(clock_hz=2e9)
    t.append(0, 5, "pe", "op1", "compute", macs=10, util=0.5)
    t.extend(start_cycle=np.array([5, 9]), end_cycle=np.array([9, 12]), unit="dram", op=["op1", "op2"],
             kind="dram_read", bytes=np.array([64, 32]))
    assert len(t) == 3 and t.units == ["pe", "dram"] and t.end_cycle == 12
    sel = t.select(unit="dram", op="op2")
    assert list(sel.rows()) == [(9, 12, "dram", "op2", "dram_read", 32, 0, 0.0)]
    u = EventTable(clock_hz=2e9)
    u.append_table(t, shift_cycles=100, op="copy")
    assert u.columns()["start_cycle"].tolist() == [100, 105, 109]
    assert set(u.columns()["op"].tolist()) == {"copy"}
    assert t.cycles_to_ns(4) == 2.0


def test_action_counts_add_merge_scale():
    a = ActionCounts()
    a.add("pe", "mac_int8", "mac", 5)
    b = ActionCounts()
    b.add("pe", "mac_int8", "mac", 2)
    b.add("sram", "sram", "read_bytes", 7)
    c = a + b.scaled(3)
    assert c.get("pe", "mac") == 11 and c.get("sram", "read_bytes") == 21
    assert ActionCounts.from_rows(c.rows()).counts == c.counts
