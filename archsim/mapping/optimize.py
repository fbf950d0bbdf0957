"""The scratchpad optimizer: schedule, addresses and spills of least off-chip traffic (COSMA).

:func:`optimize` takes a :class:`MemProblem` and returns a :class:`MappingResult`:

1. If some op's working set does not fit, the result is ``INFEASIBLE`` (no plan).
2. Orders: the graph's own, and the order of least peak memory (:mod:`.order`, COSMA's ``M_P``).
3. Baselines (:mod:`.baselines`): TFLite greedy-by-size on the graph order (no eviction), and
   best-fit + Belady on the graph order and on the min-peak order. The best baseline plan is the
   incumbent and the solver's hint.
4. ``joint`` (default up to ``whole_max_ops``): the whole graph's *capacity model*
   (:class:`.model.CosmaModel` without addresses: schedule, residency, spills and reloads with a
   capacity row per step) gives the schedule and residencies of least traffic and a bound that
   holds for every schedule; :mod:`.allocate` then gives those residencies addresses (greedy by
   size, else CP-SAT ``NoOverlap2D``, lowering the peak). Since every plan with addresses is a
   plan of the capacity model, a packed capacity optimum is a proven optimum. If it cannot be
   packed, the plan is rebuilt segment by segment along it (step 5), with the full model (with
   addresses) where a segment's residencies do not pack.
5. ``divide`` (COSMA §IV; default above ``whole_max_ops``): the best order is cut into segments
   (:mod:`.segments`; preferably after articulation ops) solved in turn from the state the
   previous one left, each with the next segment as lookahead (its ops stay after the segment's,
   so the partition holds) and hinted by Belady from that state; when a segment's residencies do
   not pack around the addresses the previous one chose, both get addresses again together.
6. Bounds. ``stats.best_bound`` always holds for every schedule: the whole-graph capacity
   model's bound, or for ``divide`` the sum of relaxed optima (free start state, nothing charged
   for the future) over blocks of segments when every cut is at an articulation op (every
   schedule runs such segments in sequence), else 0. Otherwise that sum is reported as
   ``segment_bound_bytes``: it holds for the schedules that run the segments in sequence.
   ``OPTIMAL`` means the plan's traffic equals the all-schedules bound.

Every plan is re-checked and priced by :func:`archsim.mapping.plan.evaluate`; the figures
reported are the checker's, never the model's. Secondary objective: the address high-water
mark (peak), minimised by the address assignment for the chosen residencies.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from typing import Any

from archsim.mapping.allocate import assign_addresses
from archsim.mapping.baselines import belady, greedy_by_size, initial_state
from archsim.mapping.model import CosmaModel, StepPlacement, steps_of_plan
from archsim.mapping.order import min_peak_order, order_peak_bytes
from archsim.mapping.plan import Plan, PlanCost, Residency, evaluate
from archsim.mapping.problem import MemProblem
from archsim.mapping.segments import advance, cut_segments, pending_counts
from archsim.mapping.solver import (
    CAPACITY_DET_UNITS_PER_S,
    DET_UNITS_PER_S,
    SolverOptions,
    SolveStats,
    combine,
    solve,
)

METHODS = ("auto", "joint", "divide")
#: ``auto`` solves graphs up to this many ops as one joint model (measured on 2 cores: proven
#: optima in 0.1-11 s at 30-40 ops; benchmarks/bench_mapping.py)
JOINT_MAX_OPS = 40
#: default segment length of divide and conquer
SEGMENT_OPS = 30
#: ``auto`` solves the schedule of graphs up to this many ops as one capacity model (measured on
#: 2 cores: 1000-op NAS-like graphs proven optimal in about 9 s)
WHOLE_MAX_OPS = 1200
#: share of the budget kept for the relaxed segment bounds
BOUND_SHARE = 0.2
#: share of a solve's budget spent on the primary objective (the rest goes to the peak)
TRAFFIC_SHARE = 0.75
#: share of the budget the whole-graph capacity model may use
WHOLE_SHARE = 0.6
#: CP-SAT parameters of the capacity models: no LP relaxation (measured on 200-op NAS-like
#: graphs: proven optima in 0.5-5.6 s instead of 1.5-8.6 s; benchmarks/bench_mapping.py)
CAPACITY_PARAMETERS = {"linearization_level": 0}


@dataclass(frozen=True)
class MapOptions:
    """Solver limits and method. ``time_limit_s`` is the budget of the whole optimisation in
    seconds (a hard wall-clock cap; with ``deterministic`` the solves spend it as deterministic
    work, see :mod:`.solver`); ``relative_gap`` stops each solve that close to its bound;
    ``method`` is ``auto``, ``joint`` (one model) or ``divide``."""

    time_limit_s: float = 10.0
    relative_gap: float = 0.0
    workers: int = 1
    seed: int = 0
    deterministic: bool = True
    minimize_peak: bool = True
    method: str = "auto"
    segment_ops: int = SEGMENT_OPS
    joint_max_ops: int = JOINT_MAX_OPS
    whole_max_ops: int = WHOLE_MAX_OPS

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise ValueError(f"method must be one of {METHODS}, got {self.method!r}")
        if self.segment_ops < 2:
            raise ValueError(f"segment_ops must be >= 2, got {self.segment_ops!r}")
        SolverOptions(self.time_limit_s, self.relative_gap, self.workers, self.seed, self.deterministic)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Baseline:
    """A baseline's outcome: its plan and cost when it produced a valid plan."""

    name: str
    order_name: str
    fits: bool
    plan: Plan | None
    cost: PlanCost | None
    arena_bytes: int | None = None
    note: str = ""
    wall_time_s: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        c = self.cost
        return {
            "name": self.name, "order": self.order_name, "fits": self.fits, "wall_time_s": self.wall_time_s,
            "compulsory_bytes": c.compulsory_bytes if c else None,
            "non_compulsory_bytes": c.non_compulsory_bytes if c else None,
            "spill_bytes": c.spill_bytes if c else None,
            "reload_bytes": c.reload_bytes if c else None,
            "peak_bytes": c.peak_bytes if c else self.arena_bytes,
            "arena_bytes": self.arena_bytes, "note": self.note,
        }


@dataclass
class MappingResult:
    """The optimizer's answer (see module docstring). ``plan``/``cost`` are None when infeasible."""

    problem: MemProblem
    plan: Plan | None
    cost: PlanCost | None
    stats: SolveStats
    method: str
    baselines: dict[str, Baseline]
    budgets: dict[str, Any]
    options: MapOptions
    segment_bound_bytes: int | None = None
    peak_stats: SolveStats | None = None
    segments: list[dict[str, Any]] = field(default_factory=list)
    phases: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    source: str = "solver"  # "solver" or the baseline whose plan was kept

    @property
    def status(self) -> str:
        return self.stats.status

    @property
    def bound_bytes(self) -> int | None:
        b = self.stats.best_bound
        return None if b is None else int(b)

    @property
    def best_baseline(self) -> Baseline | None:
        ok = [b for b in self.baselines.values() if b.cost is not None]
        return min(ok, key=lambda b: (b.cost.non_compulsory_bytes, b.cost.peak_bytes)) if ok else None

    @property
    def reduction_pct(self) -> float | None:
        """Non-compulsory bytes removed relative to the best baseline (%), None if it has none."""
        b = self.best_baseline
        if self.cost is None or b is None or b.cost.non_compulsory_bytes == 0:
            return None
        return 100.0 * (1 - self.cost.non_compulsory_bytes / b.cost.non_compulsory_bytes)

    @property
    def segment_gap(self) -> float | None:
        if self.cost is None or self.segment_bound_bytes is None:
            return None
        obj = self.cost.non_compulsory_bytes
        return max(0, obj - self.segment_bound_bytes) / max(obj, 1)


class _Clock:
    """Budget accounting: deterministic work in deterministic mode (so the split of the budget
    between solves is reproducible), else wall seconds; the wall cap always applies."""

    def __init__(self, opts: MapOptions):
        self.opts = opts
        self.t0 = time.perf_counter()
        self.det_s = 0.0  # deterministic work spent, in budget seconds

    def charge(self, stats: SolveStats) -> None:
        self.det_s += stats.budget_used_s

    @property
    def wall(self) -> float:
        return time.perf_counter() - self.t0

    @property
    def left(self) -> float:
        used = self.det_s if self.opts.deterministic else self.wall
        return max(0.0, self.opts.time_limit_s - used)

    @property
    def wall_left(self) -> float:
        return max(0.0, self.opts.time_limit_s - self.wall)

    def solver(self, budget_s: float, *, capacity: bool = False) -> SolverOptions:
        o = self.opts
        b = max(0.0, min(budget_s, self.left))
        return SolverOptions(b, o.relative_gap, o.workers, o.seed, o.deterministic, wall_cap_s=self.wall_left,
                             det_units_per_s=CAPACITY_DET_UNITS_PER_S if capacity else DET_UNITS_PER_S)


def _baselines(problem: MemProblem, mp_order: tuple[int, ...]) -> dict[str, Baseline]:
    out: dict[str, Baseline] = {}
    default = problem.default_order
    t0 = time.perf_counter()
    g = greedy_by_size(problem, default)
    out["greedy_by_size"] = Baseline(
        "greedy_by_size", "graph", g.fits, g.plan, evaluate(problem, g.plan) if g.plan else None, g.arena_bytes,
        "" if g.fits else f"the arena needs {g.arena_bytes} bytes > scratchpad; this baseline does not evict",
        wall_time_s=time.perf_counter() - t0)
    for name, order, oname in (("belady", default, "graph"), ("belady_min_peak_order", mp_order, "min_peak")):
        t0 = time.perf_counter()
        plan, _ = belady(problem, order)
        out[name] = Baseline(name, oname, True, plan, evaluate(problem, plan), wall_time_s=time.perf_counter() - t0)
    return out


def _key(cost: PlanCost) -> tuple[int, int]:
    return cost.non_compulsory_bytes, cost.peak_bytes


def optimize(problem: MemProblem, options: MapOptions | None = None) -> MappingResult:
    """Minimise non-compulsory off-chip bytes, then peak scratchpad use (see module docstring)."""
    opts = options or MapOptions()
    clock = _Clock(opts)
    budgets: dict[str, Any] = {"scratchpad_bytes": problem.scratchpad_bytes,
                               "single_op_min_bytes": problem.single_op_min_bytes}
    bad = problem.infeasible_op()
    if bad is not None:
        need = problem.working_set_bytes(bad)
        note = (f"op {problem.op_names[bad]} needs {need} bytes at once (inputs, weights, outputs) but the "
                f"scratchpad has {problem.scratchpad_bytes}")
        stats = SolveStats("INFEASIBLE", None, None, clock.wall, opts.time_limit_s, opts.relative_gap,
                           opts.deterministic, solves=0, notes=[note])
        return MappingResult(problem, None, None, stats, "none", {}, budgets, opts, notes=[note])
    mp = min_peak_order(problem)
    budgets.update(min_peak_bytes=mp.peak_bytes, min_peak_exact=mp.exact,
                   graph_order_peak_bytes=order_peak_bytes(problem, problem.default_order))
    base = _baselines(problem, mp.order)
    best = min((b for b in base.values() if b.cost is not None), key=lambda b: _key(b.cost))
    n = problem.n_ops
    method = opts.method
    if method == "auto":
        method = "joint" if n <= opts.whole_max_ops else "divide"
    phases: list[dict[str, Any]] = []
    all_bound = 0
    guide: StepPlacement | None = None
    guide_optimal = False
    base_order = best.plan.order
    guide_solved = False
    if method == "joint":
        guide, gst, guide_solved = _whole_capacity(problem, best, opts, clock)
        phases.append({"phase": "whole_graph_capacity", **gst.to_dict()})
        if gst.best_bound is not None and gst.status != "INFEASIBLE":
            all_bound = max(0, int(-(-gst.best_bound // 1)))
        guide_optimal = gst.status == "OPTIMAL"
        if guide is not None:
            base_order = tuple(guide.order)
    segs, all_art = cut_segments(problem, base_order, opts.segment_ops if n > opts.joint_max_ops else n)
    placed = None
    if guide is not None:  # addresses for the whole residency plan at once
        placed, ast, which = assign_addresses(problem, guide, {}, options=clock.solver(
            (1 - TRAFFIC_SHARE) * clock.left) if opts.minimize_peak else None)
        if ast is not None:
            clock.charge(ast)
            phases.append({"phase": "addresses", **ast.to_dict()})
    if placed is not None:
        plan = plan_of_steps(problem, placed)
        rows = [{"start_step": 0, "stop_step": n, "ops": n, "status": phases[0]["status"],
                 "plan": "guide" if guide_solved else "hint",
                 "addresses": which, "objective_bytes": None, "peak_bytes": _peak(problem, placed) * problem.unit_bytes}]
        segs = [(0, n)]
        p1, p2 = [], []
    else:
        reserve = BOUND_SHARE * opts.time_limit_s if (method == "divide" and len(segs) > 1) else 0.0
        plan, rows, p1, p2 = _solve_segments(problem, base_order, segs, opts, clock, reserve,
                                             guide=guide if guide_solved else None, guide_optimal=guide_optimal,
                                             lookahead=method == "divide")
    cost = evaluate(problem, plan)
    if p1:
        phases.append({"phase": "segments", **combine(p1).to_dict()})
    if p2:
        phases.append({"phase": "addresses", **combine(p2).to_dict()})
    source = "solver" if any(r["plan"] != "hint" for r in rows) else best.name
    if _key(best.cost) < _key(cost):
        plan, cost, source = best.plan, best.cost, best.name

    segment_bound = None
    if cost.non_compulsory_bytes == 0:
        all_bound = 0
    elif method == "divide" and len(segs) > 1:
        share = _shares(cost, segs)
        seg_sum, bstats = _segment_bounds(problem, plan.order, segs, rows, share, opts, clock)
        if bstats:
            phases.append({"phase": "segment_bounds", **combine(bstats).to_dict()})
        if all_art:
            all_bound = max(all_bound, seg_sum)
        else:
            segment_bound = seg_sum
    elif method == "divide":
        b = p1[0].best_bound if p1 else None
        all_bound = 0 if b is None else max(0, int(-(-b // 1)))
    obj = cost.non_compulsory_bytes
    inconsistent = all_bound > obj  # a bound above a checked plan's traffic would be a model bug
    all_bound = min(all_bound, obj)
    if obj <= all_bound:
        status = "OPTIMAL"
    elif source == "solver":
        status = "FEASIBLE"
    else:
        ran = [ph for ph in phases if ph["solves"]]
        status = "TIMEOUT" if ran and all(ph["status"] == "TIMEOUT" for ph in ran) else "FEASIBLE"
    stats = SolveStats(status, float(obj), float(all_bound), wall_time_s=clock.wall, time_limit_s=opts.time_limit_s,
                       relative_gap_limit=opts.relative_gap, deterministic=opts.deterministic,
                       deterministic_time=sum(ph["deterministic_time"] for ph in phases),
                       wall_limited=any(ph["wall_limited"] for ph in phases),
                       hint_objective=float(best.cost.non_compulsory_bytes),
                       solves=sum(ph["solves"] for ph in phases),
                       budget_used_s=clock.det_s if opts.deterministic else clock.wall)
    notes = []
    if inconsistent:
        notes.append("model inconsistency: the solver's bound exceeded the checked plan's traffic; bound clamped")
    if source != "solver":
        notes.append(f"the {source} baseline's plan is kept: " + (
            "it is already optimal" if obj <= all_bound else "the solver found nothing better in the time limit"))
    if not mp.exact:
        notes.append(f"min-peak order from a beam search ({mp.states} states): {mp.peak_bytes} bytes is an "
                     "upper bound on M_P")
    if segment_bound is not None:
        notes.append("segments are not all cut at articulation ops: segment_bound_bytes holds for schedules that "
                     "run the segments in sequence")
    stats.notes.extend(notes)
    return MappingResult(problem, plan, cost, stats, method, base, budgets, opts, segment_bound,
                         combine(p2) if p2 else None, rows, phases, notes, source)


def _shares(cost: PlanCost, segs: list[tuple[int, int]]) -> list[int]:
    """Non-compulsory bytes of the plan at the steps of each segment."""
    step_seg = []
    for k, (s0, s1) in enumerate(segs):
        step_seg += [k] * (s1 - s0)
    share = [0] * len(segs)
    for tr in cost.transfers:
        if not tr.compulsory:
            share[step_seg[tr.step]] += tr.bytes
    return share


def _whole_capacity(problem: MemProblem, best: Baseline, opts: MapOptions,
                    clock: _Clock) -> tuple[StepPlacement, SolveStats, bool]:
    """The capacity model (no addresses) of the whole graph, hinted with the best baseline: a
    schedule and residencies of least traffic, a bound that holds for every schedule, and
    whether the residencies came from the solver (else they are the baseline's)."""
    n = problem.n_ops
    model = CosmaModel(problem, list(best.plan.order), addresses=False)
    sp_hint = steps_of_plan(problem, best.plan, 0, n)
    h_cost = model.cost_of(sp_hint)
    if h_cost == 0:
        return sp_hint, SolveStats("OPTIMAL", 0.0, 0.0, 0.0, 0.0, opts.relative_gap, opts.deterministic, solves=0,
                                   hint_objective=0.0), False
    st, solver = solve(model.m, clock.solver(WHOLE_SHARE * clock.left, capacity=True),
                       hint=model.hint_from_steps(sp_hint),
                       hint_objective=float(h_cost), parameters=CAPACITY_PARAMETERS)
    clock.charge(st)
    if st.has_solution:
        cand = model.extract(solver)
        if model.cost_of(cand) <= h_cost:
            return cand, st, True
    return sp_hint, st, False


def _solve_segments(problem: MemProblem, base_order: tuple[int, ...], segs: list[tuple[int, int]],
                    opts: MapOptions, clock: _Clock, reserve: float, guide: StepPlacement | None = None,
                    guide_optimal: bool = False, lookahead: bool = False):
    """Solve the segments in turn; returns the stitched plan, per-segment rows and the stats of
    the traffic solves and of the address (peak) solves."""
    n = problem.n_ops
    state = initial_state(problem)
    pending = pending_counts(problem)
    executed: set[int] = set()
    stitched: list[int] = []
    rows: list[dict[str, Any]] = []
    p1: list[SolveStats] = []
    p2: list[SolveStats] = []
    prev: tuple | None = None  # (state and pending before the previous segment, its start, its placement)

    def retry(cand: StepPlacement) -> StepPlacement | None:
        """Addresses for the previous segment and this one together, from the state before the
        previous one (its addresses may have boxed this segment in); rewinds on success."""
        nonlocal state, pending
        if prev is None:
            return None
        st_b, pend_b, sp0, spp = prev
        both = StepPlacement(spp.order + cand.order, spp.placement + cand.placement, spp.loaded + cand.loaded)
        init_b = {a: ad for a, (ad, _, _) in st_b.resident.items()}
        placed, ast, _ = assign_addresses(problem, both, init_b, options=clock.solver(
            (1 - TRAFFIC_SHARE) * clock.left / 4))
        if ast is not None:
            clock.charge(ast)
            p2.append(ast)
        if placed is None:
            return None
        m = len(spp.order)
        state, pending = st_b.copy(), list(pend_b)
        advance(problem, state, pending, _cut(placed, m), sp0)
        rows[-1]["addresses"] = "redone with the next segment"
        return StepPlacement(placed.order[m:], placed.placement[m:], placed.loaded[m:])

    for k, (s0, s1) in enumerate(segs):
        seg_ops = list(base_order[s0:s1])
        seg_set = set(seg_ops)
        # lookahead: the next segment's ops join the model (after this segment's) so evictions at
        # the boundary see what comes next; only this segment's steps are kept
        s2 = segs[k + 1][1] if (lookahead and k + 1 < len(segs)) else s1
        win_ops = list(base_order[s0:s2])
        hplan, _ = belady(problem, stitched + list(base_order[s0:]), state=state, start=s0)
        sp_hint = steps_of_plan(problem, hplan, s0, s2)
        g = None
        if guide is not None and stitched == list(guide.order[:s0]):
            g = StepPlacement(list(guide.order[s0:s2]), guide.placement[s0:s2], guide.loaded[s0:s2])
            first = g.placement[0] if g.placement else {}
            created = set(problem.op_outputs[g.order[0]]) if g.order else set()
            # the guide continues exactly the tensors that are resident now
            if any(a not in state.resident for a in first if a not in g.loaded[0] and a not in created):
                g = None
        win_set = set(win_ops)
        later = set(base_order[s2:])
        live_out = {a for a, t in enumerate(problem.tensors)
                    if any(c in later for c in t.consumers)
                    and (t.producer in win_set or t.producer in executed or a in state.resident
                         or (t.external and any(c in win_set or c in executed for c in t.consumers)))}
        first_use = {a for a, t in enumerate(problem.tensors)
                     if t.external and not any(c in executed for c in t.consumers)
                     and any(c in win_set for c in t.consumers)}
        init = {a: ad for a, (ad, _, _) in state.resident.items()}
        weight = (s1 - s0) / max(1, n - s0)
        budget = max(0.0, clock.left - reserve) * weight
        sp, row, st_traffic, st_addr = _solve_unit(problem, win_ops, init, state.offchip, live_out, first_use,
                                                   sp_hint, budget, opts, clock, g, guide_optimal,
                                                   split=(s1 - s0) if s2 > s1 else None, retry=retry)
        p1.extend(st_traffic)
        p2.extend(st_addr)
        row = {"start_step": s0, "stop_step": s1, "ops": s1 - s0, **row,
               "peak_bytes": _peak(problem, sp) * problem.unit_bytes}
        rows.append(row)
        prev = (state.copy(), list(pending), s0, sp)
        advance(problem, state, pending, sp, s0)
        stitched += sp.order
        executed |= seg_set
    u = problem.unit_bytes
    rest = [Residency(a, b, last, ad * u) for a, (ad, b, last) in state.resident.items()]
    return Plan.of(stitched, state.closed + rest), rows, p1, p2


def _cut(sp: StepPlacement, steps: int | None) -> StepPlacement:
    if steps is None:
        return sp
    return StepPlacement(sp.order[:steps], sp.placement[:steps], sp.loaded[:steps])


def _solve_unit(problem: MemProblem, ops: list[int], init: dict[int, int], offchip: set[int], live_out: set[int],
                first_use: set[int], sp_hint: StepPlacement, budget: float, opts: MapOptions, clock: _Clock,
                guide: StepPlacement | None = None, guide_optimal: bool = False, split: int | None = None,
                retry=None):
    """One segment (or the whole graph): the capacity model (no addresses) for the traffic (or
    the guide's residencies when they come from a proven whole-graph optimum), then addresses
    for those residencies; the full model with addresses only if they do not fit. With ``split``
    the model also holds a lookahead and only the first ``split`` steps are returned. Returns
    the step placement, a row of figures, and the traffic and address solve stats."""
    kw = dict(init_resident=init, offchip=offchip, live_out=live_out, first_use_here=first_use, stage_split=split)
    cap_model = CosmaModel(problem, ops, addresses=False, **kw)
    h_cost = cap_model.cost_of(sp_hint)
    start = sp_hint
    if guide is not None and cap_model.cost_of(guide) <= h_cost:
        start = guide
    s_cost = cap_model.cost_of(start)
    traffic: list[SolveStats] = []
    addr: list[SolveStats] = []
    row: dict[str, Any] = {"hint_bytes": h_cost, "guide_bytes": None if guide is None else cap_model.cost_of(guide)}
    if split is not None:
        row["lookahead_ops"] = len(ops) - split
    addr_share = (1 - TRAFFIC_SHARE) if opts.minimize_peak else 0.0
    sp, used, full_sp = _cut(sp_hint, split), "hint", sp_hint
    if s_cost == 0 or (start is guide and guide_optimal):
        # every term of the objective is >= 0, or the guide is a slice of a proven optimum
        st = SolveStats("OPTIMAL" if s_cost == 0 else "GUIDED", float(s_cost), 0.0 if s_cost == 0 else None, 0.0,
                        0.0, opts.relative_gap, opts.deterministic, solves=0, hint_objective=float(s_cost))
        cand, how = start, ("guide" if start is guide else "hint")
    else:
        st, solver = solve(cap_model.m, clock.solver(budget * (1 - addr_share) * 0.8, capacity=True),
                           hint=cap_model.hint_from_steps(start), hint_objective=float(s_cost),
                           parameters=CAPACITY_PARAMETERS)
        clock.charge(st)
        traffic.append(st)
        cand, how = start, ("guide" if start is guide else "hint")
        if st.has_solution:
            c = cap_model.extract(solver)
            if cap_model.cost_of(c) <= s_cost:
                cand, how = c, "capacity"
    row.update(status=st.status, model_bound_bytes=st.best_bound, wall_time_s=st.wall_time_s,
               deterministic_time=st.deterministic_time)
    aopts = clock.solver(budget * addr_share) if opts.minimize_peak else None
    placed, ast, which = assign_addresses(problem, _cut(cand, split), init, options=aopts)
    if ast is not None:
        clock.charge(ast)
        addr.append(ast)
    row["addresses"] = which
    if placed is None and how != "hint" and retry is not None:
        placed = retry(_cut(cand, split))
        if placed is not None:
            row["addresses"] = "with the previous segment"
    if placed is not None:
        sp, used, full_sp = placed, how, cand
    elif how != "hint":
        # the capacity optimum fragments: solve with addresses, from the Belady plan
        full = CosmaModel(problem, ops, **kw)
        fst, fsolver = solve(full.m, clock.solver(max(budget * (1 - addr_share) * 0.5, clock.left / 8)),
                             hint=full.hint_from_steps(sp_hint), hint_objective=float(h_cost))
        clock.charge(fst)
        traffic.append(fst)
        row["full_model_status"] = fst.status
        if fst.has_solution:
            c = full.extract(fsolver)
            if full.cost_of(c) <= h_cost:
                sp, used, full_sp = _cut(c, split), "solver", c
    row["plan"] = used
    row["objective_bytes"] = cap_model.cost_of(full_sp)
    return sp, row, traffic, addr


def plan_of_steps(problem: MemProblem, sp: StepPlacement) -> Plan:
    """The :class:`Plan` of a step placement of the whole graph."""
    state = initial_state(problem)
    advance(problem, state, pending_counts(problem), sp, 0)
    u = problem.unit_bytes
    rest = [Residency(a, b, last, ad * u) for a, (ad, b, last) in state.resident.items()]
    return Plan.of(sp.order, state.closed + rest)


def _peak(problem: MemProblem, sp: StepPlacement) -> int:
    size = problem.size_units
    return max((ad + size[a] for pl in sp.placement for a, ad in pl.items()), default=0)


def _bound_blocks(share: list[int]) -> list[list[int]]:
    """Blocks of consecutive segments for the relaxed bounds: each segment with traffic is paired
    with the next one (a coarser partition, so the sum is still a bound, and a tighter one: the
    pair's inner boundary is not relaxed); the others stand alone."""
    blocks, k = [], 0
    while k < len(share):
        if share[k] > 0 and k + 1 < len(share):
            blocks.append([k, k + 1])
            k += 2
        else:
            blocks.append([k])
            k += 1
    return blocks


def _segment_bounds(problem: MemProblem, order: tuple[int, ...], segs, rows, share, opts: MapOptions,
                    clock: _Clock) -> tuple[int, list[SolveStats]]:
    """Sum over blocks of segments of the relaxed optimum's bound (see module docstring); each
    block's bound is recorded on its first segment's row."""
    total = 0
    stats: list[SolveStats] = []
    blocks = _bound_blocks(share)
    todo = [j for j, blk in enumerate(blocks) if sum(share[k] for k in blk) > 0]
    executed: set[int] = set()
    tensors = problem.tensors
    for k in range(len(segs)):
        rows[k]["share_bytes"] = share[k]
        rows[k]["bound_bytes"] = 0
    for j, blk in enumerate(blocks):
        s0, s1 = segs[blk[0]][0], segs[blk[-1]][1]
        blk_share = sum(share[k] for k in blk)
        seg_ops = list(order[s0:s1])
        seg_set = set(seg_ops)
        if j not in todo:
            executed |= seg_set
            continue
        left = sum(1 for i in todo if i >= j)
        later = set(order[s1:])
        carried = {a for a, t in enumerate(tensors)
                   if any(c in seg_set for c in t.consumers)
                   and (t.producer in executed or (t.external and any(c in executed for c in t.consumers)))}
        live_out = {a for a, t in enumerate(tensors) if t.producer in seg_set and any(c in later for c in t.consumers)}
        first_use = {a for a, t in enumerate(tensors)
                     if t.external and a not in carried and any(c in seg_set for c in t.consumers)}
        offchip = {a for a, t in enumerate(tensors) if t.external} | carried
        model = CosmaModel(problem, seg_ops, init_resident=dict.fromkeys(carried, 0), offchip=offchip,
                           live_out=live_out, first_use_here=first_use, relaxed=True, addresses=False)
        st, _ = solve(model.m, clock.solver(clock.left / max(1, left), capacity=True), parameters=CAPACITY_PARAMETERS)
        clock.charge(st)
        stats.append(st)
        b = st.best_bound if (st.best_bound is not None and st.status != "INFEASIBLE") else 0.0
        b = max(0, int(-(-b // 1)))
        row = rows[blk[0]]
        if b > blk_share:  # a relaxed optimum above an achieved share would be a model bug
            row["bound_note"] = f"relaxed bound {b} above the plan's share {blk_share}; clamped"
            b = blk_share
        row["bound_bytes"] = b
        row["bound_block"] = [segs[blk[0]][0], segs[blk[-1]][1]]
        row["bound_status"] = st.status
        total += b
        executed |= seg_set
    return total, stats
