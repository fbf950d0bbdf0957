"""The baselines COSMA is measured against (COSMA §V-A; TFLite, Lee and Pisarchyk 2020).

* :func:`greedy_by_size`: TFLite's offline arena planner ("greedy by size") over a fixed order.
  Every tensor lives from its first use (or creation) to its last use; tensors are placed largest
  first, each in the smallest gap between already-placed tensors with overlapping lifetimes that
  fits, else above them. No eviction: if the arena is larger than the scratchpad the plan does
  not fit.
* :func:`belady`: an online best-fit allocator with Belady replacement over a fixed order. A
  tensor that is needed and not resident is placed in the smallest free gap that fits; when none
  fits, the resident tensor whose next use is furthest away (not needed by the current op) is
  evicted (spilled first if it is an intermediate with no DRAM copy), until one does. If the op's
  own resident operands fragment the space, they are moved (evicted and reloaded).

Both work in solver units (:attr:`MemProblem.unit_bytes`) and return a :class:`Plan`; the
online one can start from a mid-run :class:`RunState` and stop early (used to hint segments).
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass, field

from archsim.mapping.plan import Plan, Residency
from archsim.mapping.problem import MemProblem


def use_steps(problem: MemProblem, order: Sequence[int]) -> list[list[int]]:
    """Per tensor, the sorted steps of ``order`` at which it is created or read."""
    step_of = {v: s for s, v in enumerate(order)}
    out: list[list[int]] = []
    for t in problem.tensors:
        steps = {step_of[c] for c in t.consumers}
        if t.producer >= 0:
            steps.add(step_of[t.producer])
        out.append(sorted(steps))
    return out


@dataclass(frozen=True)
class GreedyBySize:
    """TFLite greedy-by-size over ``order``: the arena it needs and, if it fits, its plan."""

    order: tuple[int, ...]
    arena_bytes: int
    fits: bool
    plan: Plan | None


def greedy_by_size(problem: MemProblem, order: Sequence[int]) -> GreedyBySize:
    """TFLite's greedy-by-size offsets (``greedy_memory_planner.cc``: largest first, best gap)."""
    uses = use_steps(problem, order)
    size = problem.size_units
    items = [(a, u[0], u[-1]) for a, u in enumerate(uses) if u]
    items.sort(key=lambda it: (-size[it[0]], it[1], it[0]))
    placed: list[tuple[int, int, int, int]] = []  # (offset, end, first, last)
    offsets: dict[int, int] = {}
    arena = 0
    for a, first, last in items:
        s = size[a]
        conflicts = sorted((o, e) for o, e, f0, f1 in placed if f0 <= last and first <= f1)
        best, best_gap, cur = None, None, 0
        for o, e in conflicts:
            gap = o - cur
            if gap >= s and (best_gap is None or gap < best_gap):
                best, best_gap = cur, gap
            cur = max(cur, e)
        if best is None:
            best = cur
        offsets[a] = best
        placed.append((best, best + s, first, last))
        arena = max(arena, best + s)
    u = problem.unit_bytes
    fits = arena <= problem.capacity_units
    plan = None
    if fits:
        plan = Plan.of(order, [Residency(a, first, last, offsets[a] * u) for a, first, last in items])
    return GreedyBySize(tuple(order), arena * u, fits, plan)


@dataclass
class RunState:
    """The scratchpad between two steps: resident tensors (address in units, start step of the
    current residency, last step it was used), tensors with a valid DRAM copy, and the closed
    residencies so far (bytes addresses)."""

    resident: dict[int, tuple[int, int, int]] = field(default_factory=dict)  # a -> (addr_u, start, last_use)
    offchip: set[int] = field(default_factory=set)
    closed: list[Residency] = field(default_factory=list)

    def copy(self) -> RunState:
        return RunState(dict(self.resident), set(self.offchip), list(self.closed))


def initial_state(problem: MemProblem) -> RunState:
    return RunState(offchip={a for a, t in enumerate(problem.tensors) if t.external})


class _Gaps:
    """Free-space search over the resident ranges (best fit: smallest gap, then lowest address)."""

    @staticmethod
    def best_fit(ranges: list[tuple[int, int]], size: int, cap: int) -> int | None:
        best, best_gap, cur = None, None, 0
        for o, e in sorted(ranges):
            gap = o - cur
            if gap >= size and (best_gap is None or gap < best_gap):
                best, best_gap = cur, gap
            cur = max(cur, e)
        gap = cap - cur
        if gap >= size and (best_gap is None or gap < best_gap):
            best = cur
        return best


def belady(problem: MemProblem, order: Sequence[int], *, state: RunState | None = None, start: int = 0,
           stop: int | None = None, uses: list[list[int]] | None = None) -> tuple[Plan | None, RunState]:
    """Best-fit placement with Belady (furthest next use) eviction over steps ``start..stop-1`` of
    ``order``, from ``state`` (default: empty scratchpad). Returns the plan (when run to the end)
    and the state after the last step. Raises ValueError if an op's working set cannot fit."""
    n = len(order)
    stop = n if stop is None else stop
    uses = uses if uses is not None else use_steps(problem, order)
    st = (state or initial_state(problem)).copy()
    size = problem.size_units
    cap = problem.capacity_units
    u = problem.unit_bytes
    tensors = problem.tensors

    def next_use(a: int, s: int) -> int | None:
        us = uses[a]
        i = bisect.bisect_right(us, s)
        return us[i] if i < len(us) else None

    def evict(a: int, s: int) -> None:
        addr, begin, last = st.resident.pop(a)
        st.closed.append(Residency(a, begin, last, addr * u))
        if next_use(a, s - 1) is not None and a not in st.offchip:
            st.offchip.add(a)  # spilled: an intermediate with a later use and no DRAM copy

    for s in range(start, stop):
        v = order[s]
        need = problem.working_set(v)
        need_set = set(need)
        todo = [a for a in need if a not in st.resident]
        todo.sort(key=lambda a: (-size[a], a))
        placed_now: set[int] = set()
        moved = False
        i = 0
        while i < len(todo):
            a = todo[i]
            ranges = [(ad, ad + size[b]) for b, (ad, _, _) in st.resident.items()]
            addr = _Gaps.best_fit(ranges, size[a], cap)
            if addr is None:
                victims = [b for b in st.resident if b not in need_set]
                if victims:
                    far = max(victims, key=lambda b: (_far_key(next_use(b, s)), size[b], -b))
                    evict(far, s)
                    continue
                if moved:
                    raise ValueError(f"op {problem.op_names[v]}'s working set does not fit the scratchpad")
                # only this op's operands are left and they fragment the space: move them all
                # (evict and reload the resident ones, place everything again from address 0)
                for b in list(st.resident):
                    if b in placed_now:
                        del st.resident[b]
                    else:
                        evict(b, s)
                todo = sorted(need, key=lambda b: (-size[b], b))
                placed_now.clear()
                moved = True
                i = 0
                continue
            st.resident[a] = (addr, s, s)
            placed_now.add(a)
            i += 1
        for a in need:
            addr, begin, _ = st.resident[a]
            st.resident[a] = (addr, begin, s)
            if tensors[a].stored:
                st.offchip.add(a)
        for a in need:
            if next_use(a, s) is None:
                addr, begin, last = st.resident.pop(a)
                st.closed.append(Residency(a, begin, last, addr * u))
    plan = None
    if stop == n:
        rest = [Residency(a, begin, last, addr * u) for a, (addr, begin, last) in st.resident.items()]
        plan = Plan.of(order, st.closed + rest)
    return plan, st


def _far_key(nu: int | None) -> float:
    return float("inf") if nu is None else float(nu)
