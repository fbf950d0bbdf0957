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

from array import array
from bisect import bisect_left, insort
from collections import deque
from functools import cached_property

import numpy as np

from archsim.errors import InputError
from archsim.hw.dram import loop
from archsim.hw.dram.bursts import COLUMNS, Bursts, expand_arrays
from archsim.hw.dram.config import ControllerConfig
from archsim.hw.dram.device import TimingEngine
from archsim.hw.dram.mapping import AddressMapping
from archsim.hw.dram.results import CommandRecord, DramRun
from archsim.hw.dram.standard import DramStandard
from archsim.hw.dram.timing import TimingTable, build_table

INF = 1 << 62
#: the per-request / per-burst columns the replay loop reads (archsim/hw/dram/_fastloop.py)
LOOP_COLUMNS = ("bank", "row", "write", "rank", "req", "first", "count", "arrival", "is_write")
# plan sources
ACTIVE, PRIO, RW = 0, 1, 2


class _Buffer:
    """A read or write buffer of one channel.

    * ``bq[bank]``: the bank's burst ids in arrival order; ``rows[bank]``: how many target each row
    * ``cand[bank]``: the bank's FR-FCFS candidates ``[ACT, PRE, HIT]`` (-1: none): ``ACT`` (bank
      closed: its oldest request), ``PRE`` (bank open: the oldest request to another row, unless an
      active request holds the row), ``HIT`` (the oldest request to the open row). Requests of one
      bank and kind have the same ready time, so the oldest stands for all of them.
    * ``lists[kind][rank]``: the candidates of each kind and rank, sorted by burst id (= age)
    * ``scan[slot]``: what a scan of the command slot walks: ``(list, channel ready, rank ready,
      rank, bank-group ready, bank ready, command)`` per (kind, rank), the ready lists being the
      timing engine's own (they change in place); :attr:`FastChannel.flat_scan` holds the same
      on the engine's flat copy, for the replay loop

    Candidates are kept current: a new burst is the youngest of its channel, so it only fills a
    kind its bank has no candidate of (an append); anything else that changes a bank's queue, row
    or active-request count recomputes that bank (:meth:`FastChannel._recompute`).
    """

    __slots__ = ("size", "bq", "rows", "lists", "cand", "scan")

    def __init__(self, nbanks: int, nranks: int):
        self.size = 0
        self.bq: list[list[int]] = [[] for _ in range(nbanks)]
        self.rows: list[dict[int, int]] = [{} for _ in range(nbanks)]
        self.lists: list[list[list[int]]] = [[[] for _ in range(nranks)] for _ in range(3)]
        self.cand: list[list[int]] = [[-1, -1, -1] for _ in range(nbanks)]
        self.scan: list[list[tuple]] = []


KIND_ACT, KIND_PRE, KIND_HIT = 0, 1, 2


def _compile_update(params: str, ops: list[tuple[str, int]], wops: list[tuple[list[str], list[tuple[str, str, int]]]],
                    env: dict):
    """One function ``f(<params>)`` doing a command's timing update as straight-line code:
    ``ops`` = ``(target, latency)`` max-updates (``target = max(target, now + latency)``),
    ``wops`` = ``(lines that shift now into a history, (history entry, target, latency) ...)``
    (``target = max(target, entry + latency)`` where the entry is set). Targets are expressions
    over ``params`` and the names in ``env``."""
    lines = [f"def f({params}):"]
    lats: dict[int, list[str]] = {}
    for target, lat in ops:
        lats.setdefault(lat, []).append(target)
    for lat, targets in lats.items():
        lines.append(f" v = now + {lat}")
        lines += [f" if {t} < v: {t} = v" for t in targets]
    for shift, wins in wops:
        lines += [f" {x}" for x in shift]
        for entry, t, lat in wins:
            lines.append(f" p = {entry}")
            lines.append(f" if p >= 0 and {t} < p + {lat}: {t} = p + {lat}")
    if len(lines) == 1:
        lines.append(" pass")
    exec("\n".join(lines), env)  # noqa: S102 - generated from the timing table only
    return env["f"]


def _nested_update(ops: tuple, wops: tuple):
    """:func:`_compile_update` on the engine's own lists (bound by name): ``ops`` = ``(ready list,
    node, latency)``, ``wops`` = ``(history list, ((ready list, node, latency, window), ...))``."""
    names: dict[int, str] = {}
    env: dict = {}

    def ref(obj) -> str:
        k = id(obj)
        if k not in names:
            names[k] = f"a{len(names)}"
            env[names[k]] = obj
        return names[k]

    return _compile_update("now", [(f"{ref(arr)}[{i}]", lat) for arr, i, lat in ops],
                           [([f"{ref(hn)}.pop()", f"{ref(hn)}.insert(0, now)"],
                             [(f"{ref(hn)}[{wn - 1}]", f"{ref(arr)}[{i}]", lat) for arr, i, lat, wn in wins])
                            for hn, wins in wops], env)


def _flat_update(ops: tuple, wops: tuple):
    """:func:`_compile_update` on a flat copy ``rt`` / ``hf`` of the engine's ready times and
    histories, ``f(rt, hf, now)`` (``ops`` and ``wops`` from :meth:`TimingEngine.flat_update
    <archsim.hw.dram.device.TimingEngine.flat_update>`)."""
    return _compile_update("rt, hf, now", [(f"rt[{p}]", lat) for p, lat in ops],
                           [([f"hf[{h + i}] = hf[{h + i - 1}]" for i in range(depth - 1, 0, -1)] + [f"hf[{h}] = now"],
                             [(f"hf[{h + w - 1}]", f"rt[{p}]", lat) for p, lat, w in wins])
                            for h, depth, wins in wops], {})


def _flat_table(updates: list[list[tuple[tuple, tuple] | None]], nbanks: int) -> tuple[array, array]:
    """The flat updates of every (command, bank) as one integer table for the compiled loop:
    ``start[cmd * nbanks + bank]`` indexes ``table``, which holds there ``n`` then ``n`` pairs
    ``(position, latency)``, then ``m`` then ``m`` groups ``(history position, depth, k, k triples
    (position, latency, window))`` (commands without a bank-scope update: ``0, 0``)."""
    start, table = [], []
    for per_bank in updates:
        for bk in range(nbanks):
            start.append(len(table))
            ops, wops = per_bank[bk] if per_bank is not None else ((), ())
            table.append(len(ops))
            for p, lat in ops:
                table += (p, lat)
            table.append(len(wops))
            for h, depth, wins in wops:
                table += (h, depth, len(wins))
                for x in wins:
                    table += x
    return array("q", start), array("q", table)


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
        kinds = {None: (KIND_ACT, KIND_PRE, KIND_HIT), "col": (KIND_HIT,), "row": (KIND_ACT, KIND_PRE)}
        self.nranks = s.ranks
        self.rbuf, self.wbuf = _Buffer(nb, s.ranks), _Buffer(nb, s.ranks)
        R0, R1, R2, R3 = e.ready
        # the same tables on the engine's flat copy (TimingEngine.flat_state), for the replay loop
        # (archsim/hw/dram/_fastloop.py): the read buffer's slots then the write buffer's, as
        # (every entry, where each (buffer, slot) starts and ends, the entries' candidate lists,
        # their integers: channel offset, rank position, bank-group offset, bank offset, command)
        entries, bounds = [], [0]
        for buf, fin in ((self.rbuf, self.RD), (self.wbuf, self.WR)):
            for slot in self.slots:
                tab = []
                for kind in kinds[slot]:
                    cmd = (self.ACT, self.PRE, fin)[kind]
                    fo = [e.flat_off[lv][cmd] for lv in range(4)]
                    for r in range(s.ranks):
                        tab.append((buf.lists[kind][r], R0[cmd], R1[cmd], r, R2[cmd], R3[cmd], cmd))
                        entries.append((buf.lists[kind][r], fo[0], fo[1] + r, fo[2], fo[3], cmd))
                buf.scan.append(tab)
                bounds.append(len(entries))
        self.flat_scan = (entries, array("q", bounds), [x[0] for x in entries],
                          array("q", [v for x in entries for v in x[1:]]))
        self.active: list[int] = []          # burst ids whose ACT has issued, in promotion order
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
        self.wm_high = cfg.write_high_watermark * cfg.write_buffer_size
        self.wm_low = cfg.write_low_watermark * cfg.write_buffer_size
        self.bank_scope = [sc == "bank" for sc in e.scope]

    @cached_property
    def _flat_updates(self) -> list[list[tuple[tuple, tuple]] | None]:
        """Per bank-scope command, per bank: its timing update on the engine's flat copy
        (:meth:`TimingEngine.flat_update <archsim.hw.dram.device.TimingEngine.flat_update>`)."""
        e = self.eng
        return [[e.flat_update(c, bk) for bk in range(e.nbanks)] if e.scope[c] == "bank" else None
                for c in range(e.ncmd)]

    @cached_property
    def bupd(self) -> list[list | None]:
        """Per (bank-scope command, bank): the timing engine's update for that command at that bank
        as straight-line code on the engine's own lists (``bupd[cmd][bank](now)``), compiled on first
        use by :meth:`_bank_update` (None until then). Applying it is exactly
        :meth:`TimingEngine.issue`'s timing update (max-updates, so order does not matter), so the
        engine stays the state of record."""
        return [[None] * len(per_bank) if per_bank is not None else None for per_bank in self._flat_updates]

    def _bank_update(self, cmd: int, bk: int):
        ready, hist = self._where
        ops, wops = self._flat_updates[cmd][bk]
        f = _nested_update(tuple((*ready[p], lat) for p, lat in ops),
                           tuple((hist[h], tuple((*ready[p], lat, w) for p, lat, w in wins)) for h, _depth, wins in wops))
        self.bupd[cmd][bk] = f
        return f

    @cached_property
    def _where(self) -> tuple[dict, dict]:
        return self.eng.flat_where()

    @cached_property
    def fupd(self) -> list[list | None]:
        """The same updates on a flat copy, ``fupd[cmd][bank](rt, hf, now)`` (the interpreted replay
        loop, archsim/hw/dram/_fastloop.py)."""
        return [[_flat_update(*u) for u in per_bank] if per_bank is not None else None
                for per_bank in self._flat_updates]

    @cached_property
    def ftab(self) -> tuple[array, array]:
        """The same updates as one integer table (the compiled replay loop): see :func:`_flat_table`."""
        return _flat_table(self._flat_updates, self.eng.nbanks)

    # -- front end ---------------------------------------------------------------------------------
    def room(self, write: bool) -> int:
        if write:
            return self.cfg.write_buffer_size - self.wbuf.size
        return self.cfg.read_buffer_size - self.rbuf.size

    def enqueue(self, j: int, now: int) -> None:
        b = self.sys.b
        bk = b.bank[j]
        row = b.row[j]
        if b.write[j]:
            buf = self.wbuf
            self.write_addrs.add(b.addr[j])
        else:
            buf = self.rbuf
        buf.bq[bk].append(j)
        rc = buf.rows[bk]
        rc[row] = rc.get(row, 0) + 1
        buf.size += 1
        # ``j`` is the youngest burst of the channel: a candidate only where its bank has none of its kind
        o = self.eng.open_row[bk]
        if o < 0:
            kind = KIND_ACT
        elif o == row:
            kind = KIND_HIT
        elif self.act_count[bk]:
            kind = -1
        else:
            kind = KIND_PRE
        if kind >= 0:
            cd = buf.cand[bk]
            if cd[kind] < 0:
                cd[kind] = j
                buf.lists[kind][self.eng.bank_rank[bk]].append(j)
        self.ver += 1
        self.next_time = now

    def busy(self) -> bool:
        return bool(self.rbuf.size or self.wbuf.size or self.active)

    # -- candidates ----------------------------------------------------------------------------------
    def _recompute(self, buf: _Buffer, bk: int) -> None:
        """Recompute bank ``bk``'s candidates in ``buf`` (after its queue, row or active count changed)."""
        q = buf.bq[bk]
        cd = buf.cand[bk]
        a = p = h = -1
        if q:
            o = self.eng.open_row[bk]
            if o < 0:
                a = q[0]
            else:
                row_of = self.sys.b.row
                nhit = buf.rows[bk].get(o, 0)
                if nhit:
                    x = q[0]
                    if row_of[x] == o:
                        h = x
                    else:
                        for x in q:
                            if row_of[x] == o:
                                h = x
                                break
                if nhit < len(q) and not self.act_count[bk]:
                    x = q[0]
                    if row_of[x] != o:
                        p = x
                    else:
                        for x in q:
                            if row_of[x] != o:
                                p = x
                                break
        elif cd[0] < 0 and cd[1] < 0 and cd[2] < 0:
            return
        r = self.eng.bank_rank[bk]
        lists = buf.lists
        old = cd[0]
        if old != a:
            lst = lists[0][r]
            if old >= 0:
                del lst[bisect_left(lst, old)]
            if a >= 0:
                insort(lst, a)
            cd[0] = a
        old = cd[1]
        if old != p:
            lst = lists[1][r]
            if old >= 0:
                del lst[bisect_left(lst, old)]
            if p >= 0:
                insort(lst, p)
            cd[1] = p
        old = cd[2]
        if old != h:
            lst = lists[2][r]
            if old >= 0:
                del lst[bisect_left(lst, old)]
            if h >= 0:
                insort(lst, h)
            cd[2] = h

    def _remove(self, buf: _Buffer, j: int, bk: int, row: int) -> None:
        q = buf.bq[bk]
        if q[0] == j:
            del q[0]
        else:
            q.remove(j)
        rc = buf.rows[bk]
        n = rc[row] - 1
        if n:
            rc[row] = n
        else:
            del rc[row]
        buf.size -= 1

    # -- scheduling ----------------------------------------------------------------------------------
    def _set_write_mode(self) -> None:
        if not self.write_mode:
            if self.wbuf.size > self.wm_high or self.rbuf.size == 0:
                self.write_mode = True
                self.ver += 1
        elif self.wbuf.size < self.wm_low and self.rbuf.size != 0:
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

    def _scan(self, k: int, now: int) -> tuple[int, int, int, int, int]:
        """The next issue of command slot ``k`` at or after ``now``: ``(T, source, id, command,
        bank)`` (``T = INF`` when nothing can issue until the state changes). May update the write
        mode, as the reference does when it reaches the read/write buffers."""
        sysm = self.sys
        bank_of = sysm.b.bank
        # 1. the active buffer (column slot / single slot): first ready, then oldest arrival, then
        # oldest promotion (the list is in promotion order, so the first of equals wins)
        at, aj, ac, ab = INF, -1, -1, -1
        if self.active and k == 0:
            e = self.eng
            R0, R1, R2, R3 = e.ready
            RD, WR = self.RD, self.WR
            write = sysm.b.write
            arrive = sysm.burst_arrive
            rank_of, bg_of = sysm.b.rank, sysm.bgf
            aa = INF
            for j in self.active:
                c = WR if write[j] else RD
                bk = bank_of[j]
                t = R0[c][0]
                v = R1[c][rank_of[j]]
                if v > t:
                    t = v
                v = R2[c][bg_of[j]]
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
                if t < at or r_ < aa:
                    at, aa, aj, ac, ab = t, r_, j, c, bk
            if at == now:
                return (now, ACTIVE, aj, ac, ab)
        # 2. the head of the priority buffer
        if self.prio:
            final, pb = self.prio[0]
            c = self._preq_prio(final, pb)
            pt = INF
            if (not self.dual or self.bus[c] == self.slots[k]) and not self._closes_active(c, pb):
                pt = self.eng.target_ready(c, pb)
                if pt < now:
                    pt = now
            if at <= pt:
                return (at, ACTIVE, aj, ac, ab)
            return (pt, PRIO, -1, c, pb)
        # 3. the read or write buffer: walk each (kind, rank) candidate list oldest first. All of
        # a list share the channel + rank part x of their ready time, so the list's best is its
        # first entry whose bank / bank-group part is <= x, or else its smallest (ready, id).
        if not self.write_mode:
            if self.wbuf.size > self.wm_high or self.rbuf.size == 0:
                self.write_mode = True
                self.ver += 1
        elif self.wbuf.size < self.wm_low and self.rbuf.size != 0:
            self.write_mode = False
            self.ver += 1
        buf = self.wbuf if self.write_mode else self.rbuf
        best_t, best_j, best_c, best_b = INF, INF, -1, -1
        if buf.size:
            bg_of = sysm.bgf
            for lst, c0, c1, r, g2, b3, cmd in buf.scan[k]:
                if not lst:
                    continue
                x = c0[0]
                v = c1[r]
                if v > x:
                    x = v
                if now > x:
                    x = now
                if x > best_t:
                    continue
                for j in lst:
                    if x == best_t and j > best_j:
                        break
                    bk = bank_of[j]
                    t = g2[bg_of[j]]
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
        for k in range(len(self.slots)):
            c = cache[k]
            if c is not None and c[0] == self.ver and now <= c[1]:
                t, src, j, cmd, bk = c[1], c[2], c[3], c[4], c[5]
            else:
                t, src, j, cmd, bk = self._scan(k, now)
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

    def _record(self, cmd: int, bk: int, now: int, row: int) -> None:
        e = self.eng
        sc = e.scope[cmd]
        if sc == "bank":
            rec_row = row if (self.opens[cmd] or self.accesses[cmd]) else -1
            self.sys.log.append((now, self.ch, self.names[cmd], e.bank_rank[bk], e.bank_group[bk] % self.s.bankgroups,
                                 bk % self.s.banks_per_group, rec_row))
        else:
            self.sys.log.append((now, self.ch, self.names[cmd], e.bank_rank[bk] if sc == "rank" else -1, -1, -1, -1))

    def _issue(self, src: int, j: int, cmd: int, bk: int, now: int) -> None:
        sysm = self.sys
        b = sysm.b
        e = self.eng
        if src == PRIO:
            final = self.prio[0][0]
            row = -1
        else:
            w = b.write[j]
            row = b.row[j]
            final = self.WR if w else self.RD
            if self.closed and self.cap_count[bk] >= self.cap and cmd == final \
                    and self.act_count[bk] == (1 if src == ACTIVE else 0):
                up = self.WRA if w else self.RDA
                if e.ready_time(up, bk) <= now:
                    cmd = final = up
            if not sysm.stat[j]:
                sysm.stat[j] = 1
                o = e.open_row[bk]
                k = 1 if w else 0
                if o == row:
                    self.hits[k] += 1
                elif o >= 0:
                    self.conflicts[k] += 1
                else:
                    self.misses[k] += 1
        opens, closes = self.opens[cmd], self.closes[cmd]
        bank_scope = e.scope[cmd] == "bank"
        if bank_scope:
            (self.bupd[cmd][bk] or self._bank_update(cmd, bk))(now)
            if opens:
                if e.open_row[bk] < 0:
                    e._bank_opened(e.bank_rank[bk], now)
                e.open_row[bk] = row
            elif closes:
                if e.open_row[bk] >= 0:
                    e._bank_closed(e.bank_rank[bk], now)
                e.open_row[bk] = -1
        else:
            e.issue(cmd, bk, now, row)
        self.counts[cmd] += 1
        self.ver += 1
        if self.closed:
            if closes:
                for x in e.banks_of(cmd, bk):
                    self.cap_count[x] = 0
                    self.cap_injected[x] = False
                    self.cap_pending.discard(x)
            elif self.accesses[cmd]:
                self.cap_count[bk] += 1
                if self.cap_count[bk] >= self.cap and not self.cap_injected[bk]:
                    self.cap_pending.add(bk)
        if sysm.record:
            self._record(cmd, bk, now, row)
        # the request's progress, then the candidates of every bank whose queue, row or active
        # count changed
        rbuf, wbuf = self.rbuf, self.wbuf
        if cmd == final:
            if src == PRIO:
                self.prio.popleft()
            elif src == ACTIVE:
                self.active.remove(j)
                self.act_count[bk] -= 1
                if not self.act_count[bk] or closes:
                    self._recompute(rbuf, bk)
                    self._recompute(wbuf, bk)
                sysm.burst_done(j, now if w else now + self.rl)
                return
            else:
                if w:
                    self._remove(wbuf, j, bk, row)
                    self.write_addrs.discard(b.addr[j])
                else:
                    self._remove(rbuf, j, bk, row)
                self.freed = True
                if closes:
                    self._recompute(rbuf, bk)
                    self._recompute(wbuf, bk)
                else:
                    self._recompute(wbuf if w else rbuf, bk)
                sysm.burst_done(j, now if w else now + self.rl)
                return
        elif opens and src != PRIO:
            if src == RW:
                if w:
                    self._remove(wbuf, j, bk, row)
                    self.write_addrs.discard(b.addr[j])
                else:
                    self._remove(rbuf, j, bk, row)
                self.freed = True
            self.active.append(j)
            self.act_count[bk] += 1
        if opens or closes:
            if bank_scope:
                self._recompute(rbuf, bk)
                self._recompute(wbuf, bk)
            else:
                for x in e.banks_of(cmd, bk):
                    self._recompute(rbuf, x)
                    self._recompute(wbuf, x)


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
        if per > min(self.cfg.read_buffer_size, self.cfg.write_buffer_size):
            raise InputError("--read-buffer / --write-buffer", None,
                             f"at least {per} entries each (a {self.cfg.request_bytes} B request is {per} "
                             f"bursts of {s.burst_bytes} B, queued whole)",
                             (self.cfg.read_buffer_size, self.cfg.write_buffer_size))
        self.b = Bursts.empty(self.cfg.request_bytes, s.burst_bytes)
        self._per = per
        self.burst_arrive: list[int] = []
        self.burst_end: list[int] = []
        self.accept: list[int] = []
        self.done: list[int] = []          # per request; -1 until complete
        self._left: list[int] = []         # bursts of each request not yet done
        self.stat = bytearray()            # per burst: counted as a row hit / miss / conflict
        self.bgf: list[int] = []           # per burst: flat bank-group index within its channel
        self._chunks: dict[str, list[np.ndarray]] = {f: [] for f in LOOP_COLUMNS}  # add()'s arrays
        self.chans = [FastChannel(c, s, self.table, self.cfg, self) for c in range(channels)]
        self.nxt = 0                       # next request for the front end
        self.fe_next = INF
        self.now = 0
        self.forwarded = 0
        self.coalesced = 0
        self.max_read_end = 0
        self.max_write_end = 0
        self.completed: list[int] = []     # request ids completed since the last drain
        self.hit_run_issues = 0            # commands the row-hit streaming path issued (tests)

    # -- requests -----------------------------------------------------------------------------------
    def add(self, addr, is_write, arrival) -> range:
        """Append requests (arrays or scalars: byte address, write flag, earliest memory cycle);
        returns their request ids. Arrival cycles must not be before the present."""
        a = np.atleast_1d(np.asarray(addr, dtype=np.int64))
        w = np.broadcast_to(np.asarray(is_write, dtype=bool), a.shape)
        c = np.broadcast_to(np.asarray(arrival, dtype=np.int64), a.shape)
        if len(a) and (a.min() < 0 or c.min() < 0 or c.max() >= INF):
            raise InputError(None, "addr", "non-negative addresses and arrival cycles, cycles below 2^62")
        from archsim.hw.dram.trace import Trace

        b = self.b
        base_req = b.n_requests
        n, cols = expand_arrays(Trace(a, w.copy(), c.copy()), self.s, self.mapping, self.channels,
                                self.cfg.request_bytes, req_base=base_req, burst_base=len(b.req))
        b.n_requests += n
        for f in COLUMNS:
            getattr(b, f).extend(cols[f].tolist())
        for f in LOOP_COLUMNS:
            self._chunks[f].append(cols[f])
        k = len(cols["req"])
        self._derive(cols["bank"])
        self.burst_arrive += [-1] * k
        self.burst_end += [-1] * k
        self.accept += [-1] * n
        self.done += [-1] * n
        self._left += [self._per] * n
        if self.nxt == base_req and n:
            self.fe_next = min(self.fe_next, max(b.arrival[base_req], self.now))
        return range(base_req, b.n_requests)

    def column_arrays(self) -> dict[str, np.ndarray]:
        """The columns the compiled replay loop reads (:data:`LOOP_COLUMNS` and ``bgf``) as int64
        arrays: the arrays :meth:`add` decoded, else converted from the lists."""
        out = {}
        for f in LOOP_COLUMNS:
            lst, chunks = getattr(self.b, f), self._chunks[f]
            if sum(map(len, chunks)) != len(lst):
                chunks = [np.asarray(lst, dtype=np.int64)]
            out[f] = np.ascontiguousarray(np.concatenate(chunks) if len(chunks) > 1 else chunks[0]
                                          if chunks else np.zeros(0), dtype=np.int64)
        out["bgf"] = out["bank"] // self.s.banks_per_group
        return out

    def _derive(self, bank: np.ndarray | None = None) -> None:
        """Per-burst columns the controllers need beyond :class:`Bursts` (for bursts added since;
        ``bank``: their flat banks, when the caller has them as an array)."""
        k = len(self.b.bank) - len(self.bgf)
        if k > 0:
            new = bank if bank is not None else np.asarray(self.b.bank[len(self.bgf):], dtype=np.int64)
            self.bgf += (new // self.s.banks_per_group).tolist()
            self.stat += bytes(k)

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
        """:meth:`run`'s event loop for one channel: the same steps as :meth:`_step`, in one
        function (:mod:`archsim.hw.dram._fastloop`, the build :mod:`archsim.hw.dram.loop` selects)."""
        loop.run_one_channel(self)

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
    return _system_for(s, b, channels, cfg, mapping=mapping, table=table, record=record).run()


def _system_for(s: DramStandard, b: Bursts, channels: int, cfg: ControllerConfig | None = None, *,
                mapping: AddressMapping, table: TimingTable | None = None, record: bool = False) -> DramSystem:
    """A :class:`DramSystem` loaded with burst stream ``b``, not yet run."""
    sysm = DramSystem(s, mapping, channels, cfg, table=table, record=record)
    sysm.b = b
    nreq, nb = b.n_requests, len(b.req)
    sysm.burst_arrive = [-1] * nb
    sysm.burst_end = [-1] * nb
    sysm.accept = [-1] * nreq
    sysm.done = [-1] * nreq
    sysm._left = list(b.count)
    sysm._derive()
    sysm.fe_next = b.arrival[0] if nreq else INF
    return sysm
