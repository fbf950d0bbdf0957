"""write_run: the run directory, all-or-nothing on invalid results, byte-identical reruns."""

from __future__ import annotations

import csv
import json
import sys

import pytest

from archsim.engine.events import EventTable
from archsim.errors import InputError
from archsim.report import write_run

ALL_FILES = [
    "report.json",
    "ops.csv",
    "events.csv",
    "timeline.perfetto.json",
    "utilization.png",
    "energy.png",
]


def test_writes_every_file_and_returns_paths(tmp_path, result):
    out = tmp_path / "runs" / "toy"  # created, parents too
    paths = write_run(result, out)
    assert list(paths) == ALL_FILES
    assert all(p == out / name and p.is_file() for name, p in paths.items())
    assert sorted(p.name for p in out.iterdir()) == sorted(ALL_FILES)  # no temp files
    assert json.loads(paths["report.json"].read_text())["totals"]["cycles"] == 20
    with open(paths["ops.csv"], newline="") as f:
        assert len(list(csv.reader(f))) == 1 + len(result.ops)
    trace = json.loads(paths["timeline.perfetto.json"].read_text())
    assert trace["traceEvents"][0]["args"]["name"] == "two-convs on toy"
    assert paths["utilization.png"].read_bytes().startswith(b"\x89PNG")


def test_rerun_is_byte_identical(tmp_path, result, make_run):
    a = write_run(result, tmp_path / "a")
    b = write_run(make_run(), tmp_path / "b")  # an equal result built again
    for name in ALL_FILES:
        assert a[name].read_bytes() == b[name].read_bytes(), name


def test_formats_subset(tmp_path, result):
    paths = write_run(result, tmp_path, formats=("json", "perfetto"))
    assert list(paths) == ["report.json", "timeline.perfetto.json"]
    with pytest.raises(InputError, match="formats"):
        write_run(result, tmp_path, formats=("json", "svg"))


def test_invalid_result_writes_nothing(tmp_path, make_run):
    out = tmp_path / "run"
    with pytest.raises(InputError, match="totals.energy_pj"):
        write_run(make_run(totals={"energy_pj": float("nan")}), out)
    assert not out.exists()


def test_invalid_result_keeps_a_previous_run_intact(tmp_path, result, make_run):
    out = tmp_path / "run"
    before = {name: p.read_bytes() for name, p in write_run(result, out).items()}
    bad = EventTable(clock_hz=500e6)
    bad.append(10, 5, "pe", "conv1", "compute")
    with pytest.raises(InputError, match=r"events\[0\]\.end_cycle"):
        write_run(make_run(events=bad, totals={"cycles": 1}), out)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before


def test_failure_while_rendering_writes_nothing(tmp_path, result, monkeypatch):
    from archsim.report import plots

    def broken(*args, **kwargs):
        raise RuntimeError("plotting failed")

    monkeypatch.setattr(plots, "energy_breakdown", broken)
    out = tmp_path / "run"
    with pytest.raises(RuntimeError, match="plotting failed"):
        write_run(result, out)
    assert not out.exists()


def test_empty_event_table_still_gives_valid_outputs(tmp_path, make_run):
    paths = write_run(
        make_run(events=EventTable(), ops=[], totals={"cycles": 0}, energy_breakdown_pj={}), tmp_path
    )
    assert list(paths) == ALL_FILES
    assert json.loads(paths["report.json"].read_text())["ops"] == []
    assert paths["events.csv"].read_text() == "start_cycle,end_cycle,unit,op,kind,bytes,macs,util\n"
    assert len(json.loads(paths["timeline.perfetto.json"].read_text())["traceEvents"]) == 1
    assert paths["energy.png"].read_bytes().startswith(b"\x89PNG")


def test_out_dir_that_is_a_file(tmp_path, result):
    f = tmp_path / "file"
    f.write_text("x")
    with pytest.raises(InputError, match="directory"):
        write_run(result, f)


def test_parquet_requested_without_pyarrow_writes_nothing(tmp_path, result, monkeypatch):
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    monkeypatch.setitem(sys.modules, "pyarrow.parquet", None)
    out = tmp_path / "run"
    with pytest.raises(InputError, match=r"pip install archsim\[parquet\]"):
        write_run(result, out, parquet=True)
    assert not out.exists()


def test_parquet_requested(tmp_path, result):
    pq = pytest.importorskip("pyarrow.parquet", reason="pyarrow not installed (pip install archsim[parquet])")
    paths = write_run(result, tmp_path, formats=("csv",), parquet=True)
    assert list(paths) == ["ops.csv", "events.csv", "events.parquet"]
    assert pq.read_table(paths["events.parquet"]).num_rows == len(result.events)
