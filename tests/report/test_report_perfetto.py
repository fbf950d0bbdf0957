"""Chrome Trace Event JSON: exact structure and timestamps for a hand-built table."""

from __future__ import annotations

import json

import numpy as np
import pytest

from archsim.engine.events import EventTable
from archsim.errors import InputError
from archsim.report.perfetto import render_perfetto, to_chrome_trace, write_perfetto


def _meta(name, tid, args):
    return {"name": name, "ph": "M", "pid": 1, "tid": tid, "args": args}


def _span(op, kind, ts, dur, tid, start, cycles, nbytes=0, macs=0, util=0.0):
    return {
        "name": op,
        "cat": kind,
        "ph": "X",
        "ts": ts,
        "dur": dur,
        "pid": 1,
        "tid": tid,
        "args": {
            "op": op,
            "kind": kind,
            "start_cycle": start,
            "cycles": cycles,
            "bytes": nbytes,
            "macs": macs,
            "util": util,
        },
    }


def _counter(name, ts, tid, **args):
    return {"name": name, "ph": "C", "ts": ts, "pid": 1, "tid": tid, "args": args}


def test_exact_trace_for_hand_built_table(events):
    """500 MHz: 1 cycle = 2 ns = 0.002 us. See conftest.make_events for the spans."""
    trace = to_chrome_trace(events, title="toy run")
    bw = "dram bandwidth"
    assert trace["traceEvents"] == [
        _meta("process_name", 0, {"name": "toy run"}),
        _meta("thread_name", 1, {"name": "pe"}),
        _meta("thread_sort_index", 1, {"sort_index": 0}),
        _meta("thread_name", 2, {"name": "dram"}),
        _meta("thread_sort_index", 2, {"sort_index": 1}),
        _meta("thread_name", 3, {"name": "dram [1]"}),  # lane for the overlapping read
        _meta("thread_sort_index", 3, {"sort_index": 2}),
        # cycle 0
        _span("conv1", "compute", 0, 0.02, 1, 0, 10, macs=100, util=0.5),
        _counter("pe", 0, 1, util=0.5),
        # cycle 4: read of 64 B over 4 cycles = 16 B/cycle
        _span("conv1", "dram_read", 0.008, 0.008, 2, 4, 4, nbytes=64),
        _counter(bw, 0.008, 2, read_bytes_per_cycle=16.0, write_bytes_per_cycle=0.0),
        # cycle 6: second read (24 B / 6 cycles = 4 B/cycle) overlaps: bandwidth adds
        _counter(bw, 0.012, 2, read_bytes_per_cycle=20.0, write_bytes_per_cycle=0.0),
        _span("conv1", "dram_read", 0.012, 0.012, 3, 6, 6, nbytes=24),
        # cycle 8: first read ends
        _counter(bw, 0.016, 2, read_bytes_per_cycle=4.0, write_bytes_per_cycle=0.0),
        # cycle 10
        _span("conv2", "compute", 0.02, 0.02, 1, 10, 10, macs=200, util=1.0),
        _counter("pe", 0.02, 1, util=1.0),
        # cycle 12: second read ends
        _counter(bw, 0.024, 2, read_bytes_per_cycle=0.0, write_bytes_per_cycle=0.0),
        # cycle 14: write of 32 B over 2 cycles, back in lane 0
        _span("conv2", "dram_write", 0.028, 0.004, 2, 14, 2, nbytes=32),
        _counter(bw, 0.028, 2, read_bytes_per_cycle=0.0, write_bytes_per_cycle=16.0),
        _counter(bw, 0.032, 2, read_bytes_per_cycle=0.0, write_bytes_per_cycle=0.0),
        # cycle 20: pe idle
        _counter("pe", 0.04, 1, util=0.0),
    ]
    assert trace["displayTimeUnit"] == "ns"
    other = trace["otherData"]
    assert other["clock_hz"] == 500e6
    assert other["ns_per_cycle"] == 2.0
    assert "1 cycle = 2 ns" in other["time_base"]
    assert other["spans"] == 5 and other["end_cycle"] == 20
    assert other["meta"] == {"source": "hand-built"}


def test_timed_events_sorted_by_ts_then_tid(events):
    timed = [e for e in to_chrome_trace(events)["traceEvents"] if e["ph"] != "M"]
    keys = [(e["ts"], e["tid"]) for e in timed]
    assert keys == sorted(keys)


def test_whole_microseconds_are_ints():
    ev = EventTable(clock_hz=1e6)  # 1 cycle = 1 us
    ev.append(3, 10, "pe", "a", "compute", util=1.0)
    span = [e for e in to_chrome_trace(ev)["traceEvents"] if e["ph"] == "X"][0]
    assert (span["ts"], span["dur"]) == (3, 7)
    assert type(span["ts"]) is int and type(span["dur"]) is int


def test_non_integer_ns_clock_keeps_spans_back_to_back():
    """1.5 GHz: cycle edges fall on 2/3 ns; each edge rounds to the nearest ns on its own,
    dur is the difference, so span i ends exactly where span i+1 starts (as Perfetto reads it)."""
    ev = EventTable(clock_hz=1.5e9)
    for k in range(10):
        ev.append(k, k + 1, "pe", f"t{k}", "compute", util=1.0)
    spans = [e for e in to_chrome_trace(ev, counters=False)["traceEvents"] if e["ph"] == "X"]
    ns = [(round(e["ts"] * 1000), round(e["dur"] * 1000)) for e in spans]
    assert [t for t, _ in ns] == [round(k * 2 / 3 + 1e-9) for k in range(10)]  # 0,1,1,2,3,3,4,5,5,6
    for (t0, d0), (t1, _) in zip(ns, ns[1:]):
        assert t0 + d0 == t1
    assert all(d >= 0 for _, d in ns)


def test_ns_per_cycle_override_shows_cycles_as_ns(events):
    trace = to_chrome_trace(events, ns_per_cycle=1)
    conv2 = [e for e in trace["traceEvents"] if e.get("name") == "conv2" and e["ph"] == "X"][0]
    assert (conv2["ts"], conv2["dur"]) == (0.01, 0.01)
    assert trace["otherData"]["ns_per_cycle"] == 1.0
    with pytest.raises(InputError, match="ns_per_cycle"):
        to_chrome_trace(events, ns_per_cycle=0)


def test_overlapping_util_uses_the_max():
    ev = EventTable(clock_hz=1e9)
    ev.append(0, 10, "pe", "a", "compute", util=0.3)
    ev.append(5, 15, "pe", "b", "compute", util=0.8)
    ev.append(6, 8, "pe", "c", "compute", util=0.5)
    trace = to_chrome_trace(ev)
    util = [(e["ts"], e["args"]["util"]) for e in trace["traceEvents"] if e["ph"] == "C"]
    assert util == [(0, 0.3), (0.005, 0.8), (0.015, 0.0)]
    lanes = {e["args"]["op"]: e["tid"] for e in trace["traceEvents"] if e["ph"] == "X"}
    assert lanes == {"a": 1, "b": 2, "c": 3}
    names = {e["tid"]: e["args"]["name"] for e in trace["traceEvents"] if e["name"] == "thread_name"}
    assert names == {1: "pe", 2: "pe [1]", 3: "pe [2]"}


def test_no_counters_when_disabled_or_util_is_zero(events):
    assert not [e for e in to_chrome_trace(events, counters=False)["traceEvents"] if e["ph"] == "C"]
    ev = EventTable()
    ev.append(0, 5, "sram", "a", "stall")
    assert not [e for e in to_chrome_trace(ev)["traceEvents"] if e["ph"] == "C"]


def test_empty_table_gives_a_valid_trace(tmp_path):
    path = write_perfetto(EventTable(), tmp_path / "t.json", title="empty")
    doc = json.loads(path.read_text())
    assert doc["traceEvents"] == [_meta("process_name", 0, {"name": "empty"})]
    assert doc["otherData"]["spans"] == 0


def test_written_file_is_the_trace_and_deterministic(tmp_path, events):
    a = write_perfetto(events, tmp_path / "a.json", title="x")
    b = write_perfetto(events, tmp_path / "b.json", title="x")
    assert a.read_bytes() == b.read_bytes()
    assert json.loads(a.read_text()) == to_chrome_trace(events, title="x")
    lines = a.read_text().splitlines()
    assert lines[0] == '{"traceEvents":['
    assert len(lines) == len(to_chrome_trace(events)["traceEvents"]) + 4  # one event per line


def test_invalid_table_is_rejected(tmp_path):
    ev = EventTable()
    ev.append(0, 4, "pe", "a", "compute", util=1.5)
    path = tmp_path / "t.json"
    with pytest.raises(InputError, match=r"events\[0\]\.util"):
        write_perfetto(ev, path)
    assert not path.exists()


def test_large_table_stays_compact():
    """20k spans: one X per span, counters only at changes, a few hundred bytes per span."""
    n = 20_000
    rng = np.random.default_rng(1)
    start = np.arange(n, dtype=np.int64) * 10
    ev = EventTable(clock_hz=1e9)
    ev.extend(
        start_cycle=start,
        end_cycle=start + rng.integers(1, 10, n),
        unit="pe",
        op="gemm",
        kind="compute",
        macs=64,
        util=1.0,
    )
    trace = to_chrome_trace(ev)
    counts = {ph: sum(e["ph"] == ph for e in trace["traceEvents"]) for ph in "MXC"}
    assert counts == {"M": 3, "X": n, "C": 2 * n}
    assert len(render_perfetto(trace)) / n < 400
