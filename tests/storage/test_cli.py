"""``archsim run --arch instinfer|flexgen``: JSON with throughput and breakdown, the timeline,
and one-line errors."""

import json
import subprocess
import sys


def archsim(*args):
    return subprocess.run([sys.executable, "-m", "archsim.cli", *map(str, args)], capture_output=True, text=True)


def test_json_report_holds_throughput_and_breakdown():
    r = archsim("run", "--arch", "instinfer", "--workload", "opt-125m", "--phase", "decode", "--batch", 4,
                "--seq-len", 300, "--drives", 2, "--sparse", "--format", "json")
    assert r.returncode == 0, r.stderr
    rep = json.loads(r.stdout)
    t = rep["totals"]
    assert rep["arch"]["kind"] == "storage" and rep["arch"]["drives"] == 2 and rep["arch"]["sparse"] is True
    assert t["tokens_per_s"] == 4 / (t["per_token_latency_ns"] * 1e-9)
    assert set(t["breakdown_ns"]) == {"kv_access", "attention_compute", "kv_write", "transfers", "gpu"}
    assert sum(t["breakdown_ns"].values()) == t["per_token_latency_ns"]
    assert t["kv_bytes_per_token"] == 2 * 12 * 12 * 64 * 2


def test_flexgen_through_the_same_command_writes_a_timeline(tmp_path):
    out = tmp_path / "fg"
    r = archsim("run", "--arch", "flexgen", "--workload", "opt-125m", "--phase", "decode", "--batch", 2,
                "--seq-len", 64, "--out", out)
    assert r.returncode == 0, r.stderr
    assert "tokens/s" in r.stdout and "kv_access" in r.stdout
    trace = json.loads((out / "timeline.perfetto.json").read_text())
    threads = {e["args"]["name"] for e in trace["traceEvents"] if e["ph"] == "M" and e["name"] == "thread_name"}
    assert {"gpu", "ssd", "gpu.pcie_rx"} <= threads


def test_instinfer_timeline_has_drive_tracks(tmp_path):
    out = tmp_path / "ii"
    r = archsim("run", "--arch", "instinfer", "--workload", "opt-125m", "--phase", "decode", "--batch", 2,
                "--seq-len", 64, "--drives", 2, "--out", out)
    assert r.returncode == 0, r.stderr
    trace = json.loads((out / "timeline.perfetto.json").read_text())
    threads = {e["args"]["name"] for e in trace["traceEvents"] if e["ph"] == "M" and e["name"] == "thread_name"}
    assert {"gpu", "drive0.flash", "drive1.engine", "drive0.pcie_rx", "gpu.pcie_tx"} <= threads


def test_bad_inputs_are_one_line_errors(capsys):
    from archsim.cli import main

    for args, needle in [
        (("--arch", "instinfer", "--workload", "opt-13b", "--drives", 41), "at most 40 drives"),
        (("--arch", "flexgen", "--workload", "opt-13b", "--drives", 2), "--drives"),
        (("--arch", "a6000", "--workload", "opt-13b", "--sparse"), "--sparse"),
        (("--arch", "instinfer", "--workload", "opt-13b", "--phase", "prefill", "--seq-len", 8), "decode"),
        (("--arch", "instinfer", "--workload", "opt-13b", "--level", "cycle"), "analytic or event"),
    ]:
        assert main(["run", *map(str, args)]) == 2, args
        err = capsys.readouterr().err
        assert needle in err and err.count("\n") == 1, err
