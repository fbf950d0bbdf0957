"""Timeline export: the EventTable as Chrome Trace Event JSON, loadable by ui.perfetto.dev.

Layout: one process (pid 1, named by the title); one thread per unit (tid 1, 2, ... in order of
first appearance), ordered by ``thread_sort_index``. Spans of one unit that overlap in time go
to extra lanes (threads named ``"<unit> [1]"``, ``"<unit> [2]"``, ...; tids after the units')
because a Perfetto thread can only hold properly nested slices.

Time: ``ts``/``dur`` are microseconds, ``ts = start_cycle * 1e6 / clock_hz``. Perfetto stores
whole nanoseconds (it rounds ``ts * 1000``), so both span edges are rounded to the nearest ns
here, exactly, and ``dur = end - start``: back-to-back spans stay back to back and no slice
overlaps its neighbour. Values that are whole microseconds are written as integers. The exact
cycles are in each span's ``args`` and ``otherData`` records ``clock_hz`` and "1 cycle = X ns".
Pass ``ns_per_cycle=1`` to read the timeline directly in cycles (1 cycle shown as 1 ns).

Counters (``ph: "C"``, one sample per change, never per cycle; Perfetto names a counter track
"<event name> <arg key>"):

* ``<unit> util`` (event name ``<unit>``, arg ``util``): the ``util`` column as a step
  function; where spans of the unit overlap the max is shown; 0 when nothing is active. Only
  units with some ``util > 0``.
* ``<unit> bandwidth read_bytes_per_cycle`` / ``... write_bytes_per_cycle`` (event name
  ``<unit> bandwidth``, one arg per direction present): for units with ``dram_read`` /
  ``dram_write`` spans, each span's bytes spread evenly over its cycles; overlapping spans add.
"""

from __future__ import annotations

import heapq
import json
import os
from collections.abc import Sequence
from fractions import Fraction
from operator import itemgetter
from pathlib import Path
from typing import Any

from archsim import __version__
from archsim.engine.events import EventTable
from archsim.errors import InputError
from archsim.report.atomic import atomic_write_text
from archsim.report.checks import check_events
from archsim.report.json_report import to_jsonable
from archsim.report.steps import max_steps, rate_steps

PID = 1
#: event kinds that feed the DRAM bandwidth counters, and their counter series names
DRAM_KINDS = {"dram_read": "read_bytes_per_cycle", "dram_write": "write_bytes_per_cycle"}

_RANK_SPAN, _RANK_COUNTER = 0, 1


class _Clock:
    """Exact cycle -> whole-ns conversion (round half up) for one ``ns_per_cycle`` ratio."""

    def __init__(self, ns_per_cycle: Fraction):
        self.ratio = ns_per_cycle
        self._p, self._q = ns_per_cycle.numerator, ns_per_cycle.denominator

    def ns(self, cycles: int) -> int:
        return (2 * cycles * self._p + self._q) // (2 * self._q)

    @staticmethod
    def us(ns: int) -> int | float:
        """Whole ns as microseconds: an int when exact, else the nearest float (e.g. 1.234)."""
        return ns // 1000 if ns % 1000 == 0 else ns / 1000


def _clock(clock_hz: float, ns_per_cycle: float | None) -> _Clock:
    if ns_per_cycle is None:
        return _Clock(Fraction(10**9) / Fraction(clock_hz))
    if not (isinstance(ns_per_cycle, int | float) and 0 < ns_per_cycle < float("inf")):
        raise InputError(None, "ns_per_cycle", "a finite number of ns > 0", ns_per_cycle)
    return _Clock(Fraction(ns_per_cycle))


def _lanes(codes: list[int], start: list[int], end: list[int]) -> list[int]:
    """Per row, the lowest lane of its unit that is free at its start (interval partitioning)."""
    n = len(codes)
    lanes = [0] * n
    order = sorted(range(n), key=lambda i: (codes[i], start[i], end[i], i))
    unit = None
    free: list[int] = []
    busy: list[tuple[int, int]] = []
    n_lanes = 0
    for i in order:
        if codes[i] != unit:
            unit, free, busy, n_lanes = codes[i], [], [], 0
        while busy and busy[0][0] <= start[i]:
            heapq.heappush(free, heapq.heappop(busy)[1])
        if free:
            lane = heapq.heappop(free)
        else:
            lane, n_lanes = n_lanes, n_lanes + 1
        heapq.heappush(busy, (end[i], lane))
        lanes[i] = lane
    return lanes


def _counter_samples(
    name: str, tid: int, samples: list[tuple[int, dict[str, float]]], clock: _Clock
) -> list[tuple[tuple, dict]]:
    """Counter events for change points ``(cycle, args)``; samples that round to the same ns
    keep the last value, and repeats of the previous value are dropped."""
    by_ns: dict[int, dict[str, float]] = {}
    for cycle, args in samples:
        by_ns[clock.ns(cycle)] = args
    out: list[tuple[tuple, dict]] = []
    last: dict[str, float] | None = None
    for ns, args in by_ns.items():
        if args == last:
            continue
        last = args
        ev = {"name": name, "ph": "C", "ts": clock.us(ns), "pid": PID, "tid": tid, "args": args}
        out.append(((ns, tid, _RANK_COUNTER, ns, len(out)), ev))
    return out


def _bandwidth_samples(series: dict[str, list[tuple[int, float]]]) -> list[tuple[int, dict[str, float]]]:
    """Merge per-series step functions into one sample (all series) per change cycle."""
    changes = sorted((t, k, v) for k, steps in series.items() for t, v in steps)
    current = dict.fromkeys(series, 0.0)
    out: list[tuple[int, dict[str, float]]] = []
    for t, k, v in changes:
        current[k] = v
        if out and out[-1][0] == t:
            out[-1] = (t, dict(current))
        else:
            out.append((t, dict(current)))
    return out


def to_chrome_trace(
    events: EventTable, *, title: str = "", counters: bool = True, ns_per_cycle: float | None = None
) -> dict[str, Any]:
    """The Chrome Trace Event document for ``events`` (see the module docstring).

    Returns ``{"traceEvents": [...], "displayTimeUnit": "ns", "otherData": {...}}``: metadata
    events first, then spans and counters sorted by (ts, tid). ``ns_per_cycle`` overrides the
    ``1e9 / events.clock_hz`` time base.
    """
    check_events(events)
    clock = _clock(events.clock_hz, ns_per_cycle)
    cols = events.columns()
    start, end = cols["start_cycle"].tolist(), cols["end_cycle"].tolist()
    unit_col, op_col, kind_col = cols["unit"].tolist(), cols["op"].tolist(), cols["kind"].tolist()
    nbytes, macs, util = cols["bytes"].tolist(), cols["macs"].tolist(), cols["util"].tolist()
    units = events.units
    code_of = {u: i for i, u in enumerate(units)}
    codes = [code_of[u] for u in unit_col]
    lanes = _lanes(codes, start, end)

    # threads: lane 0 of unit i is tid i+1; extra lanes get tids after all units
    tracks = sorted(set(zip(codes, lanes)))
    extra = iter(range(len(units) + 1, len(units) + len(tracks) + 1))
    tid_of = {(c, lane): (c + 1 if lane == 0 else next(extra)) for c, lane in tracks}

    name = title or "archsim"
    meta: list[dict[str, Any]] = [
        {"name": "process_name", "ph": "M", "pid": PID, "tid": 0, "args": {"name": name}}
    ]
    for sort_index, (c, lane) in enumerate(tracks):
        tid = tid_of[(c, lane)]
        thread = units[c] if lane == 0 else f"{units[c]} [{lane}]"
        meta.append({"name": "thread_name", "ph": "M", "pid": PID, "tid": tid, "args": {"name": thread}})
        meta.append(
            {
                "name": "thread_sort_index",
                "ph": "M",
                "pid": PID,
                "tid": tid,
                "args": {"sort_index": sort_index},
            }
        )

    timed: list[tuple[tuple, dict]] = []
    for i in range(len(start)):
        t0, t1 = clock.ns(start[i]), clock.ns(end[i])
        tid = tid_of[(codes[i], lanes[i])]
        ev = {
            "name": op_col[i] or kind_col[i] or "span",
            "cat": kind_col[i],
            "ph": "X",
            "ts": clock.us(t0),
            "dur": clock.us(t1 - t0),
            "pid": PID,
            "tid": tid,
            "args": {
                "op": op_col[i],
                "kind": kind_col[i],
                "start_cycle": start[i],
                "cycles": end[i] - start[i],
                "bytes": nbytes[i],
                "macs": macs[i],
                "util": util[i],
            },
        }
        timed.append(((t0, tid, _RANK_SPAN, t1, i), ev))

    if counters:
        timed += _counters(units, codes, kind_col, start, end, nbytes, util, clock)
    timed.sort(key=itemgetter(0))

    ns_per_cycle_f = float(clock.ratio)
    other = {
        "title": name,
        "generator": f"archsim {__version__}",
        "clock_hz": events.clock_hz,
        "ns_per_cycle": ns_per_cycle_f,
        "time_base": f"ts/dur in us; 1 cycle = {ns_per_cycle_f:.12g} ns; span edges rounded to whole ns",
        "spans": len(start),
        "end_cycle": events.end_cycle,
        "meta": to_jsonable(events.meta, "meta"),
    }
    return {"traceEvents": meta + [ev for _, ev in timed], "displayTimeUnit": "ns", "otherData": other}


def _counters(
    units: Sequence[str],
    codes: list[int],
    kinds: list[str],
    start: list[int],
    end: list[int],
    nbytes: list[int],
    util: list[float],
    clock: _Clock,
) -> list[tuple[tuple, dict]]:
    rows_of: list[list[int]] = [[] for _ in units]
    for i, c in enumerate(codes):
        rows_of[c].append(i)
    out: list[tuple[tuple, dict]] = []
    for c, rows in enumerate(rows_of):
        tid = c + 1
        if any(util[i] > 0 for i in rows):
            steps = max_steps([start[i] for i in rows], [end[i] for i in rows], [util[i] for i in rows])
            out += _counter_samples(units[c], tid, [(t, {"util": v}) for t, v in steps], clock)
        series = {}
        for kind, key in DRAM_KINDS.items():
            sel = [i for i in rows if kinds[i] == kind]
            if sel:
                series[key] = rate_steps(
                    [start[i] for i in sel], [end[i] for i in sel], [nbytes[i] for i in sel]
                )
        if series:
            out += _counter_samples(f"{units[c]} bandwidth", tid, _bandwidth_samples(series), clock)
    return out


def render_perfetto(trace: dict[str, Any]) -> str:
    """JSON text for a trace document: compact, one trace event per line (diffable)."""

    dumps = json.JSONEncoder(separators=(",", ":"), allow_nan=False).encode
    parts = []
    for key, value in trace.items():
        if key == "traceEvents":
            body = "[\n" + ",\n".join(dumps(ev) for ev in value) + "\n]"
        else:
            body = dumps(value)
        parts.append(f"{dumps(key)}:{body}")
    return "{" + ",\n".join(parts) + "}\n"


def write_perfetto(
    events: EventTable,
    path: str | os.PathLike[str],
    *,
    title: str = "",
    counters: bool = True,
    ns_per_cycle: float | None = None,
) -> Path:
    """Write :func:`to_chrome_trace` of ``events`` to ``path`` atomically; returns the path."""
    check_events(events, path)
    trace = to_chrome_trace(events, title=title, counters=counters, ns_per_cycle=ns_per_cycle)
    return atomic_write_text(path, render_perfetto(trace))
