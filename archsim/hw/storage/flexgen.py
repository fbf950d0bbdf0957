"""FlexGen-style offloading (the InstInfer baseline): the KV cache lives on an SSD (or in host
memory) and is read into the GPU every decode step; the GPU runs the whole layer.

The schedule is FlexGen's ``generation_loop_overlap_single_batch`` / ``..._multi_batch``
(FMInference/FlexGen ``flexgen/flex_opt.py``): the layers are ``InputEmbed``, then
``SelfAttention`` and ``MLP`` per transformer layer, then ``OutputEmbed``; with ``micro_batches``
GPU batches each layer runs once per GPU batch. Step ``s`` runs, concurrently, the GPU compute of
``s``, the KV load for step ``s + 1`` (when it is an attention step) and the store of the new
k/v of step ``s - 1``, then synchronizes: ``step = max(gpu, load, store)``. This is the overlap
structure of FlexGen's cost model (``experimental/cost_model.py``: ``T_gen = max(ctog, gtoc, dtoc,
ctod, comp)`` per layer), with the KV cache read into the GPU (``cpu_cache_compute`` off, the
runtime default).

KV paths (``kv_path``, ``kv_location``):

* ``bounce``: FlexGen's ``TorchDisk``: each K or V tensor (``[:S]`` rows of the cache file) is
  one job of a copy thread (``copy_worker_func``): read from the SSD into a pinned relay buffer
  at ``host_read_bytes_per_s``, then copied to the GPU over its PCIe link. K and V run on two
  threads; the SSD and the link serve jobs first come, first served. Stores go the other way
  (GPU -> pinned buffer -> file, ``host_write_bytes_per_s``). A tensor larger than the relay
  buffer (``host_relay_buffer_bytes``, 1 G FP16 elements) cannot be copied: the run is reported
  infeasible (what stops FlexGen at batch 128 in InstInfer Fig. 14).
* ``gds``: GPUDirect Storage: SSD -> GPU at ``min(gds_read, GPU link)``, no host copy.
* ``kv_location: host``: the KV cache in host DRAM, copied to the GPU over its PCIe link.

Levels: ``analytic`` is the closed form of this FIFO schedule per step; ``event`` runs it in
SimPy (copy threads, SSD, the two directions of the GPU link); they are equal.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction

import simpy

from archsim.engine import ActionCounts
from archsim.hw.storage import flash
from archsim.hw.storage.energy import Prices
from archsim.hw.storage.gpu import GpuWork, OpCost, group_ns, group_peak_ns, group_traffic, span_util
from archsim.hw.storage.kvlayout import DecodeShape, micro_batch_sizes
from archsim.hw.storage.spec import StorageSpec
from archsim.hw.storage.timeline import Breakdown, Spans

_ATTN_POST = re.compile(r"^layers\.\d+\.attn")


@dataclass(frozen=True)
class Step:
    """One FlexGen step: ``kind`` (embed / attn / mlp / head), its layer and GPU batch, GPU time
    (``gpu_ns`` of which ``attention_ns`` is score/softmax/context) and KV bytes per tensor; the
    GPU work's energy, MACs and FLOP time at the GPU's peak (``gpu_*`` the whole step's, of which
    ``attention_*`` the attention ops')."""

    kind: str
    layer: int
    batch: int
    gpu_ns: int
    attention_ns: int
    kv_tensor_bytes: int  # one of K or V loaded before this step (attn steps)
    new_tensor_bytes: int  # one of the new k or v stored after this step (attn steps)
    gpu_pj: float = 0.0
    attention_pj: float = 0.0
    gpu_macs: int = 0
    attention_macs: int = 0
    gpu_peak_ns: float = 0.0
    attention_peak_ns: float = 0.0

    @property
    def name(self) -> str:
        return f"layers.{self.layer}.{self.kind}" if self.kind in ("attn", "mlp") else self.kind


def steps(spec: StorageSpec, shape: DecodeShape, work: GpuWork, pr: Prices) -> list[Step]:
    """FlexGen's layer/GPU-batch steps of one decode token, in loop order."""
    out: list[Step] = []
    batches = micro_batch_sizes(spec, shape.batch)
    fr = [b / shape.batch for b in batches]
    per_seq_row = shape.kv_heads * shape.row_bytes

    def gpu_only(kind: str, layer: int, k: int, ops: tuple[OpCost, ...], f: float) -> Step:
        return Step(kind, layer, k, group_ns(ops, f), 0, 0, 0, pr.gpu(ops, f), 0.0, group_traffic(ops, f)[3], 0,
                    group_peak_ns(ops, f))

    for k, f in enumerate(fr):
        out.append(gpu_only("embed", -1, k, work.embed, f))
    for i, lay in enumerate(work.layers):
        attn_post = tuple(o for o in lay.post if _ATTN_POST.match(o.name))
        mlp = tuple(o for o in lay.post if not _ATTN_POST.match(o.name))
        for k, (b, f) in enumerate(zip(batches, fr)):
            ops: tuple[OpCost, ...] = (*lay.pre, *lay.attn, *attn_post)
            out.append(Step("attn", i, k, group_ns(ops, f), group_ns(lay.attn, f),
                            shape.context * b * per_seq_row, b * per_seq_row, pr.gpu(ops, f), pr.gpu(lay.attn, f),
                            group_traffic(ops, f)[3], group_traffic(lay.attn, f)[3], group_peak_ns(ops, f),
                            group_peak_ns(lay.attn, f)))
        for k, f in enumerate(fr):
            out.append(gpu_only("mlp", i, k, mlp, f))
    for k, f in enumerate(fr):
        out.append(gpu_only("head", -1, k, work.head, f))
    return out


def _ns(nbytes: int, rate: float) -> int:
    return flash.to_ns(Fraction(nbytes) / Fraction(rate))


@dataclass(frozen=True)
class IoTimes:
    """Per-tensor stage times of one load (``read``, ``h2d``) and one store (``d2h``, ``write``)."""

    read: int
    h2d: int
    d2h: int
    write: int


def io_times(spec: StorageSpec, load_bytes: int, store_bytes: int) -> IoTimes:
    link = spec.gpu_pcie_bytes_per_s
    if spec.kv_location == "host":
        return IoTimes(0, _ns(load_bytes, link), _ns(store_bytes, link), 0)
    if spec.kv_path == "gds":
        return IoTimes(_ns(load_bytes, min(spec.gds_read_bytes_per_s, link)), 0,
                       _ns(store_bytes, min(spec.host_write_bytes_per_s, link)), 0)
    return IoTimes(_ns(load_bytes, spec.host_read_bytes_per_s), _ns(load_bytes, link), _ns(store_bytes, link),
                   _ns(store_bytes, spec.host_write_bytes_per_s))


def overlap_closed_form(spec: StorageSpec, io: IoTimes, load: bool, store: bool) -> tuple[int, int]:
    """``(load_end, store_end)`` of one step's two loads (K, V) and two stores, all issued at 0
    in that order (FIFO SSD and link ports; see the module docstring)."""
    a, h, u, w = io.read, io.h2d, io.d2h, io.write
    load_end = store_end = 0
    if spec.kv_location == "host":
        if load:
            load_end = 2 * h
        if store:
            store_end = 2 * u
        return load_end, store_end
    if spec.kv_path == "gds":
        ssd_free = 2 * a if load else 0
        if load:
            load_end = 2 * a
        if store:
            store_end = ssd_free + 2 * u
        return load_end, store_end
    if load:
        load_end = max(2 * a, a + h) + h
    if store:
        ssd_free = 2 * a if load else 0
        k_end = max(u, ssd_free) + w
        store_end = max(2 * u, k_end) + w
    return load_end, store_end


def _gpu_spans(spans: Spans, t: int, st: Step, op: str) -> None:
    """The step's GPU spans: its other ops, then its attention ops (with their MACs; utilization =
    FLOPs over the GPU's peak in the span)."""
    a = st.attention_ns
    rest = st.gpu_ns - a
    spans.add(t, t + rest, "gpu", op, "compute", macs=st.gpu_macs - st.attention_macs,
              util=span_util(st.gpu_peak_ns - st.attention_peak_ns, rest), pj=st.gpu_pj - st.attention_pj)
    spans.add(t + rest, t + st.gpu_ns, "gpu", op + ".attention", "compute", macs=st.attention_macs,
              util=span_util(st.attention_peak_ns, a), pj=st.attention_pj)


def _pages_pj(spec: StorageSpec, nbytes: int, program: bool) -> float:
    """Flash energy of moving ``nbytes`` to or from the SSD's NAND (whole pages)."""
    pages = -(-nbytes // spec.flash_page_bytes)
    return pages * (spec.flash_program_pj_per_page if program else spec.flash_read_pj_per_page)


class _EventModel:
    def __init__(self, spec: StorageSpec, shape: DecodeShape, st: list[Step]):
        self.spec, self.shape, self.steps = spec, shape, st
        env = self.env = simpy.Environment()
        self.gpu = simpy.Resource(env, 1)
        self.threads = simpy.Resource(env, 4)  # TorchDisk(num_copy_threads=4)
        self.ssd = simpy.Resource(env, 1)
        self.h2d = simpy.Resource(env, 1)
        self.d2h = simpy.Resource(env, 1)
        self.spans = Spans()

    def _hold(self, res: simpy.Resource, ns: int, unit: str, op: str, kind: str, nbytes: int, pj: float = 0.0):
        with res.request() as req:
            yield req
            s = self.env.now
            yield self.env.timeout(ns)
            self.spans.add(s, s + ns, unit, op, kind, nbytes=nbytes, util=1.0, pj=pj)

    def _load(self, io: IoTimes, nbytes: int, op: str):
        spec = self.spec
        if spec.kv_location == "host":
            yield from self._hold(self.h2d, io.h2d, "gpu.pcie_rx", op, "kv_h2d", nbytes)
            return
        if spec.kv_path == "gds":
            with self.ssd.request() as r1:
                yield r1
                with self.h2d.request() as r2:
                    yield r2
                    s = self.env.now
                    yield self.env.timeout(io.read)
                    self.spans.add(s, s + io.read, "ssd", op, "kv_read", nbytes=nbytes, util=1.0,
                                   pj=_pages_pj(spec, nbytes, False))
                    self.spans.add(s, s + io.read, "gpu.pcie_rx", op, "kv_h2d", nbytes=nbytes, util=1.0)
            return
        with self.threads.request() as t:
            yield t
            yield from self._hold(self.ssd, io.read, "ssd", op, "kv_read", nbytes, _pages_pj(spec, nbytes, False))
            yield from self._hold(self.h2d, io.h2d, "gpu.pcie_rx", op, "kv_h2d", nbytes)

    def _store(self, io: IoTimes, nbytes: int, op: str):
        spec = self.spec
        if spec.kv_location == "host":
            yield from self._hold(self.d2h, io.d2h, "gpu.pcie_tx", op, "kv_d2h", nbytes)
            return
        if spec.kv_path == "gds":
            with self.d2h.request() as r1:
                yield r1
                with self.ssd.request() as r2:
                    yield r2
                    s = self.env.now
                    yield self.env.timeout(io.d2h)
                    self.spans.add(s, s + io.d2h, "gpu.pcie_tx", op, "kv_d2h", nbytes=nbytes, util=1.0)
                    self.spans.add(s, s + io.d2h, "ssd", op, "kv_write", nbytes=nbytes, util=1.0,
                                   pj=_pages_pj(spec, nbytes, True))
            return
        with self.threads.request() as t:
            yield t
            yield from self._hold(self.d2h, io.d2h, "gpu.pcie_tx", op, "kv_d2h", nbytes)
            yield from self._hold(self.ssd, io.write, "ssd", op, "kv_write", nbytes, _pages_pj(spec, nbytes, True))

    def _gpu(self, st: Step):
        with self.gpu.request() as req:
            yield req
            s = self.env.now
            yield self.env.timeout(st.gpu_ns)
            op = st.name + (f"[b{st.batch}]" if min(self.spec.micro_batches, self.shape.batch) > 1 else "")
            _gpu_spans(self.spans, s, st, op)

    def _run(self):
        env, st = self.env, self.steps
        for s in range(len(st)):
            procs = []
            nxt = st[s + 1] if s + 1 < len(st) else None
            prv = st[s - 1] if s > 0 else None
            if nxt is not None and nxt.kind == "attn":
                io = io_times(self.spec, nxt.kv_tensor_bytes, nxt.new_tensor_bytes)
                for t in ("k", "v"):
                    procs.append(env.process(self._load(io, nxt.kv_tensor_bytes, f"{nxt.name}.load_{t}")))
            if prv is not None and prv.kind == "attn":
                io = io_times(self.spec, prv.kv_tensor_bytes, prv.new_tensor_bytes)
                for t in ("k", "v"):
                    procs.append(env.process(self._store(io, prv.new_tensor_bytes, f"{prv.name}.store_{t}")))
            procs.append(env.process(self._gpu(st[s])))
            yield env.all_of(procs)

    def run(self) -> int:
        self.env.run(self.env.process(self._run()))
        return int(self.env.now)


def simulate_analytic(spec: StorageSpec, shape: DecodeShape, st: list[Step], *,
                      record: bool = True) -> tuple[int, Spans, Breakdown]:
    """Closed form of FlexGen's step schedule; ``record=False`` skips the spans."""
    spans = Spans(enabled=record)
    bd = Breakdown()
    t = 0
    for s, step in enumerate(st):
        nxt = st[s + 1] if s + 1 < len(st) else None
        prv = st[s - 1] if s > 0 else None
        load = nxt is not None and nxt.kind == "attn"
        store = prv is not None and prv.kind == "attn"
        load_end = store_end = 0
        if load or store:
            io = io_times(spec, nxt.kv_tensor_bytes if load else 0, prv.new_tensor_bytes if store else 0)
            load_end, store_end = overlap_closed_form(spec, io, load, store)
            _record_io(spans, spec, t, io, nxt if load else None, prv if store else None)
        g = step.gpu_ns
        op = step.name + (f"[b{step.batch}]" if min(spec.micro_batches, shape.batch) > 1 else "")
        _gpu_spans(spans, t, step, op)
        dt = max(g, load_end, store_end)
        # priority attribution: the KV load, then what the stores add, then the GPU's exposed tail
        # (its attention ops run last in the step's GPU span)
        io_end = max(load_end, store_end)
        exposed = max(0, g - io_end)
        bd.add("kv_access", load_end)
        bd.add("kv_write", io_end - load_end)
        bd.add("attention_compute", min(step.attention_ns, exposed))
        bd.add("gpu", exposed - min(step.attention_ns, exposed))
        t += dt
    return t, spans, bd


def _record_io(spans: Spans, spec: StorageSpec, t0: int, io: IoTimes, nxt: Step | None, prv: Step | None) -> None:
    """The load/store spans of one step, at the times of :func:`overlap_closed_form`."""
    a, h, u, w = io.read, io.h2d, io.d2h, io.write
    ssd_free = t0
    if nxt is not None:
        nb = nxt.kv_tensor_bytes
        if spec.kv_location == "host":
            for i, t in enumerate(("k", "v")):
                spans.add(t0 + i * h, t0 + (i + 1) * h, "gpu.pcie_rx", f"{nxt.name}.load_{t}", "kv_h2d", nbytes=nb,
                          util=1.0)
        elif spec.kv_path == "gds":
            for i, t in enumerate(("k", "v")):
                s = t0 + i * a
                spans.add(s, s + a, "ssd", f"{nxt.name}.load_{t}", "kv_read", nbytes=nb, util=1.0,
                          pj=_pages_pj(spec, nb, False))
                spans.add(s, s + a, "gpu.pcie_rx", f"{nxt.name}.load_{t}", "kv_h2d", nbytes=nb, util=1.0)
            ssd_free = t0 + 2 * a
        else:
            rpj = _pages_pj(spec, nb, False)
            spans.add(t0, t0 + a, "ssd", f"{nxt.name}.load_k", "kv_read", nbytes=nb, util=1.0, pj=rpj)
            spans.add(t0 + a, t0 + 2 * a, "ssd", f"{nxt.name}.load_v", "kv_read", nbytes=nb, util=1.0, pj=rpj)
            spans.add(t0 + a, t0 + a + h, "gpu.pcie_rx", f"{nxt.name}.load_k", "kv_h2d", nbytes=nb, util=1.0)
            v0 = t0 + max(2 * a, a + h)
            spans.add(v0, v0 + h, "gpu.pcie_rx", f"{nxt.name}.load_v", "kv_h2d", nbytes=nb, util=1.0)
            ssd_free = t0 + 2 * a
    if prv is not None:
        nb = prv.new_tensor_bytes
        if spec.kv_location == "host":
            for i, t in enumerate(("k", "v")):
                spans.add(t0 + i * u, t0 + (i + 1) * u, "gpu.pcie_tx", f"{prv.name}.store_{t}", "kv_d2h", nbytes=nb,
                          util=1.0)
        elif spec.kv_path == "gds":
            for i, t in enumerate(("k", "v")):
                s = ssd_free + i * u
                spans.add(s, s + u, "gpu.pcie_tx", f"{prv.name}.store_{t}", "kv_d2h", nbytes=nb, util=1.0)
                spans.add(s, s + u, "ssd", f"{prv.name}.store_{t}", "kv_write", nbytes=nb, util=1.0,
                          pj=_pages_pj(spec, nb, True))
        else:
            spans.add(t0, t0 + u, "gpu.pcie_tx", f"{prv.name}.store_k", "kv_d2h", nbytes=nb, util=1.0)
            spans.add(t0 + u, t0 + 2 * u, "gpu.pcie_tx", f"{prv.name}.store_v", "kv_d2h", nbytes=nb, util=1.0)
            k0 = max(t0 + u, ssd_free)
            wpj = _pages_pj(spec, nb, True)
            spans.add(k0, k0 + w, "ssd", f"{prv.name}.store_k", "kv_write", nbytes=nb, util=1.0, pj=wpj)
            v0 = max(t0 + 2 * u, k0 + w)
            spans.add(v0, v0 + w, "ssd", f"{prv.name}.store_v", "kv_write", nbytes=nb, util=1.0, pj=wpj)


def simulate_event(spec: StorageSpec, shape: DecodeShape, st: list[Step], *,
                   record: bool = True) -> tuple[int, Spans, Breakdown]:
    model = _EventModel(spec, shape, st)
    model.spans.enabled = record
    end = model.run()
    seq_end, _, bd = simulate_analytic(spec, shape, st, record=False)
    return end, model.spans, bd.hide(seq_end - end)


def actions(spec: StorageSpec, shape: DecodeShape, work: GpuWork, st: list[Step]) -> ActionCounts:
    a = ActionCounts()
    for f in (b / shape.batch for b in micro_batch_sizes(spec, shape.batch)):
        ops = [*work.embed, *work.head, *(o for lay in work.layers for o in (*lay.pre, *lay.attn, *lay.post))]
        flops, reads, writes, _ = group_traffic(ops, f)
        a.add("gpu", "xpu", "flop", flops)
        a.add("gpu.dram", "xpu_dram", "read_bytes", reads)
        a.add("gpu.dram", "xpu_dram", "write_bytes", writes)
    load = sum(2 * s.kv_tensor_bytes for s in st if s.kind == "attn")
    store = sum(2 * s.new_tensor_bytes for s in st if s.kind == "attn")
    page = spec.flash_page_bytes
    if spec.kv_location == "ssd":
        a.add("ssd", "flash", "page_read", sum(2 * -(-s.kv_tensor_bytes // page) for s in st if s.kind == "attn"))
        a.add("ssd", "flash", "page_program", sum(2 * -(-s.new_tensor_bytes // page) for s in st if s.kind == "attn"))
        if spec.kv_path == "bounce":
            a.add("host", "host_dram", "copy_bytes", load + store)
    else:
        a.add("host", "host_dram", "read_bytes", load)
        a.add("host", "host_dram", "write_bytes", store)
    a.add("gpu.pcie", "pcie", "bytes", load + store)
    return a
