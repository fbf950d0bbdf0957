"""A DRAM inside a SimPy simulation: submit reads and writes of N bytes, wait for completion.

    sim = Simulation({"core": 1_000_000_000, "dram": hbm2.clock_hz})
    dram = DramPort(sim, "dram", "hbm2", channels=8)
    def dma(env):
        yield dram.read(0x1000, 4096, op="conv1")     # returns when the last burst's data is back
        yield dram.write(0x8000, 2048, op="conv1")    # returns when the last burst has issued
    sim.process(dma(sim.env)); sim.run()
    run = dram.finish()                                # DramRun: commands, row hits, cycles
    dram.actions()                                     # ActionCounts priced by energy.energy_table

A transfer of ``nbytes`` at ``addr`` becomes the ``request_bytes`` requests covering
``[addr, addr + nbytes)`` (64 B by default), handed to the controllers in order by the same front
end as trace replay (at most ``accepts_per_cycle`` per memory cycle, waiting while the queues are
full), each split into native bursts. A transfer submitted during memory cycle ``c`` (SimPy time in
``((c-1) * tCK, c * tCK]``) arrives at cycle ``c`` (at cycle ``c + 1`` if submitted at exactly
``c * tCK`` after the controllers already ran cycle ``c``). The controllers run in the DRAM's own clock
domain and wake only when a command can issue (no per-cycle events): one SimPy process sleeps until
the next decision cycle of :class:`~archsim.hw.dram.controller.DramSystem`, or until a new transfer
arrives.
"""

from __future__ import annotations

import numpy as np
import simpy

from archsim.engine.actions import ActionCounts
from archsim.engine.component import Component
from archsim.engine.sim import Simulation
from archsim.errors import InputError
from archsim.hw.dram.config import ControllerConfig
from archsim.hw.dram.controller import INF, DramSystem
from archsim.hw.dram.energy import dram_actions
from archsim.hw.dram.mapping import resolve_mapping
from archsim.hw.dram.results import DramRun
from archsim.hw.dram.standard import DramStandard, load_standard


class _Transfer:
    __slots__ = ("event", "left", "done", "start", "nbytes", "op", "kind")

    def __init__(self, event, left, start, nbytes, op, kind):
        self.event, self.left, self.start, self.nbytes, self.op, self.kind = event, left, start, nbytes, op, kind
        self.done = -1


class DramPort(Component):
    """The DRAM model as a SimPy component (see the module docstring). ``clock`` names the
    simulation's clock domain for the DRAM; it must run at the standard's ``clock_hz``."""

    component_class = "dram"

    def __init__(self, sim: Simulation, name: str, standard: str | DramStandard, *, channels: int = 1,
                 mapping: str | None = None, config: ControllerConfig | None = None, clock: str = "dram"):
        super().__init__(sim, name, clock)
        self.standard = standard if isinstance(standard, DramStandard) else load_standard(standard)
        if self.clock.freq_hz != self.standard.clock_hz:
            raise InputError(None, f"clocks.{clock}", f"{self.standard.clock_hz} Hz for {self.standard.name}",
                             self.clock.freq_hz)
        self.config = config or ControllerConfig()
        m = resolve_mapping(mapping, self.standard, channels, self.config.request_bytes)
        self.system = DramSystem(self.standard, m, channels, self.config)
        self._period = self.clock.period_ticks
        self._owner: dict[int, _Transfer] = {}
        self._kick = sim.env.event()
        self._run: DramRun | None = None
        self.bytes_read = 0
        self.bytes_written = 0
        sim.process(self._engine())

    # -- transfers --------------------------------------------------------------------------------
    def _cycle_now(self) -> int:
        return -(-int(self.sim.env.now) // self._period)

    def submit(self, addr: int, nbytes: int, write: bool = False, *, op: str = "", kind: str | None = None
               ) -> simpy.Event:
        """Start a transfer; the returned event fires when it is complete (a read: its last data has
        returned; a write: its last burst has issued)."""
        env = self.sim.env
        ev = env.event()
        if nbytes <= 0:
            ev.succeed()
            return ev
        if addr < 0:
            raise InputError(None, "addr", "a non-negative address", addr)
        rb = self.config.request_bytes
        first, last = addr - addr % rb, (addr + nbytes - 1) - (addr + nbytes - 1) % rb
        addrs = np.arange(first, last + 1, rb, dtype=np.int64)
        c = max(self._cycle_now(), self.system.now)
        self.system.advance(c)
        ids = self.system.add(addrs, write, c)
        tr = _Transfer(ev, len(ids), c, nbytes, op, kind or ("dram_write" if write else "dram_read"))
        for r in ids:
            self._owner[r] = tr
        if write:
            self.bytes_written += nbytes
        else:
            self.bytes_read += nbytes
        if not self._kick.triggered:
            self._kick.succeed()
        return ev

    def read(self, addr: int, nbytes: int, *, op: str = "") -> simpy.Event:
        return self.submit(addr, nbytes, False, op=op)

    def write(self, addr: int, nbytes: int, *, op: str = "") -> simpy.Event:
        return self.submit(addr, nbytes, True, op=op)

    def access(self, addr: int, nbytes: int, write: bool = False, *, op: str = ""):
        """SimPy process body: a transfer, returning when it completes."""
        yield self.submit(addr, nbytes, write, op=op)

    # -- the controller process -----------------------------------------------------------------------
    def _engine(self):
        env = self.sim.env
        sysm = self.system
        p = self._period
        while True:
            t = sysm.next_event()
            if t >= INF or sysm.idle():
                # nothing outstanding: sleep until the next transfer (refreshes due meanwhile are
                # caught up by the advance() in submit(), so idle time costs no events)
                self._kick = env.event()
                yield self._kick
                continue
            wait = t * p - int(env.now)
            if wait > 0:
                if self._kick.triggered:
                    self._kick = env.event()
                yield env.any_of([env.timeout(wait), self._kick])
                continue  # plan again: a new transfer may have moved the next decision
            sysm.advance(int(env.now) // p + 1)  # every cycle whose time has come, none beyond
            self._complete()

    def _complete(self) -> None:
        sysm = self.system
        for r in sysm.completed:
            tr = self._owner.pop(r)
            tr.left -= 1
            tr.done = max(tr.done, sysm.done[r])
            if tr.left == 0:
                self.sim.process(self._finish_transfer(tr))
        sysm.completed.clear()

    def _finish_transfer(self, tr: _Transfer):
        env = self.sim.env
        wait = tr.done * self._period - int(env.now)
        if wait > 0:
            yield env.timeout(wait)
        self.record(tr.start, max(tr.done, tr.start + 1), tr.op, tr.kind, bytes=tr.nbytes)
        tr.event.succeed()

    # -- results -----------------------------------------------------------------------------------------
    def finish(self) -> DramRun:
        """Run the DRAM to completion of every submitted transfer (call after ``sim.run()``) and
        return the run's figures over ``[0, end)``."""
        if self._run is None:
            sysm = self.system
            end = max(sysm.end_cycle(), self._cycle_now())
            sysm.advance(end)
            self._run = sysm.result(end)
        return self._run

    def actions(self, prefix: str = "") -> ActionCounts:
        """DRAM commands, bursts and standby cycles as action counts (class ``dram_<standard>``)."""
        return dram_actions(self.standard, self.finish(), prefix)

    def line_trace(self) -> str:
        s = self.system
        return f"{self.name}: {len(self._owner)} requests in flight, next decision at cycle {s.next_event()}"
