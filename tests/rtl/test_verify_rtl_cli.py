"""``archsim verify-rtl``: the table, exit codes 0/1/2, and the simulator checks."""

import os
import stat

import pytest

from archsim.cli import main
from archsim.rtl import runner
from archsim.rtl.blocks import BLOCKS, describe, slug
from archsim.rtl.runner import build_dir_for, simulator_status


def _need_icarus():
    if not simulator_status("icarus").available:
        pytest.skip(simulator_status("icarus").reason)


def test_table_and_exit_0(capsys, tmp_path):
    _need_icarus()
    code = main(["verify-rtl", "--block", "mac_pe", "--param", "ACC_W=24", "--build-dir", str(tmp_path),
                 "--min-cycles", "200", "-v"])
    out = capsys.readouterr().out.splitlines()
    assert code == 0
    assert out[0].split() == ["block", "parameters", "simulator", "cycles", "compared", "result"]
    row = out[1].split()
    assert row[:2] == ["mac_pe", "ACC_W=24"] and row[2] == "icarus" and row[-1] == "pass"
    assert int(row[-2]) >= 600
    assert (tmp_path / "icarus" / "mac_pe-ACC_W24-BROKEN0" / "report.json").is_file()


def test_failure_row_names_cycle_and_signal_and_exits_1(capsys, tmp_path):
    _need_icarus()
    code = main(["verify-rtl", "--block", "systolic_array", "--param", "ROWS=2", "--param", "COLS=2",
                 "--param", "BROKEN=1", "--build-dir", str(tmp_path)])
    out = capsys.readouterr().out
    assert code == 1
    # row 1 passes one skew register: A[1][0] reaches PE(1, 0) on cycle 2, one late when broken
    assert "FAIL: cycle 2: signal pe[1][0].a" in out


def test_missing_verilator_is_one_line_exit_2(capsys, monkeypatch):
    monkeypatch.setattr(runner, "simulator_status",
                        lambda sim: runner.SimulatorStatus(sim, None, "Verilator is not installed; pip install x"))
    assert main(["verify-rtl", "--sim", "verilator"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("archsim verify-rtl: error: --sim:") and "not installed" in err[0]


@pytest.mark.parametrize("argv", [["--param", "ROWS"], ["--param", "ROWS=x"], ["--block", "mac_pe", "--param", "ROWS=4"],
                                  ["--block", "systolic_array", "--param", "ACC_W=8"], ["--min-cycles", "0"]])
def test_bad_arguments_are_one_line_exit_2(argv, capsys):
    assert main(["verify-rtl", *argv]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("archsim verify-rtl: error:")


def test_unknown_simulator_exit_2(capsys):
    with pytest.raises(SystemExit) as e:
        main(["verify-rtl", "--sim", "vcs"])
    assert e.value.code == 2


def test_build_dirs_one_per_simulator_and_parameter_set(tmp_path):
    full = BLOCKS["systolic_array"].resolve({"ROWS": 8})
    assert full == {"ROWS": 8, "COLS": 4, "ACC_W": 32, "BROKEN": 0}
    assert describe(full) == "ROWS=8 COLS=4 ACC_W=32"
    assert build_dir_for(tmp_path, "verilator", "systolic_array", full) == \
        tmp_path / "verilator" / f"systolic_array-{slug(full)}"
    assert slug(full) == "ROWS8-COLS4-ACC_W32-BROKEN0"
    with pytest.raises(ValueError, match="unknown parameter"):
        BLOCKS["mac_pe"].resolve({"ROWS": 2})


def _fake_verilator(tmp_path, text):
    bindir = tmp_path / "bin"
    bindir.mkdir()
    exe = bindir / "verilator"
    exe.write_text(f"#!/bin/sh\necho '{text}'\n")
    exe.chmod(exe.stat().st_mode | stat.S_IEXEC)
    return bindir


def test_verilator_older_than_5_036_is_refused_with_the_reason(tmp_path, monkeypatch):
    import importlib.util

    bindir = _fake_verilator(tmp_path, "Verilator 5.006 2023-01-22 rev (Debian 5.006-3)")
    monkeypatch.setenv("PATH", f"{bindir}{os.pathsep}{os.environ['PATH']}")
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "verilator" else real(name, *a))
    st = simulator_status("verilator")
    assert not st.available
    assert "5.006" in st.reason and "older than 5.036" in st.reason and "archsim[rtl]" in st.reason


def test_verilator_version_read_from_its_header_when_it_prints_none(tmp_path, monkeypatch):
    import importlib.util

    bindir = _fake_verilator(tmp_path, "rev vUNKNOWN-built20260516")
    (tmp_path / "include").mkdir()
    (tmp_path / "include" / "verilated_config.h").write_text('#define VERILATOR_VERSION "5.038 2025-07-08"\n')
    monkeypatch.setenv("PATH", f"{bindir}{os.pathsep}{os.environ['PATH']}")
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "verilator" else real(name, *a))
    st = simulator_status("verilator")
    assert st.available and st.version == "5.038"
