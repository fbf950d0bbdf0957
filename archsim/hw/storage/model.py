"""Decode step of an LLM with its KV cache in storage: InstInfer (attention in CSDs) or FlexGen
(KV read into the GPU), one :class:`~archsim.results.RunResult` per step.

Throughput is ``batch / step time`` (every sequence gains one token per step); the step time is
also the per-token latency, broken down in ``totals["breakdown_ns"]`` (see
:mod:`archsim.hw.storage.timeline`). The event table has one track per unit: ``gpu``, the GPU's
PCIe ports, per drive its flash array, attention engine and PCIe ports (InstInfer) or the SSD
(FlexGen); 1 cycle = 1 ns.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from archsim.engine import ActionCounts
from archsim.errors import InputError
from archsim.hw.storage import flash, flexgen, instinfer
from archsim.hw.storage.energy import energy_table, prices
from archsim.hw.storage.gpu import GpuWork, gpu_work, group_traffic
from archsim.hw.storage.kvlayout import DecodeShape, decode_shape, micro_batch_sizes
from archsim.hw.storage.spec import StorageSpec
from archsim.hw.storage.summary import summary_text
from archsim.hw.storage.timeline import Breakdown, Spans, to_event_table
from archsim.hw.xpu.spec import XpuSpec
from archsim.results import RunResult
from archsim.workload.graph import Graph

LEVELS = ("analytic", "event")
_MB_TAG = re.compile(r"\[(?:mb|b)\d+\]")


def load_gpu(spec: StorageSpec) -> XpuSpec:
    """The GPU's xpu spec named by ``spec.gpu`` (a preset name or a spec ``.yaml``)."""
    from archsim.arch import load_arch

    gpu = load_arch(spec.gpu)
    if not isinstance(gpu, XpuSpec):
        raise InputError(None, "gpu", "an xpu (GPU) preset or spec", spec.gpu)
    return gpu


def feasibility(spec: StorageSpec, shape: DecodeShape, work: GpuWork, gpu: XpuSpec) -> list[str]:
    """Reasons the configuration cannot run (empty when it can): GPU memory, FlexGen's pinned
    relay buffer, host memory for a host-resident KV cache."""
    problems = []
    weights = work.weight_bytes
    biggest = max(micro_batch_sizes(spec, shape.batch))
    if spec.system == "flexgen":
        # FlexGen mha_gen: the loaded K/V of a layer plus its permuted copies, and the scores
        layer_kv = 2 * shape.context * biggest * shape.kv_heads * shape.row_bytes
        scores = biggest * shape.heads * shape.context * shape.dtype_bytes
        need = weights + 2 * layer_kv + scores
        if need > gpu.mem_capacity_bytes:
            problems.append(f"GPU memory: {need / 2**30:.1f} GiB (weights + 2 layers of K/V + scores) > "
                            f"{gpu.mem_capacity_bytes / 2**30:.1f} GiB")
        tensor = layer_kv // 2
        if spec.kv_location == "ssd" and spec.kv_path == "bounce" and tensor > spec.host_relay_buffer_bytes:
            problems.append(f"FlexGen copy-thread relay buffer: one K tensor is {tensor / 2**30:.2f} GiB > "
                            f"{spec.host_relay_buffer_bytes / 2**30:.2f} GiB pinned buffer")
        if spec.kv_location == "host" and shape.kv_cache_bytes > spec.host_memory_bytes:
            problems.append(f"host memory: KV cache {shape.kv_cache_bytes / 2**30:.1f} GiB > "
                            f"{spec.host_memory_bytes / 2**30:.1f} GiB")
    elif weights > gpu.mem_capacity_bytes:
        problems.append(f"GPU memory: weights {weights / 2**30:.1f} GiB > {gpu.mem_capacity_bytes / 2**30:.1f} GiB")
    return problems


def _rows(spans: Spans) -> list[dict[str, Any]]:
    """Per-op rows: spans grouped by op (micro-batch tags removed) and unit (drive index as
    ``drive*``); ``cycles`` is the group's extent, ``compute_cycles`` the sum of its spans."""
    groups: dict[tuple[str, str], dict[str, Any]] = {}
    for s, e, unit, op, kind, nb, macs, util, pj in sorted(spans.rows, key=lambda r: (r[0], r[2], r[3])):
        key = (_MB_TAG.sub("", op), re.sub(r"drive\d+", "drive*", unit))
        g = groups.get(key)
        if g is None:
            g = groups[key] = {"op": key[0], "kind": kind, "unit": key[1], "start_cycle": s, "end_cycle": e,
                               "busy": 0, "util_w": 0.0, "bytes": 0, "macs": 0, "pj": 0.0, "spans": 0}
        g["start_cycle"] = min(g["start_cycle"], s)
        g["end_cycle"] = max(g["end_cycle"], e)
        g["busy"] += e - s
        g["util_w"] += util * (e - s)
        g["bytes"] += nb
        g["macs"] += macs
        g["pj"] += pj
        g["spans"] += 1
    rows = []
    for g in groups.values():
        rows.append({
            "op": g["op"], "kind": g["kind"], "unit": g["unit"], "start_cycle": g["start_cycle"],
            "end_cycle": g["end_cycle"], "cycles": g["end_cycle"] - g["start_cycle"], "compute_cycles": g["busy"],
            "stall_cycles": 0, "macs": g["macs"], "utilization": g["util_w"] / g["busy"] if g["busy"] else 0.0,
            "dram_read_bytes": 0, "dram_write_bytes": 0, "energy_pj": g["pj"], "memoized_from": None,
            "bytes": g["bytes"], "spans": g["spans"],
        })
    return rows


def simulate(graph: Graph, spec: StorageSpec, *, level: str = "event", seed: int = 0, record_events: bool = True,
             **options: Any) -> RunResult:
    """One decode step of ``graph`` on ``spec`` at ``level`` (``analytic`` or ``event``)."""
    if options:
        name = sorted(options)[0]
        raise InputError(f"--{name.replace('_', '-')}", None, "an option of storage architectures", options[name])
    if level not in LEVELS:
        raise InputError("--level", None, "analytic or event for a storage system (the cycle-level references "
                         "check single flash batches and attention layers, see docs/storage.md)", level)
    shape = decode_shape(graph)
    gpu = load_gpu(spec)
    work = gpu_work(graph, gpu)
    step = run_step(spec, shape, work, gpu, level)
    step_ns, spans, bd, acts = step.step_ns, step.spans, step.breakdown, step.actions
    kv_read, extra = step.kv_read, step.extra
    notes: list[str] = list(step.notes)
    table = energy_table(spec, gpu)
    total_pj, by_comp, unpriced = table.price(acts)
    if unpriced:
        notes.append(f"counted but not priced (no sourced pJ figure): {', '.join(unpriced)}")
    problems = feasibility(spec, shape, work, gpu)
    for pr_ in problems:
        notes.append(f"INFEASIBLE: {pr_}")
    if spec.micro_batches > shape.batch:
        notes.append(f"micro_batches {spec.micro_batches} > batch {shape.batch}: {shape.batch} micro-batches used")
    if level == "analytic" and spec.system == "instinfer" and min(spec.micro_batches, shape.batch) > 1:
        notes.append("analytic level: micro-batches run one after another (no overlap); the event level overlaps them")
    events = to_event_table(spans if record_events else Spans(), spec.clock_hz, {"arch": spec.name})
    rows = _rows(spans)
    step_s = step_ns * 1e-9
    gpu_busy = sum(e - s for s, e, u, *_ in spans.rows if u == "gpu")
    gpu_reads = acts.get("gpu.dram", "read_bytes")
    gpu_writes = acts.get("gpu.dram", "write_bytes")
    totals = {
        "cycles": step_ns, "time_ns": float(step_ns), "ops": len(rows),
        "tokens_per_s": shape.batch / step_s if step_s else 0.0,
        "per_token_latency_ns": step_ns,
        "breakdown_ns": dict(bd.ns),
        "breakdown_share": bd.shares(),
        "kv_access_share": bd.shares()["kv_access"],
        "batch": shape.batch, "context": shape.context,
        "kv_bytes_per_token": shape.kv_bytes_per_token,
        "kv_cache_bytes": shape.kv_cache_bytes,
        "kv_bytes_read": kv_read,
        "kv_read_bytes_per_s": kv_read / step_s if step_s else 0.0,
        "flash_pages_read": sum(n for (c, k, a), n in acts.counts.items() if k == "flash" and a == "page_read"),
        "flash_pages_programmed": sum(n for (c, k, a), n in acts.counts.items() if k == "flash" and a == "page_program"),
        "pcie_bytes": sum(n for (c, k, a), n in acts.counts.items() if k == "pcie"),
        "macs": _gpu_macs(spec, shape, work) + sum(r["macs"] for r in rows if r["unit"] != "gpu"),
        "utilization": gpu_busy / step_ns if step_ns else 0.0,
        "compute_cycles": gpu_busy, "stall_cycles": step_ns - gpu_busy,
        "dram_read_bytes": gpu_reads, "dram_write_bytes": gpu_writes,
        "energy_pj": total_pj, "energy_per_token_pj": total_pj / shape.batch,
        "feasible": not problems, "infeasible_reasons": problems,
        **extra,
    }
    arch = {"kind": "storage", **spec.to_dict(), "gpu_spec": gpu.to_dict()}
    return RunResult(
        arch=arch,
        workload={"name": graph.name, "source": graph.source, "params": graph.params, "ops": len(graph),
                  "macs": graph.total_macs},
        ops=rows, totals=totals, events=events, actions=acts, energy_breakdown_pj=by_comp,
        energy_table=table.to_dict(), options={"level": level}, seed=seed, notes=notes,
        model_data={"summary": summary_text, "breakdown": bd, "shape": shape},
    )


@dataclass
class StepRun:
    """One simulated decode step before it becomes a RunResult."""

    step_ns: int
    spans: Spans
    breakdown: Breakdown
    actions: ActionCounts
    kv_read: int
    extra: dict[str, Any]
    notes: list[str]


def run_step(spec: StorageSpec, shape: DecodeShape, work: GpuWork, gpu: XpuSpec, level: str, *,
             record: bool = True) -> StepRun:
    """Simulate one decode step of ``shape`` (GPU ops ``work``) on ``spec`` at ``level``
    (``record=False``: no spans, for sweeps)."""
    pr = prices(spec, gpu)
    notes: list[str] = []
    if spec.system == "instinfer":
        p = instinfer.plan(spec, shape, work, pr)
        sim = instinfer.simulate_event if level == "event" else instinfer.simulate_analytic
        step_ns, spans, bd = sim(spec, p, record=record)
        acts = instinfer.actions(spec, p, work)
        schedules = {d.share.tasks for mb in p.micro for d in mb.drives}
        notes.append(f"each drive's attention schedule is computed once per task count ({len(schedules)} distinct) and "
                     f"reused for all {shape.layers} layers")
        kv_read = sum(d.share.tasks * p.task.flash_bytes for mb in p.micro for d in mb.drives) * shape.layers
        extra = _instinfer_totals(spec, shape, p)
    else:
        st = flexgen.steps(spec, shape, work, pr)
        sim = flexgen.simulate_event if level == "event" else flexgen.simulate_analytic
        step_ns, spans, bd = sim(spec, shape, st, record=record)
        acts = flexgen.actions(spec, shape, work, st)
        kv_read = sum(2 * s.kv_tensor_bytes for s in st if s.kind == "attn")
        extra = {"kv_path": "host_memory" if spec.kv_location == "host" else spec.kv_path}
    return StepRun(step_ns, spans, bd, acts, kv_read, extra, notes)


def _gpu_macs(spec: StorageSpec, shape: DecodeShape, work: GpuWork) -> int:
    """MACs the GPU does in the step (attention ops only for FlexGen, which runs them there)."""
    total = 0
    for seqs in micro_batch_sizes(spec, shape.batch):
        f = seqs / shape.batch
        for lay in work.layers:
            ops = (*lay.pre, *lay.post, *(lay.attn if spec.system == "flexgen" else ()))
            total += group_traffic(ops, f)[3]
        total += group_traffic((*work.embed, *work.head), f)[3]
    return total


def _instinfer_totals(spec: StorageSpec, shape: DecodeShape, p: instinfer.Plan) -> dict[str, Any]:
    drives = [d for d in p.micro[0].drives]
    return {
        "drives": spec.drives,
        "sparse": spec.sparse,
        "flash_internal_peak_bytes_per_s": spec.flash_internal_bytes_per_s * spec.drives,
        "flash_streaming_bytes_per_s": flash.streaming_read_bytes_per_s(spec) * spec.drives,
        "drive_pcie_bytes_per_s": spec.drive_pcie_bytes_per_s * spec.drives,
        "task_flash_ns": p.task.flash_ns,
        "task_flash_occupancy_ns": p.task.flash_occupancy_ns,
        "task_compute_ns": p.task.compute_ns,
        "task_flash_pages": p.task.flash_pages,
        "drive_attention_ns": [d.attention.makespan_ns for d in drives],
    }


def breakdown_of(result: RunResult) -> Breakdown:
    return result.model_data["breakdown"]
