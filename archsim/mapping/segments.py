"""Divide and conquer (COSMA §IV): cut a schedule into segments, solve them in turn, stitch.

A segment is a run of consecutive steps of a base order; its ops may be reordered among
themselves. Segments are solved one after another, each from the scratchpad state the previous
one left (resident tensors and their addresses, which tensors have a DRAM copy), and
:func:`advance` replays a solved segment onto that state.

Cuts prefer *articulation ops*: an op every other op depends on or is depended on by. Every
topological order runs the ops between two articulation ops as one contiguous block, so a bound
computed per such segment holds for every schedule of the graph; with other cuts it holds for the
schedules that keep the segments in sequence.
"""

from __future__ import annotations

from collections.abc import Sequence

from archsim.mapping.baselines import RunState
from archsim.mapping.model import StepPlacement
from archsim.mapping.order import ancestor_masks, descendant_masks
from archsim.mapping.plan import Residency
from archsim.mapping.problem import MemProblem


def articulation_ops(problem: MemProblem) -> set[int]:
    """Ops comparable with every other op (all others are ancestors or descendants)."""
    n = problem.n_ops
    anc, desc = ancestor_masks(problem), descendant_masks(problem)
    return {v for v in range(n) if (anc[v] | desc[v]).bit_count() == n - 1}


def crossing_bytes(problem: MemProblem, order: Sequence[int]) -> list[int]:
    """``out[i]``: bytes of tensors live across the boundary after step ``i`` (used at or before
    ``i`` and after it)."""
    n = len(order)
    step_of = {v: s for s, v in enumerate(order)}
    delta = [0] * (n + 1)
    for a, t in enumerate(problem.tensors):
        steps = [step_of[c] for c in t.consumers] + ([step_of[t.producer]] if t.producer >= 0 else [])
        if len(steps) < 2:
            continue
        lo, hi = min(steps), max(steps)
        if hi > lo:
            delta[lo] += problem.alloc_bytes[a]
            delta[hi] -= problem.alloc_bytes[a]
    out, cur = [], 0
    for i in range(n):
        cur += delta[i]
        out.append(cur)
    return out


def cut_segments(problem: MemProblem, order: Sequence[int], target_ops: int) -> tuple[list[tuple[int, int]], bool]:
    """Split ``order`` into ``(start, stop)`` step ranges of about ``target_ops`` ops (between
    half and all of it). A cut goes after the last articulation op in that range if there is one,
    else where the fewest bytes cross. Returns the ranges and whether every cut is at an
    articulation op."""
    n = len(order)
    art = articulation_ops(problem)
    cross = crossing_bytes(problem, order)
    target = max(2, target_ops)
    segs: list[tuple[int, int]] = []
    all_art = True
    s = 0
    while s < n:
        if n - s <= target:
            segs.append((s, n))
            break
        lo, hi = s + max(1, target // 2) - 1, min(n - 2, s + target - 1)
        cands = [i for i in range(lo, hi + 1) if order[i] in art]
        if cands:
            cut = cands[-1]
        else:
            all_art = False
            cut = min(range(lo, hi + 1), key=lambda i: (cross[i], -i))
        segs.append((s, cut + 1))
        s = cut + 1
    return segs, all_art


def pending_counts(problem: MemProblem) -> list[int]:
    """Per tensor, how many of its readers have not run yet (before any step)."""
    return [len(t.consumers) for t in problem.tensors]


def advance(problem: MemProblem, state: RunState, pending: list[int], sp: StepPlacement, start: int) -> None:
    """Replay ``sp`` (steps ``start..``) onto ``state`` and ``pending`` in place: tensors leaving
    the scratchpad (or moving) close their residency at their last use and, if still needed and
    without a DRAM copy, are marked spilled; tensors nobody reads any more are dropped."""
    u = problem.unit_bytes
    tensors = problem.tensors
    for t, v in enumerate(sp.order):
        s = start + t
        pl, ld = sp.placement[t], sp.loaded[t]
        for a in list(state.resident):
            addr, begin, last = state.resident[a]
            if a not in pl or a in ld or pl[a] != addr:
                del state.resident[a]
                state.closed.append(Residency(a, begin, last, addr * u))
                if pending[a] > 0 and a not in state.offchip:
                    state.offchip.add(a)
        for a, ad in pl.items():
            if a not in state.resident:
                state.resident[a] = (ad, s, s)
        ws = problem.working_set(v)
        for a in ws:
            ad, begin, _ = state.resident[a]
            state.resident[a] = (ad, begin, s)
        for a in problem.op_inputs[v]:
            pending[a] -= 1
        for a in problem.op_outputs[v]:
            if tensors[a].stored:
                state.offchip.add(a)
        for a in ws:
            if pending[a] == 0 and a in state.resident:
                ad, begin, last = state.resident.pop(a)
                state.closed.append(Residency(a, begin, last, ad * u))
