"""Operator orders: the memory a schedule needs, and the order of least peak memory.

The peak of an order counts, at each step, the allocation of every tensor that is live: created
(or, for graph inputs and weights, first used) at or before the step and read at or after it.
That is the scratchpad a schedule needs when nothing is ever evicted and nothing fragments.

:func:`min_peak_order` minimises it over all topological orders (COSMA's ``M_P``, §III-E1; the
same problem Serenity solves). It is a dynamic program over downsets (the set of ops already run
determines what is live, so the best peak to reach a downset is all that matters): exact when
every level of the DP keeps all its states, a beam search (best states by peak so far, then live
bytes) otherwise; ``exact`` says which.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from archsim.mapping.problem import MemProblem

#: states kept over the whole DP before it becomes a beam search
DEFAULT_STATE_BUDGET = 400_000


def order_peak_bytes(problem: MemProblem, order: Sequence[int]) -> int:
    """Peak live allocation (bytes) of ``order`` with no eviction."""
    n = len(order)
    step_of = {v: s for s, v in enumerate(order)}
    delta = [0] * (n + 1)
    for a, t in enumerate(problem.tensors):
        steps = [step_of[c] for c in t.consumers]
        if t.producer >= 0:
            steps.append(step_of[t.producer])
        if not steps:
            continue
        delta[min(steps)] += problem.alloc_bytes[a]
        delta[max(steps) + 1] -= problem.alloc_bytes[a]
    peak = cur = 0
    for s in range(n):
        cur += delta[s]
        peak = max(peak, cur)
    return peak


def ancestor_masks(problem: MemProblem) -> list[int]:
    """Bitmask of every op's ancestors (ops are numbered in a topological order)."""
    anc = [0] * problem.n_ops
    for v in range(problem.n_ops):
        m = 0
        for p in problem.preds[v]:
            m |= anc[p] | (1 << p)
        anc[v] = m
    return anc


def descendant_masks(problem: MemProblem) -> list[int]:
    desc = [0] * problem.n_ops
    for v in range(problem.n_ops - 1, -1, -1):
        m = 0
        for s in problem.succs[v]:
            m |= desc[s] | (1 << s)
        desc[v] = m
    return desc


@dataclass(frozen=True)
class MinPeakOrder:
    order: tuple[int, ...]
    peak_bytes: int
    exact: bool
    states: int


def min_peak_order(problem: MemProblem, *, state_budget: int = DEFAULT_STATE_BUDGET) -> MinPeakOrder:
    """The topological order of least peak live memory (see module docstring)."""
    n = problem.n_ops
    if n == 0:
        return MinPeakOrder((), 0, True, 0)
    size = problem.alloc_bytes
    tensors = problem.tensors
    cons_mask = []
    for t in tensors:
        m = 0
        for c in t.consumers:
            m |= 1 << c
        cons_mask.append(m)
    pred_mask = [sum(1 << p for p in problem.preds[v]) for v in range(n)]
    ins = [problem.op_inputs[v] for v in range(n)]
    outs = [problem.op_outputs[v] for v in range(n)]
    beam = max(16, state_budget // n)

    # level: mask -> (peak, live, ready_mask); parents per level: mask -> (parent_mask, op)
    level: dict[int, tuple[int, int, int]] = {}
    ready0 = sum(1 << v for v in range(n) if pred_mask[v] == 0)
    level[0] = (0, 0, ready0)
    parents: list[dict[int, tuple[int, int]]] = []
    exact = True
    states = 1
    for _ in range(n):
        nxt: dict[int, tuple[int, int, int]] = {}
        par: dict[int, tuple[int, int]] = {}
        for mask, (peak, live, ready) in level.items():
            r = ready
            while r:
                low = r & -r
                v = low.bit_length() - 1
                r ^= low
                done = mask | low
                step = live
                after = live
                for a in ins[v]:
                    t = tensors[a]
                    if t.producer < 0 and not (cons_mask[a] & mask):  # external, first use: load it
                        step += size[a]
                        if cons_mask[a] & ~done:
                            after += size[a]
                    elif not (cons_mask[a] & ~done):  # last use: freed after this step
                        after -= size[a]
                for a in outs[v]:
                    step += size[a]
                    if cons_mask[a]:
                        after += size[a]
                p2 = max(peak, step)
                old = nxt.get(done)
                if old is None or (p2, after) < (old[0], old[1]):
                    nr = (ready & ~low)
                    for s in problem.succs[v]:
                        if pred_mask[s] & ~done == 0:
                            nr |= 1 << s
                    nxt[done] = (p2, after, nr)
                    par[done] = (mask, v)
        if len(nxt) > beam:
            exact = False
            keep = sorted(nxt.items(), key=lambda kv: (kv[1][0], kv[1][1], kv[0]))[:beam]
            nxt = dict(keep)
            par = {m: par[m] for m in nxt}
        states += len(nxt)
        parents.append(par)
        level = nxt
    (full, (peak, _, _)), = level.items()
    order = []
    m = full
    for par in reversed(parents):
        pm, v = par[m]
        order.append(v)
        m = pm
    order.reverse()
    return MinPeakOrder(tuple(order), peak, exact, states)
