"""Systolic-array accelerator model (OS/WS/IS; physical and SCALE-Sim conventions)."""

from __future__ import annotations

import argparse

from archsim.arch.registry import ArchPlugin
from archsim.hw.systolic.spec import CONVENTIONS, DATAFLOWS, SystolicSpec


def _run_arguments(g: argparse._ArgumentGroup) -> None:
    g.add_argument("--dataflow", choices=DATAFLOWS, help="override the spec's dataflow")
    g.add_argument("--convention", choices=CONVENTIONS, help="cycle convention (default physical)")
    g.add_argument("--mapping", help="execute this mapping file (archsim map): its schedule and its DRAM traffic")
    g.add_argument("--dram", help="DRAM standard behind the DMA engine at the event level (archsim dram standards)")
    g.add_argument("--dram-channels", type=int, help="DRAM channels with --dram (default 1)")


def _simulate(graph, spec, **kw):
    from archsim.hw.systolic.model import simulate

    return simulate(graph, spec, **kw)


PLUGIN = ArchPlugin(
    kind="systolic",
    spec_cls=SystolicSpec,
    simulate=_simulate,
    add_run_arguments=_run_arguments,
    options=("mapping",),
    spec_overrides=("dataflow", "convention", "dram", "dram_channels"),
    description="systolic-array accelerator",
)
