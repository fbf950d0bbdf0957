"""Systolic-array accelerator model (OS/WS/IS; physical and SCALE-Sim conventions)."""

from __future__ import annotations

import argparse

from archsim.arch.registry import ArchPlugin
from archsim.hw.systolic.spec import CONVENTIONS, DATAFLOWS, SystolicSpec


def _run_arguments(g: argparse._ArgumentGroup) -> None:
    g.add_argument("--dataflow", choices=DATAFLOWS, help="override the spec's dataflow")
    g.add_argument("--convention", choices=CONVENTIONS, help="cycle convention (default physical)")
    g.add_argument("--mapping", help="execute this mapping file (archsim map): its schedule and its DRAM traffic")


def _simulate(graph, spec, **kw):
    from archsim.hw.systolic.model import simulate

    return simulate(graph, spec, **kw)


PLUGIN = ArchPlugin(
    kind="systolic",
    spec_cls=SystolicSpec,
    simulate=_simulate,
    add_run_arguments=_run_arguments,
    options=("mapping",),
    spec_overrides=("dataflow", "convention"),
    description="systolic-array accelerator",
)
