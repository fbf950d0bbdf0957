"""Input checks shared by the exporters: a bad table or result raises one InputError naming the row.

Exporters check before they render, and :func:`archsim.report.write_run` renders everything
before it writes anything, so an invalid result never leaves files behind.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from archsim.engine.events import EventTable
from archsim.errors import InputError

#: slack allowed above util = 1.0 for float round-off in the models
UTIL_TOLERANCE = 1e-9


def check_events(events: EventTable, source: str | Path | None = None) -> None:
    """Raise InputError unless every span is well formed.

    Requires a finite positive ``clock_hz``, ``0 <= start_cycle <= end_cycle``, non-negative
    ``bytes``/``macs`` and ``util`` finite in ``[0, 1]``. ``source`` names the output in the error.
    """
    if not isinstance(events, EventTable):
        raise InputError(source, "events", "an archsim.engine.events.EventTable", type(events).__name__)
    if not (math.isfinite(events.clock_hz) and events.clock_hz > 0):
        raise InputError(source, "events.clock_hz", "a finite clock frequency > 0 Hz", events.clock_hz)
    cols = events.columns()
    start, end = cols["start_cycle"], cols["end_cycle"]
    util = cols["util"]
    problems = (
        ("start_cycle", start < 0, "a cycle >= 0", start),
        ("end_cycle", end < start, "end_cycle >= start_cycle", end),
        ("bytes", cols["bytes"] < 0, "bytes >= 0", cols["bytes"]),
        ("macs", cols["macs"] < 0, "macs >= 0", cols["macs"]),
        (
            "util",
            ~np.isfinite(util) | (util < 0) | (util > 1 + UTIL_TOLERANCE),
            "a utilization in [0, 1]",
            util,
        ),
    )
    for name, bad, expected, values in problems:
        if bad.any():
            i = int(np.argmax(bad))
            raise InputError(source, f"events[{i}].{name}", expected, values[i].item())


def check_result(result: Any, source: str | Path | None = None) -> None:
    """Raise InputError unless ``result`` looks like a complete RunResult.

    Checks the event table (see :func:`check_events`), that ``ops`` is a list of mappings and that
    ``energy_breakdown_pj`` maps names to finite numbers. JSON-ability of the rest is checked when
    ``report.json`` is rendered.
    """
    for name in ("ops", "totals", "events", "energy_breakdown_pj"):
        if not hasattr(result, name):
            raise InputError(source, name, "a RunResult with this field", type(result).__name__)
    check_events(result.events, source)
    if not isinstance(result.ops, list):
        raise InputError(source, "ops", "a list of per-op dicts", type(result.ops).__name__)
    for i, row in enumerate(result.ops):
        if not isinstance(row, Mapping):
            raise InputError(source, f"ops[{i}]", "a dict of op columns", type(row).__name__)
    if not isinstance(result.energy_breakdown_pj, Mapping):
        raise InputError(source, "energy_breakdown_pj", "a dict {component: pJ}", result.energy_breakdown_pj)
    for name, pj in result.energy_breakdown_pj.items():
        if isinstance(pj, bool) or not isinstance(pj, int | float | np.integer | np.floating):
            raise InputError(source, f"energy_breakdown_pj.{name}", "a number of pJ", pj)
        if not math.isfinite(float(pj)):
            raise InputError(source, f"energy_breakdown_pj.{name}", "a finite number of pJ", pj)
