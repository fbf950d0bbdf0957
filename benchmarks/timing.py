"""Wall-clock helper shared by the benchmark scripts (imported as ``timing``: each script runs
with ``benchmarks/`` on ``sys.path``)."""

from __future__ import annotations

import time


def best_of(fn, repeat: int):
    """``(least wall seconds over repeat calls, the last call's result)``."""
    best, out = float("inf"), None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out
