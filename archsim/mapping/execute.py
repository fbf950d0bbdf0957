"""Execute a mapping on the systolic-array model: the mapping's schedule, its DRAM traffic only.

``archsim run --arch <systolic spec> --workload W --mapping FILE`` comes here
(:func:`execute_mapping`). The scratchpad of a mapping is the spec's three SRAMs used as one
unified buffer: ``ifmap_sram_bytes + filter_sram_bytes + ofmap_sram_bytes``
(:func:`unified_scratchpad_bytes`); a mapping solved for more than that is refused.

* Ops run one at a time in the mapping's order. A GEMM-kind op takes the physical convention's
  fold time (``T + 2R + C - 2`` cycles per fold, :mod:`archsim.hw.systolic.physical`), folds back
  to back: its operands are already in the scratchpad, so the per-fold DMA of the standalone
  model is replaced by the mapping's transfers. Other ops take ``ceil(vector_ops / lanes)``
  cycles on the vector unit.
* DRAM traffic is exactly the mapping's: every load, reload, spill and store, each one transfer
  over the DRAM link with the standalone model's rules (a read occupies the link
  ``ceil(bytes / bw)`` cycles and its data arrives ``dram_latency_cycles`` later; writes are
  posted).
* One DMA engine issues the transfers in a fixed order. While op ``s`` computes it writes back
  what op ``s-1`` spilled or stored, then loads op ``s+1``'s operands whose scratchpad ranges
  are already free (prefetch); a load whose range is still held by op ``s``'s tensors (or is
  being written back) waits until op ``s`` ends. Op ``s`` starts when op ``s-1`` has ended, its
  loads have arrived and the ranges of its outputs have been written back. The address plan
  decides how much overlaps, so two mappings with equal traffic can differ in time.

Levels: ``analytic`` computes that protocol in closed form, ``event`` runs it as SimPy processes
over a shared :class:`~archsim.engine.Link` (equal when nothing else uses the link). The
``cycle`` level and the ``scalesim`` convention have their own memory models and refuse a mapping.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from archsim.energy import EnergyTable
from archsim.engine import ActionCounts, EventTable
from archsim.errors import InputError
from archsim.mapping.mapping_file import Mapping, load_mapping, problem_for_mapping
from archsim.results import RunResult
from archsim.workload.graph import Graph


def unified_scratchpad_bytes(spec: Any, source: str | None = None) -> int:
    """The scratchpad of a systolic spec: its ifmap, filter and ofmap SRAMs as one buffer."""
    try:
        return int(spec.ifmap_sram_bytes) + int(spec.filter_sram_bytes) + int(spec.ofmap_sram_bytes)
    except AttributeError:
        raise InputError(source, "kind", "a systolic architecture (its SRAMs form the scratchpad)",
                         type(spec).__name__) from None


@dataclass
class _Work:
    """One step's compute: unit, cycles, MACs, vector ops and SRAM actions."""

    unit: str
    compute_cycles: int
    macs: int = 0
    vector_ops: int = 0
    actions: ActionCounts = field(default_factory=ActionCounts)
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class _Xfer:
    step: int
    write: bool
    nbytes: int
    tensor: str
    key: tuple[int, int, int]
    dep_compute: int = -1  # step whose compute must have ended
    dep_write: int = -1  # index (in DMA order) of a write that must have completed


def _op_work(op, spec, cache: dict) -> _Work:
    from archsim.hw.systolic.model import MAC_CLASS
    from archsim.hw.systolic.physical import fold_schedule
    from archsim.mapping.gemm import lower_op

    if op.is_gemm:
        job = lower_op(op, "physical")
        key = ("gemm", job)
        w = cache.get(key)
        if w is None:
            sched = fold_schedule(job, spec)
            c = job.count
            a = ActionCounts()
            a.add("systolic.pe_array", MAC_CLASS[job.mac_bits], "mac", int(sched.macs.sum()) * c)
            a.add("systolic.ifmap_sram", "sram", "read_bytes", int(sched.ifmap_sram_reads.sum()) * c * job.a_bytes)
            a.add("systolic.filter_sram", "sram", "read_bytes", int(sched.filter_sram_reads.sum()) * c * job.b_bytes)
            a.add("systolic.ofmap_sram", "sram", "write_bytes",
                  int(sched.ofmap_sram_writes.sum()) * c * spec.acc_bytes)
            a.add("systolic.ofmap_sram", "sram", "read_bytes", int(sched.ofmap_sram_reads.sum()) * c * spec.acc_bytes)
            w = _Work("systolic", int(sched.compute_cycles.sum()) * c, job.macs, 0, a,
                      {"m": job.m, "n": job.n, "k": job.k, "count": c, "folds": sched.folds * c,
                       "mapping_efficiency": float((sched.plan.rows_used() * sched.plan.cols_used()).mean()
                                                   / spec.pes)})
            cache[key] = w
        return w
    ops = op.vector_ops
    a = ActionCounts()
    a.add("vector", "vector", "op", ops)
    return _Work("vector", math.ceil(ops / spec.vector_lanes), 0, ops, a)


def _transfers(mapping: Mapping) -> tuple[list[_Xfer], list[int]]:
    """The mapping's transfers in DMA order with the dependencies their address ranges imply,
    and per step the DMA position of the last write its outputs' ranges wait for (-1: none)."""
    p, plan, cost = mapping.problem, mapping.plan, mapping.cost
    res = plan.residencies
    lo = np.array([r.addr_bytes for r in res], dtype=np.int64)
    hi = lo + np.array([p.alloc_bytes[r.tensor] for r in res], dtype=np.int64)
    end = np.array([r.end_step for r in res], dtype=np.int64)
    writes = [x for x in cost.transfers if x.when == "after"]
    res_of = {(r.tensor, r.start_step): i for i, r in enumerate(res)}
    by_tensor: dict[int, list[int]] = {}
    for i, r in enumerate(res):
        by_tensor.setdefault(r.tensor, []).append(i)
    wpos = np.full(len(res), -1, dtype=np.int64)  # residency -> last write that reads its range
    last_write_of: dict[int, int] = {}  # tensor -> last write of it (its DRAM copy)
    for wi, x in enumerate(writes):
        last_write_of[x.tensor] = wi
        for i in by_tensor[x.tensor]:
            if res[i].start_step <= x.step <= res[i].end_step:
                wpos[i] = max(wpos[i], wi)

    def prior(step: int, a_lo: int, a_hi: int) -> tuple[int, int]:
        msk = (end < step) & (lo < a_hi) & (hi > a_lo)
        if not msk.any():
            return -1, -1
        return int(end[msk].max()), int(wpos[msk].max())

    out: list[_Xfer] = []
    for wi, x in enumerate(writes):
        out.append(_Xfer(x.step, True, x.bytes, p.tensors[x.tensor].name, (x.step + 1, 0, wi), dep_compute=x.step))
    for x in cost.transfers:
        if x.when != "before":
            continue
        i = res_of[(x.tensor, x.step)]
        dc, dw = prior(x.step, int(lo[i]), int(hi[i]))
        own = last_write_of.get(x.tensor, -1)  # a reload reads the copy a spill or store wrote
        if own >= 0 and writes[own].step < x.step:
            dw = max(dw, own)
        late = dc >= x.step - 1 or (dw >= 0 and writes[dw].step >= x.step - 1)
        key = (x.step, 1, x.tensor) if late else (x.step - 1, 2, x.tensor)
        out.append(_Xfer(x.step, False, x.bytes, p.tensors[x.tensor].name, key, dc, dw))
    out.sort(key=lambda t: t.key)
    pos_of_write = {t.key[2]: k for k, t in enumerate(out) if t.write}
    for t in out:
        if not t.write and t.dep_write >= 0:
            t.dep_write = pos_of_write[t.dep_write]
    waits = [-1] * p.n_ops
    for i, r in enumerate(res):
        t = p.tensors[r.tensor]
        if t.producer != r.start_step:  # ops are numbered in schedule order: producer == creation step
            continue
        _, dw = prior(r.start_step, int(lo[i]), int(hi[i]))
        if dw >= 0:
            waits[r.start_step] = max(waits[r.start_step], pos_of_write[dw])
    return out, waits


@dataclass
class _Timeline:
    compute_start: list[int]
    compute_end: list[int]
    xfer_start: list[int]
    xfer_end: list[int]  # when the data is there (reads) / the link is free (writes)
    xfer_occ: list[int]
    end_cycle: int


def _analytic(xfers: list[_Xfer], work: list[_Work], cwait: list[int], bw, lat: int) -> _Timeline:
    from archsim.engine.link import transfer_cycles

    n = len(work)
    cs, ce = [0] * n, [0] * n
    xs, xe, xo = [0] * len(xfers), [0] * len(xfers), [0] * len(xfers)
    loads_of: list[list[int]] = [[] for _ in range(n)]
    for k, t in enumerate(xfers):
        if not t.write:
            loads_of[t.step].append(k)
    dma = 0
    k = 0
    done_compute = -1

    def run_compute(s: int) -> None:
        ready = ce[s - 1] if s else 0
        for j in loads_of[s]:
            ready = max(ready, xe[j])
        if cwait[s] >= 0:
            ready = max(ready, xe[cwait[s]])
        cs[s] = ready
        ce[s] = ready + work[s].compute_cycles

    while k < len(xfers):
        t = xfers[k]
        need = t.dep_compute
        while done_compute < need:  # computes only wait on transfers earlier in DMA order
            done_compute += 1
            run_compute(done_compute)
        ready = dma
        if t.dep_compute >= 0:
            ready = max(ready, ce[t.dep_compute])
        if t.dep_write >= 0:
            ready = max(ready, xe[t.dep_write])
        occ = transfer_cycles(t.nbytes, bw)
        xs[k] = ready
        xo[k] = occ
        xe[k] = ready + occ + (0 if t.write else lat)
        dma = xe[k]
        k += 1
    while done_compute < n - 1:
        done_compute += 1
        run_compute(done_compute)
    end = max([ce[-1] if n else 0] + xe)
    return _Timeline(cs, ce, xs, xe, xo, end)


def _event(xfers: list[_Xfer], work: list[_Work], cwait: list[int], spec, names: list[str],
           record: bool) -> tuple[_Timeline, EventTable]:
    from archsim.engine import Link, Simulation
    from archsim.hw.link import link_bandwidth
    from archsim.hw.systolic.event import SystolicUnit, VectorUnit

    sim = Simulation({"core": spec.clock_hz}, record_events=record)
    array = SystolicUnit(sim, "systolic", spec)
    vector = VectorUnit(sim, "vector", spec.vector_lanes)
    link = Link(sim, "dram", "core", link_bandwidth(spec), spec.dram_latency_cycles)
    env = sim.env
    n = len(work)
    xdone = [env.event() for _ in xfers]
    cdone = [env.event() for _ in range(n)]
    cs, ce = [0] * n, [0] * n
    xs, xe, xo = [0] * len(xfers), [0] * len(xfers), [0] * len(xfers)
    loads_of: list[list[int]] = [[] for _ in range(n)]
    for k, t in enumerate(xfers):
        if not t.write:
            loads_of[t.step].append(k)

    def dma():
        for k, t in enumerate(xfers):
            if t.dep_compute >= 0:
                yield cdone[t.dep_compute]
            if t.dep_write >= 0:
                yield xdone[t.dep_write]
            xs[k] = link.now_cycles
            yield from link.transfer(t.nbytes, names[t.step], "dram_write" if t.write else "dram_read",
                                     posted=t.write)
            xe[k] = link.now_cycles
            xo[k] = xe[k] - xs[k] - (0 if t.write else link.latency_cycles)
            xdone[k].succeed()

    def compute():
        for s in range(n):
            if s:
                yield cdone[s - 1]
            for j in loads_of[s]:
                yield xdone[j]
            if cwait[s] >= 0:
                yield xdone[cwait[s]]
            cs[s] = array.now_cycles
            w = work[s]
            if w.unit == "systolic":
                yield from array.fold(names[s], w.compute_cycles, w.macs)
            else:
                yield from vector.run(names[s], w.compute_cycles, w.vector_ops)
            ce[s] = array.now_cycles
            cdone[s].succeed()

    env.process(dma())
    env.process(compute())
    sim.run()
    end = max([ce[-1] if n else 0] + xe)
    return _Timeline(cs, ce, xs, xe, xo, end), sim.events


def execute_mapping(graph: Graph, spec: Any, mapping: Mapping | str | Path, *, level: str = "event",
                    record_events: bool = True, seed: int = 0, energy_table: EnergyTable | None = None) -> RunResult:
    """Run ``graph`` on the systolic ``spec`` as ``mapping`` says (see module docstring)."""
    from archsim.hw.link import link_bandwidth

    src = str(mapping) if not isinstance(mapping, Mapping) else mapping.source
    m = mapping if isinstance(mapping, Mapping) else load_mapping(mapping)
    if level not in ("analytic", "event"):
        raise InputError("--level", None, "analytic or event with --mapping (the cycle-stepped reference has its "
                         "own per-fold DMA)", level)
    if spec.convention != "physical":
        raise InputError("--convention", None, "physical with --mapping (the scalesim convention reproduces "
                         "SCALE-Sim's own memory traffic)", spec.convention)
    if not any(t.kind == "weight" for t in m.problem.tensors) and graph.weights:
        raise InputError(src, "inputs.weights_in_scratchpad", "true to execute a mapping (an activations-only "
                         "mapping leaves the weights' traffic out)", False)
    unified = unified_scratchpad_bytes(spec, "--arch")
    if m.problem.scratchpad_bytes > unified:
        raise InputError(src, "inputs.scratchpad_bytes", f"at most {unified} bytes (the ifmap + filter + ofmap SRAMs "
                         f"of {spec.name})", m.problem.scratchpad_bytes)
    m.check_graph(problem_for_mapping(graph, m))
    p = m.problem
    names = list(p.op_names)  # the mapping numbers ops in schedule order
    ops = [graph.op(nm) for nm in names]
    cache: dict = {}
    work = [_op_work(op, spec, cache) for op in ops]
    xfers, cwait = _transfers(m)
    bw = link_bandwidth(spec)
    if level == "analytic":
        tl = _analytic(xfers, work, cwait, bw, spec.dram_latency_cycles)
        events = EventTable(clock_hz=spec.clock_hz)
        if record_events:
            _analytic_events(events, tl, xfers, work, names, spec, bw)
    else:
        tl, events = _event(xfers, work, cwait, spec, names, record_events)
    events.meta.update({"arch": spec.name, "convention": spec.convention, "mapping": src})
    return _result(graph, spec, m, src, level, seed, work, xfers, tl, events, energy_table, ops)


def _analytic_events(ev: EventTable, tl: _Timeline, xfers, work, names, spec, bw) -> None:
    for s, w in enumerate(work):
        c = w.compute_cycles
        if not c:
            continue
        if w.unit == "systolic":
            ev.append(tl.compute_start[s], tl.compute_end[s], "systolic", names[s], "compute", macs=w.macs,
                      util=w.macs / (c * spec.pes))
        else:
            ev.append(tl.compute_start[s], tl.compute_end[s], "vector", names[s], "compute",
                      util=w.vector_ops / (c * spec.vector_lanes))
    for k, t in enumerate(xfers):
        occ = tl.xfer_occ[k]
        if t.nbytes:
            ev.append(tl.xfer_start[k], tl.xfer_start[k] + occ, "dram", names[t.step],
                      "dram_write" if t.write else "dram_read", bytes=t.nbytes,
                      util=float(t.nbytes / (occ * bw)))


def _result(graph, spec, m: Mapping, src, level, seed, work, xfers, tl: _Timeline, events, energy_table, ops):
    table = energy_table or EnergyTable.load(spec.energy_table)
    n = len(work)
    rd = [0] * n
    wr = [0] * n
    for t in xfers:
        (wr if t.write else rd)[t.step] += t.nbytes
    actions = ActionCounts()
    rows = []
    prev_end = 0
    for s, w in enumerate(work):
        actions.merge(w.actions)
        total_pj, _, _ = table.price(w.actions)
        start, end = prev_end, tl.compute_end[s]
        cyc = end - start
        util = w.macs / (cyc * spec.pes) if (cyc and w.unit == "systolic") else 0.0
        rows.append({
            "op": ops[s].name, "kind": str(ops[s].kind), "unit": w.unit, "start_cycle": start, "end_cycle": end,
            "cycles": cyc, "compute_cycles": w.compute_cycles, "stall_cycles": cyc - w.compute_cycles, "macs": w.macs,
            "utilization": util, "dram_read_bytes": rd[s], "dram_write_bytes": wr[s], "energy_pj": total_pj,
            "memoized_from": None, "step": s, **w.extra,
            **({"vector_ops": w.vector_ops} if w.unit == "vector" else {}),
        })
        prev_end = end
    read_b, write_b = sum(rd), sum(wr)
    sram = "systolic.scratchpad"
    actions.add(sram, "sram", "write_bytes", read_b)
    actions.add(sram, "sram", "read_bytes", write_b)
    actions.add("dram", "dram", "read_bytes", read_b)
    actions.add("dram", "dram", "write_bytes", write_b)
    total_pj, by_comp, unpriced = table.price(actions)
    t = tl.end_cycle
    macs = sum(r["macs"] for r in rows)
    c = m.cost
    totals = {
        "cycles": t, "time_ns": t * 1e9 / spec.clock_hz, "macs": macs,
        "utilization": macs / (t * spec.pes) if t else 0.0,
        "compute_cycles": sum(w.compute_cycles for w in work),
        "stall_cycles": t - sum(w.compute_cycles for w in work),
        "dram_read_bytes": read_b, "dram_write_bytes": write_b, "energy_pj": total_pj,
        "ops": n, "ops_simulated": n, "ops_memoized": 0,
        "compulsory_bytes": c.compulsory_bytes, "non_compulsory_bytes": c.non_compulsory_bytes,
        "epilogue_cycles": t - (tl.compute_end[-1] if n else 0),
    }
    notes = [f"executed mapping {src}: {len(xfers)} DRAM transfers, {c.compulsory_bytes:,} compulsory and "
             f"{c.non_compulsory_bytes:,} non-compulsory bytes (mapping status {m.status})"]
    unified = unified_scratchpad_bytes(spec)
    if m.problem.scratchpad_bytes < unified:
        notes.append(f"the mapping uses a {m.problem.scratchpad_bytes:,}-byte scratchpad of the {unified:,} bytes "
                     f"of SRAM")
    if totals["epilogue_cycles"]:
        notes.append(f"{totals['epilogue_cycles']} cycles of write-back after the last op (not in any op row)")
    if unpriced:
        notes.append(f"actions without an energy entry (priced at 0): {', '.join(unpriced)}")
    return RunResult(
        arch={"kind": "systolic", **spec.to_dict()},
        workload={"name": graph.name, "source": graph.source, "params": graph.params, "ops": len(graph),
                  "macs": graph.total_macs},
        ops=rows, totals=totals, events=events, actions=actions, energy_breakdown_pj=by_comp,
        energy_table=table.to_dict(),
        options={"level": level, "convention": spec.convention, "dataflow": spec.dataflow,
                 "mapping": {"source": src, "graph_hash": m.graph_hash, "scratchpad_bytes": m.problem.scratchpad_bytes,
                             "status": m.status, "schedule_ops": n}},
        seed=seed, notes=notes, model_data={},
    )
