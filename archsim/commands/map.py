"""``archsim map``: optimise a workload's schedule, scratchpad addresses and spills (COSMA)."""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

from archsim.argtypes import number, positive_int
from archsim.errors import InputError

NAME = "map"
HELP = "optimise schedule, scratchpad addresses and spills of a workload (ILP, COSMA) and write a mapping file"


_seconds = number(float, "a finite number of seconds >= 0", lambda v: 0 <= v < math.inf)
_gap = number(float, "a fraction in [0, 1)", lambda v: 0 <= v < 1)


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--workload", required=True,
                   help="model name (archsim models), graph .json (full or plain: ops with output_bytes, edges), "
                        "HF config.json, SCALE-Sim .csv")
    p.add_argument("--scratchpad-bytes",
                   help="scratchpad size: bytes (e.g. 1048576 or 1MiB) or a COSMA budget of the graph: M_R "
                        "(single-op minimum), M_P (min peak), M_H (halfway); default: the --arch's scratchpad")
    p.add_argument("--arch", help="take the scratchpad size from this architecture (systolic: ifmap + filter + "
                                  "ofmap SRAM, used as one unified buffer)")
    p.add_argument("--time-limit-s", type=_seconds, default=10.0, help="solver budget in seconds (default 10)")
    p.add_argument("--relative-gap", type=_gap, default=0.0,
                   help="stop a solve within this fraction of its bound (default 0: prove optimality)")
    p.add_argument("--method", choices=("auto", "joint", "divide"), default="auto",
                   help="joint (whole-graph model), divide (divide and conquer) or auto (default)")
    p.add_argument("--segment-ops", type=positive_int, default=None, help="ops per divide-and-conquer segment")
    p.add_argument("--align-bytes", type=positive_int, default=1, help="address alignment in bytes (default 1)")
    p.add_argument("--activations-only", action="store_true",
                   help="leave weights out of the scratchpad (COSMA's activations-only setting)")
    p.add_argument("--no-peak", action="store_true", help="do not minimise the peak (secondary objective)")
    p.add_argument("--seed", type=int, default=0, help="solver seed (default 0)")
    p.add_argument("--workers", type=positive_int, default=1,
                   help="solver threads; more than 1 needs --nondeterministic (default 1)")
    p.add_argument("--nondeterministic", action="store_true",
                   help="wall-clock time limits and racing --workers (not reproducible)")
    p.add_argument("--batch", type=positive_int, help="batch size")
    p.add_argument("--seq-len", type=positive_int, help="LLM sequence / context length")
    p.add_argument("--phase", choices=("prefill", "decode"), help="LLM phase")
    p.add_argument("--dtype", help="override the workload dtype (int8, fp16, bf16, fp32)")
    p.add_argument("--out", type=Path, help="mapping file to write (e.g. mappings/resnet18.json)")
    p.add_argument("--format", choices=("table", "json"), default="table", help="stdout: summary table or the mapping")


def _scratchpad(args: argparse.Namespace) -> int | str:
    from archsim.mapping.api import parse_scratchpad

    if args.scratchpad_bytes is not None:
        if args.arch is not None:
            raise InputError("--arch", None, "either --scratchpad-bytes or --arch, not both", args.arch)
        return parse_scratchpad(args.scratchpad_bytes)
    if args.arch is None:
        raise InputError("--scratchpad-bytes", None, "a scratchpad size (bytes, M_R, M_P or M_H) or --arch")
    from archsim.api import resolve_arch
    from archsim.mapping.execute import unified_scratchpad_bytes

    return unified_scratchpad_bytes(resolve_arch(args.arch), source="--arch")


def run(args: argparse.Namespace) -> int:
    from archsim.api import resolve_workload
    from archsim.mapping import MapOptions, map_graph
    from archsim.mapping.mapping_file import mapping_document, render_mapping, write_mapping
    from archsim.mapping.summary import mapping_summary

    if args.workers > 1 and not args.nondeterministic:
        raise InputError("--workers", None, "1 unless --nondeterministic (deterministic solves use one worker)",
                         args.workers)
    scratchpad = _scratchpad(args)
    graph = resolve_workload(args.workload, batch=args.batch, seq_len=args.seq_len, phase=args.phase,
                             dtype=args.dtype)
    kw = {} if args.segment_ops is None else {"segment_ops": args.segment_ops}
    options = MapOptions(time_limit_s=args.time_limit_s, relative_gap=args.relative_gap, workers=args.workers,
                         seed=args.seed, deterministic=not args.nondeterministic, minimize_peak=not args.no_peak,
                         method=args.method, **kw)
    result = map_graph(graph, scratchpad, options=options, align_bytes=args.align_bytes,
                       include_weights=not args.activations_only)
    doc = mapping_document(result, graph_params=graph.params)
    if args.out is not None:
        write_mapping(doc, args.out)
    if args.format == "json":
        sys.stdout.write(render_mapping(doc))
        return 0
    sys.stdout.write(mapping_summary(result))
    if args.out is not None:
        sys.stdout.write(f"wrote {args.out}\n")
    return 0
