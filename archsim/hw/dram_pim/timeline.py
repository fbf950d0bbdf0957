"""The event table of a run: channel, bank and ASIC activity, and one span per generated token.

Tracks (1 cycle = one DRAM command-clock cycle):

* ``token``: one span per generated token (``kind`` ``decode_token``)
* ``pim.ch<c>``: per channel (scope), each PIM step it takes part in (``kind`` = the step kind:
  ``vmm``, ``score``, ``context``, ``kv_write``, ``embed``); ``util`` = its MAC-unit utilization
* ``pim.ch0.bank<b>``: the banks of channel 0, each step's span while the bank holds work (all
  banks of a scope move together under all-bank commands; idle units show ``util`` 0)
* ``asic``: ASIC operations and the exposed part of a PIM step's post-processing
* ``refresh``: the refresh penalties inside PIM steps

Detailed tracks are written for the first ``detail`` tokens (1 by default): a 1,024-token
generation of GPT-2 XL has 595 steps per token, and its token spans tell the rest.
"""

from __future__ import annotations

from archsim.engine import EventTable
from archsim.hw.dram_pim.device import CI, PimDevice
from archsim.hw.dram_pim.tokens import TokenRun


def event_table(device: PimDevice, tokens: list[TokenRun], *, meta: dict, generation: bool = True) -> EventTable:
    """Spans named by the graph op each step is reported under (``token[i]`` spans for a generation)."""
    sp = device.spec
    ev = EventTable(clock_hz=sp.standard.clock_hz, meta=meta)
    units = sp.units
    per_scope_units = sp.units_per_scope
    peak_per_cycle = sp.lanes_per_unit * sp.unit_clock_hz / sp.standard.clock_hz  # MACs per unit per DRAM cycle
    cols: dict[str, list] = {c: [] for c in ("start_cycle", "end_cycle", "unit", "op", "kind", "bytes", "macs",
                                             "util")}

    def add(s, e, unit, op, kind, nbytes=0, macs=0, util=0.0):
        if e <= s:
            return
        cols["start_cycle"].append(s)
        cols["end_cycle"].append(e)
        cols["unit"].append(unit)
        cols["op"].append(op)
        cols["kind"].append(kind)
        cols["bytes"].append(nbytes)
        cols["macs"].append(macs)
        cols["util"].append(min(1.0, util))

    bb = sp.standard.burst_bytes
    for tok in tokens if generation else ():
        add(tok.start, tok.end, "token", f"token[{tok.index}]", "decode_token",
            int(tok.counts[CI["mac_bursts"]]) * bb, tok.macs, 0.0)
    for tok in tokens:
        for sp_ in tok.spans or ():
            s, r = sp_.step, sp_.result
            name = s.row
            pim_end = sp_.start + sp_.pim_cycles
            if r.pim_cycles:
                macs_scope = r.macs / max(1, sum(1 for c in r.scope_cycles if c))
                for c, cyc in enumerate(r.scope_cycles):
                    if not cyc:
                        continue
                    util = macs_scope / (per_scope_units * peak_per_cycle * cyc) if s.kind in (
                        "vmm", "score", "context") else 0.0
                    add(sp_.start, sp_.start + cyc, f"pim.ch{c}", name, s.kind,
                        int(r.counts[CI["mac_bursts"]]) * bb // max(1, units) * per_scope_units, int(macs_scope), util)
                if r.scope_cycles and r.scope_cycles[0]:
                    u = r.macs / max(1, units) / (peak_per_cycle * r.scope_cycles[0]) if s.kind in (
                        "vmm", "score", "context") else 0.0
                    for b in range(sp.banks_per_scope):
                        add(sp_.start, sp_.start + r.scope_cycles[0], f"pim.ch0.bank{b}", name, s.kind, 0, 0, u)
                if sp_.refreshes:
                    add(pim_end - (sp_.pim_cycles - r.pim_cycles), pim_end, "refresh", name, "refresh")
            if r.asic_cycles:
                add(pim_end, pim_end + r.asic_cycles, "asic", name, "asic" if s.kind == "asic" else "post", 0, 0, 1.0)
    if cols["start_cycle"]:
        ev.extend(**cols)
    return ev
