"""Cycle-level references (the oracles of the storage model's fidelity ladder; small inputs only).

* :func:`flash_batch_reference`: every page of a striped batch, every die and every channel bus
  stepped through explicitly (per multi-plane operation), with the semantics stated in
  :mod:`archsim.hw.storage.flash`. It never uses the closed form.
* :func:`engine_reference`: every task of an attention layer run through the kernels and the
  FIFO flash server one phase at a time, without the period detection of
  :func:`archsim.hw.storage.engine.run_tasks`.

Both are plain Python loops over pages/phases; use them on batches of up to a few thousand
pages.
"""

from __future__ import annotations

import heapq
from collections.abc import Sequence
from numbers import Rational


def _layout(n_pages: int, channels: int, dies: int, planes: int) -> list[list[list[int]]]:
    """``ops[channel][die]`` = page counts of the die's successive multi-plane operations."""
    ops: list[list[dict[int, int]]] = [[{} for _ in range(dies)] for _ in range(channels)]
    for i in range(n_pages):
        c, j = i % channels, i // channels
        d, rnd = j % dies, j // (dies * planes)
        ops[c][d][rnd] = ops[c][d].get(rnd, 0) + 1
    return [[[n for _, n in sorted(per_die.items())] for per_die in ch] for ch in ops]


def flash_batch_reference(n_pages: int, channels: int, dies: int, planes: int, *, t_read: Rational,
                          transfer: Rational, program: bool = False) -> Rational:
    """Makespan of a striped batch of page reads (or programs with ``program=True``, ``t_read``
    then being tPROG), simulated operation by operation."""
    end = 0
    for per_channel in _layout(n_pages, channels, dies, planes):
        queue = {d: list(rounds) for d, rounds in enumerate(per_channel) if rounds}
        # time at which each die's next operation can use the bus
        ready = {d: (0 if program else t_read) for d in queue}
        bus_free = 0
        last = 0
        while queue:
            d = min(queue, key=lambda k: (ready[k], k))
            start = max(ready[d], bus_free)
            bus_free = start + queue[d].pop(0) * transfer
            done = bus_free + (t_read if program else 0)
            last = max(last, done)
            ready[d] = bus_free + t_read
            if not queue[d]:
                del queue[d]
        end = max(end, last)
    return end


def engine_reference(n_tasks: int, kernels: int, phases: Sequence[tuple[str, int]]) -> int:
    """Makespan of ``n_tasks`` identical tasks on ``kernels`` kernels sharing one FIFO flash
    server; a task's ``phases`` (``("flash" | "compute", ns)``) run in order."""
    heap: list[tuple[int, int, int]] = []  # (time, kernel, phase index)
    started = 0
    for k in range(min(kernels, n_tasks)):
        heapq.heappush(heap, (0, k, 0))
        started += 1
    flash_free = 0
    end = 0
    while heap:
        t, k, p = heapq.heappop(heap)
        if p == len(phases):
            end = max(end, t)
            if started < n_tasks:
                started += 1
                heapq.heappush(heap, (t, k, 0))
            continue
        kind, dur = phases[p]
        if kind == "flash":
            start = max(t, flash_free)
            flash_free = start + dur
            heapq.heappush(heap, (flash_free, k, p + 1))
        else:
            heapq.heappush(heap, (t + dur, k, p + 1))
    return end
