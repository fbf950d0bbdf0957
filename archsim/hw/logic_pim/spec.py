"""Spec of a Duplex device system (frozen, validated, units in names): an xPU and a PIM on the
same HBM3 stacks, several devices joined by NVLink within a node and InfiniBand across nodes.

One spec describes all three PIM placements of the Duplex comparison (``pim_placement``):
``logic`` (Logic-PIM on the HBM logic die: Duplex), ``bankgroup`` (BankGroup-PIM on the DRAM
dies), ``bank`` (Bank-PIM: a unit per bank), or ``none`` (the xPU alone). Every number of the
presets (``archsim/arch/presets/duplex.yaml``, ``bank-pim.yaml``, ``bg-pim.yaml``) has its source
in the preset's comments.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from archsim.errors import InputError
from archsim.specs import at_least, check_spec, choice

PLACEMENTS = ("logic", "bankgroup", "bank", "none")
REFRESH = ("all-bank", "none")
EXPERT_SPLITS = ("tp", "ep")
PIM_OP_CLASSES = ("attention", "moe", "fc")


@dataclass(frozen=True)
class DuplexSpec:
    """A system of ``devices`` Duplex devices (``0``: the fewest, a power of two, whose memory is
    at least twice the model's weights; see :func:`archsim.serving.system.default_devices`).

    Device: ``xpu`` names an ``xpu`` preset (or spec ``.yaml``): the high-Op/B processor's
    roofline. ``stacks`` HBM3 stacks of ``stack_capacity_bytes``, ``pch_per_stack`` pseudo-channels
    each, timed by the pseudo-channel standard ``dram_standard`` (``hbm3-5200``,
    :mod:`archsim.hw.logic_pim.bundle`).

    PIM (``pim_placement``):

    * ``logic`` / ``bankgroup``: ``pim_units_per_stack`` GEMM modules of ``pim_macs_per_unit``
      FP16 MACs, clocked at ``1 / tCCD_S`` of the standard (HBM3 5.2 Gb/s: 650 MHz), reading
      bank bundles; ``pim_buffer_bytes_per_unit`` per module plus ``pim_shared_buffer_bytes`` and a
      softmax unit per stack
    * ``bank``: ``pim_macs_per_bank`` MACs next to every bank, reading all banks at once
    * ``pim_bundle_ways``: bundles of a pseudo-channel the PIM alternates between when its work
      spans several memory spaces (2: one bundle's row switch hides behind the other's reads)
    * ``pim_act_power_limit``: PIM activates obey tRRD/tFAW (default: all-bank activates do not,
      as AttAcc's ACTAB)
    * ``refresh``: ``all-bank`` REFab per stack ID every tREFI, or ``none``
    * ``pim_ops``: op classes the PIM may run (``attention``, ``moe``, ``fc``), comma-separated

    Scheduling: ``co_processing`` (Duplex+PE: experts split between xPU and PIM by the greedy of
    Sec. V-B, prefill attention on the xPU while the PIM does decode attention);
    ``expert_split``: ``tp`` (Duplex+ET: experts tensor-parallel within a node, expert-parallel
    across nodes) or ``ep`` (expert parallelism over all devices, Sec. III).

    System: ``devices_per_node`` devices per NVLink node (``nvlink_bytes_per_s`` per direction,
    ``nvlink_latency_ns`` per ring hop), ``ib_bytes_per_s`` InfiniBand per device across nodes.

    Energy: ``energy_table`` names a table in this package's presets (``duplex-energy``) or a
    ``.yaml`` path. Area (for EDAP): the Logic-PIM components of Duplex Sec. VII-E and the
    DRAM-process scaling of Sec. VI.
    """

    name: str = "duplex"
    xpu: str = "h100"
    pim_placement: str = choice("logic", PLACEMENTS)
    dram_standard: str = "hbm3-5200"
    stacks: int = at_least(5, 1)
    stack_capacity_bytes: int = at_least(16 * 2**30, 1)
    pch_per_stack: int = at_least(32, 1)
    pim_units_per_stack: int = at_least(32, 1)
    pim_macs_per_unit: int = at_least(512, 1)
    pim_macs_per_bank: int = at_least(8, 1)
    pim_buffer_bytes_per_unit: int = at_least(8192, 0)
    pim_shared_buffer_bytes: int = at_least(2 * 2**20, 0)
    pim_bundle_ways: int = at_least(2, 1)
    pim_act_power_limit: bool = False
    refresh: str = choice("all-bank", REFRESH)
    pim_ops: str = "attention,moe"
    co_processing: bool = True
    expert_split: str = choice("tp", EXPERT_SPLITS)
    devices: int = at_least(0, 0)
    devices_per_node: int = at_least(8, 1)
    nvlink_bytes_per_s: float = at_least(450e9, 1.0)
    nvlink_latency_ns: float = at_least(800.0, 0.0)
    ib_bytes_per_s: float = at_least(50e9, 1.0)
    ib_latency_ns: float = at_least(130.0, 0.0)
    energy_table: str = "duplex-energy"
    logic_die_area_mm2: float = at_least(121.0, 0.0)
    dram_dies_per_stack: int = at_least(8, 0)
    tsv_area_mm2: float = at_least(10.89, 0.0)
    gemm_modules_area_mm2: float = at_least(3.02, 0.0)
    pim_buffers_area_mm2: float = at_least(2.26, 0.0)
    softmax_area_mm2: float = at_least(1.64, 0.0)
    logic_feature_nm: float = at_least(7.0, 1e-3)
    dram_feature_nm: float = at_least(15.0, 1e-3)
    dram_process_area_factor: float = at_least(10.0, 1.0)
    source: str = ""

    def __post_init__(self) -> None:
        check_spec(self)
        for c in self.pim_op_classes:
            if c not in PIM_OP_CLASSES:
                raise InputError(None, "pim_ops", f"comma-separated op classes from {list(PIM_OP_CLASSES)}", c)
        if self.pim_placement == "bank" and self.co_processing:
            raise InputError(None, "co_processing", "false for pim_placement bank (Bank-PIM reads every bank at "
                             "once: the xPU cannot use the memory meanwhile)", True)
        if self.pim_bundle_ways not in (1, 2, 4):
            raise InputError(None, "pim_bundle_ways", "1, 2 or 4 bundles", self.pim_bundle_ways)
        if self.devices and self.devices > self.devices_per_node and self.devices % self.devices_per_node:
            raise InputError(None, "devices", f"a multiple of devices_per_node ({self.devices_per_node}) "
                             "above one node", self.devices)

    @property
    def pim_op_classes(self) -> tuple[str, ...]:
        return tuple(c.strip() for c in self.pim_ops.split(",") if c.strip())

    @property
    def has_pim(self) -> bool:
        return self.pim_placement != "none"

    @property
    def capacity_bytes(self) -> int:
        """Memory per device."""
        return self.stacks * self.stack_capacity_bytes

    def replace(self, **changes: Any) -> DuplexSpec:
        return dataclasses.replace(self, **{k: v for k, v in changes.items() if v is not None})

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)
