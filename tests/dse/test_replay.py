"""archsim replay: a recorded op trace re-run on another architecture."""

from __future__ import annotations

import csv
import json

import pytest

from archsim.api import run
from archsim.cli import main
from archsim.dse import replay


@pytest.fixture
def run_dir(tmp_path):
    out = tmp_path / "r18"
    assert main(["run", "--arch", "tpu-like-128", "--workload", "resnet18", "--level", "analytic",
                 "--out", str(out)]) == 0
    return out


def test_same_arch_reproduces_the_recording(run_dir, capsys):
    capsys.readouterr()
    assert main(["replay", str(run_dir), "--arch", "tpu-like-128"]) == 0
    text = capsys.readouterr().out
    new = run_dir.with_name("r18-on-tpu-like-128")
    assert "replay of" in text and str(new) in text
    old = json.loads((run_dir / "report.json").read_text())
    doc = json.loads((new / "report.json").read_text())
    assert doc["totals"] == old["totals"]
    assert [r["cycles"] for r in doc["ops"]] == [r["cycles"] for r in old["ops"]]
    assert doc["options"]["replay_of"]["arch"] == "tpu-like-128" and doc["options"]["level"] == "analytic"
    with (new / "comparison.csv").open() as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == len(old["ops"]) + 1 and rows[-1]["op"] == "TOTAL"
    assert {r["cycles_ratio"] for r in rows} == {"1.0"}
    assert (new / "events.csv").is_file() and (new / "timeline.perfetto.json").is_file()


def test_other_arch_equals_a_direct_run(run_dir, tmp_path):
    rr = replay(run_dir, "eyeriss-like", dataflow="os")
    direct = run("eyeriss-like", "resnet18", level="analytic", dataflow="os")
    assert rr.result.totals == direct.totals
    assert rr.comparison[-1]["old_cycles"] == json.loads((run_dir / "report.json").read_text())["totals"]["cycles"]
    assert rr.comparison[-1]["new_cycles"] == direct.totals["cycles"]
    # another kind: a roofline GPU
    gpu = replay(run_dir, "h100")
    assert gpu.result.arch["kind"] == "xpu" and gpu.result.totals == run("h100", "resnet18", level="analytic").totals


def test_llm_parameters_are_rebuilt(tmp_path):
    out = tmp_path / "gpt2"
    assert main(["run", "--arch", "tpu-like-128", "--workload", "gpt2", "--phase", "decode", "--seq-len", "96",
                 "--batch", "2", "--level", "analytic", "--out", str(out)]) == 0
    rr = replay(out, "scalesim-32")
    assert rr.result.workload["params"]["seq_len"] == 96 and rr.result.workload["params"]["batch"] == 2
    direct = run("scalesim-32", "gpt2", phase="decode", seq_len=96, batch=2, level="analytic")
    assert rr.result.totals == direct.totals


def test_bad_run_directories(run_dir, tmp_path, capsys):
    assert main(["replay", str(tmp_path / "missing"), "--arch", "tpu-like-128"]) == 2
    report = json.loads((run_dir / "report.json").read_text())
    report["ops"][3]["op"] = "no_such_op"
    (run_dir / "report.json").write_text(json.dumps(report))
    capsys.readouterr()
    # the event table names an op the report no longer has
    assert main(["replay", str(run_dir), "--arch", "tpu-like-128"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "events.csv: line" in err and "layer1.0.conv2" in err
    # without the event table: the op is not in the rebuilt workload
    (run_dir / "events.csv").unlink()
    assert main(["replay", str(run_dir), "--arch", "tpu-like-128"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "report.json: ops[" in err and "no_such_op" in err
