"""Duplex (MICRO'24): an xPU and Logic-PIM on the same HBM3 stacks (``kind: duplex``; presets
``duplex``, ``bank-pim``, ``bg-pim``). Bank-bundle timing on the DRAM engine
(:mod:`~archsim.hw.logic_pim.bundle`), the PIM units (:mod:`~archsim.hw.logic_pim.pim`), Op/B
dispatch and co-processing in the serving step model (:mod:`archsim.serving.step`), EDAP
(:mod:`~archsim.hw.logic_pim.edap`). See docs/logic_pim.md."""

from __future__ import annotations

import argparse

from archsim.arch.registry import ArchPlugin
from archsim.argtypes import positive_int
from archsim.hw.logic_pim.spec import EXPERT_SPLITS, PLACEMENTS, DuplexSpec


def _on_off(text: str) -> bool:
    if text not in ("on", "off"):
        raise argparse.ArgumentTypeError(f"expected on or off, got {text!r}")
    return text == "on"


def _run_arguments(g: argparse._ArgumentGroup) -> None:
    g.add_argument("--devices", type=positive_int,
                   help="devices in the system (default: the fewest, a power of two, with twice the weights in memory)")
    g.add_argument("--pim-placement", choices=PLACEMENTS, help="logic (Duplex), bankgroup, bank or none")
    g.add_argument("--co-processing", type=_on_off, metavar="on|off",
                   help="expert and attention co-processing on the xPU and the PIM at once (Duplex+PE)")
    g.add_argument("--expert-split", choices=EXPERT_SPLITS,
                   help="tp: experts tensor-parallel within a node (Duplex+ET); ep: expert parallel")


def _simulate(graph, spec, **kw):
    from archsim.hw.logic_pim.model import simulate

    return simulate(graph, spec, **kw)


def _step_model(spec, dims, **kw):
    from archsim.hw.logic_pim.stepper import step_model

    return step_model(spec, dims, **kw)


PLUGIN = ArchPlugin(
    kind="duplex",
    spec_cls=DuplexSpec,
    simulate=_simulate,
    add_run_arguments=_run_arguments,
    options=("devices",),
    spec_overrides=("pim_placement", "co_processing", "expert_split"),
    description="Duplex: xPU + Logic-PIM (or Bank/BankGroup-PIM) on shared HBM3 stacks",
    extra={"step_model": _step_model},
)
