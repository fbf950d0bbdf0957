"""Error metrics by hand and the ``archsim quantize`` command."""

import json
import math

import numpy as np
import pytest

from archsim.cli import main
from archsim.numerics import error_report, mse, sqnr_db


def test_metrics_by_hand():
    x, y = np.array([3.0, 4.0]), np.array([3.0, 3.0])
    assert mse(x, y) == 0.5  # (0 + 1) / 2
    assert sqnr_db(x, y) == pytest.approx(10 * math.log10(25 / 1))
    assert sqnr_db(x, x) == math.inf
    assert error_report(x, y)["max_abs_error"] == 1.0


def test_quantize_cli_reports_bits_and_error(tmp_path, capsys):
    x = np.array([[1.0, 0.3, -0.9, 0.05]])
    np.save(tmp_path / "x.npy", x)
    assert main(["quantize", "--format", "bfp12", "--block", "4", str(tmp_path / "x.npy"), "--json"]) == 0
    rep = json.loads(capsys.readouterr().out)
    # dequantized [1, 0.25, -1, 0] (tests/numerics/test_formats_hand.py): errors 0, .05, .1, .05
    assert rep["bits_per_element"] == 4 + 8 / 4
    assert rep["unsorted"]["mse"] == pytest.approx((0.05**2 + 0.1**2 + 0.05**2) / 4)
    assert rep["unsorted"]["storage_bits"] == 4 * 4 + 8


def test_quantize_cli_sort_channels_and_out(tmp_path, capsys):
    rng = np.random.default_rng(1)
    k = rng.standard_normal((64, 64))
    k[:, [2, 40]] *= 30
    np.save(tmp_path / "k.npy", k)
    out = tmp_path / "kq.npy"
    assert main(["quantize", "--format", "bfp12", "--block", "32", "--sort-channels", str(tmp_path / "k.npy"),
                 "--out", str(out), "--json"]) == 0
    rep = json.loads(capsys.readouterr().out)
    assert rep["sorted"]["mse"] < rep["unsorted"]["mse"]
    y = np.load(out)
    assert y.shape == k.shape and np.mean((y - k) ** 2) == pytest.approx(rep["sorted"]["mse"])
    assert main(["quantize", "--format", "bfp12", "--block", "32", "--sort-channels", str(tmp_path / "k.npy")]) == 0
    text = capsys.readouterr().out
    assert "sorted" in text and "bits per element: 4.25" in text


@pytest.mark.parametrize("argv, needle", [
    (["quantize", "--format", "bfp99x", "X"], "format"),
    (["quantize", "--format", "bfp12", "missing.npy"], "missing.npy"),
    (["quantize", "--format", "bfp12", "--block", "0", "X"], "block"),
    (["quantize", "--format", "bfp12", "--head-dim", "4", "X"], "--sort-channels"),
])
def test_quantize_cli_bad_input_is_one_line_exit_2(tmp_path, capsys, argv, needle):
    np.save(tmp_path / "X.npy", np.ones((2, 8)))
    argv = [str(tmp_path / "X.npy") if a == "X" else a for a in argv]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and needle in err


def test_quantize_cli_rejects_pickles_and_nan(tmp_path, capsys):
    np.save(tmp_path / "o.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    np.save(tmp_path / "n.npy", np.array([1.0, np.nan]))
    assert main(["quantize", "--format", "int8", str(tmp_path / "o.npy")]) == 2
    assert main(["quantize", "--format", "int8", str(tmp_path / "n.npy")]) == 2
    out = tmp_path / "never.npy"
    assert main(["quantize", "--format", "int8", str(tmp_path / "n.npy"), "--out", str(out)]) == 2
    assert not out.exists()
