"""Hardware components: a name, a clock domain, action counts and a one-line trace."""

from __future__ import annotations

from archsim.engine.sim import Simulation


class Component:
    """Base class of every simulated unit.

    Subclasses run SimPy processes that ``yield self.cycles(n)``, count actions with
    :meth:`count` and record tile/command-level spans with :meth:`record` (times in the
    component's own cycles; the event table stores reference-clock cycles).
    """

    component_class = "component"

    def __init__(self, sim: Simulation, name: str, clock: str):
        self.sim = sim
        self.name = name
        self.clock = sim.clock(clock)

    # -- time ---------------------------------------------------------------------------------
    def cycles(self, n: int):
        """A SimPy timeout of ``n`` cycles of this component's clock."""
        return self.sim.env.timeout(int(n) * self.clock.period_ticks)

    @property
    def now_cycles(self) -> int:
        return int(self.sim.env.now) // self.clock.period_ticks

    def _ref(self, own_cycles: int) -> int:
        return own_cycles * self.clock.period_ticks // self.sim.reference.period_ticks

    # -- bookkeeping --------------------------------------------------------------------------
    def count(self, action: str, n: int = 1) -> None:
        self.sim.actions.add(self.name, self.component_class, action, n)

    def record(self, start_cycle: int, end_cycle: int, op: str, kind: str, *, bytes: int = 0, macs: int = 0,
               util: float = 0.0) -> None:  # noqa: A002
        if self.sim.record_events:
            self.sim.events.append(self._ref(start_cycle), self._ref(end_cycle), self.name, op, kind, bytes, macs, util)

    def line_trace(self) -> str:
        """One human-readable line describing the component's state now."""
        return f"{self.name}@{self.now_cycles}"
