"""The DRAM-PIM device spec: in-bank MAC units on a DRAM standard, plus the ASIC beside it (PIM-GPT).

Frozen and validated; units in names. One *PIM scope* is the set of banks one all-bank command
reaches: every bank of a channel (``pim_scope: channel``, GDDR6-AiM) or of one pseudo-channel /
rank (``pim_scope: rank``, HBM-PIM). Each scope has ``units_per_scope`` MAC units, one per
``banks_per_unit`` banks, and a global buffer of ``gb_bytes`` that holds the broadcast input
vector. See docs/dram_pim.md for the command set and what each field does to the timing.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from archsim.errors import InputError
from archsim.specs import at_least, check_spec, choice

DATATYPES = ("bf16", "fp16", "int8")
ELEM_BYTES = {"bf16": 2, "fp16": 2, "int8": 1}
SCOPES = ("channel", "rank")
REFRESH = ("all-bank", "none")
#: ``archsim run`` flags of this kind -> spec fields (flag names must not clash with other kinds')
CLI_FIELDS = {"pim_channels": "channels", "pim_lanes": "lanes_per_unit", "nccdab": "nccdab_cycles",
              "asic_clock_hz": "asic_clock_hz", "pim_refresh": "refresh"}


@cache
def load_dram_standard(name: str):
    """A DRAM standard preset name (``archsim dram standards``) or a standard ``.yaml`` path."""
    from archsim.hw.dram.standard import load_standard

    return load_standard(name)


@dataclass(frozen=True)
class PimSpec:
    """A DRAM-PIM device and its ASIC.

    DRAM and PIM units:

    * ``dram_standard``: the DRAM under the PIM units (a preset of ``archsim dram standards`` or a
      standard ``.yaml``); its timing table gets the PIM commands (:mod:`.commands`)
    * ``channels``: DRAM channels (each with its own controller, command and data bus)
    * ``pim_scope``: ``channel`` or ``rank`` (pseudo-channel): the banks one all-bank command reaches
    * ``banks_per_unit``: 1 (AiM: a unit per bank) or 2 (HBM-PIM: one unit shared by an even and
      an odd bank, read alternately)
    * ``lanes_per_unit``: multipliers per unit; ``datatype``: ``bf16``, ``fp16`` or ``int8``
      operands (a 32 B burst holds 16 or 32 of them); ``unit_clock_hz``: the unit's clock
    * ``mac_pipeline_cycles``: unit cycles from a burst entering the unit to its sum in the
      accumulator (multiply, adder tree, accumulate; ``rtl/pim_mac`` has 3)
    * ``accumulator_bytes``: bytes of one unit's result read out by RD_MAC (FP32 / INT32: 4)
    * ``nccdab_cycles``: minimum interval of all-bank column commands (MAC_AB) in DRAM cycles, the
      power-limit knob (AttAcc: 4 tCK with no limit, 6-8 limited); the MAC interval is
      ``max(nccdab_cycles, unit time for one burst)``
    * ``ab_act_obeys_tfaw``: an all-bank ACT is one command bound only by tRC / tRP (AiM, AttAcc;
      false) or a burst of per-bank ACTs under tRRD and tFAW (Newton, NeuPIMs; true)
    * ``gb_bytes``: global buffer per scope (input-vector broadcast: AiM 2 KB per channel; HBM-PIM
      8 x 32 B GRF_A per unit)
    * ``single_bank_mac``: a phase with work in one unit only uses ACT / MAC_SB / PRE on that bank
    * ``refresh``: ``all-bank`` (REFab every tREFI, rows reopened after it) or ``none``
    * ``kv_positions``: KV-cache slots reserved per layer (0: the model's maximum positions)

    ASIC (non-linear functions, partial sums, data movement; its own clock):

    * ``asic_clock_hz``, ``asic_lanes`` (element operations per cycle), ``asic_pipeline_cycles``
      (latency of one pass), ``asic_taylor_terms`` (exp for softmax / GELU), ``asic_newton_iterations``
      (reciprocal and inverse square root refinements)

    Energy (pJ; sources in the preset files): ``act_pj`` per bank activation,
    ``bank_read_pj_per_bit`` / ``bank_write_pj_per_bit`` array to unit and back,
    ``mac_pj`` per multiply-accumulate, ``gb_pj_per_bit`` global-buffer SRAM,
    ``io_pj_per_bit`` channel I/O between the ASIC and the PIM chips, ``asic_op_pj`` per ASIC
    element operation, ``asic_sram_pj_per_byte`` ASIC buffer accesses.
    """

    name: str = "pim"
    dram_standard: str = "gddr6-14000"
    channels: int = at_least(8, 1)
    pim_scope: str = choice("channel", SCOPES)
    banks_per_unit: int = choice(1, (1, 2))
    lanes_per_unit: int = at_least(16, 1)
    datatype: str = choice("bf16", DATATYPES)
    unit_clock_hz: int = at_least(1_000_000_000, 1)
    mac_pipeline_cycles: int = at_least(3, 1)
    accumulator_bytes: int = choice(4, (2, 4))
    nccdab_cycles: int = at_least(2, 1)
    ab_act_obeys_tfaw: bool = False
    gb_bytes: int = at_least(2048, 1)
    single_bank_mac: bool = True
    refresh: str = choice("all-bank", REFRESH)
    kv_positions: int = at_least(0, 0)
    asic_clock_hz: int = at_least(1_000_000_000, 1)
    asic_lanes: int = at_least(128, 1)
    asic_pipeline_cycles: int = at_least(4, 0)
    asic_taylor_terms: int = at_least(8, 1)
    asic_newton_iterations: int = at_least(2, 0)
    act_pj: float = at_least(1818.0, 0.0)
    bank_read_pj_per_bit: float = at_least(0.55, 0.0)
    bank_write_pj_per_bit: float = at_least(0.55, 0.0)
    mac_pj: float = at_least(0.46, 0.0)
    gb_pj_per_bit: float = at_least(0.16, 0.0)
    io_pj_per_bit: float = at_least(7.0, 0.0)
    asic_op_pj: float = at_least(1.5, 0.0)
    asic_sram_pj_per_byte: float = at_least(1.25, 0.0)
    source: str = ""

    def __post_init__(self) -> None:
        check_spec(self)
        s = self.standard  # raises InputError for an unknown standard
        per_scope = s.banks if self.pim_scope == "channel" else s.banks_per_rank
        if per_scope % self.banks_per_unit:
            raise InputError(None, "banks_per_unit", f"a divisor of the {per_scope} banks of a PIM scope",
                             self.banks_per_unit)
        if self.gb_bytes % s.burst_bytes:
            raise InputError(None, "gb_bytes", f"a multiple of the {s.burst_bytes} B burst of {s.name}", self.gb_bytes)
        if s.burst_bytes % self.elem_bytes:
            raise InputError(None, "datatype", f"an element size dividing the {s.burst_bytes} B burst", self.datatype)

    # -- derived ----------------------------------------------------------------------------------
    @property
    def standard(self):
        try:
            return load_dram_standard(self.dram_standard)
        except InputError as e:
            raise InputError(None, "dram_standard", e.expected, self.dram_standard) from None

    @property
    def elem_bytes(self) -> int:
        return ELEM_BYTES[self.datatype]

    @property
    def elems_per_burst(self) -> int:
        return self.standard.burst_bytes // self.elem_bytes

    @property
    def scopes_per_channel(self) -> int:
        return 1 if self.pim_scope == "channel" else self.standard.ranks

    @property
    def scopes(self) -> int:
        return self.channels * self.scopes_per_channel

    @property
    def banks_per_scope(self) -> int:
        s = self.standard
        return s.banks if self.pim_scope == "channel" else s.banks_per_rank

    @property
    def units_per_scope(self) -> int:
        return self.banks_per_scope // self.banks_per_unit

    @property
    def units(self) -> int:
        return self.scopes * self.units_per_scope

    @property
    def unit_row_bursts(self) -> int:
        """MAC bursts one unit can take from one all-bank activation (its banks' open rows)."""
        return self.banks_per_unit * self.standard.columns

    @property
    def gb_elems(self) -> int:
        return self.gb_bytes // self.elem_bytes

    @property
    def unit_cycles_per_burst(self) -> int:
        """Unit cycles to multiply one burst: ``ceil(elements per burst / lanes)``."""
        return math.ceil(self.elems_per_burst / self.lanes_per_unit)

    def unit_to_dram_cycles(self, unit_cycles: int) -> int:
        """Unit cycles as whole DRAM command-clock cycles (rounded up)."""
        return -(-unit_cycles * self.standard.clock_hz // self.unit_clock_hz)

    @property
    def mac_interval_cycles(self) -> int:
        """DRAM cycles between MAC_AB commands: the power limit or the unit's pace, whichever is slower."""
        return max(self.nccdab_cycles, self.unit_to_dram_cycles(self.unit_cycles_per_burst))

    @property
    def result_latency_cycles(self) -> int:
        """DRAM cycles from the MAC that completes an output to its result in the output register:
        the burst's transfer into the unit (one MAC interval) plus the unit pipeline."""
        return self.mac_interval_cycles + self.unit_to_dram_cycles(self.mac_pipeline_cycles)

    @property
    def readout_bursts(self) -> int:
        """Bursts of one RD_MAC: every unit's result of the scope."""
        return -(-self.units_per_scope * self.accumulator_bytes // self.standard.burst_bytes)

    @property
    def peak_macs_per_s(self) -> float:
        """MACs per second with every unit busy, at the MAC interval (or the unit's clock if faster)."""
        per_burst_s = self.mac_interval_cycles / self.standard.clock_hz
        return self.units * self.elems_per_burst / per_burst_s

    @property
    def internal_bytes_per_s(self) -> float:
        """Array bytes per second into all units at the MAC interval."""
        return self.units * self.standard.burst_bytes * self.standard.clock_hz / self.mac_interval_cycles

    def replace(self, **changes: Any) -> PimSpec:
        """A copy with fields (or their ``archsim run`` flag names, :data:`CLI_FIELDS`) replaced;
        ``None`` values are ignored."""
        fields = {CLI_FIELDS.get(k, k): v for k, v in changes.items() if v is not None}
        return dataclasses.replace(self, **fields)

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        s = self.standard
        d["resolved"] = {
            "dram_standard": s.name, "dram_clock_hz": s.clock_hz, "dram_source_file": Path(s.path).name,
            "burst_bytes": s.burst_bytes, "row_bytes": s.row_bytes, "scopes": self.scopes,
            "banks_per_scope": self.banks_per_scope, "units_per_scope": self.units_per_scope, "units": self.units,
            "elems_per_burst": self.elems_per_burst, "gb_elems": self.gb_elems,
            "unit_row_bursts": self.unit_row_bursts, "mac_interval_cycles": self.mac_interval_cycles,
            "result_latency_cycles": self.result_latency_cycles, "readout_bursts": self.readout_bursts,
            "peak_macs_per_s": self.peak_macs_per_s, "internal_bytes_per_s": self.internal_bytes_per_s,
        }
        return d
