"""COSMA's joint scheduling / allocation / replacement problem as a CP-SAT model.

Time-indexed, one op per step (COSMA Eq.1-12, in the CP-SAT form of the mapping reference,
``shared/reference/ilp.md`` §3 model C). For the ``n`` ops of a (sub)problem, steps ``0..n-1``:

* ``x[v,t]``: op ``v`` runs at step ``t`` (inside its window ``[asap, alap]`` from ancestor and
  descendant counts); exactly one op per step and one step per op; time-indexed precedence;
* ``r[a,t]``: tensor ``a`` is resident at step ``t``; ``x[v,t] => r[a,t]`` for the inputs and
  outputs of ``v`` (COSMA Eq.5); never before creation (Eq.2), never after the last use;
* ``ld[a,t]``: ``a`` is loaded before step ``t``: entering residency without being created needs
  a load (COSMA's retrieve R), loads happen only at steps that read ``a``; ``sp[a]``: an
  intermediate with no DRAM copy is spilled once before any reload (Eq.3, 4, 8);
* ``addr[a,t]``: base address (solver units); while ``a`` stays resident without a reload its
  address does not change (Eq.11); per step one ``NoOverlap`` of the optional intervals
  ``[addr, addr+size)`` present when resident (replaces Eq.10's big-M pairs), plus a redundant
  capacity row.

Dominance rules that lose no optimum and cut the search: a tensor is loaded only at a step that
reads it and evicted only right after a step that uses it (evicting earlier or loading later
frees space and costs the same). Tensors resident at a single step (a weight read by one op, an
output nobody reads) get no ``r`` variables: their presence is the op's ``x``.

Objective: non-compulsory bytes (spills + reloads) of the steps modelled. For a segment of a
larger graph, the state at its start is given (resident tensors and their addresses, which
tensors have a DRAM copy) and tensors still needed later must either stay resident at the end
or have a DRAM copy, in which case one future reload is charged. ``relaxed=True`` instead frees
the start state (carried tensors may be resident anywhere or off-chip at no cost) and charges
nothing for the future: its optimum is a lower bound on the segment's share of any plan.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from ortools.sat.python import cp_model

from archsim.mapping.plan import Plan
from archsim.mapping.problem import MemProblem


@dataclass
class StepPlacement:
    """The solution of a (sub)model: the op of each local step, and per step the resident
    tensors with their addresses (units) and which of them were loaded before that step."""

    order: list[int]
    placement: list[dict[int, int]]
    loaded: list[set[int]]


class CosmaModel:
    """The CP-SAT model of steps ``start..start+len(ops)-1`` of a plan (see module docstring).

    * ``ops``: the global op indices of the segment, in a base order (used for the fixed schedule)
    * ``init_resident``: tensors resident at the segment start -> address (units)
    * ``offchip``: tensors with a DRAM copy at the start (graph inputs, weights, spilled, stored)
    * ``live_out``: tensors read after the segment
    * ``first_use_here``: external tensors whose first load is in this segment (compulsory)
    * ``fixed_order``: schedule fixed to ``ops`` (COSMA FS, §III-E2)
    * ``relaxed``: free start state and no charge for the future (a lower bound, see above)
    * ``addresses``: False drops the addresses (capacity rows only): a relaxation that is exact
      whenever its residencies can be packed, and much faster to solve
    * ``stage_split``: ``ops[:stage_split]`` run before the others (a segment followed by a
      lookahead that informs its evictions)
    """

    def __init__(self, problem: MemProblem, ops: Sequence[int], *, init_resident: Mapping[int, int] | None = None,
                 offchip: set[int] | None = None, live_out: set[int] | None = None,
                 first_use_here: set[int] | None = None, fixed_order: bool = False, relaxed: bool = False,
                 addresses: bool = True, stage_split: int | None = None):
        self.p = problem
        self.addresses = addresses
        self.ops = list(ops)
        self.n = n = len(self.ops)
        self.relaxed = relaxed
        self.fixed_order = fixed_order
        self.init = dict(init_resident or {})
        self.offchip = set(offchip if offchip is not None else {a for a, t in enumerate(problem.tensors) if t.external})
        self.live_out = set(live_out or ())
        if first_use_here is None:
            first_use_here = {a for a, t in enumerate(problem.tensors) if t.external and a not in self.init}
        self.m = m = cp_model.CpModel()
        local = {v: i for i, v in enumerate(self.ops)}
        self.local = local
        size = problem.size_units
        cap = problem.capacity_units
        nbytes = [t.size_bytes for t in problem.tensors]

        # ---- op windows and x ----------------------------------------------------------------
        preds = [[local[p] for p in problem.preds[v] if p in local] for v in self.ops]
        succs = [[local[s] for s in problem.succs[v] if s in local] for v in self.ops]
        if fixed_order:
            lo = list(range(n))
            hi = list(range(n))
        else:
            anc = [0] * n
            for i in range(n):  # ops are listed in a topological order
                msk = 0
                for q in preds[i]:
                    msk |= anc[q] | (1 << q)
                anc[i] = msk
            desc = [0] * n
            for i in range(n - 1, -1, -1):
                msk = 0
                for q in succs[i]:
                    msk |= desc[q] | (1 << q)
                desc[i] = msk
            lo = [anc[i].bit_count() for i in range(n)]
            hi = [n - 1 - desc[i].bit_count() for i in range(n)]
            if stage_split is not None:  # ops[:split] run first (a segment), the rest after (lookahead)
                for i in range(n):
                    if i < stage_split:
                        hi[i] = min(hi[i], stage_split - 1)
                    else:
                        lo[i] = max(lo[i], stage_split)
        self.win = list(zip(lo, hi))
        x: list[dict[int, cp_model.IntVar]] = []
        for i in range(n):
            row = {t: m.new_bool_var(f"x{i}_{t}") for t in range(lo[i], hi[i] + 1)}
            m.add_exactly_one(row.values())
            x.append(row)
        self.x = x
        by_step: list[list[cp_model.IntVar]] = [[] for _ in range(n)]
        for i in range(n):
            for t, var in x[i].items():
                by_step[t].append(var)
        for t in range(n):
            m.add_exactly_one(by_step[t])

        def prefix(i: int, t: int) -> list:  # x[i, t'] for t' <= t
            return [var for tt, var in x[i].items() if tt <= t]

        def suffix(i: int, t: int) -> list:
            return [var for tt, var in x[i].items() if tt >= t]

        for i in range(n):
            for q in preds[i]:  # q runs before i: started(i, t) <= started(q, t - 1)
                for t in range(lo[i], hi[q] + 1):
                    m.add(sum(prefix(i, t)) <= sum(prefix(q, t - 1)))

        # ---- tensors -------------------------------------------------------------------------
        seg_tensors: dict[int, None] = {}
        for v in self.ops:
            for a in problem.working_set(v):
                seg_tensors[a] = None
        for a in self.init:
            seg_tensors[a] = None
        self.r: dict[int, dict[int, cp_model.IntVar]] = {}
        self.ld: dict[int, dict[int, cp_model.IntVar]] = {}
        self.sp: dict[int, cp_model.IntVar] = {}
        self.addr: dict[int, dict[int, cp_model.IntVar]] = {}
        self.single: dict[int, tuple[int, cp_model.IntVar]] = {}  # a -> (local op, addr var)
        self.r0: dict[int, cp_model.IntVar] = {}
        intervals: list[list[tuple[cp_model.IntervalVar, int, object]]] = [[] for _ in range(n)]
        cost_terms: list = []
        constant = 0
        self.compulsory_here = 0
        for a in seg_tensors:
            t_info = problem.tensors[a]
            prod = local.get(t_info.producer, -1)
            cons = [local[c] for c in t_info.consumers if c in local]
            init_res = a in self.init
            out = a in self.live_out
            if t_info.external and a in first_use_here and not init_res:
                self.compulsory_here += nbytes[a]
                constant -= nbytes[a]
            if not init_res and not out and ((prod >= 0 and not cons) or (prod < 0 and len(cons) == 1)):
                i = prod if prod >= 0 else cons[0]
                av = m.new_int_var(0, cap - size[a], f"a{a}") if addresses else None
                self.single[a] = (i, av)
                for t, var in x[i].items():
                    iv = m.new_optional_fixed_size_interval_var(av, size[a], var, f"i{a}_{t}") if addresses else None
                    intervals[t].append((iv, size[a], var))
                if prod < 0:
                    constant += nbytes[a]
                continue
            # window of possible residency
            if prod >= 0:
                w0 = lo[prod]
            elif init_res:
                w0 = 0
            else:
                w0 = min(lo[c] for c in cons)
            if out:
                w1 = n - 1
            elif cons:
                w1 = max(hi[c] for c in cons)
            else:
                w1 = hi[prod] if prod >= 0 else 0
            if w1 < w0:
                w1 = w0
            r = {t: m.new_bool_var(f"r{a}_{t}") for t in range(w0, w1 + 1)}
            self.r[a] = r
            adr = {t: m.new_int_var(0, cap - size[a], f"ad{a}_{t}") for t in r} if addresses else {}
            self.addr[a] = adr
            users = [prod] + cons if prod >= 0 else cons
            for i in users:
                for t, var in x[i].items():
                    m.add_implication(var, r[t])
            if prod >= 0:
                for t in r:
                    m.add(r[t] <= sum(prefix(prod, t)))
            if not out:
                for t in r:
                    m.add(r[t] <= sum(v for c in cons for v in suffix(c, t)) + (
                        sum(suffix(prod, t)) if (prod >= 0 and not cons) else 0))

            def use_at(t: int, cons=cons) -> list:
                return [x[c][t] for c in cons if t in x[c]]

            def create_at(t: int, prod=prod) -> list:
                return [x[prod][t]] if prod >= 0 and t in x[prod] else []

            if init_res:
                if relaxed:
                    prev0 = m.new_bool_var(f"r0_{a}")
                    self.r0[a] = prev0
                else:
                    prev0 = 1
            else:
                prev0 = 0
            needs_spill = not t_info.stored and (a not in self.offchip) and not (relaxed and prod < 0)
            ld: dict[int, cp_model.IntVar] = {}
            for t in r:
                prev = r[t - 1] if t - 1 in r else prev0
                uses = use_at(t)
                cre = create_at(t)
                if uses:
                    lv = m.new_bool_var(f"ld{a}_{t}")
                    ld[t] = lv
                    m.add(lv <= sum(uses))
                    m.add_implication(lv, r[t])
                    m.add(lv >= r[t] - prev - sum(cre))
                else:
                    m.add(r[t] <= prev + sum(cre))
                if t - 1 in r:  # evict only right after a step that used or created the tensor
                    m.add(r[t - 1] - r[t] <= sum(use_at(t - 1)) + sum(create_at(t - 1)))
                if not addresses:
                    intervals[t].append((None, size[a], r[t]))
                    continue
                # address continuity while resident and not reloaded
                if t - 1 in r:
                    enf = [r[t], r[t - 1]] + ([ld[t].Not()] if t in ld else [])
                    m.add(adr[t] == adr[t - 1]).only_enforce_if(enf)
                elif init_res and not relaxed:
                    enf = [r[t]] + ([ld[t].Not()] if t in ld else [])
                    m.add(adr[t] == self.init[a]).only_enforce_if(enf)
                m.add(adr[t] == 0).only_enforce_if(r[t].Not())
                iv = m.new_optional_fixed_size_interval_var(adr[t], size[a], r[t], f"i{a}_{t}")
                intervals[t].append((iv, size[a], r[t]))
            self.ld[a] = ld
            for lv in ld.values():
                cost_terms.append((lv, nbytes[a]))
            if needs_spill:
                s = m.new_bool_var(f"sp{a}")
                self.sp[a] = s
                for lv in ld.values():
                    m.add_implication(lv, s)
                if out:
                    m.add(s >= 1 - r[n - 1])
                cost_terms.append((s, nbytes[a]))
            if out and not relaxed:
                # leaving the segment off-chip costs one reload later
                constant += nbytes[a]
                cost_terms.append((r[n - 1], -nbytes[a]))
        self.intervals = intervals
        for t in range(n):
            ivs = [iv for iv, _, _ in intervals[t] if iv is not None]
            if len(ivs) > 1:
                m.add_no_overlap(ivs)
            m.add(sum(sz * pres for _, sz, pres in intervals[t]) <= cap)
        self.constant = constant
        self.cost_terms = cost_terms
        self.cost_expr = sum(c * v for v, c in cost_terms) + constant
        m.minimize(self.cost_expr)
        self.peak = None

    # -- secondary objective --------------------------------------------------------------------
    def minimize_peak(self, max_cost: int) -> cp_model.IntVar:
        """Switch to minimising the address high-water mark with traffic at most ``max_cost``."""
        m = self.m
        cap = self.p.capacity_units
        peak = m.new_int_var(0, cap, "peak")
        for t in range(self.n):
            for iv, sz, pres in self.intervals[t]:
                m.add(peak >= iv.start_expr() + sz).only_enforce_if(pres)
            m.add(sum(sz * pres for _, sz, pres in self.intervals[t]) <= peak)
        m.add(self.cost_expr <= max_cost)
        m.minimize(peak)
        self.peak = peak
        return peak

    # -- hints and solutions --------------------------------------------------------------------
    def hint_from_steps(self, sp_: StepPlacement) -> dict:
        """Variable values of a step placement (from a heuristic plan) for ``CpModel.add_hint``."""
        h: dict = {}
        pos = {v: t for t, v in enumerate(sp_.order)}
        for i, v in enumerate(self.ops):
            for t, var in self.x[i].items():
                h[var] = int(pos[v] == t)
        for a, r in self.r.items():
            for t, var in r.items():
                h[var] = int(a in sp_.placement[t])
                if self.addresses:
                    h[self.addr[a][t]] = sp_.placement[t].get(a, 0)
            for t, var in self.ld[a].items():
                h[var] = int(a in sp_.loaded[t])
        for a, s in self.sp.items():
            spilled = any(a in sp_.loaded[t] for t in range(self.n))
            if a in self.live_out and a not in sp_.placement[self.n - 1]:
                spilled = True
            h[s] = int(spilled)
        for a, (i, av) in self.single.items():
            if av is not None:
                h[av] = sp_.placement[pos[self.ops[i]]].get(a, 0)
        if self.peak is not None:
            h[self.peak] = max((ad + self.p.size_units[a] for pl in sp_.placement for a, ad in pl.items()), default=0)
        return h

    def cost_of(self, sp_: StepPlacement) -> int:
        """The objective (bytes) of a step placement, computed from its variable values."""
        h = self.hint_from_steps(sp_)
        return self.constant + sum(c * h[v] for v, c in self.cost_terms)

    def extract(self, solver: cp_model.CpSolver) -> StepPlacement:
        order = [0] * self.n
        for i, v in enumerate(self.ops):
            for t, var in self.x[i].items():
                if solver.boolean_value(var):
                    order[t] = v
        placement: list[dict[int, int]] = [{} for _ in range(self.n)]
        loaded: list[set[int]] = [set() for _ in range(self.n)]
        for a, r in self.r.items():
            for t, var in r.items():
                if solver.boolean_value(var):
                    placement[t][a] = int(solver.value(self.addr[a][t])) if self.addresses else 0
            for t, var in self.ld[a].items():
                if solver.boolean_value(var):
                    loaded[t].add(a)
        pos = {v: t for t, v in enumerate(order)}
        for a, (i, av) in self.single.items():
            t = pos[self.ops[i]]
            placement[t][a] = int(solver.value(av)) if av is not None else 0
            if self.p.tensors[a].producer < 0:
                loaded[t].add(a)
        return StepPlacement(order, placement, loaded)


def steps_of_plan(problem: MemProblem, plan: Plan, start: int, stop: int) -> StepPlacement:
    """Steps ``start..stop-1`` of ``plan`` as a :class:`StepPlacement` (local steps from 0)."""
    u = problem.unit_bytes
    n = stop - start
    placement: list[dict[int, int]] = [{} for _ in range(n)]
    loaded: list[set[int]] = [set() for _ in range(n)]
    for r in plan.residencies:
        s0, s1 = max(r.start_step, start), min(r.end_step, stop - 1)
        if s0 > s1:
            continue
        for s in range(s0, s1 + 1):
            placement[s - start][r.tensor] = r.addr_bytes // u
        t = problem.tensors[r.tensor]
        created = t.producer >= 0 and plan.order.index(t.producer) == r.start_step
        if r.start_step >= start and not created:
            loaded[r.start_step - start].add(r.tensor)
    return StepPlacement(list(plan.order[start:stop]), placement, loaded)
