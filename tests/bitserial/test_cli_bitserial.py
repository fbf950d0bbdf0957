"""``archsim run --arch bitmod|fp16|ant|olive``: options, report files, determinism, errors."""

import json

import pytest

from archsim.cli import main


def run_json(capsys, *args):
    assert main(["run", *args, "--format", "json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_bitmod_decode_json_with_weight_format(capsys):
    rep = run_json(capsys, "--arch", "bitmod", "--workload", "opt-125m", "--phase", "decode", "--seq-len", "256",
                   "--weight-format", "fp3-ea", "--level", "analytic")
    assert rep["arch"]["kind"] == "bitserial" and rep["arch"]["weight_format"] == "fp3-ea"
    assert rep["options"]["array"] == "64x16"  # BitMoD's decode arrangement
    fc1 = next(r for r in rep["ops"] if r["op"] == "layers.0.mlp.fc1")
    assert fc1["format"] == "fp3-ea" and fc1["terms"] == 2 and fc1["bits_per_element"] == 3 + 9 / 128
    assert rep["totals"]["cycles"] == rep["ops"][-1]["end_cycle"]


def test_same_command_same_bytes(capsys):
    args = ["run", "--arch", "bitmod", "--workload", "gpt2", "--phase", "prefill", "--seq-len", "64",
            "--kv-format", "bfp12", "--kv-block", "32", "--sort-channels", "--format", "json"]
    assert main(args) == 0
    a = capsys.readouterr().out
    assert main(args) == 0
    assert capsys.readouterr().out == a
    rep = json.loads(a)
    assert rep["options"]["sort_channels"] is True and rep["options"]["kv_block"] == 32
    assert any("sort_channels" in n for n in rep["notes"])


def test_baselines_through_the_same_command(capsys):
    cyc = {}
    for arch, extra in (("fp16", []), ("ant", ["--weight-bits", "5"]), ("olive", []), ("bitmod", [])):
        rep = run_json(capsys, "--arch", arch, "--workload", "opt-125m", "--phase", "prefill", "--seq-len", "256",
                       "--bitserial-convention", "bitmod-sim", *extra)
        cyc[arch] = rep["totals"]["cycles"]
        assert rep["options"]["convention"] == "bitmod-sim"
    assert cyc["bitmod"] < cyc["olive"] < cyc["ant"] < cyc["fp16"]


def test_out_dir_has_the_report_files(tmp_path, capsys):
    out = tmp_path / "r"
    assert main(["run", "--arch", "bitmod", "--workload", "opt-125m", "--phase", "decode", "--seq-len", "32",
                 "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "TOTAL" in text and "bitmod" in text
    for f in ("report.json", "ops.csv", "events.csv", "timeline.perfetto.json"):
        assert (out / f).stat().st_size > 0


@pytest.mark.parametrize("args, needle", [
    (["--arch", "bitmod", "--weight-format", "fp16"], "weight_format"),
    (["--arch", "fp16", "--weight-format", "int4"], "weight_format"),
    (["--arch", "bitmod", "--kv-format", "nope"], "kv_format"),
    (["--arch", "bitmod", "--dataflow", "os"], "--dataflow"),
    (["--arch", "bitmod", "--level", "cycle", "--bitserial-convention", "bitmod-sim"], "--level"),
    (["--arch", "bitmod", "--weight-bits", "-1"], "positive"),
])
def test_bad_options_are_one_line_exit_2(tmp_path, capsys, args, needle):
    out = tmp_path / "never"
    try:
        code = main(["run", "--workload", "opt-125m", "--phase", "decode", "--seq-len", "16", *args, "--out", str(out)])
    except SystemExit as e:  # argparse rejects bad values itself (one line, exit 2)
        code = e.code
    assert code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and needle in err
    assert not out.exists()
