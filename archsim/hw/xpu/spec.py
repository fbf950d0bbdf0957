"""Roofline processor spec (GPU / CPU baselines): peak throughput per dtype, memory bandwidth,
achievable-efficiency knobs and energy per operation, each with its source."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from archsim.specs import at_least, check_spec


@dataclass(frozen=True)
class XpuSpec:
    """A processor seen as a roofline.

    * ``fp16_flops``, ``bf16_flops``, ``fp32_flops``, ``int8_ops``: dense peak per second
      (tensor cores where the part has them); a 0 means "use the next wider type's peak"
    * ``mem_bytes_per_s``: peak DRAM bandwidth; ``mem_capacity_bytes``: DRAM size
    * ``compute_efficiency`` / ``memory_efficiency``: the fraction of peak a well-tuned kernel
      reaches (stated per preset, with its source)
    * ``launch_overhead_ns``: fixed cost per op (kernel launch / dispatch)
    * ``pj_per_flop``, ``pj_per_byte``: dynamic energy per FLOP and per DRAM byte
    * ``clock_hz``: the clock the event table counts cycles in
    """

    name: str = "xpu"
    fp16_flops: float = at_least(65e12, 0.0)
    bf16_flops: float = at_least(0.0, 0.0)
    fp32_flops: float = at_least(8.1e12, 0.0)
    int8_ops: float = at_least(0.0, 0.0)
    mem_bytes_per_s: float = at_least(320e9, 1.0)
    mem_capacity_bytes: int = at_least(16 * 2**30, 1)
    compute_efficiency: float = at_least(1.0, 1e-6)
    memory_efficiency: float = at_least(1.0, 1e-6)
    launch_overhead_ns: float = at_least(0.0, 0.0)
    pj_per_flop: float = at_least(0.0, 0.0)
    pj_per_byte: float = at_least(0.0, 0.0)
    clock_hz: int = at_least(1_000_000_000, 1)
    source: str = ""

    def __post_init__(self) -> None:
        check_spec(self)
        if self.compute_efficiency > 1 or self.memory_efficiency > 1:
            from archsim.errors import InputError

            raise InputError(None, "compute_efficiency/memory_efficiency", "a fraction in (0, 1]",
                             (self.compute_efficiency, self.memory_efficiency))

    def peak(self, dtype: str) -> float:
        """Peak operations per second for ``dtype`` (falls back to wider types when 0)."""
        order = {"int4": ("int8_ops", "fp16_flops"), "int8": ("int8_ops", "fp16_flops"), "uint8": ("int8_ops", "fp16_flops"),
                 "fp8": ("int8_ops", "fp16_flops"), "fp16": ("fp16_flops", "fp32_flops"),
                 "bf16": ("bf16_flops", "fp16_flops", "fp32_flops"), "int16": ("fp16_flops", "fp32_flops"),
                 "fp32": ("fp32_flops",), "int32": ("fp32_flops",)}.get(dtype, ("fp16_flops", "fp32_flops"))
        for f in order:
            v = getattr(self, f)
            if v:
                return v
        return self.fp32_flops

    def replace(self, **changes: Any) -> XpuSpec:
        return dataclasses.replace(self, **{k: v for k, v in changes.items() if v is not None})

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)
