"""``archsim run``: simulate a workload on an architecture and report it."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from archsim.arch.registry import plugins
from archsim.argtypes import positive_int
from archsim.errors import InputError

NAME = "run"
HELP = "simulate a workload on an architecture"


def add_arguments(r: argparse.ArgumentParser) -> None:
    r.add_argument("--arch", required=True, help="preset name (archsim presets), spec .yaml or SCALE-Sim .cfg")
    r.add_argument("--workload", help="model name (archsim models), graph/config .json, SCALE-Sim topology .csv, .onnx")
    r.add_argument("--level", choices=("analytic", "event", "cycle"), default="event", help="fidelity level")
    r.add_argument("--batch", type=positive_int, help="batch size")
    r.add_argument("--seq-len", type=positive_int, help="LLM sequence / context length")
    r.add_argument("--phase", choices=("prefill", "decode"), help="LLM phase")
    r.add_argument("--dtype", help="override the workload dtype (int8, fp16, bf16, fp32)")
    r.add_argument("--seed", type=int, default=0, help="seed for any random choice (default 0)")
    r.add_argument("--out", type=Path, help="directory for report.json, ops.csv, events.csv, timeline, plots")
    r.add_argument("--format", choices=("table", "json"), default="table", help="stdout format")
    r.add_argument("--parquet", action="store_true", help="also write events.parquet (needs archsim[parquet])")
    for plugin in plugins().values():
        if plugin.add_run_arguments is not None:
            plugin.add_run_arguments(r.add_argument_group(f"{plugin.kind} options"))


def _kind_options(args: argparse.Namespace) -> dict:
    names = {n for p in plugins().values() for n in p.options + p.spec_overrides}
    return {n: getattr(args, n) for n in sorted(names) if getattr(args, n, None) not in (None, False)}


def run(args: argparse.Namespace) -> int:
    from archsim.api import run as api_run

    result = api_run(args.arch, args.workload, level=args.level, seed=args.seed, batch=args.batch,
                     seq_len=args.seq_len, phase=args.phase, dtype=args.dtype, **_kind_options(args))
    written = {}
    if args.out is not None:
        from archsim.report import write_run

        written = write_run(result, args.out, parquet=args.parquet)
        exporter = result.model_data.get("extra_exporter")
        if exporter is not None:
            written.update(exporter(result, args.out))
    if args.format == "json":
        from archsim.report.json_report import render_report_json

        sys.stdout.write(render_report_json(result))
        return 0
    summary = result.model_data.get("summary")
    if summary is None:
        from archsim.report.summary import summary_text

        summary = summary_text
    sys.stdout.write(summary(result))
    if written:
        sys.stdout.write(f"\nwrote {len(written)} files to {args.out}/:\n")
        for _, path in sorted(written.items()):
            sys.stdout.write(f"  {path}\n")
    return 0


__all__ = ["NAME", "HELP", "add_arguments", "run", "positive_int", "InputError"]
