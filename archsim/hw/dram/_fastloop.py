"""The replay hot path: one channel's whole run in one function.

:meth:`DramSystem.run <archsim.hw.dram.controller.DramSystem.run>` on one channel comes here. It
makes the same decisions as :meth:`FastChannel.tick <archsim.hw.dram.controller.FastChannel.tick>`
and :meth:`DramSystem._front_end <archsim.hw.dram.controller.DramSystem._front_end>` (the
front end, the plan cache, the scan, the issue and the candidate upkeep, in the same order), on the
same state, but with everything the loop touches bound to local variables and the per-command
helpers inlined or turned into closures: attribute look-ups and method calls were most of the
interpreted work per command. Rare paths (refresh and closed-page maintenance, the priority
buffer's head, rank-wide commands) call the channel's own methods.

The loop owns the channel while it runs: buffer sizes, the write mode, the state version, the
next decision cycle and the front end's position live in local variables and are written back
when it returns, so :class:`~archsim.hw.dram.controller.DramSystem` can carry on (the refreshes
after the last request, :meth:`advance`, :meth:`result`).

The timing state the loop reads and updates is a flat copy of the engine's
(:meth:`TimingEngine.flat_state <archsim.hw.dram.device.TimingEngine.flat_state>`), handed back
(``load_flat``) before any engine method reads it and when the loop returns.

This file is also compiled by Cython at install time (``setup.py``; :mod:`archsim.hw.dram.loop`
picks the build). The annotations (``t: cython.longlong``, ``q: list``, ``rt:
cython.longlong[::1]``) are the C types of that build; Python never evaluates the annotations of
local variables, so interpreted they cost nothing. ``if cython.compiled:`` picks the few
statements that differ: compiled, the timing state, the read-only burst columns, the scan tables'
integers, the plans and the tallies are C arrays and the timing update walks an integer table;
interpreted, they are Python lists and the update is a generated function. Values stay within 64
bits (cycles and ``INF`` = 2**62, addresses below 2**62).
"""

from __future__ import annotations

from array import array
from bisect import bisect_left, insort
from types import ModuleType
from typing import TYPE_CHECKING


def _no_cython() -> ModuleType:
    """Stands for Cython's ``cython`` module where Cython is not installed (a module: its
    attributes are the fastest to read interpreted)."""
    m = ModuleType("cython")
    m.compiled = False
    return m


try:  # C types for Cython's build (archsim/hw/dram/loop.py); interpreted, they are never evaluated
    import cython
except ImportError:
    cython = _no_cython()

if TYPE_CHECKING:
    from archsim.hw.dram.controller import DramSystem

NEVER = 1 << 62  # the controller's INF: no cycle


def run_one_channel(sysm: DramSystem) -> None:  # noqa: C901 - one loop on purpose (see the module docstring)
    """Process every request added to single-channel ``sysm`` until none is outstanding (the
    same steps as :meth:`DramSystem._step`)."""
    # constants (locals: C constants in the compiled build, where module globals are Python objects)
    INF: cython.longlong = NEVER
    ACTIVE: cython.Py_ssize_t = 0  # plan sources, as in archsim/hw/dram/controller.py
    PRIO: cython.Py_ssize_t = 1
    RW: cython.Py_ssize_t = 2
    ch = sysm.chans[0]
    e = ch.eng
    cfg = sysm.cfg
    b = sysm.b
    n: cython.longlong = b.n_requests
    # per burst / per request columns (the read-only ones), per command its properties, then the
    # command counts and row-buffer outcomes: C arrays compiled (the tallies are written back when
    # the loop returns), Python lists interpreted
    small = (ch.opens, ch.closes, ch.accesses, ch.bank_scope, ch.counts, ch.hits, ch.misses, ch.conflicts)
    if cython.compiled:
        arrays = sysm.column_arrays()
        cols = tuple(arrays[c] for c in ("bank", "row", "write", "rank", "bgf", "req", "first", "count", "arrival",
                                         "is_write")) + tuple(array("q", x) for x in small)
    else:
        cols = (b.bank, b.row, b.write, b.rank, sysm.bgf, b.req, b.first, b.count, b.arrival, b.is_write) + small
    bank_of: cython.longlong[::1] = cols[0]
    row_of: cython.longlong[::1] = cols[1]
    wr_of: cython.longlong[::1] = cols[2]
    rank_of: cython.longlong[::1] = cols[3]
    bgf: cython.longlong[::1] = cols[4]
    req_of: cython.longlong[::1] = cols[5]
    first: cython.longlong[::1] = cols[6]
    count: cython.longlong[::1] = cols[7]
    arrival: cython.longlong[::1] = cols[8]
    is_write: cython.longlong[::1] = cols[9]
    opens_c: cython.longlong[::1] = cols[10]
    closes_c: cython.longlong[::1] = cols[11]
    accesses_c: cython.longlong[::1] = cols[12]
    bscope_c: cython.longlong[::1] = cols[13]
    counts: cython.longlong[::1] = cols[14]
    hits: cython.longlong[::1] = cols[15]
    misses: cython.longlong[::1] = cols[16]
    conflicts: cython.longlong[::1] = cols[17]
    addr_of: list = b.addr
    # per burst, counted as a row hit / miss / conflict yet: compiled, a copy written back when the
    # loop returns (a view of the system's bytearray would outlive the call, held by the closures'
    # reference cycle until the garbage collector runs, and keep add() from growing it)
    stat_store = array("B", sysm.stat) if cython.compiled else sysm.stat
    stat: cython.uchar[::1] = stat_store
    arrive: list = sysm.burst_arrive
    burst_end: list = sysm.burst_end
    accept: list = sysm.accept
    done: list = sysm.done
    left: list = sysm._left
    completed: list = sysm.completed
    # the channel. The timing state is a flat copy of the engine's (TimingEngine.flat_state), a
    # list interpreted and a C array compiled, taken back by the engine (load_flat) before any of
    # its own methods reads it and when the loop returns; ``synced``: the engine's lists are current
    nbanks: cython.Py_ssize_t = e.nbanks
    rt_store, hf_store = e.flat_state()
    if cython.compiled:
        rt_store = array("q", rt_store)
        hf_store = array("q", hf_store or [0])
    rt: cython.longlong[::1] = rt_store
    hf: cython.longlong[::1] = hf_store
    synced: cython.bint = True
    # the timing updates of bank-scope commands: an integer table compiled (``update``), the
    # generated functions ``fupd[cmd][bank](rt, hf, now)`` interpreted
    fupd: list = None
    fstart: cython.longlong[::1]
    ftab: cython.longlong[::1]
    if cython.compiled:
        fstart, ftab = ch.ftab
    else:
        fupd = ch.fupd
    fo0: list = e.flat_off[0]
    fo1: list = e.flat_off[1]
    fo2: list = e.flat_off[2]
    fo3: list = e.flat_off[3]
    bank_group: list = e.bank_group
    open_row: list = e.open_row
    bank_rank: list = e.bank_rank
    rbuf, wbuf = ch.rbuf, ch.wbuf
    # the scan tables on the flat copy (FastChannel.flat_scan): every entry (interpreted), where
    # each (buffer, slot) starts, and apart the entries' candidate lists and integers (compiled)
    scan_all: list
    scan_lists: list
    scan_from: cython.longlong[::1]
    scan_ints: cython.longlong[::1]
    scan_all, scan_from, scan_lists, scan_ints = ch.flat_scan
    rbq: list = rbuf.bq
    wbq: list = wbuf.bq
    active: list = ch.active
    act_count: list = ch.act_count
    prio, wa = ch.prio, ch.write_addrs
    RD: cython.Py_ssize_t = ch.RD
    WR: cython.Py_ssize_t = ch.WR
    RDA: cython.Py_ssize_t = ch.RDA
    WRA: cython.Py_ssize_t = ch.WRA
    RDo = (fo0[RD], fo1[RD], fo2[RD], fo3[RD])
    WRo = (fo0[WR], fo1[WR], fo2[WR], fo3[WR])
    # the engine's background-energy bookkeeping (TimingEngine._bank_opened / _bank_closed, inlined)
    open_banks: list = e.open_banks
    open_since: list = e._open_since
    active_cycles: list = e.active_cycles
    closed: cython.bint = ch.closed
    cap: cython.longlong = ch.cap
    cap_count: list = ch.cap_count
    cap_injected: list = ch.cap_injected
    cap_pending = ch.cap_pending
    rl: cython.longlong = ch.rl
    wm_high: cython.double = ch.wm_high
    wm_low: cython.double = ch.wm_low
    rcap: cython.longlong = cfg.read_buffer_size
    wcap: cython.longlong = cfg.write_buffer_size
    limit: cython.longlong = cfg.accepts_per_cycle
    record: cython.bint = sysm.record
    nslots: cython.Py_ssize_t = len(ch.slots)
    dual: cython.bint = ch.dual
    slots = ch.slots
    bus = ch.bus
    # the plan of each command slot k (FastChannel.cache, flat): pl[6k:6k + 6] = (state version,
    # cycle, source, burst, command, bank), version -1 for none
    pl_store = [-1] * (6 * nslots)
    for k, c in enumerate(ch.cache[:nslots]):
        if c is not None:
            pl_store[6 * k:6 * k + 6] = c
    if cython.compiled:
        pl_store = array("q", pl_store)
    pl: cython.longlong[::1] = pl_store
    # scalars the loop owns (written back at the end)
    rsize: cython.longlong = rbuf.size
    wsize: cython.longlong = wbuf.size
    write_mode: cython.bint = ch.write_mode
    ver: cython.longlong = ch.ver
    nxt: cython.longlong = sysm.nxt
    fe_next: cython.longlong = sysm.fe_next
    next_time: cython.longlong = ch.next_time
    freed: cython.bint = False
    forwarded: cython.longlong = sysm.forwarded
    coalesced: cython.longlong = sysm.coalesced
    max_read_end: cython.longlong = sysm.max_read_end
    max_write_end: cython.longlong = sysm.max_write_end
    next_ref: cython.longlong = ch.next_ref
    next_refpb: cython.longlong = ch.next_refpb
    now: cython.longlong = sysm.now
    fe_taken: cython.longlong = 0
    hit_issues: cython.longlong = 0

    def update(cmd: cython.Py_ssize_t, bk: cython.Py_ssize_t, now: cython.longlong):
        """Bank-scope ``cmd``'s timing update at ``bk`` on the flat copy, from the integer table
        (``FastChannel.ftab``; the compiled build only)."""
        p: cython.Py_ssize_t = fstart[cmd * nbanks + bk]
        end: cython.Py_ssize_t
        groups: cython.Py_ssize_t
        h: cython.Py_ssize_t
        x: cython.Py_ssize_t
        pos: cython.Py_ssize_t
        v: cython.longlong
        end = p + 1 + 2 * ftab[p]
        p += 1
        while p < end:
            pos = ftab[p]
            v = now + ftab[p + 1]
            p += 2
            if rt[pos] < v:
                rt[pos] = v
        groups = ftab[p]
        p += 1
        while groups:
            groups -= 1
            h = ftab[p]
            for x in range(h + ftab[p + 1] - 1, h, -1):
                hf[x] = hf[x - 1]
            hf[h] = now
            end = p + 3 + 3 * ftab[p + 2]
            p += 3
            while p < end:
                pos = ftab[p]
                v = hf[h + ftab[p + 2] - 1]
                if v >= 0:
                    v += ftab[p + 1]
                    if rt[pos] < v:
                        rt[pos] = v
                p += 3

    def ready_at(cmd: cython.Py_ssize_t, bk: cython.Py_ssize_t) -> cython.longlong:
        """:meth:`TimingEngine.ready_time` on the flat copy."""
        t: cython.longlong = rt[fo0[cmd]]
        v: cython.longlong = rt[fo1[cmd] + bank_rank[bk]]
        if v > t:
            t = v
        v = rt[fo2[cmd] + bank_group[bk]]
        if v > t:
            t = v
        v = rt[fo3[cmd] + bk]
        return v if v > t else t

    def recompute(buf, bk: cython.Py_ssize_t):
        """:meth:`FastChannel._recompute`. A bank with an empty queue has no candidates, so
        callers skip a buffer whose queue at ``bk`` is empty and was not changed by the issue."""
        q: list = buf.bq[bk]
        cd: list = buf.cand[bk]
        lst: list
        lists: list
        a: cython.Py_ssize_t = -1
        p: cython.Py_ssize_t = -1
        h: cython.Py_ssize_t = -1
        o: cython.Py_ssize_t
        x: cython.Py_ssize_t
        r: cython.Py_ssize_t
        old: cython.Py_ssize_t
        nhit: cython.Py_ssize_t
        if q:
            o = open_row[bk]
            if o < 0:
                a = q[0]
            else:
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
                if nhit < len(q) and not act_count[bk]:
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
        r = bank_rank[bk]
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

    def put(k: cython.Py_ssize_t, t: cython.longlong, src: cython.Py_ssize_t, j: cython.Py_ssize_t,
            cmd: cython.Py_ssize_t, bk: cython.Py_ssize_t) -> cython.longlong:
        """Slot ``k``'s plan: ``cmd`` from ``src`` (burst ``j``, bank ``bk``) at cycle ``t``."""
        b6: cython.Py_ssize_t = 6 * k
        pl[b6] = ver
        pl[b6 + 1] = t
        pl[b6 + 2] = src
        pl[b6 + 3] = j
        pl[b6 + 4] = cmd
        pl[b6 + 5] = bk
        return t

    act_j: cython.Py_ssize_t = -1

    def best_active(now: cython.longlong) -> cython.longlong:
        """The cycle of the active buffer's FR-FCFS choice from cycle ``now`` on (the earliest its
        RD / WR may issue, then the oldest arrival; ``INF`` if empty); the burst goes to ``act_j``
        (-1 if empty)."""
        nonlocal act_j
        at: cython.longlong = INF
        aa: cython.longlong = INF
        aj: cython.Py_ssize_t = -1
        t: cython.longlong
        v: cython.longlong
        r_: cython.longlong
        j: cython.Py_ssize_t
        o0: cython.Py_ssize_t
        o1: cython.Py_ssize_t
        o2: cython.Py_ssize_t
        o3: cython.Py_ssize_t
        for j in active:
            o0, o1, o2, o3 = WRo if wr_of[j] else RDo
            t = rt[o0]
            v = rt[o1 + rank_of[j]]
            if v > t:
                t = v
            v = rt[o2 + bgf[j]]
            if v > t:
                t = v
            v = rt[o3 + bank_of[j]]
            if v > t:
                t = v
            if t < now:
                t = now
            if t > at:
                continue
            r_ = arrive[j]
            if t < at or r_ < aa:
                at, aa, aj = t, r_, j
        act_j = aj
        return at

    def scan(k: cython.Py_ssize_t, now: cython.longlong):
        """:meth:`FastChannel._scan`: the plan of slot ``k`` from cycle ``now`` on (:func:`put`)."""
        nonlocal write_mode, ver, synced
        at: cython.longlong = INF
        aj: cython.Py_ssize_t = -1
        ac: cython.Py_ssize_t = -1
        ab: cython.Py_ssize_t = -1
        x: cython.longlong
        t: cython.longlong
        v: cython.longlong
        best_t: cython.longlong
        best_j: cython.longlong
        best_c: cython.Py_ssize_t
        best_b: cython.Py_ssize_t
        j: cython.Py_ssize_t
        bk: cython.Py_ssize_t
        cmd: cython.Py_ssize_t
        lst: list
        ei: cython.Py_ssize_t
        o0: cython.Py_ssize_t
        o1: cython.Py_ssize_t
        o2: cython.Py_ssize_t
        o3: cython.Py_ssize_t
        if k == 0 and active:
            at = best_active(now)
            aj = act_j
            if aj >= 0:
                ac = WR if wr_of[aj] else RD
                ab = bank_of[aj]
            if at == now:
                return put(k, now, ACTIVE, aj, ac, ab)
        if prio:
            final, pb = prio[0]
            c = ch._preq_prio(final, pb)
            pt = INF
            if (not dual or bus[c] == slots[k]) and not ch._closes_active(c, pb):
                if bscope_c[c]:
                    pt = ready_at(c, pb)
                else:
                    if not synced:
                        e.load_flat(rt_store, hf_store)
                        synced = True
                    pt = e.target_ready(c, pb)
                if pt < now:
                    pt = now
            if at <= pt:
                return put(k, at, ACTIVE, aj, ac, ab)
            return put(k, pt, PRIO, -1, c, pb)
        if not write_mode:
            if wsize > wm_high or rsize == 0:
                write_mode = True
                ver += 1
        elif wsize < wm_low and rsize != 0:
            write_mode = False
            ver += 1
        best_t, best_j, best_c, best_b = INF, INF, -1, -1
        e0: cython.Py_ssize_t = 0
        e1: cython.Py_ssize_t = 0
        if write_mode:
            if wsize:
                e0, e1 = scan_from[nslots + k], scan_from[nslots + k + 1]
        elif rsize:
            e0, e1 = scan_from[k], scan_from[k + 1]
        for ei in range(e0, e1):
            if cython.compiled:
                lst = scan_lists[ei]
                if not lst:
                    continue
                o0, o1, o2, o3, cmd = (scan_ints[5 * ei], scan_ints[5 * ei + 1], scan_ints[5 * ei + 2],
                                       scan_ints[5 * ei + 3], scan_ints[5 * ei + 4])
            else:
                lst, o0, o1, o2, o3, cmd = scan_all[ei]
                if not lst:
                    continue
            x = rt[o0]
            v = rt[o1]
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
                t = rt[o2 + bgf[j]]
                v = rt[o3 + bk]
                if v > t:
                    t = v
                if t <= x:
                    best_t, best_j, best_c, best_b = x, j, cmd, bk
                    break
                if t < best_t or (t == best_t and j < best_j):
                    best_t, best_j, best_c, best_b = t, j, cmd, bk
        if at <= best_t:
            return put(k, at, ACTIVE, aj, ac, ab)
        return put(k, best_t, RW, best_j, best_c, best_b)

    def retire(j: cython.Py_ssize_t, cycle: cython.longlong):
        """:meth:`DramSystem.burst_done`."""
        nonlocal max_read_end, max_write_end
        r: cython.Py_ssize_t
        m: cython.Py_ssize_t
        f: cython.Py_ssize_t
        k: cython.Py_ssize_t
        burst_end[j] = cycle
        if wr_of[j]:
            if cycle >= max_write_end:
                max_write_end = cycle + 1
        elif cycle > max_read_end:
            max_read_end = cycle
        r = req_of[j]
        m = left[r] - 1
        left[r] = m
        if m == 0:
            f = first[r]
            k = count[r]
            if k == 1:
                done[r] = cycle
            else:
                done[r] = max(burst_end[f:f + k])
            completed.append(r)

    def dequeue(j: cython.Py_ssize_t, bk: cython.Py_ssize_t, row: cython.Py_ssize_t, w: cython.bint):
        """:meth:`FastChannel._remove`: burst ``j`` leaves its read or write buffer (once per
        burst, when its ACT or its final command issues); returns that buffer."""
        nonlocal rsize, wsize, freed
        m: cython.Py_ssize_t
        buf = wbuf if w else rbuf
        q: list = buf.bq[bk]
        if q[0] == j:
            del q[0]
        else:
            q.remove(j)
        rc = buf.rows[bk]
        m = rc[row] - 1
        if m:
            rc[row] = m
        else:
            del rc[row]
        if w:
            wsize -= 1
            wa.discard(addr_of[j])
        else:
            rsize -= 1
        freed = True
        return buf

    def issue(src: cython.Py_ssize_t, j: cython.Py_ssize_t, cmd: cython.Py_ssize_t, bk: cython.Py_ssize_t,
              now: cython.longlong):
        """:meth:`FastChannel._issue`."""
        nonlocal ver, synced
        final: cython.Py_ssize_t
        row: cython.Py_ssize_t
        up: cython.Py_ssize_t
        o: cython.Py_ssize_t
        x: cython.Py_ssize_t
        w: cython.bint
        opens: cython.bint
        closes: cython.bint
        bank_scope: cython.bint
        if src == PRIO:
            final = prio[0][0]
            row = -1
            w = False
        else:
            w = wr_of[j]
            row = row_of[j]
            final = WR if w else RD
            if closed and cap_count[bk] >= cap and cmd == final and act_count[bk] == (1 if src == ACTIVE else 0):
                up = WRA if w else RDA
                if ready_at(up, bk) <= now:
                    cmd = final = up
            if not stat[j]:
                stat[j] = 1
                o = open_row[bk]
                if o == row:
                    hits[w] += 1
                elif o >= 0:
                    conflicts[w] += 1
                else:
                    misses[w] += 1
        opens = opens_c[cmd]
        closes = closes_c[cmd]
        bank_scope = bscope_c[cmd]
        if bank_scope:
            if cython.compiled:
                update(cmd, bk, now)
            else:
                fupd[cmd][bk](rt, hf, now)
            synced = False
            if opens:
                if open_row[bk] < 0:
                    x = bank_rank[bk]
                    if not open_banks[x]:
                        open_since[x] = now
                    open_banks[x] += 1
                open_row[bk] = row
            elif closes:
                if open_row[bk] >= 0:
                    x = bank_rank[bk]
                    open_banks[x] -= 1
                    if not open_banks[x]:
                        active_cycles[x] += now - open_since[x]
                open_row[bk] = -1
        else:
            if not synced:
                e.load_flat(rt_store, hf_store)
            e.issue(cmd, bk, now, row)
            rv, hv = e.flat_state()
            rt_store[:] = array("q", rv) if cython.compiled else rv
            hf_store[:len(hv)] = array("q", hv) if cython.compiled else hv
            synced = True
        counts[cmd] += 1
        ver += 1
        if closed:
            if closes:
                for x in e.banks_of(cmd, bk):
                    cap_count[x] = 0
                    cap_injected[x] = False
                    cap_pending.discard(x)
            elif accesses_c[cmd]:
                cap_count[bk] += 1
                if cap_count[bk] >= cap and not cap_injected[bk]:
                    cap_pending.add(bk)
        if record:
            ch._record(cmd, bk, now, row)
        if cmd == final:
            if src == PRIO:
                prio.popleft()
            elif src == ACTIVE:
                active.remove(j)
                act_count[bk] -= 1
                if not act_count[bk] or closes:
                    if rbq[bk]:
                        recompute(rbuf, bk)
                    if wbq[bk]:
                        recompute(wbuf, bk)
                retire(j, now if w else now + rl)
                return
            else:
                buf = dequeue(j, bk, row, w)
                if closes:
                    if rbq[bk] or not w:
                        recompute(rbuf, bk)
                    if wbq[bk] or w:
                        recompute(wbuf, bk)
                else:
                    recompute(buf, bk)
                retire(j, now if w else now + rl)
                return
        elif opens and src != PRIO:
            if src == RW:
                dequeue(j, bk, row, w)
            active.append(j)
            act_count[bk] += 1
        if opens or closes:
            if bank_scope:
                if rbq[bk] or (src == RW and not w):
                    recompute(rbuf, bk)
                if wbq[bk] or (src == RW and w):
                    recompute(wbuf, bk)
            else:
                for x in e.banks_of(cmd, bk):
                    recompute(rbuf, x)
                    recompute(wbuf, x)

    nranks = ch.nranks

    def hit_run():
        """Row-hit streaming: while every queued request of the current buffer is a hit to its
        bank's open row (no ACT or PRE candidate), the priority buffer is empty, the other buffer
        is empty and no refresh is due, the only decision is which active request or which
        bank's oldest hit issues its RD / WR next, and the write mode cannot change while the
        current buffer is not empty (see the caller). This replays those cycles with that
        decision alone: the same front-end steps, issues and bookkeeping as the general loop, and
        returns as soon as anything else could happen (before it happens), with ``next_time`` set
        so the general loop takes over exactly. The one write-mode change it makes itself is the
        reference's in the cycle that empties the read buffer: on a dual command bus the row slot
        evaluates the mode after the column slot's last RD of that cycle."""
        nonlocal now, next_time, fe_next, nxt, rsize, wsize, ver, freed, coalesced, fe_taken, hit_issues, write_mode, \
            synced
        cw: cython.bint
        fin: cython.Py_ssize_t
        stop: cython.longlong
        nt: cython.longlong
        plan: cython.bint
        T: cython.longlong
        J: cython.longlong
        BK: cython.Py_ssize_t
        at: cython.longlong
        aj: cython.Py_ssize_t
        ch0: cython.longlong
        x: cython.longlong
        t: cython.longlong
        v: cython.longlong
        c: cython.longlong
        a: cython.longlong
        r: cython.Py_ssize_t
        j: cython.Py_ssize_t
        bk: cython.Py_ssize_t
        f: cython.Py_ssize_t
        k: cython.Py_ssize_t
        m: cython.Py_ssize_t
        row: cython.Py_ssize_t
        cmd: cython.Py_ssize_t
        taken: cython.longlong
        need: cython.longlong
        w: cython.bint
        blocked: cython.bint
        handoff: cython.bint
        bq: list
        rows: list
        cand: list
        hl: list
        lst: list
        q: list
        o0: cython.Py_ssize_t
        o1: cython.Py_ssize_t
        o2: cython.Py_ssize_t
        o3: cython.Py_ssize_t
        if write_mode:
            buf, fin, cw = wbuf, WR, True
        else:
            buf, fin, cw = rbuf, RD, False
        bq, rows, cand, hl = buf.bq, buf.rows, buf.cand, buf.lists[2]
        o0, o1, o2, o3 = (fo0[fin], fo1[fin], fo2[fin], fo3[fin])
        fupd_f = None if cython.compiled else fupd[fin]
        stop = next_ref if next_ref < next_refpb else next_refpb
        nt = next_time
        plan = True
        T = J = BK = 0
        while True:
            if plan:
                # the active buffer first (its requests' rows are open: they wait for their RD /
                # WR only), then FR-FCFS over the hit candidates, as the general scan does both
                if active:
                    at = best_active(nt)
                    aj = act_j
                else:
                    at, aj = INF, -1
                T, J = INF, INF
                ch0 = rt[o0]
                for r in range(nranks):
                    lst = hl[r]
                    if not lst:
                        continue
                    x = rt[o1 + r]
                    if ch0 > x:
                        x = ch0
                    if nt > x:
                        x = nt
                    if x > T:
                        continue
                    for j in lst:
                        if x == T and j > J:
                            break
                        bk = bank_of[j]
                        t = rt[o2 + bgf[j]]
                        v = rt[o3 + bk]
                        if v > t:
                            t = v
                        if t <= x:
                            T, J, BK = x, j, bk
                            break
                        if t < T or (t == T and j < J):
                            T, J, BK = t, j, bk
                if at <= T:
                    T, J, BK = at, aj, -1
                plan = False
            if fe_next <= T:
                # the front end runs first in its cycle; a request that would break the invariant
                # is left to the general front end, which carries on in the same cycle
                c = fe_next
                if c >= stop:
                    break
                taken = fe_taken
                blocked = handoff = False
                while taken < limit and nxt < n and arrival[nxt] <= c:
                    r = nxt
                    if is_write[r] != cw:
                        handoff = True
                        break
                    f = first[r]
                    k = count[r]
                    if k == 1:
                        if addr_of[f] not in wa and (wcap - wsize if cw else rcap - rsize) < 1:
                            blocked = True
                            break
                    else:
                        need = k - sum(1 for j in range(f, f + k) if addr_of[j] in wa) if wa else k
                        if (wcap - wsize if cw else rcap - rsize) < need:
                            blocked = True
                            break
                    for j in range(f, f + k):
                        if row_of[j] != open_row[bank_of[j]] and not (cw and addr_of[j] in wa):
                            handoff = True
                            break
                    if handoff:
                        break
                    now = c
                    for j in range(f, f + k):
                        arrive[j] = c
                        a = addr_of[j]
                        if a in wa:  # (write mode only: the read buffer has no writes to forward)
                            coalesced += 1
                            retire(j, c)
                            continue
                        bk = bank_of[j]
                        row = row_of[j]
                        if cw:
                            wa.add(a)
                            wsize += 1
                        else:
                            rsize += 1
                        bq[bk].append(j)
                        rc = rows[bk]
                        rc[row] = rc.get(row, 0) + 1
                        cd = cand[bk]
                        if cd[2] < 0:
                            cd[2] = j
                            hl[bank_rank[bk]].append(j)
                            plan = True
                        ver += 1
                        next_time = nt = c
                    accept[r] = c
                    nxt = r + 1
                    taken += 1
                if handoff:
                    fe_taken = taken
                    break
                fe_taken = 0
                if blocked or nxt >= n:
                    fe_next = INF
                elif taken >= limit or arrival[nxt] <= c:
                    fe_next = c + 1
                else:
                    fe_next = arrival[nxt]
                continue
            # the issue at T
            if T >= stop:
                break
            now = T
            j = J
            hit_issues += 1
            if BK < 0:
                # an active request's RD / WR (it was counted when its ACT issued)
                bk = bank_of[j]
                w = wr_of[j]
                cmd = WR if w else RD
                if cython.compiled:
                    update(cmd, bk, T)
                else:
                    fupd[cmd][bk](rt, hf, T)
                synced = False
                counts[cmd] += 1
                if record:
                    ch._record(cmd, bk, T, row_of[j])
                active.remove(j)
                act_count[bk] -= 1  # (no candidate changes: the bank's queue holds hits only)
                retire(j, T if w else T + rl)
                ver += 1
                next_time = nt = T + 1
                plan = True
                continue
            bk = BK
            row = row_of[j]
            if not stat[j]:
                stat[j] = 1
                hits[cw] += 1
            if cython.compiled:
                update(fin, bk, T)
            else:
                fupd_f[bk](rt, hf, T)
            synced = False
            counts[fin] += 1
            if record:
                ch._record(fin, bk, T, row)
            q = bq[bk]
            del q[0]
            rc = rows[bk]
            m = rc[row] - 1
            if m:
                rc[row] = m
            else:
                del rc[row]
            lst = hl[bank_rank[bk]]
            del lst[bisect_left(lst, j)]
            if q:
                x = q[0]
                cand[bk][2] = x
                insort(lst, x)
            else:
                cand[bk][2] = -1
            if cw:
                wsize -= 1
                wa.discard(addr_of[j])
                retire(j, T)
            else:
                rsize -= 1
                retire(j, T + rl)
            ver += 1
            freed = True
            next_time = nt = T + 1
            if nxt < n:
                if fe_next == INF:
                    a = arrival[nxt]
                    fe_next = a if a > nt else nt
            if not (rsize if not cw else wsize):
                # the buffer is empty (and so is the other one). On a dual command bus the row
                # slot of this same cycle reaches the read/write buffers after this issue and
                # evaluates the write mode: an empty read buffer turns it on (the reference does
                # this at T, before the front end of T + 1 can queue more reads)
                if dual and not cw:
                    write_mode = True
                    ver += 1
                # the general loop's end test
                return nxt >= n and not active
            plan = True
        return False

    hit_ok: cython.bint = not closed
    # the ACT and PRE candidate lists of every rank, per buffer (the lists change in place)
    r_actpre = rbuf.lists[0] + rbuf.lists[1]
    w_actpre = wbuf.lists[0] + wbuf.lists[1]
    slot_ids = tuple(range(nslots))
    hit_ver: cython.longlong = -1
    # the main loop's own variables
    taken: cython.longlong
    blocked: cython.bint
    issued: cython.bint
    w: cython.bint
    r: cython.Py_ssize_t
    f: cython.Py_ssize_t
    k: cython.Py_ssize_t
    j: cython.Py_ssize_t
    bk: cython.Py_ssize_t
    row: cython.Py_ssize_t
    kind: cython.Py_ssize_t
    b6: cython.Py_ssize_t
    o: cython.Py_ssize_t
    a: cython.longlong
    t: cython.longlong
    nt: cython.longlong
    need: cython.longlong
    try:
        while True:
            # (the test below reads only state whose every change bumps ``ver``: once false, it
            # stays false until ``ver`` changes)
            if hit_ok and hit_ver != ver:
                hit_ver = ver
                if not prio and (wsize == 0 < rsize if not write_mode else rsize == 0 < wsize):
                    # every queued request a row hit? No ACT / PRE candidate in the current buffer,
                    # and the banks of active requests (which have no PRE candidate) queue hits only
                    hb = wbuf if write_mode else rbuf
                    if not any(w_actpre if write_mode else r_actpre):
                        for j in active:
                            bk = bank_of[j]
                            q = hb.bq[bk]
                            if q and hb.rows[bk].get(open_row[bk], 0) != len(q):
                                break
                        else:
                            hit_ver = -1
                            if hit_run():
                                return
            if fe_next <= next_time:
                if fe_next >= INF:
                    return
                now = fe_next
                # -- the front end (DramSystem._front_end, one channel) --------------------------
                taken = fe_taken  # requests hit_run() took in this cycle before handing it over
                fe_taken = 0
                blocked = False
                while taken < limit and nxt < n and arrival[nxt] <= now:
                    r = nxt
                    f = first[r]
                    k = count[r]
                    w = is_write[r]
                    if k == 1:
                        if addr_of[f] not in wa and (wcap - wsize if w else rcap - rsize) < 1:
                            blocked = True
                            break
                    else:
                        need = k - sum(1 for j in range(f, f + k) if addr_of[j] in wa) if wa else k
                        if (wcap - wsize if w else rcap - rsize) < need:
                            blocked = True
                            break
                    for j in range(f, f + k):
                        arrive[j] = now
                        a = addr_of[j]
                        if a in wa:
                            if w:
                                coalesced += 1
                                retire(j, now)
                            else:
                                forwarded += 1
                                retire(j, now + 1)
                            continue
                        # FastChannel.enqueue
                        bk = bank_of[j]
                        row = row_of[j]
                        if w:
                            buf = wbuf
                            wa.add(a)
                            wsize += 1
                        else:
                            buf = rbuf
                            rsize += 1
                        buf.bq[bk].append(j)
                        rc = buf.rows[bk]
                        rc[row] = rc.get(row, 0) + 1
                        o = open_row[bk]
                        if o < 0:
                            kind = 0
                        elif o == row:
                            kind = 2
                        elif act_count[bk]:
                            kind = -1
                        else:
                            kind = 1
                        if kind >= 0:
                            cd = buf.cand[bk]
                            if cd[kind] < 0:
                                cd[kind] = j
                                buf.lists[kind][bank_rank[bk]].append(j)
                        ver += 1
                        next_time = now
                    accept[r] = now
                    nxt = r + 1
                    taken += 1
                if blocked or nxt >= n:
                    fe_next = INF
                elif taken >= limit or arrival[nxt] <= now:
                    fe_next = now + 1
                else:
                    fe_next = arrival[nxt]
                if next_time > now:
                    if nxt >= n and not (rsize or wsize or active):
                        return  # the last requests were forwarded or merged: nothing left to run
                    continue
            else:
                now = next_time
            # -- the channel (FastChannel.tick) ----------------------------------------------------
            freed = False
            if now == next_ref or now == next_refpb or cap_pending:
                ch.ver = ver
                if not synced:
                    e.load_flat(rt_store, hf_store)
                    synced = True
                ch._maintenance(now)
                ver = ch.ver
                next_ref, next_refpb = ch.next_ref, ch.next_refpb
            while True:
                issued = False
                nt = INF
                for k in slot_ids:
                    b6 = 6 * k
                    if pl[b6] == ver and now <= pl[b6 + 1]:
                        t = pl[b6 + 1]
                    else:
                        t = scan(k, now)
                    if t == now:
                        issue(pl[b6 + 2], pl[b6 + 3], pl[b6 + 4], pl[b6 + 5], now)
                        issued = True
                    elif t < nt:
                        nt = t
                if issued:
                    next_time = now + 1
                    break
                if next_ref < nt:
                    nt = next_ref
                if next_refpb < nt:
                    nt = next_refpb
                for bk in cap_pending:
                    t = ready_at(ch.PRE, bk)
                    if t < nt:
                        nt = max(t, now + 1)
                next_time = nt
                # nothing issued: when nothing else happens before ``nt`` either (no front-end step,
                # refresh or closed-page PRE due, the row-hit test unchanged), cycle ``nt`` starts
                # straight with its (cached) issue, as the next loop pass would
                if (nt >= fe_next or nt >= next_ref or nt >= next_refpb or cap_pending
                        or (hit_ok and hit_ver != ver) or (nxt >= n and not (rsize or wsize or active))):
                    break
                now = nt
            if nxt < n:
                if freed and fe_next == INF:
                    a = arrival[nxt]
                    fe_next = a if a > now + 1 else now + 1
            elif not (rsize or wsize or active):
                return
    finally:
        if not synced:
            e.load_flat(rt_store, hf_store)
        if cython.compiled:
            sysm.stat[:] = stat_store
        for x, y in zip((ch.counts, ch.hits, ch.misses, ch.conflicts), cols[14:]):
            x[:] = y
        for k in range(nslots):
            ch.cache[k] = tuple(pl_store[6 * k:6 * k + 6]) if pl_store[6 * k] >= 0 else None
        rbuf.size, wbuf.size = rsize, wsize
        ch.write_mode = write_mode
        ch.ver = ver
        ch.next_time = next_time
        ch.freed = freed
        sysm.nxt = nxt
        sysm.fe_next = fe_next
        sysm.now = now
        sysm.forwarded, sysm.coalesced = forwarded, coalesced
        sysm.max_read_end, sysm.max_write_end = max_read_end, max_write_end
        sysm.hit_run_issues += hit_issues
