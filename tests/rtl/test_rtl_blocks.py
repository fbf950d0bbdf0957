"""Every RTL block equals its Python model on every cycle (cocotb benches through the runner),
on Icarus (default) and Verilator (one smoke run; the rest are slow), and deliberately broken RTL is
caught with the cycle and the signal. What each bench checks: rtl/README.md."""

import re

import pytest

from archsim.rtl.blocks import BLOCKS
from archsim.rtl.runner import run_block, simulator_status

MISMATCH = re.compile(r"^cycle (\d+): signal (\S+): rtl=(-?\d+) model=(-?\d+)")
VERILATOR_SMOKE = ("systolic_array", {"ROWS": 4, "COLS": 4})


def require(sim):
    status = simulator_status(sim)
    if not status.available:
        pytest.skip(status.reason)


def _runs():
    for blk in BLOCKS.values():
        for cfg in blk.configs:
            pid = f"{blk.name}-{'-'.join(f'{k}{v}' for k, v in cfg.items())}"
            yield pytest.param(blk.name, cfg, "icarus", id=f"icarus-{pid}")
            smoke = (blk.name, cfg) == VERILATOR_SMOKE
            yield pytest.param(blk.name, cfg, "verilator", id=f"verilator-{pid}",
                               marks=() if smoke else pytest.mark.slow)
        for cfg in blk.slow_configs:
            pid = f"{blk.name}-{'-'.join(f'{k}{v}' for k, v in cfg.items())}"
            for sim in ("icarus", "verilator"):
                yield pytest.param(blk.name, cfg, sim, id=f"{sim}-{pid}", marks=pytest.mark.slow)


@pytest.mark.parametrize("block,params,sim", list(_runs()))
def test_block_equals_its_model_every_cycle(block, params, sim, rtl_build_root):
    require(sim)
    res = run_block(block, sim, params, build_root=rtl_build_root)
    assert res.passed, f"{res.message} (log: {res.log})"
    # directed + random stimulus: >= 1000 cycles for each of OS, WS, IS (the array) or of the
    # three random segments (the PE), all compared
    assert res.cycles_compared >= 3000
    assert res.build_dir.name == f"{block}-" + "-".join(f"{k}{v}" for k, v in BLOCKS[block].resolve(params).items())
    assert res.build_dir.parent.name == sim


BROKEN = [
    # row 2's input skew one register too long: A[2][0] reaches PE(2, 0) on cycle 4 instead of 3
    # (row i passes i registers; the first fold starts on cycle 1)
    pytest.param("systolic_array", {"ROWS": 3, "COLS": 3, "BROKEN": 1}, {"pe[2][0].a", "pe[2][0].a_v"}, 3,
                 id="array-late-skew"),
    # PE(2, 2) multiplies its a operand as unsigned: its accumulator goes wrong first
    pytest.param("systolic_array", {"ROWS": 4, "COLS": 4, "BROKEN": 2}, {"pe[2][2].acc"}, None, id="array-pe-sign"),
    # the PE alone with the same bug: the third directed vector multiplies a = -5
    pytest.param("mac_pe", {"BROKEN": 1}, {"acc"}, 3, id="pe-sign"),
]


def _check_caught(res, signals, cycle):
    assert not res.passed
    m = MISMATCH.match(res.message)
    assert m, res.message
    assert m.group(2) in signals, res.message
    if cycle is not None:
        assert int(m.group(1)) == cycle, res.message
    assert m.group(3) != m.group(4)
    # every cycle before it matched (and cycle 0, the state after reset, where the bench checks it)
    assert int(m.group(1)) - 1 <= res.cycles_compared <= int(m.group(1))


@pytest.mark.parametrize("block,params,signals,cycle", BROKEN)
def test_broken_rtl_is_caught_with_cycle_and_signal(block, params, signals, cycle, rtl_build_root):
    require("icarus")
    _check_caught(run_block(block, "icarus", params, build_root=rtl_build_root), signals, cycle)


@pytest.mark.slow
@pytest.mark.parametrize("block,params,signals,cycle", BROKEN)
def test_broken_rtl_is_caught_on_verilator(block, params, signals, cycle, rtl_build_root):
    require("verilator")
    _check_caught(run_block(block, "verilator", params, build_root=rtl_build_root), signals, cycle)


def test_waves_env_dumps_a_waveform(tmp_path, monkeypatch):
    require("icarus")
    monkeypatch.setenv("WAVES", "1")
    res = run_block("mac_pe", "icarus", {"ACC_W": 32}, build_root=tmp_path, min_cycles=20)
    assert res.passed, res.message
    wave = res.build_dir / "mac_pe.fst"
    assert wave.is_file() and wave.stat().st_size > 0


def test_same_seed_same_result(rtl_build_root):
    require("icarus")
    a = run_block("systolic_array", "icarus", {"ROWS": 2, "COLS": 2}, seed=5, build_root=rtl_build_root, min_cycles=40)
    b = run_block("systolic_array", "icarus", {"ROWS": 2, "COLS": 2}, seed=5, build_root=rtl_build_root, min_cycles=40)
    assert a.passed and b.passed
    assert (a.cycles_compared, a.checks) == (b.cycles_compared, b.checks)
