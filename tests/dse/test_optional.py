"""Without tqdm / dask / pyarrow the DSE works; asking for them is a one-line error."""

from __future__ import annotations

import sys

import pytest

from archsim.cli import main
from archsim.dse import progress
from archsim.dse.executors import make_executor
from archsim.errors import InputError

from .helpers import write_yaml

SPEC = {"version": 1, "arch": "tpu-like-128", "workloads": ["resnet18"], "axes": {"rows": [32, 64]}}


def test_without_tqdm(monkeypatch, tmp_path, capsys):
    monkeypatch.setattr(progress, "_tqdm", lambda: None)
    assert progress.Progress(3).bar is None  # auto: no bar
    with pytest.raises(InputError, match=r"pip install archsim\[progress\]"):
        progress.Progress(3, enabled=True)
    path = write_yaml(tmp_path / "s.yaml", SPEC)
    assert main(["sweep", str(path), "--out", str(tmp_path / "a"), "--workers", "1"]) == 0
    assert main(["sweep", str(path), "--out", str(tmp_path / "b"), "--progress"]) == 2
    assert capsys.readouterr().err.count("\n") == 1


def test_without_dask(monkeypatch, tmp_path, capsys):
    monkeypatch.setitem(sys.modules, "distributed", None)
    with pytest.raises(InputError, match=r"pip install archsim\[dask\]"):
        make_executor("dask")
    path = write_yaml(tmp_path / "s.yaml", SPEC)
    assert main(["sweep", str(path), "--out", str(tmp_path / "o"), "--executor", "dask"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "archsim[dask]" in err
    assert not (tmp_path / "o").exists()


def test_without_pyarrow(monkeypatch, tmp_path, capsys):
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    path = write_yaml(tmp_path / "s.yaml", SPEC)
    assert main(["sweep", str(path), "--out", str(tmp_path / "o"), "--parquet"]) == 2
    assert "archsim[parquet]" in capsys.readouterr().err
