"""Energy: the device's action counts priced per action (pJ), each figure with its source.

Actions (component class ``dram_pim_*``, from the step counters of :mod:`.device`):

* ``bank.activate``: bank activations (an all-bank ACT counts every bank) x ``act_pj``
* ``bank.read_bits`` / ``bank.write_bits``: bits read from the arrays into the units (MAC
  bursts, every unit of an all-bank MAC) or by RD, and written by WR x ``bank_*_pj_per_bit``
* ``unit.mac``: element multiply-accumulates the units perform (every lane of every unit an
  all-bank MAC reaches, useful or not) x ``mac_pj``
* ``gb.access_bits``: global-buffer bits written (WR_GB) and read (one burst per MAC command)
* ``io.bits``: bits over the channel pins between the ASIC and the PIM chips (WR_GB, RDMAC, RD, WR)
* ``asic.op``: ASIC element operations; ``asic_sram.bytes``: bytes through the ASIC's buffer
  (what crosses the pins, written once and read once)

Not modelled: DRAM background and refresh power (no trustworthy GDDR6 IDD values in Ramulator
2.1 or DRAMsim3, dram_pim.md section 2), ASIC leakage. The report says so.
"""

from __future__ import annotations

import numpy as np

from archsim.energy import EnergyTable
from archsim.engine import ActionCounts
from archsim.hw.dram_pim.spec import PimSpec


def _ci(name: str) -> int:
    from archsim.hw.dram_pim.device import CI

    return CI[name]


def action_counts(spec: PimSpec, counts: np.ndarray) -> ActionCounts:
    """The actions behind a counter vector (:data:`~.device.COUNTS`)."""
    c = {n: int(counts[_ci(n)]) for n in ("bank_activations", "mac_bursts", "mac_commands", "gb_bursts",
                                          "readout_bursts", "read_bursts", "write_bursts", "asic_ops")}
    bits = spec.standard.burst_bytes * 8
    io = c["gb_bursts"] + c["readout_bursts"] + c["read_bursts"] + c["write_bursts"]
    a = ActionCounts()
    a.add("pim.bank", "dram_pim_bank", "activate", c["bank_activations"])
    a.add("pim.bank", "dram_pim_bank", "read_bits", (c["mac_bursts"] + c["read_bursts"]) * bits)
    a.add("pim.bank", "dram_pim_bank", "write_bits", c["write_bursts"] * bits)
    a.add("pim.unit", "dram_pim_unit", "mac", c["mac_bursts"] * spec.elems_per_burst)
    a.add("pim.gb", "dram_pim_gb", "access_bits", (c["gb_bursts"] + c["mac_commands"]) * bits)
    a.add("pim.io", "dram_pim_io", "bits", io * bits)
    a.add("asic", "dram_pim_asic", "op", c["asic_ops"])
    a.add("asic.sram", "dram_pim_asic_sram", "bytes", 2 * io * spec.standard.burst_bytes)
    return a


def energy_table(spec: PimSpec) -> EnergyTable:
    src = spec.source or f"{spec.name} preset"
    e = lambda pj: {"pj": pj, "source": src}  # noqa: E731
    return EnergyTable.from_dict({
        "version": 1, "name": f"{spec.name}-dram-pim",
        "entries": {
            "dram_pim_bank": {"activate": e(spec.act_pj), "read_bits": e(spec.bank_read_pj_per_bit),
                              "write_bits": e(spec.bank_write_pj_per_bit)},
            "dram_pim_unit": {"mac": e(spec.mac_pj)},
            "dram_pim_gb": {"access_bits": e(spec.gb_pj_per_bit)},
            "dram_pim_io": {"bits": e(spec.io_pj_per_bit)},
            "dram_pim_asic": {"op": e(spec.asic_op_pj)},
            "dram_pim_asic_sram": {"bytes": e(spec.asic_sram_pj_per_byte)},
        }}, source=f"{spec.name} spec")


def step_energy_pj(spec: PimSpec, counts: np.ndarray) -> float:
    """pJ of a counter vector (the same as pricing :func:`action_counts` with :func:`energy_table`)."""
    a = action_counts(spec, counts)
    price = {("dram_pim_bank", "activate"): spec.act_pj, ("dram_pim_bank", "read_bits"): spec.bank_read_pj_per_bit,
             ("dram_pim_bank", "write_bits"): spec.bank_write_pj_per_bit, ("dram_pim_unit", "mac"): spec.mac_pj,
             ("dram_pim_gb", "access_bits"): spec.gb_pj_per_bit, ("dram_pim_io", "bits"): spec.io_pj_per_bit,
             ("dram_pim_asic", "op"): spec.asic_op_pj, ("dram_pim_asic_sram", "bytes"): spec.asic_sram_pj_per_byte}
    return float(sum(n * price[(cls, act)] for (_, cls, act), n in a.counts.items()))
