"""DRAM-PIM: in-bank MAC units on the DRAM timing model, and PIM-GPT's hybrid PIM + ASIC device
(``kind: dram_pim``; presets ``pim-gpt``, ``hbm-pim``, ``aim``). See docs/dram_pim.md.

* :mod:`.spec`: :class:`PimSpec`; :mod:`.commands`: the PIM command set on the standard's timing table
* :mod:`.mapping`: GEMV partitioning (weights, K row-major, V column-major) into scope programs
* :mod:`.executor` (event), :mod:`.analytic` (closed form), :mod:`.reference` (cycle-stepped oracle)
* :mod:`.asic`: the ASIC's latency model; :mod:`.plan`, :mod:`.device`, :mod:`.tokens`: decode steps
  and the token timeline; :mod:`.model`: ``simulate`` -> RunResult; :mod:`.unit`: the MAC unit's
  cycle model (rtl/pim_mac)
"""

from __future__ import annotations

import argparse

from archsim.arch.registry import ArchPlugin
from archsim.argtypes import positive_int
from archsim.hw.dram_pim.spec import REFRESH, PimSpec


def _run_arguments(g: argparse._ArgumentGroup) -> None:
    from archsim.workload.generation import add_tokens_argument

    add_tokens_argument(g)
    g.add_argument("--pim-channels", type=positive_int, help="DRAM channels of the PIM device")
    g.add_argument("--pim-lanes", type=positive_int, help="MAC lanes per PIM unit")
    g.add_argument("--nccdab", type=positive_int, help="all-bank MAC interval in DRAM cycles (power limit)")
    g.add_argument("--asic-clock-hz", type=positive_int, help="clock of the PIM device's ASIC")
    g.add_argument("--pim-refresh", choices=REFRESH, help="all-bank refresh or none")


def _simulate(graph, spec, **kw):
    from archsim.hw.dram_pim.model import simulate

    return simulate(graph, spec, **kw)


PLUGIN = ArchPlugin(
    kind="dram_pim",
    spec_cls=PimSpec,
    simulate=_simulate,
    add_run_arguments=_run_arguments,
    options=("tokens",),
    spec_overrides=("pim_channels", "pim_lanes", "nccdab", "asic_clock_hz", "pim_refresh"),
    description="DRAM-PIM: in-bank MAC units + ASIC (PIM-GPT, HBM-PIM, AiM)",
)
