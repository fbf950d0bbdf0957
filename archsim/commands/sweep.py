"""``archsim sweep``: run (or resume) a design-space sweep into a directory."""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

from archsim.argtypes import positive_int

NAME = "sweep"
HELP = "run or resume a design-space sweep (SPEC.yaml) into a result store"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("spec", type=Path, help="sweep spec .yaml (base arch, workloads, axes, level)")
    p.add_argument("--out", type=Path, required=True,
                   help="directory for results.sqlite, results.csv, sweep.json (rerun to resume)")
    p.add_argument("--executor", choices=("local", "dask"), default="local",
                   help="local process pool (default) or Dask distributed")
    p.add_argument("--workers", type=positive_int,
                   help="worker processes (local pool or Dask LocalCluster; default: all CPUs)")
    p.add_argument("--scheduler", help="Dask scheduler address tcp://HOST:PORT (default: start a LocalCluster)")
    p.add_argument("--chunk-size", type=positive_int, help="points per task (default: ~8 tasks per worker, <= 64)")
    p.add_argument("--retry-errors", action="store_true", help="run stored error points again")
    p.add_argument("--parquet", action="store_true", help="also write results.parquet (needs archsim[parquet])")
    bar = p.add_mutually_exclusive_group()
    bar.add_argument("--progress", dest="progress", action="store_true", default=None,
                     help="progress bar (needs archsim[progress]; default: on when stderr is a terminal)")
    bar.add_argument("--no-progress", dest="progress", action="store_false", help="no progress bar")


def run(args: argparse.Namespace) -> int:
    from archsim.dse.spec import load_sweep
    from archsim.dse.sweep import run_sweep

    if args.scheduler and args.executor != "dask":
        from archsim.errors import InputError

        raise InputError("--scheduler", None, "--executor dask with a scheduler address", args.scheduler)
    spec = load_sweep(args.spec)
    res = run_sweep(spec, args.out, executor=args.executor, workers=args.workers, scheduler=args.scheduler,
                    chunk_size=args.chunk_size, retry_errors=args.retry_errors, progress=args.progress,
                    parquet=args.parquet)
    out = sys.stdout
    out.write(f"sweep {spec.name}: {res.points:,} points ({spec.kind}, level {spec.level}); "
              f"{res.stored_before:,} already stored, {res.ran:,} run on {res.executor}\n")
    if res.ran:
        out.write(f"ran {res.ran:,} points in {res.wall_s:.2f} s: {res.points_per_min:,.0f} points/min\n")
    out.write(f"rows: {res.ok:,} ok, {res.errors:,} errors\n")
    if res.errors:
        common = Counter(r["error"] for r in res.rows if r["status"] == "error").most_common(3)
        for text, n in common:
            out.write(f"  {n} x {text}\n")
    out.write(f"wrote {', '.join(str(p) for p in res.files.values())}\n")
    return 0
