"""Event level: the PE array, its DMA engine and the vector unit as SimPy processes.

The same double-buffered protocol as :func:`archsim.hw.bitserial.physical.timing`, executed:
array and DMA meet at the end of every tile step and every DRAM transfer goes through a shared
:class:`~archsim.engine.Link`. With nothing else on the link the result equals the closed form
exactly; other traffic on the link shows up as stall.
"""

from __future__ import annotations

from archsim.engine import Component, Link, Simulation
from archsim.hw.bitserial.physical import Schedule
from archsim.hw.bitserial.spec import BitSerialSpec
from archsim.hw.link import link_bandwidth


class PEArray(Component):
    """The PE array: executes output tiles one after another."""

    component_class = "pe"

    def __init__(self, sim: Simulation, spec: BitSerialSpec, pes: int):
        super().__init__(sim, "pe_array", "core")
        self.pes = pes
        self.busy_cycles = 0
        self.current = ""

    def tile(self, op: str, cycles: int, macs: int, macs_per_cycle: float):
        """One output tile; ``macs_per_cycle`` is the array's peak for the operand format
        (``pes * dot_product_size / terms``)."""
        start = self.now_cycles
        self.current = op
        yield self.cycles(cycles)
        self.busy_cycles += cycles
        util = min(1.0, macs / (max(cycles, 1) * macs_per_cycle))
        self.record(start, start + cycles, op, "compute", macs=macs, util=util)
        self.current = ""

    def line_trace(self) -> str:
        return f"{self.name}: {self.current or 'idle'} busy={self.busy_cycles}"


class VectorUnit(Component):
    component_class = "vector"

    def __init__(self, sim: Simulation, lanes: int):
        super().__init__(sim, "vector", "core")
        self.lanes = lanes

    def run(self, op: str, cycles: int, ops: int):
        start = self.now_cycles
        yield self.cycles(cycles)
        if cycles:
            self.record(start, start + cycles, op, "compute", util=ops / (cycles * self.lanes))


class BitSerialMachine:
    """PE array + DMA engine + vector unit + DRAM link in one :class:`Simulation`."""

    def __init__(self, spec: BitSerialSpec, pes: int, *, record_events: bool = True):
        self.spec = spec
        self.sim = Simulation({"core": spec.clock_hz}, record_events=record_events)
        self.array = PEArray(self.sim, spec, pes)
        self.vector = VectorUnit(self.sim, max(1, spec.vector_lanes))
        self.dram = Link(self.sim, "dram", "core", link_bandwidth(spec), spec.dram_latency_cycles)

    @property
    def now(self) -> int:
        return self.array.now_cycles

    def _dma_step(self, op: str, write: int, load: int):
        if write:
            yield from self.dram.transfer(write, op, "dram_write", posted=True)
        if load:
            yield from self.dram.transfer(load, op, "dram_read")

    def run_gemm(self, op: str, sched: Schedule):
        """SimPy process body: the tile steps of one op."""
        env = self.sim.env
        load, write = sched.load_bytes.tolist(), sched.write_bytes.tolist()
        serial = sched.serial_load_bytes.tolist()
        compute, macs = sched.compute_cycles.tolist(), sched.macs.tolist()
        n = len(compute)
        peak = self.array.pes * self.spec.dot_product_size / sched.timing.terms
        yield from self._dma_step(op, 0, load[0])
        for s in range(n):
            arr = env.process(self.array.tile(op, compute[s], macs[s], peak))
            dma = env.process(self._dma_step(op, write[s - 1] if s else 0, load[s + 1] if s + 1 < n else 0))
            yield arr & dma
            if s + 1 < n and serial[s + 1]:
                yield from self.dram.transfer(serial[s + 1], op, "dram_read")
        yield from self._dma_step(op, write[-1], 0)

    def run_vector(self, op: str, compute_cycles: int, ops: int, read_bytes: int, write_bytes: int):
        env = self.sim.env
        comp = env.process(self.vector.run(op, compute_cycles, ops))
        mem = env.process(self._dma_step(op, write_bytes, read_bytes))
        yield comp & mem
