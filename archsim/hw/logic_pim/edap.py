"""Area of the PIM placements and the energy-delay-area product of one GEMM (Duplex Fig. 8).

Area per stack (mm2), following Duplex Sec. VI-VII-E:

* ``logic``: the added TSVs, the GEMM modules (with their 8 KB buffers), the two 1 MB buffers and
  the softmax unit, all on the logic die (Sec. VII-E: 10.89 + 3.02 + 2.26 + 1.64 = 17.8 mm2).
* ``bankgroup``: the same GEMM modules and buffers on the DRAM dies (no added TSVs), their
  7 nm area scaled to the DRAM node (``(dram_feature_nm / logic_feature_nm)^2``, 1z-nm) and by the
  DRAM process's 10x logic-area penalty (Sec. VI, citing Devaux, Hot Chips 2019); the softmax unit
  stays on the logic die.
* ``bank``: ``pim_macs_per_bank`` MACs per bank at the per-MAC area of the GEMM modules, scaled
  the same way; softmax on the logic die.

The EDAP's area is the silicon of the stack (``dram_dies_per_stack + 1`` dies of the logic die's
121 mm2 footprint) plus that overhead: what a PIM placement costs in the stack it is built into.

A GEMM of an ``rows x cols`` FP16 weight with ``n`` tokens has Op/B ``n`` (``2 n rows cols``
FLOPs per ``2 rows cols`` weight bytes). On one device (all stacks) its delay is
``max(FLOPs / PIM FLOPS, weight stream time)`` and its energy the stream's activations and reads
on the placement's path plus 0.23 pJ per FLOP (:mod:`~archsim.hw.logic_pim.presets`
``duplex-energy.yaml``). Fig. 8 compares placements on a GEMM alone (no xPU sharing the memory,
so no memory spaces, Sec. V-C): the weight is laid out over ``pim_bundle_ways`` bundles of
different stack IDs (2 in the presets: their row switches hide behind each other's reads, the
best layout a bundle placement allows; ``ways=1`` gives the one-bundle layout), while Bank-PIM's
32 banks read in lock-step and always expose the row switch. Inputs and outputs
(``n (rows + cols)`` elements) are left out, as is buffer energy (FinCACTI figures are not
published).
"""

from __future__ import annotations

from dataclasses import dataclass

from archsim.hw.logic_pim.pim import PimDevice
from archsim.hw.logic_pim.spec import DuplexSpec
from archsim.hw.logic_pim.stepper import energy_table


def pim_area_mm2(spec: DuplexSpec) -> dict[str, float]:
    """Per-stack area of ``spec``'s PIM by component (mm2), see the module docstring."""
    scale = (spec.dram_feature_nm / spec.logic_feature_nm) ** 2 * spec.dram_process_area_factor
    macs_logic = spec.pim_units_per_stack * spec.pim_macs_per_unit
    per_mac = spec.gemm_modules_area_mm2 / macs_logic
    p = spec.pim_placement
    if p == "logic":
        return {"tsv": spec.tsv_area_mm2, "gemm_modules": spec.gemm_modules_area_mm2,
                "buffers": spec.pim_buffers_area_mm2, "softmax": spec.softmax_area_mm2}
    if p == "bankgroup":
        return {"gemm_modules": spec.gemm_modules_area_mm2 * scale, "buffers": spec.pim_buffers_area_mm2 * scale,
                "softmax": spec.softmax_area_mm2}
    if p == "bank":
        pim = PimDevice.from_spec(spec)
        return {"bank_units": per_mac * pim.macs_per_stack * scale, "softmax": spec.softmax_area_mm2}
    return {}


def stack_area_mm2(spec: DuplexSpec) -> float:
    """Silicon of one stack: its dies (the logic die's footprint each) plus the PIM overhead."""
    base = (spec.dram_dies_per_stack + 1) * spec.logic_die_area_mm2
    return base + sum(pim_area_mm2(spec).values())


@dataclass(frozen=True)
class GemmCost:
    op_per_byte: float
    delay_ns: float
    energy_pj: float
    area_mm2: float

    @property
    def edap(self) -> float:
        return self.energy_pj * self.delay_ns * self.area_mm2


def gemm_cost(spec: DuplexSpec, tokens: int, rows: int = 16384, cols: int = 4096, level: str = "analytic",
              ways: int | None = None) -> GemmCost:
    """Delay, energy and area of an FP16 ``rows x cols`` weight GEMM with ``tokens`` tokens on one
    device's PIM, its weight over ``ways`` bundles (default ``spec.pim_bundle_ways``; see the module
    docstring)."""
    pim = PimDevice.from_spec(spec, level)
    weight = rows * cols * 2
    flops = 2.0 * tokens * rows * cols
    s = pim.stream(weight, spec.pim_bundle_ways if ways is None else ways)
    delay = max(flops / pim.flops_per_s * 1e9, s.ns)
    table = energy_table(spec)
    e = (s.acts * table.pj("hbm", "act") + s.reads * table.pj(pim.read_class, "read_32b")
         + flops * table.pj(pim.mac_class, "flop"))
    return GemmCost(flops / weight, delay, e, stack_area_mm2(spec) * spec.stacks)


def edap_table(specs: dict[str, DuplexSpec], op_per_byte: tuple[int, ...] = (1, 2, 4, 8, 16, 32), **kw) -> dict:
    """EDAP per placement and Op/B, normalized to the largest of each Op/B (as Duplex Fig. 8)."""
    raw = {name: [gemm_cost(s, n, **kw).edap for n in op_per_byte] for name, s in specs.items()}
    top = [max(raw[name][j] for name in raw) for j in range(len(op_per_byte))]
    return {"op_per_byte": list(op_per_byte),
            "normalized": {name: [v / top[j] for j, v in enumerate(vals)] for name, vals in raw.items()},
            "raw": raw}
