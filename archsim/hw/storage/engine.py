"""The in-storage attention engine: per-task work and the kernels x flash schedule of one layer.

A *task* is the attention of one (sequence, KV head) pair (all query heads of the group). It is
a fixed sequence of phases, each either a flash fetch (a striped page batch; see
:mod:`archsim.hw.storage.flash`) or compute on one attention kernel:

* dense: ``fetch K,V pages`` -> ``score GeMV + softmax + context GeMV``
* sparse (SparQ / InstInfer's SparF): ``arg-top-r of |q|`` -> ``fetch the r channels of K``
  (channel-indexed pages through the channel filters) -> ``approximate scores + softmax + arg-top-k``
  -> ``fetch the k rows of K and V`` -> ``exact attention over k tokens``

A flash phase has a latency (the batch read from an idle array, ``flash.read_batch_s``) and an
occupancy: how long it keeps the array from accepting the next batch. With
``flash_queueing: per_die`` (the default; NVMeVirt's per-die timing, see
:func:`archsim.hw.storage.flash.read_occupancy_s`) the occupancy is the batch's share of the
array's streaming rate; with ``batch`` it is the latency (the array drains between batches).

Schedule (InstInfer Sec. IV-B, Fig. 8: two identical attention kernels sharing one flash
array): each kernel has ``engine_task_buffers`` task buffers. With 1, a kernel fetches its task's
pages, then computes, then takes the next task. With 2 (the default), the engine double-buffers:
a kernel's second buffer takes the next task and fetches its pages while the kernel computes the
current one -- the standard way an FPGA accelerator hides memory latency (ping-pong buffers,
Zhang et al., "Optimizing FPGA-based Accelerator Design for Deep CNNs", FPGA 2015) and what a
drive with a 2 GB DRAM (InstInfer Sec. V-A) affords. Fetches queue first come, first served at
the array; compute phases at their kernel. :func:`run_tasks` computes this schedule exactly for
``n`` identical tasks: it steps event by event until the state repeats, then jumps whole periods.
For the dense task the makespan has a closed form (:func:`dense_closed_form_ns`, derived in
docs/storage.md).
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
    """One attention task: its phases (``("flash", latency_ns, occupancy_ns)`` or ``("compute",
    ns)``) and what it does.

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
        """Latency of the task's fetches, each from an idle array."""
        return sum(ph[1] for ph in self.phases if ph[0] == "flash")

    @property
    def flash_occupancy_ns(self) -> int:
        """Time the task's fetches keep the array busy (equal to ``flash_ns`` with
        ``flash_queueing: batch``)."""
        return sum(ph[2] for ph in self.phases if ph[0] == "flash")

    @property
    def compute_ns(self) -> int:
        return sum(ph[1] for ph in self.phases if ph[0] == "compute")


def _compute_ns(spec: StorageSpec, *, gemv_flops: int = 0, softmax: int = 0, argtopk: int = 0) -> int:
    s = (Fraction(gemv_flops) / Fraction(spec.engine_gemv_flops) + Fraction(softmax) / Fraction(
        spec.engine_softmax_elements_per_s) + Fraction(argtopk) / Fraction(spec.engine_argtopk_elements_per_s))
    return flash.to_ns(s)


def _fetch(spec: StorageSpec, pages: int, transfer_s: Fraction | None = None) -> tuple[str, int, int]:
    """A flash phase: ``("flash", latency, occupancy)`` of a batch of ``pages`` striped reads."""
    lat = flash.to_ns(flash.read_batch_s(spec, pages, transfer_s=transfer_s))
    if spec.flash_queueing == "batch":
        return ("flash", lat, lat)
    return ("flash", lat, flash.to_ns(flash.read_occupancy_s(spec, pages, transfer_s=transfer_s)))


def dense_task(spec: StorageSpec, shape: DecodeShape) -> TaskWork:
    """Dense attention of one (sequence, KV head): read the flushed K and V pages of the past
    tokens, then ``g`` score GeMVs, softmaxes and context GeMVs over all ``S`` tokens."""
    g, s, d = shape.group, shape.context, shape.head_dim
    pages = 2 * shape.flushed_pages(spec)
    gemv = g * 4 * s * d
    c = _compute_ns(spec, gemv_flops=gemv, softmax=g * s)
    return TaskWork((_fetch(spec, pages), ("compute", c)), pages, pages * spec.flash_page_bytes, gemv, g * s, 0, 0)


def sparse_task(spec: StorageSpec, shape: DecodeShape, sel: SparseSelection | None = None) -> TaskWork:
    """SparF attention of one (sequence, KV head); ``sel`` = :func:`sparse_selection` by default."""
    sel = sel or sparse_selection(spec, shape)
    g, s, d = shape.group, shape.context, shape.head_dim
    c0 = _compute_ns(spec, argtopk=g * d)
    # phase 1: channel-indexed K pages, moved through the channel filters (inline with the bus)
    rate1 = min(spec.flash_channel_bytes_per_s, spec.engine_filter_bytes_per_s)
    f1 = _fetch(spec, sel.channel_pages, flash.page_transfer_s(spec, rate_bytes_per_s=rate1))
    c1 = _compute_ns(spec, gemv_flops=g * 2 * sel.channels * s, softmax=g * s, argtopk=g * s)
    # phase 2: the selected rows of K and V; a touched page costs a full tR, only the rows move
    x2 = flash.page_transfer_s(spec, sel.row_bytes_per_page) if sel.token_pages else Fraction(0)
    f2 = _fetch(spec, sel.token_pages, x2)
    c2 = _compute_ns(spec, gemv_flops=g * 4 * sel.tokens * d, softmax=g * sel.tokens)
    phases = (("compute", c0), f1, ("compute", c1), f2, ("compute", c2))
    moved = sel.channel_pages * spec.flash_page_bytes + math.ceil(sel.token_pages * sel.row_bytes_per_page)
    return TaskWork(phases, sel.channel_pages + sel.token_pages, moved,
                    g * 2 * sel.channels * s + g * 4 * sel.tokens * d, g * s + g * sel.tokens, g * d + g * s,
                    sel.channel_pages * spec.flash_page_bytes)


def task_work(spec: StorageSpec, shape: DecodeShape) -> TaskWork:
    return sparse_task(spec, shape) if spec.sparse else dense_task(spec, shape)


@dataclass(frozen=True)
class LayerSchedule:
    """Result of :func:`run_tasks`: ``makespan_ns``, ``flash_busy_ns`` (the array's occupancy:
    the flash phases' occupancy summed over the tasks) and ``kernel_busy_ns`` (compute time summed
    over kernels)."""

    makespan_ns: int
    flash_busy_ns: int
    kernel_busy_ns: int
    tasks: int
    kernels: int


Phase = tuple  # ("compute", ns) | ("flash", latency_ns) | ("flash", latency_ns, occupancy_ns)


def normalize_phases(phases: Sequence[Phase]) -> tuple[tuple[str, int, int], ...]:
    """``(kind, latency, occupancy)`` per phase; a compute phase occupies its kernel for its
    duration, a flash phase without an occupancy occupies the array for its latency (a batch
    barrier)."""
    out = []
    for ph in phases:
        kind, dur = ph[0], ph[1]
        occ = ph[2] if len(ph) > 2 else dur
        out.append((kind, dur, occ if kind == "flash" else dur))
    return tuple(out)


def run_tasks(n_tasks: int, kernels: int, phases: Sequence[Phase], buffers: int = 1) -> LayerSchedule:
    """Exact schedule of ``n_tasks`` identical tasks (see the module docstring).

    ``buffers`` task buffers per kernel (1: a kernel fetches, then computes; 2: double buffering,
    the next task's fetches run while the kernel computes). Semantics, shared with
    :func:`archsim.hw.storage.reference.engine_reference`: the first ``kernels x buffers`` tasks
    start at 0 on the slots in slot-major order (task ``i`` on kernel ``i mod K``); a finished
    task's slot takes the next task. Events are processed in (time, task) order. A flash phase
    issued at ``t`` starts at ``max(t, next)`` on the array, is ready ``latency`` later, and the
    array accepts the next batch ``occupancy`` after this one started (``next``); a compute phase
    waits for its kernel (first come, first served). The solver steps event by event until the
    state at a task start repeats, then jumps whole periods.
    """
    ph = normalize_phases(phases)
    flash_per = sum(o for k, _, o in ph if k == "flash")
    compute_per = sum(d for k, d, _ in ph if k != "flash")
    if n_tasks <= 0:
        return LayerSchedule(0, 0, 0, 0, kernels)
    nph = len(ph)
    heap: list[tuple[int, int, int, int, int]] = []  # (time, task, kernel, slot, phase)
    started = 0
    for b in range(buffers):
        for k in range(kernels):
            if started < n_tasks:
                heap.append((0, started, k, b, 0))
                started += 1
    heapq.heapify(heap)
    flash_next = 0
    kernel_free = [0] * kernels
    end = 0
    seen: dict[tuple, tuple[int, int]] = {}
    while heap:
        t, i, k, b, p = heapq.heappop(heap)
        if p == nph:
            end = max(end, t)
            if started < n_tasks:
                # period detection at task starts: the state relative to now
                key = (k, b, tuple(sorted((tt - t, ii - started, kk, bb, pp) for tt, ii, kk, bb, pp in heap)),
                       max(flash_next - t, 0), tuple(max(kf - t, 0) for kf in kernel_free))
                if key in seen:
                    t0, s0 = seen[key]
                    period_t, period_n = t - t0, started - s0
                    jumps = (n_tasks - started - 1) // period_n if period_n else 0
                    if jumps > 0:
                        shift, dn = jumps * period_t, jumps * period_n
                        t += shift
                        started += dn
                        heap = [(tt + shift, ii + dn, kk, bb, pp) for tt, ii, kk, bb, pp in heap]
                        heapq.heapify(heap)
                        flash_next += shift
                        kernel_free = [kf + shift for kf in kernel_free]
                        end = max(end, t)
                    seen.clear()
                else:
                    seen[key] = (t, started)
                heapq.heappush(heap, (t, started, k, b, 0))
                started += 1
            continue
        kind, dur, occ = ph[p]
        if kind == "flash":
            start = max(t, flash_next)
            flash_next = start + occ
            heapq.heappush(heap, (start + dur, i, k, b, p + 1))
        else:
            start = max(t, kernel_free[k])
            kernel_free[k] = start + dur
            heapq.heappush(heap, (start + dur, i, k, b, p + 1))
    return LayerSchedule(end, n_tasks * flash_per, n_tasks * compute_per, n_tasks, kernels)


def dense_closed_form_ns(n_tasks: int, kernels: int, f_ns: int, c_ns: int, s_ns: int | None = None,
                         buffers: int = 1) -> int:
    """Makespan of ``n`` dense tasks (fetch: latency ``F``, array occupancy ``S``, default ``F``;
    then compute ``C``) on ``K`` kernels with ``B`` task buffers each.

    Task ``i`` runs on kernel ``i mod K``; its fetch is issued when task ``i - K B`` has ended
    (its buffer is free), starts at ``s_i = max(issue, s_{i-1} + S)``, is ready at ``s_i + F``;
    its compute starts at ``max(s_i + F, e_{i-K})`` and ends at ``e_i``. The makespan is the
    heaviest path of that max-plus graph (flash edges ``S`` advance one task, kernel edges ``C``
    advance ``K``, buffer cycles ``F + C`` advance ``K B``); its weight is linear in the edge
    counts, so the maximum is at one of four extreme paths (``n - 1 = j K + k``)::

        (n-1) S + F + C                                   flash-bound
        k S + j C + F + C                                 kernel-bound
        k S + (j div B + 1)(F + C) + (j mod B) C          buffer cycles, then the kernel
        ((n-1) mod KB) S + ((n-1) div KB + 1)(F + C)      buffer cycles only

    With ``B = 1`` and ``S = F`` this is ``max(n F, (k + 1) F + j (F + C)) + C``.
    """
    if n_tasks <= 0:
        return 0
    s_ns = f_ns if s_ns is None else s_ns
    kb = kernels * buffers
    j, k = divmod(n_tasks - 1, kernels)
    fc = f_ns + c_ns
    return max((n_tasks - 1) * s_ns + fc,
               k * s_ns + j * c_ns + fc,
               k * s_ns + (j // buffers + 1) * fc + (j % buffers) * c_ns,
               ((n_tasks - 1) % kb) * s_ns + ((n_tasks - 1) // kb + 1) * fc)
