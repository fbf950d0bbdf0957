"""Cycle level: a cycle-stepped reference of the physical convention (the oracle for RTL).

Everything here advances one clock at a time and decides *from the data* when a phase ends:

* :class:`PEArray` holds the ``R x C`` registers (operands, valid bits, accumulators or
  partial sums) as numpy arrays and ``step()`` moves them one cycle. A fold is zero-padded to
  the full grid. OS: operands enter skewed at the left and top edges and meet in PE(i, j) at
  cycle ``k+i+j``; when every PE has done its ``T`` MACs the accumulators shift out of the
  bottom edge, one row per cycle. WS/IS: the stationary block shifts in from the top (bottom
  row first), then the streaming operand enters skewed at the left edge and partial sums flow
  down; a fold ends when all ``T x C`` sums have left the bottom edge.
* :class:`Dma` moves ``bytes_per_cycle`` of the head transfer every cycle; a read is complete
  ``latency`` cycles after its last byte.
* :func:`fold_operands` cuts a GEMM into one fold's zero-padded operands (also used by the
  port-level view in :mod:`archsim.hw.systolic.ports`, the reference of rtl/systolic_array).
* :func:`run_gemm` is the controller: the double-buffered step protocol (while fold ``f``
  computes, write back ``f-1`` then load ``f+1``; the next step starts the cycle after both
  finish), with per-fold bytes from :func:`~archsim.hw.systolic.physical.fold_schedule`.

It also computes the product from real int8 data, so tests check values against numpy as well
as cycle counts against the analytic model. Small arrays only: it costs O(R*C) per cycle.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from fractions import Fraction

import numpy as np

from archsim.hw.link import link_bandwidth
from archsim.hw.systolic.folds import FoldPlan
from archsim.hw.systolic.physical import FoldSchedule
from archsim.hw.systolic.spec import SystolicSpec


class PEArray:
    """An ``R x C`` PE grid stepped one cycle at a time."""

    def __init__(self, rows: int, cols: int, dataflow: str):
        self.R, self.C, self.df = rows, cols, dataflow
        self.busy = False
        self.cycle = 0

    # -- fold set-up ---------------------------------------------------------------------------
    def start_fold(self, stream: np.ndarray, stationary_or_b: np.ndarray, real_rows: int, real_cols: int) -> None:
        """Begin a fold. OS: ``stream`` is A (R x T), ``stationary_or_b`` is B (T x C).
        WS/IS: ``stream`` is the streaming operand (T x R), ``stationary_or_b`` the stationary
        block (R x C). ``real_rows``/``real_cols`` are the unpadded extents (for SRAM counts)."""
        R, C = self.R, self.C
        self.busy = True
        self.real_rows, self.real_cols = real_rows, real_cols
        self.tau = 0
        self.outputs: list[tuple[int, np.ndarray]] = []
        if self.df == "os":
            self.A, self.B = stream, stationary_or_b
            self.T = stream.shape[1]
            self.phase = "stream"
            self.a = np.zeros((R, C), np.int64)
            self.b = np.zeros((R, C), np.int64)
            self.av = np.zeros((R, C), bool)
            self.bv = np.zeros((R, C), bool)
            self.acc = np.zeros((R, C), np.int64)
            self.macs_done = np.zeros((R, C), np.int64)
            self.drained = 0
        else:
            self.S, self.W = stream, stationary_or_b
            self.T = stream.shape[0]
            self.phase = "load"
            self.w = np.zeros((R, C), np.int64)
            self.loaded = 0
            self.a = np.zeros((R, C), np.int64)
            self.am = np.full((R, C), -1, np.int64)  # which stream row (time index) each register holds
            self.p = np.zeros((R, C), np.int64)
            self.emitted = 0

    # -- one clock -----------------------------------------------------------------------------
    def step(self) -> dict:
        """Advance one cycle. Returns the SRAM traffic of the cycle and any outputs:
        ``{"stream_reads", "stationary_reads", "out": [(index, values)]}``."""
        ev = {"stream_reads": 0, "stationary_reads": 0, "out": None, "macs": 0}
        if not self.busy:
            return ev
        self.cycle += 1
        if self.df == "os":
            self._step_os(ev)
        else:
            self._step_stationary(ev)
        return ev

    def _step_os(self, ev: dict) -> None:
        R, C, T, tau = self.R, self.C, self.T, self.tau
        if self.phase == "stream":
            i = np.arange(R)
            ka = tau - i
            a_in = np.where((ka >= 0) & (ka < T), self.A[i, np.clip(ka, 0, T - 1)], 0)
            av_in = (ka >= 0) & (ka < T)
            j = np.arange(C)
            kb = tau - j
            b_in = np.where((kb >= 0) & (kb < T), self.B[np.clip(kb, 0, T - 1), j], 0)
            bv_in = (kb >= 0) & (kb < T)
            ev["stream_reads"] = int((av_in & (i < self.real_rows)).sum())
            ev["stationary_reads"] = int((bv_in & (j < self.real_cols)).sum())
            self.a[:, 1:], self.a[:, 0] = self.a[:, :-1].copy(), a_in
            self.av[:, 1:], self.av[:, 0] = self.av[:, :-1].copy(), av_in
            self.b[1:, :], self.b[0, :] = self.b[:-1, :].copy(), b_in
            self.bv[1:, :], self.bv[0, :] = self.bv[:-1, :].copy(), bv_in
            fire = self.av & self.bv
            self.acc += np.where(fire, self.a * self.b, 0)
            self.macs_done += fire
            ev["macs"] = int(fire[: self.real_rows, : self.real_cols].sum())
            self.tau += 1
            if (self.macs_done == T).all():  # PE(R-1, C-1) raised done: drain from next cycle
                self.phase = "drain"
        else:  # shift accumulators down; the bottom row leaves the array
            row = R - 1 - self.drained
            ev["out"] = (row, self.acc[R - 1].copy())
            self.acc[1:], self.acc[0] = self.acc[:-1].copy(), 0
            self.drained += 1
            if self.drained == R:
                self.busy = False

    def _step_stationary(self, ev: dict) -> None:
        R, C, T = self.R, self.C, self.T
        if self.phase == "load":
            src = R - 1 - self.loaded
            ev["stationary_reads"] = self.real_cols if src < self.real_rows else 0
            self.w[1:], self.w[0] = self.w[:-1].copy(), self.W[src]
            self.loaded += 1
            if self.loaded == R:
                self.phase = "stream"
            return
        tau = self.tau
        i = np.arange(R)
        t = tau - i
        ok = (t >= 0) & (t < T)
        a_in = np.where(ok, self.S[np.clip(t, 0, T - 1), i], 0)
        ev["stream_reads"] = int((ok & (i < self.real_rows)).sum())
        self.a[:, 1:], self.a[:, 0] = self.a[:, :-1].copy(), a_in
        self.am[:, 1:], self.am[:, 0] = self.am[:, :-1].copy(), np.where(ok, t, -1)
        above = np.vstack([np.zeros((1, C), np.int64), self.p[:-1]])
        self.p = above + self.a * self.w
        ev["macs"] = int(((self.am >= 0)[: self.real_rows, : self.real_cols]).sum())
        bottom = self.am[R - 1]
        done = bottom >= 0
        if done.any():
            ev["out"] = [(int(bottom[j]), j, int(self.p[R - 1, j])) for j in np.flatnonzero(done)]
            self.emitted += int(done.sum())
        self.tau += 1
        if self.emitted == T * C:
            self.busy = False

    def line_trace(self) -> str:
        if not self.busy:
            return "array: idle"
        return f"array: {self.df} {self.phase} tau={getattr(self, 'tau', 0)}"


class Dma:
    """One transfer at a time over a link of ``bytes_per_cycle``; reads land ``latency`` later."""

    def __init__(self, bytes_per_cycle: Fraction, latency: int):
        self.bw = bytes_per_cycle
        self.latency = latency
        self.queue: deque[list] = deque()  # [kind, remaining bytes]
        self.pending: list[int] = []  # cycles left until an issued read lands
        self.read_bytes = 0
        self.write_bytes = 0

    def issue(self, kind: str, nbytes: int) -> None:
        if nbytes > 0:
            self.queue.append([kind, Fraction(nbytes)])
            if kind == "read":
                self.read_bytes += nbytes
            else:
                self.write_bytes += nbytes

    @property
    def idle(self) -> bool:
        return not self.queue and not self.pending

    def step(self) -> None:
        self.pending = [c - 1 for c in self.pending if c - 1 > 0]
        if self.queue:
            head = self.queue[0]
            head[1] -= self.bw
            if head[1] <= 0:
                self.queue.popleft()
                if head[0] == "read" and self.latency:
                    self.pending.append(self.latency)


@dataclass
class CycleResult:
    cycles: int
    outputs: list[np.ndarray]
    ifmap_sram_reads: int = 0
    filter_sram_reads: int = 0
    ofmap_sram_writes: int = 0
    ofmap_sram_reads: int = 0
    dram_read_bytes: int = 0
    dram_write_bytes: int = 0
    macs: int = 0
    fold_cycles: list[int] = field(default_factory=list)
    trace: list[str] = field(default_factory=list)


def _pad(x: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    out = np.zeros(shape, np.int64)
    out[: x.shape[0], : x.shape[1]] = x
    return out


def fold_operands(a: np.ndarray, b: np.ndarray, plan: FoldPlan, fc: int, fr: int):
    """The zero-padded operands of fold ``(fc, fr)`` of ``a @ b``, as :meth:`PEArray.start_fold` takes
    them: ``(stream, stationary_or_b, real_rows, real_cols, (r0, c0))``, where ``(r0, c0)`` is the
    fold's origin in (Sr, Sc) space."""
    R, C, df = plan.rows, plan.cols, plan.dataflow
    r0, c0 = fr * R, fc * C
    if df == "os":
        blk_a, blk_b = a[r0 : r0 + R, :], b[:, c0 : c0 + C]
        return _pad(blk_a, (R, plan.t)), _pad(blk_b, (plan.t, C)), blk_a.shape[0], blk_b.shape[1], (r0, c0)
    if df == "ws":
        w = b[r0 : r0 + R, c0 : c0 + C]
        return _pad(a[:, r0 : r0 + R], (plan.t, R)), _pad(w, (R, C)), w.shape[0], w.shape[1], (r0, c0)
    w = a[c0 : c0 + C, r0 : r0 + R].T
    return _pad(b[r0 : r0 + R, :].T, (plan.t, R)), _pad(w, (R, C)), w.shape[0], w.shape[1], (r0, c0)


def run_gemm(a_list: list[np.ndarray], b_list: list[np.ndarray], sched: FoldSchedule, spec: SystolicSpec,
             *, max_cycles: int = 5_000_000, trace: bool = False) -> CycleResult:
    """Run ``len(a_list)`` back-to-back GEMMs ``a @ b`` cycle by cycle under the step protocol."""
    plan: FoldPlan = sched.plan
    R, C, df = spec.rows, spec.cols, spec.dataflow
    array = PEArray(R, C, df)
    dma = Dma(link_bandwidth(spec), spec.dram_latency_cycles)
    res = CycleResult(0, [])
    F = sched.folds
    total_steps = F * len(a_list)
    loads = np.tile(sched.load_bytes, len(a_list))
    writes = np.tile(sched.write_bytes, len(a_list))
    fcs, frs = plan.fold_indices()

    cycle = 0
    for step in range(-1, total_steps + 1):
        g, f = divmod(step, F) if 0 <= step < total_steps else (None, None)
        if step == -1:
            dma.issue("read", int(loads[0]))
        elif step == total_steps:
            dma.issue("write", int(writes[-1]))
        else:
            if step >= 1:
                dma.issue("write", int(writes[step - 1]))
            if step + 1 < total_steps:
                dma.issue("read", int(loads[step + 1]))
            if f == 0:
                a, b = a_list[g], b_list[g]
                out = np.zeros((a.shape[0], b.shape[1]), np.int64)
                res.outputs.append(out)
            stream, stat, rr, rc, (r0, c0) = fold_operands(a, b, plan, int(fcs[f]), int(frs[f]))
            array.start_fold(stream, stat, rr, rc)
            fold_first = frs[f] == 0
        start = cycle
        while array.busy or not dma.idle:
            ev = array.step()
            dma.step()
            cycle += 1
            if cycle > max_cycles:
                raise RuntimeError(f"cycle model exceeded {max_cycles} cycles")
            res.macs += ev["macs"]
            if df == "os":
                res.ifmap_sram_reads += ev["stream_reads"]
                res.filter_sram_reads += ev["stationary_reads"]
                if ev["out"] is not None:
                    row, vals = ev["out"]
                    if row < rr:
                        out[r0 + row, c0 : c0 + rc] = vals[:rc]
                        res.ofmap_sram_writes += rc
            else:
                res.ifmap_sram_reads += ev["stream_reads"] if df == "ws" else ev["stationary_reads"]
                res.filter_sram_reads += ev["stationary_reads"] if df == "ws" else ev["stream_reads"]
                for t_idx, j, val in ev["out"] or ():
                    if j < rc:
                        if df == "ws":
                            out[t_idx, c0 + j] += val
                        else:
                            out[c0 + j, t_idx] += val
                        res.ofmap_sram_writes += 1
                        res.ofmap_sram_reads += 0 if fold_first else 1
            if trace:
                res.trace.append(f"{cycle:6d} {array.line_trace()} dma_queue={len(dma.queue)}")
        if 0 <= step < total_steps:
            res.fold_cycles.append(cycle - start)
    res.cycles = cycle
    res.dram_read_bytes, res.dram_write_bytes = dma.read_bytes, dma.write_bytes
    return res
