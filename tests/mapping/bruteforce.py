"""An exhaustive reference for the scratchpad problem, written from the problem statement only
(it shares no code with archsim.mapping).

State between steps: the ops already run, the tensors in the scratchpad with their addresses,
and the tensors that have a copy in DRAM. At each step any ready op may run; before it runs,
any resident tensor may be dropped (written to DRAM first if it is still needed and has no copy
there: a spill), and the op's missing inputs are loaded, its outputs created and, optionally,
other tensors that have a DRAM copy and are still needed are loaded too (a prefetch), each at
any free address. Graph inputs and weights start in DRAM; graph outputs are written to DRAM
after the step that creates them. The cost is every byte moved; subtracting the first load of
each graph input and weight (which any plan pays) leaves the non-compulsory bytes.

Two rules keep the search finite without losing an optimum: a tensor nobody will read again is
dropped (keeping it only takes space), and each tensor is written to DRAM at most once (a
second copy is identical). Sizes and addresses are in small integer units.
"""

from __future__ import annotations

import itertools
from functools import cache


def brute_force(inputs, outputs, size, external, stored, cap, *, prefetch=True):
    """Least non-compulsory traffic (in size units) over every schedule and every decision.

    ``inputs[v]``/``outputs[v]``: tensor ids of op ``v``; ``size[t]``; ``external``: ids that start
    in DRAM; ``stored``: ids written to DRAM after creation; ``cap``: scratchpad units.
    """
    n = len(inputs)
    consumers = {t: {v for v in range(n) if t in inputs[v]} for t in range(len(size))}
    producer = {t: v for v in range(n) for t in outputs[v]}
    inf = float("inf")

    def needed(t, done):
        return bool(consumers[t] - done)

    def placements(items, occupied):
        """Every way to give each tensor in ``items`` a free address range."""
        if not items:
            yield ()
            return
        t, rest = items[0], items[1:]
        for a in range(cap - size[t] + 1):
            if all(a + size[t] <= o or e <= a for o, e in occupied):
                for tail in placements(rest, occupied + [(a, a + size[t])]):
                    yield ((t, a),) + tail

    @cache
    def best(done, placed, dram):
        if len(done) == n:
            return 0
        result = inf
        ready = [v for v in range(n) if v not in done and all(producer.get(t, -1) in done or t not in producer
                                                              for t in inputs[v])]
        placed_l = sorted(placed)
        for v in ready:
            for r in range(len(placed_l) + 1):
                for keep in itertools.combinations(placed_l, r):
                    kept = {t for t, _ in keep}
                    cost = 0
                    dram2 = set(dram)
                    for t, _ in placed_l:
                        if t not in kept and needed(t, done) and t not in dram2:
                            cost += size[t]  # spill
                            dram2.add(t)
                    missing = [t for t in inputs[v] if t not in kept]
                    if any(t not in dram2 for t in missing):
                        continue  # the only copy was dropped
                    extra_pool = [t for t in dram2 if t not in kept and t not in missing and needed(t, done)
                                  and t not in inputs[v]] if prefetch else []
                    for m in range(len(extra_pool) + 1):
                        for extra in itertools.combinations(sorted(extra_pool), m):
                            loads = missing + list(extra)
                            items = loads + list(outputs[v])
                            occupied = [(a, a + size[t]) for t, a in keep]
                            for new in placements(items, occupied):
                                c = cost + sum(size[t] for t in loads)
                                done2 = done | {v}
                                dram3 = dram2 | {t for t in outputs[v] if t in stored}
                                nxt = frozenset((t, a) for t, a in keep + new if needed(t, done2))
                                result = min(result, c + best(done2, nxt, frozenset(dram3)))
        return result

    total = best(frozenset(), frozenset(), frozenset(external))
    if total == inf:
        return None
    return total - sum(size[t] for t in external if consumers[t])
