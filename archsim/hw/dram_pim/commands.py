"""The PIM command set as an extension of the DRAM standard's timing table.

Commands (``scope`` = the PIM scope: every bank of a channel, or of one rank / pseudo-channel):

* ``ACT_AB`` / ``PRE_AB``: open one row in every bank of the scope / close them all
* ``MAC_AB``: every unit of the scope reads one burst at the same column of its open row and
  multiplies it with the same global-buffer entry; no data leaves the chip
* ``MAC_SB``: the same for one bank (its unit only)
* ``WR_GB``: one burst of the input vector from the ASIC into the scope's global buffer (a write
  on the data bus)
* ``RDMAC_AB`` / ``RDMAC_SB``: read the result registers of every unit of the scope (one result
  per unit, ``accumulator_bytes`` each) / of one unit, over the data bus

Their constraints, in DRAM command-clock cycles ``t(...)`` of the standard:

=====================  ======================================================  ============
after                  before                                                  cycles
=====================  ======================================================  ============
ACT_AB                 MAC_AB, MAC_SB, RD / WR                                 tRCD / tRCDWR
ACT_AB                 PRE_AB, PRE; ACT_AB, ACT; REFab                         tRAS; tRC; tRC
ACT (one bank)         MAC_AB, MAC_SB; PRE_AB; ACT_AB                          tRCD; tRAS; tRC
PRE_AB / PRE           ACT_AB, ACT / ACT_AB; REFab                             tRP
MAC_AB                 MAC_AB, MAC_SB, WR (same banks)                         MAC interval
MAC_AB, MAC_SB         PRE_AB, PRE                                             tRTP
MAC_SB                 MAC_SB same bank group / other / same bank              tCCD_L / tCCD_S / unit pace
WR_GB                  WR_GB (bus: tBURST, command: tCCD_S); MAC_*             ...; CWL + tBURST
WR_GB, WR              RDMAC_*, RD                                             CWL + tBURST + tWTR_S
RDMAC_AB               RDMAC_*, RD (data bus)                                  bursts x tBURST
RDMAC_*, RD            WR_GB, WR (read-to-write turnaround)                    CL + bursts x tBURST + 2 - CWL
REFab                  ACT_AB                                                  tRFC
=====================  ======================================================  ============

The MAC interval is ``max(nccdab_cycles, the unit's time for one burst)`` (:attr:`PimSpec.mac_interval_cycles`):
AttAcc's nCCDAB power limit (``scale-snu/attacc_simulator`` HBM3-PIM: 4 tCK unlimited, 6-8 limited);
the AiM simulator (``arkhadem/aim_simulator`` GDDR6.cpp) puts no CAS-to-CAS constraint on its
all-bank MAC, so one issues every command cycle the unit can take. An all-bank ACT is bound only
by tRC and tRP (AiM's ACT16, AttAcc's ACTAB: no tFAW) unless ``ab_act_obeys_tfaw``, when the
executor opens the banks with per-bank ACTs that obey the standard's tRRD and tFAW (Newton's G_ACT).
Constraints from an all-bank command are placed on the scope's node (a rank or the channel):
the command reaches every bank of it, so that is the same as a per-bank constraint and costs one
update instead of one per bank.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from archsim.hw.dram.device import TimingEngine
from archsim.hw.dram.timing import (
    BANK,
    BANKGROUP,
    CHANNEL,
    RANK,
    Command,
    Constraint,
    TimingTable,
    build_table,
)
from archsim.hw.dram_pim.spec import PimSpec

PIM_COMMANDS = ("ACT_AB", "PRE_AB", "MAC_AB", "MAC_SB", "WR_GB", "RDMAC_AB", "RDMAC_SB")


def scope_level(spec: PimSpec) -> int:
    """The hierarchy level of one PIM scope (a channel with one rank is its rank node)."""
    return RANK if spec.pim_scope == "rank" or spec.standard.ranks == 1 else CHANNEL


def data_level(spec: PimSpec) -> int:
    """The level that owns a data bus: the pseudo-channel on HBM, the channel otherwise."""
    return RANK if spec.standard.family in ("hbm2", "hbm3") else CHANNEL


def pim_table(spec: PimSpec) -> TimingTable:
    """The standard's timing table with the PIM commands and constraints (module docstring)."""
    s = spec.standard
    t = s.t
    base = build_table(s)
    act_cycles = base.command("ACT").bus_cycles
    wide = "rank" if scope_level(spec) == RANK else "channel"
    bus = lambda b: b if s.dual_command_bus else "row"  # noqa: E731 - as build_table: one bus unless dual
    cmds = [
        Command("ACT_AB", scope=wide, opens=True, bus=bus("row"), bus_cycles=act_cycles),
        Command("PRE_AB", scope=wide, closes=True, bus=bus("row")),
        Command("MAC_AB", scope=wide, accesses=True, bus=bus("col")),
        Command("MAC_SB", scope="bank", accesses=True, bus=bus("col")),
        Command("WR_GB", scope=wide, bus=bus("col")),
        Command("RDMAC_AB", scope=wide, bus=bus("col")),
        Command("RDMAC_SB", scope="bank", bus=bus("col")),
    ]
    S, D = scope_level(spec), data_level(spec)
    bl, cl, cwl = t("tBURST"), t("CL"), t("CWL")
    mac = spec.mac_interval_cycles
    sb_pace = spec.unit_to_dram_cycles(spec.unit_cycles_per_burst)
    rd_b = spec.readout_bursts * bl
    rds = ("RD", "RDA", "RDMAC_AB", "RDMAC_SB")
    wrs = ("WR", "WRA", "WR_GB")
    cons = [
        # rows
        Constraint(BANK, ("ACT",), ("MAC_AB", "MAC_SB"), t("tRCD")),
        Constraint(BANK, ("ACT",), ("PRE_AB",), t("tRAS")),
        Constraint(BANK, ("ACT",), ("ACT_AB",), t("tRC")),
        Constraint(S, ("ACT_AB",), ("MAC_AB", "MAC_SB", "RD", "RDA"), t("tRCD")),
        Constraint(S, ("ACT_AB",), ("WR", "WRA"), t("tRCDWR")),
        Constraint(S, ("ACT_AB",), ("PRE_AB", "PRE", "PREA"), t("tRAS")),
        Constraint(S, ("ACT_AB",), ("ACT_AB", "ACT", "REFab"), t("tRC")),
        Constraint(S, ("PRE_AB",), ("ACT_AB", "ACT", "REFab"), t("tRP")),
        Constraint(BANK, ("PRE",), ("ACT_AB",), t("tRP")),
        Constraint(RANK, ("PREA",), ("ACT_AB",), t("tRPab")),
        Constraint(RANK, ("REFab",), ("ACT_AB",), t("tRFC")),
        # MACs
        Constraint(S, ("MAC_AB",), ("MAC_AB", "MAC_SB", "WR", "WRA"), mac),
        Constraint(S, ("MAC_AB",), ("PRE_AB", "PRE", "PREA"), t("tRTP")),
        Constraint(S, ("MAC_AB",), ("WR_GB",), 1),
        Constraint(BANK, ("MAC_SB",), ("MAC_SB", "MAC_AB"), max(sb_pace, t("tCCD_S"))),
        Constraint(BANKGROUP, ("MAC_SB",), ("MAC_SB",), t("tCCD_L")),
        Constraint(RANK, ("MAC_SB",), ("MAC_SB",), t("tCCD_S")),
        Constraint(BANK, ("MAC_SB",), ("PRE", "PRE_AB"), t("tRTP")),
        Constraint(RANK, ("MAC_SB",), ("PREA",), t("tRTP")),
        Constraint(S, ("MAC_SB",), ("WR_GB",), 1),
        Constraint(BANK, ("RD", "RDA"), ("PRE_AB",), t("tRTP")),
        Constraint(BANK, ("WR", "WRA"), ("PRE_AB",), cwl + bl + t("tWR")),
        Constraint(BANK, ("WR", "WRA"), ("MAC_AB", "MAC_SB"), cwl + bl + t("tWTR_L")),
        # the global buffer and the result registers on the data bus
        Constraint(D, ("WR_GB",), wrs, bl),
        Constraint(D, ("WR", "WRA"), ("WR_GB",), bl),
        Constraint(S, ("WR_GB",), ("WR_GB",), t("tCCD_S")),
        Constraint(S, ("WR_GB",), ("MAC_AB", "MAC_SB"), cwl + bl),
        Constraint(D, wrs, ("RDMAC_AB", "RDMAC_SB"), cwl + bl + t("tWTR_S")),
        Constraint(D, ("WR_GB",), ("RD", "RDA"), cwl + bl + t("tWTR_S")),
        Constraint(D, ("RDMAC_AB",), rds, rd_b),
        Constraint(D, ("RDMAC_SB",), rds, bl),
        Constraint(D, ("RD", "RDA"), ("RDMAC_AB", "RDMAC_SB"), bl),
        Constraint(D, ("RDMAC_AB",), wrs, cl + rd_b + 2 - cwl),
        Constraint(D, ("RDMAC_SB", "RD", "RDA"), ("WR_GB",), cl + bl + 2 - cwl),
        Constraint(D, ("RDMAC_SB",), ("WR", "WRA"), cl + bl + 2 - cwl),
    ]
    # JEDEC times run from a multi-cycle command's last cycle (HBM's 2-cycle ACT), as build_table does
    cyc = {c.name: c.bus_cycles for c in (*base.commands, *cmds)}
    pairs = [Constraint(c.level, (p,), (n,), c.latency + (cyc[p] - 1) - (cyc[n] - 1), c.window, c.sibling)
             for c in cons for p in c.prev for n in c.next]
    return base.extended(commands=cmds, constraints=pairs)


@dataclass(frozen=True)
class PimTiming:
    """The spec's timing table, command indices and derived latencies; makes timing engines."""

    spec: PimSpec

    @cached_property
    def table(self) -> TimingTable:
        return pim_table(self.spec)

    @cached_property
    def idx(self) -> dict[str, int]:
        return dict(self.table.names)

    def engine(self) -> TimingEngine:
        """A fresh engine of one channel (all banks precharged, nothing issued)."""
        return TimingEngine(self.spec.standard, self.table)

    @cached_property
    def scope_banks(self) -> int:
        return self.spec.banks_per_scope

    def t(self, name: str) -> int:
        return self.spec.standard.t(name)

    @cached_property
    def read_data_cycles(self) -> int:
        """RDMAC_AB issue to its last data beat at the ASIC: CL + bursts x tBURST."""
        return self.t("CL") + self.spec.readout_bursts * self.t("tBURST")

    @cached_property
    def dual_bus(self) -> bool:
        return self.spec.standard.dual_command_bus

    def bus_of(self, name: str) -> int:
        """0: row command bus, 1: column command bus (the same bus unless the standard has two)."""
        return 1 if self.dual_bus and self.table.command(name).bus == "col" else 0

    def bus_cycles(self, name: str) -> int:
        return self.table.command(name).bus_cycles
