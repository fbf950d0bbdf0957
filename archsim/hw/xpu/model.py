"""Roofline execution of a workload graph on a processor (GPU/CPU baseline).

Each op takes ``max(ops / (peak(dtype) * compute_efficiency), bytes / (bandwidth *
memory_efficiency)) + launch_overhead``, with ``ops = 2 * MACs`` for GEMM kinds (a MAC is two
FLOPs) and the vector-op count otherwise, and ``bytes`` = every input (weights, KV cache) read
plus every output written once. Ops run one after another. Energy is ``pj_per_flop * ops +
pj_per_byte * bytes``.
"""

from __future__ import annotations

import math

from archsim.energy import EnergyTable
from archsim.engine import ActionCounts, EventTable
from archsim.errors import InputError
from archsim.hw.xpu.spec import XpuSpec
from archsim.results import RunResult
from archsim.workload.graph import Graph, Op


def op_time_ns(op: Op, spec: XpuSpec) -> tuple[float, float, float, int, int]:
    """``(time_ns, compute_ns, memory_ns, ops, bytes)`` of one op on ``spec``."""
    dtype = op.inputs[0].dtype if op.inputs else "fp16"
    ops = 2 * op.macs if op.is_gemm else op.vector_ops
    nbytes = op.input_bytes + op.output_bytes
    comp = ops / (spec.peak(dtype) * spec.compute_efficiency) * 1e9
    mem = nbytes / (spec.mem_bytes_per_s * spec.memory_efficiency) * 1e9
    return max(comp, mem) + spec.launch_overhead_ns, comp, mem, ops, nbytes


def energy_table(spec: XpuSpec) -> EnergyTable:
    src = spec.source or spec.name
    return EnergyTable.from_dict({
        "version": 1, "name": f"{spec.name}-roofline",
        "entries": {"xpu": {"flop": {"pj": spec.pj_per_flop, "source": src}},
                    "xpu_dram": {"read_bytes": {"pj": spec.pj_per_byte, "source": src},
                                 "write_bytes": {"pj": spec.pj_per_byte, "source": src}}},
    }, source=f"{spec.name} preset")


def simulate(graph: Graph, spec: XpuSpec, *, level: str = "analytic", seed: int = 0, record_events: bool = True,
             tokens: int | None = None, **_: object) -> RunResult:
    """Run ``graph`` on the roofline ``spec`` (every level is the same closed form); with ``tokens``,
    a generation of that many decode steps (:func:`generate`)."""
    if level == "cycle":
        raise InputError("--level", None, "analytic or event for a roofline processor", level)
    if tokens is not None:
        return generate(graph, spec, tokens, level=level, seed=seed, record_events=record_events)
    table = energy_table(spec)
    events = EventTable(clock_hz=spec.clock_hz, meta={"arch": spec.name})
    actions = ActionCounts()
    rows = []
    t_ns = 0.0
    memo: dict = {}
    for op in graph.ops:
        key = op.signature()
        first = memo.get(key)
        time_ns, comp_ns, mem_ns, ops, nbytes = op_time_ns(op, spec)
        a = ActionCounts()
        a.add("xpu", "xpu", "flop", ops)
        a.add("xpu.dram", "xpu_dram", "read_bytes", op.input_bytes)
        a.add("xpu.dram", "xpu_dram", "write_bytes", op.output_bytes)
        actions.merge(a)
        pj, _, _ = table.price(a)
        start_c = math.floor(t_ns * spec.clock_hz / 1e9)
        end_c = math.floor((t_ns + time_ns) * spec.clock_hz / 1e9)
        bound = "compute" if comp_ns >= mem_ns else "memory"
        if record_events and end_c > start_c:
            util = (comp_ns / time_ns) if time_ns else 0.0
            events.append(start_c, end_c, "xpu", op.name, "compute", bytes=nbytes, macs=op.macs, util=util)
        rows.append({
            "op": op.name, "kind": str(op.kind), "unit": "xpu", "start_cycle": start_c, "end_cycle": end_c,
            "cycles": end_c - start_c, "compute_cycles": math.floor(comp_ns * spec.clock_hz / 1e9),
            "stall_cycles": max(0, end_c - start_c - math.floor(comp_ns * spec.clock_hz / 1e9)), "macs": op.macs,
            "utilization": comp_ns / time_ns if time_ns else 0.0, "dram_read_bytes": op.input_bytes,
            "dram_write_bytes": op.output_bytes, "energy_pj": pj, "memoized_from": first, "time_ns": time_ns,
            "bound": bound, "ops": ops,
        })
        memo.setdefault(key, op.name)
        t_ns += time_ns
    total_pj, by_comp, _ = table.price(actions)
    cycles = math.floor(t_ns * spec.clock_hz / 1e9)
    macs = sum(r["macs"] for r in rows)
    return RunResult(
        arch={"kind": "xpu", **spec.to_dict()},
        workload={"name": graph.name, "source": graph.source, "params": graph.params, "ops": len(graph),
                  "macs": graph.total_macs},
        ops=rows,
        totals={"cycles": cycles, "time_ns": t_ns, "macs": macs,
                "utilization": sum(r["utilization"] * r["time_ns"] for r in rows) / t_ns if t_ns else 0.0,
                "compute_cycles": sum(r["compute_cycles"] for r in rows),
                "stall_cycles": sum(r["stall_cycles"] for r in rows),
                "dram_read_bytes": sum(r["dram_read_bytes"] for r in rows),
                "dram_write_bytes": sum(r["dram_write_bytes"] for r in rows), "energy_pj": total_pj,
                "ops": len(rows)},
        events=events, actions=actions, energy_breakdown_pj=by_comp, energy_table=table.to_dict(),
        options={"level": level}, seed=seed,
        notes=["roofline model: every level is the same closed form; utilization = compute time / op time"],
    )


def generate(graph: Graph, spec: XpuSpec, tokens: int, *, level: str = "analytic", seed: int = 0,
             record_events: bool = True) -> RunResult:
    """A generation of ``tokens`` decode steps with a growing KV cache
    (:mod:`archsim.workload.generation`): the ops that do not depend on the context are costed once,
    the attention ops at each step's context; one row and one event span per token."""
    from archsim.workload.generation import CONTEXT_KINDS, at_context, generation_contexts, kv_len

    contexts, notes = generation_contexts(graph, tokens)
    table = energy_table(spec)
    fixed = [0.0, 0.0, 0, 0, 0, 0]  # time_ns, compute_ns, flops, read bytes, write bytes, macs
    groups: dict[tuple, list] = {}  # context-dependent ops by shape: [op, count]
    for op in graph.ops:
        if op.kind in CONTEXT_KINDS:
            groups.setdefault(op.signature(), [op, 0])[1] += 1
            continue
        time_ns, comp_ns, _, ops, _ = op_time_ns(op, spec)
        for i, v in enumerate((time_ns, comp_ns, ops, op.input_bytes, op.output_bytes, op.macs)):
            fixed[i] += v
    events = EventTable(clock_hz=spec.clock_hz, meta={"arch": spec.name})
    rows, flops, reads, writes = [], 0, 0, 0
    t_ns = 0.0
    for i, ctx in enumerate(contexts):
        kv = kv_len(graph, ctx)
        time_ns, comp_ns, f, rb, wb, macs = fixed
        for op, count in groups.values():
            o = at_context(op, kv)
            tt, cc, _, n_ops, _ = op_time_ns(o, spec)
            time_ns += tt * count
            comp_ns += cc * count
            f += n_ops * count
            rb += o.input_bytes * count
            wb += o.output_bytes * count
            macs += o.macs * count
        flops, reads, writes = flops + f, reads + rb, writes + wb
        pj = spec.pj_per_flop * f + spec.pj_per_byte * (rb + wb)
        start_c = math.floor(t_ns * spec.clock_hz / 1e9)
        end_c = math.floor((t_ns + time_ns) * spec.clock_hz / 1e9)
        comp_c = math.floor(comp_ns * spec.clock_hz / 1e9)
        if record_events and end_c > start_c:
            events.append(start_c, end_c, "xpu", f"token[{i}]", "decode_token", bytes=rb + wb, macs=macs,
                          util=comp_ns / time_ns if time_ns else 0.0)
        rows.append({
            "op": f"token[{i}]", "kind": "decode_token", "unit": "xpu", "start_cycle": start_c, "end_cycle": end_c,
            "cycles": end_c - start_c, "compute_cycles": comp_c, "stall_cycles": max(0, end_c - start_c - comp_c),
            "macs": macs, "utilization": comp_ns / time_ns if time_ns else 0.0, "dram_read_bytes": rb,
            "dram_write_bytes": wb, "energy_pj": pj, "memoized_from": None, "time_ns": time_ns, "context": ctx,
            "latency_ns": time_ns, "ops": f,
        })
        t_ns += time_ns
    actions = ActionCounts()
    actions.add("xpu", "xpu", "flop", flops)
    actions.add("xpu.dram", "xpu_dram", "read_bytes", reads)
    actions.add("xpu.dram", "xpu_dram", "write_bytes", writes)
    total_pj, by_comp, _ = table.price(actions)
    n_tok = len(contexts) * int(graph.params.get("batch", 1))
    lat = [r["time_ns"] for r in rows]
    totals = {
        "cycles": math.floor(t_ns * spec.clock_hz / 1e9), "time_ns": t_ns, "macs": sum(r["macs"] for r in rows),
        "utilization": sum(r["utilization"] * r["time_ns"] for r in rows) / t_ns if t_ns else 0.0,
        "compute_cycles": sum(r["compute_cycles"] for r in rows), "stall_cycles": sum(r["stall_cycles"] for r in rows),
        "dram_read_bytes": reads, "dram_write_bytes": writes, "energy_pj": total_pj, "ops": len(rows),
        "tokens": n_tok, "first_context": contexts[0], "last_context": contexts[-1],
        "tokens_per_s": n_tok / (t_ns * 1e-9) if t_ns else 0.0,
        "latency_per_token_ns": sum(lat) / len(lat), "latency_per_token_ns_first": lat[0],
        "latency_per_token_ns_last": lat[-1], "energy_per_token_pj": total_pj / n_tok,
    }
    notes = notes + [f"{n_tok} tokens (contexts {contexts[0]}..{contexts[-1]}): {totals['tokens_per_s']:,.2f} tokens/s, "
                     f"{totals['latency_per_token_ns'] / 1e6:,.3f} ms and {totals['energy_per_token_pj'] / 1e9:,.3f} mJ "
                     "per token (mean)",
                     "roofline model: every level is the same closed form; utilization = compute time / op time",
                     f"generation: {len(graph.ops) - sum(c for _, c in groups.values())} context-independent ops costed "
                     f"once, {sum(c for _, c in groups.values())} attention ops ({len(groups)} shapes) per token"]
    return RunResult(
        arch={"kind": "xpu", **spec.to_dict()},
        workload={"name": graph.name, "source": graph.source, "params": graph.params, "ops": len(graph),
                  "macs": graph.total_macs},
        ops=rows, totals=totals, events=events, actions=actions, energy_breakdown_pj=by_comp,
        energy_table=table.to_dict(), options={"level": level, "tokens": tokens}, seed=seed, notes=notes,
    )
