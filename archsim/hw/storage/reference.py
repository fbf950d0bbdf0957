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


def engine_reference(n_tasks: int, kernels: int, phases: Sequence[tuple], buffers: int = 1) -> int:
    """Makespan of ``n_tasks`` identical tasks on ``kernels`` kernels of ``buffers`` task buffers
    each, sharing one FIFO flash server; a task's ``phases`` (``("compute", ns)``, ``("flash",
    latency)`` or ``("flash", latency, occupancy)``) run in order. A flash batch starts when
    issued and the array has accepted the previous batch (``occupancy`` after that one started;
    default: its latency, i.e. the array drains between batches); a compute phase waits for its
    kernel. Tasks start on the slots in slot-major order; events in (time, task) order."""
    norm = []
    for ph in phases:
        occ = ph[2] if len(ph) > 2 else ph[1]
        norm.append((ph[0], ph[1], occ))
    heap: list[tuple[int, int, int, int, int]] = []  # (time, task, kernel, slot, phase index)
    started = 0
    for b in range(buffers):
        for k in range(kernels):
            if started < n_tasks:
                heapq.heappush(heap, (0, started, k, b, 0))
                started += 1
    flash_next = 0
    kernel_free = [0] * kernels
    end = 0
    while heap:
        t, i, k, b, p = heapq.heappop(heap)
        if p == len(norm):
            end = max(end, t)
            if started < n_tasks:
                heapq.heappush(heap, (t, started, k, b, 0))
                started += 1
            continue
        kind, dur, occ = norm[p]
        if kind == "flash":
            start = max(t, flash_next)
            flash_next = start + occ
        else:
            start = max(t, kernel_free[k])
            kernel_free[k] = start + dur
        heapq.heappush(heap, (start + dur, i, k, b, p + 1))
    return end
