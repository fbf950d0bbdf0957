"""The systolic-array accelerator spec (frozen, validated, units in names)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from archsim.specs import at_least, check_spec, choice

DATAFLOWS = ("os", "ws", "is")
CONVENTIONS = ("physical", "scalesim")


@dataclass(frozen=True)
class SystolicSpec:
    """A ``rows x cols`` systolic array with one double-buffered SRAM per operand, a DRAM link
    and a vector unit for non-GEMM ops.

    * ``dataflow``: ``os`` (output stationary), ``ws`` (weight stationary), ``is`` (input stationary)
    * ``convention``: ``physical`` (true cycle counts, OS output drain, DRAM stalls; the default)
      or ``scalesim`` (reproduces SCALE-Sim v2's reported numbers, quirks included)
    * ``acc_bytes``: bytes per partial sum (accumulator width) when partial sums are kept in the
      ofmap SRAM or spilled; operand and output sizes come from the workload's tensor dtypes
      (SCALE-Sim's 1-byte word in the ``scalesim`` convention)
    * ``*_sram_bytes``: capacity of each operand scratchpad (each split in two halves for
      double buffering)
    * ``dram_bytes_per_cycle`` / ``dram_latency_cycles``: the off-chip link in core cycles
    * ``vector_lanes``: element operations per cycle of the vector unit (non-GEMM ops)
    * ``*_offset``: SCALE-Sim's operand base addresses (used by the ``scalesim`` convention)
    * ``dram``: a DRAM standard preset (``archsim dram standards``) with ``dram_channels``
      channels behind the DMA engine at the event level (bank timing, FR-FCFS; see docs/dram.md);
      empty: the fixed-bandwidth link
    """

    name: str = "systolic"
    rows: int = at_least(32, 1)
    cols: int = at_least(32, 1)
    dataflow: str = choice("os", DATAFLOWS)
    convention: str = choice("physical", CONVENTIONS)
    clock_hz: int = at_least(1_000_000_000, 1)
    acc_bytes: int = at_least(4, 1)
    ifmap_sram_bytes: int = at_least(64 * 1024, 1)
    filter_sram_bytes: int = at_least(64 * 1024, 1)
    ofmap_sram_bytes: int = at_least(64 * 1024, 1)
    dram_bytes_per_cycle: float = at_least(16.0, 1e-9)
    dram_latency_cycles: int = at_least(0, 0)
    vector_lanes: int = at_least(32, 1)
    ifmap_offset: int = at_least(0, 0)
    filter_offset: int = at_least(10_000_000, 0)
    ofmap_offset: int = at_least(20_000_000, 0)
    energy_table: str = "default"
    source: str = ""
    dram: str = ""
    dram_channels: int = at_least(1, 1)

    def __post_init__(self) -> None:
        check_spec(self)
        if self.dram:
            from archsim.hw.dram.dma import cached_standard

            cached_standard(self.dram)  # an unknown standard is one InputError here

    @property
    def pes(self) -> int:
        return self.rows * self.cols

    def replace(self, **changes: Any) -> SystolicSpec:
        return dataclasses.replace(self, **{k: v for k, v in changes.items() if v is not None})

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)
