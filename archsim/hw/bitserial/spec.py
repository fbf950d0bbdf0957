"""The bit-serial / bit-parallel LLM accelerator spec (BitMoD and its baselines), frozen and
validated, units in names.

One kind covers BitMoD (bit-serial PEs, 4-way dot product, per-group dequantization) and the
baselines it is compared with (bit-parallel FP16, ANT and OliVe PEs): they differ in PE type,
array shape, dot-product size, the formats they accept and the energy per PE-cycle.

Array orientation (as in the BitMoD artifact, ``bitmod_sim/accelerator.py``): ``rows`` PEs along
output channels (a weight term is broadcast to every PE of a channel line) and ``cols`` PEs along
tokens (an activation is broadcast to every PE of a token line); output stationary.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from archsim.errors import InputError
from archsim.specs import at_least, check_spec, choice

PE_TYPES = ("bitserial", "bitparallel")
CONVENTIONS = ("physical", "bitmod-sim")


def _tuple(value: Any, field: str) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [v.strip() for v in value.split(",") if v.strip()]
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
        raise InputError(None, field, "a list of format names", value)
    return tuple(value)


@dataclass(frozen=True)
class BitSerialSpec:
    """A 2-D array of ``rows x cols`` PEs with a weight buffer, an activation buffer and DRAM.

    * ``pe``: ``bitserial`` (one weight bit-term per cycle, BitMoD §IV-A/B) or ``bitparallel``
      (one MAC per lane per cycle whatever the weight format, as the BitMoD artifact models FP16,
      ANT and OliVe)
    * ``decode_rows`` / ``decode_cols``: the arrangement of the same PEs used for decode steps
      (0: same as prefill); BitMoD evaluates generation on 64x16 instead of 32x32 (§V-A)
    * ``dot_product_size``: MACs per PE per cycle (BitMoD: 4 weight terms x 4 FP16 activations)
    * ``weight_format`` / ``weight_formats``: the default and the accepted weight formats
      (:mod:`archsim.numerics` names; empty = any the PE can execute); ``weight_bits`` > 0
      overrides the stored bits per weight (mixed-precision schemes such as ANT's and OliVe's)
    * ``kv_format`` / ``kv_formats`` / ``kv_block``: the KV-cache format (0: format default
      block), ``sort_channels``: K-sort applied at compile time (no cycle or byte change)
    * ``group_size`` / ``scale_bits``: weight quantization group along the input channel and the
      bits of its scale, which the bit-serial dequantization unit consumes one per cycle
    * ``act_bits``: activation width (FP16)
    * ``pe_pipeline_cycles``: cycles from a PE's last input to its final partial sum
    * ``*_buffer_bytes``: on-chip buffers (each split in halves for double buffering)
    * ``dram_bytes_per_cycle`` / ``dram_latency_cycles``: the off-chip link, core cycles
    * ``vector_lanes``: element ops per cycle of the unit for softmax/norms/elementwise ops
      (0: those ops are not modelled, as in the BitMoD artifact)
    * ``pe_pj_per_cycle``, ``sram_pj_per_byte``, ``dram_pj_per_byte``, ``vector_pj_per_op``: energy
    * ``convention``: ``physical`` (this model) or ``bitmod-sim`` (the BitMoD artifact's numbers,
      quirks included; see docs/bitserial_bfp.md)
    """

    name: str = "bitserial"
    pe: str = choice("bitserial", PE_TYPES)
    rows: int = at_least(32, 1)
    cols: int = at_least(32, 1)
    decode_rows: int = at_least(0, 0)
    decode_cols: int = at_least(0, 0)
    dot_product_size: int = at_least(4, 1)
    weight_format: str = "bitmod-fp4"
    weight_formats: tuple[str, ...] = ()
    weight_bits: float = at_least(0.0, 0.0)
    kv_format: str = "int8"
    kv_formats: tuple[str, ...] = ()
    kv_block: int = at_least(0, 0)
    sort_channels: bool = False
    group_size: int = at_least(128, 1)
    scale_bits: int = at_least(8, 1)
    act_bits: int = at_least(16, 1)
    pe_pipeline_cycles: int = at_least(2, 0)
    weight_buffer_bytes: int = at_least(512 * 1024, 1)
    act_buffer_bytes: int = at_least(512 * 1024, 1)
    dram_bytes_per_cycle: float = at_least(32.0, 1e-9)
    dram_latency_cycles: int = at_least(0, 0)
    vector_lanes: int = at_least(0, 0)
    clock_hz: int = at_least(1_000_000_000, 1)
    pe_pj_per_cycle: float = at_least(0.0, 0.0)
    sram_pj_per_byte: float = at_least(0.0, 0.0)
    dram_pj_per_byte: float = at_least(0.0, 0.0)
    vector_pj_per_op: float = at_least(0.0, 0.0)
    convention: str = choice("physical", CONVENTIONS)
    source: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "weight_formats", _tuple(self.weight_formats, "weight_formats"))
        object.__setattr__(self, "kv_formats", _tuple(self.kv_formats, "kv_formats"))
        check_spec(self)
        from archsim.hw.bitserial.hwformats import kv_hw_format, weight_hw_format

        for field, fmt, allowed in (("weight_format", self.weight_format, self.weight_formats),
                                    ("kv_format", self.kv_format, self.kv_formats)):
            if allowed and fmt not in allowed:
                raise InputError(None, field, f"one of the formats {self.name} supports ({', '.join(allowed)})", fmt)
        weight_hw_format(self)  # raises for a format this PE cannot execute
        kv_hw_format(self)

    @property
    def pes(self) -> int:
        return self.rows * self.cols

    def array(self, phase: str | None) -> tuple[int, int]:
        """``(rows, cols)`` used for ``phase`` (decode may use another arrangement)."""
        if phase == "decode" and (self.decode_rows or self.decode_cols):
            return self.decode_rows or self.rows, self.decode_cols or self.cols
        return self.rows, self.cols

    def replace(self, **changes: Any) -> BitSerialSpec:
        return dataclasses.replace(self, **{k: v for k, v in changes.items() if v is not None})

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["weight_formats"] = list(self.weight_formats)
        d["kv_formats"] = list(self.kv_formats)
        return d
