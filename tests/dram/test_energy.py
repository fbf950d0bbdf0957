"""DRAM energy: the IDD method against DRAMsim3's per-command energies, the datapath model against
its FGDRAM per-bit figures, and the pricing of a run through ActionCounts / EnergyTable."""

import numpy as np
import pytest

from archsim.hw.dram.config import ControllerConfig
from archsim.hw.dram.energy import datapath_energies_pj, dram_actions, energy_table, idd_energies_pj
from archsim.hw.dram.replay import replay
from archsim.hw.dram.standard import load_standard
from archsim.hw.dram.trace import Trace


def test_hbm2_idd_energies_equal_dramsim3_per_command_energies():
    # dram_pim.md section 2 [measured]: DRAMsim3 HBM2_8Gb_x128 (128-bit legacy channel, tCK 1 ns):
    # ACT 828 pJ, RD 804 pJ, WR 1068 pJ per command. archsim counts per pseudo-channel (half the
    # channel: devices 0.5), so a full-channel device equals those numbers exactly:
    # ACT = 1.2 * (65 * 48 - (55 * 34 + 40 * 14)) = 828; RD = 1.2 * (390 - 55) * 2 = 804.
    s = load_standard("hbm2")
    full = s.replace(energy={"idd": {**s.energy["idd"], "devices": 1.0}})
    e = idd_energies_pj(full)
    assert e["act"] == pytest.approx(828) and e["read_burst"] == pytest.approx(804)
    assert e["write_burst"] == pytest.approx(1068)
    assert idd_energies_pj(s)["act"] == pytest.approx(414)


def test_ddr4_idd_energies_match_dramsim3_within_tck_rounding():
    # DRAMsim3 DDR4_8Gb_x8_2400 with CL17 timings: ACT 3450, RD 2932, WR 2550 pJ (computed there with
    # tCK 0.83 ns); archsim uses tCK = 1 / 1.2 GHz = 0.8333 ns, 0.4 % more.
    e = idd_energies_pj(load_standard("ddr4-2400"))
    assert e["act"] == pytest.approx(1.2 * (48 * 56 - (43 * 39 + 34 * 17)) * 8 / 1.2)
    assert e["act"] == pytest.approx(3450, rel=0.005)
    assert e["read_burst"] == pytest.approx(2932, rel=0.005) and e["write_burst"] == pytest.approx(2550, rel=0.005)
    assert e["refab"] == pytest.approx(1.2 * (250 - 43) * 420 * 8 / 1.2)


def test_hbm_datapath_energies_are_fgdram_per_bit():
    # 32 B = 256 bits; on-stack 0.44 + 1.01 + 1.23 + 0.5 = 3.18 pJ/b; interposer 0.3 pJ/b
    e = datapath_energies_pj(load_standard("hbm3"))
    assert e["read_burst"] == pytest.approx(256 * 3.18) and e["io_read_burst"] == pytest.approx(256 * 0.3)
    assert e["act"] == 909  # FGDRAM (MICRO'17) Tab. 3: 0.909 nJ per 1 KB-row activation
    assert datapath_energies_pj(load_standard("ddr4-2400")) is None


def test_run_energy_is_counts_times_table():
    s = load_standard("ddr4-2400")
    rng = np.random.default_rng(0)
    n = 400
    res = replay(s, Trace.from_arrays(rng.integers(0, 1 << 24, n) * 64, rng.random(n) < 0.3),
                 config=ControllerConfig(refresh="none"))
    f = res.figures
    e = idd_energies_pj(s)
    act = f["per_channel"][0]["active_cycles_per_rank"][0]
    T = f["total_cycles"]
    expect = (f["commands"]["ACT"] * e["act"] + f["commands"]["RD"] * e["read_burst"]
              + f["commands"]["WR"] * e["write_burst"] + act * e["active_standby_cycle"]
              + (T - act) * e["precharge_standby_cycle"])
    assert f["energy"]["total_pj"] == pytest.approx(expect)
    total, by, unpriced = energy_table(s).price(dram_actions(s, res.run))
    assert total == pytest.approx(expect) and not unpriced
    assert set(by) == {"dram.act", "dram.read", "dram.write", "dram.background"}


def test_standards_without_energy_values_say_so():
    s = load_standard("gddr6-14000")
    res = replay(s, Trace.from_arrays([0, 64], [False, True]))
    assert res.figures["energy"]["total_pj"] is None and energy_table(s) is None
    assert any("energy not modelled" in n for n in res.notes)
