"""Energy of the storage systems: pJ per action, built from the spec and the GPU's xpu preset.

Priced actions (sources in the presets): GPU FLOPs and DRAM bytes (the xpu preset's
``pj_per_flop`` / ``pj_per_byte``), flash page reads and programs (``flash_read_pj_per_page``,
``flash_program_pj_per_page``), the attention engine's FLOPs and softmax/top-k elements
(``engine_pj_per_flop``, ``engine_pj_per_element``). PCIe bytes, host-DRAM copies and the
channel filters' bytes are counted but not priced (no sourced figure); the report lists them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from archsim.energy import EnergyTable
from archsim.hw.storage.gpu import OpCost, group_traffic
from archsim.hw.storage.spec import StorageSpec
from archsim.hw.xpu.spec import XpuSpec


@dataclass(frozen=True)
class Prices:
    gpu_pj_per_flop: float
    gpu_pj_per_byte: float
    flash_read_pj_per_page: float
    flash_program_pj_per_page: float
    engine_pj_per_flop: float
    engine_pj_per_element: float

    def gpu(self, ops: Sequence[OpCost], frac: float = 1.0) -> float:
        flops, reads, writes, _ = group_traffic(ops, frac)
        return flops * self.gpu_pj_per_flop + (reads + writes) * self.gpu_pj_per_byte


def prices(spec: StorageSpec, gpu: XpuSpec) -> Prices:
    return Prices(gpu.pj_per_flop, gpu.pj_per_byte, spec.flash_read_pj_per_page, spec.flash_program_pj_per_page,
                  spec.engine_pj_per_flop, spec.engine_pj_per_element)


def energy_table(spec: StorageSpec, gpu: XpuSpec) -> EnergyTable:
    gsrc = gpu.source or gpu.name
    ssrc = spec.source or spec.name
    return EnergyTable.from_dict({
        "version": 1, "name": f"{spec.name}-storage",
        "entries": {
            "xpu": {"flop": {"pj": gpu.pj_per_flop, "source": gsrc}},
            "xpu_dram": {"read_bytes": {"pj": gpu.pj_per_byte, "source": gsrc},
                         "write_bytes": {"pj": gpu.pj_per_byte, "source": gsrc}},
            "flash": {"page_read": {"pj": spec.flash_read_pj_per_page, "source": ssrc},
                      "page_program": {"pj": spec.flash_program_pj_per_page, "source": ssrc}},
            "csd_engine": {"flop": {"pj": spec.engine_pj_per_flop, "source": ssrc},
                           "element": {"pj": spec.engine_pj_per_element, "source": ssrc}},
        },
    }, source=f"{spec.name} preset")
