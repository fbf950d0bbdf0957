"""Sweep rows as CSV and Parquet (atomic, byte-identical for the same rows).

Columns: ``point``, ``key``, the axis names in the order of the sweep spec, ``workload``,
``level``, ``status``, ``error``, the common metrics (``cycles``, ``time_ns``, ``utilization``,
``energy_pj``, ``area_mm2``, ``macs``, ``dram_read_bytes``, ``dram_write_bytes``), then any other
total in first-seen order. The Parquet file carries the sweep spec, the archsim version and the
schema versions in its schema metadata (``archsim.sweep``).
"""

from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from archsim import SCHEMA_VERSION, __version__
from archsim.dse.spec import DSE_SCHEMA_VERSION
from archsim.dse.store import METRIC_COLUMNS
from archsim.report.atomic import atomic_write_bytes, atomic_write_text
from archsim.report.tables import require_parquet

BASE_COLUMNS = ("point", "key")
STATUS_COLUMNS = ("workload", "level", "status", "error")


def row_columns(rows: Sequence[Mapping[str, Any]], axis_names: Sequence[str]) -> list[str]:
    cols = dict.fromkeys([*BASE_COLUMNS, *axis_names, *STATUS_COLUMNS, *METRIC_COLUMNS])
    for r in rows:
        cols.update(dict.fromkeys(r))
    return list(cols)


def _cell(v: Any) -> Any:
    if v is None:
        return ""
    if isinstance(v, float):
        return repr(v)
    if isinstance(v, dict | list):
        return json.dumps(v, separators=(",", ":"))
    return v


def render_csv(rows: Sequence[Mapping[str, Any]], axis_names: Sequence[str]) -> str:
    """CSV text: ``\\n`` line ends, floats in ``repr`` precision, empty cells for missing values."""
    cols = row_columns(rows, axis_names)
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(cols)
    writer.writerows([_cell(r.get(c)) for c in cols] for r in rows)
    return buf.getvalue()


def write_csv(rows: Sequence[Mapping[str, Any]], axis_names: Sequence[str], path: str | os.PathLike[str]) -> Path:
    return atomic_write_text(path, render_csv(rows, axis_names))


def _arrow_column(pa: Any, values: list[Any]) -> Any:
    present = [v for v in values if v is not None]
    if all(isinstance(v, bool) for v in present) and present:
        return pa.array(values, type=pa.bool_())
    if all(isinstance(v, int) and not isinstance(v, bool) for v in present) and present:
        return pa.array(values, type=pa.int64())
    if all(isinstance(v, int | float) and not isinstance(v, bool) for v in present) and present:
        return pa.array([float(v) if v is not None else None for v in values], type=pa.float64())
    return pa.array([None if v is None else json.dumps(v, separators=(",", ":")) if isinstance(v, dict | list)
                     else str(v) for v in values], type=pa.string())


def render_parquet(rows: Sequence[Mapping[str, Any]], axis_names: Sequence[str], sweep: Mapping[str, Any],
                   source: str | os.PathLike[str] | None = None) -> bytes:
    require_parquet(source)
    import pyarrow as pa
    import pyarrow.parquet as pq

    cols = row_columns(rows, axis_names)
    table = pa.table({c: _arrow_column(pa, [r.get(c) for r in rows]) for c in cols}, metadata={
        "archsim.sweep": json.dumps({"schema_version": SCHEMA_VERSION, "dse_schema_version": DSE_SCHEMA_VERSION,
                                     "archsim_version": __version__, "sweep": sweep}, sort_keys=True),
    })
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink)
    return sink.getvalue().to_pybytes()


def write_parquet(rows: Sequence[Mapping[str, Any]], axis_names: Sequence[str], sweep: Mapping[str, Any],
                  path: str | os.PathLike[str]) -> Path:
    return atomic_write_bytes(path, render_parquet(rows, axis_names, sweep, source=path))
