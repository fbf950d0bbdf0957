"""Span recorder shared by the storage models, and the latency breakdown of a decode step.

Every model writes the same spans at the analytic and the event level (start, end in ns, unit,
op, kind, bytes, MACs, utilization); :func:`to_event_table` turns them into the run's
:class:`~archsim.engine.EventTable` (1 cycle = 1 ns).

Breakdown categories (per-token latency, ns): ``kv_access`` (reading the KV cache: flash reads
in the drives, the array's occupancy; SSD/host reads and their transfer into the GPU for FlexGen), ``attention_compute``
(attention work not hidden under KV access), ``kv_write`` (time the step waits for KV pages to be
written), ``transfers`` (PCIe transfers of q/k/v and attention outputs), ``gpu`` (the
non-attention layers, embedding and head). InstInfer: measured along the critical path of the step without micro-batch overlap; with
overlap (event level, ``micro_batches > 1``) the time hidden is taken from ``gpu`` first, then
``transfers``, ``kv_write`` and ``attention_compute`` (never from ``kv_access``). FlexGen: per
step, the KV load first, then what the stores add beyond it, then the GPU's exposed remainder.
Either way the categories sum to the step time.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from archsim.engine import EventTable

CATEGORIES = ("kv_access", "attention_compute", "kv_write", "transfers", "gpu")
#: order in which overlap hides work
HIDE_ORDER = ("gpu", "transfers", "kv_write", "attention_compute")


@dataclass
class Spans:
    """Span rows; with ``enabled=False`` nothing is kept (sweeps that need only the totals)."""

    rows: list[tuple] = field(default_factory=list)
    enabled: bool = True

    def add(self, start: int, end: int, unit: str, op: str, kind: str, *, nbytes: int = 0, macs: int = 0,
            util: float = 0.0, pj: float = 0.0) -> None:
        """Record a span (dropped when empty); ``pj`` is its energy (kept for the per-op rows,
        not written to the event table)."""
        if self.enabled and (end > start or (end == start and pj)):
            self.rows.append((int(start), int(end), unit, op, kind, int(nbytes), int(macs), float(min(1.0, util)),
                              float(pj)))


def to_event_table(spans: Spans, clock_hz: int, meta: dict) -> EventTable:
    t = EventTable(clock_hz=clock_hz, meta=meta)
    if spans.rows:
        rows = sorted(spans.rows, key=lambda r: (r[0], r[2], r[1], r[3]))
        cols = list(zip(*rows))[:8]
        t.extend(start_cycle=np.asarray(cols[0], np.int64), end_cycle=np.asarray(cols[1], np.int64), unit=cols[2],
                 op=cols[3], kind=cols[4], bytes=np.asarray(cols[5], np.int64), macs=np.asarray(cols[6], np.int64),
                 util=np.asarray(cols[7], np.float64))
    return t


@dataclass
class Breakdown:
    ns: dict[str, int] = field(default_factory=lambda: dict.fromkeys(CATEGORIES, 0))

    def add(self, category: str, ns: int) -> None:
        self.ns[category] += int(ns)

    @property
    def total(self) -> int:
        return sum(self.ns.values())

    def hide(self, hidden_ns: int) -> Breakdown:
        """A copy with ``hidden_ns`` removed in :data:`HIDE_ORDER` (overlap credit); a negative
        amount (the overlapped run took longer) is added to ``transfers`` as queueing."""
        out = Breakdown(dict(self.ns))
        if hidden_ns < 0:
            out.ns["transfers"] -= hidden_ns
            return out
        left = hidden_ns
        for cat in HIDE_ORDER:
            take = min(left, out.ns[cat])
            out.ns[cat] -= take
            left -= take
        return out

    def shares(self) -> dict[str, float]:
        t = self.total
        return {k: (v / t if t else 0.0) for k, v in self.ns.items()}
