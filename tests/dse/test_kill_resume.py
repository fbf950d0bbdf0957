"""A sweep killed mid-run (SIGKILL to a worker, then to the parent), then resumed, ends with
exactly the full set of rows: nothing lost, nothing run or stored twice."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from archsim.dse import build_sweep, open_sweep, run_sweep

from .helpers import write_yaml

pytestmark = pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="needs Linux /proc")

#: 36 event-level ResNet-18 points of ~0.1 s each: long enough to be killed mid-run
SWEEP = {"version": 1, "name": "killme", "arch": "tpu-like-128", "workloads": ["resnet18"], "level": "event",
         "axes": {"rows": [64, 96, 128], "cols": [64, 96, 128], "dataflow": ["os", "ws"],
                  "dram_latency_cycles": [50, 100]}}


def children(pid: int) -> list[int]:
    out = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            out += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            pass
    return out


def descendants(pid: int) -> list[int]:
    todo, seen = [pid], []
    while todo:
        for c in children(todo.pop()):
            seen.append(c)
            todo.append(c)
    return seen


def cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def stored(db: Path) -> int:
    if not db.exists():
        return 0
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as c:
            return c.execute("SELECT COUNT(*) FROM results").fetchone()[0]
    except sqlite3.Error:
        return 0


def alive(pid: int) -> bool:
    """Running (a zombie waiting to be reaped counts as gone)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


def wait_for(cond, timeout_s: float = 60.0) -> None:
    end = time.monotonic() + timeout_s
    while not cond():
        if time.monotonic() > end:
            raise AssertionError("timed out")
        time.sleep(0.02)


def worker_pids(parent: int) -> list[int]:
    """Pool workers: children of the sweep process (fork) or of its forkserver, not the server or
    the resource tracker."""
    direct = children(parent)
    servers = [p for p in direct if "forkserver" in cmdline(p)]
    forked = [p for p in direct if p not in servers and "resource_tracker" not in cmdline(p)]
    return forked + [c for s in servers for c in children(s)]


@pytest.mark.parametrize("start_method", ["", pytest.param("forkserver", marks=pytest.mark.slow)],
                         ids=["default", "forkserver"])
def test_sigkill_worker_then_parent_then_resume(tmp_path, start_method):
    """The default start method here is fork (the CLI process runs one thread); forkserver is
    what a threaded parent (a notebook) gets."""
    env = {**os.environ, "ARCHSIM_DSE_START_METHOD": start_method}
    spec_path = write_yaml(tmp_path / "sweep.yaml", SWEEP)
    out = tmp_path / "out"
    db = out / "results.sqlite"
    cmd = [sys.executable, "-m", "archsim.cli", "sweep", str(spec_path), "--out", str(out), "--workers", "2",
           "--chunk-size", "1", "--no-progress"]
    parent = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    tree: set[int] = set()
    try:
        wait_for(lambda: stored(db) >= 3 and len(worker_pids(parent.pid)) == 2)
        victim = worker_pids(parent.pid)[0]
        tree.update(descendants(parent.pid))
        os.kill(victim, signal.SIGKILL)
        at_worker_kill = stored(db)
        # the parent restarts its pool and goes on storing rows
        wait_for(lambda: stored(db) >= at_worker_kill + 4)
        tree.update(descendants(parent.pid))
        os.kill(parent.pid, signal.SIGKILL)
        parent.wait(timeout=30)
        at_parent_kill = stored(db)
        # the orphaned workers notice and exit by themselves
        wait_for(lambda: not any(alive(p) for p in tree), 10)
    finally:
        if parent.poll() is None:
            parent.kill()
            parent.wait()
        tree.update(descendants(parent.pid))
        for pid in tree:  # the pool the killed parent leaves behind
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
    assert 3 <= at_worker_kill < at_parent_kill < 36, (at_worker_kill, at_parent_kill)

    resumed = subprocess.run(cmd, capture_output=True, text=True, timeout=120, env=env)
    assert resumed.returncode == 0, resumed.stderr
    assert f"{at_parent_kill} already stored, {36 - at_parent_kill} run" in resumed.stdout

    doc, rows = open_sweep(out)
    keys = [p.key for p in build_sweep(SWEEP).points()]
    assert [r["key"] for r in rows] == keys  # every point once, in order
    assert all(r["status"] == "ok" for r in rows)
    with sqlite3.connect(db) as c:
        assert c.execute("SELECT COUNT(*), COUNT(DISTINCT key) FROM results").fetchone() == (36, 36)
    # the same rows as an uninterrupted sweep
    clean = run_sweep(build_sweep(SWEEP), tmp_path / "clean", workers=2, progress=False)
    assert rows == clean.rows
