"""KV cache in storage: InstInfer's in-storage attention on computational storage drives and the
FlexGen offloading baseline (``kind: storage``; presets ``instinfer`` and ``flexgen``)."""

from __future__ import annotations

import argparse

from archsim.arch.registry import ArchPlugin
from archsim.argtypes import positive_int
from archsim.hw.storage.spec import StorageSpec


def _run_arguments(g: argparse._ArgumentGroup) -> None:
    g.add_argument("--drives", type=positive_int, help="computational storage drives holding the KV cache")
    g.add_argument("--sparse", action="store_true", default=None,
                   help="sparse in-storage attention (SparQ-style top-r channels / top-k tokens)")
    g.add_argument("--micro-batches", type=positive_int,
                   help="GPU batches the batch is split into (overlap GPU and drive work)")


def _simulate(graph, spec, **kw):
    from archsim.hw.storage.model import simulate

    return simulate(graph, spec, **kw)


PLUGIN = ArchPlugin(
    kind="storage",
    spec_cls=StorageSpec,
    simulate=_simulate,
    add_run_arguments=_run_arguments,
    spec_overrides=("drives", "sparse", "micro_batches"),
    description="KV cache in storage: in-storage attention (InstInfer) or offloading (FlexGen)",
)
