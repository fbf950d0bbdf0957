"""The processors a step model schedules ops on, and the action counts it prices.

* :class:`XpuUnit`: a roofline (``max(FLOPs / peak, bytes / bandwidth) + launch``), from an
  :class:`~archsim.hw.xpu.spec.XpuSpec`; every byte it moves is an HBM read or write of 32 B bursts
  with one row activation per 1 KB row (rows are streamed whole, as Duplex's simulator counts
  them: ``src/hardware/device.cpp run_ideal``).
* :class:`PimUnit`: the protocol of a processing-in-memory unit (implemented by
  :class:`archsim.hw.logic_pim.pim.PimDevice`): its peak FLOP rate and the time, activations and
  reads of a weight/KV stream of so many bytes.

Action counts are a fixed vector (:data:`ACTIONS`, ``(component, class, action)``) so a stage's
counts add up in numpy; :func:`to_action_counts` turns them into
:class:`~archsim.engine.ActionCounts` for reports, an :class:`~archsim.energy.EnergyTable` prices
them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

from archsim.energy import EnergyTable
from archsim.engine import ActionCounts

#: bytes of one HBM burst and of one row (page) of a pseudo-channel bank (HBM3)
BURST_BYTES = 32
ROW_BYTES = 1024

# action vector layout
XF, XR, XW, XA, PF, PR, PW, PA, PREF, NV, IB = range(11)


def actions(pim_class: str = "pim_path", pim_mac: str = "mac") -> tuple[tuple[str, str, str], ...]:
    """The ``(component, class, action)`` of each slot of a count vector (``pim_mac``: the PIM's
    FLOP class, ``dram_mac`` for units built in the DRAM process)."""
    return (("xpu", "mac", "flop"), ("xpu.dram", "xpu_path", "read_32b"), ("xpu.dram", "xpu_path", "write_32b"),
            ("xpu.dram", "hbm", "act"), ("pim", pim_mac, "flop"), ("pim.dram", pim_class, "read_32b"),
            ("pim.dram", pim_class, "write_32b"), ("pim.dram", "hbm", "act"), ("pim.dram", "hbm", "refresh"),
            ("nvlink", "nvlink", "byte"), ("ib", "infiniband", "byte"))


def zeros() -> np.ndarray:
    return np.zeros(11)


def price_vector(table: EnergyTable, pim_class: str, pim_mac: str = "mac") -> tuple[np.ndarray, list[str]]:
    """pJ per action for each slot (0 for actions the table does not price) and the unpriced ones."""
    out, unpriced = np.zeros(11), []
    for i, (_, cls, act) in enumerate(actions(pim_class, pim_mac)):
        pj = table.pj(cls, act)
        if pj is None:
            unpriced.append(f"{cls}.{act}")
        else:
            out[i] = pj
    return out, unpriced


def to_action_counts(counts: np.ndarray, pim_class: str, pim_mac: str = "mac") -> ActionCounts:
    a = ActionCounts()
    for (comp, cls, act), n in zip(actions(pim_class, pim_mac), counts):
        a.add(comp, cls, act, int(round(float(n))))
    return a


@dataclass(frozen=True)
class XpuUnit:
    """A roofline processor: ``flops_per_s`` and ``bytes_per_s`` already include the spec's
    efficiency factors; ``launch_ns`` is added per op."""

    name: str
    flops_per_s: float
    bytes_per_s: float
    launch_ns: float = 0.0

    @classmethod
    def from_spec(cls, spec, dtype: str = "fp16") -> XpuUnit:
        return cls(spec.name, spec.peak(dtype) * spec.compute_efficiency, spec.mem_bytes_per_s * spec.memory_efficiency,
                   spec.launch_overhead_ns)

    def ns(self, flops, nbytes):
        """Time of an op (works on numpy arrays)."""
        return np.maximum(flops / self.flops_per_s, nbytes / self.bytes_per_s) * 1e9 + self.launch_ns

    @staticmethod
    def counts(flops: float, read_bytes: float, write_bytes: float) -> np.ndarray:
        c = zeros()
        c[XF] = flops
        c[XR] = read_bytes / BURST_BYTES
        c[XW] = write_bytes / BURST_BYTES
        c[XA] = (read_bytes + write_bytes) / ROW_BYTES
        return c


@dataclass(frozen=True)
class StreamCost:
    """A PIM stream over a whole device: time, per-bank activations, 32 B reads, refreshes."""

    ns: float
    acts: float
    reads: float
    refreshes: float


class PimUnit(Protocol):
    """What a step model needs from a processing-in-memory unit."""

    name: str
    placement: str
    flops_per_s: float
    read_class: str
    mac_class: str
    stacks: int

    def stream(self, nbytes: float, ways: int) -> StreamCost:
        """Reading ``nbytes`` spread evenly over every pseudo-channel of the device, alternating
        between ``ways`` bank bundles of each."""
        ...

    def tokens_per_pass(self, k: int, dtype_bytes: int = 2) -> int:
        """Tokens whose ``k``-element inputs the unit holds at once (a weight pass serves them)."""
        ...


#: One 1 KB HBM row activation: 0.909 nJ (FGDRAM, MICRO'17, Tab. 3, as Duplex's
#: src/dram/power.h counts it for the GPU and every PIM path alike).
HBM_ACT_PJ = 909.0
#: NVLink transfer energy: 10.4 pJ/B (AttAcc, scale-snu/attacc_simulator src/config.py).
NVLINK_PJ_PER_BYTE = 10.4


def roofline_energy_table(name: str, pj_per_flop: float, pj_per_byte: float, source: str) -> EnergyTable:
    """The serving energy table of a roofline device (the xPU alone): its spec's pJ per FLOP and
    per DRAM byte, plus the row activations and NVLink bytes every serving step model counts."""
    return EnergyTable.from_dict({
        "version": 1, "name": f"{name}-serving",
        "entries": {
            "mac": {"flop": {"pj": pj_per_flop, "source": source}},
            "xpu_path": {"read_32b": {"pj": pj_per_byte * BURST_BYTES, "source": source},
                         "write_32b": {"pj": pj_per_byte * BURST_BYTES, "source": source}},
            "hbm": {"act": {"pj": HBM_ACT_PJ, "source": "FGDRAM (MICRO'17) Tab. 3 via Duplex src/dram/power.h"}},
            "nvlink": {"byte": {"pj": NVLINK_PJ_PER_BYTE, "source": "AttAcc src/config.py"}},
        }}, source=f"{name} spec")
