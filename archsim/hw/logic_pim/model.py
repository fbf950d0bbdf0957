"""One prefill or decode step of a decoder LLM graph on a Duplex system (``archsim run``).

The graph gives the model, the phase, the batch, the sequence length and (MoE) the expert token
counts of its routing; the step is costed by the serving step model
(:mod:`archsim.serving.step`) on the critical device: one row per op and layer, one event-table
track per unit (``xpu``, ``pim``, ``nvlink``, ``ib``), 1 cycle = 1 ns. Layers identical to an
earlier one (all but their MoE experts) are computed once; their rows say ``memoized_from``.

Levels: ``analytic`` uses the closed-form PIM stream (:func:`~archsim.hw.logic_pim.bundle.stream_cycles`),
``event`` issues each PIM stream's DRAM commands on the timing engine (memoized by size); they are
equal without refresh and within 0.1 % with it.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from archsim.engine import EventTable
from archsim.errors import InputError
from archsim.hw.logic_pim import bundle
from archsim.hw.logic_pim.pim import PimDevice
from archsim.hw.logic_pim.spec import DuplexSpec
from archsim.hw.logic_pim.stepper import step_model
from archsim.report.tables import format_table
from archsim.results import RunResult
from archsim.serving.model_dims import dims_from_graph_params
from archsim.serving.step import NodeBatch, StepCost, StepModel
from archsim.serving.units import to_action_counts
from archsim.workload.graph import Graph

LEVELS = ("analytic", "event")


def device_figures(spec: DuplexSpec) -> dict[str, Any]:
    """The PIM's derived figures: clock, FLOPS and bundle bandwidth per stack, Op/B, and the
    bundle-to-pseudo-channel bandwidth ratio, all from the spec and the DRAM timing."""
    if not spec.has_pim:
        return {}
    pim = PimDevice.from_spec(spec)
    std = pim.std
    path = bundle.pim_path(std, spec.pim_placement, spec.pim_bundle_ways)
    per_pch = bundle.pim_bytes_per_cycle(std, path)
    conv = bundle.pch_bytes_per_cycle(std)
    bw_stack = per_pch * std.clock_hz * spec.pch_per_stack
    return {
        "pim_clock_hz": pim.clock_hz,
        "pim_flops_per_s_per_stack": pim.flops_per_s_per_stack,
        "pim_bytes_per_s_per_stack": bw_stack,
        "pim_op_per_byte": pim.flops_per_s_per_stack / bw_stack,
        "pim_to_pch_bandwidth_ratio": per_pch / conv,
        "pch_bytes_per_s_per_stack": conv * std.clock_hz * spec.pch_per_stack,
    }


def stage_of(graph: Graph, nodes: int) -> list[NodeBatch]:
    """The graph's requests as a stage, dealt round robin to ``nodes`` data-parallel nodes."""
    p = graph.params
    batch = int(p["batch"])
    dec: list[list[int]] = [[] for _ in range(nodes)]
    pre: list[list[int]] = [[] for _ in range(nodes)]
    for r in range(batch):
        (dec if p["phase"] == "decode" else pre)[r % nodes].append(int(p["kv_len"] if p["phase"] == "decode"
                                                                     else p["seq_len"]))
    return [NodeBatch.of(dec[i], pre[i]) for i in range(nodes)]


def _rows_and_events(cost: StepCost, sm: StepModel, record_events: bool) -> tuple[list[dict], EventTable]:
    """Op rows and events of the recorded stage: segments one after another, the units of a
    segment in parallel, ops of one unit in sequence. ``util``: FLOPs over the unit's peak for
    the xPU and the PIM, bytes over the link bandwidth for NVLink and InfiniBand."""
    layers = sm.dims.layers
    peak = {"xpu": sm.xpu.flops_per_s, "pim": sm.pim.flops_per_s if sm.pim is not None else 1.0,
            "nvlink": sm.links.nvlink_bytes_per_s, "ib": sm.links.ib_bytes_per_s}
    events = EventTable(clock_hz=1e9, meta={"time_unit": "1 cycle = 1 ns", "device": "critical device"})
    rows: list[dict] = []
    first: dict[tuple[int, str], str] = {}
    t = 0.0
    for layer, seg in cost.timeline:
        prefix = f"layers.{layer}." if 0 <= layer < layers else ""
        unit_t: dict[str, float] = {}
        for op in seg.ops:
            start = t + unit_t.get(op.unit, 0.0)
            end = start + op.ns
            unit_t[op.unit] = end - t
            name = prefix + op.name
            key = (id(seg), op.name)
            s_c, e_c = math.floor(start), math.floor(end)
            kind = "comm" if op.unit in ("nvlink", "ib") else "compute"
            work = op.nbytes if kind == "comm" else op.flops
            util = min(1.0, work / (peak[op.unit] * op.ns * 1e-9)) if op.ns > 0 else 0.0
            if record_events and e_c > s_c:
                events.append(s_c, e_c, op.unit, name, kind, bytes=int(op.nbytes), macs=int(op.flops // 2),
                              util=util)
            rows.append({"op": name, "kind": seg.cls, "unit": op.unit, "start_cycle": s_c, "end_cycle": e_c,
                         "cycles": e_c - s_c, "compute_cycles": e_c - s_c, "stall_cycles": 0,
                         "macs": int(op.flops // 2), "utilization": util, "dram_read_bytes": int(op.nbytes),
                         "dram_write_bytes": 0, "energy_pj": 0.0, "memoized_from": first.get(key),
                         "time_ns": op.ns, "layer": layer})
            first.setdefault(key, name)
        t += seg.ns
    return rows, events


def simulate(graph: Graph, spec: DuplexSpec, *, level: str = "event", seed: int = 0, record_events: bool = True,
             devices: int | None = None, **options: Any) -> RunResult:
    """One step of ``graph`` on ``spec`` (see the module docstring)."""
    if options:
        name = sorted(options)[0]
        raise InputError(f"--{name.replace('_', '-')}", None, "an option of duplex architectures", options[name])
    if level not in LEVELS:
        raise InputError("--level", None, "analytic or event for a duplex system (the bank-bundle command "
                         "streams are the cycle-level detail; see docs/logic_pim.md)", level)
    if "config" not in graph.params or graph.params.get("phase") not in ("prefill", "decode"):
        raise InputError("--workload", None, "a decoder LLM (a HuggingFace config) for a duplex system", graph.name)
    dims = dims_from_graph_params(graph.params)
    sm: StepModel = step_model(spec, dims, devices=devices, routing="balanced", level=level)
    nodes = stage_of(graph, sm.plan.nodes)
    held = max(int(nb.decode_ctx.sum() + nb.prefill_len.sum()) for nb in nodes)
    if held > sm.kv_tokens_per_node:
        raise InputError("--seq-len", None, f"a batch whose KV cache fits the memory left after the weights "
                         f"({sm.kv_tokens_per_node:,} tokens per node of {sm.plan.tp} devices)",
                         f"{held:,} tokens")
    ec = None
    if dims.experts:
        ec = np.asarray(graph.params["expert_tokens"], dtype=np.int64)
    cost = sm.step(nodes, expert_counts=ec, record=True)
    rows, events = _rows_and_events(cost, sm, record_events)
    actions = to_action_counts(cost.counts, sm.pim_class, sm.pim_mac)
    total_pj, by_comp, unpriced = sm.table.price(actions)
    p = graph.params
    gen_tokens = cost.requests
    time_ns = cost.time_ns
    tokens_per_s = (cost.tokens if p["phase"] == "prefill" else gen_tokens) / time_ns * 1e9 if time_ns else 0.0
    notes = [f"{sm.plan.devices} devices ({sm.plan.nodes} node(s) x {sm.plan.tp}), experts {sm.plan.expert_split}; "
             "rows and events are the critical device, energy covers every device",
             "1 cycle = 1 ns; MoE experts run on the xPU or the PIM as dispatched (unit column)"]
    if unpriced:
        notes.append(f"counted but not priced: {', '.join(unpriced)}")
    util = {u: (b / time_ns if time_ns else 0.0) for u, b in cost.busy_ns.items()}
    totals = {
        "cycles": math.floor(time_ns), "time_ns": time_ns, "macs": graph.total_macs, "ops": len(rows),
        "tokens": cost.tokens, "requests": cost.requests, "tokens_per_s": tokens_per_s,
        "energy_pj": total_pj, "energy_per_token_pj": total_pj / (cost.tokens if p["phase"] == "prefill" else
                                                                   gen_tokens),
        "time_breakdown_ns": cost.parts_ns, "busy_ns": cost.busy_ns, "utilization_by_unit": util,
        "moe_work_on_pim": cost.moe_on_pim, "utilization": util.get("xpu", 0.0),
        "compute_cycles": math.floor(time_ns), "stall_cycles": 0,
        "dram_read_bytes": int(sum(r["dram_read_bytes"] for r in rows)), "dram_write_bytes": 0,
        "devices": sm.plan.devices, "kv_tokens_per_node": sm.kv_tokens_per_node,
    }
    arch = {"kind": "duplex", **spec.to_dict(), "resolved": {**device_figures(spec), "devices": sm.plan.devices,
                                                             "nodes": sm.plan.nodes, "tp": sm.plan.tp,
                                                             "expert_split": sm.plan.expert_split}}
    workload = {"name": graph.name, "source": graph.source, "params": graph.params, "ops": len(graph),
                "macs": graph.total_macs}
    return RunResult(arch=arch, workload=workload, ops=rows, totals=totals, events=events, actions=actions,
                     energy_breakdown_pj=by_comp, energy_table=sm.table.to_dict(), options={"level": level},
                     seed=seed, notes=notes, model_data={"summary": summary_text})


def summary_text(result: RunResult) -> str:
    t = result.totals
    a = result.arch
    r = a.get("resolved", {})
    lines = [f"{result.workload['name']} on {a['name']} ({a['pim_placement']} PIM, {r.get('devices')} devices, "
             f"{result.workload['params']['phase']}, batch {result.workload['params']['batch']}, "
             f"seq_len {result.workload['params']['seq_len']})"]
    if r.get("pim_flops_per_s_per_stack"):
        lines.append(f"PIM per stack: {r['pim_flops_per_s_per_stack'] / 1e12:.2f} TFLOPS at "
                     f"{r['pim_clock_hz'] / 1e6:.0f} MHz, {r['pim_bytes_per_s_per_stack'] / 1e12:.3f} TB/s "
                     f"({r['pim_to_pch_bandwidth_ratio']:g}x the pseudo-channels), "
                     f"{r['pim_op_per_byte']:.2f} FLOP/B")
    parts = [{"part": k, "time_us": v / 1e3, "share": v / t["time_ns"] if t["time_ns"] else 0.0}
             for k, v in t["time_breakdown_ns"].items()]
    lines.append(format_table(parts, ["part", "time_us", "share"]))
    lines.append(f"step {t['time_ns'] / 1e3:,.1f} us, {t['tokens_per_s']:,.0f} tokens/s, energy "
                 f"{t['energy_pj'] / 1e6:,.1f} uJ ({t['energy_per_token_pj'] / 1e6:,.3f} uJ/token), expert work on "
                 f"the PIM {t['moe_work_on_pim']:.0%}")
    return "\n".join(lines) + "\n"
