"""Decode tokens of a dense decoder LLM on a DRAM-PIM device with its ASIC -> :class:`RunResult`.

``simulate(graph, spec, tokens=N)`` generates ``N`` tokens one by one (contexts ``S .. S+N-1``,
:mod:`archsim.workload.generation`); without ``tokens`` it runs the graph's one decode step. The
rows are the steps of that step (one per graph op; fused ops point at the step that runs them) or,
for a generation, one per token. Totals hold tokens/s, latency and energy per token, the row-hit
rate, the VMM / data-movement / non-VMM / refresh split and unit utilizations.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from archsim.errors import InputError
from archsim.hw.dram_pim import mapping
from archsim.hw.dram_pim.device import CI, COUNTS, PimDevice
from archsim.hw.dram_pim.energy import action_counts, energy_table
from archsim.hw.dram_pim.plan import Plan, build_plan
from archsim.hw.dram_pim.spec import PimSpec
from archsim.hw.dram_pim.tokens import TokenRun, run_tokens
from archsim.results import RunResult
from archsim.workload.graph import Graph


def simulate(graph: Graph, spec: PimSpec, *, level: str = "event", seed: int = 0, record_events: bool = True,
             tokens: int | None = None, **options: Any) -> RunResult:
    """Run ``graph`` (a decode step) on ``spec``; ``tokens``: generate that many tokens."""
    if options:
        name = sorted(options)[0]
        raise InputError(f"--{name.replace('_', '-')}", None, "an option of dram_pim architectures (tokens)",
                         options[name])
    plan = build_plan(graph)
    notes: list[str] = []
    if tokens is None:
        contexts = [plan.context]
    else:
        from archsim.workload.generation import generation_contexts

        contexts, gen_notes = generation_contexts(graph, tokens)
        notes += gen_notes
    device = PimDevice(spec, level)
    runs = run_tokens(device, plan, contexts, detail=1 if record_events else 0)
    if tokens is None:
        rows = _step_rows(device, plan, runs[0], graph)
    else:
        rows = [_token_row(device, t) for t in runs]
    return _result(graph, spec, device, plan, runs, rows, level, seed, tokens, notes, record_events)


def _ns(device: PimDevice, cycles: float) -> float:
    return cycles * 1e9 / device.spec.standard.clock_hz


def _hit_rate(c: np.ndarray) -> float:
    acc = int(c[CI["accesses"]])
    return int(c[CI["hits"]]) / acc if acc else 0.0


def _util(device: PimDevice, macs: float, cycles: float) -> float:
    """Useful MACs over what every lane of every unit could do in ``cycles`` (DRAM cycles)."""
    sp = device.spec
    peak = sp.units * sp.lanes_per_unit * sp.unit_clock_hz / sp.standard.clock_hz
    return min(1.0, macs / (peak * cycles)) if cycles else 0.0


def _stream_util(device: PimDevice, macs: float, cycles: float) -> float:
    """Useful MACs over a burst into every unit every MAC interval (the array's MAC-stream peak)."""
    sp = device.spec
    peak = sp.units * sp.elems_per_burst / sp.mac_interval_cycles
    return min(1.0, macs / (peak * cycles)) if cycles else 0.0


def _step_rows(device: PimDevice, plan: Plan, tok: TokenRun, graph: Graph) -> list[dict]:
    """One row per graph op, in graph order (``archsim replay`` can rebuild them): a step's time
    goes to its first op (the others of a fused VMM say ``fused_into``), the KV write to its score
    op and sampling to the lm_head; ``step`` names what ran."""
    sp = device.spec
    bb = sp.standard.burst_bytes
    acts_per_refresh = device.refresh_penalty[1] * sp.scopes if sp.refresh != "none" else 0.0
    acc: dict[str, dict] = {}
    fused: dict[str, str] = {}
    for span in tok.spans or ():
        s, r = span.step, span.result
        c = r.counts
        ref_acts = round(span.refreshes * acts_per_refresh)  # rows reopened after refreshes
        a = acc.get(s.row)
        if a is None:
            a = acc[s.row] = {"start": span.start, "end": span.end, "pim": 0, "asic": 0, "refreshes": 0, "macs": 0,
                              "energy": 0.0, "counts": np.zeros(len(COUNTS), np.int64), "acts": 0, "steps": [],
                              "twin": s.twin}
        a["start"], a["end"] = min(a["start"], span.start), max(a["end"], span.end)
        a["pim"] += span.pim_cycles
        a["asic"] += r.asic_cycles
        a["refreshes"] += span.refreshes
        a["macs"] += r.macs
        a["energy"] += r.energy_pj + ref_acts * sp.act_pj
        a["counts"] += c
        a["acts"] += ref_acts
        a["steps"].append(s.kind if s.kind != "asic" else s.asic[0])
        for other in s.ops[1:]:
            fused[other] = s.row
    rows = []
    for op in graph.ops:
        a = acc.get(op.name)
        if a is None:
            into = fused.get(op.name)
            start = acc[into]["start"] if into in acc else 0
            rows.append({"op": op.name, "kind": str(op.kind), "unit": "pim" if op.is_gemm else "asic",
                         "start_cycle": start, "end_cycle": start, "cycles": 0, "compute_cycles": 0, "stall_cycles": 0,
                         "macs": op.macs, "utilization": 0.0, "dram_read_bytes": 0, "dram_write_bytes": 0,
                         "energy_pj": 0.0, "memoized_from": None, "step": "fused", "fused_into": into,
                         "pim_cycles": 0, "asic_cycles": 0, "refreshes": 0, "row_hit_rate": 0.0,
                         "bank_activations": 0, "gb_bytes": 0, "readout_bytes": 0, "pim_commands": 0, "asic_ops": 0})
            continue
        c = a["counts"]
        rows.append({
            "op": op.name, "kind": str(op.kind), "unit": "pim" if a["pim"] else "asic", "start_cycle": a["start"],
            "end_cycle": a["end"], "cycles": a["end"] - a["start"], "compute_cycles": a["pim"],
            "stall_cycles": a["asic"], "macs": op.macs, "utilization": _util(device, a["macs"], a["pim"]),
            "dram_read_bytes": int(c[CI["mac_bursts"]] + c[CI["read_bursts"]]) * bb,
            "dram_write_bytes": int(c[CI["write_bursts"]]) * bb, "energy_pj": a["energy"],
            "memoized_from": a["twin"], "step": "+".join(a["steps"]), "fused_into": None,
            "pim_cycles": a["pim"], "asic_cycles": a["asic"], "refreshes": a["refreshes"],
            "row_hit_rate": _hit_rate(c), "bank_activations": int(c[CI["bank_activations"]]) + a["acts"],
            "gb_bytes": int(c[CI["gb_bursts"]]) * bb, "readout_bytes": int(c[CI["readout_bursts"]]) * bb,
            "pim_commands": int(c[CI["commands"]]), "asic_ops": int(c[CI["asic_ops"]]),
        })
    return rows


def _token_row(device: PimDevice, t: TokenRun) -> dict:
    bb = device.spec.standard.burst_bytes
    c = t.counts
    return {
        "op": f"token[{t.index}]", "kind": "decode_token", "unit": "device", "start_cycle": t.start,
        "end_cycle": t.end, "cycles": t.cycles, "compute_cycles": t.vmm_cycles + t.data_cycles,
        "stall_cycles": t.non_vmm_cycles + t.refresh_cycles, "macs": t.macs,
        "utilization": _util(device, t.macs, t.cycles),
        "dram_read_bytes": int(c[CI["mac_bursts"]] + c[CI["read_bursts"]]) * bb,
        "dram_write_bytes": int(c[CI["write_bursts"]]) * bb, "energy_pj": t.energy_pj, "memoized_from": None,
        "context": t.context, "latency_ns": _ns(device, t.cycles), "vmm_cycles": t.vmm_cycles,
        "data_movement_cycles": t.data_cycles, "non_vmm_cycles": t.non_vmm_cycles, "refresh_cycles": t.refresh_cycles,
        "refreshes": t.refreshes, "row_hit_rate": _hit_rate(c),
    }


def _result(graph: Graph, spec: PimSpec, device: PimDevice, plan: Plan, runs: list[TokenRun], rows: list[dict],
            level: str, seed: int, tokens: int | None, notes: list[str], record_events: bool) -> RunResult:
    sp = spec
    bb = sp.standard.burst_bytes
    counts = np.sum([t.counts for t in runs], axis=0) if runs else np.zeros(len(COUNTS), np.int64)
    cycles = runs[-1].end if runs else 0
    time_ns = _ns(device, cycles)
    n_tok = len(runs) * plan.batch
    lat = np.array([_ns(device, t.cycles) for t in runs])
    energy = np.array([t.energy_pj for t in runs])
    actions = action_counts(sp, counts)
    table = energy_table(sp)
    total_pj, by_comp, unpriced = table.price(actions)
    vmm = sum(t.vmm_cycles for t in runs)
    data = sum(t.data_cycles for t in runs)
    nonvmm = sum(t.non_vmm_cycles for t in runs)
    ref = sum(t.refresh_cycles for t in runs)
    macs = sum(t.macs for t in runs)
    io_bursts = int(counts[CI["gb_bursts"]] + counts[CI["readout_bursts"]] + counts[CI["read_bursts"]] +
                    counts[CI["write_bursts"]])
    asic_work = sum(t.asic_work_cycles for t in runs)
    positions = mapping.reserved_positions(sp, plan.max_positions)
    weights = _resident_weight_bytes(sp, plan)
    kv = mapping.kv_cache_bytes(sp, plan.layers, plan.kv_heads, plan.head_dim, positions) * plan.batch
    capacity = sp.standard.capacity_bytes * sp.channels
    layer_steps = sum(1 for s in plan.steps if s.layer >= 0)
    reused = sum(1 for s in plan.steps if s.twin)
    totals = {
        "cycles": int(cycles), "time_ns": time_ns, "macs": int(macs),
        "utilization": _util(device, macs, cycles), "compute_cycles": int(vmm + data),
        "stall_cycles": int(nonvmm + ref), "dram_read_bytes": int(counts[CI["mac_bursts"]] + counts[CI["read_bursts"]]) * bb,
        "dram_write_bytes": int(counts[CI["write_bursts"]]) * bb, "energy_pj": total_pj, "ops": len(rows),
        "tokens": n_tok, "batch": plan.batch, "first_context": runs[0].context if runs else 0,
        "last_context": runs[-1].context if runs else 0,
        "tokens_per_s": n_tok / (time_ns * 1e-9) if time_ns else 0.0,
        "latency_per_token_ns": float(lat.mean()) if len(lat) else 0.0,
        "latency_per_token_ns_first": float(lat[0]) if len(lat) else 0.0,
        "latency_per_token_ns_last": float(lat[-1]) if len(lat) else 0.0,
        "energy_per_token_pj": float(energy.sum()) / n_tok if n_tok else 0.0,
        "row_hit_rate": _hit_rate(counts), "row_hits": int(counts[CI["hits"]]),
        "row_misses": int(counts[CI["misses"]]), "row_conflicts": int(counts[CI["conflicts"]]),
        "bank_activations": int(counts[CI["bank_activations"]]),
        "vmm_ns": _ns(device, vmm), "data_movement_ns": _ns(device, data), "non_vmm_ns": _ns(device, nonvmm),
        "refresh_ns": _ns(device, ref),
        "vmm_share": vmm / cycles if cycles else 0.0, "data_movement_share": data / cycles if cycles else 0.0,
        "non_vmm_share": nonvmm / cycles if cycles else 0.0, "refresh_share": ref / cycles if cycles else 0.0,
        "refreshes": int(sum(t.refreshes for t in runs)),
        "pim_unit_utilization": _util(device, macs, cycles),
        "pim_unit_utilization_in_vmm": _util(device, macs, vmm),
        "mac_stream_utilization": _stream_util(device, macs, cycles),
        "mac_stream_utilization_in_vmm": _stream_util(device, macs, vmm),
        "channel_bus_utilization": io_bursts * sp.standard.t("tBURST") / (sp.scopes * cycles) if cycles else 0.0,
        "asic_utilization": min(1.0, device.asic_to_dram(asic_work) / cycles) if cycles else 0.0,
        "offchip_bytes": io_bursts * bb,
        "resident_weight_bytes": weights, "kv_cache_reserved_bytes": kv, "capacity_bytes": capacity,
        "feasible": weights + kv <= capacity,
        "peak_macs_per_s": sp.peak_macs_per_s, "internal_bytes_per_s": sp.internal_bytes_per_s,
        "steps_per_token": len(plan.steps), "layers": plan.layers, "layers_simulated": 1 if reused else plan.layers,
        "steps_reused_from_layer0": reused, "step_results_computed": device.steps_simulated,
        "step_results_reused": device.step_lookups - device.steps_simulated,
        "programs_simulated": device.programs_simulated,
        "programs_reused": device.program_lookups - device.programs_simulated,
        "pim_commands": int(counts[CI["commands"]]),
        "refresh_penalty_cycles": device.refresh_penalty[0] if sp.refresh != "none" else 0.0,
    }
    if reused:
        notes.append(f"{plan.layers} decoder layers of identical shape: layer 0's {layer_steps // plan.layers} steps "
                     f"are simulated and layers 1-{plan.layers - 1} reuse them ({reused} steps memoized)")
    notes.append(f"{device.programs_simulated} distinct scope programs simulated for {device.program_lookups} uses; "
                 f"{device.steps_simulated} distinct step results for {device.step_lookups} steps")
    if sp.refresh != "none":
        notes.append(f"refresh: REFab every tREFI = {sp.standard.t('tREFI')} cycles; one that falls in a PIM step "
                     f"costs it {device.refresh_penalty[0]:.1f} cycles (measured by the executor)")
    notes.append("energy: DRAM background and refresh power and ASIC leakage are not modelled (no GDDR6 IDD "
                 "values in the reference simulators); see docs/dram_pim.md")
    if unpriced:
        notes.append(f"counted but not priced: {', '.join(unpriced)}")
    if not totals["feasible"]:
        notes.append(f"INFEASIBLE: weights {weights / 2**30:.2f} GiB + reserved KV cache {kv / 2**30:.2f} GiB > "
                     f"{capacity / 2**30:.2f} GiB of PIM DRAM")
    events = None
    if record_events:
        from archsim.hw.dram_pim.timeline import event_table

        events = event_table(device, runs, meta={"arch": sp.name, "model": graph.name},
                             generation=tokens is not None)
    else:
        from archsim.engine import EventTable

        events = EventTable(clock_hz=sp.standard.clock_hz, meta={"arch": sp.name})
    from archsim.hw.dram_pim.summary import summary_text

    return RunResult(
        arch={"kind": "dram_pim", **sp.to_dict()},
        workload={"name": graph.name, "source": graph.source, "params": graph.params, "ops": len(graph),
                  "macs": graph.total_macs},
        ops=rows, totals=totals, events=events, actions=actions, energy_breakdown_pj=by_comp,
        energy_table=table.to_dict(), options={"level": level, "tokens": tokens}, seed=seed, notes=notes,
        model_data={"summary": summary_text, "tokens": runs, "device": device, "plan": plan},
    )


def _resident_weight_bytes(spec: PimSpec, plan: Plan) -> int:
    total = 0
    for s in plan.steps:
        if s.kind == "vmm":
            total += mapping.weight_bytes_resident(spec, s.k, s.n)
        elif s.kind == "embed" and s.n > 1:  # the position table (the token table is the lm_head's)
            total += plan.max_positions * s.k * spec.elem_bytes
    return total
