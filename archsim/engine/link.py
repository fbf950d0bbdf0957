"""Bandwidth/latency links: a pipe that serialises transfers at ``bytes_per_cycle`` and adds a
fixed ``latency_cycles`` (SST's "the link carries the latency")."""

from __future__ import annotations

import math
from fractions import Fraction

import simpy

from archsim.engine.component import Component
from archsim.engine.sim import Simulation
from archsim.errors import InputError


def transfer_cycles(nbytes: int, bytes_per_cycle: Fraction | float | int) -> int:
    """Cycles a link of ``bytes_per_cycle`` is occupied by ``nbytes`` (whole cycles, rounded up)."""
    if nbytes <= 0:
        return 0
    return math.ceil(Fraction(nbytes) / Fraction(bytes_per_cycle))


class Link(Component):
    """A FIFO-arbitrated link. ``transfer`` occupies it for ``ceil(bytes / bytes_per_cycle)``
    cycles; the data arrives ``latency_cycles`` later (transfers pipeline behind each other)."""

    component_class = "link"

    def __init__(self, sim: Simulation, name: str, clock: str, bytes_per_cycle: float | Fraction, latency_cycles: int = 0):
        super().__init__(sim, name, clock)
        bpc = Fraction(bytes_per_cycle).limit_denominator(1 << 20)
        if bpc <= 0:
            raise InputError(None, f"{name}.bytes_per_cycle", "a positive bandwidth", bytes_per_cycle)
        if latency_cycles < 0:
            raise InputError(None, f"{name}.latency_cycles", "a non-negative latency", latency_cycles)
        self.bytes_per_cycle = bpc
        self.latency_cycles = int(latency_cycles)
        self._port = simpy.Resource(sim.env, capacity=1)
        self.busy_cycles = 0
        self.bytes_moved = 0

    def transfer(self, nbytes: int, op: str = "", kind: str = "transfer", *, posted: bool = False):
        """SimPy process body: move ``nbytes``; returns when the data has arrived, or, for a
        ``posted`` transfer (a write nobody waits on), as soon as its last byte has left."""
        if nbytes <= 0:
            return
        with self._port.request() as req:
            yield req
            start = self.now_cycles
            occ = transfer_cycles(nbytes, self.bytes_per_cycle)
            yield self.cycles(occ)
            self.busy_cycles += occ
            self.bytes_moved += nbytes
            self.count(f"{kind}_bytes", nbytes)
            self.record(start, start + occ, op, kind, bytes=nbytes, util=float(Fraction(nbytes) / (occ * self.bytes_per_cycle)))
        if self.latency_cycles and not posted:
            yield self.cycles(self.latency_cycles)

    def line_trace(self) -> str:
        return f"{self.name}: {'busy' if self._port.count else 'idle'} moved={self.bytes_moved}B"
