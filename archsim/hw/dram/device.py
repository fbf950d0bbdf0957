"""The bank-state timing engine of one DRAM channel: earliest legal issue time of every command.

State, in flat Python lists (no per-cycle work):

* ``ready[level][cmd][node]``: the earliest cycle ``cmd`` may issue to ``node`` of ``level``
  (channel, rank/pseudo-channel, bank group, bank); a command may issue to a bank at
  ``max`` over the four nodes on its path (every bank of the rank for a rank-scope command)
* ``history``: the last issue times of commands that have windowed constraints (tFAW)
* ``open_row[bank]``: the open row, -1 when precharged

Issuing a command applies every constraint whose ``prev`` is that command to the target nodes (and
its sibling constraints to the other nodes under the same parent), exactly as Ramulator 2's
``DRAMNode::update_timing`` walks its device tree (``src/ramulator/dram/node.cpp``), and then the
command's row action. The engine knows nothing about requests or scheduling; a controller asks
:meth:`ready_time` and calls :meth:`issue`. New command types only need a row in the
:class:`~archsim.hw.dram.timing.TimingTable`.
"""

from __future__ import annotations

from archsim.hw.dram.standard import DramStandard
from archsim.hw.dram.timing import BANK, BANKGROUP, CHANNEL, RANK, TimingTable, build_table

NONE = -1  # "no constraint yet" (cycles start at 0)


class TimingEngine:
    """Timing and row-buffer state of one channel of ``standard`` (see the module docstring)."""

    def __init__(self, standard: DramStandard, table: TimingTable | None = None):
        self.standard = standard
        self.table = table or build_table(standard)
        s = standard
        self.R, self.G, self.B = s.ranks, s.bankgroups, s.banks_per_group
        self.nbanks = self.R * self.G * self.B
        nodes = (1, self.R, self.R * self.G, self.nbanks)
        self.ncmd = len(self.table.commands)
        nc = self.ncmd
        idx = self.table.names
        best: dict[tuple, int] = {}
        for con in self.table.constraints:
            p, n = idx[con.prev[0]], idx[con.next[0]]
            key = (p, con.level, n, con.window, con.sibling)
            best[key] = max(best.get(key, con.latency), con.latency)
        # commands constrained identically (RD and RDA, WR and WRA) share their ready lists: one
        # update serves both and the engine stays equal to applying each constraint separately
        sig: dict[int, tuple] = {n: () for n in range(nc)}
        for (p, lv, n, w, sib), lat in sorted(best.items()):
            sig[n] += ((p, lv, w, sib, lat),)
        rep: dict[tuple, int] = {}
        self.alias = [rep.setdefault(sig[n], n) for n in range(nc)]
        #: ready[level][cmd] -> list over the level's nodes (aliased commands share one list)
        self.ready = [[None] * nc for _ in range(4)]
        for lv in range(4):
            for c in range(nc):
                a = self.alias[c]
                if self.ready[lv][a] is None:
                    self.ready[lv][a] = [NONE] * nodes[lv]
                self.ready[lv][c] = self.ready[lv][a]
        self.bank_rank = [b // (self.G * self.B) for b in range(self.nbanks)]
        self.bank_group = [b // self.B for b in range(self.nbanks)]  # flat bank-group index
        self.open_row = [-1] * self.nbanks
        self.scope = [c.scope for c in self.table.commands]
        self.opens = [c.opens for c in self.table.commands]
        self.closes = [c.closes for c in self.table.commands]
        # compiled constraints: per command, per level, (next, latency) lists
        self.upd: list[list[list[tuple[int, int]]]] = [[[] for _ in range(4)] for _ in range(nc)]
        self.sib: list[list[list[tuple[int, int]]]] = [[[] for _ in range(4)] for _ in range(nc)]
        self.win: list[list[list[tuple[int, int, int]]]] = [[[] for _ in range(4)] for _ in range(nc)]
        merged: dict[tuple, int] = {}
        for (p, lv, n, w, sib), lat in best.items():
            key = (p, lv, self.alias[n], w, sib)
            merged[key] = max(merged.get(key, lat), lat)
        for (p, lv, n, w, sib), lat in sorted(merged.items()):
            if sib:
                self.sib[p][lv].append((n, lat))
            elif w > 1:
                self.win[p][lv].append((n, lat, w))
            else:
                self.upd[p][lv].append((n, lat))
        # issue histories for windowed constraints: hist[level][cmd][node] = recent times, newest first
        self.hist: list[dict[int, list[list[int]]]] = [{} for _ in range(4)]
        for c in range(nc):
            for lv in range(4):
                if self.win[c][lv]:
                    w = max(x[2] for x in self.win[c][lv])
                    self.hist[lv][c] = [[NONE] * w for _ in range(nodes[lv])]
        # the fast path for bank-scope commands: flat op lists and each bank's path / siblings
        G, B, R = self.G, self.B, self.R
        self._path = [(0, self.bank_rank[b], self.bank_group[b], b) for b in range(self.nbanks)]
        self._sibs = [[(), [x for x in range(R) if x != self.bank_rank[b]],
                       [x for x in range(self.bank_rank[b] * G, (self.bank_rank[b] + 1) * G) if x != self.bank_group[b]],
                       [x for x in range(self.bank_group[b] * B, (self.bank_group[b] + 1) * B) if x != b]]
                      for b in range(self.nbanks)]
        self._ops = [[(lv, self.ready[lv][n], lat) for lv in range(4) for n, lat in self.upd[c][lv]] for c in range(nc)]
        self._sops = [[(lv, self.ready[lv][n], lat) for lv in range(4) for n, lat in self.sib[c][lv]]
                      for c in range(nc)]
        self._wops = [[(lv, self.hist[lv][c], [(self.ready[lv][n], lat, w) for n, lat, w in self.win[c][lv]])
                       for lv in range(4) if self.win[c][lv]] for c in range(nc)]
        self._flat_layout()
        # background-energy bookkeeping: banks open per rank and cycles with any bank open
        self.open_banks = [0] * self.R
        self._open_since = [0] * self.R
        self.active_cycles = [0] * self.R

    # -- the flat copy (the replay loop's working state, archsim/hw/dram/_fastloop.py) -------------
    def _flat_layout(self) -> None:
        """Where each ready list and each history list sits in one flat array: ``ready[lv][c][node]``
        at ``flat_off[lv][c] + node`` (aliased commands share a block), the ``w`` recent issue
        times of ``hist[lv][c][node]``, newest first, from ``hist_off[lv][c] + node * w``."""
        blocks: dict[int, int] = {}
        self.flat_off = [[0] * self.ncmd for _ in range(4)]
        self._flat_blocks: list[tuple[list[int], int]] = []
        size = 0
        for lv in range(4):
            for c in range(self.ncmd):
                lst = self.ready[lv][c]
                if id(lst) not in blocks:
                    blocks[id(lst)] = size
                    self._flat_blocks.append((lst, size))
                    size += len(lst)
                self.flat_off[lv][c] = blocks[id(lst)]
        self.flat_size = size
        self.hist_off: list[dict[int, int]] = [{} for _ in range(4)]
        self._hist_blocks: list[tuple[list[int], int]] = []
        size = 0
        for lv in range(4):
            for c, nodes in self.hist[lv].items():
                self.hist_off[lv][c] = size
                for hn in nodes:
                    self._hist_blocks.append((hn, size))
                    size += len(hn)
        self.hist_size = size

    def flat_state(self) -> tuple[list[int], list[int]]:
        """The ready times and the issue histories, each as one flat list (:meth:`_flat_layout`)."""
        return ([v for lst, _ in self._flat_blocks for v in lst],
                [v for hn, _ in self._hist_blocks for v in hn])

    def load_flat(self, rt, hf) -> None:
        """Take the state back from flat copies ``rt`` and ``hf`` (sequences laid out as
        :meth:`flat_state`'s lists; the engine's lists are updated in place)."""
        for lst, o in self._flat_blocks:
            lst[:] = rt[o:o + len(lst)]
        for hn, o in self._hist_blocks:
            hn[:] = hf[o:o + len(hn)]

    def flat_where(self) -> tuple[dict[int, tuple[list[int], int]], dict[int, list[int]]]:
        """Where flat positions live in the engine's own lists: ``({ready position: (ready list,
        node)}, {history position of a node's block: that node's history list})``."""
        ready = {o + i: (lst, i) for lst, o in self._flat_blocks for i in range(len(lst))}
        return ready, {o: hn for hn, o in self._hist_blocks}

    def flat_update(self, cmd: int, bank: int) -> tuple[tuple, tuple]:
        """:meth:`issue`'s timing update of bank-scope ``cmd`` at ``bank`` on the flat copy:
        ``(ops, wops)``, ``ops`` = ``(position, latency)`` max-updates (``rt[p] = max(rt[p], now +
        latency)``), ``wops`` = ``(history position, depth, ((position, latency, window), ...))``
        (shift ``now`` into the history, then ``rt[p] = max(rt[p], h[window - 1] + latency)`` where
        that entry is set)."""
        path, sibs, fo = self._path[bank], self._sibs[bank], self.flat_off
        ops: list[tuple[int, int]] = []
        wops: list[tuple[int, int, tuple]] = []
        for lv in range(4):
            ops += [(fo[lv][n] + path[lv], lat) for n, lat in self.upd[cmd][lv]]
            ops += [(fo[lv][n] + i, lat) for n, lat in self.sib[cmd][lv] for i in sibs[lv]]
            if self.win[cmd][lv]:
                depth = len(self.hist[lv][cmd][0])
                wops.append((self.hist_off[lv][cmd] + path[lv] * depth, depth,
                             tuple((fo[lv][n] + path[lv], lat, w) for n, lat, w in self.win[cmd][lv])))
        return tuple(ops), tuple(wops)

    # -- queries ----------------------------------------------------------------------------------
    def ready_time(self, cmd: int, bank: int) -> int:
        """Earliest cycle a bank-scope ``cmd`` may issue to ``bank`` (``-1``: any time)."""
        rd = self.ready
        t = rd[CHANNEL][cmd][0]
        v = rd[RANK][cmd][self.bank_rank[bank]]
        if v > t:
            t = v
        v = rd[BANKGROUP][cmd][self.bank_group[bank]]
        if v > t:
            t = v
        v = rd[BANK][cmd][bank]
        return v if v > t else t

    def ready_time_scope(self, cmd: int, rank: int | None) -> int:
        """Earliest cycle a rank-scope (``rank``) or channel-scope (``None``) ``cmd`` may issue:
        every node under the target must allow it."""
        rd = self.ready
        t = rd[CHANNEL][cmd][0]
        ranks = range(self.R) if rank is None else (rank,)
        per_g = self.G
        for r in ranks:
            t = max(t, rd[RANK][cmd][r], max(rd[BANKGROUP][cmd][r * per_g:(r + 1) * per_g]),
                    max(rd[BANK][cmd][r * per_g * self.B:(r + 1) * per_g * self.B]))
        return t

    def target_ready(self, cmd: int, bank: int) -> int:
        """:meth:`ready_time` for any scope; ``bank`` names the target (any bank of the rank for a
        rank-scope command)."""
        sc = self.scope[cmd]
        if sc == "bank":
            return self.ready_time(cmd, bank)
        return self.ready_time_scope(cmd, self.bank_rank[bank] if sc == "rank" else None)

    def banks_of(self, cmd: int, bank: int) -> range:
        """The banks ``cmd`` targets when addressed to ``bank``."""
        sc = self.scope[cmd]
        if sc == "bank":
            return range(bank, bank + 1)
        if sc == "rank":
            n = self.G * self.B
            r = self.bank_rank[bank]
            return range(r * n, (r + 1) * n)
        return range(self.nbanks)

    # -- issue ------------------------------------------------------------------------------------
    def issue(self, cmd: int, bank: int, clk: int, row: int = -1) -> None:
        """Issue ``cmd`` to ``bank`` (any bank of the target rank for rank-scope commands) at cycle
        ``clk``: update every ready time it constrains, then apply its row action (``row`` is the
        row an opening command opens)."""
        sc = self.scope[cmd]
        if sc == "bank":
            path = self._path[bank]
            for lv, arr, lat in self._ops[cmd]:
                i = path[lv]
                v = clk + lat
                if arr[i] < v:
                    arr[i] = v
            if self._sops[cmd]:
                sibs = self._sibs[bank]
                for lv, arr, lat in self._sops[cmd]:
                    v = clk + lat
                    for i in sibs[lv]:
                        if arr[i] < v:
                            arr[i] = v
            for lv, h, wins in self._wops[cmd]:
                i = path[lv]
                hn = h[i]
                hn.pop()
                hn.insert(0, clk)
                for arr, lat, w in wins:
                    past = hn[w - 1]
                    if past >= 0 and arr[i] < past + lat:
                        arr[i] = past + lat
            if self.opens[cmd]:
                if self.open_row[bank] < 0:
                    self._bank_opened(self.bank_rank[bank], clk)
                self.open_row[bank] = row
            elif self.closes[cmd]:
                if self.open_row[bank] >= 0:
                    self._bank_closed(self.bank_rank[bank], clk)
                self.open_row[bank] = -1
            return
        self._issue_wide(cmd, bank, clk)
        if self.opens[cmd]:
            for b in self.banks_of(cmd, bank):
                if self.open_row[b] < 0:
                    self._bank_opened(self.bank_rank[b], clk)
                self.open_row[b] = row
        elif self.closes[cmd]:
            for b in self.banks_of(cmd, bank):
                if self.open_row[b] >= 0:
                    self._bank_closed(self.bank_rank[b], clk)
                self.open_row[b] = -1

    def _issue_wide(self, cmd: int, bank: int, clk: int) -> None:
        """Timing update of a rank- or channel-scope command (every node under the target)."""
        rd = self.ready
        r = self.bank_rank[bank]
        G, B = self.G, self.B
        if self.scope[cmd] == "rank":
            targets = ((0,), (r,), range(r * G, (r + 1) * G), range(r * G * B, (r + 1) * G * B))
            sibs = ((), [x for x in range(self.R) if x != r], (), ())
        else:
            targets = ((0,), range(self.R), range(self.R * G), range(self.nbanks))
            sibs = ((), (), (), ())
        for lv in range(4):
            lists = rd[lv]
            for n, lat in self.upd[cmd][lv]:
                arr = lists[n]
                v = clk + lat
                for node in targets[lv]:
                    if arr[node] < v:
                        arr[node] = v
            for n, lat in self.sib[cmd][lv]:
                arr = lists[n]
                v = clk + lat
                for node in sibs[lv]:
                    if arr[node] < v:
                        arr[node] = v
            h = self.hist[lv].get(cmd)
            if h is not None:
                for node in targets[lv]:
                    hn = h[node]
                    hn.pop()
                    hn.insert(0, clk)
                    for n, lat, w in self.win[cmd][lv]:
                        past = hn[w - 1]
                        if past >= 0:
                            arr = lists[n]
                            if arr[node] < past + lat:
                                arr[node] = past + lat

    def _bank_opened(self, rank: int, clk: int) -> None:
        if self.open_banks[rank] == 0:
            self._open_since[rank] = clk
        self.open_banks[rank] += 1

    def _bank_closed(self, rank: int, clk: int) -> None:
        self.open_banks[rank] -= 1
        if self.open_banks[rank] == 0:
            self.active_cycles[rank] += clk - self._open_since[rank]

    def active_cycles_until(self, end: int) -> list[int]:
        """Cycles each rank had at least one open bank in ``[0, end)`` (IDD3N vs IDD2N background)."""
        return [a + (end - self._open_since[r] if self.open_banks[r] else 0) for r, a in enumerate(self.active_cycles)]
