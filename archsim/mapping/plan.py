"""A memory plan (schedule + residency + addresses) and the checker that prices it.

A :class:`Plan` is the operator order and, for every tensor, the step ranges during which it is
resident and at which scratchpad address. Everything else follows from that and is derived by
:func:`evaluate`, which checks the plan and lists its DRAM transfers:

* a residency that does not start at the tensor's creation step starts with a **load** before
  the op of that step runs: the first load of a graph input or weight is compulsory, any other
  load (a re-fetch, or the reload of a spilled tensor) is not;
* a graph output is **stored** once after the step that creates it (compulsory);
* an intermediate tensor that leaves the scratchpad and is loaded again later is **spilled**
  once, after the last step of its first residency (non-compulsory; later evictions only drop
  it, the DRAM copy is still valid).

Checks: the order is a topological order of all ops; every tensor is resident at every step
that reads or writes it, never before it is created, within ``[0, scratchpad)`` at an aligned
address, and no two tensors resident at the same step overlap.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from archsim.mapping.problem import MemProblem


class PlanError(ValueError):
    """A plan that breaks a rule of the problem (the message names the tensor/op and step)."""


@dataclass(frozen=True, order=True)
class Residency:
    """Tensor ``tensor`` is resident at steps ``start_step..end_step`` (inclusive) at ``addr_bytes``."""

    tensor: int
    start_step: int
    end_step: int
    addr_bytes: int


@dataclass(frozen=True)
class Plan:
    """``order[s]`` is the op run at step ``s``; ``residencies`` sorted by tensor then start."""

    order: tuple[int, ...]
    residencies: tuple[Residency, ...]

    @classmethod
    def of(cls, order: Sequence[int], residencies: Sequence[Residency]) -> Plan:
        return cls(tuple(int(v) for v in order), tuple(sorted(residencies)))


@dataclass(frozen=True)
class Transfer:
    """One DRAM transfer: ``kind`` is ``load``, ``reload``, ``spill`` or ``store``; ``when`` is
    ``before`` (loads, before the op of ``step`` runs) or ``after`` (writes, after it ran)."""

    step: int
    when: str
    kind: str
    tensor: int
    bytes: int
    compulsory: bool


@dataclass(frozen=True)
class PlanCost:
    """The traffic of a checked plan (bytes) and its scratchpad use."""

    compulsory_load_bytes: int
    compulsory_store_bytes: int
    spill_bytes: int
    reload_bytes: int
    peak_bytes: int  # highest address in use + 1 (the scratchpad a plan needs)
    peak_live_bytes: int  # most allocated bytes at one step
    transfers: tuple[Transfer, ...] = field(repr=False)

    @property
    def compulsory_bytes(self) -> int:
        return self.compulsory_load_bytes + self.compulsory_store_bytes

    @property
    def non_compulsory_bytes(self) -> int:
        return self.spill_bytes + self.reload_bytes

    @property
    def total_bytes(self) -> int:
        return self.compulsory_bytes + self.non_compulsory_bytes


def evaluate(problem: MemProblem, plan: Plan) -> PlanCost:
    """Check ``plan`` against ``problem`` and price it; raises :class:`PlanError` when invalid."""
    n = problem.n_ops
    order = plan.order
    if sorted(order) != list(range(n)):
        raise PlanError(f"the schedule must list each of the {n} ops once")
    step_of = [0] * n
    for s, v in enumerate(order):
        step_of[v] = s
    for v in range(n):
        for p in problem.preds[v]:
            if step_of[p] >= step_of[v]:
                raise PlanError(f"op {problem.op_names[v]} is scheduled before its input's producer "
                                f"{problem.op_names[p]}")
    by_tensor: dict[int, list[Residency]] = {}
    for r in plan.residencies:
        if not 0 <= r.tensor < problem.n_tensors:
            raise PlanError(f"residency of unknown tensor {r.tensor}")
        by_tensor.setdefault(r.tensor, []).append(r)

    align, cap = problem.align_bytes, problem.scratchpad_bytes
    transfers: list[Transfer] = []
    loads_c = stores_c = spills = reloads = 0
    occupancy: list[list[tuple[int, int, int]]] = [[] for _ in range(n)]  # per step (addr, end, tensor)
    live = [0] * (n + 1)
    for a, t in enumerate(problem.tensors):
        rs = sorted(by_tensor.get(a, []), key=lambda r: r.start_step)
        name = t.name
        size = problem.alloc_bytes[a]
        need = sorted({step_of[c] for c in t.consumers} | ({step_of[t.producer]} if t.producer >= 0 else set()))
        if not need:
            if rs:
                raise PlanError(f"tensor {name} is never used but has a residency")
            continue
        if not rs:
            raise PlanError(f"tensor {name} is never resident (used at step {need[0]})")
        prev_end = -1
        for r in rs:
            if r.start_step > r.end_step or r.start_step < 0 or r.end_step >= n:
                raise PlanError(f"tensor {name}: residency steps {r.start_step}..{r.end_step} out of range")
            if r.start_step <= prev_end:
                raise PlanError(f"tensor {name}: overlapping residencies at step {r.start_step}")
            if r.addr_bytes < 0 or r.addr_bytes + size > cap or r.addr_bytes % align:
                raise PlanError(f"tensor {name}: address {r.addr_bytes} + {size} bytes is not an aligned range "
                                f"inside the {cap}-byte scratchpad")
            prev_end = r.end_step
        for r in rs:
            span = (r.addr_bytes, r.addr_bytes + size, a)
            for s in range(r.start_step, r.end_step + 1):
                occupancy[s].append(span)
            live[r.start_step] += size
            live[r.end_step + 1] -= size
        i = 0
        for s in need:  # both sorted: walk the residencies once
            while i < len(rs) and rs[i].end_step < s:
                i += 1
            if i == len(rs) or rs[i].start_step > s:
                raise PlanError(f"tensor {name} is not resident at step {s} (op {problem.op_names[order[s]]})")
        created = step_of[t.producer] if t.producer >= 0 else None
        if created is not None:
            if rs[0].start_step != created:
                raise PlanError(f"tensor {name} is resident at step {rs[0].start_step}, before or after its "
                                f"creation at step {created}")
            if t.stored:
                transfers.append(Transfer(created, "after", "store", a, t.size_bytes, True))
                stores_c += t.size_bytes
        first_load_done = False
        for i, r in enumerate(rs):
            if created is not None and i == 0:
                continue
            compulsory = t.external and not first_load_done
            first_load_done = True
            transfers.append(Transfer(r.start_step, "before", "load" if compulsory else "reload", a, t.size_bytes,
                                      compulsory))
            if compulsory:
                loads_c += t.size_bytes
            else:
                reloads += t.size_bytes
        if created is not None and not t.stored and len(rs) > 1:
            transfers.append(Transfer(rs[0].end_step, "after", "spill", a, t.size_bytes, False))
            spills += t.size_bytes

    peak = 0
    for s in range(n):
        occ = sorted(occupancy[s])
        for (a0, e0, t0), (a1, _e1, t1) in zip(occ, occ[1:]):
            if a1 < e0:
                raise PlanError(f"tensors {problem.tensors[t0].name} and {problem.tensors[t1].name} overlap at "
                                f"step {s} (addresses {a0}..{e0 - 1} and {a1}..)")
        if occ:
            peak = max(peak, max(e for _, e, _ in occ))
    peak_live = 0
    acc = 0
    for s in range(n):
        acc += live[s]
        peak_live = max(peak_live, acc)
    order_key = {"before": 0, "after": 1}
    kind_key = {"load": 0, "reload": 0, "store": 1, "spill": 1}
    transfers.sort(key=lambda x: (x.step, order_key[x.when], kind_key[x.kind], x.tensor))
    return PlanCost(loads_c, stores_c, spills, reloads, peak, peak_live, tuple(transfers))
