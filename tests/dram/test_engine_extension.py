"""The timing engine with a command set it was not written for: all-bank ACT / MAC / PRE of a
DRAM-PIM model (AttAcc-style, dram_pim.md section 1), added through TimingTable.extended."""

from archsim.hw.dram.device import TimingEngine
from archsim.hw.dram.standard import load_standard
from archsim.hw.dram.timing import BANK, CHANNEL, RANK, Command, Constraint, build_table


def pim_engine():
    s = load_standard("hbm3")
    t = s.t
    table = build_table(s).extended(
        commands=[Command("ACTab", scope="rank", opens=True), Command("MACab", scope="rank", accesses=True, bus="col"),
                  Command("ACTch", scope="channel", opens=True)],
        constraints=[
            Constraint(BANK, ("ACTab", "ACTch"), ("MACab",), t("tRCD")),
            Constraint(BANK, ("ACTab", "ACTch"), ("PRE", "PREA"), t("tRAS")),
            Constraint(BANK, ("ACTab", "ACTch"), ("ACTab", "ACTch", "ACT"), t("tRC")),
            Constraint(RANK, ("MACab",), ("MACab",), 6),   # nCCDAB, the power-limited MAC interval
            Constraint(RANK, ("PREA",), ("ACTab",), t("tRP")),
            Constraint(CHANNEL, ("MACab",), ("RD",), 2),
        ])
    return s, table, TimingEngine(s, table)


def test_all_bank_commands_follow_their_own_constraints():
    s, table, e = pim_engine()
    ix = table.index
    actab, macab, prea, act, rd = ix("ACTab"), ix("MACab"), ix("PREA"), ix("ACT"), ix("RD")
    nb = s.banks_per_rank  # 16 banks per pseudo-channel
    e.issue(actab, 0, 0, row=7)                     # every bank of pseudo-channel 0 opens row 7
    assert e.open_row[:nb] == [7] * nb and e.open_row[nb:] == [-1] * nb
    assert e.ready_time_scope(macab, 0) == s.t("tRCD") and e.ready_time_scope(macab, 1) == -1
    e.issue(macab, 5, 31)                           # any bank names its pseudo-channel
    assert e.ready_time_scope(macab, 0) == 31 + 6
    assert e.ready_time(rd, 3) == 31 + 2            # the channel-level constraint reaches every bank
    assert e.ready_time_scope(prea, 0) == s.t("tRAS")
    assert e.ready_time(act, 4) == s.t("tRC")       # a single-bank ACT waits tRC after ACTab too
    e.issue(prea, 0, 45)
    assert e.open_row[:nb] == [-1] * nb
    assert e.ready_time_scope(actab, 0) == max(45 + s.t("tRPab"), s.t("tRC"))
    # background bookkeeping: pseudo-channel 0 had open banks over [0, 45)
    assert e.active_cycles_until(100) == [45, 0]


def test_channel_scope_command_opens_every_bank():
    s, table, e = pim_engine()
    e.issue(table.index("ACTch"), 0, 10, row=3)
    assert e.open_row == [3] * s.banks
    assert e.ready_time_scope(table.index("MACab"), 1) == 10 + s.t("tRCD")
