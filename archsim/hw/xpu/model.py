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
             **_: object) -> RunResult:
    """Run ``graph`` on the roofline ``spec`` (every level is the same closed form)."""
    if level == "cycle":
        raise InputError("--level", None, "analytic or event for a roofline processor", level)
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
