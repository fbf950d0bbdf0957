"""The resumable result store: one SQLite file (standard library ``sqlite3``), WAL journal.

Tables:

* ``results``: one row per design point key: ``status`` (``ok``/``error``), ``error``, the common
  metrics as typed columns (``cycles``, ``time_ns``, ``utilization``, ``energy_pj``, ``area_mm2``,
  ``macs``, ``dram_read_bytes``, ``dram_write_bytes``) for SQL queries, every total the model
  returned as ``totals_json`` and the resolved inputs the key hashes as ``inputs_json``;
* ``sweeps`` / ``sweep_points``: each sweep written into the store and its points in order (index,
  key, workload, axis values), so several sweeps can share results;
* ``meta``: ``schema_version``, ``dse_schema_version`` and the ``archsim_version`` that created it.

Only the sweep's parent process writes, one transaction per finished chunk: a point is either
fully stored or absent, whatever is killed when (a SIGKILL mid-transaction leaves the WAL's last
committed state). A stored key is never run again unless asked (``retry_errors``).
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from archsim import SCHEMA_VERSION, __version__
from archsim.dse.spec import DSE_SCHEMA_VERSION, DesignPoint
from archsim.dse.workloads import canonical_json
from archsim.errors import InputError

STORE_NAME = "results.sqlite"
#: typed metric columns of ``results`` (taken from the totals when present)
METRIC_COLUMNS = ("cycles", "time_ns", "utilization", "energy_pj", "area_mm2", "macs", "dram_read_bytes",
                  "dram_write_bytes")
_SQL_TYPES = {"time_ns": "REAL", "utilization": "REAL", "energy_pj": "REAL", "area_mm2": "REAL"}

_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS results (
    key TEXT PRIMARY KEY,
    status TEXT NOT NULL,
    error TEXT,
    {", ".join(f"{c} {_SQL_TYPES.get(c, 'INTEGER')}" for c in METRIC_COLUMNS)},
    totals_json TEXT NOT NULL,
    inputs_json TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS sweeps (
    sweep_id TEXT PRIMARY KEY, name TEXT NOT NULL, spec_json TEXT NOT NULL, points INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS sweep_points (
    sweep_id TEXT NOT NULL, idx INTEGER NOT NULL, key TEXT NOT NULL, workload TEXT NOT NULL,
    axes_json TEXT NOT NULL, PRIMARY KEY (sweep_id, idx)
);
"""


class Store:
    """A result store at ``path`` (created if missing). Use as a context manager or ``close()``."""

    def __init__(self, path: str | os.PathLike[str]):
        self.path = Path(path)
        if self.path.exists() and not self.path.is_file():
            raise InputError(self.path, None, "a SQLite result store file", "a directory")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self.db = sqlite3.connect(self.path, timeout=60, isolation_level=None)
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=FULL")
            self.db.executescript(_SCHEMA)
        except sqlite3.DatabaseError as e:
            raise InputError(self.path, None, "a SQLite result store written by archsim sweep", str(e)) from None
        with self.transaction():
            for name, value in (("schema_version", SCHEMA_VERSION), ("dse_schema_version", DSE_SCHEMA_VERSION),
                                ("archsim_version", __version__)):
                self.db.execute("INSERT OR IGNORE INTO meta VALUES (?, ?)", (name, str(value)))
        stored = dict(self.db.execute("SELECT name, value FROM meta"))
        if int(stored["dse_schema_version"]) != DSE_SCHEMA_VERSION:
            raise InputError(self.path, "meta.dse_schema_version", f"{DSE_SCHEMA_VERSION} (this archsim)",
                             stored["dse_schema_version"])

    # -- plumbing -----------------------------------------------------------------------------
    def transaction(self) -> _Transaction:
        return _Transaction(self.db)

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- writing ------------------------------------------------------------------------------
    def register_sweep(self, sweep_id: str, name: str, spec: dict[str, Any], points: Sequence[DesignPoint]) -> None:
        """Record a sweep and its points in order (replacing an earlier registration of it)."""
        with self.transaction():
            self.db.execute("INSERT OR REPLACE INTO sweeps VALUES (?, ?, ?, ?)",
                            (sweep_id, name, canonical_json(spec), len(points)))
            self.db.execute("DELETE FROM sweep_points WHERE sweep_id = ?", (sweep_id,))
            self.db.executemany(
                "INSERT INTO sweep_points VALUES (?, ?, ?, ?, ?)",
                ((sweep_id, p.idx, p.key, p.workload_name, _pairs_json(p.axes)) for p in points),
            )

    def put(self, records: Iterable[dict[str, Any]], inputs: dict[str, str]) -> int:
        """Store result records (one transaction); ``inputs`` maps key -> inputs JSON."""
        rows = []
        for r in records:
            totals = dict(r.get("totals") or {})
            metrics = {**totals, "area_mm2": r.get("area_mm2")}
            rows.append((r["key"], r["status"], r.get("error"), *(metrics.get(c) for c in METRIC_COLUMNS),
                         _ordered_json(totals), inputs[r["key"]]))
        if rows:
            with self.transaction():
                self.db.executemany(
                    f"INSERT OR REPLACE INTO results VALUES ({', '.join('?' * (5 + len(METRIC_COLUMNS)))})", rows)
        return len(rows)

    # -- reading ------------------------------------------------------------------------------
    def statuses(self) -> dict[str, str]:
        """``key -> status`` of every stored result."""
        return dict(self.db.execute("SELECT key, status FROM results"))

    def sweeps(self) -> list[tuple[str, str, int]]:
        """``(sweep_id, name, points)`` of every registered sweep, in registration order."""
        return list(self.db.execute("SELECT sweep_id, name, points FROM sweeps ORDER BY rowid"))

    def sweep_spec(self, sweep_id: str) -> dict[str, Any]:
        row = self.db.execute("SELECT spec_json FROM sweeps WHERE sweep_id = ?", (sweep_id,)).fetchone()
        if row is None:
            raise InputError(self.path, "sweeps", f"a sweep with id {sweep_id}", None)
        return json.loads(row[0])

    def rows(self, sweep_id: str) -> list[dict[str, Any]]:
        """The stored rows of a sweep in point order (points not evaluated yet are left out):
        ``point``, ``key``, the axis values, ``workload``, ``level``, ``status``, ``error``,
        ``area_mm2`` and every total (values exactly as the worker returned them)."""
        cur = self.db.execute(
            "SELECT sp.idx, sp.key, sp.axes_json, sp.workload, r.status, r.error, r.area_mm2, r.totals_json, "
            "r.inputs_json FROM sweep_points sp JOIN results r ON r.key = sp.key WHERE sp.sweep_id = ? "
            "ORDER BY sp.idx", (sweep_id,))
        out = []
        for idx, key, axes_json, workload, status, error, area, totals_json, inputs_json in cur:
            row: dict[str, Any] = {"point": idx, "key": key}
            row.update(json.loads(axes_json))  # [[name, value], ...] in axis order
            row["workload"] = workload
            row["level"] = json.loads(inputs_json).get("level")
            row["status"] = status
            row["error"] = error
            totals = json.loads(totals_json)
            for c in METRIC_COLUMNS:
                row[c] = area if c == "area_mm2" else totals.get(c)
            row.update({k: v for k, v in totals.items() if k not in row})
            out.append(row)
        return out

    def counts(self, sweep_id: str) -> dict[str, int]:
        """``{"points", "ok", "error", "pending"}`` for a sweep."""
        total = self.db.execute("SELECT COUNT(*) FROM sweep_points WHERE sweep_id = ?", (sweep_id,)).fetchone()[0]
        by = dict(self.db.execute(
            "SELECT r.status, COUNT(*) FROM sweep_points sp JOIN results r ON r.key = sp.key "
            "WHERE sp.sweep_id = ? GROUP BY r.status", (sweep_id,)))
        done = sum(by.values())
        return {"points": total, "ok": by.get("ok", 0), "error": by.get("error", 0), "pending": total - done}


def _ordered_json(obj: Any) -> str:
    """Compact JSON keeping key order (the model's order of totals)."""
    return json.dumps(obj, separators=(",", ":"), allow_nan=False)


def _pairs_json(pairs: Sequence[tuple[str, Any]]) -> str:
    return json.dumps([[k, v] for k, v in pairs], separators=(",", ":"), allow_nan=False)


class _Transaction:
    """``BEGIN IMMEDIATE`` ... ``COMMIT`` (``ROLLBACK`` on an exception)."""

    def __init__(self, db: sqlite3.Connection):
        self.db = db

    def __enter__(self) -> sqlite3.Connection:
        self.db.execute("BEGIN IMMEDIATE")
        return self.db

    def __exit__(self, exc_type: object, *exc: object) -> None:
        self.db.execute("ROLLBACK" if exc_type is not None else "COMMIT")
