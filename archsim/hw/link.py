"""The DRAM link of an accelerator with a DMA engine and a vector unit (systolic and bit-serial
models): transfer times over a bandwidth/latency link and the non-GEMM (vector) op roofline.

A spec is anything with ``dram_bytes_per_cycle`` (bytes per core cycle), ``dram_latency_cycles``
(core cycles from a read's issue to its first byte) and ``vector_lanes`` (ops per cycle).
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Protocol

import numpy as np

from archsim.engine import EventTable


class LinkSpec(Protocol):
    dram_bytes_per_cycle: float
    dram_latency_cycles: int
    vector_lanes: int
    clock_hz: int


def link_bandwidth(spec: LinkSpec) -> Fraction:
    """Bytes per cycle as an exact fraction (so transfer times are exact integers)."""
    return Fraction(spec.dram_bytes_per_cycle).limit_denominator(1 << 20)


def read_cycles(nbytes, bw: Fraction, latency: int) -> np.ndarray:
    """DMA read time per transfer: ``latency + ceil(bytes / bw)``, 0 when nothing moves."""
    nb = np.asarray(nbytes, np.int64)
    occ = -((-nb * bw.denominator) // bw.numerator)
    return np.where(nb > 0, occ + latency, 0)


def write_cycles(nbytes, bw: Fraction) -> np.ndarray:
    """DMA write (posted) time per transfer: ``ceil(bytes / bw)``."""
    return -((-np.asarray(nbytes, np.int64) * bw.denominator) // bw.numerator)


def vector_cycles(vector_ops: int, read_bytes: int, write_bytes: int, spec: LinkSpec) -> tuple[int, int]:
    """A non-GEMM op on the vector unit: ``(cycles, compute_cycles)``. Its operands stream over
    the DRAM link while it computes, so it takes the larger of ``ceil(ops / lanes)`` and
    ``write(write_bytes) + load(read_bytes)`` (a roofline)."""
    comp = math.ceil(vector_ops / spec.vector_lanes)
    bw = link_bandwidth(spec)
    mem = int(write_cycles([write_bytes], bw)[0]) + int(read_cycles([read_bytes], bw, spec.dram_latency_cycles)[0])
    return max(comp, mem), comp


def vector_events(name: str, comp: int, ops: int, read_bytes: int, write_bytes: int, spec: LinkSpec) -> EventTable:
    """The analytic level's events of one vector op (as the event level records them): compute on
    ``vector`` from 0, the write-back and then the operand read on ``dram``."""
    events = EventTable(spec.clock_hz)
    bw = link_bandwidth(spec)
    occ_w = int(write_cycles([write_bytes], bw)[0])
    occ_r = int(read_cycles([read_bytes], bw, 0)[0])
    if comp:
        events.append(0, comp, "vector", name, "compute", util=ops / (comp * spec.vector_lanes))
    if write_bytes:
        events.append(0, occ_w, "dram", name, "dram_write", bytes=write_bytes, util=write_bytes / (occ_w * float(bw)))
    if read_bytes:
        events.append(occ_w, occ_w + occ_r, "dram", name, "dram_read", bytes=read_bytes,
                      util=read_bytes / (occ_r * float(bw)))
    return events
