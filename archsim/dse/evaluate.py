"""The worker side of a sweep: a design point in, a result record out (a pure function of the
point's resolved inputs). Nothing is written here; the parent stores what workers return.

A record is ``{"key", "status": "ok" | "error", "error", "totals": {...}, "area_mm2"}``: the
architecture kind's totals (``RunResult.totals``: cycles, time_ns, utilization, energy_pj, ...)
and the area proxy. Any exception becomes an error record and the sweep goes on.

Speed: workers keep built workload graphs (:func:`~archsim.dse.workloads.workload_handle`) and
energy tables per process, never record events and never write reports. A kind can provide a
faster evaluator as ``ArchPlugin.extra["dse_evaluate"]``: ``fn(handle, spec, *, level, seed,
options) -> totals dict`` (``handle.graph`` is the workload, ``handle.cached(key, factory)`` keeps
derived forms per workload); the systolic array uses
:func:`archsim.hw.systolic.totals.analytic_totals` for the analytic level.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from functools import cache
from typing import Any

from archsim.arch.registry import plugin_for_spec
from archsim.dse.spec import DesignPoint
from archsim.dse.workloads import WorkloadHandle, workload_handle

#: longest error text kept in a row
MAX_ERROR_CHARS = 1000


@cache
def energy_table(name: str) -> Any:
    """An EnergyTable loaded once per process."""
    from archsim.energy import EnergyTable

    return EnergyTable.load(name)


def _systolic(handle: WorkloadHandle, spec: Any, *, level: str, seed: int, options: dict) -> dict:
    from archsim.hw.systolic.model import simulate
    from archsim.hw.systolic.totals import LoweredWorkload, analytic_totals

    table = energy_table(spec.energy_table)
    if level == "analytic" and spec.convention == "physical" and not options:
        lowered = handle.cached("systolic.lowered", LoweredWorkload.of)
        return analytic_totals(lowered, spec, table)
    return simulate(handle.graph, spec, level=level, seed=seed, record_events=False, energy_table=table,
                    **options).totals


#: fast evaluators for kinds whose ArchPlugin does not name one in ``extra["dse_evaluate"]``
BUILTIN_EVALUATORS: dict[str, Callable[..., dict]] = {"systolic": _systolic}


def _evaluator(plugin: Any) -> Callable[..., dict] | None:
    return plugin.extra.get("dse_evaluate") or BUILTIN_EVALUATORS.get(plugin.kind)


def _clean(value: Any) -> Any:
    """Totals as plain JSON values (numpy to Python, NaN/inf to None, tuples to lists, mapping
    keys to strings; anything else as its text)."""
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, str | bytes):
        value = value.item() if getattr(value, "ndim", 0) == 0 else value.tolist()
        return _clean(value)
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def _error_text(e: BaseException) -> str:
    from archsim.errors import InputError

    text = str(e) if isinstance(e, InputError) else f"{type(e).__name__}: {e}"
    text = " ".join(text.split())
    return text if len(text) <= MAX_ERROR_CHARS else text[: MAX_ERROR_CHARS - 3] + "..."


def error_record(point: DesignPoint, error: str) -> dict[str, Any]:
    return {"key": point.key, "status": "error", "error": error, "totals": {}, "area_mm2": None}


def evaluate_point(point: DesignPoint) -> dict[str, Any]:
    """Simulate one point and return its record (see module docstring)."""
    if point.error is not None:
        return error_record(point, point.error)
    try:
        spec = point.spec
        plugin = plugin_for_spec(spec)
        options = dict(point.options)
        handle = workload_handle(point.workload) if point.workload is not None else None
        fast = _evaluator(plugin)
        if fast is not None and handle is not None:
            totals = fast(handle, spec, level=point.level, seed=point.seed, options=options)
        else:
            result = plugin.simulate(handle.graph if handle is not None else None, spec, level=point.level,
                                     seed=point.seed, record_events=False, **options)
            totals = result.totals
        area_fn = plugin.extra.get("area_mm2")
        area = area_fn(spec, point.area) if area_fn is not None else point.area.area_mm2(spec)
        return {"key": point.key, "status": "ok", "error": None,
                "totals": {str(k): _clean(v) for k, v in totals.items()}, "area_mm2": _clean(area)}
    except Exception as e:  # a failing point is data: record it, the sweep goes on
        return error_record(point, _error_text(e))


def run_chunk(points: Iterable[DesignPoint]) -> list[dict[str, Any]]:
    """Evaluate a chunk of points in order (the unit of work sent to a worker)."""
    return [evaluate_point(p) for p in points]
