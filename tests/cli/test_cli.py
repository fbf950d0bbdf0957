"""The archsim command: outputs, determinism, and one-line errors with exit code 2."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

GOLDEN = Path(__file__).parents[1] / "golden" / "scalesim"

CFG = """[general]
run_name = t
[architecture_presets]
ArrayHeight: 32
ArrayWidth: 32
IfmapSramSzkB: 64
FilterSramSzkB: 64
OfmapSramSzkB: 64
IfmapOffset: 0
FilterOffset: 10000000
OfmapOffset: 20000000
Bandwidth : 10
Dataflow : os
[run_presets]
InterfaceBandwidth: CALC
"""
TOPO = "Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, Num Filter, Strides,\n" \
       "Inc5b_3x3, 7, 7, 3, 3, 192, 384, 1,\n"


def archsim(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "archsim.cli", *map(str, args)], capture_output=True, text=True,
                          cwd=cwd)


@pytest.fixture
def scalesim_files(tmp_path):
    (tmp_path / "s.cfg").write_text(CFG)
    (tmp_path / "t.csv").write_text(TOPO)
    return tmp_path


def test_run_writes_every_report_file(tmp_path):
    out = tmp_path / "out"
    r = archsim("run", "--arch", "scalesim-32", "--workload", "resnet18", "--out", out)
    assert r.returncode == 0, r.stderr
    assert "TOTAL" in r.stdout and "utilization" in r.stdout
    for f in ("report.json", "ops.csv", "events.csv", "timeline.perfetto.json", "utilization.png", "energy.png"):
        assert (out / f).stat().st_size > 0, f
    rep = json.loads((out / "report.json").read_text())
    assert rep["schema_version"] == 1 and rep["archsim_version"]
    assert rep["arch"]["rows"] == 32 and rep["workload"]["name"] == "resnet18" and rep["seed"] == 0
    assert rep["totals"]["cycles"] == rep["ops"][-1]["end_cycle"]
    trace = json.loads((out / "timeline.perfetto.json").read_text())
    assert {e["ph"] for e in trace["traceEvents"]} >= {"M", "X", "C"}


def test_json_output_is_deterministic(scalesim_files):
    a = archsim("run", "--arch", scalesim_files / "s.cfg", "--workload", scalesim_files / "t.csv", "--format", "json")
    b = archsim("run", "--arch", scalesim_files / "s.cfg", "--workload", scalesim_files / "t.csv", "--format", "json")
    assert a.returncode == 0, a.stderr
    assert a.stdout == b.stdout
    assert json.loads(a.stdout)["options"]["convention"] == "physical"


def test_scalesim_convention_writes_scalesim_reports(scalesim_files):
    out = scalesim_files / "o"
    r = archsim("run", "--arch", scalesim_files / "s.cfg", "--workload", scalesim_files / "t.csv",
                "--convention", "scalesim", "--out", out)
    assert r.returncode == 0, r.stderr
    lines = (out / "COMPUTE_REPORT.csv").read_text().splitlines()
    assert lines[0] == "LayerID, Total Cycles, Stall Cycles, Overall Util %, Mapping Efficiency %, Compute Util %,"
    assert lines[1].startswith("0, 21479, 0, 75.4225")
    detail = (out / "DETAILED_ACCESS_REPORT.csv").read_text().splitlines()[1].split(", ")
    assert detail[10:13] == ["-983.0", "-1.0", "9408"]  # DRAM IFMAP start, stop, reads


BAD = [
    ("s.cfg", CFG.replace("ArrayHeight: 32", "ArrayHeight: x"), "t.csv", TOPO, "ArrayHeight"),
    ("s.cfg", CFG.replace("Dataflow : os", "Dataflow : rs"), "t.csv", TOPO, "Dataflow"),
    ("s.cfg", "not an ini file\n", "t.csv", TOPO, "s.cfg"),
    ("s.cfg", CFG, "t.csv", TOPO.replace(" 3, 3, 192", " 3, x, 192"), "Filter Width"),
    ("s.cfg", CFG, "t.csv", TOPO.replace("7, 7, 3, 3", "2, 2, 3, 3"), "t.csv"),
    ("a.yaml", "version: 1\nkind: systolic\nsystolic:\n  rows: -3\n", "t.csv", TOPO, "systolic.rows"),
    ("a.yaml", "version: 1\nkind: systolic\nsystolic:\n  rowz: 3\n", "t.csv", TOPO, "systolic.rowz"),
    ("a.yaml", "version: 1\nkind: systolic\nsystolic: [1, 2\n", "t.csv", TOPO, "a.yaml"),
    ("s.cfg", CFG, "c.json", '{"model_type": "gpt2", "n_embd": "big"}', "c.json"),
    ("s.cfg", CFG, "c.json", '{"model_type": "gpt2", ', "c.json"),
]


@pytest.mark.parametrize("arch_name, arch_text, wl_name, wl_text, needle", BAD)
def test_bad_input_is_one_line_exit_2_and_writes_nothing(tmp_path, arch_name, arch_text, wl_name, wl_text, needle):
    (tmp_path / arch_name).write_text(arch_text)
    (tmp_path / wl_name).write_text(wl_text)
    out = tmp_path / "out"
    r = archsim("run", "--arch", tmp_path / arch_name, "--workload", tmp_path / wl_name, "--out", out)
    assert r.returncode == 2
    assert r.stderr.count("\n") == 1 and "Traceback" not in r.stderr, r.stderr
    assert needle in r.stderr
    assert not out.exists()


@pytest.mark.parametrize(
    "args, needle",
    [
        (["--arch", "no-such-preset", "--workload", "resnet50"], "no-such-preset"),
        (["--arch", "scalesim-32", "--workload", "no-such-model"], "no-such-model"),
        (["--arch", "scalesim-32", "--workload", "resnet50", "--batch", "0"], "--batch"),
        (["--arch", "scalesim-32", "--workload", "resnet50", "--dataflow", "xx"], "--dataflow"),
        (["--arch", "scalesim-32"], "--workload"),
    ],
)
def test_bad_arguments(args, needle):
    r = archsim("run", *args)
    assert r.returncode == 2
    assert r.stderr.count("\n") == 1 and "Traceback" not in r.stderr
    assert needle in r.stderr


def test_failed_run_keeps_earlier_outputs(scalesim_files):
    out = scalesim_files / "o"
    ok = archsim("run", "--arch", scalesim_files / "s.cfg", "--workload", scalesim_files / "t.csv", "--out", out)
    assert ok.returncode == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    (scalesim_files / "bad.csv").write_text(TOPO.replace("384", "-1"))
    bad = archsim("run", "--arch", scalesim_files / "s.cfg", "--workload", scalesim_files / "bad.csv", "--out", out)
    assert bad.returncode == 2
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before


def test_presets_and_models_listing():
    assert "tpu-like-128" in archsim("presets").stdout.split()
    assert {"resnet50", "gpt2-xl", "mobilenet_v1"} <= set(archsim("models").stdout.split())


def test_unwritable_out_is_one_line_exit_2(tmp_path):
    blocker = tmp_path / "a_file"
    blocker.write_text("not a directory")
    r = archsim("run", "--arch", "tpu-like-128", "--workload", "resnet18", "--level", "analytic",
                "--out", blocker / "run")
    assert r.returncode == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in r.stderr
    assert "a_file" in lines[0]
    assert blocker.read_text() == "not a directory"


def test_parser_builds_only_the_named_commands_options():
    """``archsim <command> ...`` builds that command's options only (the rest are listed); with no
    command named, every command's options are built."""
    import argparse

    from archsim.cli import build_parser

    def subparsers(argv):
        p, _ = build_parser(argv)
        return next(a for a in p._actions if isinstance(a, argparse._SubParsersAction)).choices

    named = subparsers(["dram", "replay", "--standard", "hbm2"])
    everything = subparsers(["--version"])
    assert set(named) == set(everything) and {"dram", "run", "sweep"} <= set(named)
    assert "replay" in named["dram"].format_help()
    assert [a.dest for a in named["run"]._actions] == ["help"]
    assert len(everything["run"]._actions) > 5
    for args in (["--help"], ["run", "--help"]):
        r = subprocess.run([sys.executable, "-m", "archsim.cli", *args], capture_output=True, text=True)
        assert r.returncode == 0
    assert "--arch" in r.stdout
