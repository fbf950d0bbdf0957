"""Run a workload graph on a systolic-array accelerator at a chosen fidelity level.

Ops execute one after another in topological order (one controller). GEMM-kind ops go to the
array, the rest to the vector unit. Identical ops (same lowered GEMM or the same vector work)
are simulated once and replayed; their rows say ``memoized_from``.

Levels (../shared/DESIGN.md, "The fidelity ladder"):

* ``analytic``: the closed-form step recurrence (:mod:`.physical`) or, in the ``scalesim``
  convention, the exact SCALE-Sim emulation (:mod:`.scalesim`);
* ``event`` (default): SimPy processes (:mod:`.event`); equal to analytic when nothing contends;
* ``cycle``: the cycle-stepped reference (:mod:`.cycle`) on random int8 data, checked against
  numpy. Small shapes only.

The ``scalesim`` convention has no contention and no cycle model of its own; every level gives
the same, SCALE-Sim-exact numbers for it and non-GEMM ops are left out (SCALE-Sim models GEMM
layers only).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from archsim.energy import EnergyTable
from archsim.engine import ActionCounts, EventTable
from archsim.errors import InputError
from archsim.hw.dram.dma import with_dram_actions, with_dram_energy
from archsim.hw.link import link_bandwidth, read_cycles, vector_cycles, vector_events, write_cycles
from archsim.hw.systolic import cycle as cycle_level
from archsim.hw.systolic.event import SystolicMachine
from archsim.hw.systolic.physical import (
    FoldSchedule,
    fold_schedule,
    job_timing,
)
from archsim.hw.systolic.scalesim import ScaleSimLayer, simulate_layer
from archsim.hw.systolic.spec import SystolicSpec
from archsim.mapping.gemm import GemmJob, lower_op
from archsim.results import RunResult
from archsim.workload.graph import Graph, Op

LEVELS = ("analytic", "event", "cycle")
#: energy class of one MAC by operand width in bits (integer widths <= 8 bits price as int8)
MAC_CLASS = {8: "mac_int8", 16: "mac_fp16", 32: "mac_fp32"}


@dataclass
class OpOutcome:
    """One op simulated in isolation: its row, its events (times from 0) and its actions."""

    row: dict
    events: EventTable
    actions: ActionCounts
    cycles: int
    scalesim: list[ScaleSimLayer] = field(default_factory=list)


# ---------------------------------------------------------------------------------------------
# physical convention
# ---------------------------------------------------------------------------------------------
def _gemm_actions(spec: SystolicSpec, job: GemmJob, sched: FoldSchedule, read_b: int, write_b: int) -> ActionCounts:
    a = ActionCounts()
    count = job.count
    a.add("systolic.pe_array", MAC_CLASS[job.mac_bits], "mac", int(sched.macs.sum()) * count)
    a.add("systolic.ifmap_sram", "sram", "read_bytes", int(sched.ifmap_sram_reads.sum()) * count * job.a_bytes)
    a.add("systolic.ifmap_sram", "sram", "write_bytes", int(sched.load_ifmap_bytes.sum()) * count)
    a.add("systolic.filter_sram", "sram", "read_bytes", int(sched.filter_sram_reads.sum()) * count * job.b_bytes)
    a.add("systolic.filter_sram", "sram", "write_bytes", int(sched.load_filter_bytes.sum()) * count)
    psum_b = spec.acc_bytes
    a.add("systolic.ofmap_sram", "sram", "write_bytes", int(sched.ofmap_sram_writes.sum()) * count * psum_b)
    a.add("systolic.ofmap_sram", "sram", "read_bytes",
          (int(sched.ofmap_sram_reads.sum()) * psum_b + int(sched.write_bytes.sum())) * count)
    a.add("dram", "dram", "read_bytes", read_b)
    a.add("dram", "dram", "write_bytes", write_b)
    return a


def _analytic_gemm_events(op: str, sched: FoldSchedule, count: int, spec: SystolicSpec, timing) -> EventTable:
    """The spans the event level records, computed in closed form (same rows, same times)."""
    ev = EventTable(clock_hz=spec.clock_hz)
    bw = link_bandwidth(spec)
    load = np.tile(sched.load_bytes, count)
    write = np.tile(sched.write_bytes, count)
    compute = np.tile(sched.compute_cycles, count)
    macs = np.tile(sched.macs, count)
    starts = timing.fold_start_cycles
    ev.extend(start_cycle=starts, end_cycle=starts + compute, unit="systolic", op=op, kind="compute",
              macs=macs, util=macs / (compute * spec.pes))
    occ_r = read_cycles(load, bw, 0)
    occ_w = write_cycles(write, bw)
    # write-back of fold g at the start of step g+1 (the epilogue for the last fold); the load of
    # fold g after the write-back that opens step g-1 (the prologue loads fold 0)
    w_start = np.concatenate([starts[1:], [timing.cycles - timing.epilogue_cycles]])
    after_write = np.concatenate([[0], occ_w[:-2]]) if len(starts) > 1 else np.zeros(0, np.int64)
    l_start = np.concatenate([[0], starts[:-1] + after_write])

    def spans(mask, st, occ, nbytes, kind):
        if mask.any():
            ev.extend(start_cycle=st[mask], end_cycle=(st + occ)[mask], unit="dram", op=op, kind=kind,
                      bytes=nbytes[mask], util=nbytes[mask] / (occ[mask] * float(bw)))

    spans(write > 0, w_start, occ_w, write, "dram_write")
    spans(load > 0, l_start, occ_r, load, "dram_read")
    return ev


def _physical_gemm(op: Op, job: GemmJob, spec: SystolicSpec, level: str, record: bool, seed: int) -> OpOutcome:
    sched = fold_schedule(job, spec)
    count = job.count
    read_b = int(sched.load_bytes.sum()) * count
    write_b = int(sched.write_bytes.sum()) * count
    timing = job_timing(sched, count, spec)
    extra: dict = {}
    actions = _gemm_actions(spec, job, sched, read_b, write_b)
    if level == "analytic":
        cycles = timing.cycles
        events = _analytic_gemm_events(op.name, sched, count, spec, timing) if record else EventTable(spec.clock_hz)
    elif level == "event":
        machine = SystolicMachine(spec, record_events=record)
        machine.sim.process(machine.run_job(op.name, sched, count))
        machine.sim.run()
        cycles = machine.now
        events = machine.sim.events
        if machine.dram_model is not None:  # --dram: the DRAM model's commands instead of bytes
            actions = with_dram_actions(actions, machine.dram_model.actions())
    else:
        cycles, extra = _cycle_gemm(job, sched, spec, seed)
        events = EventTable(spec.clock_hz)
        if record:
            events.append(0, cycles, "systolic", op.name, "compute", macs=job.macs, util=job.macs / (cycles * spec.pes))
    comp = timing.compute_cycles
    row = {
        "op": op.name,
        "kind": str(op.kind),
        "unit": "systolic",
        "cycles": int(cycles),
        "compute_cycles": int(comp),
        "stall_cycles": int(cycles - comp),
        "macs": job.macs,
        "utilization": job.macs / (cycles * spec.pes),
        "mapping_efficiency": float((sched.plan.rows_used() * sched.plan.cols_used()).mean() / spec.pes),
        "dram_read_bytes": read_b,
        "dram_write_bytes": write_b,
        "m": job.m,
        "n": job.n,
        "k": job.k,
        "count": count,
        "folds": sched.folds * count,
        "ifmap_sram_reads": int(sched.ifmap_sram_reads.sum()) * count,
        "filter_sram_reads": int(sched.filter_sram_reads.sum()) * count,
        "ofmap_sram_writes": int(sched.ofmap_sram_writes.sum()) * count,
        "ofmap_sram_reads": int(sched.ofmap_sram_reads.sum()) * count,
        **extra,
    }
    return OpOutcome(row, events, actions, int(cycles))


def _cycle_gemm(job: GemmJob, sched: FoldSchedule, spec: SystolicSpec, seed: int) -> tuple[int, dict]:
    if job.m * job.n * job.k * job.count > 2_000_000 or spec.pes > 1024:
        raise InputError("--level", "cycle", "a small GEMM (m*n*k*count <= 2e6) on an array of at most 1024 PEs",
                         f"{job.count}x{job.m}x{job.n}x{job.k} on {spec.rows}x{spec.cols}")
    rng = np.random.default_rng(seed)
    a_list = [rng.integers(-128, 128, (job.m, job.k)) for _ in range(job.count)]
    b_list = [rng.integers(-128, 128, (job.k, job.n)) for _ in range(job.count)]
    res = cycle_level.run_gemm(a_list, b_list, sched, spec)
    ok = all(np.array_equal(o, a @ b) for o, a, b in zip(res.outputs, a_list, b_list))
    if not ok:
        raise AssertionError("cycle-level array output differs from numpy's matmul")
    return res.cycles, {"values_checked": True}


def _physical_vector(op: Op, spec: SystolicSpec, level: str, record: bool) -> OpOutcome:
    read_b, write_b = op.input_bytes, op.output_bytes
    ops = op.vector_ops
    cycles, comp = vector_cycles(ops, read_b, write_b, spec)
    if level == "event":
        machine = SystolicMachine(spec, record_events=record)
        machine.sim.process(machine.run_vector(op.name, comp, ops, read_b, write_b))
        machine.sim.run()
        cycles = machine.now
        events = machine.sim.events
        dram = machine.dram_model.actions() if machine.dram_model is not None else None
    else:
        dram = None
        events = vector_events(op.name, comp, ops, read_b, write_b, spec) if record else EventTable(spec.clock_hz)
    a = ActionCounts()
    a.add("vector", "vector", "op", ops)
    a.add("dram", "dram", "read_bytes", read_b)
    a.add("dram", "dram", "write_bytes", write_b)
    if dram is not None:
        a = with_dram_actions(a, dram)
    row = {
        "op": op.name, "kind": str(op.kind), "unit": "vector", "cycles": int(cycles), "compute_cycles": int(comp),
        "stall_cycles": int(cycles - comp), "macs": 0, "utilization": 0.0, "dram_read_bytes": read_b,
        "dram_write_bytes": write_b, "vector_ops": ops,
    }
    return OpOutcome(row, events, a, int(cycles))


# ---------------------------------------------------------------------------------------------
# scalesim convention
# ---------------------------------------------------------------------------------------------
def _scalesim_gemm(op: Op, job: GemmJob, spec: SystolicSpec, record: bool, cache: dict) -> OpOutcome:
    geo = job.geometry
    layer = cache.get(geo)
    if layer is None:
        layer = cache[geo] = simulate_layer(geo, spec)
    count = job.count
    per = layer.total_cycles
    events = EventTable(spec.clock_hz)
    if record:
        L = layer.lines_per_fold
        for i in range(count):
            base = i * per
            starts = base + np.arange(layer.folds, dtype=np.int64) * L
            ends = np.minimum(starts + L, base + per)
            events.extend(start_cycle=starts, end_cycle=ends, unit="systolic", op=op.name, kind="compute")
            for name, words in (("ifmap", layer.ifmap_dram_reads),
                                ("filter", layer.filter_dram_reads)):
                start = getattr(layer, f"{name}_dram_start_cycle")
                stop = getattr(layer, f"{name}_dram_stop_cycle")
                # SCALE-Sim fetches before the layer's cycle 0 (negative cycles); a timeline
                # cannot start before the run, so the first layer's prefetch is clipped at 0
                lo, hi = max(0, base + start), base + stop + 1
                if hi > lo:
                    events.append(lo, hi, f"dram.{name}", op.name, "dram_read", bytes=words)
            for st, nl in layer.ofmap_drains:
                events.append(base + st, base + st + nl, "dram.ofmap", op.name, "dram_write")
    wb = 1  # SCALE-Sim's word
    a = ActionCounts()
    a.add("systolic.pe_array", MAC_CLASS[8], "mac", layer.macs * count)
    a.add("systolic.ifmap_sram", "sram", "read_bytes", layer.ifmap_sram_reads * count * wb)
    a.add("systolic.filter_sram", "sram", "read_bytes", layer.filter_sram_reads * count * wb)
    a.add("systolic.ofmap_sram", "sram", "write_bytes", layer.ofmap_sram_writes * count * wb)
    a.add("dram", "dram", "read_bytes", (layer.ifmap_dram_reads + layer.filter_dram_reads) * count * wb)
    a.add("dram", "dram", "write_bytes", layer.ofmap_dram_writes * count * wb)
    row = {
        "op": op.name, "kind": str(op.kind), "unit": "systolic", "cycles": per * count,
        "compute_cycles": (per - layer.stall_cycles) * count, "stall_cycles": layer.stall_cycles * count,
        "macs": layer.macs * count, "utilization": layer.overall_util_pct / 100,
        "mapping_efficiency": layer.mapping_efficiency_pct / 100,
        "dram_read_bytes": (layer.ifmap_dram_reads + layer.filter_dram_reads) * count * wb,
        "dram_write_bytes": layer.ofmap_dram_writes * count * wb,
        "m": geo.m, "n": geo.n, "k": geo.k, "count": count, "folds": layer.folds * count,
        "scalesim_layers": count,
        **{k: v for k, v in layer.to_dict().items() if k not in ("macs", "folds")},
    }
    return OpOutcome(row, events, a, per * count, [layer] * count)


def _scalesim_model_data(layers: list) -> dict:
    from archsim.report.scalesim_csv import write_scalesim_reports

    return {"scalesim_layers": layers, "extra_exporter": write_scalesim_reports}


# ---------------------------------------------------------------------------------------------
# the whole graph
# ---------------------------------------------------------------------------------------------
def simulate(graph: Graph, spec: SystolicSpec, *, level: str = "event", record_events: bool = True, seed: int = 0,
             energy_table: EnergyTable | None = None, mapping=None) -> RunResult:
    """Simulate ``graph`` on ``spec``; returns the per-op rows, totals, events and energy. With
    ``mapping`` (a mapping file or a loaded one) the mapping's schedule and DRAM traffic are
    executed instead (:mod:`archsim.mapping.execute`)."""
    if level not in LEVELS:
        raise InputError("--level", None, f"one of {LEVELS}", level)
    if mapping is not None:
        from archsim.mapping.execute import execute_mapping

        return execute_mapping(graph, spec, mapping, level=level, record_events=record_events, seed=seed,
                               energy_table=energy_table)
    if level == "cycle" and spec.convention == "scalesim":
        raise InputError("--level", None, "analytic or event with --convention scalesim (the cycle-stepped "
                         "reference models the physical convention)", level)
    table = energy_table or EnergyTable.load(spec.energy_table)
    dram_notes = []
    if spec.dram:
        if level == "event" and spec.convention == "physical":
            table = with_dram_energy(table, spec.dram)
            dram_notes.append(f"DRAM: {spec.dram} x{spec.dram_channels} channel(s), bank timing and FR-FCFS "
                              "(archsim.hw.dram); every op starts with idle, precharged banks")
        else:
            dram_notes.append(f"--dram {spec.dram} applies at the event level of the physical convention; this run "
                              "uses the fixed-bandwidth link (dram_bytes_per_cycle, dram_latency_cycles)")
    events = EventTable(clock_hz=spec.clock_hz, meta={"arch": spec.name, "convention": spec.convention})
    actions = ActionCounts()
    rows: list[dict] = []
    memo: dict[object, tuple[str, OpOutcome]] = {}
    geo_cache: dict = {}
    t = 0
    skipped = []
    scalesim_layers: list[tuple[str, ScaleSimLayer]] = []
    for op in graph.ops:
        if op.is_gemm:
            job = lower_op(op, spec.convention)
            key = ("gemm", job)
        elif spec.convention == "scalesim":
            skipped.append(op.name)
            continue
        else:
            job = None
            key = ("vector", op.vector_ops, op.input_bytes, op.output_bytes)
        hit = memo.get(key)
        if hit is None:
            if job is None:
                out = _physical_vector(op, spec, level, record_events)
            elif spec.convention == "scalesim":
                out = _scalesim_gemm(op, job, spec, record_events, geo_cache)
            else:
                out = _physical_gemm(op, job, spec, level, record_events, seed)
            total_pj, _, _ = table.price(out.actions)
            out.row["energy_pj"] = total_pj
            memo[key] = (op.name, out)
            memo_from = None
        else:
            memo_from, out = hit
        row = dict(out.row, op=op.name, kind=str(op.kind), start_cycle=t, end_cycle=t + out.cycles,
                   memoized_from=memo_from)
        rows.append(row)
        if record_events:
            events.append_table(out.events, shift_cycles=t, op=op.name)
        actions.merge(out.actions)
        scalesim_layers.extend((op.name, layer) for layer in out.scalesim)
        t += out.cycles

    total_pj, by_comp, unpriced = table.price(actions)
    macs = sum(r["macs"] for r in rows)
    totals = {
        "cycles": t,
        "time_ns": t * 1e9 / spec.clock_hz,
        "macs": macs,
        "utilization": macs / (t * spec.pes) if t else 0.0,
        "compute_cycles": sum(r["compute_cycles"] for r in rows),
        "stall_cycles": sum(r["stall_cycles"] for r in rows),
        "dram_read_bytes": sum(r["dram_read_bytes"] for r in rows),
        "dram_write_bytes": sum(r["dram_write_bytes"] for r in rows),
        "energy_pj": total_pj,
        "ops": len(rows),
        "ops_simulated": len(memo),
        "ops_memoized": sum(1 for r in rows if r["memoized_from"]),
    }
    notes = list(dram_notes)
    if skipped:
        notes.append(f"scalesim convention models GEMM layers only: {len(skipped)} non-GEMM ops left out")
    if unpriced:
        notes.append(f"actions without an energy entry (priced at 0): {', '.join(unpriced)}")
    if totals["ops_memoized"]:
        notes.append(f"{totals['ops_memoized']} of {len(rows)} ops repeat an identical earlier op and reuse its result")
    result = RunResult(
        arch={"kind": "systolic", **spec.to_dict()},
        workload={"name": graph.name, "source": graph.source, "params": graph.params, "ops": len(graph),
                  "macs": graph.total_macs},
        ops=rows,
        totals=totals,
        events=events,
        actions=actions,
        energy_breakdown_pj=by_comp,
        energy_table=table.to_dict(),
        options={"level": level, "convention": spec.convention, "dataflow": spec.dataflow},
        seed=seed,
        notes=notes,
        model_data=_scalesim_model_data(scalesim_layers) if spec.convention == "scalesim" else {},
    )
    return result
