"""Report exporters: every output of a run, written from its RunResult / EventTable only.

:func:`write_run` writes a run directory; the per-format writers live in
:mod:`~archsim.report.json_report`, :mod:`~archsim.report.tables`,
:mod:`~archsim.report.perfetto` and :mod:`~archsim.report.plots` (imported lazily: matplotlib
loads only when a plot is drawn). All writes are atomic (:mod:`~archsim.report.atomic`) and the
same result gives byte-identical files.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from archsim.errors import InputError
from archsim.report.atomic import atomic_open, atomic_write_bytes, atomic_write_text
from archsim.report.checks import check_events, check_result
from archsim.report.json_report import render_report_json, write_report_json
from archsim.report.perfetto import render_perfetto, to_chrome_trace, write_perfetto
from archsim.report.tables import (
    format_table,
    render_events_csv,
    render_events_parquet,
    render_ops_csv,
    require_parquet,
    write_events_csv,
    write_events_parquet,
    write_ops_csv,
)

FORMATS = ("json", "csv", "perfetto", "png")


def _title(result: Any) -> str:
    workload = result.workload.get("name") if isinstance(result.workload, dict) else None
    arch = result.arch.get("name") if isinstance(result.arch, dict) else None
    return " on ".join(str(x) for x in (workload, arch) if x) or "archsim"


def _render(result: Any, formats: tuple[str, ...], parquet: bool, out_dir: Path) -> dict[str, str | bytes]:
    """All file contents in memory, in write order (so nothing is written if any fails)."""
    files: dict[str, str | bytes] = {}
    if "json" in formats:
        files["report.json"] = render_report_json(result, source=out_dir / "report.json")
    if "csv" in formats:
        files["ops.csv"] = render_ops_csv(result)
        files["events.csv"] = render_events_csv(result.events)
    if parquet:
        files["events.parquet"] = render_events_parquet(result.events, source=out_dir / "events.parquet")
    if "perfetto" in formats:
        files["timeline.perfetto.json"] = render_perfetto(
            to_chrome_trace(result.events, title=_title(result))
        )
    if "png" in formats:
        from archsim.report import plots

        files["utilization.png"] = plots.render_png(plots.utilization_over_time(result.events))
        files["energy.png"] = plots.render_png(plots.energy_breakdown(result.energy_breakdown_pj))
    return files


def write_run(
    result: Any,
    out_dir: str | os.PathLike[str],
    *,
    formats: tuple[str, ...] | list[str] = FORMATS,
    parquet: bool = False,
) -> dict[str, Path]:
    """Write a run's report files into ``out_dir`` (created if missing); returns ``{file name: path}``.

    ``formats`` picks from ``json`` (``report.json``), ``csv`` (``ops.csv``, ``events.csv``),
    ``perfetto`` (``timeline.perfetto.json``) and ``png`` (``utilization.png``, ``energy.png``);
    ``parquet=True`` adds ``events.parquet`` (needs ``pip install archsim[parquet]``).
    The result is checked and every file rendered in memory first: an invalid result raises
    InputError and writes nothing. Each file is then replaced atomically.
    """
    formats = tuple(formats)
    out = Path(out_dir)
    unknown = [f for f in formats if f not in FORMATS]
    if unknown:
        raise InputError(None, "formats", f"a subset of {list(FORMATS)}", unknown)
    if out.exists() and not out.is_dir():
        raise InputError(out, None, "a directory for the run's report files", "a file")
    check_result(result, out)
    if parquet:
        require_parquet(out / "events.parquet")
    files = _render(result, formats, parquet, out)
    out.mkdir(parents=True, exist_ok=True)
    paths = {}
    for name, data in files.items():
        path = out / name
        paths[name] = (
            atomic_write_bytes(path, data) if isinstance(data, bytes) else atomic_write_text(path, data)
        )
    return paths


__all__ = [
    "FORMATS",
    "atomic_open",
    "atomic_write_bytes",
    "atomic_write_text",
    "check_events",
    "check_result",
    "format_table",
    "render_events_csv",
    "render_events_parquet",
    "render_ops_csv",
    "render_perfetto",
    "render_report_json",
    "require_parquet",
    "to_chrome_trace",
    "write_events_csv",
    "write_events_parquet",
    "write_ops_csv",
    "write_perfetto",
    "write_report_json",
    "write_run",
]
