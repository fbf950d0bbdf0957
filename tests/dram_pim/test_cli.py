"""``archsim run --arch pim-gpt|t4 --workload ... --phase decode --tokens N``: the JSON report, the run
directory with the Perfetto timeline (channel, bank, ASIC tracks), the same command for the
roofline baselines, the DSE example, and one-line errors."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def archsim(*args):
    return subprocess.run([sys.executable, "-m", "archsim.cli", *map(str, args)], capture_output=True, text=True)


def test_json_report_holds_the_generation_figures():
    r = archsim("run", "--arch", "pim-gpt", "--workload", "gpt2", "--phase", "decode", "--tokens", 5,
                "--seq-len", 20, "--format", "json")
    assert r.returncode == 0, r.stderr
    rep = json.loads(r.stdout)
    t = rep["totals"]
    assert rep["arch"]["kind"] == "dram_pim" and rep["options"]["tokens"] == 5
    assert t["tokens"] == 5 and [o["context"] for o in rep["ops"]] == [20, 21, 22, 23, 24]
    assert t["tokens_per_s"] == pytest.approx(5 / (t["time_ns"] * 1e-9))
    assert 0.97 < t["row_hit_rate"] < 0.99
    assert t["vmm_share"] + t["data_movement_share"] + t["non_vmm_share"] + t["refresh_share"] == pytest.approx(1)
    assert t["energy_per_token_pj"] > 0 and t["latency_per_token_ns"] > 0


def test_run_directory_has_channel_bank_and_asic_tracks(tmp_path):
    out = tmp_path / "pim"
    r = archsim("run", "--arch", "pim-gpt", "--workload", "gpt2", "--phase", "decode", "--seq-len", 16, "--out", out)
    assert r.returncode == 0, r.stderr
    assert "row-hit rate" in r.stdout and "reuse them" in r.stdout
    trace = json.loads((out / "timeline.perfetto.json").read_text())
    threads = {e["args"]["name"] for e in trace["traceEvents"] if e["ph"] == "M" and e["name"] == "thread_name"}
    assert {"pim.ch0", "pim.ch7", "pim.ch0.bank0", "pim.ch0.bank15", "asic"} <= threads
    rep = json.loads((out / "report.json").read_text())
    assert rep["workload"]["name"] == "gpt2" and (out / "ops.csv").is_file()
    # the rows are the graph's ops, so the run replays on another architecture
    r = archsim("replay", out, "--arch", "t4", "--out", tmp_path / "on-t4")
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "on-t4" / "comparison.csv").is_file()
    # a generation adds one span per token
    r = archsim("run", "--arch", "pim-gpt", "--workload", "gpt2", "--phase", "decode", "--tokens", 3, "--out",
                tmp_path / "gen")
    assert r.returncode == 0, r.stderr
    trace = json.loads((tmp_path / "gen" / "timeline.perfetto.json").read_text())
    spans = [e for e in trace["traceEvents"] if e["ph"] == "X" and e["name"].startswith("token[")]
    assert len(spans) == 3


def test_roofline_baselines_take_the_same_command():
    for arch in ("t4", "h100"):
        r = archsim("run", "--arch", arch, "--workload", "gpt2-xl", "--phase", "decode", "--tokens", 3,
                    "--format", "json")
        assert r.returncode == 0, r.stderr
        rep = json.loads(r.stdout)
        t = rep["totals"]
        assert t["tokens"] == 3 and (t["first_context"], t["last_context"]) == (1, 3)
        assert [o["op"] for o in rep["ops"]] == ["token[0]", "token[1]", "token[2]"]
        assert t["time_ns"] == pytest.approx(sum(o["time_ns"] for o in rep["ops"]))


def test_bad_inputs_are_one_line_errors(capsys):
    from archsim.cli import main

    for args, needle in [
        (["--arch", "pim-gpt", "--workload", "gpt2", "--phase", "prefill"], "--phase"),
        (["--arch", "pim-gpt", "--workload", "gpt2", "--tokens", "5000"], "--tokens"),
        (["--arch", "pim-gpt", "--workload", "gpt2", "--pim-lanes", "0"], "--pim-lanes"),
        (["--arch", "t4", "--workload", "gpt2", "--pim-lanes", "8"], "--pim-lanes"),
        (["--arch", "pim-gpt", "--workload", "gpt2", "--level", "cycle"], "--level"),
    ]:
        try:
            code = main(["run", *args])
        except SystemExit as e:  # argparse's own errors
            code = e.code
        assert code == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and needle in err[0]


def test_lanes_example_runs_and_finds_the_knee(tmp_path):
    r = subprocess.run([sys.executable, str(ROOT / "examples" / "pim_lanes_gpt2.py"), str(tmp_path), "--quick",
                        "--workers", "1"], capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert r.returncode == 0, r.stderr[-2000:]
    from archsim.dse import open_sweep

    _, rows = open_sweep(tmp_path / "sweep")
    lat = {row["lanes_per_unit"]: row["latency_per_token_ns"] for row in rows if row["status"] == "ok"}
    # 4 lanes: 4 ns per 16-element burst; 16 lanes: the array's 2-cycle MAC interval binds; 32: the same
    assert lat[4] > 2 * lat[16] and lat[32] == lat[16]
    assert (tmp_path / "latency_lanes.png").read_bytes()[:4] == b"\x89PNG"
