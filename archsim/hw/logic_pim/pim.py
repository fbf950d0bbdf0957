"""The PIM of one Duplex device: its peak FLOP rate and the cost of a stream over all its
pseudo-channels, from the spec and the bank-bundle timing (:mod:`archsim.hw.logic_pim.bundle`).

* ``logic`` / ``bankgroup``: ``pim_units_per_stack`` GEMM modules of ``pim_macs_per_unit`` MACs
  (one per pseudo-channel in Duplex: 32 x 512), clocked at ``clock_hz / tCCD_S`` (HBM3 5.2 Gb/s:
  1.3 GHz / 2 = 650 MHz, Duplex Sec. VI). Per stack 32 x 512 x 2 x 650 MHz = 21.3 TFLOPS against
  32 x 256 B / tCCD_L = 2.66 TB/s of bundle bandwidth: 8 FLOP/B.
* ``bank``: ``pim_macs_per_bank`` MACs next to each of the 32 banks of a pseudo-channel at the
  same clock: 8 MACs take the 16 FP16 values a bank delivers per tCCD_L in 2 cycles, 1 FLOP/B.

A stream of ``n`` bytes is spread evenly over the ``stacks x pch_per_stack`` pseudo-channels,
which work in parallel; its time is one pseudo-channel's stream of ``ceil(n / channels)`` bytes.

On-die buffers: the inputs of a GEMM (``tokens x k`` FP16 values) are held in one of the stack's
two shared buffers (Duplex Sec. VII-E: two 1 MB buffers, inputs and temporary results), so a pass
over the weights serves ``buffer / (2 k)`` tokens; more tokens take more passes (each re-reads the
weights).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from archsim.hw.dram.standard import DramStandard
from archsim.hw.logic_pim import bundle
from archsim.hw.logic_pim.spec import DuplexSpec
from archsim.serving.units import StreamCost


@dataclass(frozen=True)
class PimDevice:
    """The PIM units of one device (see the module docstring); ``level`` picks the closed-form
    (``analytic``) or command-level (``event``) stream."""

    name: str
    placement: str
    std: DramStandard
    stacks: int
    pch_per_stack: int
    macs_per_stack: int
    refresh: bool
    act_power_limit: bool
    input_buffer_bytes: int = 2**20
    level: str = "analytic"

    @classmethod
    def from_spec(cls, spec: DuplexSpec, level: str = "analytic") -> PimDevice:
        std = bundle.load_pch_standard(spec.dram_standard)
        if spec.pim_placement == "bank":
            macs = spec.pch_per_stack * std.banks * spec.pim_macs_per_bank
        else:
            macs = spec.pim_units_per_stack * spec.pim_macs_per_unit
        return cls(f"{spec.pim_placement}-pim", spec.pim_placement, std, spec.stacks, spec.pch_per_stack, macs,
                   spec.refresh == "all-bank", spec.pim_act_power_limit, spec.pim_shared_buffer_bytes // 2, level)

    @property
    def read_class(self) -> str:
        return f"{self.placement}_pim_path"

    @property
    def mac_class(self) -> str:
        """Energy class of a FLOP: ``mac`` on the logic die, ``dram_mac`` for units in the DRAM
        process (Bank-PIM, BankGroup-PIM; see duplex-energy.yaml)."""
        return "mac" if self.placement == "logic" else "dram_mac"

    @property
    def clock_hz(self) -> float:
        """The PIM clock: one cycle per tCCD_S of the DRAM."""
        return self.std.clock_hz / self.std.t("tCCD_S")

    @property
    def flops_per_s_per_stack(self) -> float:
        return 2.0 * self.macs_per_stack * self.clock_hz

    @property
    def flops_per_s(self) -> float:
        return self.flops_per_s_per_stack * self.stacks

    @property
    def channels(self) -> int:
        return self.stacks * self.pch_per_stack

    def tokens_per_pass(self, k: int, dtype_bytes: int = 2) -> int:
        """Tokens whose ``k``-element inputs fit the input buffer at once (at least 1)."""
        return max(1, self.input_buffer_bytes // (k * dtype_bytes))

    def peak_bytes_per_s(self, ways: int = 2) -> float:
        """Row-hit rate of the device's PIM path (every pseudo-channel)."""
        path = bundle.pim_path(self.std, self.placement, ways)
        return bundle.pim_bytes_per_cycle(self.std, path) * self.std.clock_hz * self.channels

    def stream(self, nbytes: float, ways: int) -> StreamCost:
        if nbytes <= 0:
            return StreamCost(0.0, 0.0, 0.0, 0.0)
        path = bundle.pim_path(self.std, self.placement, ways if self.placement != "bank" else 1)
        per = math.ceil(nbytes / self.channels)
        s = bundle.stream(self.std, path, per, level=self.level, refresh=self.refresh,
                          act_power_limit=self.act_power_limit)
        n = self.channels
        return StreamCost(s.cycles * self.std.tck_ns, s.acts * n, s.reads * n, s.refreshes * n)
