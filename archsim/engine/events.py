"""The event table: one tidy, columnar record of everything a simulation did.

Each row is a span of activity on one unit at tile/command granularity (a fold of a systolic
array, a DRAM burst, a vector op), never one row per cycle. Every exporter (JSON, CSV, Parquet,
Perfetto, plots) and op-trace replay read this table and nothing else.

Columns (units in names):

* ``start_cycle``, ``end_cycle`` (int64): span ``[start, end)`` in cycles of the table's
  reference clock ``clock_hz``
* ``unit`` (str): the hardware unit (one timeline track per unit)
* ``op`` (str): the workload op the span belongs to
* ``kind`` (str): what happened (``compute``, ``dram_read``, ``dram_write``, ``stall``, ...)
* ``bytes`` (int64): bytes moved by the span (0 for pure compute)
* ``macs`` (int64): multiply-accumulates done in the span
* ``util`` (float64): fraction of the unit's peak in use during the span (0..1)

Appending is cheap: rows go into Python lists per column (``append``) or whole numpy arrays at a
time (``extend``); the numpy view is built once on demand.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import numpy as np

INT_COLUMNS = ("start_cycle", "end_cycle", "bytes", "macs")
FLOAT_COLUMNS = ("util",)
STR_COLUMNS = ("unit", "op", "kind")
COLUMNS = ("start_cycle", "end_cycle", "unit", "op", "kind", "bytes", "macs", "util")


class EventTable:
    """Columnar event recorder (see module docstring for the columns)."""

    def __init__(self, clock_hz: float = 1e9, meta: Mapping[str, Any] | None = None):
        self.clock_hz = float(clock_hz)
        self.meta: dict[str, Any] = dict(meta or {})
        self._chunks: list[dict[str, np.ndarray]] = []
        self._rows: dict[str, list] = {c: [] for c in COLUMNS}
        self._cache: dict[str, np.ndarray] | None = None

    # -- recording ----------------------------------------------------------------------------
    def append(
        self,
        start_cycle: int,
        end_cycle: int,
        unit: str,
        op: str,
        kind: str,
        bytes: int = 0,  # noqa: A002 - the column is named "bytes"
        macs: int = 0,
        util: float = 0.0,
    ) -> None:
        r = self._rows
        r["start_cycle"].append(int(start_cycle))
        r["end_cycle"].append(int(end_cycle))
        r["unit"].append(unit)
        r["op"].append(op)
        r["kind"].append(kind)
        r["bytes"].append(int(bytes))
        r["macs"].append(int(macs))
        r["util"].append(float(util))
        self._cache = None

    def extend(self, **cols: Any) -> None:
        """Append many rows at once. Numeric columns are arrays; string columns may be a single
        string (broadcast) or a sequence. Missing numeric columns default to 0."""
        n = len(np.atleast_1d(cols["start_cycle"]))
        chunk: dict[str, np.ndarray] = {}
        for c in INT_COLUMNS:
            v = cols.get(c, 0)
            chunk[c] = np.broadcast_to(np.asarray(v, dtype=np.int64), (n,)).copy()
        for c in FLOAT_COLUMNS:
            v = cols.get(c, 0.0)
            chunk[c] = np.broadcast_to(np.asarray(v, dtype=np.float64), (n,)).copy()
        for c in STR_COLUMNS:
            v = cols.get(c, "")
            arr = np.empty(n, dtype=object)
            if isinstance(v, str):
                arr[:] = v
            else:
                arr[:] = list(v)
            chunk[c] = arr
        self._flush_rows()
        self._chunks.append(chunk)
        self._cache = None

    def _flush_rows(self) -> None:
        if not self._rows["start_cycle"]:
            return
        chunk: dict[str, np.ndarray] = {}
        for c in INT_COLUMNS:
            chunk[c] = np.asarray(self._rows[c], dtype=np.int64)
        for c in FLOAT_COLUMNS:
            chunk[c] = np.asarray(self._rows[c], dtype=np.float64)
        for c in STR_COLUMNS:
            arr = np.empty(len(self._rows[c]), dtype=object)
            arr[:] = self._rows[c]
            chunk[c] = arr
        self._chunks.append(chunk)
        self._rows = {c: [] for c in COLUMNS}

    def append_table(self, other: EventTable, *, shift_cycles: int = 0, op: str | None = None) -> None:
        """Copy ``other``'s rows in, shifted by ``shift_cycles`` (and renamed to ``op`` if given).
        Used to replay a memoized op's events at a new start time."""
        cols = other.columns()
        if not len(cols["start_cycle"]):
            return
        new = {c: cols[c].copy() for c in COLUMNS}
        new["start_cycle"] += shift_cycles
        new["end_cycle"] += shift_cycles
        if op is not None:
            new["op"][:] = op
        self.extend(**new)

    # -- reading ------------------------------------------------------------------------------
    def columns(self) -> dict[str, np.ndarray]:
        """All columns as numpy arrays (strings as object arrays), in append order."""
        if self._cache is None:
            self._flush_rows()
            if self._chunks:
                self._cache = {c: np.concatenate([ch[c] for ch in self._chunks]) for c in COLUMNS}
                self._chunks = [self._cache]
            else:
                self._cache = {
                    **{c: np.zeros(0, np.int64) for c in INT_COLUMNS},
                    **{c: np.zeros(0, np.float64) for c in FLOAT_COLUMNS},
                    **{c: np.empty(0, object) for c in STR_COLUMNS},
                }
        return self._cache

    def __len__(self) -> int:
        return sum(len(ch["start_cycle"]) for ch in self._chunks) + len(self._rows["start_cycle"])

    def rows(self) -> Iterator[tuple]:
        cols = self.columns()
        return zip(*(cols[c].tolist() for c in COLUMNS))

    @property
    def units(self) -> list[str]:
        """Unit names in order of first appearance."""
        return list(dict.fromkeys(self.columns()["unit"].tolist()))

    @property
    def end_cycle(self) -> int:
        e = self.columns()["end_cycle"]
        return int(e.max()) if len(e) else 0

    def select(self, **equals: str | Sequence[str]) -> EventTable:
        """A new table with the rows whose string columns match (a value or a list of values)."""
        cols = self.columns()
        mask = np.ones(len(cols["start_cycle"]), dtype=bool)
        for c, v in equals.items():
            vals = [v] if isinstance(v, str) else list(v)
            mask &= np.isin(cols[c], np.asarray(vals, dtype=object))
        out = EventTable(self.clock_hz, self.meta)
        if mask.any():
            out.extend(**{c: cols[c][mask] for c in COLUMNS})
        return out

    def to_dict(self) -> dict[str, list]:
        return {c: v.tolist() for c, v in self.columns().items()}

    @classmethod
    def from_columns(cls, cols: Mapping[str, Sequence], clock_hz: float = 1e9, meta: Mapping | None = None) -> EventTable:
        t = cls(clock_hz, meta)
        if len(cols.get("start_cycle", [])):
            t.extend(**{c: cols[c] for c in COLUMNS if c in cols})
        return t

    def cycles_to_ns(self, cycles: float) -> float:
        return cycles * 1e9 / self.clock_hz
