"""rtl/pim_mac (the PIM bank MAC unit): deliberately broken RTL is caught with the cycle and the
signal worked out by hand, the block synthesizes without latches and passes Verilator's lint. (The
passing runs of its registered configurations are in test_rtl_blocks.py, which covers every block.)"""

import os
import re
import shutil
import subprocess

import pytest

from archsim.rtl.blocks import BLOCKS
from archsim.rtl.runner import run_block, simulator_status

MISMATCH = re.compile(r"^cycle (\d+): signal (\S+): rtl=(-?\d+) model=(-?\d+)")

BROKEN = [
    # the tree's adders truncate: the first directed burst sums 1.0 and 1.5 x 2^-24 (0.75 ulp), which
    # rounds up to 1 + 2^-23; its products are registered on cycle 1 and their sum on cycle 2
    pytest.param({"LANES": 4, "BROKEN": 1}, "sum", 2, id="pim-mac-truncating-tree"),
    # the accumulator keeps the total after the output's last burst (cycle 1) instead of restarting at
    # +0: stage 3 of that burst is the edge of cycle 3
    pytest.param({"LANES": 4, "BROKEN": 2}, "acc", 3, id="pim-mac-acc-not-cleared"),
]


def require(sim):
    status = simulator_status(sim)
    if not status.available:
        pytest.skip(status.reason)


@pytest.mark.parametrize("params,signal,cycle", BROKEN)
def test_broken_rtl_is_caught_with_cycle_and_signal(params, signal, cycle, rtl_build_root):
    require("icarus")
    res = run_block("pim_mac", "icarus", params, build_root=rtl_build_root, min_cycles=20)
    assert not res.passed
    m = MISMATCH.match(res.message)
    assert m, res.message
    assert (m.group(2), int(m.group(1))) == (signal, cycle), res.message
    assert m.group(3) != m.group(4)
    assert res.cycles_compared == cycle  # cycle 0 (after reset) and every cycle before the failing one


@pytest.mark.slow  # about 20 s: Yosys maps the FP32 adder tree to gates
@pytest.mark.skipif(shutil.which("yosys") is None, reason="yosys not installed (apt-get install yosys)")
def test_block_synthesizes_without_latches(tmp_path):
    blk = BLOCKS["pim_mac"]
    sources = " ".join(str(p) for p in blk.source_paths())
    chparam = " ".join(f"-set {k} {v}" for k, v in blk.resolve({"LANES": 2}).items())
    script = f"read_verilog {sources}; chparam {chparam} pim_mac; synth -top pim_mac; check -assert; stat"
    out = subprocess.run(["yosys", "-p", script], capture_output=True, text=True, cwd=tmp_path, timeout=600)
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-2000:]
    stat = out.stdout[out.stdout.rindex("Printing statistics"):]
    assert "DLATCH" not in stat.upper() and "DFF" in stat


@pytest.mark.parametrize("params", [{}, {"LANES": 4, "BROKEN": 1}, {"LANES": 2, "BROKEN": 2}])
def test_verilator_lint_wall_is_clean(params):
    status = simulator_status("verilator")
    if not status.available:
        pytest.skip(status.reason)
    env = dict(os.environ, **dict(status.env))
    blk = BLOCKS["pim_mac"]
    gflags = [f"-G{k}={v}" for k, v in blk.resolve(params).items()]
    out = subprocess.run(["verilator", "--lint-only", "-Wall", *gflags, *map(str, blk.source_paths())],
                         capture_output=True, text=True, env=env, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
