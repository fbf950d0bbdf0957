"""The in-storage attention engine: per-task work and the kernels x flash schedule of one layer.

A *task* is the attention of one (sequence, KV head) pair (all query heads of the group). It is
a fixed sequence of phases, each either a flash fetch (a striped page batch; see
:mod:`archsim.hw.storage.flash`) or compute on one attention kernel:

* dense: ``fetch K,V pages`` -> ``score GeMV + softmax + context GeMV``
* sparse (SparQ / InstInfer's SparF): ``arg-top-r of |q|`` -> ``fetch the r channels of K``
  (channel-indexed pages through the channel filters) -> ``approximate scores + softmax + arg-top-k``
  -> ``fetch the k rows of K and V`` -> ``exact attention over k tokens``

Schedule (InstInfer's engine: two identical kernels, one flash array): each kernel takes the next
task when it is free (lowest kernel first) and runs its phases in order; flash fetches queue FIFO
at the array (one batch at a time; ties by kernel). :func:`run_tasks` computes this schedule
exactly for ``n`` identical tasks: it steps phase by phase until the state repeats, then jumps
whole periods. For the dense task the makespan has the closed form
``max(n F, (k + 1) F + j (F + C)) + C`` with ``n - 1 = j K + k`` (derived in docs/storage.md).
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction

from archsim.hw.storage import flash
from archsim.hw.storage.kvlayout import DecodeShape, SparseSelection, sparse_selection
from archsim.hw.storage.spec import StorageSpec


@dataclass(frozen=True)
class TaskWork:
    """One attention task: its phases (``("flash" | "compute", ns)``) and what it does.

    ``flash_pages`` pages read; ``flash_bytes`` bytes that cross the channel buses;
    ``gemv_flops``, ``softmax_elements``, ``argtopk_elements``, ``filter_bytes`` engine work.
    """

    phases: tuple[tuple[str, int], ...]
    flash_pages: int
    flash_bytes: int
    gemv_flops: int
    softmax_elements: int
    argtopk_elements: int
    filter_bytes: int

    @property
    def flash_ns(self) -> int:
        return sum(d for k, d in self.phases if k == "flash")

    @property
    def compute_ns(self) -> int:
        return sum(d for k, d in self.phases if k == "compute")


def _compute_ns(spec: StorageSpec, *, gemv_flops: int = 0, softmax: int = 0, argtopk: int = 0) -> int:
    s = (Fraction(gemv_flops) / Fraction(spec.engine_gemv_flops) + Fraction(softmax) / Fraction(
        spec.engine_softmax_elements_per_s) + Fraction(argtopk) / Fraction(spec.engine_argtopk_elements_per_s))
    return flash.to_ns(s)


def dense_task(spec: StorageSpec, shape: DecodeShape) -> TaskWork:
    """Dense attention of one (sequence, KV head): read the flushed K and V pages of the past
    tokens, then ``g`` score GeMVs, softmaxes and context GeMVs over all ``S`` tokens."""
    g, s, d = shape.group, shape.context, shape.head_dim
    pages = 2 * shape.flushed_pages(spec)
    f = flash.to_ns(flash.read_batch_s(spec, pages))
    gemv = g * 4 * s * d
    c = _compute_ns(spec, gemv_flops=gemv, softmax=g * s)
    return TaskWork((("flash", f), ("compute", c)), pages, pages * spec.flash_page_bytes, gemv, g * s, 0, 0)


def sparse_task(spec: StorageSpec, shape: DecodeShape, sel: SparseSelection | None = None) -> TaskWork:
    """SparF attention of one (sequence, KV head); ``sel`` = :func:`sparse_selection` by default."""
    sel = sel or sparse_selection(spec, shape)
    g, s, d = shape.group, shape.context, shape.head_dim
    c0 = _compute_ns(spec, argtopk=g * d)
    # phase 1: channel-indexed K pages, moved through the channel filters (inline with the bus)
    rate1 = min(spec.flash_channel_bytes_per_s, spec.engine_filter_bytes_per_s)
    f1 = flash.to_ns(flash.read_batch_s(spec, sel.channel_pages,
                                        transfer_s=flash.page_transfer_s(spec, rate_bytes_per_s=rate1)))
    c1 = _compute_ns(spec, gemv_flops=g * 2 * sel.channels * s, softmax=g * s, argtopk=g * s)
    # phase 2: the selected rows of K and V; a touched page costs a full tR, only the rows move
    x2 = flash.page_transfer_s(spec, sel.row_bytes_per_page) if sel.token_pages else Fraction(0)
    f2 = flash.to_ns(flash.read_batch_s(spec, sel.token_pages, transfer_s=x2))
    c2 = _compute_ns(spec, gemv_flops=g * 4 * sel.tokens * d, softmax=g * sel.tokens)
    phases = (("compute", c0), ("flash", f1), ("compute", c1), ("flash", f2), ("compute", c2))
    moved = sel.channel_pages * spec.flash_page_bytes + math.ceil(sel.token_pages * sel.row_bytes_per_page)
    return TaskWork(phases, sel.channel_pages + sel.token_pages, moved,
                    g * 2 * sel.channels * s + g * 4 * sel.tokens * d, g * s + g * sel.tokens, g * d + g * s,
                    sel.channel_pages * spec.flash_page_bytes)


def task_work(spec: StorageSpec, shape: DecodeShape) -> TaskWork:
    return sparse_task(spec, shape) if spec.sparse else dense_task(spec, shape)


@dataclass(frozen=True)
class LayerSchedule:
    """Result of :func:`run_tasks`: ``makespan_ns``, ``flash_busy_ns`` (the array's busy time) and
    ``kernel_busy_ns`` (compute time summed over kernels)."""

    makespan_ns: int
    flash_busy_ns: int
    kernel_busy_ns: int
    tasks: int
    kernels: int


def run_tasks(n_tasks: int, kernels: int, phases: Sequence[tuple[str, int]]) -> LayerSchedule:
    """Exact schedule of ``n_tasks`` identical tasks (see the module docstring)."""
    flash_per = sum(d for k, d in phases if k == "flash")
    compute_per = sum(d for k, d in phases if k != "flash")
    if n_tasks <= 0:
        return LayerSchedule(0, 0, 0, 0, kernels)
    nph = len(phases)
    heap: list[tuple[int, int, int]] = []
    started = 0
    for k in range(min(kernels, n_tasks)):
        heap.append((0, k, 0))
        started += 1
    heapq.heapify(heap)
    flash_free = 0
    end = 0
    seen: dict[tuple, tuple[int, int]] = {}
    while heap:
        t, k, p = heapq.heappop(heap)
        if p == nph:
            end = max(end, t)
            if started < n_tasks:
                # period detection at task starts: the state relative to now
                key = (k, tuple(sorted((tt - t, kk, pp) for tt, kk, pp in heap)), max(flash_free - t, 0))
                if key in seen:
                    t0, s0 = seen[key]
                    period_t, period_n = t - t0, started - s0
                    jumps = (n_tasks - started - 1) // period_n if period_n else 0
                    if jumps > 0:
                        shift = jumps * period_t
                        t += shift
                        started += jumps * period_n
                        heap = [(tt + shift, kk, pp) for tt, kk, pp in heap]
                        heapq.heapify(heap)
                        flash_free += shift
                        end = max(end, t)
                    seen.clear()
                else:
                    seen[key] = (t, started)
                started += 1
                heapq.heappush(heap, (t, k, 0))
            continue
        kind, dur = phases[p]
        if kind == "flash":
            start = max(t, flash_free)
            flash_free = start + dur
            heapq.heappush(heap, (flash_free, k, p + 1))
        else:
            heapq.heappush(heap, (t + dur, k, p + 1))
    return LayerSchedule(end, n_tasks * flash_per, n_tasks * compute_per, n_tasks, kernels)


def dense_closed_form_ns(n_tasks: int, kernels: int, f_ns: int, c_ns: int) -> int:
    """Makespan of ``n`` dense tasks (fetch ``F`` then compute ``C``) on ``K`` kernels:
    ``max(n F, (k + 1) F + j (F + C)) + C`` with ``n - 1 = j K + k``."""
    if n_tasks <= 0:
        return 0
    j, k = divmod(n_tasks - 1, kernels)
    return max(n_tasks * f_ns, (k + 1) * f_ns + j * (f_ns + c_ns)) + c_ns
