"""cocotb helpers shared by the benches in rtl/: clock and reset, one-cycle drive/sample, and
packing of vector ports (element ``i`` of a packed port at bits ``[i*w +: w]``)."""

from __future__ import annotations

from cocotb.clock import Clock
from cocotb.triggers import FallingEdge, RisingEdge

PERIOD_NS = 10


def pack(values, width: int) -> int:
    """Pack signed or unsigned integers into one unsigned integer, element 0 in the low bits."""
    mask, out = (1 << width) - 1, 0
    for i, v in enumerate(values):
        out |= (int(v) & mask) << (i * width)
    return out


def unpack(value: int, width: int, count: int, signed: bool = True) -> list[int]:
    mask, half = (1 << width) - 1, 1 << (width - 1)
    out = []
    for i in range(count):
        x = (value >> (i * width)) & mask
        out.append(x - (1 << width) if signed and x & half else x)
    return out


def value_int(handle) -> int:
    """A signal's value as an unsigned integer (X/Z fail loudly: the RTL must not produce them)."""
    v = handle.value
    return v.to_unsigned() if hasattr(v, "to_unsigned") else int(v)


async def start(dut, idle: dict[str, int], reset_cycles: int = 2) -> None:
    """Start the clock, drive ``idle`` on the inputs, and hold ``rst`` for ``reset_cycles`` edges."""
    Clock(dut.clk, PERIOD_NS, unit="ns").start()
    for key in [k for k in _driven if k[0] == id(dut)]:
        del _driven[key]
    drive(dut, {**idle, "rst": 1})
    for _ in range(reset_cycles):
        await RisingEdge(dut.clk)
    await FallingEdge(dut.clk)
    drive(dut, {"rst": 0})


_driven: dict[tuple[int, str], int] = {}  # (id(dut), port) -> the value last driven


def drive(dut, inputs: dict[str, int]) -> None:
    """Set input ports (integers modulo the port width: two's complement); ports whose value does
    not change are not written again."""
    for name, value in inputs.items():
        handle = getattr(dut, name)
        v = int(value) & ((1 << len(handle)) - 1)
        key = (id(dut), name)
        if _driven.get(key) != v:
            handle.value = v
            _driven[key] = v


async def cycle(dut, inputs: dict[str, int]) -> None:
    """Drive ``inputs`` for the next rising edge and return half a period after it, when every
    register has its new value (sample after this returns). Inputs change and are sampled on
    falling edges only, so the design sees them stable around the rising edge."""
    drive(dut, inputs)
    await FallingEdge(dut.clk)
