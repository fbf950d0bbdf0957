"""The Dask executor (real LocalClusters) gives the same rows as the local process pool."""

from __future__ import annotations

import logging

import pytest

from archsim.cli import main
from archsim.dse import build_sweep, open_sweep, run_sweep

from .helpers import write_yaml

distributed = pytest.importorskip("distributed")

SWEEP = {"version": 1, "name": "dask-vs-local", "arch": "tpu-like-128",
         "workloads": ["resnet18", {"model": "gpt2", "phase": "decode"}],
         "axes": {"rows": [16, 64, 128], "cols": [32, 128], "dataflow": ["os", "ws"], "seq_len": [64, 256]}}


def test_dask_and_local_rows_are_identical(tmp_path, capsys):
    spec = build_sweep(SWEEP)
    local = run_sweep(spec, tmp_path / "local", workers=2, progress=False)
    assert local.ok == len(spec.points()) == 12 + 12 * 2
    # an existing scheduler, by address
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                                  silence_logs=logging.ERROR) as cluster:
        remote = run_sweep(spec, tmp_path / "dask", executor="dask", scheduler=cluster.scheduler_address,
                           progress=False, chunk_size=5)
    assert remote.executor.startswith("the Dask scheduler at tcp://")
    assert remote.rows == local.rows
    assert (tmp_path / "dask" / "results.csv").read_bytes() == (tmp_path / "local" / "results.csv").read_bytes()
    # the CLI starting its own LocalCluster
    path = write_yaml(tmp_path / "s.yaml", SWEEP)
    assert main(["sweep", str(path), "--out", str(tmp_path / "cli"), "--executor", "dask", "--workers", "2",
                 "--no-progress"]) == 0
    assert "on a Dask LocalCluster of 2 workers" in capsys.readouterr().out
    assert open_sweep(tmp_path / "cli")[1] == local.rows


def test_scheduler_needs_the_dask_executor(tmp_path, capsys):
    path = write_yaml(tmp_path / "s.yaml", SWEEP)
    assert main(["sweep", str(path), "--out", str(tmp_path / "o"), "--scheduler", "tcp://127.0.0.1:8786"]) == 2
    assert "--scheduler" in capsys.readouterr().err
