"""Op-trace replay: re-run the ops a recorded run executed, in its order, on another architecture.

A run directory (``archsim run --out DIR``) holds ``report.json`` (resolved arch, workload name,
source file and parameters, options, one row per executed op with its start cycle) and
``events.csv`` (the event table). The op trace is the recorded ops in the order they started;
each op is rebuilt from the workload source with the recorded parameters and checked against
its recorded row (kind, MACs), and every op the event table names must be in the trace. The
trace then runs on the other architecture (ops the recorded run left out, such as the non-GEMM
ops of a SCALE-Sim-convention run, stay out), and the result is compared op by op.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from archsim.errors import InputError, read_input_text
from archsim.results import RunResult
from archsim.workload.graph import Graph

COMPARISON_COLUMNS = ("op", "kind", "old_cycles", "new_cycles", "cycles_ratio", "old_time_ns", "new_time_ns",
                      "old_energy_pj", "new_energy_pj", "energy_ratio", "old_utilization", "new_utilization")


@dataclass
class ReplayResult:
    """The new run, the recorded report it replays and the per-op comparison (last row: TOTAL)."""

    result: RunResult
    old_report: dict[str, Any]
    comparison: list[dict[str, Any]]
    run_dir: Path


def load_report(run_dir: str | Path) -> dict[str, Any]:
    path = Path(run_dir) / "report.json"
    if not Path(run_dir).is_dir():
        raise InputError(run_dir, None, "a run directory written by archsim run --out (with report.json)")
    try:
        doc = json.loads(read_input_text(path))
    except json.JSONDecodeError as e:
        raise InputError(path, f"line {e.lineno}", "valid JSON", e.msg) from None
    for key in ("arch", "workload", "ops", "totals", "options"):
        if key not in doc:
            raise InputError(path, key, "a report.json written by archsim run (it has no such key)")
    return doc


def recorded_trace(run_dir: str | Path, report: dict[str, Any]) -> list[dict[str, Any]]:
    """The recorded op rows in execution order (by start cycle), checked against events.csv."""
    path = Path(run_dir) / "report.json"
    rows = report["ops"]
    for i, r in enumerate(rows):
        if not isinstance(r, dict) or not isinstance(r.get("op"), str):
            raise InputError(path, f"ops[{i}]", "an op row with an op name", r)
    trace = [r for _, r in sorted(enumerate(rows), key=lambda ir: (ir[1].get("start_cycle", 0), ir[0]))]
    events = Path(run_dir) / "events.csv"
    if events.is_file():
        names = {r["op"] for r in rows}
        with events.open(newline="", encoding="utf-8") as f:
            for n, ev in enumerate(csv.DictReader(f), start=2):
                if ev.get("op") not in names:
                    raise InputError(events, f"line {n}", "an op of report.json's ops", ev.get("op"))
    return trace


def rebuild_graph(report: dict[str, Any], trace: list[dict[str, Any]], source: str | Path) -> Graph:
    """The recorded workload, rebuilt from its source with its parameters, holding the trace's
    ops in trace order."""
    from archsim.dse.workloads import accepted_params
    from archsim.workload import load_workload

    wl = report["workload"]
    src = wl.get("source")
    if not src or not Path(src).is_file():
        raise InputError(source, "workload.source", "the workload file the run was made from (a graph built in "
                         "Python can be saved with Graph.to_dict and run from the file)", src)
    params = wl.get("params") or {}
    accepted = set(accepted_params(src))
    kwargs = {k: v for k, v in params.items() if k in accepted and v is not None}
    try:
        full = load_workload(src, **kwargs)
    except InputError as e:
        raise InputError(source, f"workload.params.{e.field}" if e.field else "workload", e.expected, e.got) from None
    ops = {op.name: op for op in full.ops}
    # MACs are the workload's own, except SCALE-Sim's lowering counts windows past the edge
    check_macs = (report.get("options") or {}).get("convention") != "scalesim"
    g = Graph(full.name, source=full.source, params=full.params)
    for i, row in enumerate(trace):
        op = ops.get(row["op"])
        if op is None:
            raise InputError(source, f"ops[{i}].op", f"an op of the rebuilt workload {full.name}", row["op"])
        if str(op.kind) != row.get("kind", str(op.kind)) or (
                check_macs and op.is_gemm and row.get("macs", op.macs) != op.macs):
            raise InputError(source, f"ops[{i}]", f"op {op.name} as rebuilt ({op.kind}, {op.macs} MACs)",
                             f"{row.get('kind')}, {row.get('macs')} MACs")
        g.add_op(op)
    return g


def _ratio(new: Any, old: Any) -> float | None:
    if isinstance(new, int | float) and isinstance(old, int | float) and old:
        return new / old
    return None


def compare(old: dict[str, Any], new: RunResult) -> list[dict[str, Any]]:
    """Per-op rows (old vs new cycles, time, energy, utilization) and a TOTAL row."""
    old_hz = old["arch"].get("clock_hz") or old.get("events_clock_hz") or 1e9
    new_hz = new.arch.get("clock_hz") or new.events.clock_hz
    new_rows = {r["op"]: r for r in new.ops}
    out = []
    for r in sorted(old["ops"], key=lambda r: r.get("start_cycle", 0)):
        n = new_rows.get(r["op"], {})
        oc, nc = r.get("cycles"), n.get("cycles")
        out.append({
            "op": r["op"], "kind": r.get("kind"), "old_cycles": oc, "new_cycles": nc, "cycles_ratio": _ratio(nc, oc),
            "old_time_ns": oc * 1e9 / old_hz if oc is not None else None,
            "new_time_ns": nc * 1e9 / new_hz if nc is not None else None,
            "old_energy_pj": r.get("energy_pj"), "new_energy_pj": n.get("energy_pj"),
            "energy_ratio": _ratio(n.get("energy_pj"), r.get("energy_pj")),
            "old_utilization": r.get("utilization"), "new_utilization": n.get("utilization"),
        })
    ot, nt = old["totals"], new.totals
    out.append({
        "op": "TOTAL", "kind": f"{len(out)} ops", "old_cycles": ot.get("cycles"), "new_cycles": nt.get("cycles"),
        "cycles_ratio": _ratio(nt.get("cycles"), ot.get("cycles")), "old_time_ns": ot.get("time_ns"),
        "new_time_ns": nt.get("time_ns"), "old_energy_pj": ot.get("energy_pj"), "new_energy_pj": nt.get("energy_pj"),
        "energy_ratio": _ratio(nt.get("energy_pj"), ot.get("energy_pj")),
        "old_utilization": ot.get("utilization"), "new_utilization": nt.get("utilization"),
    })
    return out


def replay(run_dir: str | Path, arch: str | Any, *, level: str | None = None, **options: Any) -> ReplayResult:
    """Re-run the op trace recorded in ``run_dir`` on ``arch`` (a preset, spec file or spec
    object). ``level`` defaults to the recorded run's; ``options`` are the kind's run options
    (e.g. ``dataflow``)."""
    from archsim.api import run

    run_dir = Path(run_dir)
    report = load_report(run_dir)
    trace = recorded_trace(run_dir, report)
    graph = rebuild_graph(report, trace, run_dir / "report.json")
    old_opts = report.get("options") or {}
    result = run(arch, graph, level=level or old_opts.get("level", "event"), seed=int(report.get("seed", 0)),
                 **options)
    result.options = {**result.options, "replay_of": {
        "run_dir": str(run_dir), "arch": report["arch"].get("name"), "kind": report["arch"].get("kind"),
        "archsim_version": report.get("archsim_version"), "ops": len(trace),
    }}
    result.notes.append(f"replay of the op trace recorded in {run_dir} ({len(trace)} ops, on "
                        f"{report['arch'].get('name')})")
    return ReplayResult(result, report, compare(report, result), run_dir)
