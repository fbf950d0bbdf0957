"""``archsim serve``: a request stream on an LLM system with continuous batching."""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

from archsim.argtypes import number, positive_int
from archsim.errors import InputError

NAME = "serve"
HELP = "serve a request stream on an LLM system with continuous batching (throughput, TTFT, TBT, E2E, energy)"


_rate_number = number(float, "requests per second (a positive number or inf)", lambda v: v > 0)
_fraction = number(float, "a fraction of the mean in [0, 10)", lambda v: 0 <= v < 10)


def _rate(text: str) -> float:
    """Requests per second; ``inf`` or ``closed`` for a closed loop."""
    return math.inf if text.lower() == "closed" else _rate_number(text)


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--arch", required=True, help="preset or spec .yaml of a kind with a step model (duplex, "
                   "bank-pim, bg-pim, h100, a100, ...)")
    p.add_argument("--workload", required=True, help="LLM name (archsim models) or HuggingFace config.json")
    p.add_argument("--rate", type=_rate, default=math.inf,
                   help="Poisson arrivals, requests per second; inf (default): all at once, a closed loop")
    p.add_argument("--input-len", type=positive_int, default=512, help="prompt tokens per request (default 512)")
    p.add_argument("--output-len", type=positive_int, default=512, help="generated tokens per request (default 512)")
    p.add_argument("--length-std", type=_fraction, default=0.0,
                   help="Gaussian lengths with this standard deviation, as a fraction of the mean (default 0: fixed)")
    p.add_argument("--max-batch", type=positive_int, default=64, help="most requests running at once (default 64)")
    p.add_argument("--requests", type=positive_int, default=1000, help="requests in the stream (default 1000)")
    p.add_argument("--trace", type=Path, help="CSV of requests (arrival_s, input_len, output_len) instead of Poisson")
    p.add_argument("--devices", type=positive_int, help="devices (default: the fewest, a power of two, holding "
                   "twice the weights)")
    p.add_argument("--expert-split", choices=("tp", "ep"), help="experts tensor- or expert-parallel (default: the "
                   "spec's; xPU systems ep)")
    p.add_argument("--routing", choices=("random", "balanced"), default="random",
                   help="expert routing: uniform random top-k per token (default, seeded) or balanced")
    p.add_argument("--seed", type=int, default=0, help="seed of arrivals, lengths and routing (default 0)")
    p.add_argument("--out", type=Path, help="directory for report.json, requests.csv, stages.csv, timeline")
    p.add_argument("--format", choices=("table", "json"), default="table", help="stdout format")


def run(args: argparse.Namespace) -> int:
    from archsim.serving import serve
    from archsim.serving.report import render_report_json, summary_text, write_serve

    result = serve(args.arch, args.workload, rate=args.rate, input_len=args.input_len, output_len=args.output_len,
                   max_batch=args.max_batch, requests=args.requests, seed=args.seed, length_std=args.length_std,
                   trace=args.trace, devices=args.devices, routing=args.routing, expert_split=args.expert_split)
    written = write_serve(result, args.out) if args.out is not None else {}
    if args.format == "json":
        sys.stdout.write(render_report_json(result))
        return 0
    sys.stdout.write(summary_text(result))
    if written:
        sys.stdout.write(f"\nwrote {len(written)} files to {args.out}/:\n")
        for _, path in sorted(written.items()):
            sys.stdout.write(f"  {path}\n")
    return 0


__all__ = ["NAME", "HELP", "add_arguments", "run", "InputError"]
