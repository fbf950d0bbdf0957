"""Event level: one scope's program issued command by command through the DRAM timing engine.

The ASIC's controller is in order. Each command issues at the earliest cycle the timing engine
(:class:`~archsim.hw.dram.device.TimingEngine` with the PIM table of :mod:`.commands`) allows, no
earlier than the previous command, with one command per command bus per cycle (HBM has a row and
a column bus). Result read-out is the one exception to program order:

* the MAC that completes an output puts its result in the unit's output register
  ``result_latency_cycles`` after it issues (the burst's transfer plus the unit pipeline); the
  RDMAC that reads it may issue from then on;
* a pending RDMAC issues before the next command whenever it can issue no later than that
  command; the next output-completing MAC waits for it (one output register per unit).

Row handling: a MAC on a row other than the open one first closes the scope (PRE_AB) and opens the
row (ACT_AB, or per-bank ACTs under tRRD / tFAW when ``ab_act_obeys_tfaw``). With ``refresh:
all-bank`` a REFab falls due every tREFI from ``refresh_start`` (cycles before the program's start
since the last refresh); the controller closes the rows, refreshes, and the next MAC reopens its row.

The run ends when the last result is at the ASIC (RDMAC + CL + its bursts) and the banks are
precharged again (the closing PRE_AB + tRP), so every program starts from idle banks and equal
programs take equal time (they are memoized by :meth:`ScopeProgram.signature`).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from archsim.hw.dram_pim.commands import PimTiming
from archsim.hw.dram_pim.program import BankAccess, MacPhase, RowWrite, ScopeProgram


@dataclass
class ScopeRun:
    """What one scope did in one program (cycles of the DRAM command clock)."""

    cycles: int = 0
    first_result_cycle: int = -1  # first result at the ASIC (-1: none)
    commands: Counter = field(default_factory=Counter)
    bank_activations: int = 0
    accesses: int = 0  # bank column accesses (MAC bursts per bank, RD/WR bursts)
    hits: int = 0
    misses: int = 0
    conflicts: int = 0
    mac_bursts: int = 0  # MAC commands x units they feed
    useful_macs: int = 0
    gb_bursts: int = 0
    readouts: int = 0
    readout_bursts: int = 0
    read_bursts: int = 0
    write_bursts: int = 0
    refreshes: int = 0
    busy_cycles: int = 0  # cycles with a row open (any bank of the scope)
    #: recorded with ``record=True``: (start, end, what, bank or -1 for every bank, bursts)
    spans: list = field(default_factory=list)
    #: recorded with ``record=True``: every command as (cycle, name, bank or -1 for a scope command)
    log: list = field(default_factory=list)

    def to_dict(self) -> dict:
        d = {k: v for k, v in self.__dict__.items() if k not in ("spans", "log")}
        d["commands"] = dict(sorted(self.commands.items()))
        return d


class ScopeExecutor:
    """Runs :class:`ScopeProgram` s of one scope (rank 0 of a fresh channel engine)."""

    def __init__(self, timing: PimTiming, *, record: bool = False, refresh_start: int | None = None):
        self.tm = timing
        sp = timing.spec
        self.sp = sp
        self.e = timing.engine()
        self.ix = timing.idx
        self.record = record
        self.wide_rank = 0 if timing.table.command("ACT_AB").scope == "rank" else None
        self.banks = list(range(sp.banks_per_scope))
        self.U = sp.units_per_scope
        self.bpu = sp.banks_per_unit
        self.lat = sp.result_latency_cycles
        self.rd_data = timing.read_data_cycles
        self.rd1_data = timing.t("CL") + timing.t("tBURST")
        self.tRP = timing.t("tRP")
        self.tREFI = timing.t("tREFI")
        self.refresh_due = None if (sp.refresh == "none" or refresh_start is None) else self.tREFI - refresh_start
        self.bus = {n: timing.bus_of(n) for n in self.ix}
        self.buscyc = {n: timing.bus_cycles(n) for n in self.ix}
        self.bus_free = [0, 0]
        self.now = 0
        self.sym = True  # every bank of the scope has the same timing state (only all-bank commands so far)
        self.rep = 0  # a bank whose state dominates (the last one activated in a per-bank ACT burst)
        self.open_row: int | None = None  # row open in every bank (all-bank mode)
        self.bank_rows: dict[int, int] = {}  # rows open in single banks
        self.pending: list[tuple[int, str, int]] = []  # (ready cycle, RDMAC command, bank) of unread results
        self.run = ScopeRun()
        self.last_data = 0
        self.end = 0
        self._visit: list | None = None  # [ACT cycle, bursts, conflict] of the open all-bank row
        self._bank_first: tuple[int, bool] | None = None  # a bank whose next access is its row's first
        self._written: set[int] = set()  # banks written since the all-bank row opened
        self._open_since = -1

    # -- primitives ---------------------------------------------------------------------------------
    def _ready(self, name: str, bank: int = 0) -> int:
        cmd = self.ix[name]
        e = self.e
        if e.scope[cmd] == "bank":
            r = e.ready_time(cmd, bank)
        elif self.sym:
            r = e.ready_time(cmd, self.rep)
        else:
            r = e.ready_time_scope(cmd, self.wide_rank)
        b = self.bus_free[self.bus[name]]
        r = r if r > b else b
        return r if r > self.now else self.now

    def _issue(self, name: str, t: int, bank: int = 0, row: int = -1) -> int:
        cmd = self.ix[name]
        self.e.issue(cmd, bank, t, row)
        self.bus_free[self.bus[name]] = t + self.buscyc[name]
        self.now = t
        self.run.commands[name] += 1
        if self.e.scope[cmd] == "bank":
            self.sym = False
        if self.record:
            self.run.log.append((t, name, bank if self.e.scope[cmd] == "bank" else -1))
        return t

    def _at(self, name: str, bank: int = 0, row: int = -1, floor: int = 0) -> int:
        """Issue ``name`` at its earliest legal cycle, no earlier than ``floor``."""
        t = self._ready(name, bank)
        return self._issue(name, t if t >= floor else floor, bank, row)

    def _refresh_due(self, name: str, bank: int = 0) -> bool:
        """Refresh now if one falls due before ``name`` could issue (the caller reopens its row)."""
        if self.refresh_due is None or self._ready(name, bank) < self.refresh_due:
            return False
        self._refresh()
        return True

    # -- readout ------------------------------------------------------------------------------------
    def _readout(self) -> None:
        ready, name, bank = self.pending.pop(0)
        t = self._at(name, bank, floor=ready)
        self.run.readouts += 1
        nb = self.sp.readout_bursts if name == "RDMAC_AB" else 1
        self.run.readout_bursts += nb
        data = t + (self.rd_data if name == "RDMAC_AB" else self.rd1_data)
        if self.run.first_result_cycle < 0:
            self.run.first_result_cycle = data
        if data > self.last_data:
            self.last_data = data

    def _readouts_before(self, name: str, bank: int = 0, drain: bool = False) -> None:
        """Issue pending readouts that can go no later than ``name`` could (all, if ``drain``)."""
        while self.pending:
            if not drain:
                ready, rd, rb = self.pending[0]
                tr = max(self._ready(rd, rb), ready)
                if tr > self._ready(name, bank):
                    return
            self._readout()

    # -- rows ---------------------------------------------------------------------------------------
    def _close_all(self) -> None:
        """Precharge: the all-bank row (PRE_AB) and single-bank rows (PRE)."""
        if self.open_row is not None:
            self._readouts_before("PRE_AB")
            t = self._at("PRE_AB")
            self.open_row = None
            self._end_visit(t)
            self.end = max(self.end, t + self.tRP)
        for bank in sorted(self.bank_rows):
            t = self._at("PRE", bank)
            del self.bank_rows[bank]
            self._busy(t)
            self.end = max(self.end, t + self.tRP)

    def _open_all(self, row: int, *, counted: bool = True) -> None:
        """Open ``row`` in every bank of the scope (closing what is open)."""
        if self.refresh_due is not None:
            self._refresh_due("ACT_AB")
        conflict = self.open_row is not None or bool(self.bank_rows)
        self._close_all()
        self._readouts_before("ACT" if self.sp.ab_act_obeys_tfaw else "ACT_AB", self.banks[0])
        if self.sp.ab_act_obeys_tfaw:
            t = None
            for b in self.banks:
                tb = self._at("ACT", b, row)
                t = tb if t is None else t
            self.rep = self.banks[-1]
            self.sym = True  # every bank saw the same commands; the last ACT dominates
        else:
            t = self._at("ACT_AB", row=row)
        self.open_row = row
        self.run.bank_activations += len(self.banks)
        self._visit = [t, 0, conflict, False]
        if self._open_since < 0:
            self._open_since = t

    def _end_visit(self, t: int) -> None:
        """Account the all-bank row visit that just closed: per bank, its first access misses."""
        v = self._visit
        if v is None:
            return
        t0, m, conflict, counted = v
        first = 0 if counted else self.U * min(m, self.bpu)
        self.run.accesses += m * self.U
        self.run.hits += m * self.U - first
        if conflict:
            self.run.conflicts += first
        else:
            self.run.misses += first
        if self.record:
            self.run.spans.append((t0, t, "row", -1, m))
        self._busy(t)
        self._visit = None

    def _busy(self, t: int) -> None:
        """Close the busy interval (some row open) when the last open row closes."""
        if self._open_since >= 0 and self.open_row is None and not self.bank_rows:
            self.run.busy_cycles += t - self._open_since
            self._open_since = -1

    def _refresh(self) -> None:
        self._close_all()
        self._at("REFab")
        self.run.refreshes += 1
        self.refresh_due += self.tREFI

    def _open_bank(self, bank: int, row: int) -> bool:
        """Open ``row`` in ``bank`` alone; True when the access that follows is the row's first."""
        if self.open_row is not None:
            self._close_all()
        cur = self.bank_rows.get(bank)
        if cur == row:
            return False
        if cur is not None:
            t = self._at("PRE", bank)
            del self.bank_rows[bank]
            self.end = max(self.end, t + self.tRP)
        t = self._at("ACT", bank, row)
        if self._open_since < 0:
            self._open_since = t
        self.bank_rows[bank] = row
        self.run.bank_activations += 1
        self._bank_first = (bank, cur is not None)
        return True

    def _count_bank_access(self, bank: int) -> None:
        self.run.accesses += 1
        first = self._bank_first
        if first is not None and first[0] == bank:
            if first[1]:
                self.run.conflicts += 1
            else:
                self.run.misses += 1
            self._bank_first = None
        else:
            self.run.hits += 1

    # -- phases -------------------------------------------------------------------------------------
    def _mac_phase(self, p: MacPhase) -> None:
        for _ in range(p.gb_bursts):
            self._readouts_before("WR_GB")
            if self.refresh_due is not None:
                self._refresh_due("WR_GB")
            self._at("WR_GB")
        self.run.gb_bursts += p.gb_bursts
        if p.bank >= 0:
            self._single_bank_phase(p)
            return
        rows, last = p.rows.tolist(), p.last.tolist()
        n = len(rows)
        # stretches of bursts on one row that end at the latest at an output-completing burst
        cuts = set((np.flatnonzero(np.diff(p.rows)) + 1).tolist()) | set((np.flatnonzero(p.last) + 1).tolist())
        cuts.discard(n)
        bounds = [0, *sorted(cuts), n]
        pending = self.pending
        lat, iv = self.lat, self.sp.mac_interval_cycles
        for a, b in zip(bounds[:-1], bounds[1:]):
            r = rows[a]
            if r != self.open_row:
                self._open_all(r)
            i = a
            while i < b:
                lst = last[i]
                if pending:
                    self._readouts_before("MAC_AB", drain=lst)
                t = self._ready("MAC_AB")
                if self.refresh_due is not None and t >= self.refresh_due:
                    self._refresh()
                    self._open_all(r)
                    t = self._ready("MAC_AB")
                k = b - i
                if k > 1 and not pending and (self.refresh_due is None or t + (k - 1) * iv < self.refresh_due):
                    # nothing else issues until the stretch ends: MAC_AB every interval; the engine
                    # state after the last one is the same as after all of them (no windowed rule)
                    if self.record:
                        self.run.log.extend((t + j * iv, "MAC_AB", -1) for j in range(k - 1))
                    t = t + (k - 1) * iv
                    self._issue("MAC_AB", t)
                    self.run.commands["MAC_AB"] += k - 1
                    self._visit[1] += k
                    i = b
                    if last[b - 1]:
                        pending.append((t + lat, "RDMAC_AB", 0))
                    continue
                self._issue("MAC_AB", t)
                self._visit[1] += 1
                if lst:
                    pending.append((t + lat, "RDMAC_AB", 0))
                i += 1
        self.run.mac_bursts += n * self.U
        self.run.useful_macs += p.useful_macs

    def _single_bank_phase(self, p: MacPhase) -> None:
        bank = p.bank
        for r, lst in zip(p.rows.tolist(), p.last.tolist()):
            if self.refresh_due is not None and self._refresh_due("MAC_SB", bank):
                pass  # rows closed: reopened below
            self._open_bank(bank, r)
            if self.pending:
                self._readouts_before("MAC_SB", bank, drain=lst)
            t = self._at("MAC_SB", bank)
            self._count_bank_access(bank)
            if lst:
                self.pending.append((t + self.lat, "RDMAC_SB", bank))
        self.run.mac_bursts += p.bursts
        self.run.useful_macs += p.useful_macs

    def _bank_access(self, p: BankAccess) -> None:
        name = "WR" if p.write else "RD"
        for _ in range(p.bursts):
            if self.refresh_due is not None:
                self._refresh_due(name, p.bank)
            self._open_bank(p.bank, p.row)
            self._readouts_before(name, p.bank)
            t = self._at(name, p.bank)
            self._count_bank_access(p.bank)
            if not p.write:
                self.last_data = max(self.last_data, t + self.rd1_data)
        if p.write:
            self.run.write_bursts += p.bursts
        else:
            self.run.read_bursts += p.bursts

    def _row_write(self, p: RowWrite) -> None:
        """One masked WR per bank into ``p.row`` of every bank; a bank's first access after the
        row opens is its miss (or conflict), as for MACs."""
        for b in p.banks:
            if self.refresh_due is not None:
                self._refresh_due("WR", b)
            if self.open_row != p.row:
                self._open_all(p.row)
                self._visit[3] = True  # the banks' first accesses are counted by the writes
                self._written = set()
            self._readouts_before("WR", b)
            self._at("WR", b)
            self.run.accesses += 1
            v = self._visit
            if v[3] and v[1] == 0 and b not in self._written:
                if v[2]:
                    self.run.conflicts += 1
                else:
                    self.run.misses += 1
            else:
                self.run.hits += 1
            self._written.add(b)
        self.run.write_bursts += len(p.banks)

    # -- the program ----------------------------------------------------------------------------------
    def execute(self, prog: ScopeProgram) -> ScopeRun:
        for p in prog.phases:
            if isinstance(p, MacPhase):
                self._mac_phase(p)
            elif isinstance(p, RowWrite):
                self._row_write(p)
            else:
                self._bank_access(p)
        self._close_all()
        self._readouts_before("PRE_AB", drain=True)
        run = self.run
        run.cycles = max(self.end, self.last_data, self.now + 1) if run.commands else 0
        return run


def run_program(timing: PimTiming, prog: ScopeProgram, *, record: bool = False,
                refresh_start: int | None = None) -> ScopeRun:
    """Simulate ``prog`` on one scope from idle banks (see the module docstring)."""
    return ScopeExecutor(timing, record=record, refresh_start=refresh_start).execute(prog)
