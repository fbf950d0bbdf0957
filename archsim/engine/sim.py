"""The simulation kernel: SimPy with integer-tick clock domains.

Every clock domain has an integer frequency in Hz. The kernel's tick is ``1 / lcm(all
frequencies)`` seconds, so one cycle of every domain is a whole number of ticks and no time is
ever rounded. Events are recorded in cycles of the *reference* domain (the first one given unless
named), which is what timelines and reports show.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import simpy

from archsim.engine.actions import ActionCounts
from archsim.engine.events import EventTable
from archsim.errors import InputError


@dataclass(frozen=True)
class ClockDomain:
    """A clock: ``freq_hz`` (integer Hz) and its period in kernel ticks."""

    name: str
    freq_hz: int
    period_ticks: int

    @property
    def period_ns(self) -> float:
        return 1e9 / self.freq_hz


class Simulation:
    """Owns the SimPy environment, the clock domains, the event table and the action counts.

    ``clocks`` maps a domain name to its frequency in Hz (integers, e.g. ``{"core": 940_000_000}``).
    """

    def __init__(self, clocks: Mapping[str, int], *, reference: str | None = None, record_events: bool = True):
        if not clocks:
            raise InputError(None, "clocks", "at least one clock domain")
        freqs = {}
        for name, f in clocks.items():
            if int(f) != f or f <= 0:
                raise InputError(None, f"clocks.{name}", "a positive integer frequency in Hz", f)
            freqs[name] = int(f)
        self.base_hz = math.lcm(*freqs.values())
        self.domains = {n: ClockDomain(n, f, self.base_hz // f) for n, f in freqs.items()}
        self.reference = self.domains[reference or next(iter(freqs))]
        self.env = simpy.Environment()
        self.record_events = record_events
        self.events = EventTable(clock_hz=self.reference.freq_hz)
        self.actions = ActionCounts()

    def clock(self, name: str) -> ClockDomain:
        try:
            return self.domains[name]
        except KeyError:
            raise InputError(None, "clock", f"one of {sorted(self.domains)}", name) from None

    @property
    def now_ticks(self) -> int:
        return int(self.env.now)

    def ticks_to_ref_cycles(self, ticks: int) -> int:
        return ticks // self.reference.period_ticks

    @property
    def now_ns(self) -> float:
        return self.env.now * 1e9 / self.base_hz

    def process(self, gen):
        return self.env.process(gen)

    def run(self, until=None) -> None:
        self.env.run(until=until)
