"""The result store and run_sweep: resume without re-running, error rows, atomic chunks,
deterministic exports."""

from __future__ import annotations

import json
import sqlite3

import pytest

from archsim.dse import Store, build_sweep, open_sweep, run_sweep
from archsim.dse.evaluate import run_chunk

from .helpers import SMALL_ARCH


def small_sweep(gemm, **axes):
    return build_sweep({"name": "small", "arch": SMALL_ARCH, "workloads": [str(gemm)],
                        "axes": axes or {"rows": [2, 4, 8], "dataflow": ["os", "ws", "is"]}})


def test_resume_runs_nothing_twice_and_rows_are_stable(tmp_path, gemm_file):
    spec = small_sweep(gemm_file())
    out = tmp_path / "out"
    first = run_sweep(spec, out, workers=2, progress=False)
    assert (first.points, first.stored_before, first.ran, first.ok, first.errors) == (9, 0, 9, 9, 0)
    csv1 = (out / "results.csv").read_bytes()
    doc1 = (out / "sweep.json").read_bytes()
    again = run_sweep(spec, out, workers=2, progress=False)
    assert (again.stored_before, again.ran) == (9, 0)
    assert again.rows == first.rows
    assert (out / "results.csv").read_bytes() == csv1 and (out / "sweep.json").read_bytes() == doc1
    assert [r["point"] for r in first.rows] == list(range(9))
    assert [(r["rows"], r["dataflow"]) for r in first.rows[:4]] == [(2, "os"), (2, "ws"), (2, "is"), (4, "os")]
    doc = json.loads(doc1)
    assert doc["points"] == 9 and doc["sweep"]["arch"]["kind"] == "systolic" and "archsim_version" in doc
    assert doc["sweep"]["workloads"][0]["sha256"] and doc["schema_version"] == 1

    # a grown sweep runs only its new points; the old sweep's rows are unchanged
    bigger = small_sweep(gemm_file(), rows=[2, 4, 8, 16], dataflow=["os", "ws", "is"])
    grown = run_sweep(bigger, out, workers=1, progress=False)
    assert (grown.stored_before, grown.ran, grown.ok) == (9, 3, 12)
    with Store(out / "results.sqlite") as store:
        assert store.rows(spec.sweep_id) == first.rows
        assert [s[0] for s in store.sweeps()] == [spec.sweep_id, bigger.sweep_id]
    doc, rows = open_sweep(out)
    assert doc["sweep_id"] == bigger.sweep_id and len(rows) == 12


def test_failing_points_are_error_rows_and_the_sweep_goes_on(tmp_path, gemm_file):
    # the cycle-stepped level refuses arrays of more than 1024 PEs: 64x64 points fail, 4x4 run
    spec = small_sweep(gemm_file(), rows=[4, 64], cols=[4, 64], level=["analytic", "cycle"])
    out = tmp_path / "out"
    res = run_sweep(spec, out, workers=2, progress=False)
    status = {(r["rows"], r["cols"], r["level"]): r["status"] for r in res.rows}
    assert status[(64, 64, "cycle")] == "error" and status[(4, 4, "cycle")] == "ok"
    assert sum(s == "error" for s in status.values()) == 1 and res.errors == 1 and res.ok == 7
    bad = next(r for r in res.rows if r["status"] == "error")
    assert "--level" in bad["error"] and "1024 PEs" in bad["error"] and bad["cycles"] is None
    # cycle level on the 4x4 array equals the analytic level (the ladder)
    by = {(r["rows"], r["cols"], r["level"]): r for r in res.rows}
    assert by[(4, 4, "cycle")]["cycles"] == by[(4, 4, "analytic")]["cycles"]
    assert run_sweep(spec, out, workers=1, progress=False).ran == 0
    retry = run_sweep(spec, out, workers=1, progress=False, retry_errors=True)
    assert retry.ran == 1 and retry.errors == 1


def test_a_chunk_is_stored_whole_or_not_at_all(tmp_path, gemm_file):
    spec = small_sweep(gemm_file())
    pts = spec.points()[:3]
    records = run_chunk(pts)
    records[2] = dict(records[2], error=object())  # sqlite cannot bind it: the transaction fails
    with Store(tmp_path / "s.sqlite") as store:
        with pytest.raises(sqlite3.Error):
            store.put(records, {p.key: p.inputs_json for p in pts})
        assert store.statuses() == {}
        store.put(records[:2], {p.key: p.inputs_json for p in pts})
        assert len(store.statuses()) == 2
        row = store.db.execute("SELECT cycles, energy_pj, inputs_json FROM results WHERE key = ?",
                               (pts[0].key,)).fetchone()
        assert row[0] == records[0]["totals"]["cycles"] and json.loads(row[2])["arch"]["rows"] == 2


def test_parquet_export(tmp_path, gemm_file):
    pq = pytest.importorskip("pyarrow.parquet")
    spec = small_sweep(gemm_file())
    res = run_sweep(spec, tmp_path / "a", workers=1, progress=False, parquet=True)
    again = run_sweep(spec, tmp_path / "a", workers=1, progress=False, parquet=True)
    assert again.ran == 0
    table = pq.read_table(res.files["results.parquet"])
    assert table.to_pylist() == [{c: r.get(c) for c in table.column_names} for r in res.rows]
    assert table.column_names[:4] == ["point", "key", "rows", "dataflow"]
    meta = json.loads(table.schema.metadata[b"archsim.sweep"])
    assert meta["sweep"]["sweep_id"] == spec.sweep_id and "archsim_version" in meta
    first = (tmp_path / "a" / "results.parquet").read_bytes()
    run_sweep(spec, tmp_path / "b", workers=1, progress=False, parquet=True)
    assert (tmp_path / "b" / "results.parquet").read_bytes() == first
