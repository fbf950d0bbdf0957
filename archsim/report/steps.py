"""Step functions over spans ``[start_cycle, end_cycle)``: the data behind counters and plots.

A step function is a list of change points ``[(cycle, value), ...]`` sorted by cycle: the value
holds from that cycle until the next point. The last point is always back to 0 (after the last
span ends). Zero-length spans are active nowhere and are ignored.
"""

from __future__ import annotations

import heapq
from collections.abc import Sequence
from fractions import Fraction

import numpy as np

Steps = list[tuple[int, float]]


def max_steps(start: Sequence[int], end: Sequence[int], value: Sequence[float]) -> Steps:
    """``v(t)`` = the largest ``value`` among spans active at cycle ``t``, 0 when none is.

    Used for utilization: overlapping spans of one unit do not add up past the unit's peak.
    """
    spans = sorted((int(s), int(e), float(v)) for s, e, v in zip(start, end, value) if e > s)
    times = sorted({t for s, e, _ in spans for t in (s, e)})
    active: list[tuple[float, int]] = []  # (-value, end); expired entries dropped lazily
    out: Steps = []
    i = 0
    for t in times:
        while i < len(spans) and spans[i][0] == t:
            heapq.heappush(active, (-spans[i][2], spans[i][1]))
            i += 1
        while active and active[0][1] <= t:
            heapq.heappop(active)
        v = -active[0][0] if active else 0.0
        if not out or out[-1][1] != v:
            out.append((t, v))
    return out


def rate_steps(start: Sequence[int], end: Sequence[int], amount: Sequence[int]) -> Steps:
    """``v(t)`` = sum over spans active at ``t`` of ``amount / (end - start)``.

    Used for bandwidth (bytes per cycle): each span's bytes are spread evenly over its cycles and
    overlapping spans add. The running sum is exact (rational), so it returns to exactly 0.
    """
    delta: dict[int, Fraction] = {}
    for s, e, a in zip(start, end, amount):
        s, e = int(s), int(e)
        if e <= s:
            continue
        rate = Fraction(int(a), e - s)
        delta[s] = delta.get(s, Fraction(0)) + rate
        delta[e] = delta.get(e, Fraction(0)) - rate
    out: Steps = []
    level = Fraction(0)
    for t in sorted(delta):
        level += delta[t]
        v = float(level)
        if not out or out[-1][1] != v:
            out.append((t, v))
    return out


def bin_average(steps: Steps, edges: Sequence[float]) -> np.ndarray:
    """Time-weighted mean of the step function over each bin ``[edges[j], edges[j+1])``.

    ``edges`` are increasing cycle values; returns ``len(edges) - 1`` means (0 before the first
    change point).
    """
    edges = np.asarray(edges, dtype=np.float64)
    if len(edges) < 2:
        return np.zeros(0)
    if not steps:
        return np.zeros(len(edges) - 1)
    t = np.array([p[0] for p in steps], dtype=np.float64)
    v = np.array([p[1] for p in steps], dtype=np.float64)
    # integral from t[0] up to each change point, then up to each edge
    cum = np.concatenate(([0.0], np.cumsum(v[:-1] * np.diff(t))))
    k = np.searchsorted(t, edges, side="right") - 1
    before = k < 0
    k = np.clip(k, 0, None)
    integral = np.where(before, 0.0, cum[k] + v[k] * (edges - t[k]))
    width = np.diff(edges)
    return np.divide(np.diff(integral), width, out=np.zeros(len(width)), where=width > 0)
