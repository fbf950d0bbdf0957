"""PIM read paths on one HBM3 pseudo-channel, timed by archsim's DRAM engine.

Three placements read the banks of a pseudo-channel in lock-step (Duplex, MICRO'24, Sec. IV-C
and VI), each a command set added to the standard's timing table with
:meth:`~archsim.hw.dram.timing.TimingTable.extended`:

* ``logic`` (Logic-PIM) and ``bankgroup`` (BankGroup-PIM): a **bank bundle**, 8 banks of one
  stack ID, two per bank group, read with one broadcast command. Each bank delivers one 32 B
  burst per tCCD_L; the bank group's I/O is split so its two bundle banks read together (512 bits
  per tCCD_L per bank group); the path to the processing units (Logic-PIM: the added TSVs) takes
  8 bursts per tCCD_L. So a bundle moves ``8 x 32 B / tCCD_L`` against the pseudo-channel's
  ``32 B / tCCD_S``: ``8 tCCD_S / tCCD_L = 4`` times the bandwidth, from the timing rules.
* ``bank`` (Bank-PIM): every bank of both stack IDs (32) reads a burst per tCCD_L into its own
  unit: ``32 tCCD_S / tCCD_L = 16`` times the pseudo-channel bandwidth.

The per-bank commands are ``ACTP`` (open a row; like ACT it has tRCD, tRAS, tRC, tRP, but no
tRRD/tFAW unless ``act_power_limit``: an all-bank activate, as AttAcc's ACTAB), ``RDP`` (one 32 B
burst into the PIM path) and ``PREP``. A group's banks receive each command in the same cycle.

:func:`simulate_stream` issues the commands of a stream of row-sets (one row of every bank of a
group) on a :class:`~archsim.hw.dram.device.TimingEngine`, command by command (the event level);
:func:`stream_cycles` is the closed form of the same stream (the analytic level), derived in the
docstring and equal to the command-level stream without refresh. Consecutive row-sets alternate
between ``ways`` groups (bundles of different stack IDs), so one group's row switch hides behind
the other's reads; with one group the row switch (tRTP + tRP + tRCD) is exposed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from pathlib import Path

from archsim.errors import InputError
from archsim.hw.dram.device import TimingEngine
from archsim.hw.dram.standard import DramStandard, load_standard
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

PRESETS_DIR = Path(__file__).parent / "presets"
PLACEMENTS = ("logic", "bankgroup", "bank")
PIM_COMMANDS = ("ACTP", "RDP", "PREP")


def load_pch_standard(name: str) -> DramStandard:
    """A pseudo-channel standard from this package's presets (``hbm3-5200``) or a ``.yaml`` path."""
    p = Path(name)
    if p.suffix in (".yaml", ".yml"):
        return load_standard(p)
    preset = PRESETS_DIR / f"{name}.yaml"
    if not preset.exists() or name.endswith("energy"):
        raise InputError(None, "dram_standard", "hbm3-5200 or a pseudo-channel standard .yaml", name)
    return load_standard(preset)


@dataclass(frozen=True)
class PimPath:
    """Which banks one PIM read step takes together.

    * ``banks_per_group``: banks of each bank group read in the same step (bundle 2, Bank-PIM all)
    * ``ranks_per_group``: stack IDs a group spans (bundle 1, Bank-PIM all)
    * ``ways``: groups a stream alternates between (row switches of one hide behind the other)
    """

    placement: str
    banks_per_group: int
    ranks_per_group: int
    bankgroups: int
    ways: int

    @property
    def banks(self) -> int:
        """Banks read in one step."""
        return self.banks_per_group * self.ranks_per_group * self.bankgroups


def pim_path(std: DramStandard, placement: str, ways: int = 2) -> PimPath:
    """The read path of ``placement`` on ``std`` (bundles: half the banks of a bank group of one
    stack ID; Bank-PIM: every bank)."""
    if placement not in PLACEMENTS:
        raise InputError(None, "pim_placement", f"one of {list(PLACEMENTS)}", placement)
    if placement == "bank":  # every bank is in the one group: nothing to alternate with
        return PimPath(placement, std.banks_per_group, std.ranks, std.bankgroups, 1)
    if std.banks_per_group % 2:
        raise InputError(std.path or None, "organization.banks_per_group", "an even count (upper/lower bundles)",
                         std.banks_per_group)
    max_ways = 2 * std.ranks
    if not 1 <= ways <= max_ways:
        raise InputError(None, "pim_bundle_ways", f"1..{max_ways} (bundles per pseudo-channel)", ways)
    return PimPath(placement, std.banks_per_group // 2, 1, std.bankgroups, ways)


def group_banks(std: DramStandard, path: PimPath, k: int) -> list[int]:
    """Engine bank indices of group ``k``. Bundle ``k`` is stack ID ``k % ranks``, upper half
    (``k // ranks == 0``: banks 0..B/2-1 of each bank group) or lower half, so consecutive
    bundles are in different stack IDs (one ID's refresh stalls only one of two alternating
    bundles)."""
    G, B = std.bankgroups, std.banks_per_group
    if path.placement == "bank":
        return list(range(std.banks))
    r, half = k % std.ranks, k // std.ranks
    lo = half * path.banks_per_group
    return [(r * G + g) * B + b for g in range(G) for b in range(lo, lo + path.banks_per_group)]


def pim_table(std: DramStandard, path: PimPath, *, act_power_limit: bool = False) -> TimingTable:
    """``std``'s timing table plus ``ACTP``/``RDP``/``PREP`` for ``path``.

    JEDEC times count from a command's last cycle: ACTP takes ACT's command cycles (2 on HBM3),
    so ACTP->RDP is tRCD + 1, ACTP->PREP tRAS + 1 and PREP->ACTP tRP - 1 (Ramulator's
    multi-cycle adjustment, as :func:`~archsim.hw.dram.timing.build_table` applies to ACT)."""
    t = std.t
    a = std.command_cycles.get("ACT", 1) - 1
    step_banks = path.banks
    cons = [
        Constraint(BANK, ("ACTP",), ("RDP",), t("tRCD") + a),
        Constraint(BANK, ("ACTP",), ("PREP",), t("tRAS") + a),
        Constraint(BANK, ("ACTP",), ("ACTP",), t("tRC")),
        Constraint(BANK, ("PREP",), ("ACTP",), t("tRP") - a),
        Constraint(BANK, ("RDP",), ("PREP",), t("tRTP")),
        Constraint(BANK, ("RDP",), ("RDP",), t("tCCD_L")),                       # a bank's column cycle
        Constraint(BANKGROUP, ("RDP",), ("RDP",), t("tCCD_L"), window=path.banks_per_group),  # split BG I/O
        Constraint(CHANNEL, ("RDP",), ("RDP",), t("tCCD_L"), window=step_banks),  # path width: one step
        # refresh needs the stack ID's banks precharged and blocks activates for tRFC
        Constraint(RANK, ("REFab",), ("ACTP",), t("tRFC") - a),
        Constraint(RANK, ("PREP",), ("REFab",), t("tRP")),
        Constraint(RANK, ("ACTP",), ("REFab",), t("tRC")),
    ]
    if act_power_limit:  # activates obey tRRD/tFAW as single-bank ACTs (Newton/NeuPIMs G_ACT)
        cons += [Constraint(RANK, ("ACTP",), ("ACTP",), t("tRRD_S")),
                 Constraint(RANK, ("ACTP",), ("ACTP",), t("tFAW"), window=4),
                 Constraint(BANKGROUP, ("ACTP",), ("ACTP",), t("tRRD_L"))]
    cmds = [Command("ACTP", opens=True), Command("RDP", accesses=True, bus="col"), Command("PREP", closes=True)]
    return build_table(std).extended(commands=cmds, constraints=cons)


# ---------------------------------------------------------------------------------------------
# peak rates (what the timing rules allow on a row hit)
# ---------------------------------------------------------------------------------------------
def pch_bytes_per_cycle(std: DramStandard) -> float:
    """The conventional (xPU) path of one pseudo-channel: one burst per max(tCCD_S, tBURST)."""
    return std.burst_bytes / max(std.t("tCCD_S"), std.t("tBURST"))


def pim_bytes_per_cycle(std: DramStandard, path: PimPath) -> float:
    """Peak rate of ``path``: its banks each deliver one burst per tCCD_L."""
    return path.banks * std.burst_bytes / std.t("tCCD_L")


# ---------------------------------------------------------------------------------------------
# the stream: command-level (event) and closed form (analytic)
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Stream:
    """A stream of ``nbytes`` read by a PIM path on one pseudo-channel.

    ``cycles``: first command to the last data beat (``CL + tBURST`` after the last read);
    ``acts``/``reads``: per-bank activates and 32 B reads; ``refreshes``: REFab commands."""

    nbytes: int
    cycles: int
    acts: int
    reads: int
    refreshes: int
    row_sets: int


def _steps(std: DramStandard, path: PimPath, nbytes: int) -> tuple[int, int, int]:
    """``(total read steps, row-sets, steps in the last row-set)``; a step reads one burst from
    every bank of the group, a row-set is ``columns`` steps."""
    per_step = path.banks * std.burst_bytes
    steps = max(1, math.ceil(nbytes / per_step))
    rows = math.ceil(steps / std.columns)
    return steps, rows, steps - (rows - 1) * std.columns


def simulate_stream(std: DramStandard, path: PimPath, nbytes: int, *, refresh: bool = True,
                    act_power_limit: bool = False, log: list | None = None) -> Stream:
    """Issue the stream's commands on a timing engine (no per-cycle work).

    The controller works row-set by row-set: it picks the group (of ``path.ways``) whose ACTP can
    issue first (in a tie, the next in turn), issues ACTP to its banks, ``columns`` RDP steps (the
    last row-set may be shorter) and PREP, each as soon as legal. With ``refresh``, every group's
    stack IDs get a REFab every tREFI, group ``k``'s first at ``(k+1) tREFI / ways`` (staggered so
    alternating groups do not refresh together), issued at the group's first row-set boundary
    at or after the due time (postponed at most one row-set; JEDEC allows up to 8 tREFI); the
    controller then chooses again, so the other groups stream during the refresh.
    ``log`` collects ``(cycle, command, bank)``."""
    table = pim_table(std, path, act_power_limit=act_power_limit)
    eng = TimingEngine(std, table)
    ACT, RD, PRE, REF = (table.index(c) for c in ("ACTP", "RDP", "PREP", "REFab"))
    groups = [group_banks(std, path, k) for k in range(path.ways)]
    ranks_of = [sorted({eng.bank_rank[b] for b in g}) for g in groups]
    steps, row_sets, _ = _steps(std, path, nbytes)
    cols, trefi = std.columns, std.t("tREFI")
    due = [trefi * (k + 1) // path.ways for k in range(path.ways)]
    row = [0] * path.ways
    left, turn, last_rd, refs = steps, 0, 0, 0
    rt = eng.ready_time
    while left:
        cand = [(max(0, max(rt(ACT, b) for b in groups[k])), (k - turn) % path.ways) for k in range(path.ways)]
        k = min(range(path.ways), key=lambda i: cand[i])
        g = groups[k]
        t_act = cand[k][0]
        if refresh and t_act >= due[k]:
            for r in ranks_of[k]:
                t_ref = max(0, eng.ready_time_scope(REF, r))
                eng.issue(REF, r * std.bankgroups * std.banks_per_group, t_ref)
                if log is not None:
                    log.append((t_ref, "REFab", r))
                refs += 1
            due[k] += trefi
            continue  # choose again: another group may now activate first
        if act_power_limit:  # one activate after another, each as soon as tRRD/tFAW allow
            for b in g:
                t_b = max(t_act, rt(ACT, b))
                eng.issue(ACT, b, t_b, row=row[k])
                if log is not None:
                    log.append((t_b, "ACTP", b))
        else:                # one broadcast command: every bank in the same cycle
            for b in g:
                eng.issue(ACT, b, t_act, row=row[k])
            if log is not None:
                log.append((t_act, "ACTP", g[0]))
        n = min(cols, left)
        for _ in range(n):
            t = max(rt(RD, b) for b in g)
            for b in g:
                eng.issue(RD, b, t)
            last_rd = t
            if log is not None:
                log.append((t, "RDP", g[0]))
        t = max(rt(PRE, b) for b in g)
        for b in g:
            eng.issue(PRE, b, t)
        if log is not None:
            log.append((t, "PREP", g[0]))
        row[k] += 1
        left -= n
        turn = (k + 1) % path.ways
    end = last_rd + std.t("CL") + std.t("tBURST")
    return Stream(nbytes, end, row_sets * path.banks, steps * path.banks, refs, row_sets)


def row_set_period(std: DramStandard, path: PimPath) -> int:
    """Cycles from one ACTP of a group to its next when the group streams alone (full rows):
    ``max(tRCD + (columns-1) tCCD_L + tRTP + tRP, tRAS + tRP, tRC)``: the read-to-precharge path
    (ACTP->RDP tRCD+1, RDP->PREP tRTP, PREP->ACTP tRP-1), or tRAS+1 then tRP-1, or tRC."""
    t = std.t
    return max(t("tRCD") + (std.columns - 1) * t("tCCD_L") + t("tRTP") + t("tRP"), t("tRAS") + t("tRP"), t("tRC"))


def hides_row_switch(std: DramStandard, path: PimPath) -> bool:
    """Whether ``ways >= 2`` groups stream without gaps: the next group's row-set must be open by
    the step after the current one's last read. Its previous PREP came ``tRTP`` after its last
    read, one row-set (``columns`` steps) before; so ``tRTP + tRP + tRCD <= (columns+1) tCCD_L``
    (and tRC between its activates, ``tRC <= ways * columns * tCCD_L``)."""
    t = std.t
    if path.ways < 2:
        return False
    return (t("tRTP") + t("tRP") + t("tRCD") <= (std.columns + 1) * t("tCCD_L")
            and t("tRC") <= path.ways * std.columns * t("tCCD_L"))


def stream_cycles(std: DramStandard, path: PimPath, nbytes: int, *, refresh: bool = True) -> Stream:
    """Closed form of :func:`simulate_stream` (equal to it without refresh).

    The first read is ``tRCD + 1`` after the first activate. One group alone: row-sets start every
    :func:`row_set_period` cycles, so the last read is at ``(R-1) P + tRCD + 1 + (s-1) tCCD_L``
    (``R`` row-sets, ``s`` steps in the last). Alternating groups that hide the row switch
    (:func:`hides_row_switch`): all ``S`` steps follow each other at tCCD_L, the last at
    ``tRCD + 1 + (S-1) tCCD_L``. Data ends ``CL + tBURST`` after the last read.

    Refresh (closed form, approximate): group ``k`` is refreshed at ``(k+1) tREFI / ways + j tREFI``
    (all its stack IDs at once). A lone group stalls tRFC (REFab follows the precharge by tRP,
    which the next activate waited anyway, and activates follow REFab by tRFC). While one of
    alternating groups refreshes, the others stream alone at ``columns tCCD_L / P`` of the full
    rate, so a refresh costs ``tRFC (1 - columns tCCD_L / P)`` (nothing when the remaining groups
    still hide row switches). Solved as a fixed point in the
    number of refresh events; the event level is the reference (tests bound the difference)."""
    t = std.t
    a = std.command_cycles.get("ACT", 1) - 1
    steps, rows, last = _steps(std, path, nbytes)
    first = t("tRCD") + a
    if path.ways >= 2 and hides_row_switch(std, path):
        last_rd = first + (steps - 1) * t("tCCD_L")
    elif path.ways >= 2:
        raise InputError(None, "pim_bundle_ways", "a standard whose row switch fits in one row-set of reads "
                         "(see hides_row_switch) for the closed form; use the event level", path.ways)
    else:
        last_rd = (rows - 1) * row_set_period(std, path) + first + (last - 1) * t("tCCD_L")
    cycles = last_rd + t("CL") + t("tBURST")
    events = 0
    if refresh:
        trefi = t("tREFI")
        if path.ways >= 3 and hides_row_switch(std, replace(path, ways=path.ways - 1)):
            cost = 0.0  # the other groups still hide each other's row switches
        elif path.ways >= 2:
            cost = t("tRFC") * (1 - std.columns * t("tCCD_L") / row_set_period(std, path))
        else:
            cost = t("tRFC")
        base = cycles
        for _ in range(64):  # fixed point: events due before the (stretched) end
            span = base + events * cost
            n = sum(max(0, int((span - trefi * (k + 1) // path.ways) // trefi) + 1) for k in range(path.ways))
            if n == events:
                break
            events = n
        cycles = base + math.ceil(events * cost)
    refs = events * path.ranks_per_group
    return Stream(nbytes, cycles, rows * path.banks, steps * path.banks, refs, rows)


_MEMO: dict[tuple, Stream] = {}


def _memo_stream(std: DramStandard, path: PimPath, nbytes: int, refresh: bool, act_power_limit: bool) -> Stream:
    key = (std.name, std.path, tuple(sorted(std.timing_cycles.items())), path, nbytes, refresh, act_power_limit)
    got = _MEMO.get(key)
    if got is None:
        got = _MEMO[key] = simulate_stream(std, path, nbytes, refresh=refresh, act_power_limit=act_power_limit)
    return got


def stream(std: DramStandard, path: PimPath, nbytes: int, *, level: str = "analytic", refresh: bool = True,
           act_power_limit: bool = False) -> Stream:
    """The stream of ``nbytes`` at ``level``: ``analytic`` (closed form) or ``event`` (commands on the
    timing engine, memoized by size)."""
    if level == "event" or act_power_limit:
        return _memo_stream(std, path, int(nbytes), refresh, act_power_limit)
    return stream_cycles(std, path, int(nbytes), refresh=refresh)
