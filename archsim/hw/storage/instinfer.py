"""InstInfer: decode attention in computational storage drives, the rest on the GPU.

Per layer and micro-batch (InstInfer Sec. IV-A; GPU <-> CSD by PCIe peer-to-peer DMA):

1. GPU ``pre`` ops (norm, Q/K/V projections);
2. q, k, v of the drive's heads (or sequences) cross PCIe to each drive, one after another on
   the GPU's link (each transfer holds the GPU link and the drive's link; time = bytes / the
   slower of the two);
3. each drive runs its attention tasks (:mod:`archsim.hw.storage.engine`) once its data has
   arrived and its flash is free; a step that completes KV pages then programs them
   (posted: the next attention on that drive waits for it, the GPU does not);
4. the outputs return over PCIe in the order the drives finish;
5. GPU ``post`` ops (output projection, MLP).

``micro_batches > 1`` splits the batch (FlexGen's GPU batches, which InstInfer's runtime uses)
so that one micro-batch's GPU work overlaps another's drive work. Levels:

* ``analytic``: the stages above composed in closed form, micro-batches one after another (no
  overlap). Exact for ``micro_batches == 1`` (equal to the event level).
* ``event``: SimPy processes for the GPU, the GPU's PCIe link (one port per direction), each
  drive's link and each drive, with every micro-batch walking the layers concurrently.
* ``cycle``: not available for whole steps; the page-level flash and task-level engine
  references (:mod:`archsim.hw.storage.reference`) check the stage closed forms.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import simpy

from archsim.engine import ActionCounts
from archsim.hw.storage import flash
from archsim.hw.storage.energy import Prices
from archsim.hw.storage.engine import LayerSchedule, TaskWork, run_tasks, task_work
from archsim.hw.storage.gpu import GpuSpan, GpuWork, gpu_span, group_traffic
from archsim.hw.storage.kvlayout import (
    DecodeShape,
    DriveShare,
    drive_shares,
    flush_pages_per_pair,
    micro_batch_sizes,
)
from archsim.hw.storage.spec import StorageSpec
from archsim.hw.storage.timeline import Breakdown, Spans


@dataclass(frozen=True)
class DriveStage:
    """One drive's part of one (layer, micro-batch): transfers, attention and page flush."""

    share: DriveShare
    down_bytes: int
    up_bytes: int
    down_ns: int
    up_ns: int
    attention: LayerSchedule
    flush_pages: int
    flush_ns: int
    flash_pj: float
    engine_pj: float
    flush_pj: float


@dataclass(frozen=True)
class MicroBatch:
    sequences: int
    frac: float
    drives: tuple[DriveStage, ...]
    embed: GpuSpan
    head: GpuSpan
    pre: tuple[GpuSpan, ...]  # per layer
    post: tuple[GpuSpan, ...]


@dataclass(frozen=True)
class Plan:
    """Every stage time of one decode step (shared by both levels)."""

    shape: DecodeShape
    task: TaskWork
    micro: tuple[MicroBatch, ...]


def _xfer_ns(spec: StorageSpec, nbytes: int) -> int:
    rate = min(spec.gpu_pcie_bytes_per_s, spec.drive_pcie_bytes_per_s)
    return flash.to_ns(Fraction(nbytes) / Fraction(rate))


def plan(spec: StorageSpec, shape: DecodeShape, work: GpuWork, pr: Prices) -> Plan:
    """Every stage of the step (GPU groups per layer and micro-batch, transfers, drive schedules)."""
    task = task_work(spec, shape)
    per_pair_flush = flush_pages_per_pair(spec, shape)
    cache: dict[int, LayerSchedule] = {}
    micro = []
    for seqs in micro_batch_sizes(spec, shape.batch):
        frac = seqs / shape.batch
        drives = []
        for share in drive_shares(spec, shape, seqs):
            if share.tasks not in cache:
                cache[share.tasks] = run_tasks(share.tasks, spec.engine_kernels, task.phases, spec.engine_task_buffers)
            q_heads = share.kv_heads * shape.group
            down = share.sequences * (q_heads + 2 * share.kv_heads) * shape.row_bytes
            up = share.sequences * q_heads * shape.row_bytes
            pages = share.tasks * per_pair_flush
            n = share.tasks
            drives.append(DriveStage(
                share, down, up, _xfer_ns(spec, down), _xfer_ns(spec, up), cache[share.tasks], pages,
                flash.to_ns(flash.program_batch_s(spec, pages)), n * task.flash_pages * pr.flash_read_pj_per_page,
                n * (task.gemv_flops * pr.engine_pj_per_flop
                     + (task.softmax_elements + task.argtopk_elements) * pr.engine_pj_per_element),
                pages * pr.flash_program_pj_per_page))
        micro.append(MicroBatch(seqs, frac, tuple(drives), gpu_span(work.embed, frac, pr.gpu(work.embed, frac)),
                                gpu_span(work.head, frac, pr.gpu(work.head, frac)),
                                tuple(gpu_span(lay.pre, frac, pr.gpu(lay.pre, frac)) for lay in work.layers),
                                tuple(gpu_span(lay.post, frac, pr.gpu(lay.post, frac)) for lay in work.layers)))
    return Plan(shape, task, tuple(micro))


def _mb(m: int, n: int) -> str:
    return f"[mb{m}]" if n > 1 else ""


def _record_gpu(spans: Spans, start: int, g: GpuSpan, op: str) -> None:
    """A GPU span: its ops' MACs, utilization = their FLOPs over the GPU's peak in the span."""
    spans.add(start, start + g.ns, "gpu", op, "compute", macs=g.macs, util=g.util, pj=g.pj)


def _record_drive(spans: Spans, task: TaskWork, d: DriveStage, layer: int, tag: str, start: int) -> None:
    """The drive's flash and engine spans of one attention (the flash span's utilization is its
    busy fraction; the engine's, the kernels' busy fraction)."""
    a = d.attention
    if not a.makespan_ns:
        return
    end = start + a.makespan_ns
    op = f"layers.{layer}.attention{tag}"
    i = d.share.drive
    spans.add(start, end, f"drive{i}.flash", op, "kv_read", nbytes=d.share.tasks * task.flash_bytes,
              util=a.flash_busy_ns / a.makespan_ns, pj=d.flash_pj)
    spans.add(start, end, f"drive{i}.engine", op, "compute", macs=d.share.tasks * task.gemv_flops // 2,
              util=a.kernel_busy_ns / (a.kernels * a.makespan_ns), pj=d.engine_pj)


def simulate_analytic(spec: StorageSpec, p: Plan, *, record: bool = True) -> tuple[int, Spans, Breakdown]:
    """Closed-form composition of the stages, micro-batches in sequence (see module docstring);
    ``record=False`` skips the spans."""
    spans = Spans(enabled=record)
    bd = Breakdown()
    lat = spec.pcie_latency_ns
    n_mb = len(p.micro)
    drive_free = [0] * spec.drives
    t = 0
    for m, mb in enumerate(p.micro):
        _record_gpu(spans, t, mb.embed, f"embed{_mb(m, n_mb)}")
        t += mb.embed.ns
        bd.add("gpu", mb.embed.ns)
    for layer in range(p.shape.layers):
        for m, mb in enumerate(p.micro):
            tag = _mb(m, n_mb)
            _record_gpu(spans, t, mb.pre[layer], f"layers.{layer}.gpu_pre{tag}")
            t += mb.pre[layer].ns
            bd.add("gpu", mb.pre[layer].ns)
            tx = t
            arrive, starts, ends = [], [], []
            for d in mb.drives:
                i = d.share.drive
                spans.add(tx, tx + d.down_ns, "gpu.pcie_tx", f"layers.{layer}.qkv{tag}", "p2p", nbytes=d.down_bytes,
                          util=1.0)
                spans.add(tx, tx + d.down_ns, f"drive{i}.pcie_rx", f"layers.{layer}.qkv{tag}", "p2p",
                          nbytes=d.down_bytes, util=1.0)
                tx += d.down_ns
                arrive.append(tx + lat)
            for k, d in enumerate(mb.drives):
                i = d.share.drive
                s = max(arrive[k], drive_free[i])
                _record_drive(spans, p.task, d, layer, tag, s)
                e = s + d.attention.makespan_ns
                drive_free[i] = e
                if d.flush_ns:
                    spans.add(e, e + d.flush_ns, f"drive{i}.flash", f"layers.{layer}.kv_flush{tag}", "kv_flush",
                              nbytes=d.flush_pages * spec.flash_page_bytes, util=1.0, pj=d.flush_pj)
                    drive_free[i] = e + d.flush_ns
                starts.append(s)
                ends.append(e)
            rx = None
            done = []
            for k in sorted(range(len(mb.drives)), key=lambda k: (ends[k], starts[k], k)):
                d = mb.drives[k]
                s = ends[k] if rx is None else max(ends[k], rx)
                spans.add(s, s + d.up_ns, f"drive{d.share.drive}.pcie_tx", f"layers.{layer}.out{tag}", "p2p",
                          nbytes=d.up_bytes, util=1.0)
                spans.add(s, s + d.up_ns, "gpu.pcie_rx", f"layers.{layer}.out{tag}", "p2p", nbytes=d.up_bytes,
                          util=1.0)
                rx = s + d.up_ns
                done.append((rx + lat, k))
            t_done, c = max(done)
            d = mb.drives[c]
            bd.add("transfers", arrive[c] - t + (t_done - ends[c]))
            bd.add("kv_write", starts[c] - arrive[c])
            bd.add("kv_access", d.attention.flash_busy_ns)
            bd.add("attention_compute", d.attention.makespan_ns - d.attention.flash_busy_ns)
            t = t_done
            _record_gpu(spans, t, mb.post[layer], f"layers.{layer}.gpu_post{tag}")
            t += mb.post[layer].ns
            bd.add("gpu", mb.post[layer].ns)
    for m, mb in enumerate(p.micro):
        _record_gpu(spans, t, mb.head, f"head{_mb(m, n_mb)}")
        t += mb.head.ns
        bd.add("gpu", mb.head.ns)
    end = max([t, *drive_free])
    bd.add("kv_write", end - t)
    return end, spans, bd


class _EventModel:
    """SimPy processes of one decode step (see the module docstring)."""

    def __init__(self, spec: StorageSpec, p: Plan):
        self.spec, self.p = spec, p
        self.env = simpy.Environment()
        env = self.env
        self.gpu = simpy.Resource(env, 1)
        self.gpu_tx = simpy.Resource(env, 1)
        self.gpu_rx = simpy.Resource(env, 1)
        self.drive = [simpy.Resource(env, 1) for _ in range(spec.drives)]
        self.drive_rx = [simpy.Resource(env, 1) for _ in range(spec.drives)]
        self.drive_tx = [simpy.Resource(env, 1) for _ in range(spec.drives)]
        self.spans = Spans()
        self.flush_ends = [0] * spec.drives

    def _gpu(self, g: GpuSpan, op: str):
        with self.gpu.request() as req:
            yield req
            s = self.env.now
            yield self.env.timeout(g.ns)
            _record_gpu(self.spans, s, g, op)

    def _xfer(self, first: simpy.Resource, second: simpy.Resource, ns: int, nbytes: int, units: tuple[str, str],
              op: str):
        with first.request() as r1:
            yield r1
            with second.request() as r2:
                yield r2
                s = self.env.now
                yield self.env.timeout(ns)
                for u in units:
                    self.spans.add(s, s + ns, u, op, "p2p", nbytes=nbytes, util=1.0)
        if self.spec.pcie_latency_ns:
            yield self.env.timeout(self.spec.pcie_latency_ns)

    def _flush(self, d: DriveStage, op: str):
        i = d.share.drive
        with self.drive[i].request() as req:
            yield req
            s = self.env.now
            yield self.env.timeout(d.flush_ns)
            self.spans.add(s, s + d.flush_ns, f"drive{i}.flash", op, "kv_flush",
                           nbytes=d.flush_pages * self.spec.flash_page_bytes, util=1.0, pj=d.flush_pj)
            self.flush_ends[i] = max(self.flush_ends[i], s + d.flush_ns)

    def _drive_chain(self, d: DriveStage, layer: int, tag: str):
        env = self.env
        i = d.share.drive
        yield from self._xfer(self.gpu_tx, self.drive_rx[i], d.down_ns, d.down_bytes,
                              ("gpu.pcie_tx", f"drive{i}.pcie_rx"), f"layers.{layer}.qkv{tag}")
        with self.drive[i].request() as req:
            yield req
            s = env.now
            yield env.timeout(d.attention.makespan_ns)
            _record_drive(self.spans, self.p.task, d, layer, tag, s)
        if d.flush_ns:
            env.process(self._flush(d, f"layers.{layer}.kv_flush{tag}"))
        yield from self._xfer(self.drive_tx[i], self.gpu_rx, d.up_ns, d.up_bytes,
                              (f"drive{i}.pcie_tx", "gpu.pcie_rx"), f"layers.{layer}.out{tag}")

    def _micro_batch(self, m: int):
        env, p = self.env, self.p
        mb = p.micro[m]
        tag = _mb(m, len(p.micro))
        yield from self._gpu(mb.embed, f"embed{tag}")
        for layer in range(p.shape.layers):
            yield from self._gpu(mb.pre[layer], f"layers.{layer}.gpu_pre{tag}")
            chains = [env.process(self._drive_chain(d, layer, tag)) for d in mb.drives]
            yield env.all_of(chains)
            yield from self._gpu(mb.post[layer], f"layers.{layer}.gpu_post{tag}")
        yield from self._gpu(mb.head, f"head{tag}")

    def run(self) -> int:
        procs = [self.env.process(self._micro_batch(m)) for m in range(len(self.p.micro))]
        self.env.run(self.env.all_of(procs))
        end = self.env.now
        self.env.run()  # drain posted flushes
        return max(end, *self.flush_ends)


def simulate_event(spec: StorageSpec, p: Plan, *, record: bool = True) -> tuple[int, Spans, Breakdown]:
    """SimPy run of the step; the breakdown is the analytic one with the overlap credit taken
    from the lower-priority categories (:meth:`Breakdown.hide`)."""
    model = _EventModel(spec, p)
    model.spans.enabled = record
    end = model.run()
    seq_end, _, bd = simulate_analytic(spec, p, record=False)
    return end, model.spans, bd.hide(seq_end - end)


def actions(spec: StorageSpec, p: Plan, work: GpuWork) -> ActionCounts:
    """What the step did: GPU FLOPs and DRAM bytes, flash pages, engine work, PCIe bytes."""
    a = ActionCounts()
    layers = p.shape.layers
    for mb in p.micro:
        ops = [*work.embed, *work.head, *(o for lay in work.layers for o in (*lay.pre, *lay.post))]
        flops, reads, writes, _ = group_traffic(ops, mb.frac)
        a.add("gpu", "xpu", "flop", flops)
        a.add("gpu.dram", "xpu_dram", "read_bytes", reads)
        a.add("gpu.dram", "xpu_dram", "write_bytes", writes)
        for d in mb.drives:
            i, n = d.share.drive, d.share.tasks * layers
            a.add(f"drive{i}.flash", "flash", "page_read", n * p.task.flash_pages)
            a.add(f"drive{i}.flash", "flash", "page_program", d.flush_pages * layers)
            a.add(f"drive{i}.engine", "csd_engine", "flop", n * p.task.gemv_flops)
            a.add(f"drive{i}.engine", "csd_engine", "element", n * (p.task.softmax_elements + p.task.argtopk_elements))
            a.add(f"drive{i}.engine", "csd_filter", "bytes", n * p.task.filter_bytes)
            a.add(f"drive{i}.pcie", "pcie", "bytes", (d.down_bytes + d.up_bytes) * layers)
    return a
