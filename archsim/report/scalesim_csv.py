"""SCALE-Sim's own report files, for runs in the ``scalesim`` convention.

``COMPUTE_REPORT.csv``, ``BANDWIDTH_REPORT.csv`` and ``DETAILED_ACCESS_REPORT.csv`` with
SCALE-Sim v2's headers, one row per SCALE-Sim layer (a grouped conv or a batch becomes several,
as SCALE-Sim would run them), values printed as SCALE-Sim prints them (cycle columns of the
detailed report are floats there), every line ending with ", ," style trailing commas, so the
files can be diffed against a SCALE-Sim run directory.
"""

from __future__ import annotations

from pathlib import Path

from archsim.errors import InputError
from archsim.hw.systolic.scalesim import (
    BANDWIDTH_REPORT,
    COMPUTE_REPORT,
    DETAILED_ACCESS_REPORT,
    ScaleSimLayer,
)
from archsim.report.atomic import atomic_write_text
from archsim.results import RunResult

REPORTS = {
    "COMPUTE_REPORT.csv": COMPUTE_REPORT,
    "BANDWIDTH_REPORT.csv": BANDWIDTH_REPORT,
    "DETAILED_ACCESS_REPORT.csv": DETAILED_ACCESS_REPORT,
}


def _value(col: str, v: object) -> str:
    if col.endswith("Cycle"):  # SCALE-Sim takes these from float trace matrices
        return str(float(v))  # type: ignore[arg-type]
    return str(v)


def render_scalesim_reports(layers: list[tuple[str, ScaleSimLayer]]) -> dict[str, str]:
    out = {}
    for fname, cols in REPORTS.items():
        lines = ["LayerID, " + ", ".join(c for c, _ in cols) + ",\n"]
        for lid, (_, layer) in enumerate(layers):
            vals = [_value(c, getattr(layer, f)) for c, f in cols]
            lines.append(f"{lid}, " + ", ".join(vals) + ",\n")
        out[fname] = "".join(lines)
    return out


def write_scalesim_reports(result: RunResult, out_dir: str | Path) -> dict[str, Path]:
    layers = result.model_data.get("scalesim_layers")
    if layers is None:
        raise InputError("--convention", None, "scalesim to write SCALE-Sim report files")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    return {name: atomic_write_text(out / name, text) for name, text in render_scalesim_reports(layers).items()}
