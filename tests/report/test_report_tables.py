"""ops.csv / events.csv / events.parquet and the fixed-width text table."""

from __future__ import annotations

import csv
import io
import sys

import pytest

from archsim.engine.events import COLUMNS, EventTable
from archsim.errors import InputError
from archsim.report.tables import (
    format_table,
    render_events_csv,
    render_events_parquet,
    write_events_csv,
    write_events_parquet,
    write_ops_csv,
)
from archsim.results import OP_COLUMNS


def _read_csv(path):
    with open(path, newline="") as f:
        return list(csv.reader(f))


def test_ops_csv_columns_and_cells(tmp_path, result):
    path = write_ops_csv(result, tmp_path / "ops.csv")
    rows = _read_csv(path)
    assert rows[0] == list(OP_COLUMNS) + ["tile", "note"]  # extras in first-seen order
    assert all(len(r) == len(rows[0]) for r in rows)
    first = dict(zip(rows[0], rows[1]))
    assert first["op"] == "conv1"
    assert first["cycles"] == "12"
    assert first["energy_pj"] == "150.25"
    assert first["tile"] == "[2,2]"  # nested values as compact JSON
    assert first["stall_cycles"] == ""  # missing -> empty
    second = dict(zip(rows[0], rows[2]))
    assert second["memoized_from"] == ""  # None -> empty
    assert second["note"] == "a, b"  # quoted by the csv module
    text = path.read_text()
    assert not any(line.endswith(",") for line in text.splitlines()[:1])
    assert text.endswith("\n") and "\r" not in text


def test_ops_csv_with_no_ops_has_the_standard_header(tmp_path, make_run):
    path = write_ops_csv(make_run(ops=[]), tmp_path / "ops.csv")
    assert path.read_text() == ",".join(OP_COLUMNS) + "\n"


def test_events_csv(tmp_path, events):
    path = write_events_csv(events, tmp_path / "events.csv")
    lines = path.read_text().splitlines()
    assert lines[0] == ",".join(COLUMNS) == "start_cycle,end_cycle,unit,op,kind,bytes,macs,util"
    assert lines[1] == "0,10,pe,conv1,compute,0,100,0.5"
    assert lines[3] == "6,12,dram,conv1,dram_read,24,0,0.0"
    assert len(lines) == 1 + len(events)


def test_csv_is_deterministic(tmp_path, result):
    for name, write, arg in (("ops", write_ops_csv, result), ("events", write_events_csv, result.events)):
        a, b = tmp_path / f"{name}1.csv", tmp_path / f"{name}2.csv"
        write(arg, a)
        write(arg, b)
        assert a.read_bytes() == b.read_bytes()


def test_empty_event_table_csv(tmp_path):
    path = write_events_csv(EventTable(), tmp_path / "events.csv")
    assert path.read_text() == ",".join(COLUMNS) + "\n"


def test_invalid_events_are_rejected_before_writing(tmp_path):
    ev = EventTable()
    ev.append(0, 4, "pe", "a", "compute")
    ev.append(9, 5, "pe", "b", "compute")
    path = tmp_path / "events.csv"
    with pytest.raises(InputError, match=r"events\[1\]\.end_cycle"):
        write_events_csv(ev, path)
    assert not path.exists()


def test_parquet_round_trip(tmp_path, events):
    pq = pytest.importorskip("pyarrow.parquet", reason="pyarrow not installed (pip install archsim[parquet])")
    path = write_events_parquet(events, tmp_path / "events.parquet")
    table = pq.read_table(path)
    assert table.column_names == list(COLUMNS)  # same names as the CSV
    assert table.to_pydict() == events.to_dict()
    assert table.schema.metadata[b"archsim.clock_hz"] == b"500000000.0"
    assert render_events_parquet(events) == path.read_bytes()  # deterministic
    empty = pq.read_table(write_events_parquet(EventTable(), tmp_path / "empty.parquet"))
    assert empty.num_rows == 0 and empty.column_names == list(COLUMNS)


def test_parquet_without_pyarrow_says_how_to_install(tmp_path, events, monkeypatch):
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    monkeypatch.setitem(sys.modules, "pyarrow.parquet", None)
    path = tmp_path / "events.parquet"
    with pytest.raises(InputError) as err:
        write_events_parquet(events, path)
    assert str(path) in str(err.value)
    assert "pip install archsim[parquet]" in str(err.value)
    assert not path.exists()


# -- text tables --------------------------------------------------------------------------------


def test_format_table_layout():
    rows = [
        {"op": "conv1", "cycles": 1234567, "util": 0.5},
        {"op": "fc", "cycles": 3, "util": 0.123456},
    ]
    text = format_table(
        rows, ["op", "cycles", "util"], footer={"op": "total", "cycles": 1234570, "util": 0.75}
    )
    assert text == (
        "op        cycles  util\n"
        "-----  ---------  ----\n"
        "conv1  1,234,567  0.50\n"
        "fc             3  0.12\n"
        "-----  ---------  ----\n"
        "total  1,234,570  0.75"
    )


def test_format_table_options():
    rows = [("a", 1500.0, None), ("bb", -2.0, "x")]
    text = format_table(
        rows, ["name", "energy_pj", "tag"], headers={"energy_pj": "energy (pJ)"}, float_digits=1, missing="-"
    )
    assert text.splitlines() == [
        "name  energy (pJ)  tag",
        "----  -----------  ---",
        "a         1,500.0  -",
        "bb           -2.0  x",
    ]


def test_format_table_without_rows_prints_the_header():
    assert format_table([], ["op", "cycles"]) == "op  cycles\n--  ------"


def test_format_table_rejects_short_rows():
    with pytest.raises(ValueError, match="2 values for 3 columns"):
        format_table([(1, 2)], ["a", "b", "c"])


def test_format_table_reads_numpy_scalars():
    np = pytest.importorskip("numpy")
    text = format_table([{"n": np.int64(12345), "f": np.float64(2.5)}], ["n", "f"])
    assert text.splitlines()[-1] == "12,345  2.50"


def test_csv_reader_sees_one_field_per_column(events):
    rows = list(csv.reader(io.StringIO(render_events_csv(events))))
    assert {len(r) for r in rows} == {len(COLUMNS)}
