"""``archsim serve`` and ``archsim run --arch duplex`` end to end (in process)."""

import json

import pytest

from archsim.api import resolve_arch, run
from archsim.cli import main
from archsim.workload import load_workload


def cli(capsys, *argv):
    try:
        rc = main(list(argv))
    except SystemExit as e:  # argparse's own errors (one line, exit 2)
        rc = e.code
    out, err = capsys.readouterr()
    return rc, out, err


SERVE = ("serve", "--workload", "mixtral-8x7b", "--rate", "40", "--input-len", "128", "--output-len", "16",
         "--max-batch", "16", "--requests", "24")


def test_serve_json_report(capsys):
    rc, out, err = cli(capsys, *SERVE, "--arch", "duplex", "--format", "json")
    assert rc == 0 and not err
    r = json.loads(out)["results"]
    for key in ("throughput_tokens_per_s", "ttft_ms", "tbt_ms", "e2e_ms", "energy_per_token_j"):
        assert key in r
    assert r["tbt_ms"]["p99"] >= r["tbt_ms"]["p50"] > 0


@pytest.mark.parametrize("arch", ["h100", "bank-pim", "bg-pim"])
def test_serve_other_kinds(capsys, arch):
    rc, out, _ = cli(capsys, *SERVE, "--arch", arch)
    assert rc == 0 and "tokens/s" in out and "TBT (ms)" in out


def test_serve_writes_files(capsys, tmp_path):
    rc, out, _ = cli(capsys, *SERVE, "--arch", "duplex", "--out", str(tmp_path / "run"))
    assert rc == 0
    names = {p.name for p in (tmp_path / "run").iterdir()}
    assert names == {"report.json", "requests.csv", "stages.csv", "timeline.perfetto.json"}
    rows = (tmp_path / "run" / "requests.csv").read_text().splitlines()
    assert rows[0].startswith("request,arrival_s") and len(rows) == 25


@pytest.mark.parametrize("extra,match", [
    (("--arch", "tpu-like-128"), "can time a batched LLM step"),
    (("--arch", "duplex", "--rate", "-3"), "requests per second"),
    (("--arch", "duplex", "--workload", "resnet18"), "an LLM"),
    (("--arch", "duplex", "--devices", "3"), "devices"),
])
def test_serve_errors_are_one_line(capsys, extra, match):
    argv = list(SERVE)
    if "--workload" in extra:
        i = argv.index("--workload")
        del argv[i:i + 2]
    rc, out, err = cli(capsys, *argv, *extra)
    assert rc == 2 and not out and err.count("\n") == 1 and match in err


def test_run_one_decode_step(capsys):
    rc, out, _ = cli(capsys, "run", "--arch", "duplex", "--workload", "mixtral-8x7b", "--phase", "decode",
                     "--batch", "8", "--seq-len", "256")
    assert rc == 0
    assert "21.30 TFLOPS at 650 MHz" in out and "(4x the pseudo-channels), 8.00 FLOP/B" in out


def test_run_json_rows_and_memoized_layers(capsys):
    rc, out, _ = cli(capsys, "run", "--arch", "duplex", "--workload", "mixtral-8x7b", "--phase", "decode",
                     "--batch", "8", "--seq-len", "256", "--format", "json", "--level", "analytic")
    doc = json.loads(out)
    ops = {r["op"]: r for r in doc["ops"]}
    assert ops["layers.0.qkv_proj"]["memoized_from"] is None
    assert ops["layers.5.qkv_proj"]["memoized_from"] == "layers.0.qkv_proj"
    assert ops["layers.0.attention.decode"]["unit"] == "pim"
    # the q/k/v projections of a device are a quarter (4-way tensor parallel) of the graph's
    g = load_workload("mixtral-8x7b", phase="decode", batch=8, seq_len=256)
    qkv = sum(g.op(f"layers.0.attn.{p}_proj").macs for p in "qkv")
    assert 4 * ops["layers.0.qkv_proj"]["macs"] == qkv
    assert doc["totals"]["devices"] == 4 and doc["arch"]["resolved"]["pim_op_per_byte"] == pytest.approx(8)


def test_event_level_equals_analytic_without_refresh():
    spec = resolve_arch("duplex").replace(refresh="none")
    g = load_workload("mixtral-8x7b", phase="decode", batch=8, seq_len=300)
    a = run(spec, g, level="analytic").totals["time_ns"]
    e = run(spec, g, level="event").totals["time_ns"]
    assert a == pytest.approx(e, rel=1e-12)
    spec = resolve_arch("duplex")
    a = run(spec, g, level="analytic").totals["time_ns"]
    e = run(spec, g, level="event").totals["time_ns"]
    assert a == pytest.approx(e, rel=1e-3)


def test_run_options_and_bad_workload(capsys):
    rc, out, _ = cli(capsys, "run", "--arch", "duplex", "--workload", "llama-3-70b", "--phase", "prefill",
                     "--batch", "2", "--seq-len", "128", "--co-processing", "off", "--pim-placement", "none")
    assert rc == 0 and "none PIM" in out
    rc, out, err = cli(capsys, "run", "--arch", "duplex", "--workload", "resnet18")
    assert rc == 2 and "decoder LLM" in err


def test_issue_commands(capsys):
    """The command lines of the issue, as written there."""
    for arch in ("duplex", "h100", "bank-pim"):
        rc, out, err = cli(capsys, "serve", "--arch", arch, "--workload", "mixtral-8x7b", "--rate", "30",
                           "--input-len", "128", "--output-len", "8", "--max-batch", "16", "--requests", "16",
                           "--format", "json")
        assert rc == 0 and not err
        assert json.loads(out)["results"]["requests"] == 16
    rc, out, _ = cli(capsys, "run", "--arch", "duplex", "--workload", "mixtral-8x7b", "--phase", "decode",
                     "--batch", "16", "--seq-len", "512")
    assert rc == 0 and "tokens/s" in out


def test_unwritable_out_is_one_line(capsys, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    rc, out, err = cli(capsys, *SERVE, "--arch", "duplex", "--out", str(blocker / "run"))
    assert rc == 2 and not out and err.count("\n") == 1 and "--out" in err


def test_run_rejects_a_kv_cache_beyond_memory(capsys):
    """8 requests of 3M tokens need 24M tokens of KV cache; a Mixtral node of 4 Duplex devices
    holds about 1.9M after the weights."""
    rc, out, err = cli(capsys, "run", "--arch", "duplex", "--workload", "mixtral-8x7b", "--phase", "decode",
                       "--batch", "8", "--seq-len", "3000000")
    assert rc == 2 and not out and err.count("\n") == 1 and "KV cache" in err
