"""SCALE-Sim v2 compatibility: every number SCALE-Sim v2 reports for one layer, exactly.

Reference: ../shared/reference/systolic_scalesim.md (section 1) and SCALE-Sim v2's documented
behaviour (``systolic_compute_{os,ws,is}.py``, ``double_buffered_scratchpad_mem.py``,
``read_buffer_estimate_bw.py``, ``write_buffer.py``; PyPI ``scalesim==2.0.2``). No SCALE-Sim
code is used; its semantics are re-derived here:

* Compute side (closed form). ``L`` lines per fold (``T+R+C-2`` for OS, ``2R+C+T-2`` for WS/IS),
  ``Total Cycles = folds*L - 1 + stalls`` (the index of the last cycle, not a count), mapping
  efficiency and compute utilization as unweighted means over folds (summed in fold order, as
  SCALE-Sim does, so the floats agree to the last bit; WS/IS use ``2R+2C+T-3`` as the fold
  length in compute util), SRAM reads/writes per operand (OS adds ``R+C`` writes per fold).
* Memory side, CALC ("estimate bandwidth") mode, without walking cycles:

  - read buffers (ifmap, filter): the demand stream is the sequence of addresses in
    line order; the buffer keeps sets of ``floor(words/100)`` distinct words; each distinct
    word not yet seen in the current window is one DRAM read; after ``50`` sets (half the
    buffer) the window restarts. The first prefetch ends the cycle before the first request
    at 10 words/cycle (hence negative start cycles); the last ends one cycle after the last
    window roll-over. Only window roll-overs are visited, so cost is O(stream) numpy work,
    and nothing at all when the operand fits in half its buffer (then reads = distinct words).
  - write buffer (ofmap): lines of ``C`` words, drain of ``ceil(half/C)`` lines when more than
    half is pending, a stall when the buffer is full during a drain, a final flush from the last
    cycle. Visited drain by drain, with ``searchsorted`` over the cumulative writes per line.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Callable
from dataclasses import asdict, dataclass

import numpy as np

from archsim.errors import InputError
from archsim.hw.systolic.folds import FoldPlan
from archsim.mapping.gemm import ConvGeometry

PREFETCH_WORDS_PER_CYCLE = 10  # SCALE-Sim's fixed first-fill bandwidth (single_layer_sim.py)
SETS = 100  # read buffer set count (read_buffer_estimate_bw.py)
ACTIVE_SETS = 50  # active_buf_frac = 0.5


@dataclass(frozen=True)
class ScaleSimLayer:
    """One row of SCALE-Sim's COMPUTE, BANDWIDTH and DETAILED_ACCESS reports (cycles are
    SCALE-Sim cycle indices; bandwidths in words/cycle)."""

    total_cycles: int
    stall_cycles: int
    overall_util_pct: float
    mapping_efficiency_pct: float
    compute_util_pct: float
    avg_ifmap_sram_bw: float
    avg_filter_sram_bw: float
    avg_ofmap_sram_bw: float
    avg_ifmap_dram_bw: float
    avg_filter_dram_bw: float
    avg_ofmap_dram_bw: float
    ifmap_sram_start_cycle: int
    ifmap_sram_stop_cycle: int
    ifmap_sram_reads: int
    filter_sram_start_cycle: int
    filter_sram_stop_cycle: int
    filter_sram_reads: int
    ofmap_sram_start_cycle: int
    ofmap_sram_stop_cycle: int
    ofmap_sram_writes: int
    ifmap_dram_start_cycle: int
    ifmap_dram_stop_cycle: int
    ifmap_dram_reads: int
    filter_dram_start_cycle: int
    filter_dram_stop_cycle: int
    filter_dram_reads: int
    ofmap_dram_start_cycle: int
    ofmap_dram_stop_cycle: int
    ofmap_dram_writes: int
    # not reported by SCALE-Sim, kept for timelines and the energy model
    macs: int
    folds: int
    lines_per_fold: int
    ifmap_prefetch_cycles: tuple[int, ...] = ()
    filter_prefetch_cycles: tuple[int, ...] = ()
    ofmap_drains: tuple[tuple[int, int], ...] = ()

    def to_dict(self) -> dict:
        d = asdict(self)
        for k in ("ifmap_prefetch_cycles", "filter_prefetch_cycles", "ofmap_drains"):
            d.pop(k)
        return d


#: SCALE-Sim report columns -> ScaleSimLayer fields, in SCALE-Sim's order
COMPUTE_REPORT = (
    ("Total Cycles", "total_cycles"),
    ("Stall Cycles", "stall_cycles"),
    ("Overall Util %", "overall_util_pct"),
    ("Mapping Efficiency %", "mapping_efficiency_pct"),
    ("Compute Util %", "compute_util_pct"),
)
BANDWIDTH_REPORT = (
    ("Avg IFMAP SRAM BW", "avg_ifmap_sram_bw"),
    ("Avg FILTER SRAM BW", "avg_filter_sram_bw"),
    ("Avg OFMAP SRAM BW", "avg_ofmap_sram_bw"),
    ("Avg IFMAP DRAM BW", "avg_ifmap_dram_bw"),
    ("Avg FILTER DRAM BW", "avg_filter_dram_bw"),
    ("Avg OFMAP DRAM BW", "avg_ofmap_dram_bw"),
)
DETAILED_ACCESS_REPORT = tuple(
    (f"{mem} {op} {what}", f"{op.lower()}_{mem.lower()}_{what.split()[0].lower()}{'_cycle' if what.endswith('Cycle') else ''}")
    for mem in ("SRAM", "DRAM")
    for op, rw in (("IFMAP", "Reads"), ("Filter", "Reads"), ("OFMAP", "Writes"))
    for what in ("Start Cycle", "Stop Cycle", rw)
)


# ---------------------------------------------------------------------------------------------
# compute side
# ---------------------------------------------------------------------------------------------
def lines_per_fold(plan: FoldPlan) -> int:
    r, c, t = plan.rows, plan.cols, plan.t
    return t + r + c - 2 if plan.dataflow == "os" else 2 * r + c + t - 2


def _sequential_mean(values: np.ndarray) -> float:
    """``sum(list)/len(list)`` with Python's left-to-right float summation."""
    return float(np.cumsum(values)[-1]) / len(values)


def _compute_side(plan: FoldPlan) -> dict:
    r, c, t = plan.rows, plan.cols, plan.t
    used = plan.rows_used() * plan.cols_used()
    cyc_fold = t + r + c - 2 if plan.dataflow == "os" else 2 * r + 2 * c + t - 3
    mapping = _sequential_mean(used / (r * c))
    compute = _sequential_mean((used * t) / (r * c * cyc_fold))
    m_like, n_like = plan.sr, plan.sc
    if plan.dataflow == "os":
        ifmap_reads = plan.col_fold * plan.sr * t
        filter_reads = plan.row_fold * t * plan.sc
        ofmap_writes = plan.sr * plan.sc + plan.folds * (r + c)
    elif plan.dataflow == "ws":
        ifmap_reads = plan.col_fold * t * plan.sr
        filter_reads = plan.sr * plan.sc
        ofmap_writes = plan.row_fold * t * plan.sc
    else:
        ifmap_reads = m_like * n_like
        filter_reads = plan.col_fold * plan.sr * t
        ofmap_writes = plan.row_fold * plan.sc * t
    return {
        "mapping_efficiency_pct": mapping * 100,
        "compute_util_pct": compute * 100,
        "ifmap_sram_reads": int(ifmap_reads),
        "filter_sram_reads": int(filter_reads),
        "ofmap_sram_writes": int(ofmap_writes),
    }


# ---------------------------------------------------------------------------------------------
# ofmap write buffer
# ---------------------------------------------------------------------------------------------
def _ofmap_line_writes(plan: FoldPlan) -> np.ndarray:
    """Valid ofmap writes on every demand line of the layer (SCALE-Sim's skewed OFMAP matrix)."""
    r, c, t = plan.rows, plan.cols, plan.t
    L = lines_per_fold(plan)
    patterns: dict[tuple[int, int], np.ndarray] = {}
    ru_all, cu_all = plan.rows_used(), plan.cols_used()
    for ru, cu in set(zip(ru_all.tolist(), cu_all.tolist())):
        pat = np.zeros(L, dtype=np.int64)
        if plan.dataflow == "os":
            # flipped block rows R-ru..R-1, skewed by column: line T-1 + i + col
            box_i = np.zeros(r, dtype=np.int64)
            box_i[r - ru :] = 1
            pat[t - 1 : t - 1 + r + c - 1] = np.convolve(box_i, np.r_[np.ones(cu, np.int64), np.zeros(c - cu, np.int64)])
        else:
            # element (time s, column j) on line 2R-1 + s + j
            pat[2 * r - 1 : 2 * r - 1 + t + cu - 1] = np.convolve(np.ones(t, np.int64), np.ones(cu, np.int64))
        patterns[(ru, cu)] = pat
    keys = list(patterns)
    kind = np.zeros(plan.folds, dtype=np.int64)
    for i, key in enumerate(keys):
        kind[(ru_all == key[0]) & (cu_all == key[1])] = i
    return np.stack([patterns[k] for k in keys])[kind].ravel()


class _Lines:
    """The write buffer's trace lines: each flush closes a segment of ``n`` words, cut into
    lines of ``width`` words with a partial last line."""

    def __init__(self, width: int):
        self.width = width
        self.sizes: list[int] = []
        self.line_starts: list[int] = [0]

    def flush(self, n: int) -> None:
        if n > 0:
            self.sizes.append(n)
            self.line_starts.append(self.line_starts[-1] + -(-n // self.width))

    @property
    def total(self) -> int:
        return self.line_starts[-1]

    def valid(self, line: int) -> int:
        s = bisect.bisect_right(self.line_starts, line) - 1
        local = line - self.line_starts[s]
        full, rem = divmod(self.sizes[s], self.width)
        return self.width if local < full else rem


@dataclass
class _WriteBufferResult:
    total_cycles: int
    stall_cycles: int
    stall_breaks: list[tuple[int, int]]  # (line, cumulative stall before that line)
    line_offsets: dict[int, int]  # out-cycle offset of lines that stalled
    drains: list[tuple[int, int]]  # (start cycle, lines)
    writes: int


def _write_buffer(w: np.ndarray, width: int, size_words: int) -> _WriteBufferResult:
    """SCALE-Sim's OFMAP write buffer, visited drain by drain (and stall by stall)."""
    total_words = size_words
    active = math.ceil(total_words * 0.5)
    half = total_words - active
    lines_per_drain = -(-half // width)
    if half <= 0:
        raise InputError(None, "ofmap_sram_bytes", "at least 2 words of OFMAP SRAM (SCALE-Sim cannot drain less)")
    wc = np.cumsum(w)
    n_lines = len(w)
    e_total = int(wc[-1])
    lines = _Lines(width)
    drains: list[tuple[int, int]] = []
    breaks: list[tuple[int, int]] = [(0, 0)]
    offsets: dict[int, int] = {}
    st = {"e": 0, "credited": 0, "drain_end": 0, "stall": 0, "off": 0, "row": 0, "start_line": 0, "writes": 0}

    def row_of(elem: int) -> int:
        return int(np.searchsorted(wc, elem, side="left"))

    def move_to(new_row: int) -> None:
        if new_row == st["row"]:
            return
        s_next = st["stall"] + max(0, st["off"] - 1)
        if s_next != st["stall"]:
            breaks.append((st["row"] + 1, s_next))
        st.update(stall=s_next, row=new_row, off=0)

    def drain(at_cycle: int) -> int:
        nl = min(lines_per_drain, lines.total - st["start_line"])
        data = nl * width - (width - lines.valid(st["start_line"] + nl - 1))
        st["writes"] += data
        st["credited"] += data
        st["start_line"] += nl
        drains.append((at_cycle, nl))
        return at_cycle + nl - 1

    last_flush = 0
    while st["e"] < e_total:
        e, row = st["e"], st["row"]
        cc = row + st["stall"] + st["off"]
        e_end_in_drain = e
        if cc < st["drain_end"]:
            # the rest of this row, and the rows before r_end, are issued while a drain runs
            s_next = st["stall"] + max(0, st["off"] - 1)
            r_end = max(row + 1, st["drain_end"] - s_next)
            e_end_in_drain = int(wc[r_end - 1]) if r_end - 1 < n_lines else e_total
            e_stall = max(e + 1, total_words + st["credited"])
            if e_stall <= e_end_in_drain:  # buffer full during a drain: wait for it to end
                move_to(row_of(e_stall))
                cur = st["row"] + st["stall"] + st["off"]
                st["off"] += st["drain_end"] - cur
                offsets[st["row"]] = st["off"]
                st["e"] = e_stall
                continue
        e_trig = max(e + 1, half + st["credited"] + 1, e_end_in_drain + 1)
        if e_trig > e_total:
            break
        move_to(row_of(e_trig))
        cc = st["row"] + st["stall"] + st["off"]
        lines.flush(e_trig - last_flush)
        last_flush = e_trig
        st["drain_end"] = drain(cc)
        st["e"] = e_trig

    last = n_lines - 1
    move_to(last)
    total = last + st["stall"] + st["off"]
    stalls = st["stall"] + max(0, st["off"] - 1)
    lines.flush(e_total - last_flush)
    cyc = total
    while st["start_line"] < lines.total:
        cyc = drain(cyc) + 1
    return _WriteBufferResult(total, stalls, breaks, offsets, drains, st["writes"])


# ---------------------------------------------------------------------------------------------
# read buffers
# ---------------------------------------------------------------------------------------------
@dataclass
class _Segment:
    """A stretch of the demand stream: ``addr``/``line`` repeated ``repeats`` times, each
    repetition ``period`` lines after the previous one."""

    addr: np.ndarray
    line: np.ndarray
    repeats: int
    period: int

    def __post_init__(self) -> None:
        n = len(self.addr)
        order = np.argsort(self.addr, kind="stable")
        sa = self.addr[order]
        dup = np.zeros(n, dtype=bool)
        dup[1:] = sa[1:] == sa[:-1]
        prev_sorted = np.where(dup, np.roll(order, 1), -1)
        prev = np.empty(n, dtype=np.int64)
        prev[order] = prev_sorted
        is_last = np.ones(n, dtype=bool)
        is_last[:-1] = ~dup[1:]
        group = np.cumsum(~dup) - 1
        last = np.empty(n, dtype=np.int64)
        last[order] = order[is_last][group]
        idx = np.arange(n, dtype=np.int64)
        big = np.int64(1) << 62
        self.back_first = np.where(prev >= 0, idx - prev, big)
        self.back_rep = np.where(prev >= 0, idx - prev, idx + n - last)

    @property
    def length(self) -> int:
        return len(self.addr) * self.repeats


def _skew_stream(block: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Valid addresses of SCALE-Sim's skewed demand (column c delayed c lines), in line order."""
    rows, cols = block.shape
    out = np.full((rows + cols - 1, cols), -1, dtype=np.int64)
    out[np.arange(rows)[:, None] + np.arange(cols)[None, :], np.arange(cols)[None, :]] = block
    li, ci = np.nonzero(out != -1)
    return out[li, ci], li.astype(np.int64)


def _flipped_stream(block: np.ndarray, rows: int) -> tuple[np.ndarray, np.ndarray]:
    """Valid addresses of a stationary block loaded bottom row first (line j = row rows-1-j)."""
    ru = block.shape[0]
    flipped = block[::-1]
    li, ci = np.nonzero(flipped != -1)
    return flipped[li, ci], li.astype(np.int64) + (rows - ru)


def _segments(plan: FoldPlan, geo: ConvGeometry, operand: str, spec) -> list[_Segment]:
    """The demand stream of ``operand`` (``ifmap`` / ``filter``) as repeated segments."""
    r, c = plan.rows, plan.cols
    L = lines_per_fold(plan)
    a = geo.ifmap_addresses(spec.ifmap_offset) if operand == "ifmap" else None  # M x K
    b = geo.filter_addresses(spec.filter_offset) if operand == "filter" else None  # K x N
    df = plan.dataflow
    rf, cf = plan.row_fold, plan.col_fold

    def pass_over_row_folds(block_of_fr, line_shift: int) -> _Segment:
        addrs, lines = [], []
        for fr in range(rf):
            s_a, s_l = _skew_stream(block_of_fr(fr))
            addrs.append(s_a)
            lines.append(s_l + fr * L + line_shift)
        return _Segment(np.concatenate(addrs), np.concatenate(lines), cf, rf * L)

    def all_folds(block_of_fold) -> _Segment:
        addrs, lines = [], []
        for f in range(plan.folds):
            fc, fr = divmod(f, rf)
            s_a, s_l = _flipped_stream(block_of_fold(fc, fr), r)
            addrs.append(s_a)
            lines.append(s_l + f * L)
        return _Segment(np.concatenate(addrs), np.concatenate(lines), 1, 0)

    if operand == "ifmap":
        if df == "os":
            return [pass_over_row_folds(lambda fr: a[fr * r : (fr + 1) * r, :].T, 0)]
        if df == "ws":
            return [pass_over_row_folds(lambda fr: a[:, fr * r : (fr + 1) * r], r)]
        return [all_folds(lambda fc, fr: a[fc * c : (fc + 1) * c, fr * r : (fr + 1) * r].T)]
    if df == "os":
        segs = []
        for fc in range(cf):
            s_a, s_l = _skew_stream(b[:, fc * c : (fc + 1) * c])
            segs.append(_Segment(s_a, s_l + fc * rf * L, rf, L))
        return segs
    if df == "ws":
        return [all_folds(lambda fc, fr: b[fr * r : (fr + 1) * r, fc * c : (fc + 1) * c])]
    return [pass_over_row_folds(lambda fr: b[fr * r : (fr + 1) * r, :].T, r)]


def _window(segs: list[_Segment], starts: list[int], lo: int, hi: int, epoch_start: int):
    """``(is_new, line)`` for stream positions ``[lo, hi)`` in an epoch starting at ``epoch_start``."""
    news, lines = [], []
    for seg, s0 in zip(segs, starts):
        a, b = max(lo, s0), min(hi, s0 + seg.length)
        if a >= b:
            continue
        local = np.arange(a - s0, b - s0, dtype=np.int64)
        n = len(seg.addr)
        q, j = np.divmod(local, n)
        back = np.where(q == 0, seg.back_first[j], seg.back_rep[j])
        news.append((local + s0 - back) < epoch_start)
        lines.append(seg.line[j] + q * seg.period)
    return np.concatenate(news), np.concatenate(lines)


@dataclass
class _ReadBufferResult:
    reads: int
    start_cycle: int
    stop_cycle: int
    trigger_cycles: list[int]


def _read_buffer(segs_fn: Callable[[], list[_Segment]], distinct: int, size_words: int,
                 cycle_of: Callable[[np.ndarray], np.ndarray], first_line: int) -> _ReadBufferResult:
    per_set = size_words // SETS
    if per_set <= 0:
        raise InputError(None, "sram_bytes", "at least 100 words per read buffer (SCALE-Sim's 100 sets)")
    cap = ACTIVE_SETS * per_set
    if distinct < cap:  # never rolls over: one initial fill of every distinct word
        sets = -(-distinct // per_set)
        n = -(-(sets * per_set) // PREFETCH_WORDS_PER_CYCLE)
        return _ReadBufferResult(distinct, -n, -1, [])
    segs = segs_fn()
    starts, total = [], 0
    for s in segs:
        starts.append(total)
        total += s.length
    chunk = max(4 * cap, 1 << 16)
    p, trig_lines, last_count = 0, [], 0
    while p < total:
        need, pos, found = cap, p, None
        while pos < total:
            hi = min(total, pos + chunk)
            new, lines = _window(segs, starts, pos, hi, p)
            cnt = int(new.sum())
            if cnt >= need:
                idx = int(np.flatnonzero(new)[need - 1])
                found, fline = pos + idx, int(lines[idx])
                break
            need -= cnt
            pos = hi
        if found is None:
            last_count = cap - need
            break
        trig_lines.append(fline)
        p = found + 1
    trig_cycles = [int(x) for x in cycle_of(np.asarray(trig_lines, dtype=np.int64))]
    for a, b in zip(trig_cycles, trig_cycles[1:]):
        if a == b:
            raise InputError(None, "sram_bytes", "a read buffer large enough that two prefetch windows never end in "
                             "the same cycle (SCALE-Sim v2 itself divides by zero here)")
    f = int(cycle_of(np.asarray([first_line]))[0])
    start = f - math.ceil(cap / PREFETCH_WORDS_PER_CYCLE)
    return _ReadBufferResult(len(trig_lines) * cap + last_count, start, trig_cycles[-1] + 1, trig_cycles)


def _ifmap_block(geo: ConvGeometry, m_idx: np.ndarray, k_idx: np.ndarray, offset: int) -> np.ndarray:
    """Rows ``m_idx`` x columns ``k_idx`` of SCALE-Sim's im2col address matrix (-1 past the edge)."""
    orow, ocol = np.divmod(m_idx[:, None], geo.ofmap_w)
    irow, icol = orow * geo.stride_h, ocol * geo.stride_w
    crow, rem = np.divmod(k_idx[None, :], geo.filt_w * geo.channels)
    ccol, cch = np.divmod(rem, geo.channels)
    valid = (crow + irow < geo.ifmap_h) & (ccol + icol < geo.ifmap_w)
    addr = ((irow + crow) * geo.ifmap_w + (icol + ccol)) * geo.channels + cch + offset
    return np.where(valid, addr, -1).astype(np.int64)


def _first_last_lines(plan: FoldPlan, geo: ConvGeometry, operand: str) -> tuple[int, int]:
    """First and last demand line that carries a valid address of ``operand``."""
    r, c, t = plan.rows, plan.cols, plan.t
    df = plan.dataflow
    base = (plan.folds - 1) * lines_per_fold(plan)
    ru0, ruL, cuL = min(r, plan.sr), plan.last_rows_used, plan.last_cols_used
    if operand == "filter" or not geo.has_edge_windows:
        first, last = {
            ("os", "ifmap"): (0, t + ruL - 2),
            ("os", "filter"): (0, t + cuL - 2),
            ("ws", "ifmap"): (r, r + t + ruL - 2),
            ("ws", "filter"): (r - ru0, r - 1),
            ("is", "ifmap"): (r - ru0, r - 1),
            ("is", "filter"): (r, r + t + ruL - 2),
        }[(df, operand)]
        return first, base + last

    # windows past the IFMAP edge request nothing: look at the first and last folds
    def lines_of(fc: int, fr: int) -> np.ndarray:
        rows_k = np.arange(fr * r, min((fr + 1) * r, plan.sr))
        if df == "os":
            blk = _ifmap_block(geo, rows_k, np.arange(geo.k), 0).T
            return _skew_stream(blk)[1]
        if df == "ws":
            return _skew_stream(_ifmap_block(geo, np.arange(geo.m), rows_k, 0))[1] + r
        cols_m = np.arange(fc * c, min((fc + 1) * c, plan.sc))
        return _flipped_stream(_ifmap_block(geo, cols_m, rows_k, 0).T, r)[1]

    L = lines_per_fold(plan)
    first = None
    for f in range(plan.folds):  # a fold made only of past-the-edge windows requests nothing
        ls = lines_of(*divmod(f, plan.row_fold))
        if len(ls):
            first = f * L + int(ls.min())
            break
    for f in range(plan.folds - 1, -1, -1):
        ls = lines_of(*divmod(f, plan.row_fold))
        if len(ls):
            return first, f * L + int(ls.max())
    raise InputError(None, "layer", "a layer with at least one valid IFMAP word")


# ---------------------------------------------------------------------------------------------
# one layer
# ---------------------------------------------------------------------------------------------
def simulate_layer(geo: ConvGeometry, spec) -> ScaleSimLayer:
    """Everything SCALE-Sim v2 (CALC mode) reports for the conv layer ``geo`` on ``spec``
    (SRAM sizes in 1-byte words, as SCALE-Sim's ``word_size = 1``)."""
    r, c = spec.rows, spec.cols
    plan = FoldPlan.of(spec.dataflow, r, c, geo.m, geo.n, geo.k)
    L = lines_per_fold(plan)
    cs = _compute_side(plan)

    w = _ofmap_line_writes(plan)
    wb = _write_buffer(w, c, spec.ofmap_sram_bytes)
    brk_lines = np.asarray([b[0] for b in wb.stall_breaks], dtype=np.int64)
    brk_stall = np.asarray([b[1] for b in wb.stall_breaks], dtype=np.int64)

    def cycle_of(lines: np.ndarray) -> np.ndarray:
        return lines + brk_stall[np.searchsorted(brk_lines, lines, side="right") - 1]

    def out_cycle(line: int) -> int:
        return int(cycle_of(np.asarray([line]))[0]) + wb.line_offsets.get(line, 0)

    total = wb.total_cycles
    nz = np.flatnonzero(w)
    ofmap_sram = (out_cycle(int(nz[0])), out_cycle(int(nz[-1])))

    reads = {}
    sram = {}
    for operand, distinct, words in (
        ("ifmap", geo.ifmap_unique, spec.ifmap_sram_bytes),
        ("filter", geo.k * geo.n, spec.filter_sram_bytes),
    ):
        first, last = _first_last_lines(plan, geo, operand)
        sram[operand] = (int(cycle_of(np.asarray([first]))[0]) + 1, int(cycle_of(np.asarray([last]))[0]) + 1)
        reads[operand] = _read_buffer(lambda op=operand: _segments(plan, geo, op, spec), distinct, words, cycle_of, first)

    ofmap_start = wb.drains[0][0]
    ofmap_stop = wb.drains[-1][0] + wb.drains[-1][1] - 1
    macs = geo.m * geo.n * geo.k
    ri, rf_ = reads["ifmap"], reads["filter"]
    return ScaleSimLayer(
        total_cycles=total,
        stall_cycles=wb.stall_cycles,
        overall_util_pct=(macs * 100) / (total * r * c),
        mapping_efficiency_pct=cs["mapping_efficiency_pct"],
        compute_util_pct=cs["compute_util_pct"],
        avg_ifmap_sram_bw=cs["ifmap_sram_reads"] / total,
        avg_filter_sram_bw=cs["filter_sram_reads"] / total,
        avg_ofmap_sram_bw=cs["ofmap_sram_writes"] / total,
        avg_ifmap_dram_bw=ri.reads / (ri.stop_cycle - ri.start_cycle + 1),
        avg_filter_dram_bw=rf_.reads / (rf_.stop_cycle - rf_.start_cycle + 1),
        avg_ofmap_dram_bw=wb.writes / (ofmap_stop - ofmap_start + 1),
        ifmap_sram_start_cycle=sram["ifmap"][0],
        ifmap_sram_stop_cycle=sram["ifmap"][1],
        ifmap_sram_reads=cs["ifmap_sram_reads"],
        filter_sram_start_cycle=sram["filter"][0],
        filter_sram_stop_cycle=sram["filter"][1],
        filter_sram_reads=cs["filter_sram_reads"],
        ofmap_sram_start_cycle=ofmap_sram[0],
        ofmap_sram_stop_cycle=ofmap_sram[1],
        ofmap_sram_writes=cs["ofmap_sram_writes"],
        ifmap_dram_start_cycle=ri.start_cycle,
        ifmap_dram_stop_cycle=ri.stop_cycle,
        ifmap_dram_reads=ri.reads,
        filter_dram_start_cycle=rf_.start_cycle,
        filter_dram_stop_cycle=rf_.stop_cycle,
        filter_dram_reads=rf_.reads,
        ofmap_dram_start_cycle=ofmap_start,
        ofmap_dram_stop_cycle=ofmap_stop,
        ofmap_dram_writes=wb.writes,
        macs=macs,
        folds=plan.folds,
        lines_per_fold=L,
        ifmap_prefetch_cycles=tuple(ri.trigger_cycles),
        filter_prefetch_cycles=tuple(rf_.trigger_cycles),
        ofmap_drains=tuple(wb.drains),
    )
