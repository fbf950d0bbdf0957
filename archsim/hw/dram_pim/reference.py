"""Cycle level: a cycle-stepped reference of one scope's program, the oracle for the executor.

Written to be read, not to be fast: it expands the program into the controller's commands in
program order, then ticks every DRAM cycle and issues what is legal, checking each rule itself from
the standard's JEDEC parameters (no :class:`~archsim.hw.dram.device.TimingEngine`, no timing
table). Rules, with ``A`` the command-bus cycles of an ACT (2 on HBM; JEDEC times run from a
command's last cycle):

* ACT_AB: tRP after PRE_AB or a bank's PRE; tRC after ACT_AB or any bank's ACT
* PRE_AB: tRAS after ACT_AB / any ACT; tRTP after MAC_AB / MAC_SB / RD; CWL + tBURST + tWR after WR
* MAC_AB: tRCD after ACT_AB / every bank's ACT; the MAC interval after MAC_AB; MAC_SB's pace; CWL +
  tBURST after WR_GB; CWL + tBURST + tWTR_L after a WR
* MAC_SB: tRCD after its bank's ACT or ACT_AB; its pace after its bank's MAC_SB, tCCD_L in its bank
  group, tCCD_S in the rank; the MAC interval after MAC_AB; CWL + tBURST after WR_GB
* WR_GB: max(tBURST, tCCD_S) after WR_GB; tBURST after WR (data bus); 1 after a MAC; CL + bursts x
  tBURST + 2 - CWL after a read-out or RD
* RDMAC: its bursts x tBURST after a read-out (tBURST after RD); CWL + tBURST + tWTR_S after WR_GB or WR
* ACT (one bank): tRC after its ACT or ACT_AB, tRP after its PRE or PRE_AB, tRRD_S / tRRD_L after
  an ACT in the rank / bank group, tFAW after the fourth-last ACT
* PRE (one bank): tRAS after its ACT / ACT_AB, tRTP after its MAC_SB / RD or MAC_AB, CWL + tBURST
  + tWR after its WR
* RD / WR (one bank): tRCD / tRCDWR after its ACT or ACT_AB; tCCD_S / tCCD_L (WR: the _WR variants)
  after a RD / WR in the rank / bank group, tBURST on the data bus; WR: the MAC interval after
  MAC_AB, tBURST after WR_GB, the read-to-write turnaround after a read-out or RD (GDDR6: CL + 1);
  RD: CWL + tBURST + tWTR_S / tWTR_L after a WR in the rank / bank group

plus one command per command bus per cycle (row and column buses on HBM), never earlier than the
previous command, and the executor's read-out policy (module :mod:`.executor`). Refresh is not
modelled here (programs run with ``refresh: none``).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from archsim.hw.dram_pim.program import BankAccess, MacPhase, RowWrite, ScopeProgram
from archsim.hw.dram_pim.spec import PimSpec

NEG = -(10**9)


@dataclass(frozen=True)
class Intent:
    name: str
    bank: int = -1
    row: int = -1
    check: bool = False  # pending read-outs may go first
    drain: bool = False  # pending read-outs must go first
    readout: str | None = None  # issuing it leaves a result to read out with this command (on ``bank``)


def intents(spec: PimSpec, prog: ScopeProgram) -> list[Intent]:
    """The controller's commands for ``prog`` in program order (no refresh)."""
    out: list[Intent] = []
    banks = list(range(spec.banks_per_scope))
    open_ab = None
    open_bank: dict[int, int] = {}

    def close_all():
        nonlocal open_ab
        if open_ab is not None:
            out.append(Intent("PRE_AB", check=True))
            open_ab = None
        for b in sorted(open_bank):
            out.append(Intent("PRE", b))
        open_bank.clear()

    def open_all(row):
        nonlocal open_ab
        close_all()
        if spec.ab_act_obeys_tfaw:
            for i, b in enumerate(banks):
                out.append(Intent("ACT", b, row, check=(i == 0)))
        else:
            out.append(Intent("ACT_AB", row=row, check=True))
        open_ab = row

    def open_bank_row(b, row):
        if open_ab is not None:
            close_all()
        cur = open_bank.get(b)
        if cur == row:
            return
        if cur is not None:
            out.append(Intent("PRE", b))
        out.append(Intent("ACT", b, row))
        open_bank[b] = row

    for p in prog.phases:
        if isinstance(p, MacPhase):
            out += [Intent("WR_GB", check=True)] * p.gb_bursts
            for row, last in zip(p.rows.tolist(), p.last.tolist()):
                if p.bank >= 0:
                    open_bank_row(p.bank, row)
                    out.append(Intent("MAC_SB", p.bank, check=True, drain=last, readout="RDMAC_SB" if last else None))
                else:
                    if row != open_ab or open_bank:
                        open_all(row)
                    out.append(Intent("MAC_AB", check=True, drain=last, readout="RDMAC_AB" if last else None))
        elif isinstance(p, RowWrite):
            for b in p.banks:
                if open_ab != p.row or open_bank:
                    open_all(p.row)
                out.append(Intent("WR", b, check=True))
        elif isinstance(p, BankAccess):
            for _ in range(p.bursts):
                open_bank_row(p.bank, p.row)
                out.append(Intent("WR" if p.write else "RD", p.bank, check=True))
    close_all()
    return out


class Reference:
    """Cycle-stepped execution of one scope program; :meth:`run` returns the command log
    ``[(cycle, name, bank or -1)]`` and the cycle the program ends."""

    ROW_BUS = ("ACT", "PRE", "ACT_AB", "PRE_AB")

    def __init__(self, spec: PimSpec):
        s = spec.standard
        self.sp, self.s = spec, s
        self.t = s.t
        self.A = dict(s.command_cycles).get("ACT", 1)
        self.dual = s.dual_command_bus
        self.G, self.B = s.bankgroups, s.banks_per_group
        self.nb = spec.banks_per_scope
        self.iv = spec.mac_interval_cycles
        self.lat = spec.result_latency_cycles
        self.rdb = spec.readout_bursts
        self.sb_pace = max(spec.unit_to_dram_cycles(spec.unit_cycles_per_burst), self.t("tCCD_S"))
        self.last: Counter = Counter()  # scope-level command -> last issue cycle (absent: never)
        self.bank: dict[str, list[int]] = {k: [NEG] * self.nb for k in ("ACT", "PRE", "MAC_SB", "RD", "WR")}
        self.acts: list[int] = []  # single-bank ACT issue cycles, oldest first
        self.bus_free = [0, 0]
        self.now = 0

    def _l(self, name: str) -> int:
        return self.last.get(name, NEG)

    def _bg(self, b: int) -> int:
        return (b % (self.G * self.B)) // self.B

    def _act_end(self, t: int) -> int:
        return t + self.A - 1

    def earliest(self, name: str, b: int) -> int:
        """The earliest cycle ``name`` may issue to bank ``b`` (or the scope) by the rules above."""
        t, iv, A1 = self.t, self.iv, self.A - 1
        bank = self.bank
        cl, cwl, bl = t("CL"), t("CWL"), t("tBURST")
        rd_any = max(bank["RD"])
        wr_any = max(bank["WR"])
        ab_act, ab_pre, ab_mac = self._act_end(self._l("ACT_AB")), self._l("PRE_AB"), self._l("MAC_AB")
        acts_end = [self._act_end(x) for x in bank["ACT"]]
        c = [self.now]
        if name == "ACT_AB":
            c += [ab_pre + t("tRP") - A1, max(bank["PRE"]) + t("tRP") - A1, ab_act + t("tRC") - A1,
                  max(acts_end) + t("tRC") - A1]
        elif name == "PRE_AB":
            c += [ab_act + t("tRAS"), max(acts_end) + t("tRAS"), ab_mac + t("tRTP"), max(bank["MAC_SB"]) + t("tRTP"),
                  rd_any + t("tRTP"), wr_any + cwl + bl + t("tWR")]
        elif name == "MAC_AB":
            c += [ab_act + t("tRCD"), max(acts_end) + t("tRCD"), ab_mac + iv, max(bank["MAC_SB"]) + self.sb_pace,
                  self._l("WR_GB") + cwl + bl, wr_any + cwl + bl + t("tWTR_L")]
        elif name == "MAC_SB":
            same_bg = max(x for i, x in enumerate(bank["MAC_SB"]) if self._bg(i) == self._bg(b))
            c += [acts_end[b] + t("tRCD"), ab_act + t("tRCD"), bank["MAC_SB"][b] + self.sb_pace,
                  same_bg + t("tCCD_L"), max(bank["MAC_SB"]) + t("tCCD_S"), ab_mac + iv,
                  self._l("WR_GB") + cwl + bl, bank["WR"][b] + cwl + bl + t("tWTR_L")]
        elif name == "WR_GB":
            c += [self._l("WR_GB") + max(bl, t("tCCD_S")), wr_any + bl, ab_mac + 1, max(bank["MAC_SB"]) + 1,
                  self._l("RDMAC_AB") + cl + self.rdb * bl + 2 - cwl, self._l("RDMAC_SB") + cl + bl + 2 - cwl,
                  rd_any + cl + bl + 2 - cwl]
        elif name in ("RDMAC_AB", "RDMAC_SB"):
            c += [self._l("RDMAC_AB") + self.rdb * bl, self._l("RDMAC_SB") + bl, rd_any + bl,
                  self._l("WR_GB") + cwl + bl + t("tWTR_S"), wr_any + cwl + bl + t("tWTR_S")]
        elif name == "ACT":
            same_bg = [a for a, bb in self.acts_bank if self._bg(bb) == self._bg(b)]
            c += [acts_end[b] + t("tRC") - A1, ab_act + t("tRC") - A1, bank["PRE"][b] + t("tRP") - A1,
                  ab_pre + t("tRP") - A1]
            if self.acts:
                c.append(self._act_end(self.acts[-1]) + t("tRRD_S") - A1)
            if same_bg:
                c.append(self._act_end(same_bg[-1]) + t("tRRD_L") - A1)
            if len(self.acts) >= 4:
                c.append(self._act_end(self.acts[-4]) + t("tFAW") - A1)
        elif name == "PRE":
            c += [acts_end[b] + t("tRAS"), ab_act + t("tRAS"), bank["MAC_SB"][b] + t("tRTP"), ab_mac + t("tRTP"),
                  bank["RD"][b] + t("tRTP"), bank["WR"][b] + cwl + bl + t("tWR")]
        elif name in ("RD", "WR"):
            w = name == "WR"
            same = [x for i, x in enumerate(bank[name]) if self._bg(i) == self._bg(b)]
            c += [acts_end[b] + t("tRCDWR" if w else "tRCD"), ab_act + t("tRCDWR" if w else "tRCD"),
                  max(bank[name]) + t("tCCD_S_WR" if w else "tCCD_S"), max(same) + t("tCCD_L_WR" if w else "tCCD_L"),
                  max(bank[name]) + bl]
            if w:
                # read-to-write turnaround: CL + 1 on GDDR6 (JESD250), CL + tBURST + 2 - CWL otherwise
                r2w = cl + 1 if self.s.family == "gddr6" else cl + bl + 2 - cwl
                c += [ab_mac + iv, self._l("WR_GB") + bl, self._l("RDMAC_AB") + cl + self.rdb * bl + 2 - cwl,
                      self._l("RDMAC_SB") + cl + bl + 2 - cwl, rd_any + r2w]
            else:
                same_wr = [x for i, x in enumerate(bank["WR"]) if self._bg(i) == self._bg(b)]
                c += [self._l("RDMAC_AB") + self.rdb * bl, self._l("RDMAC_SB") + bl,
                      self._l("WR_GB") + cwl + bl + t("tWTR_S"), wr_any + cwl + bl + t("tWTR_S"),
                      max(same_wr) + cwl + bl + t("tWTR_L")]
        else:
            raise AssertionError(name)
        c.append(self.bus_free[self._bus(name)])
        return max(c)

    def _bus(self, name: str) -> int:
        return 0 if (not self.dual or name in self.ROW_BUS) else 1

    def _issue(self, name: str, b: int, cyc: int) -> None:
        if name in ("ACT", "PRE", "MAC_SB", "RD", "WR"):
            self.bank[name][b] = cyc
            if name == "ACT":
                self.acts.append(cyc)
                self.acts_bank.append((cyc, b))
        else:
            self.last[name] = cyc
        self.now = cyc
        self.bus_free[self._bus(name)] = cyc + (self.A if name in ("ACT", "ACT_AB") else 1)

    def run(self, prog: ScopeProgram, max_cycles: int = 10**7) -> tuple[list[tuple[int, str, int]], int]:
        self.acts_bank: list[tuple[int, int]] = []
        todo = intents(self.sp, prog)
        log: list[tuple[int, str, int]] = []
        pending: list[tuple[int, str, int]] = []
        i = 0
        end = 0
        cyc = 0
        t = self.t
        while i < len(todo) or pending:
            if cyc > max_cycles:
                raise RuntimeError("reference did not finish")
            progressed = True
            while progressed:
                progressed = False
                nxt = todo[i] if i < len(todo) else None
                if pending and (nxt is None or nxt.check):
                    ready, rd, rb = pending[0]
                    if cyc >= ready and self.earliest(rd, rb) <= cyc:
                        self._issue(rd, rb, cyc)
                        log.append((cyc, rd, rb if rd == "RDMAC_SB" else -1))
                        end = max(end, cyc + t("CL") + (self.rdb if rd == "RDMAC_AB" else 1) * t("tBURST"))
                        pending.pop(0)
                        progressed = True
                        continue
                    if nxt is None or nxt.drain:
                        break
                if nxt is not None and self.earliest(nxt.name, nxt.bank) <= cyc:
                    self._issue(nxt.name, nxt.bank, cyc)
                    log.append((cyc, nxt.name, nxt.bank if nxt.name in ("ACT", "PRE", "MAC_SB", "RD", "WR") else -1))
                    if nxt.readout:
                        pending.append((cyc + self.lat, nxt.readout, max(nxt.bank, 0)))
                    if nxt.name in ("PRE", "PRE_AB"):
                        end = max(end, cyc + t("tRP"))
                    if nxt.name == "RD":
                        end = max(end, cyc + t("CL") + t("tBURST"))
                    i += 1
                    progressed = True
            cyc += 1
        end = max(end, self.now + 1) if log else 0
        return log, end


def reference_run(spec: PimSpec, prog: ScopeProgram) -> tuple[list[tuple[int, str, int]], int]:
    """``(command log, cycles)`` of ``prog`` on one scope, cycle by cycle (small programs only)."""
    return Reference(spec).run(prog)
