"""Bank-bundle timing: every expected value below is derived by hand from the HBM3 5.2 Gb/s
preset (Ramulator 2.0 HBM3_5.2Gbps: tCK 0.769 ns, tRCD 19, tRP 19, tRAS 45, tRC 63, tRTP 8,
tCCD_S 2, tCCD_L 4, CL 19, tBURST 2, tREFI 5070, tRFC 455; ACT takes 2 command cycles, so
ACT->RD is tRCD + 1 = 20 and PRE->ACT tRP - 1 = 18)."""

import math

import pytest

from archsim.hw.dram.device import TimingEngine
from archsim.hw.dram.timing import build_table
from archsim.hw.logic_pim import bundle
from archsim.hw.logic_pim.bundle import (
    group_banks,
    load_pch_standard,
    pim_path,
    pim_table,
    simulate_stream,
    stream_cycles,
)

STD = load_pch_standard("hbm3-5200")
CL_BURST = 19 + 2


def test_preset_is_duplex_hbm3():
    s = STD
    assert s.tck_ns == pytest.approx(1 / 1.3)
    assert (s.ranks, s.bankgroups, s.banks_per_group, s.rows, s.columns, s.burst_bytes) == (2, 4, 4, 16384, 32, 32)
    # 16 GB per stack of 32 pseudo-channels
    assert 32 * s.capacity_bytes == 16 * 2**30


def test_conventional_path_streams_one_burst_per_tccd_s():
    """The xPU path: row-hit reads to alternating bank groups of one stack ID, one 32 B burst every
    tCCD_S = 2 cycles (= tBURST) on the pseudo-channel's data bus."""
    eng = TimingEngine(STD, build_table(STD))
    act, rd = eng.table.index("ACT"), eng.table.index("RD")
    banks = [g * 4 for g in range(4)]                     # bank 0 of each bank group, stack ID 0
    t = 0
    for b in banks:
        t = max(t, eng.ready_time(act, b))
        eng.issue(act, b, t, row=0)
    times = []
    for i in range(64):
        b = banks[i % 4]
        t = eng.ready_time(rd, b)
        eng.issue(rd, b, t)
        times.append(t)
    gaps = {b - a for a, b in zip(times, times[1:])}
    assert gaps == {2}
    assert bundle.pch_bytes_per_cycle(STD) == 32 / 2


@pytest.mark.parametrize("placement,banks,ratio", [("logic", 8, 4), ("bankgroup", 8, 4), ("bank", 32, 16)])
def test_pim_paths_multiply_the_pseudo_channel_bandwidth(placement, banks, ratio):
    """A bundle reads 2 banks per bank group (8) per tCCD_L; Bank-PIM all 32 banks. Against one
    burst per tCCD_S: 8 * 2 / 4 = 4x and 32 * 2 / 4 = 16x, measured on the engine's row-hit reads."""
    path = pim_path(STD, placement, 1)
    assert path.banks == banks
    log = []
    simulate_stream(STD, path, banks * 32 * 32, refresh=False, log=log)  # one row-set: 32 steps
    rds = [t for t, c, _ in log if c == "RDP"]
    assert rds[0] == 20 and {b - a for a, b in zip(rds, rds[1:])} == {4}
    per_cycle = banks * 32 / 4
    assert per_cycle / bundle.pch_bytes_per_cycle(STD) == ratio
    assert bundle.pim_bytes_per_cycle(STD, path) == per_cycle


def test_bundles_are_two_banks_per_bank_group_in_one_stack_id():
    p = pim_path(STD, "logic", 2)
    g0, g1 = group_banks(STD, p, 0), group_banks(STD, p, 1)
    assert g0 == [0, 1, 4, 5, 8, 9, 12, 13]          # stack ID 0, upper banks of each group
    assert g1 == [16, 17, 20, 21, 24, 25, 28, 29]    # stack ID 1: consecutive bundles alternate IDs
    assert group_banks(STD, p, 2) == [2, 3, 6, 7, 10, 11, 14, 15]


def test_single_bundle_row_switch_is_exposed():
    """One bundle streaming alone: ACTP every tRCD + 31 tCCD_L + tRTP + tRP = 19 + 124 + 8 + 19 = 170
    cycles (the read-to-precharge path dominates tRAS + tRP = 64 and tRC = 63)."""
    p = pim_path(STD, "logic", 1)
    log = []
    r = simulate_stream(STD, p, 5 * 8192, refresh=False, log=log)
    acts = [t for t, c, _ in log if c == "ACTP"]
    assert acts == [0, 170, 340, 510, 680]
    assert r.cycles == 4 * 170 + 20 + 31 * 4 + CL_BURST == 845
    assert (r.acts, r.reads, r.row_sets) == (5 * 8, 5 * 32 * 8, 5)
    assert bundle.row_set_period(STD, p) == 170


def test_two_bundles_hide_each_others_row_switch():
    """Alternating bundles: every read step follows the previous one by tCCD_L, across row
    switches, because tRTP + tRP + tRCD = 46 <= 33 tCCD_L."""
    p = pim_path(STD, "logic", 2)
    log = []
    r = simulate_stream(STD, p, 10 * 8192 + 300, refresh=False, log=log)
    rds = [t for t, c, _ in log if c == "RDP"]
    steps = math.ceil((10 * 8192 + 300) / 256)
    assert len(rds) == steps and {b - a for a, b in zip(rds, rds[1:])} == {4}
    assert r.cycles == 20 + (steps - 1) * 4 + CL_BURST
    assert bundle.hides_row_switch(STD, p)


def test_refresh_of_a_lone_bundle_costs_trfc():
    """2 MB through one bundle: 7813 steps, 245 row-sets (the last of 5 steps): without refresh
    244 * 170 + 20 + 4 * 4 + 21 = 41537 cycles; with refresh every tREFI (5070) a 455-cycle stall,
    8 of them: 45177."""
    p = pim_path(STD, "logic", 1)
    assert simulate_stream(STD, p, 2_000_000, refresh=False).cycles == 41537
    r = simulate_stream(STD, p, 2_000_000, refresh=True)
    assert (r.cycles, r.refreshes) == (41537 + 8 * 455, 8)


@pytest.mark.parametrize("placement,ways", [("logic", 1), ("logic", 2), ("logic", 4), ("bank", 1)])
@pytest.mark.parametrize("nbytes", [32, 256, 8192, 8192 * 3 + 100, 100_000, 550_000])
def test_closed_form_equals_command_level_without_refresh(placement, ways, nbytes):
    p = pim_path(STD, placement, ways)
    ev = simulate_stream(STD, p, nbytes, refresh=False)
    cf = stream_cycles(STD, p, nbytes, refresh=False)
    assert (cf.cycles, cf.acts, cf.reads, cf.row_sets) == (ev.cycles, ev.acts, ev.reads, ev.row_sets)


@pytest.mark.parametrize("placement,ways,tol", [("logic", 1, 0.0), ("bank", 1, 0.0), ("logic", 4, 0.0),
                                                ("logic", 2, 1e-3)])
def test_closed_form_refresh_is_within_bound(placement, ways, tol):
    p = pim_path(STD, placement, ways)
    for nbytes in (550_000, 2_000_000):
        ev = simulate_stream(STD, p, nbytes, refresh=True)
        cf = stream_cycles(STD, p, nbytes, refresh=True)
        assert abs(cf.cycles - ev.cycles) <= tol * ev.cycles
        assert cf.refreshes == ev.refreshes


def test_power_limited_activates_follow_trrd_and_tfaw():
    """With the power limit the 8 activates of a bundle go one by one: same bank group tRRD_L = 4,
    other group tRRD_S = 2, at most 4 per tFAW = 39: at 0, 4, 6, 10, then 39, 43, 45, 49; the first
    read waits for the last activate: 49 + 20 = 69."""
    p = pim_path(STD, "logic", 1)
    log = []
    simulate_stream(STD, p, 8192, refresh=False, act_power_limit=True, log=log)
    assert [t for t, c, _ in log if c == "ACTP"] == [0, 4, 6, 10, 39, 43, 45, 49]
    assert [t for t, c, _ in log if c == "RDP"][0] == 69


def test_pim_commands_are_an_extension_of_the_standard_table():
    t = pim_table(STD, pim_path(STD, "logic"))
    base = build_table(STD)
    assert t.commands[:len(base.commands)] == base.commands
    assert [c.name for c in t.commands[len(base.commands):]] == ["ACTP", "RDP", "PREP"]
