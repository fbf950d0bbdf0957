"""Event level: the systolic array, its DMA engine and the vector unit as SimPy processes.

The same double-buffered step protocol as :mod:`archsim.hw.systolic.physical`, but executed:
the array and the DMA engine are separate processes that meet at the end of every step, and
every DRAM transfer goes through a shared :class:`~archsim.engine.Link`. With nothing else on
the link the result equals the analytic recurrence exactly; anything else that uses the link
(another unit, a DRAM model with bank timing) shows up as extra stall.
"""

from __future__ import annotations

import numpy as np

from archsim.engine import Component, Link, Simulation
from archsim.hw.link import link_bandwidth
from archsim.hw.systolic.physical import FoldSchedule
from archsim.hw.systolic.spec import SystolicSpec


class SystolicUnit(Component):
    """The PE array: executes folds, one at a time."""

    component_class = "systolic"

    def __init__(self, sim: Simulation, name: str, spec: SystolicSpec):
        super().__init__(sim, name, "core")
        self.spec = spec
        self.busy_cycles = 0
        self.current = ""

    def fold(self, op: str, cycles: int, macs: int):
        start = self.now_cycles
        self.current = op
        yield self.cycles(cycles)
        self.busy_cycles += cycles
        self.record(start, start + cycles, op, "compute", macs=macs, util=macs / (cycles * self.spec.pes))
        self.current = ""

    def line_trace(self) -> str:
        return f"{self.name}: {self.current or 'idle'} busy={self.busy_cycles}"


class VectorUnit(Component):
    """Element-wise / reduction unit for non-GEMM ops (``vector_lanes`` ops per cycle)."""

    component_class = "vector"

    def __init__(self, sim: Simulation, name: str, lanes: int):
        super().__init__(sim, name, "core")
        self.lanes = lanes

    def run(self, op: str, compute_cycles: int, ops: int):
        start = self.now_cycles
        yield self.cycles(compute_cycles)
        if compute_cycles:
            self.record(start, start + compute_cycles, op, "compute", util=ops / (compute_cycles * self.lanes))


class SystolicMachine:
    """Array + DMA engine + vector unit + DRAM link, in one :class:`Simulation`."""

    def __init__(self, spec: SystolicSpec, *, record_events: bool = True):
        self.spec = spec
        self.dram_model = None  # with spec.dram: the DRAM timing model (archsim.hw.dram) instead of the link
        if spec.dram:
            from archsim.hw.dram.dma import OperandDma, dram_clock_hz

            self.sim = Simulation({"core": spec.clock_hz, "dram": dram_clock_hz(spec.dram)}, record_events=record_events)
            self.dram_model = OperandDma(self.sim, spec.dram, spec.dram_channels)
        else:
            self.sim = Simulation({"core": spec.clock_hz}, record_events=record_events)
        self.array = SystolicUnit(self.sim, "systolic", spec)
        self.vector = VectorUnit(self.sim, "vector", spec.vector_lanes)
        if self.dram_model is None:
            self.dram = Link(self.sim, "dram", "core", link_bandwidth(spec), spec.dram_latency_cycles)

    @property
    def now(self) -> int:
        return self.array.now_cycles

    def _dma_step(self, op: str, write: int, load: int, parts: dict | None = None):
        if self.dram_model is not None:  # each operand from its own address range, as bursts
            yield from self.dram_model.step(op, write, parts if parts is not None else {"ifmap": load})
            return
        if write:
            yield from self.dram.transfer(write, op, "dram_write", posted=True)
        if load:
            yield from self.dram.transfer(load, op, "dram_read")

    def run_job(self, op: str, sched: FoldSchedule, count: int):
        """SimPy process body: ``count`` back-to-back repetitions of ``sched``."""
        env = self.sim.env
        load = np.tile(sched.load_bytes, count).tolist()
        write = np.tile(sched.write_bytes, count).tolist()
        compute = np.tile(sched.compute_cycles, count).tolist()
        macs = np.tile(sched.macs, count).tolist()
        n = len(compute)
        parts = [None] * (n + 1)
        if self.dram_model is not None:
            ops = zip(*(np.tile(x, count).tolist() for x in
                        (sched.load_ifmap_bytes, sched.load_filter_bytes, sched.load_psum_bytes)))
            parts = [{"ifmap": i, "filter": w, "psum": p} for i, w, p in ops] + [{}]
        yield from self._dma_step(op, 0, load[0], parts[0])
        for f in range(n):
            arr = env.process(self.array.fold(op, compute[f], macs[f]))
            dma = env.process(self._dma_step(op, write[f - 1] if f else 0, load[f + 1] if f + 1 < n else 0,
                                             parts[f + 1] if f + 1 < n else {}))
            yield arr & dma
        yield from self._dma_step(op, write[-1], 0, {})

    def run_vector(self, op: str, compute_cycles: int, ops: int, read_bytes: int, write_bytes: int):
        """SimPy process body: a non-GEMM op; its operands stream over the link while it computes."""
        env = self.sim.env
        comp = env.process(self.vector.run(op, compute_cycles, ops))
        mem = env.process(self._dma_step(op, write_bytes, read_bytes))
        yield comp & mem
