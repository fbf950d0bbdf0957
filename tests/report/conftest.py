"""Hand-built event tables and a small RunResult for the report tests."""

from __future__ import annotations

import pytest

from archsim.engine.actions import ActionCounts
from archsim.engine.events import EventTable
from archsim.results import RunResult


def make_events() -> EventTable:
    """Two units at 500 MHz (1 cycle = 2 ns).

    pe:   conv1 [0, 10) util 0.5, conv2 [10, 20) util 1.0
    dram: read [4, 8) 64 B, read [6, 12) 24 B (overlaps the first: second lane), write [14, 16) 32 B
    """
    ev = EventTable(clock_hz=500e6, meta={"source": "hand-built"})
    ev.append(0, 10, "pe", "conv1", "compute", macs=100, util=0.5)
    ev.append(4, 8, "dram", "conv1", "dram_read", bytes=64)
    ev.append(6, 12, "dram", "conv1", "dram_read", bytes=24)
    ev.append(10, 20, "pe", "conv2", "compute", macs=200, util=1.0)
    ev.append(14, 16, "dram", "conv2", "dram_write", bytes=32)
    return ev


def make_result(events: EventTable | None = None, **overrides) -> RunResult:
    actions = ActionCounts()
    actions.add("pe.mac", "mac", "compute", 300)
    actions.add("dram", "dram", "read", 88)
    fields = dict(
        arch={"name": "toy", "clock_hz": 500e6, "rows": 4},
        workload={"name": "two-convs", "ops": 2},
        ops=[
            {
                "op": "conv1",
                "kind": "conv",
                "unit": "pe",
                "start_cycle": 0,
                "end_cycle": 12,
                "cycles": 12,
                "macs": 100,
                "utilization": 0.5,
                "dram_read_bytes": 88,
                "energy_pj": 150.25,
                "tile": [2, 2],
            },
            {
                "op": "conv2",
                "kind": "conv",
                "unit": "pe",
                "start_cycle": 10,
                "end_cycle": 20,
                "cycles": 10,
                "macs": 200,
                "utilization": 1.0,
                "dram_write_bytes": 32,
                "energy_pj": 250.0,
                "memoized_from": None,
                "note": "a, b",
            },
        ],
        totals={"cycles": 20, "time_ns": 40.0, "macs": 300, "energy_pj": 400.25},
        events=events if events is not None else make_events(),
        actions=actions,
        energy_breakdown_pj={"mac": 100.0, "dram": 290.25, "sram": 10.0},
        seed=7,
    )
    fields.update(overrides)
    return RunResult(**fields)


@pytest.fixture
def events() -> EventTable:
    return make_events()


@pytest.fixture
def result() -> RunResult:
    return make_result()


@pytest.fixture
def make_run():
    """Factory: ``make_run(events=None, **RunResult field overrides)``."""
    return make_result
