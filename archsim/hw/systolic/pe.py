"""The int8 MAC processing element, one clock edge per :meth:`MacPE.step` (the model of rtl/mac_pe).

Registers: ``a`` (int8 operand forwarded right) with its ``a_v`` (valid) and ``a_last`` (last beat of
the stream) bits, ``b`` (OS: int8 operand forwarded down; WS: the stationary weight) with ``b_v``, and
``acc`` (OS: the accumulator; WS: the partial sum passed down), ``acc_bits`` wide, two's-complement
wrap-around. Per edge, with every register read as 0 when ``clr`` is set (the first beat of a fold
sees an empty PE):

* ``en = 0``: hold.
* OS (``mode = 0``): ``a, a_v, a_last, b, b_v <= inputs``; ``acc <= acc + a_in * b_in`` when both
  inputs are valid. With ``drain``: ``acc <= psum_in`` (the accumulator of the PE above shifts
  down) and the operand registers hold.
* WS (``mode = 1``): with ``load``: ``b <= b_in`` (the stationary block shifts down) and the rest
  holds. Otherwise ``a, a_v, a_last <= inputs``, ``b, b_v`` hold and
  ``acc <= psum_in + a_in * b`` (the product only when ``a_v_in``).

``rst`` clears every register. :class:`~archsim.hw.systolic.cycle.PEArray` is a grid of these PEs
(tests/rtl/test_pe_model.py steps both side by side).
"""

from __future__ import annotations

REGISTERS = ("a", "a_v", "a_last", "b", "b_v", "acc")
INPUTS = ("rst", "en", "clr", "mode", "load", "drain", "a_in", "a_v_in", "a_last_in", "b_in", "b_v_in", "psum_in")


def wrap(value: int, bits: int) -> int:
    """``value`` as a ``bits``-wide two's-complement integer."""
    half = 1 << (bits - 1)
    return ((int(value) + half) % (1 << bits)) - half


class MacPE:
    """An int8 MAC PE with output-stationary and weight-stationary modes."""

    def __init__(self, acc_bits: int = 32):
        if acc_bits < 17:
            raise ValueError(f"acc_bits must be at least 17 (a 16-bit product plus sign), got {acc_bits}")
        self.acc_bits = acc_bits
        self.reset()

    def reset(self) -> None:
        self.a = self.a_v = self.a_last = self.b = self.b_v = self.acc = 0

    def state(self) -> dict[str, int]:
        return {name: getattr(self, name) for name in REGISTERS}

    def view(self, clr: int) -> dict[str, int]:
        """The registers as the PE's neighbours and its own next-state logic see them this cycle."""
        return dict.fromkeys(REGISTERS, 0) if clr else self.state()

    def step(self, *, rst: int = 0, en: int = 1, clr: int = 0, mode: int = 0, load: int = 0, drain: int = 0,
             a_in: int = 0, a_v_in: int = 0, a_last_in: int = 0, b_in: int = 0, b_v_in: int = 0,
             psum_in: int = 0) -> dict[str, int]:
        """One rising clock edge; returns the registers after it."""
        if rst:
            self.reset()
            return self.state()
        if not en:
            return self.state()
        q = self.view(clr)
        a_in, b_in = wrap(a_in, 8), wrap(b_in, 8)
        psum_in = wrap(psum_in, self.acc_bits)
        a_v_in, a_last_in, b_v_in = int(bool(a_v_in)), int(bool(a_last_in)), int(bool(b_v_in))
        nxt = dict(q)
        if not mode:  # output stationary
            if drain:
                nxt["acc"] = psum_in
            else:
                nxt.update(a=a_in, a_v=a_v_in, a_last=a_last_in, b=b_in, b_v=b_v_in)
                nxt["acc"] = wrap(q["acc"] + (a_in * b_in if a_v_in and b_v_in else 0), self.acc_bits)
        elif load:  # weight stationary: shift the stationary block down
            nxt["b"] = b_in
        else:
            nxt.update(a=a_in, a_v=a_v_in, a_last=a_last_in)
            nxt["acc"] = wrap(psum_in + (a_in * q["b"] if a_v_in else 0), self.acc_bits)
        for name, value in nxt.items():
            setattr(self, name, value)
        return self.state()

    def line_trace(self) -> str:
        v = "v" if self.a_v else "."
        return f"a={self.a:4d}{v} b={self.b:4d}{'v' if self.b_v else '.'} acc={self.acc}"
