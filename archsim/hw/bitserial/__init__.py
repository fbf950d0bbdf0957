"""Bit-serial mixed-datatype LLM accelerator (BitMoD, HPCA'25) and its bit-parallel baselines
(FP16, ANT, OliVe), with block-floating-point KV-cache options. Presets: ``bitmod``, ``fp16``,
``ant``, ``olive``. See docs/bitserial_bfp.md."""

from __future__ import annotations

import argparse

from archsim.arch.registry import ArchPlugin
from archsim.argtypes import positive_float, positive_int
from archsim.hw.bitserial.spec import CONVENTIONS, BitSerialSpec


def _run_arguments(g: argparse._ArgumentGroup) -> None:
    g.add_argument("--weight-format", help="weight number format (bitmod: bitmod-fp4, bitmod-fp3, fp4-er, fp3-ea, "
                   "int8, int6, int4, ...; see archsim.numerics)")
    g.add_argument("--weight-bits", type=positive_float, help="stored bits per weight, overriding the format's "
                   "(mixed-precision baselines, e.g. ANT 5.25)")
    g.add_argument("--kv-format", help="KV-cache format (int8, fp16, bfp12, bfp16, mxint8, ...)")
    g.add_argument("--kv-block", type=positive_int, help="block/group size of the KV-cache format")
    g.add_argument("--sort-channels", action="store_true", help="K-sort: key channels sorted by norm at compile time")
    g.add_argument("--bitserial-convention", choices=CONVENTIONS,
                   help="physical (default) or bitmod-sim (the BitMoD artifact's published numbers)")


def _simulate(graph, spec, **kw):
    from archsim.hw.bitserial.model import simulate

    return simulate(graph, spec, **kw)


PLUGIN = ArchPlugin(
    kind="bitserial",
    spec_cls=BitSerialSpec,
    simulate=_simulate,
    add_run_arguments=_run_arguments,
    options=("bitserial_convention",),
    spec_overrides=("weight_format", "weight_bits", "kv_format", "kv_block", "sort_channels"),
    description="bit-serial / bit-parallel LLM accelerator (BitMoD and baselines)",
)
