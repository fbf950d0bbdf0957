"""A DMA engine's view of the DRAM model: one address region per operand, transfers as bursts.

Accelerator models that used a fixed-bandwidth :class:`~archsim.engine.Link` can put a
:class:`OperandDma` there instead (the systolic array's ``--dram <standard>``). The DRAM's capacity
is split into four equal regions, ``ifmap``, ``filter``, ``psum`` and ``ofmap``; each operand
streams through its region from the bottom (wrapping at its end), so consecutive transfers of an
operand are consecutive addresses, as a tiled accelerator lays out its tensors. A DMA step issues
its write-back and its loads together and ends when the loads' data has returned and the writes
have issued.
"""

from __future__ import annotations

from functools import lru_cache

from archsim.energy.table import EnergyTable
from archsim.engine.actions import ActionCounts
from archsim.engine.sim import Simulation
from archsim.hw.dram.energy import energy_table
from archsim.hw.dram.port import DramPort
from archsim.hw.dram.standard import DramStandard, load_standard

OPERANDS = ("ifmap", "filter", "psum", "ofmap")


@lru_cache(maxsize=32)
def cached_standard(name: str) -> DramStandard:
    return load_standard(name)


def dram_clock_hz(name: str) -> int:
    return cached_standard(name).clock_hz


class OperandDma:
    """DRAM access for a DMA engine in simulation ``sim`` (which needs a ``dram`` clock domain at
    the standard's frequency)."""

    def __init__(self, sim: Simulation, standard: str, channels: int = 1, name: str = "dram"):
        self.standard = cached_standard(standard)
        self.port = DramPort(sim, name, self.standard, channels=channels)
        s = self.standard
        self.region_bytes = channels * s.banks * s.rows * s.row_bytes // len(OPERANDS)
        self.cursor = dict.fromkeys(OPERANDS, 0)
        self.sim = sim

    def transfer(self, operand: str, nbytes: int, write: bool, op: str = "") -> list:
        """Events of one operand transfer (split where it wraps around its region)."""
        if nbytes <= 0:
            return []
        base = OPERANDS.index(operand) * self.region_bytes
        evs = []
        while nbytes > 0:
            start = self.cursor[operand] % self.region_bytes
            n = min(nbytes, self.region_bytes - start)
            evs.append(self.port.submit(base + start, n, write, op=op))
            self.cursor[operand] += n
            nbytes -= n
        return evs

    def step(self, op: str, write_bytes: int, loads: dict[str, int], write_operand: str = "ofmap"):
        """SimPy process body: a DMA step's write-back and loads, issued together; returns when the
        loads are back and the writes have issued."""
        evs = self.transfer(write_operand, write_bytes, True, op)
        for operand, n in loads.items():
            evs += self.transfer(operand, n, False, op)
        if evs:
            yield self.sim.env.all_of(evs)

    def actions(self) -> ActionCounts:
        return self.port.actions()


def with_dram_actions(actions: ActionCounts, dram: ActionCounts) -> ActionCounts:
    """``actions`` with the fixed link's per-byte DRAM actions (component ``dram``, class ``dram``)
    replaced by the DRAM model's commands, bursts and standby cycles."""
    out = ActionCounts({k: v for k, v in actions.counts.items() if not (k[0] == "dram" and k[1] == "dram")})
    out.merge(dram)
    return out


def with_dram_energy(table: EnergyTable, standard: str) -> EnergyTable:
    """``table`` plus the DRAM standard's energy entries (unchanged if the standard has none)."""
    extra = energy_table(cached_standard(standard))
    if extra is None:
        return table
    return EnergyTable(f"{table.name}+{extra.name}", table.version, {**table.entries, **extra.entries}, table.path)
