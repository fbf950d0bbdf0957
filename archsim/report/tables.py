"""Tabular exports: ``ops.csv``, ``events.csv``, ``events.parquet`` and fixed-width text tables.

CSV and Parquet use the EventTable's column names (units in the names); CSV cells are written
with the csv module, ``\\n`` line ends, floats in ``repr`` precision and empty cells for missing
values. Parquet needs the optional ``pyarrow`` (``pip install archsim[parquet]``).
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from archsim.engine.events import COLUMNS, FLOAT_COLUMNS, STR_COLUMNS, EventTable
from archsim.errors import InputError
from archsim.report.atomic import atomic_write_bytes, atomic_write_text
from archsim.report.checks import check_events
from archsim.report.json_report import to_jsonable
from archsim.results import OP_COLUMNS

# -- CSV --------------------------------------------------------------------------------------


def _csv_cell(value: Any) -> Any:
    if isinstance(value, np.generic):
        value = value.item()
    if value is None:
        return ""
    if isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, Mapping | list | tuple | set | frozenset | np.ndarray):
        return json.dumps(to_jsonable(value), separators=(",", ":"))
    return str(value)


def _csv_text(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buf.getvalue()


def op_columns(ops: Sequence[Mapping[str, Any]]) -> list[str]:
    """:data:`archsim.results.OP_COLUMNS` first, then extra keys in first-seen order."""
    cols = dict.fromkeys(OP_COLUMNS)
    for row in ops:
        cols.update(dict.fromkeys(row))
    return list(cols)


def render_ops_csv(result: Any) -> str:
    """The text of ``ops.csv``: one row per op of ``result.ops`` (see :func:`op_columns`)."""
    cols = op_columns(result.ops)
    return _csv_text(cols, ([_csv_cell(row.get(c)) for c in cols] for row in result.ops))


def write_ops_csv(result: Any, path: str | os.PathLike[str]) -> Path:
    """Write ``ops.csv`` for ``result`` (a RunResult) atomically; returns the path."""
    return atomic_write_text(path, render_ops_csv(result))


def render_events_csv(events: EventTable) -> str:
    """The text of ``events.csv``: header :data:`archsim.engine.events.COLUMNS`, one row per span."""
    check_events(events)
    cols = events.columns()
    return _csv_text(COLUMNS, zip(*(cols[c].tolist() for c in COLUMNS)))


def write_events_csv(events: EventTable, path: str | os.PathLike[str]) -> Path:
    """Write the event table as CSV atomically; returns the path."""
    check_events(events, path)
    return atomic_write_text(path, render_events_csv(events))


# -- Parquet ----------------------------------------------------------------------------------


def _pyarrow(path: str | os.PathLike[str] | None) -> Any:
    try:
        import pyarrow
        import pyarrow.parquet  # noqa: F401 - loads the submodule
    except ImportError:
        raise InputError(
            path,
            None,
            "the optional pyarrow package to write Parquet: pip install archsim[parquet]",
        ) from None
    return pyarrow


def require_parquet(path: str | os.PathLike[str] | None = None) -> None:
    """Raise InputError (naming ``path``) unless Parquet output is available."""
    _pyarrow(path)


def render_events_parquet(events: EventTable, source: str | os.PathLike[str] | None = None) -> bytes:
    """The bytes of ``events.parquet``: the :data:`~archsim.engine.events.COLUMNS` as int64 /
    string / float64 columns; ``clock_hz`` and ``meta`` go into the schema metadata
    (``archsim.clock_hz``, ``archsim.meta`` as JSON)."""
    pa = _pyarrow(source)
    check_events(events, source)
    cols = events.columns()
    arrays = {}
    for c in COLUMNS:
        if c in STR_COLUMNS:
            arrays[c] = pa.array(cols[c].tolist(), type=pa.string())
        elif c in FLOAT_COLUMNS:
            arrays[c] = pa.array(cols[c], type=pa.float64())
        else:
            arrays[c] = pa.array(cols[c], type=pa.int64())
    metadata = {
        "archsim.clock_hz": repr(events.clock_hz),
        "archsim.meta": json.dumps(to_jsonable(events.meta, "meta", source), separators=(",", ":")),
    }
    table = pa.table(arrays, metadata=metadata)
    sink = pa.BufferOutputStream()
    pa.parquet.write_table(table, sink)
    return sink.getvalue().to_pybytes()


def write_events_parquet(events: EventTable, path: str | os.PathLike[str]) -> Path:
    """Write the event table as Parquet atomically (needs ``pip install archsim[parquet]``)."""
    return atomic_write_bytes(path, render_events_parquet(events, source=path))


# -- text tables ------------------------------------------------------------------------------


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float | np.integer | np.floating) and not isinstance(
        value, bool | np.bool_
    )


def _text_cell(value: Any, float_digits: int, missing: str) -> str:
    if value is None:
        return missing
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.{float_digits}f}" if math.isfinite(value) else str(value)
    return str(value)


def _row_values(row: Mapping[str, Any] | Sequence[Any], columns: Sequence[str]) -> list[Any]:
    if isinstance(row, Mapping):
        return [row.get(c) for c in columns]
    values = list(row)
    if len(values) != len(columns):
        raise ValueError(f"format_table: row has {len(values)} values for {len(columns)} columns: {values!r}")
    return values


def format_table(
    rows: Iterable[Mapping[str, Any] | Sequence[Any]],
    columns: Sequence[str],
    *,
    headers: Mapping[str, str] | None = None,
    footer: Mapping[str, Any] | Sequence[Any] | None = None,
    float_digits: int = 2,
    missing: str = "",
) -> str:
    """A fixed-width text table (no trailing newline) for terminals.

    ``rows`` are dicts keyed by column (missing keys print as ``missing``) or sequences in column
    order. Numbers are right-aligned, ints get thousands separators, floats ``float_digits``
    decimals (``1,234.50``); other values are left-aligned. A column is right-aligned (header
    too) when all its non-empty cells are numbers. ``headers`` renames columns for display;
    ``footer`` (e.g. totals) is printed below a second rule.
    """
    headers = dict(headers or {})
    body = [_row_values(r, columns) for r in rows]
    tail = [_row_values(footer, columns)] if footer is not None else []
    numeric = [
        all(_is_number(v) for v in col if v is not None) and any(v is not None for v in col)
        for col in zip(*(body + tail))
    ] or [False] * len(columns)
    title = [headers.get(c, c) for c in columns]
    cells = [[_text_cell(v, float_digits, missing) for v in r] for r in body + tail]
    widths = [max([len(t)] + [len(r[i]) for r in cells]) for i, t in enumerate(title)]

    def line(values: Sequence[str]) -> str:
        parts = [v.rjust(w) if num else v.ljust(w) for v, w, num in zip(values, widths, numeric)]
        return "  ".join(parts).rstrip()

    rule = "  ".join("-" * w for w in widths)
    out = [line(title), rule]
    out += [line(r) for r in cells[: len(body)]]
    if tail:
        out += [rule, line(cells[-1])]
    return "\n".join(out)
