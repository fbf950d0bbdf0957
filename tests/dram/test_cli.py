"""``archsim dram replay``: table and JSON output, report files, determinism, one-line errors."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from archsim.cli import main

TRACES = Path(__file__).parents[2] / "traces" / "dram"


def archsim(*args):
    return subprocess.run([sys.executable, "-m", "archsim.cli", *map(str, args)], capture_output=True, text=True)


def test_replay_table_and_json(capsys):
    assert main(["dram", "replay", "--standard", "hbm2", "--trace", str(TRACES / "random_rw_2k.trace")]) == 0
    out = capsys.readouterr().out
    for word in ("memory cycles", "bandwidth", "GB/s", "average read latency", "row hits", "ACT commands",
                 "REF commands", "energy (datapath)", "energy (idd)"):
        assert word in out
    assert main(["dram", "replay", "--standard", "ddr4-2400", "--trace", str(TRACES / "sequential_2k.ldst"),
                 "--format", "json"]) == 0
    rep = json.loads(capsys.readouterr().out)
    assert rep["schema_version"] == 1 and rep["archsim_version"] and rep["kind"] == "dram_replay"
    inp = rep["inputs"]
    assert inp["standard"]["name"] == "ddr4-2400" and inp["mapping"]["resolved"] == "Ro16:Ba2:Bg2:Co7"
    assert inp["trace"] == {"path": str(TRACES / "sequential_2k.ldst"), "format": "ramulator", "requests": 2000}
    r = rep["results"]
    for key in ("total_cycles", "simulated_ns", "bandwidth_gb_per_s", "avg_read_latency_cycles",
                "avg_read_latency_ns", "row_hits", "row_misses", "row_conflicts"):
        assert key in r
    assert set(r["commands"]) == {"ACT", "RD", "WR", "PRE", "REF"} and r["commands"]["RD"] == 2000
    assert r["energy"]["model"] == "idd" and r["energy"]["total_pj"] > 0


def test_out_dir_is_written_atomically_and_deterministically(tmp_path):
    args = ["dram", "replay", "--standard", "hbm2", "--trace", TRACES / "random_rw_2k.trace", "--mapping",
            "bg-interleave", "--channels", "2"]
    a = archsim(*args, "--out", tmp_path / "a", "--commands")
    b = archsim(*args, "--out", tmp_path / "b", "--commands")
    assert a.returncode == 0 and b.returncode == 0, a.stderr
    for f in ("report.json", "commands.csv", "timeline.perfetto.json"):
        assert (tmp_path / "a" / f).read_bytes() == (tmp_path / "b" / f).read_bytes()
    trace = json.loads((tmp_path / "a" / "timeline.perfetto.json").read_text())
    names = {e["args"]["name"] for e in trace["traceEvents"] if e["name"] == "thread_name"}
    assert "ch0.data" in names and any(n.startswith("ch1.r1.bg") for n in names)
    lines = (tmp_path / "a" / "commands.csv").read_text().splitlines()
    assert lines[0] == "cycle,channel,command,rank,bankgroup,bank,row" and len(lines) > 4000
    assert not list(tmp_path.glob("a/.*tmp"))


def test_cycle_level_matches_event_level(capsys):
    args = ["dram", "replay", "--standard", "lpddr5-6400", "--trace", str(TRACES / "random_rw_2k.trace"),
            "--format", "json"]
    assert main(args) == 0
    ev = json.loads(capsys.readouterr().out)["results"]
    assert main(args + ["--level", "cycle"]) == 0
    cy = json.loads(capsys.readouterr().out)["results"]
    assert ev == cy


@pytest.mark.parametrize("content,expect", [
    ("0x40 READ 0\n0x80 RAED 3\n", ":2: expected '<hex addr> READ|WRITE <cycle>'"),
    ("LD 0x40\nLD\n", ":2: expected 'LD <addr>' or 'ST <addr>'"),
])
def test_malformed_trace_line_exits_2_with_file_and_line(tmp_path, content, expect):
    p = tmp_path / "bad.trace"
    p.write_text(content)
    r = archsim("dram", "replay", "--standard", "hbm2", "--trace", p, "--out", tmp_path / "out")
    assert r.returncode == 2 and r.stdout == ""
    assert r.stderr.count("\n") == 1 and f"{p}{expect}" in r.stderr and "got" in r.stderr
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("args,word", [
    (["--standard", "nope"], "--standard"),
    (["--standard", "hbm2", "--mapping", "Ro:Q"], "--mapping"),
    (["--standard", "hbm2", "--channels", "3"], "--channels"),
    (["--standard", "ddr4-2400", "--refresh", "per-bank"], "--refresh"),
    # a 128 B request on HBM2 is four 32 B bursts, queued whole: a 2-entry buffer never takes one
    (["--standard", "hbm2", "--request-bytes", "128", "--read-buffer", "2"], "--read-buffer"),
])
def test_bad_arguments_exit_2(args, word):
    r = archsim("dram", "replay", "--trace", TRACES / "sequential_2k.ldst", *args)
    assert r.returncode == 2 and word in r.stderr and r.stderr.count("\n") == 1


def test_standards_lists_presets(capsys):
    assert main(["dram", "standards"]) == 0
    out = capsys.readouterr().out
    assert "hbm2" in out and "gddr6-14000" in out and "32.00" in out
