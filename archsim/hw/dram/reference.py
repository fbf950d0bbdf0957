"""The cycle-stepped reference controller: ticks every memory cycle, for small traces.

Written to be read, not to be fast: every cycle it runs the front end, then each channel's
controller exactly as Ramulator 2.1 structures a controller tick, and the timing model is a tree
of nodes (channel, rank / pseudo-channel, bank group, bank) that checks and updates per-command
ready times by recursion over the constraint list, as Ramulator's ``DRAMNode`` does. It shares
nothing with the fast model (:mod:`archsim.hw.dram.controller`) but the standard, the constraint
table and the burst stream; the fast model must issue the same commands at the same cycles.

A controller tick at cycle ``clk`` (``src/ramulator/controller/impl/generic_ddr_controller.cpp``,
``hbm_controller_base.cpp``, ``controller_base.cpp``):

1. refresh: at ``clk = k * tREFI - 1`` (Ramulator's ``m_clk == k * nREFI``; archsim cycle ``c`` is
   Ramulator's ``m_clk - 1``) queue one REFab per rank in the priority buffer (per-bank: one REFpb
   every tREFIpb, banks round robin);
2. closed-page policy: queue a PRE for every bank that reached its access cap when PRE is legal;
3. for each command slot (one; or column then row on a dual-bus standard):
   a. the active buffer (requests whose ACT has issued): first-ready, then oldest;
   b. else the head of the priority buffer, if legal and it closes no row an active request needs;
   c. else, only when the priority buffer is empty: update the write-drain mode, then FR-FCFS over
      the read or write buffer (first ready, then oldest arrival, then oldest entry), skipping a
      PRE that would close a row an active request needs;
   d. issue the chosen request's next command (ACT, PRE or its RD/WR); an ACT moves the request to
      the active buffer, its RD/WR retires it.
"""

from __future__ import annotations

import numpy as np

from archsim.hw.dram.bursts import Bursts
from archsim.hw.dram.config import ControllerConfig
from archsim.hw.dram.results import CommandRecord, DramRun
from archsim.hw.dram.standard import DramStandard
from archsim.hw.dram.timing import BANK, BANKGROUP, CHANNEL, RANK, TimingTable, build_table


class _Node:
    def __init__(self, level: int, nid: int, parent: _Node | None):
        self.level, self.id, self.parent = level, nid, parent
        self.children: list[_Node] = []
        self.ready: dict[str, int] = {}
        self.history: dict[str, list[int]] = {}
        self.open_row = -1  # banks only


class RefDevice:
    """Tree timing model of one channel (Ramulator ``DRAMNode`` semantics)."""

    def __init__(self, s: DramStandard, table: TimingTable):
        self.table = table
        self.cons: dict[tuple[int, str], list] = {}
        for c in table.constraints:
            self.cons.setdefault((c.level, c.prev[0]), []).append(c)
        self.root = _Node(CHANNEL, 0, None)
        self.banks: list[_Node] = []
        for r in range(s.ranks):
            rn = _Node(RANK, r, self.root)
            self.root.children.append(rn)
            for g in range(s.bankgroups):
                gn = _Node(BANKGROUP, g, rn)
                rn.children.append(gn)
                for b in range(s.banks_per_group):
                    bn = _Node(BANK, b, gn)
                    gn.children.append(bn)
                    self.banks.append(bn)

    @staticmethod
    def _match(node: _Node, addr: tuple) -> bool:
        want = addr[node.level]
        return want == -1 or want == node.id

    def check(self, cmd: str, addr: tuple, clk: int, node: _Node | None = None) -> bool:
        """``addr`` = (0, rank, bankgroup, bank) with -1 for "every"."""
        node = node or self.root
        if clk < node.ready.get(cmd, -1):
            return False
        if not node.children:
            return True
        want = addr[node.level + 1]
        kids = node.children if want == -1 else [node.children[want]]
        return all(self.check(cmd, addr, clk, k) for k in kids)

    def update(self, cmd: str, addr: tuple, clk: int, node: _Node | None = None) -> None:
        node = node or self.root
        cons = self.cons.get((node.level, cmd), [])
        if not self._match(node, addr):
            for c in cons:
                if c.sibling:
                    n = c.next[0]
                    node.ready[n] = max(node.ready.get(n, -1), clk + c.latency)
            return
        windowed = [c.window for c in cons if not c.sibling]
        if windowed:
            h = node.history.setdefault(cmd, [])
            h.insert(0, clk)
            del h[max(windowed):]
        for c in cons:
            if c.sibling:
                continue
            h = node.history[cmd]
            if len(h) < c.window:
                continue
            n = c.next[0]
            node.ready[n] = max(node.ready.get(n, -1), h[c.window - 1] + c.latency)
        for k in node.children:
            self.update(cmd, addr, clk, k)

    def target_banks(self, addr: tuple) -> list[_Node]:
        out = []
        for bn in self.banks:
            g = bn.parent
            r = g.parent
            if self._match(r, addr) and self._match(g, addr) and self._match(bn, addr):
                out.append(bn)
        return out


class _Req:
    __slots__ = ("id", "final", "addr", "row", "write", "arrive", "cmd", "stat", "bank")

    def __init__(self, id_, final, addr, row, write, arrive, bank):
        self.id, self.final, self.addr, self.row, self.write, self.arrive, self.bank = \
            id_, final, addr, row, write, arrive, bank
        self.cmd = final
        self.stat = False


class RefChannel:
    """One channel's controller, ticked every cycle."""

    def __init__(self, ch: int, s: DramStandard, table: TimingTable, cfg: ControllerConfig, run: _RunState):
        self.ch, self.s, self.cfg, self.run = ch, s, cfg, run
        self.table = table
        self.dev = RefDevice(s, table)
        self.read: list[_Req] = []
        self.write: list[_Req] = []
        self.active: list[_Req] = []
        self.prio: list[_Req] = []
        self.write_addrs: set[int] = set()
        self.write_mode = False
        self.next_ref = s.t("tREFI") - 1
        self.next_refpb = s.t("tREFIpb") - 1
        self.refpb_bank = 0
        nb = s.banks
        self.cap_count = [0] * nb
        self.cap_injected = [False] * nb
        self.counts: dict[str, int] = {c.name: 0 for c in table.commands}
        self.hits, self.misses, self.conflicts = [0, 0], [0, 0], [0, 0]
        self.active_cycles = [0] * s.ranks

    # -- helpers --------------------------------------------------------------------------------
    def bank_node(self, flat: int) -> _Node:
        return self.dev.banks[flat]

    def addr_of(self, flat: int) -> tuple:
        bn = self.dev.banks[flat]
        return (0, bn.parent.parent.id, bn.parent.id, bn.id)

    def preq(self, req: _Req) -> str:
        """The command that makes progress on ``req`` now (Ramulator's prerequisite functions)."""
        f = req.final
        if f in ("RD", "WR", "RDA", "WRA"):
            bn = self.bank_node(req.bank)
            if bn.open_row < 0:
                return "ACT"
            return f if bn.open_row == req.row else "PRE"
        if f == "REFab":
            return "PREA" if any(b.open_row >= 0 for b in self.dev.target_banks(req.addr)) else "REFab"
        if f == "REFpb":
            return "PRE" if self.bank_node(req.bank).open_row >= 0 else "REFpb"
        return f  # PRE (closed-page policy)

    def closes_active(self, req: _Req) -> bool:
        if not self.table.command(req.cmd).closes or not self.active:
            return False
        banks = {id(b) for b in self.dev.target_banks(req.addr)}
        return any(id(self.bank_node(a.bank)) in banks for a in self.active)

    def slot_ok(self, req: _Req, slot: str | None) -> bool:
        return slot is None or self.table.command(req.cmd).bus == slot

    def best(self, buf: list[_Req], clk: int, slot: str | None, close_filter: bool) -> _Req | None:
        for r in buf:
            r.cmd = self.preq(r)
        cand = None
        for r in buf:
            if not self.slot_ok(r, slot) or (close_filter and self.closes_active(r)):
                continue
            if cand is None:
                cand = r
                continue
            ok1 = self.dev.check(cand.cmd, cand.addr, clk)
            ok2 = self.dev.check(r.cmd, r.addr, clk)
            if ok1 != ok2:
                cand = cand if ok1 else r
            elif not cand.arrive <= r.arrive:
                cand = r
        if cand is not None and self.dev.check(cand.cmd, cand.addr, clk):
            return cand
        return None

    def set_write_mode(self) -> None:
        cfg = self.cfg
        if not self.write_mode:
            if len(self.write) > cfg.write_high_watermark * cfg.write_buffer_size or not self.read:
                self.write_mode = True
        elif len(self.write) < cfg.write_low_watermark * cfg.write_buffer_size and self.read:
            self.write_mode = False

    # -- the tick -------------------------------------------------------------------------------
    def tick(self, clk: int) -> None:
        s, cfg = self.s, self.cfg
        if cfg.refresh == "all-bank" and clk == self.next_ref:
            self.next_ref += s.t("tREFI")
            for r in range(s.ranks):
                self.prio.append(_Req(-1, "REFab", (0, r, -1, -1), -1, False, clk, r * s.banks_per_rank))
        if cfg.refresh == "per-bank" and clk == self.next_refpb:
            self.next_refpb += s.t("tREFIpb")
            b = self.refpb_bank
            self.refpb_bank = (b + 1) % s.banks
            self.prio.append(_Req(-1, "REFpb", self.addr_of(b), -1, False, clk, b))
        if cfg.row_policy == "closed":
            for b in range(s.banks):
                if self.cap_count[b] >= cfg.closed_cap and not self.cap_injected[b] \
                        and self.dev.check("PRE", self.addr_of(b), clk):
                    self.prio.append(_Req(-1, "PRE", self.addr_of(b), -1, False, clk, b))
                    self.cap_injected[b] = True
        slots = ("col", "row") if self.table.dual_command_bus else (None,)
        for slot in slots:
            req, buf = None, None
            if slot in (None, "col"):
                req = self.best(self.active, clk, slot, False)
                buf = self.active
            if req is None and self.prio:
                head = self.prio[0]
                head.cmd = self.preq(head)
                if self.dev.check(head.cmd, head.addr, clk) and not self.closes_active(head) \
                        and self.slot_ok(head, slot):
                    req, buf = head, self.prio
            if req is None and not self.prio:
                self.set_write_mode()
                buf = self.write if self.write_mode else self.read
                req = self.best(buf, clk, slot, True)
            if req is not None:
                self.issue(req, buf, clk)
        for r in range(s.ranks):  # a bank open at the end of this cycle makes it an active cycle
            if any(self.bank_node(b).open_row >= 0 for b in range(r * s.banks_per_rank, (r + 1) * s.banks_per_rank)):
                self.active_cycles[r] += 1

    def issue(self, req: _Req, buf: list[_Req], clk: int) -> None:
        cfg = self.cfg
        if cfg.row_policy == "closed" and req.bank >= 0 and self.cap_count[req.bank] >= cfg.closed_cap:
            up = {"RD": "RDA", "WR": "WRA"}.get(req.cmd)
            others = any(a is not req and a.bank == req.bank for a in self.active)
            if up and not others and self.dev.check(up, req.addr, clk):
                req.cmd = req.final = up
        if req.id >= 0 and not req.stat:
            req.stat = True
            bn = self.bank_node(req.bank)
            k = 1 if req.write else 0
            if bn.open_row == req.row:
                self.hits[k] += 1
            elif bn.open_row >= 0:
                self.conflicts[k] += 1
            else:
                self.misses[k] += 1
        cmd = req.cmd
        info = self.table.command(cmd)
        self.dev.update(cmd, req.addr, clk)
        for bn in self.dev.target_banks(req.addr):
            if info.opens:
                bn.open_row = req.row
            elif info.closes:
                bn.open_row = -1
        # closed-page bookkeeping (Ramulator ClosedCAP on_issue)
        if info.closes:
            for b in range(self.s.banks):
                if self.bank_node(b) in self.dev.target_banks(req.addr):
                    self.cap_count[b] = 0
                    self.cap_injected[b] = False
        elif info.accesses:
            self.cap_count[req.bank] += 1
        self.counts[cmd] += 1
        row = req.row if (info.opens or info.accesses) else -1
        a = req.addr
        if self.run.record:
            self.run.log.append((clk, self.ch, cmd, a[1], a[2], a[3], row))
        if cmd == req.final:
            buf.remove(req)
            if buf is self.write:
                self.write_addrs.discard(self.run.b.addr[req.id])
            if req.id >= 0:
                self.run.burst_done(req.id, clk + self.s.read_latency_cycles if not req.write else clk)
        elif info.opens:
            buf.remove(req)
            if buf is self.write:
                self.write_addrs.discard(self.run.b.addr[req.id])
            self.active.append(req)

    # -- front end interface ----------------------------------------------------------------------
    def room(self, write: bool) -> int:
        if write:
            return self.cfg.write_buffer_size - len(self.write)
        return self.cfg.read_buffer_size - len(self.read)

    def busy(self) -> bool:
        return bool(self.read or self.write or self.active)


class _RunState:
    def __init__(self, b: Bursts, record: bool):
        self.b = b
        self.record = record
        self.log: list[CommandRecord] = []
        self.burst_end = [-1] * len(b.req)

    def burst_done(self, burst: int, cycle: int) -> None:
        self.burst_end[burst] = cycle


def simulate_reference(s: DramStandard, b: Bursts, channels: int, cfg: ControllerConfig | None = None, *,
                       table: TimingTable | None = None, record: bool = True,
                       max_cycles: int = 50_000_000) -> DramRun:
    """Replay burst stream ``b`` cycle by cycle (see the module docstring)."""
    cfg = cfg or ControllerConfig()
    table = table or build_table(s)
    run = _RunState(b, record)
    chans = [RefChannel(c, s, table, cfg, run) for c in range(channels)]
    n = b.n_requests
    accept = [-1] * n
    nxt = 0
    forwarded = coalesced = 0
    clk = 0
    end = None
    while True:
        # front end: up to accepts_per_cycle requests in order, all bursts of one request at once
        taken = 0
        while taken < cfg.accepts_per_cycle and nxt < n and b.arrival[nxt] <= clk:
            bursts = range(b.first[nxt], b.first[nxt] + b.count[nxt])
            need: dict[tuple[int, bool], int] = {}
            for j in bursts:
                ch = chans[b.channel[j]]
                if b.addr[j] in ch.write_addrs:
                    continue  # forwarded read / coalesced write: no buffer entry
                key = (b.channel[j], b.write[j])
                need[key] = need.get(key, 0) + 1
            if any(chans[c].room(w) < k for (c, w), k in need.items()):
                break
            for j in bursts:
                ch = chans[b.channel[j]]
                if b.addr[j] in ch.write_addrs:
                    if b.write[j]:
                        coalesced += 1
                        run.burst_done(j, clk)
                    else:
                        forwarded += 1
                        run.burst_done(j, clk + 1)
                    continue
                req = _Req(j, "WR" if b.write[j] else "RD", (0, b.rank[j], b.bankgroup[j], b.bank_in_group[j]),
                           b.row[j], b.write[j], clk, b.bank[j])
                if b.write[j]:
                    ch.write.append(req)
                    ch.write_addrs.add(b.addr[j])
                else:
                    ch.read.append(req)
            accept[nxt] = clk
            nxt += 1
            taken += 1
        # every request accepted and served: the run ends once the last read's data is back
        if end is None and nxt == n and not any(ch.busy() for ch in chans):
            end = _total_cycles(b, run.burst_end)
        if end is not None and clk >= end:
            break
        for ch in chans:
            ch.tick(clk)
        clk += 1
        if clk > max_cycles:
            raise RuntimeError(f"reference controller did not finish within {max_cycles} cycles")
    return _finish(b, run, chans, accept, end, forwarded, coalesced)


def _total_cycles(b: Bursts, burst_end: list[int]) -> int:
    t = 0
    for j, e in enumerate(burst_end):
        t = max(t, e if not b.write[j] else e + 1)
    return t


def _finish(b: Bursts, run: _RunState, chans: list[RefChannel], accept: list[int], end: int, fwd: int,
            coal: int) -> DramRun:
    ends = np.asarray(run.burst_end, dtype=np.int64)
    first = np.asarray(b.first, dtype=np.int64)
    done = np.maximum.reduceat(ends, first) if len(first) else np.zeros(0, np.int64)
    counts = [dict(ch.counts) for ch in chans]
    return DramRun(total_cycles=end, accept_cycle=np.asarray(accept, dtype=np.int64), done_cycle=done,
                   commands=counts, row_hits=[ch.hits for ch in chans], row_misses=[ch.misses for ch in chans],
                   row_conflicts=[ch.conflicts for ch in chans],
                   active_cycles=[ch.active_cycles for ch in chans], forwarded_reads=fwd, coalesced_writes=coal,
                   log=run.log)
