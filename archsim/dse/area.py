"""Silicon-area proxy ``area_mm2`` for design points: PEs x area per PE + SRAM bytes x area per byte.

Default constants (28 nm), from the TPU v1 paper: N. P. Jouppi et al., "In-Datacenter Performance
Analysis of a Tensor Processing Unit", ISCA 2017. The die is at most 331 mm^2 (Table 2); in its
floor plan (Figure 2) the 256x256 8-bit MAC array takes 24 % and the 24 MiB Unified Buffer 29 %:

* ``pe_mm2`` = 0.24 x 331 / 65,536 = 1.2121e-3 mm^2 per int8 MAC PE (with its pipeline registers);
* ``sram_mm2_per_byte`` = 0.29 x 331 / (24 x 2^20) = 3.8144e-6 mm^2 per SRAM byte.

Both are upper bounds (the die is "<= 331 mm^2") and leave out control, I/O, DRAM PHYs and the
vector unit: the proxy ranks design points, it is not a floor plan. A sweep spec may replace the
constants (``area: {pe_mm2: ..., sram_mm2_per_byte: ...}``) for another node or PE type.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from archsim.errors import InputError

TPU_V1_DIE_MM2 = 331.0
TPU_V1_MXU_FRACTION = 0.24
TPU_V1_PES = 256 * 256
TPU_V1_UB_FRACTION = 0.29
TPU_V1_UB_BYTES = 24 * 2**20
SOURCE = ("Jouppi et al., In-Datacenter Performance Analysis of a Tensor Processing Unit, ISCA 2017 "
          "(28 nm, die <= 331 mm2; floor plan: MXU 24 %, 24 MiB Unified Buffer 29 %)")


@dataclass(frozen=True)
class AreaModel:
    """``area_mm2 = pes * pe_mm2 + sram_bytes * sram_mm2_per_byte`` (see module docstring)."""

    pe_mm2: float = TPU_V1_MXU_FRACTION * TPU_V1_DIE_MM2 / TPU_V1_PES
    sram_mm2_per_byte: float = TPU_V1_UB_FRACTION * TPU_V1_DIE_MM2 / TPU_V1_UB_BYTES
    node: str = "28nm"
    source: str = SOURCE

    @classmethod
    def from_dict(cls, data: Any, source: str | None) -> AreaModel:
        if data is None:
            return cls()
        if not isinstance(data, dict):
            raise InputError(source, "area", "a mapping with pe_mm2, sram_mm2_per_byte, node, source", data)
        fields = {f.name for f in dataclasses.fields(cls)}
        for k, v in data.items():
            if k not in fields:
                raise InputError(source, f"area.{k}", f"one of {sorted(fields)}", k)
            if k in ("pe_mm2", "sram_mm2_per_byte") and (isinstance(v, bool) or not isinstance(v, int | float) or v < 0):
                raise InputError(source, f"area.{k}", "a number >= 0", v)
        model = cls(**{k: (float(v) if k in ("pe_mm2", "sram_mm2_per_byte") else str(v)) for k, v in data.items()})
        if "source" not in data and set(data) & {"pe_mm2", "sram_mm2_per_byte"}:
            model = dataclasses.replace(model, source="given in the sweep spec")
        return model

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def area_mm2(self, spec: Any) -> float | None:
        """The proxy for ``spec``: PEs from ``rows x cols`` (or a ``pes`` property), SRAM bytes the
        sum of its ``*_sram_bytes`` fields; ``None`` for a spec with neither."""
        pes = getattr(spec, "pes", None)
        if pes is None and hasattr(spec, "rows") and hasattr(spec, "cols"):
            pes = spec.rows * spec.cols
        sram = sum(getattr(spec, f.name) for f in dataclasses.fields(spec) if f.name.endswith("_sram_bytes"))
        if not pes and not sram:
            return None
        return (pes or 0) * self.pe_mm2 + sram * self.sram_mm2_per_byte
