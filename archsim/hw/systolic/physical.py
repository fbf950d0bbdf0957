"""The physical convention: true cycle counts with double-buffered SRAM and DRAM stalls.

Per fold the array is a fixed-latency pipeline over the whole ``R x C`` grid (operands of
partially mapped folds are zero-padded, as in the TPU's MXU and SCALE-Sim's paper):

* OS: ``T + R + C - 2`` cycles of skewed streaming (the last MAC is in PE(R-1, C-1)), then ``R``
  cycles to shift the accumulators out of the bottom edge: ``T + 2R + C - 2``.
* WS / IS: ``R`` cycles to shift the stationary block in, then ``T + R + C - 2`` cycles until
  the last partial sum leaves PE(R-1, C-1): ``2R + C + T - 2``.

So every fold costs ``T + 2R + C - 2`` cycles (SCALE-Sim's OS count omits the ``R`` drain and
every SCALE-Sim total is one less, being a cycle index).

Memory: each operand has its own SRAM split in two halves (ping/pong). A DMA engine on the DRAM
link (``dram_bytes_per_cycle``, reads complete ``dram_latency_cycles`` after their last byte)
runs one step ahead of the array: while fold ``f`` computes, it writes back fold ``f-1``'s outputs
and then loads fold ``f+1``'s inputs. A step ends when both are done, so

    cycles = load(0) + sum_f max(compute(f), write(f-1) + load(f+1)) + write(F-1)

with ``load(b) = latency + ceil(b / bw)`` (0 for no bytes) and ``write(b) = ceil(b / bw)``.
What must be loaded (residency policy, folds in SCALE-Sim order: column folds outer):

* ifmap: fetched once per layer when the whole (touched) ifmap fits in its SRAM, else
  re-fetched on every pass over it; a pass splits the ifmap bytes over folds in proportion to
  the rows/columns they cover.
* filter (OS): a ``K x C`` block is fetched once per column fold when it fits in half the filter
  SRAM, else every fold; (WS) each weight block once; (IS) the whole filter once when it fits,
  else every fold.
* partial sums (WS/IS): accumulated in the ofmap SRAM (read-modify-write) when a ``T x C`` block
  of ``acc_bytes`` fits in half of it, with one write-back of outputs after the last row fold;
  otherwise spilled (written after each row fold, read back before the next).

``count`` identical GEMMs (groups, heads) run back to back as one longer fold sequence.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from archsim.hw.link import link_bandwidth, read_cycles, write_cycles
from archsim.hw.systolic.folds import FoldPlan
from archsim.hw.systolic.spec import SystolicSpec
from archsim.mapping.gemm import GemmJob


def fold_compute_cycles(plan: FoldPlan) -> int:
    """Cycles of one fold in the physical convention (any dataflow)."""
    return plan.t + 2 * plan.rows + plan.cols - 2


def split_bytes(total: int, weights: np.ndarray) -> np.ndarray:
    """Split ``total`` bytes over parts in proportion to ``weights`` (integers summing to total)."""
    cum = np.concatenate([[0], np.cumsum(weights, dtype=np.int64)])
    edges = (cum * total) // max(int(cum[-1]), 1)
    return np.diff(edges)


@dataclass(frozen=True)
class FoldSchedule:
    """Per-fold work of one GEMM (arrays over folds in execution order; bytes and words)."""

    plan: FoldPlan
    compute_cycles: np.ndarray
    macs: np.ndarray
    load_ifmap_bytes: np.ndarray
    load_filter_bytes: np.ndarray
    load_psum_bytes: np.ndarray
    write_bytes: np.ndarray  # outputs (and spilled partial sums) written after the fold
    ifmap_sram_reads: np.ndarray  # words fed into the array edge
    filter_sram_reads: np.ndarray
    ofmap_sram_writes: np.ndarray
    ofmap_sram_reads: np.ndarray  # partial sums read back for accumulation

    @property
    def load_bytes(self) -> np.ndarray:
        return self.load_ifmap_bytes + self.load_filter_bytes + self.load_psum_bytes

    @property
    def folds(self) -> int:
        return len(self.compute_cycles)


def fold_schedule(job: GemmJob, spec: SystolicSpec) -> FoldSchedule:
    """The per-fold compute and memory work of one of the ``job.count`` GEMMs."""
    r, c = spec.rows, spec.cols
    plan = FoldPlan.of(spec.dataflow, r, c, job.m, job.n, job.k)
    fc, fr = plan.fold_indices()
    ru, cu = plan.rows_used(), plan.cols_used()
    t = plan.t
    F = plan.folds
    wa, wb, ob, ab = job.a_bytes, job.b_bytes, job.c_bytes, spec.acc_bytes
    a_total, b_total = job.a_elems * wa, job.b_elems * wb
    last_fr = fr == plan.row_fold - 1
    first_pass = fc == 0
    zeros = np.zeros(F, dtype=np.int64)
    compute = np.full(F, fold_compute_cycles(plan), dtype=np.int64)
    macs = ru * cu * t

    if spec.dataflow in ("os", "ws"):
        a_fr = split_bytes(a_total, ru[: plan.row_fold])[fr]
        a_res = a_total <= spec.ifmap_sram_bytes
        load_a = np.where(first_pass | (not a_res), a_fr, 0)
    else:  # is: A is the stationary block of every fold
        load_a = split_bytes(a_total, ru * cu)

    if spec.dataflow == "os":
        b_fits = job.k * c * wb <= spec.filter_sram_bytes // 2
        load_b = np.where((fr == 0) | (not b_fits), job.k * cu * wb, 0)
        write = ru * cu * ob
        load_p = zeros
        i_reads, f_reads, o_writes, o_reads = ru * t, cu * t, ru * cu, zeros
    else:
        if spec.dataflow == "ws":
            load_b = ru * cu * wb
            i_reads, f_reads = t * ru, ru * cu
        else:
            b_res = b_total <= spec.filter_sram_bytes
            load_b = np.where(first_pass | (not b_res), ru * job.n * wb, 0)
            i_reads, f_reads = ru * cu, t * ru
        psum_fits = t * c * ab <= spec.ofmap_sram_bytes // 2
        if psum_fits:
            write = np.where(last_fr, t * cu * ob, 0)
            load_p = zeros
        else:
            write = t * cu * np.where(last_fr, ob, ab)
            load_p = np.where(fr > 0, t * cu * ab, 0)
        o_writes = t * cu
        o_reads = np.where(fr > 0, t * cu, 0)

    def arr(x) -> np.ndarray:
        return np.broadcast_to(np.asarray(x, dtype=np.int64), (F,)).copy()

    return FoldSchedule(
        plan, compute, arr(macs), arr(load_a), arr(load_b), arr(load_p), arr(write),
        arr(i_reads), arr(f_reads), arr(o_writes), arr(o_reads),
    )


@dataclass(frozen=True)
class JobTiming:
    """Analytic timing of ``count`` back-to-back GEMMs (all cycles in core clock)."""

    cycles: int
    compute_cycles: int
    stall_cycles: int
    prologue_cycles: int
    epilogue_cycles: int
    step_cycles: np.ndarray  # per fold over the whole sequence
    fold_start_cycles: np.ndarray  # start of each fold's compute, relative to the job start


def job_timing(sched: FoldSchedule, count: int, spec: SystolicSpec) -> JobTiming:
    """The double-buffered step recurrence over ``count`` repetitions of ``sched``."""
    bw = link_bandwidth(spec)
    lat = spec.dram_latency_cycles
    load = np.tile(sched.load_bytes, count)
    write = np.tile(sched.write_bytes, count)
    compute = np.tile(sched.compute_cycles, count)
    rd = read_cycles(load, bw, lat)
    wr = write_cycles(write, bw)
    dma = np.concatenate([[0], wr[:-1]]) + np.concatenate([rd[1:], [0]])
    step = np.maximum(compute, dma)
    prologue, epilogue = int(rd[0]), int(wr[-1])
    starts = prologue + np.concatenate([[0], np.cumsum(step)[:-1]])
    total = prologue + int(step.sum()) + epilogue
    comp = int(compute.sum())
    return JobTiming(total, comp, total - comp, prologue, epilogue, step, starts)
