"""The fast FR-FCFS controller: the reference's decisions, without ticking idle cycles.

Same controller as :mod:`archsim.hw.dram.reference` (Ramulator 2.1's ``GenericDDR`` / ``HBM12``
tick, FR-FCFS, write-drain watermarks, all-bank / per-bank refresh, open or ClosedCAP row policy),
computed differently:

* Between two state changes (a command issued, a request accepted, a refresh or closed-page PRE
  queued, a write-mode flip) nothing a controller decides can change except through time, and
  every command's earliest legal cycle is a fixed number (:class:`~archsim.hw.dram.device.
  TimingEngine`). So one scan of the candidates gives the cycle ``T`` of the next issue and the
  command: FR-FCFS at cycle ``T`` is the minimum of ``(max(ready, now), arrival, entry order)``
  over the candidates, and the buffers keep their precedence (active, then priority, then read or
  write). The controller then jumps to ``T``; the plan is cached until the state changes.
* Requests of one bank that would issue the same command have the same ready time, so only the
  oldest of each kind (ACT, PRE, row hit) is a candidate. Candidates are kept per (kind, rank) in
  lists sorted by age and recomputed only for banks whose queue or row changed; within a list all
  share the channel + rank part of the ready time, so a scan walks each list only until its first
  entry whose bank and bank-group part is already met.

The front end (:class:`DramSystem`) hands requests to the channels in trace order, at most
``accepts_per_cycle`` per cycle, all bursts of a request at once, and stops at the first request
that does not fit. :class:`DramSystem` also serves as the request-level API for SimPy models
(see :mod:`archsim.hw.dram.port`).
"""

from __future__ import annotations

from bisect import bisect_left, insort
from collections import deque

import numpy as np

from archsim.errors import InputError
from archsim.hw.dram.bursts import Bursts
from archsim.hw.dram.config import ControllerConfig
from archsim.hw.dram.device import TimingEngine
from archsim.hw.dram.mapping import AddressMapping
from archsim.hw.dram.results import CommandRecord, DramRun
from archsim.hw.dram.standard import DramStandard
from archsim.hw.dram.timing import TimingTable, build_table

INF = 1 << 62
# plan sources
ACTIVE, PRIO, RW = 0, 1, 2


class _Buffer:
    """A read or write buffer.

    * ``bq[bank]``: the bank's burst ids in arrival order; ``rows[bank]``: how many target each row
    * ``lists[kind][rank]``: the FR-FCFS candidates, sorted by burst id (= arrival order): per bank
      at most one of each kind: ``ACT`` (bank closed: its oldest request), ``PRE`` (bank open, the
      oldest request to another row, unless an active request holds the row), ``HIT`` (the oldest
      request to the open row). Requests of one bank and kind have the same ready time, so the
      oldest stands for all of them.
    * ``cand[bank]``: the bank's current ``[ACT, PRE, HIT]`` candidate ids (-1: none)
    * ``dirty``: banks whose candidates must be recomputed before the next scan
    """

    __slots__ = ("size", "bq", "banks", "rows", "lists", "cand", "dirty")

    def __init__(self, nbanks: int, nranks: int):
        self.size = 0
        self.bq: list[list[int]] = [[] for _ in range(nbanks)]
        self.banks: set[int] = set()
        self.rows: list[dict[int, int]] = [{} for _ in range(nbanks)]
        self.lists: list[list[list[int]]] = [[[] for _ in range(nranks)] for _ in range(3)]
        self.cand: list[list[int]] = [[-1, -1, -1] for _ in range(nbanks)]
        self.dirty: set[int] = set()

    def add(self, j: int, b: int, row: int) -> None:
        q = self.bq[b]
        if not q:
            self.banks.add(b)
        q.append(j)
        rc = self.rows[b]
        rc[row] = rc.get(row, 0) + 1
        self.size += 1
        self.dirty.add(b)

    def remove(self, j: int, b: int, row: int) -> None:
        q = self.bq[b]
        if q[0] == j:
            del q[0]
        else:
            q.remove(j)
        if not q:
            self.banks.discard(b)
        rc = self.rows[b]
        n = rc[row] - 1
        if n:
            rc[row] = n
        else:
            del rc[row]
        self.size -= 1
        self.dirty.add(b)


KIND_ACT, KIND_PRE, KIND_HIT = 0, 1, 2


class FastChannel:
    """One channel's controller (see the module docstring)."""

    def __init__(self, ch: int, s: DramStandard, table: TimingTable, cfg: ControllerConfig, sys: DramSystem):
        self.ch, self.s, self.cfg, self.sys = ch, s, cfg, sys
        self.eng = TimingEngine(s, table)
        e = self.eng
        nb = e.nbanks
        ix = table.index
        self.ACT, self.PRE, self.PREA = ix("ACT"), ix("PRE"), ix("PREA")
        self.RD, self.WR, self.RDA, self.WRA = ix("RD"), ix("WR"), ix("RDA"), ix("WRA")
        self.REFab, self.REFpb = ix("REFab"), ix("REFpb")
        self.names = [c.name for c in table.commands]
        self.bus = [c.bus for c in table.commands]
        self.closes = [c.closes for c in table.commands]
        self.accesses = [c.accesses for c in table.commands]
        self.opens = [c.opens for c in table.commands]
        self.dual = table.dual_command_bus
        self.slots = ("col", "row") if self.dual else (None,)
        self._kinds = {None: (KIND_ACT, KIND_PRE, KIND_HIT), "col": (KIND_HIT,), "row": (KIND_ACT, KIND_PRE)}
        self.nranks = s.ranks
        self.rbuf, self.wbuf = _Buffer(nb, s.ranks), _Buffer(nb, s.ranks)
        self.active: list[int] = []          # burst ids in promotion order
        self.promo: dict[int, int] = {}      # burst id -> promotion order
        self._promo_n = 0
        self.act_count = [0] * nb
        self.prio: deque[tuple[int, int]] = deque()   # (final command, bank; any bank of the rank for REFab)
        self.write_addrs: set[int] = set()
        self.write_mode = False
        self.ver = 0
        self.cache: list[tuple | None] = [None, None]
        self.next_ref = s.t("tREFI") - 1 if cfg.refresh == "all-bank" else INF
        self.next_refpb = s.t("tREFIpb") - 1 if cfg.refresh == "per-bank" else INF
        self.refpb_bank = 0
        self.closed = cfg.row_policy == "closed"
        self.cap = cfg.closed_cap
        self.cap_count = [0] * nb
        self.cap_pending: set[int] = set()   # banks at the cap with no PRE queued yet
        self.cap_injected = [False] * nb     # a closed-page PRE is queued for the bank
        self.rl = s.read_latency_cycles
        self.counts = [0] * len(table.commands)
        self.hits, self.misses, self.conflicts = [0, 0], [0, 0], [0, 0]
        # tick at cycle 0 even with nothing queued: the reference evaluates the write-drain mode in
        # every cycle that reaches the read/write buffers (empty buffers -> write mode)
        self.next_time = 0
        self.freed = False                  # a read/write buffer entry was released this tick
        # the first bank of each bank's rank (where rank-wide commands are addressed)
        self.rank_anchor = [e.bank_rank[b] * s.banks_per_rank for b in range(nb)]

    # -- front end ---------------------------------------------------------------------------------
    def room(self, write: bool) -> int:
        if write:
            return self.cfg.write_buffer_size - self.wbuf.size
        return self.cfg.read_buffer_size - self.rbuf.size

    def enqueue(self, j: int, now: int) -> None:
        b = self.sys.b
        if b.write[j]:
            self.wbuf.add(j, b.bank[j], b.row[j])
            self.write_addrs.add(b.addr[j])
        else:
            self.rbuf.add(j, b.bank[j], b.row[j])
        self.ver += 1
        self.next_time = now

    def busy(self) -> bool:
        return bool(self.rbuf.size or self.wbuf.size or self.active)

    # -- scheduling ----------------------------------------------------------------------------------
    def _set_write_mode(self) -> None:
        cfg = self.cfg
        if not self.write_mode:
            if self.wbuf.size > cfg.write_high_watermark * cfg.write_buffer_size or self.rbuf.size == 0:
                self.write_mode = True
                self.ver += 1
        elif self.wbuf.size < cfg.write_low_watermark * cfg.write_buffer_size and self.rbuf.size != 0:
            self.write_mode = False
            self.ver += 1

    def _preq_prio(self, final: int, bank: int) -> int:
        e = self.eng
        if final == self.REFab:
            n = self.s.banks_per_rank
            a = self.rank_anchor[bank]
            return self.PREA if any(r >= 0 for r in e.open_row[a:a + n]) else final
        if final == self.REFpb:
            return self.PRE if e.open_row[bank] >= 0 else final
        return final

    def _closes_active(self, cmd: int, bank: int) -> bool:
        if not self.closes[cmd] or not self.active:
            return False
        ac = self.act_count
        if self.eng.scope[cmd] == "bank":
            return ac[bank] > 0
        return any(ac[x] for x in self.eng.banks_of(cmd, bank))

    def _refresh(self, buf: _Buffer) -> None:
        """Recompute the candidates of ``buf``'s dirty banks."""
        b = self.sys.b
        row_of = b.row
        orow = self.eng.open_row
        brank = self.eng.bank_rank
        act_count = self.act_count
        lists = buf.lists
        for bk in buf.dirty:
            q = buf.bq[bk]
            a = p = h = -1
            if q:
                o = orow[bk]
                if o < 0:
                    a = q[0]
                else:
                    nhit = buf.rows[bk].get(o, 0)
                    if nhit:
                        if row_of[q[0]] == o:
                            h = q[0]
                        else:
                            for x in q:
                                if row_of[x] == o:
                                    h = x
                                    break
                    if nhit < len(q) and not act_count[bk]:
                        if row_of[q[0]] != o:
                            p = q[0]
                        else:
                            for x in q:
                                if row_of[x] != o:
                                    p = x
                                    break
            old = buf.cand[bk]
            r = brank[bk]
            for kind, new in ((KIND_ACT, a), (KIND_PRE, p), (KIND_HIT, h)):
                o_ = old[kind]
                if o_ != new:
                    lst = lists[kind][r]
                    if o_ >= 0:
                        del lst[bisect_left(lst, o_)]
                    if new >= 0:
                        insort(lst, new)
                    old[kind] = new
        buf.dirty.clear()

    def _touch(self, banks) -> None:
        """Banks whose row state or active-request count changed: their candidates change."""
        self.rbuf.dirty.update(banks)
        self.wbuf.dirty.update(banks)

    def _scan(self, slot: str | None, now: int) -> tuple[int, int, int, int, int]:
        """The next issue of ``slot`` at or after ``now``: ``(T, source, id, command, bank)``
        (``T = INF`` when nothing can issue until the state changes). May update the write mode,
        as the reference does when it reaches the read/write buffers."""
        b = self.sys.b
        e = self.eng
        rd = e.ready
        R0, R1, R2, R3 = rd
        brank, bgrp = e.bank_rank, e.bank_group
        bank_of, arrive = b.bank, self.sys.burst_arrive
        # 1. the active buffer (column slot / single slot)
        at, aj, ac, ab = INF, -1, -1, -1
        if self.active and slot != "row":
            RD, WR = self.RD, self.WR
            promo = self.promo
            write = b.write
            aa = ap = INF
            for j in self.active:
                c = WR if write[j] else RD
                bk = bank_of[j]
                t = R0[c][0]
                v = R1[c][brank[bk]]
                if v > t:
                    t = v
                v = R2[c][bgrp[bk]]
                if v > t:
                    t = v
                v = R3[c][bk]
                if v > t:
                    t = v
                if t < now:
                    t = now
                if t > at:
                    continue
                r_ = arrive[j]
                if t < at or r_ < aa or (r_ == aa and promo[j] < ap):
                    at, aa, ap, aj, ac, ab = t, r_, promo[j], j, c, bk
            if at == now:
                return (now, ACTIVE, aj, ac, ab)
        # 2. the head of the priority buffer
        if self.prio:
            final, pb = self.prio[0]
            c = self._preq_prio(final, pb)
            pt = INF
            if (slot is None or self.bus[c] == slot) and not self._closes_active(c, pb):
                pt = max(e.target_ready(c, pb), now)
            if at <= pt:
                return (at, ACTIVE, aj, ac, ab)
            return (pt, PRIO, -1, c, pb)
        # 3. the read or write buffer: walk each (kind, rank) candidate list oldest first. All of
        # a list share the channel + rank part X of their ready time, so the list's best is its
        # first entry whose bank / bank-group part is <= X, or else its smallest (ready, id).
        self._set_write_mode()
        wm = self.write_mode
        buf = self.wbuf if wm else self.rbuf
        best_t, best_j, best_c, best_b = INF, INF, -1, -1
        if buf.size:
            if buf.dirty:
                self._refresh(buf)
            fin = self.WR if wm else self.RD
            kinds = self._kinds[slot]
            lists = buf.lists
            nr = self.nranks
            for kind in kinds:
                cmd = fin if kind == KIND_HIT else (self.ACT if kind == KIND_ACT else self.PRE)
                kl = lists[kind]
                r0 = R0[cmd][0]
                r1 = R1[cmd]
                g2 = R2[cmd]
                b3 = R3[cmd]
                for r in range(nr):
                    lst = kl[r]
                    if not lst:
                        continue
                    x = r1[r]
                    if r0 > x:
                        x = r0
                    if now > x:
                        x = now
                    if x > best_t:
                        continue
                    for j in lst:
                        if x == best_t and j > best_j:
                            break
                        bk = bank_of[j]
                        t = g2[bgrp[bk]]
                        v = b3[bk]
                        if v > t:
                            t = v
                        if t <= x:
                            best_t, best_j, best_c, best_b = x, j, cmd, bk
                            break
                        if t < best_t or (t == best_t and j < best_j):
                            best_t, best_j, best_c, best_b = t, j, cmd, bk
        if at <= best_t:
            return (at, ACTIVE, aj, ac, ab)
        return (best_t, RW, best_j, best_c, best_b)

    def _maintenance(self, now: int) -> None:
        """Refresh requests due at ``now`` and closed-page PREs that became legal."""
        s = self.s
        if now == self.next_ref:
            self.next_ref += s.t("tREFI")
            for r in range(s.ranks):
                self.prio.append((self.REFab, r * s.banks_per_rank))
            self.ver += 1
        if now == self.next_refpb:
            self.next_refpb += s.t("tREFIpb")
            self.prio.append((self.REFpb, self.refpb_bank))
            self.refpb_bank = (self.refpb_bank + 1) % s.banks
            self.ver += 1
        if self.cap_pending:
            for bk in sorted(self.cap_pending):
                if self.eng.ready_time(self.PRE, bk) <= now:
                    self.prio.append((self.PRE, bk))
                    self.cap_pending.discard(bk)
                    self.cap_injected[bk] = True
                    self.ver += 1

    def tick(self, now: int) -> bool:
        """Run cycle ``now``; returns whether a command issued. Sets :attr:`next_time`."""
        self.freed = False
        if now == self.next_ref or now == self.next_refpb or self.cap_pending:
            self._maintenance(now)
        issued = False
        nxt = INF
        cache = self.cache
        for k, slot in enumerate(self.slots):
            c = cache[k]
            if c is not None and c[0] == self.ver and now <= c[1]:
                t, src, j, cmd, bk = c[1], c[2], c[3], c[4], c[5]
            else:
                t, src, j, cmd, bk = self._scan(slot, now)
                cache[k] = (self.ver, t, src, j, cmd, bk)
            if t == now:
                self._issue(src, j, cmd, bk, now)
                issued = True
            elif t < nxt:
                nxt = t
        if issued:
            nxt = now + 1
        else:
            if self.next_ref < nxt:
                nxt = self.next_ref
            if self.next_refpb < nxt:
                nxt = self.next_refpb
            for bk in self.cap_pending:
                t = self.eng.ready_time(self.PRE, bk)
                if t < nxt:
                    nxt = max(t, now + 1)
        self.next_time = nxt
        return issued

    def _issue(self, src: int, j: int, cmd: int, bk: int, now: int) -> None:
        b = self.sys.b
        e = self.eng
        if src == PRIO:
            final = self.prio[0][0]
        else:
            final = self.WR if b.write[j] else self.RD
            if self.closed and self.cap_count[bk] >= self.cap and cmd == final \
                    and self.act_count[bk] == (1 if src == ACTIVE else 0):
                up = self.WRA if cmd == self.WR else self.RDA
                if e.ready_time(up, bk) <= now:
                    cmd = final = up
            if j not in self.sys.stat_done:
                self.sys.stat_done.add(j)
                o = e.open_row[bk]
                k = 1 if b.write[j] else 0
                if o == b.row[j]:
                    self.hits[k] += 1
                elif o >= 0:
                    self.conflicts[k] += 1
                else:
                    self.misses[k] += 1
        row = b.row[j] if src != PRIO else -1
        e.issue(cmd, bk, now, row)
        if self.opens[cmd] or self.closes[cmd]:
            if e.scope[cmd] == "bank":
                self.rbuf.dirty.add(bk)
                self.wbuf.dirty.add(bk)
            else:
                self._touch(e.banks_of(cmd, bk))
        self.counts[cmd] += 1
        self.ver += 1
        if self.closed:
            if self.closes[cmd]:
                for x in e.banks_of(cmd, bk):
                    self.cap_count[x] = 0
                    self.cap_injected[x] = False
                    self.cap_pending.discard(x)
            elif self.accesses[cmd]:
                self.cap_count[bk] += 1
                if self.cap_count[bk] >= self.cap and not self.cap_injected[bk]:
                    self.cap_pending.add(bk)
        sysm = self.sys
        if sysm.record:
            sc = e.scope[cmd]
            if sc == "bank":
                rec_row = row if (self.opens[cmd] or self.accesses[cmd]) else -1
                sysm.log.append((now, self.ch, self.names[cmd], e.bank_rank[bk], e.bank_group[bk] % self.s.bankgroups,
                                 bk % self.s.banks_per_group, rec_row))
            else:
                sysm.log.append((now, self.ch, self.names[cmd], e.bank_rank[bk] if sc == "rank" else -1, -1, -1, -1))
        if cmd == final:
            if src == PRIO:
                self.prio.popleft()
            elif src == ACTIVE:
                self.active.remove(j)
                del self.promo[j]
                self.act_count[bk] -= 1
                self.rbuf.dirty.add(bk)
                self.wbuf.dirty.add(bk)
                sysm.burst_done(j, now + self.rl if not b.write[j] else now)
            else:
                if b.write[j]:
                    self.wbuf.remove(j, bk, b.row[j])
                    self.write_addrs.discard(b.addr[j])
                else:
                    self.rbuf.remove(j, bk, b.row[j])
                self.freed = True
                sysm.burst_done(j, now + self.rl if not b.write[j] else now)
        elif self.opens[cmd] and src != PRIO:
            if src == RW:
                if b.write[j]:
                    self.wbuf.remove(j, bk, b.row[j])
                    self.write_addrs.discard(b.addr[j])
                else:
                    self.rbuf.remove(j, bk, b.row[j])
                self.freed = True
            self.active.append(j)
            self.promo[j] = self._promo_n
            self._promo_n += 1
            self.act_count[bk] += 1
            self.rbuf.dirty.add(bk)
            self.wbuf.dirty.add(bk)


class DramSystem:
    """Channels + front end over one growing burst stream. Replay: :meth:`add` everything, then
    :meth:`run`. SimPy: :meth:`add` requests as they come and :meth:`advance` to the present (see
    :mod:`archsim.hw.dram.port`). Times are memory cycles."""

    def __init__(self, s: DramStandard, mapping: AddressMapping, channels: int = 1,
                 cfg: ControllerConfig | None = None, *, table: TimingTable | None = None, record: bool = False):
        self.s = s
        self.cfg = cfg or ControllerConfig()
        if self.cfg.refresh == "per-bank" and not s.t("tREFIpb"):
            raise InputError("--refresh", None, f"all-bank or none ({s.name} defines no per-bank refresh)", "per-bank")
        if channels < 1 or channels & (channels - 1):
            raise InputError("--channels", None, "a power of two", channels)
        self.mapping = mapping
        self.channels = channels
        self.table = table or build_table(s)
        self.record = record
        self.log: list[CommandRecord] = []
        per = max(self.cfg.request_bytes // s.burst_bytes, 1)
        self.b = Bursts.empty(self.cfg.request_bytes, s.burst_bytes)
        self._per = per
        self.burst_arrive: list[int] = []
        self.burst_end: list[int] = []
        self.accept: list[int] = []
        self.done: list[int] = []          # per request; -1 until complete
        self._left: list[int] = []         # bursts of each request not yet done
        self.stat_done: set[int] = set()
        self.chans = [FastChannel(c, s, self.table, self.cfg, self) for c in range(channels)]
        self.nxt = 0                       # next request for the front end
        self.fe_next = INF
        self.now = 0
        self.forwarded = 0
        self.coalesced = 0
        self.max_read_end = 0
        self.max_write_end = 0
        self.completed: list[int] = []     # request ids completed since the last drain

    # -- requests -----------------------------------------------------------------------------------
    def add(self, addr, is_write, arrival) -> range:
        """Append requests (arrays or scalars: byte address, write flag, earliest memory cycle);
        returns their request ids. Arrival cycles must not be before the present."""
        a = np.atleast_1d(np.asarray(addr, dtype=np.int64))
        w = np.broadcast_to(np.asarray(is_write, dtype=bool), a.shape)
        c = np.broadcast_to(np.asarray(arrival, dtype=np.int64), a.shape)
        if len(a) and (a.min() < 0 or c.min() < 0):
            raise InputError(None, "addr", "non-negative addresses and arrival cycles")
        from archsim.hw.dram.bursts import expand
        from archsim.hw.dram.trace import Trace

        nb = expand(Trace(a, w.copy(), c.copy()), self.s, self.mapping, self.channels, self.cfg.request_bytes)
        b = self.b
        base_req, base_burst = b.n_requests, len(b.req)
        b.n_requests += nb.n_requests
        b.arrival += nb.arrival
        b.is_write += nb.is_write
        b.first += [x + base_burst for x in nb.first]
        b.count += nb.count
        b.req += [x + base_req for x in nb.req]
        for f in ("channel", "bank", "rank", "bankgroup", "bank_in_group", "row", "column", "addr", "write"):
            getattr(b, f).extend(getattr(nb, f))
        k = len(nb.req)
        self.burst_arrive += [-1] * k
        self.burst_end += [-1] * k
        self.accept += [-1] * nb.n_requests
        self.done += [-1] * nb.n_requests
        self._left += nb.count
        if self.nxt == base_req and nb.n_requests:
            self.fe_next = min(self.fe_next, max(b.arrival[base_req], self.now))
        return range(base_req, b.n_requests)

    def burst_done(self, j: int, cycle: int) -> None:
        self.burst_end[j] = cycle
        if self.b.write[j]:
            if cycle + 1 > self.max_write_end:
                self.max_write_end = cycle + 1
        elif cycle > self.max_read_end:
            self.max_read_end = cycle
        r = self.b.req[j]
        self._left[r] -= 1
        if self._left[r] == 0:
            first = self.b.first[r]
            self.done[r] = max(self.burst_end[first:first + self.b.count[r]])
            self.completed.append(r)

    # -- front end --------------------------------------------------------------------------------
    def _front_end(self, now: int) -> None:
        b = self.b
        chans = self.chans
        n = b.n_requests
        taken = 0
        limit = self.cfg.accepts_per_cycle
        while taken < limit and self.nxt < n and b.arrival[self.nxt] <= now:
            r = self.nxt
            f, k = b.first[r], b.count[r]
            if k == 1:
                j = f
                ch = chans[b.channel[j]]
                if b.addr[j] not in ch.write_addrs and ch.room(b.write[j]) < 1:
                    self.fe_next = INF  # blocked until an entry frees
                    return
            elif self.channels == 1:
                ch = chans[0]
                wa = ch.write_addrs
                need = k - sum(1 for j in range(f, f + k) if b.addr[j] in wa) if wa else k
                if ch.room(b.is_write[r]) < need:
                    self.fe_next = INF
                    return
            else:
                need: dict[tuple[int, bool], int] = {}
                for j in range(f, f + k):
                    ch = chans[b.channel[j]]
                    if b.addr[j] not in ch.write_addrs:
                        key = (b.channel[j], b.write[j])
                        need[key] = need.get(key, 0) + 1
                if any(chans[c].room(w) < m for (c, w), m in need.items()):
                    self.fe_next = INF
                    return
            for j in range(f, f + k):
                ch = chans[b.channel[j]]
                self.burst_arrive[j] = now
                if b.addr[j] in ch.write_addrs:
                    if b.write[j]:
                        self.coalesced += 1
                        self.burst_done(j, now)
                    else:
                        self.forwarded += 1
                        self.burst_done(j, now + 1)
                else:
                    ch.enqueue(j, now)
            self.accept[r] = now
            self.nxt += 1
            taken += 1
        if self.nxt >= n:
            self.fe_next = INF
        elif taken >= limit or b.arrival[self.nxt] <= now:
            self.fe_next = now + 1
        else:
            self.fe_next = b.arrival[self.nxt]

    # -- the event loop -----------------------------------------------------------------------------
    def _step(self, now: int) -> None:
        """Everything at cycle ``now``: front end, then every channel due."""
        self.now = now
        if self.fe_next <= now:
            self._front_end(now)
        freed = False
        for ch in self.chans:
            if ch.next_time <= now:
                ch.tick(now)
                freed |= ch.freed
        if freed and self.nxt < self.b.n_requests and self.fe_next == INF:
            self.fe_next = max(now + 1, self.b.arrival[self.nxt])

    def next_event(self) -> int:
        t = self.fe_next
        for ch in self.chans:
            if ch.next_time < t:
                t = ch.next_time
        return t

    def idle(self) -> bool:
        """No request waiting in the front end or in any controller buffer."""
        return self.nxt >= self.b.n_requests and not any(ch.busy() for ch in self.chans)

    def advance(self, until: int) -> None:
        """Process every cycle before ``until`` at which something can happen."""
        while True:
            t = self.next_event()
            if t >= until:
                break
            self._step(t)
        self.now = max(self.now, until)

    def end_cycle(self) -> int:
        """Cycles until every read has returned and every write has issued (so far)."""
        return max(self.max_read_end, self.max_write_end)

    def run(self) -> DramRun:
        """Process everything added; returns the run's figures over ``[0, end)``."""
        if len(self.chans) == 1:
            self._run_one()
        while not self.idle():
            t = self.next_event()
            if t >= INF:
                raise RuntimeError("DRAM controller stalled with requests outstanding")
            self._step(t)
        end = self.end_cycle()
        self.advance(end)  # refreshes that fall before the last read returns
        return self.result(end)

    def _run_one(self) -> None:
        """:meth:`run`'s event loop for one channel, with the front end and the channel inlined
        (the same steps as :meth:`_step`, without its per-event bookkeeping)."""
        ch = self.chans[0]
        tick = ch.tick
        front = self._front_end
        b = self.b
        n = b.n_requests
        arrival = b.arrival
        while True:
            fe = self.fe_next
            t = ch.next_time
            if fe <= t:
                if fe >= INF:
                    return
                self.now = fe
                front(fe)
                if ch.next_time > fe:
                    if self.nxt >= n and not (ch.rbuf.size or ch.wbuf.size or ch.active):
                        return  # the last requests were forwarded or merged: nothing left to run
                    continue
                t = fe
            else:
                self.now = t
            tick(t)
            if self.nxt < n:
                if ch.freed and self.fe_next == INF:
                    self.fe_next = max(t + 1, arrival[self.nxt])
            elif not (ch.rbuf.size or ch.wbuf.size or ch.active):
                return

    def result(self, end: int) -> DramRun:
        log = sorted(self.log, key=lambda r: (r[0], r[1])) if self.record else []
        counts = []
        for ch in self.chans:
            counts.append({ch.names[i]: n for i, n in enumerate(ch.counts)})
        return DramRun(
            total_cycles=end, accept_cycle=np.asarray(self.accept, dtype=np.int64),
            done_cycle=np.asarray(self.done, dtype=np.int64), commands=counts,
            row_hits=[ch.hits for ch in self.chans], row_misses=[ch.misses for ch in self.chans],
            row_conflicts=[ch.conflicts for ch in self.chans],
            active_cycles=[ch.eng.active_cycles_until(end) for ch in self.chans],
            forwarded_reads=self.forwarded, coalesced_writes=self.coalesced, log=log)


def simulate_fast(s: DramStandard, b: Bursts, channels: int, cfg: ControllerConfig | None = None, *,
                  mapping: AddressMapping, table: TimingTable | None = None, record: bool = False) -> DramRun:
    """Replay an already expanded burst stream (tests compare this with the reference)."""
    sysm = DramSystem(s, mapping, channels, cfg, table=table, record=record)
    sysm.b = b
    nreq, nb = b.n_requests, len(b.req)
    sysm.burst_arrive = [-1] * nb
    sysm.burst_end = [-1] * nb
    sysm.accept = [-1] * nreq
    sysm.done = [-1] * nreq
    sysm._left = list(b.count)
    sysm.fe_next = b.arrival[0] if nreq else INF
    return sysm.run()
