"""Run a workload graph on the bit-serial (BitMoD) or bit-parallel (FP16, ANT, OliVe) accelerator.

Ops execute one after another in topological order. GEMM-kind ops go to the PE array, the rest
to the vector unit (or are left out when ``vector_lanes`` is 0). Identical ops (the layers of an
LLM) are simulated once and replayed; their rows say ``memoized_from``.

Conventions (``spec.convention``):

* ``physical`` (default): :mod:`.physical` — bit-serial term timing, group dequantization,
  double-buffered DMA, real GQA attention shapes, formats' true storage bits.
  Levels: ``analytic`` (closed form), ``event`` (SimPy array + DMA + vector unit on a shared
  link; equal to analytic when nothing contends), ``cycle`` (every PE stepped on real data,
  :mod:`.cycle`; small GEMMs only; its compute cycles must equal the closed form's).
* ``bitmod-sim``: :mod:`.artifact` — the numbers of BitMoD's published simulator (every level
  gives the same closed form; non-GEMM ops are left out as in the artifact).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from archsim.energy import EnergyTable
from archsim.engine import ActionCounts, EventTable
from archsim.errors import InputError
from archsim.hw.bitserial import artifact, physical
from archsim.hw.bitserial.event import BitSerialMachine
from archsim.hw.bitserial.hwformats import HwFormat, kv_hw_format, weight_hw_format
from archsim.hw.bitserial.spec import BitSerialSpec
from archsim.hw.link import link_bandwidth, read_cycles, vector_cycles, vector_events, write_cycles
from archsim.results import RunResult
from archsim.workload.graph import Graph, Op

LEVELS = ("analytic", "event", "cycle")
#: timeline spans per op and (unit, kind): consecutive tile spans are merged beyond this, so an
#: LLM prefill (tens of thousands of tiles per op) keeps a timeline of a few megabytes
MAX_SPANS_PER_OP = 64


def coalesce(ev: EventTable, limit: int = MAX_SPANS_PER_OP) -> EventTable:
    """Merge consecutive spans of the same unit and kind into at most ``limit`` spans: each merged
    span runs from its first start to its last end, sums bytes and MACs, and its ``util`` is the
    busy-time-weighted mean (idle gaps inside count as 0)."""
    cols = ev.columns()
    n = len(cols["start_cycle"])
    if n == 0:
        return ev
    out = EventTable(ev.clock_hz, ev.meta)
    keys = list(dict.fromkeys(zip(cols["unit"].tolist(), cols["kind"].tolist())))
    for unit, kind in keys:
        idx = np.flatnonzero((cols["unit"] == unit) & (cols["kind"] == kind))
        idx = idx[np.argsort(cols["start_cycle"][idx], kind="stable")]
        if len(idx) <= limit:
            out.extend(**{c: cols[c][idx] for c in cols})
            continue
        parts = np.array_split(idx, limit)
        st = np.array([cols["start_cycle"][p].min() for p in parts])
        en = np.array([cols["end_cycle"][p].max() for p in parts])
        busy = np.array([np.sum((cols["end_cycle"][p] - cols["start_cycle"][p]) * cols["util"][p]) for p in parts])
        out.extend(start_cycle=st, end_cycle=en, unit=unit, op=cols["op"][idx[0]], kind=kind,
                   bytes=[int(cols["bytes"][p].sum()) for p in parts], macs=[int(cols["macs"][p].sum()) for p in parts],
                   util=busy / np.maximum(en - st, 1))
    return out


def energy_table(spec: BitSerialSpec) -> EnergyTable:
    """pJ per action from the spec's energy fields (sources in the preset files)."""
    src = spec.source or spec.name
    return EnergyTable.from_dict({
        "version": 1, "name": f"{spec.name}-energy",
        "entries": {
            "pe": {"pe_cycle": {"pj": spec.pe_pj_per_cycle, "source": src}},
            "sram": {"read_bytes": {"pj": spec.sram_pj_per_byte, "source": src},
                     "write_bytes": {"pj": spec.sram_pj_per_byte, "source": src}},
            "dram": {"read_bytes": {"pj": spec.dram_pj_per_byte, "source": src},
                     "write_bytes": {"pj": spec.dram_pj_per_byte, "source": src}},
            "vector": {"op": {"pj": spec.vector_pj_per_op, "source": src}},
        }}, source=f"{spec.name} spec")


@dataclass
class Outcome:
    row: dict
    events: EventTable
    actions: ActionCounts
    cycles: int
    extra_notes: list[str] = field(default_factory=list)


# ---------------------------------------------------------------------------------------------
# physical
# ---------------------------------------------------------------------------------------------
def _gemm_events(op: str, sched: physical.Schedule, tim: physical.Timing, spec: BitSerialSpec, pes: int) -> EventTable:
    """The spans the event level records, in closed form (same rows, same times)."""
    ev = EventTable(clock_hz=spec.clock_hz)
    bw = link_bandwidth(spec)
    starts = tim.step_start_cycles
    comp = sched.compute_cycles
    terms = sched.timing.terms
    ev.extend(start_cycle=starts, end_cycle=starts + comp, unit="pe_array", op=op, kind="compute", macs=sched.macs,
              util=np.minimum(1.0, sched.macs / (np.maximum(comp, 1) * (pes * spec.dot_product_size / terms))))
    occ_r = read_cycles(sched.load_bytes, bw, 0)
    occ_w = write_cycles(sched.write_bytes, bw)
    w_start = np.concatenate([starts[1:], [tim.cycles - tim.epilogue_cycles]])
    after_write = np.concatenate([[0], occ_w[:-2]]) if len(starts) > 1 else np.zeros(0, np.int64)
    l_start = np.concatenate([[0], starts[:-1] + after_write])

    def spans(mask, st, occ, nbytes, kind):
        if mask.any():
            ev.extend(start_cycle=st[mask], end_cycle=(st + occ)[mask], unit="dram", op=op, kind=kind,
                      bytes=nbytes[mask], util=nbytes[mask] / (occ[mask] * float(bw)))

    spans(sched.write_bytes > 0, w_start, occ_w, sched.write_bytes, "dram_write")
    spans(sched.load_bytes > 0, l_start, occ_r, sched.load_bytes, "dram_read")
    # serial loads start when step s-1 and its DMA are done: latency + occupancy before step s
    occ_s = read_cycles(sched.serial_load_bytes, bw, 0)
    s_start = starts - read_cycles(sched.serial_load_bytes, bw, spec.dram_latency_cycles)
    spans(sched.serial_load_bytes > 0, s_start, occ_s, sched.serial_load_bytes, "dram_read")
    return ev


def _gemm_actions(job: physical.GemmJob, sched: physical.Schedule, compute: int, pes: int) -> ActionCounts:
    a = ActionCounts()
    n_c, n_t = -(-job.n // job.rows), -(-job.m // job.cols)
    read_b, write_b = sched.read_bytes, int(sched.write_bytes.sum())
    a.add("bitserial.pe_array", "pe", "pe_cycle", pes * compute)
    a.add("bitserial.weight_buffer", "sram", "read_bytes", sched.b_bytes * n_t)
    a.add("bitserial.act_buffer", "sram", "read_bytes", sched.a_bytes * n_c)
    a.add("bitserial.weight_buffer", "sram", "write_bytes", sched.b_bytes)
    a.add("bitserial.act_buffer", "sram", "write_bytes", read_b - sched.b_bytes + write_b)
    a.add("dram", "dram", "read_bytes", read_b)
    a.add("dram", "dram", "write_bytes", write_b)
    return a


def _physical_gemm(op: Op, job: physical.GemmJob, spec: BitSerialSpec, level: str, record: bool,
                   seed: int) -> Outcome:
    sched = physical.schedule(job, spec)
    tim = physical.timing(sched, spec)
    pes = job.rows * job.cols
    extra: dict = {}
    if level == "analytic":
        cycles = tim.cycles
        events = coalesce(_gemm_events(op.name, sched, tim, spec, pes)) if record else EventTable(spec.clock_hz)
    elif level == "event":
        machine = BitSerialMachine(spec, pes, record_events=record)
        machine.sim.process(machine.run_gemm(op.name, sched))
        machine.sim.run()
        cycles = machine.now
        events = coalesce(machine.sim.events)
    else:
        from archsim.hw.bitserial.cycle import run_job

        res = run_job(job, spec, seed)
        if res["compute_cycles"] != tim.compute_cycles:
            raise AssertionError(f"{op.name}: cycle-level compute {res['compute_cycles']} != closed form "
                                 f"{tim.compute_cycles}")
        cycles = tim.cycles
        events = coalesce(_gemm_events(op.name, sched, tim, spec, pes)) if record else EventTable(spec.clock_hz)
        extra = {"values_checked": True, "groups_checked": res["groups_checked"]}
    tt = sched.timing
    read_b, write_b = sched.read_bytes, int(sched.write_bytes.sum())
    row = {
        "op": op.name, "kind": str(op.kind), "unit": "pe_array", "cycles": int(cycles),
        "compute_cycles": int(tim.compute_cycles), "stall_cycles": int(cycles - tim.compute_cycles),
        "macs": job.macs,
        "utilization": min(1.0, job.macs * tt.terms / (cycles * pes * spec.dot_product_size)) if cycles else 0.0,
        "dram_read_bytes": read_b, "dram_write_bytes": write_b,
        "m": job.m, "n": job.n, "k": job.k, "count": job.count, "rows": job.rows, "cols": job.cols,
        "operand": job.b_role, "format": job.b_fmt.name, "bits_per_element": job.b_bits, "terms": tt.terms,
        "tile_cycles": tt.tile_cycles, "tiles": sched.steps, "loop_order": sched.order, **extra,
    }
    return Outcome(row, events, _gemm_actions(job, sched, int(tim.compute_cycles), pes), int(cycles))


def _physical_vector(op: Op, spec: BitSerialSpec, level: str, record: bool, wfmt: HwFormat,
                     kvfmt: HwFormat) -> Outcome:
    read_b, write_b = physical.op_io_bytes(op, spec, wfmt, kvfmt)
    ops = op.vector_ops
    cycles, comp = vector_cycles(ops, read_b, write_b, spec)
    if level == "event":
        machine = BitSerialMachine(spec, spec.pes, record_events=record)
        machine.sim.process(machine.run_vector(op.name, comp, ops, read_b, write_b))
        machine.sim.run()
        cycles = machine.now
        events = machine.sim.events
    else:
        events = vector_events(op.name, comp, ops, read_b, write_b, spec) if record else EventTable(spec.clock_hz)
    a = ActionCounts()
    a.add("bitserial.vector", "vector", "op", ops)
    a.add("dram", "dram", "read_bytes", read_b)
    a.add("dram", "dram", "write_bytes", write_b)
    row = {"op": op.name, "kind": str(op.kind), "unit": "vector", "cycles": int(cycles), "compute_cycles": int(comp),
           "stall_cycles": int(cycles - comp), "macs": 0, "utilization": 0.0, "dram_read_bytes": read_b,
           "dram_write_bytes": write_b, "vector_ops": ops}
    return Outcome(row, events, a, int(cycles))


# ---------------------------------------------------------------------------------------------
# bitmod-sim
# ---------------------------------------------------------------------------------------------
def _artifact_op(op: Op, graph: Graph, spec: BitSerialSpec, rows: int, cols: int, prec: float, latency: int,
                 record: bool) -> Outcome | None:
    layers = artifact.layers_of(op, graph)
    if not layers:
        return None
    cycles = compute = dram = rd = wr = 0
    for layer in layers:
        c, cc, d, r, w = artifact.layer_cycles(layer, spec, rows, cols, prec, latency)
        cycles, compute, dram, rd, wr = cycles + c, compute + cc, dram + d, rd + r, wr + w
    macs = op.macs
    pes = rows * cols
    events = EventTable(spec.clock_hz)
    if record and cycles:
        events.append(0, cycles, "pe_array", op.name, "compute", bytes=rd + wr, macs=macs,
                      util=min(1.0, compute / cycles))
    a = ActionCounts()
    a.add("bitserial.pe_array", "pe", "pe_cycle", pes * compute)
    a.add("dram", "dram", "read_bytes", rd)
    a.add("dram", "dram", "write_bytes", wr)
    a.add("bitserial.buffers", "sram", "write_bytes", rd)
    row = {"op": op.name, "kind": str(op.kind), "unit": "pe_array", "cycles": cycles, "compute_cycles": compute,
           "stall_cycles": cycles - compute, "macs": macs, "utilization": min(1.0, compute / cycles) if cycles else 0.0,
           "dram_read_bytes": rd, "dram_write_bytes": wr, "dram_cycles": dram, "artifact_layers": len(layers),
           "w_prec": prec, "pe_latency": latency}
    return Outcome(row, events, a, cycles)


# ---------------------------------------------------------------------------------------------
# the whole graph
# ---------------------------------------------------------------------------------------------
def simulate(graph: Graph, spec: BitSerialSpec, *, level: str = "event", record_events: bool = True, seed: int = 0,
             bitserial_convention: str | None = None, energy_table_override: EnergyTable | None = None) -> RunResult:
    """Simulate ``graph`` on ``spec``; returns per-op rows, totals, events and energy."""
    if level not in LEVELS:
        raise InputError("--level", None, f"one of {LEVELS}", level)
    if bitserial_convention is not None:
        spec = spec.replace(convention=bitserial_convention)
    if level == "cycle" and spec.convention != "physical":
        raise InputError("--level", None, "analytic or event with the bitmod-sim convention", level)
    table = energy_table_override or energy_table(spec)
    phase = graph.params.get("phase")
    rows_, cols_ = spec.array(phase)
    wfmt, kvfmt = weight_hw_format(spec), kv_hw_format(spec)
    events = EventTable(clock_hz=spec.clock_hz, meta={"arch": spec.name, "convention": spec.convention})
    actions = ActionCounts()
    rows: list[dict] = []
    memo: dict = {}
    skipped: list[str] = []
    t = 0
    prec = artifact.w_prec(spec)
    latency = artifact.pe_latency(spec, prec)
    for op in graph.ops:
        if spec.convention == "bitmod-sim":
            key = ("artifact", op.signature(), graph.params.get("tokens"))
            hit = memo.get(key)
            if hit is None:
                out = _artifact_op(op, graph, spec, rows_, cols_, prec, latency, record_events)
                if out is None:
                    skipped.append(op.name)
                    continue
        elif op.is_gemm:
            job = physical.gemm_job(op, spec, phase, wfmt, kvfmt)
            key = ("gemm", job)
            hit = memo.get(key)
            if hit is None:
                out = _physical_gemm(op, job, spec, level, record_events, seed)
        else:
            if not spec.vector_lanes:
                skipped.append(op.name)
                continue
            key = ("vector", op.vector_ops, *physical.op_io_bytes(op, spec, wfmt, kvfmt))
            hit = memo.get(key)
            if hit is None:
                out = _physical_vector(op, spec, level, record_events, wfmt, kvfmt)
        if hit is None:
            out.row["energy_pj"] = table.price(out.actions)[0]
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
        t += out.cycles

    total_pj, by_comp, unpriced = table.price(actions)
    macs = sum(r["macs"] for r in rows)
    gemm_rows = [r for r in rows if r["unit"] == "pe_array"]
    totals = {
        "cycles": t, "time_ns": t * 1e9 / spec.clock_hz, "macs": macs,
        "utilization": macs / (t * rows_ * cols_ * spec.dot_product_size) if t else 0.0,
        "compute_cycles": sum(r["compute_cycles"] for r in rows),
        "gemm_cycles": sum(r["cycles"] for r in gemm_rows),
        "stall_cycles": sum(r["stall_cycles"] for r in rows),
        "dram_read_bytes": sum(r["dram_read_bytes"] for r in rows),
        "dram_write_bytes": sum(r["dram_write_bytes"] for r in rows),
        "energy_pj": total_pj, "ops": len(rows), "ops_simulated": len(memo),
        "ops_memoized": sum(1 for r in rows if r["memoized_from"]),
    }
    notes = _notes(spec, graph, skipped, unpriced, totals, rows_, cols_, wfmt, kvfmt, prec, latency)
    options = {"level": level, "convention": spec.convention, "phase": phase, "array": f"{rows_}x{cols_}",
               "weight_format": spec.weight_format, "kv_format": spec.kv_format, "kv_block": kvfmt.group_size,
               "sort_channels": spec.sort_channels}
    return RunResult(
        arch={"kind": "bitserial", **spec.to_dict()},
        workload={"name": graph.name, "source": graph.source, "params": graph.params, "ops": len(graph),
                  "macs": graph.total_macs},
        ops=rows, totals=totals, events=events, actions=actions, energy_breakdown_pj=by_comp,
        energy_table=table.to_dict(), options=options, seed=seed, notes=notes,
    )


def _notes(spec, graph, skipped, unpriced, totals, rows_, cols_, wfmt, kvfmt, prec, latency) -> list[str]:
    notes = []
    if spec.convention == "bitmod-sim":
        notes.append(f"bitmod-sim convention: BitMoD artifact cycle model (w_prec {prec:g} bits, PE latency {latency} "
                     "cycles for linear and attention layers, attention operands at 16 bits in DRAM; "
                     "kv_format is not used)")
    else:
        w_bits = spec.weight_bits or wfmt.bits_per_element
        notes.append(f"weights {wfmt.name} ({w_bits:g} bits/element), KV cache {kvfmt.name} "
                     f"({kvfmt.bits_per_element:g} bits/element), array {rows_}x{cols_} ({spec.pe})")
    if skipped:
        why = "vector_lanes is 0" if spec.convention == "physical" else "the artifact models GEMM layers only"
        notes.append(f"{len(skipped)} non-GEMM ops left out ({why})")
    if spec.sort_channels:
        notes.append("sort_channels: K channels permuted at compile time (W_k/W_q rows); no cycle or byte change, "
                     "only the quantization error changes (see archsim quantize --sort-channels)")
    if unpriced:
        notes.append(f"actions without an energy entry (priced at 0): {', '.join(unpriced)}")
    if totals["ops_memoized"]:
        notes.append(f"{totals['ops_memoized']} of {totals['ops']} ops repeat an identical earlier op and reuse its result")
    return notes
