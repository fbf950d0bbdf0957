"""Requests -> native bursts, decoded once with numpy.

A request of ``request_bytes`` (64 B cache lines in both trace formats) at address ``a`` covers the
aligned block ``[a - a % request_bytes, + request_bytes)``; it becomes
``max(request_bytes // burst_bytes, 1)`` bursts (two 32 B bursts on HBM2/HBM3/GDDR6/LPDDR5, one on
DDR4/DDR5), each decoded to channel, rank, bank group, bank, row and column by the address mapping.
A read request completes when its last burst's data has returned, a write when its last burst has
issued.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from archsim.errors import InputError
from archsim.hw.dram.mapping import AddressMapping
from archsim.hw.dram.standard import DramStandard
from archsim.hw.dram.trace import Trace


@dataclass
class Bursts:
    """Per-request and per-burst columns as Python lists (the controllers index them in their hot
    loops; lists are faster than numpy scalars there). Burst ``j`` of request ``i`` is
    ``first[i] + j``."""

    n_requests: int
    arrival: list[int]
    is_write: list[bool]
    first: list[int]
    count: list[int]
    # per burst
    req: list[int]
    channel: list[int]
    bank: list[int]       # flat bank index within the channel
    rank: list[int]
    bankgroup: list[int]
    bank_in_group: list[int]
    row: list[int]
    column: list[int]
    addr: list[int]       # burst-aligned byte address (write forwarding / coalescing key)
    write: list[bool]
    request_bytes: int
    burst_bytes: int

    @classmethod
    def empty(cls, request_bytes: int, burst_bytes: int) -> Bursts:
        return cls(0, *([] for _ in COLUMNS), request_bytes=request_bytes, burst_bytes=burst_bytes)


#: the per-request and per-burst columns of :class:`Bursts`
COLUMNS = ("arrival", "is_write", "first", "count", "req", "channel", "bank", "rank", "bankgroup", "bank_in_group",
           "row", "column", "addr", "write")


def expand_arrays(trace: Trace, s: DramStandard, mapping: AddressMapping, channels: int, request_bytes: int = 64, *,
                  req_base: int = 0, burst_base: int = 0) -> tuple[int, dict[str, np.ndarray]]:
    """:func:`expand` as numpy columns: ``(requests, {column: array})``."""
    if request_bytes < 1 or request_bytes & (request_bytes - 1):
        raise InputError("--request-bytes", None, "a power of two", request_bytes)
    per = max(request_bytes // s.burst_bytes, 1)
    n = len(trace)
    base = trace.addr - trace.addr % request_bytes
    offs = np.arange(per, dtype=np.int64) * s.burst_bytes
    baddr = (base[:, None] + offs[None, :]).reshape(-1)
    d = mapping.decode(baddr, s, channels)
    return n, {
        "arrival": trace.arrival_cycle, "is_write": trace.is_write,
        "first": np.arange(n, dtype=np.int64) * per + burst_base, "count": np.full(n, per, dtype=np.int64),
        "req": np.repeat(np.arange(req_base, req_base + n, dtype=np.int64), per), "channel": d["channel"],
        "bank": d["flat_bank"], "rank": d["rank"], "bankgroup": d["bankgroup"], "bank_in_group": d["bank"],
        "row": d["row"], "column": d["column"], "addr": baddr, "write": np.repeat(trace.is_write, per)}


def expand(trace: Trace, s: DramStandard, mapping: AddressMapping, channels: int, request_bytes: int = 64, *,
           req_base: int = 0, burst_base: int = 0) -> Bursts:
    """Split ``trace``'s requests into bursts of ``s`` and decode them with ``mapping``; request and
    burst ids start at ``req_base`` / ``burst_base`` (to append to an earlier expansion)."""
    n, cols = expand_arrays(trace, s, mapping, channels, request_bytes, req_base=req_base, burst_base=burst_base)
    return Bursts(n, **{c: cols[c].tolist() for c in COLUMNS}, request_bytes=request_bytes, burst_bytes=s.burst_bytes)
