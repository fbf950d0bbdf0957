"""rtl/bitserial_pe and rtl/bfp_dot: deliberately broken RTL is caught with the cycle and the
signal worked out by hand, and both blocks synthesize without latches. (The passing runs of the
registered configurations are in test_rtl_blocks.py, which covers every block.)"""

import os
import re
import shutil
import subprocess

import pytest

from archsim.rtl.blocks import BLOCKS
from archsim.rtl.runner import run_block, simulator_status

MISMATCH = re.compile(r"^cycle (\d+): signal (\S+): rtl=(-?\d+) model=(-?\d+)")

BROKEN = [
    # lane 3 ignores its term's sign. Cycle 1 issues the most significant Booth digit of the first
    # directed group: lane 3 holds -100 = -2*64 + 2*16 - 1*4 + 0, digit -2 (t_sign 1) with the
    # activation 3.0 (sign 0): the product sign r1_sign[3] is 1, the broken RTL registers 0.
    pytest.param("bitserial_pe", {"BROKEN": 1}, "r1_sign[3]", 1, id="pe-lane-sign"),
    # the dequantizer taken one cycle early. Group 0 (8 INT8 weights: cycles 1-8) is handed over at
    # the edge of cycle 10 (dq_cnt 8, then 7 after cycle 11, ..., 2 after cycle 16); group 1 (4 INT4
    # weights: cycles 9-10) waits in stage 3 from cycle 11, so ready is 0 through cycle 16 (dq_cnt
    # 2 > 1); the broken RTL (dq_cnt > 2) raises ready after cycle 16.
    pytest.param("bitserial_pe", {"BROKEN": 2}, "ready", 16, id="pe-early-dequant"),
    # exponent offset 2(P-1) instead of 2(P-2): the first beat's block exponent, cycle 1
    pytest.param("bfp_dot", {"BROKEN": 1}, "s1_exp", 1, id="bfp-exponent"),
]


def require(sim):
    status = simulator_status(sim)
    if not status.available:
        pytest.skip(status.reason)


@pytest.mark.parametrize("block,params,signal,cycle", BROKEN)
def test_broken_rtl_is_caught_with_cycle_and_signal(block, params, signal, cycle, rtl_build_root):
    require("icarus")
    res = run_block(block, "icarus", params, build_root=rtl_build_root, min_cycles=40)
    assert not res.passed
    m = MISMATCH.match(res.message)
    assert m, res.message
    assert (m.group(2), int(m.group(1))) == (signal, cycle), res.message
    assert m.group(3) != m.group(4)
    assert res.cycles_compared == cycle - 1


@pytest.mark.skipif(shutil.which("yosys") is None, reason="yosys not installed (apt-get install yosys)")
@pytest.mark.parametrize("name,params", [
    ("bitserial_pe", {}), pytest.param("bitserial_pe", {"DEQUANT": 0}, marks=pytest.mark.slow),
    ("bfp_dot", {"P": 4, "LANES": 4, "BLOCK": 32}), pytest.param("bfp_dot", {"P": 8, "LANES": 8, "BLOCK": 64},
                                                               marks=pytest.mark.slow)])
def test_block_synthesizes_without_latches(name, params, tmp_path):
    blk = BLOCKS[name]
    sources = " ".join(str(p) for p in blk.source_paths())
    chparam = " ".join(f"-set {k} {v}" for k, v in blk.resolve(params).items())
    script = f"read_verilog {sources}; chparam {chparam} {name}; synth -top {name}; check -assert; stat"
    out = subprocess.run(["yosys", "-p", script], capture_output=True, text=True, cwd=tmp_path, timeout=300)
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-2000:]
    stat = out.stdout[out.stdout.rindex("Printing statistics"):]
    assert "DLATCH" not in stat.upper() and "DFF" in stat


@pytest.mark.parametrize("name,params", [("bitserial_pe", {}), ("bitserial_pe", {"DEQUANT": 0, "SCALE_BITS": 4}),
                                         ("bitserial_pe", {"SCALE_BITS": 16}), ("bfp_dot", {}),
                                         ("bfp_dot", {"P": 16, "LANES": 1, "BLOCK": 1})])
def test_verilator_lint_wall_is_clean(name, params):
    status = simulator_status("verilator")
    if not status.available:
        pytest.skip(status.reason)
    env = dict(os.environ, **dict(status.env))
    blk = BLOCKS[name]
    gflags = [f"-G{k}={v}" for k, v in blk.resolve(params).items()]
    out = subprocess.run(["verilator", "--lint-only", "-Wall", *gflags, *map(str, blk.source_paths())],
                         capture_output=True, text=True, env=env, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
