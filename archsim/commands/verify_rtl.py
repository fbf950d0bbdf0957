"""``archsim verify-rtl``: co-verify the Verilog blocks in rtl/ against their Python models.

Runs each block's cocotb bench (the same runner the tests use) for its configurations and prints
one row per run: block, parameters, simulator, cycles compared, result. Exit 0 when every run
passes, 1 when any fails, 2 for bad input or a simulator that is missing or too old.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from archsim.errors import InputError

NAME = "verify-rtl"
HELP = "co-verify the RTL blocks (rtl/) against their Python models with cocotb"


def add_arguments(p: argparse.ArgumentParser) -> None:
    from archsim.rtl.blocks import BLOCKS
    from archsim.rtl.runner import SIMULATORS

    p.add_argument("--sim", choices=SIMULATORS, default="icarus", help="simulator (default icarus)")
    p.add_argument("--block", choices=sorted(BLOCKS), action="append",
                   help="block to verify (repeatable; default: every block)")
    p.add_argument("--param", action="append", default=[], metavar="NAME=VALUE",
                   help="run this parameter set instead of the block's default configurations (repeatable)")
    p.add_argument("--all", action="store_true", help="also the larger configurations (e.g. an 8x8 array)")
    p.add_argument("--seed", type=int, default=0, help="stimulus seed (default 0)")
    p.add_argument("--min-cycles", type=int, default=1000,
                   help="random stimulus until at least this many cycles per configuration and mode (default 1000)")
    p.add_argument("--build-dir", type=Path, help="root of the build directories (default sim_build/ in the source tree)")
    p.add_argument("--waves", action="store_true", help="dump waveforms (same as WAVES=1)")
    p.add_argument("-v", "--verbose", action="store_true", help="print what each run checked")


def _params(items: list[str]) -> dict[str, int]:
    out = {}
    for item in items:
        name, eq, value = item.partition("=")
        try:
            out[name.strip()] = int(value)
        except ValueError:
            raise InputError("--param", None, "NAME=INTEGER (e.g. ROWS=8)", item) from None
        if not eq or not name.strip():
            raise InputError("--param", None, "NAME=INTEGER (e.g. ROWS=8)", item)
    return out


def _plan(args: argparse.Namespace) -> list[tuple[object, dict]]:
    from archsim.rtl.blocks import BLOCKS

    names = args.block or sorted(BLOCKS)
    explicit = _params(args.param)
    plan = []
    for name in names:
        blk = BLOCKS[name]
        configs = [explicit] if explicit else list(blk.configs) + (list(blk.slow_configs) if args.all else [])
        for cfg in configs:
            try:
                plan.append((blk, blk.resolve(cfg)))
            except ValueError as e:
                raise InputError("--param", None, "parameters the block has, within their limits", str(e)) from None
    return plan


def run(args: argparse.Namespace) -> int:
    from archsim.rtl.blocks import describe, rtl_root
    from archsim.rtl.runner import SimulatorUnavailable, run_block, simulator_status

    if args.min_cycles < 1:
        raise InputError("--min-cycles", None, "a positive integer", args.min_cycles)
    if not rtl_root().is_dir():
        raise InputError(rtl_root(), None, "the rtl/ directory of an archsim source checkout (or set ARCHSIM_RTL_DIR)")
    plan = _plan(args)
    status = simulator_status(args.sim)
    if not status.available:
        raise InputError("--sim", None, f"an installed simulator ({status.reason})", args.sim)
    sim_label = f"{args.sim} {status.version or ''}".strip()
    head = ("block", "parameters", "simulator", "cycles compared", "result")
    widths = [max(len(head[0]), *(len(b.name) for b, _ in plan)),
              max(len(head[1]), *(len(describe(p)) for _, p in plan)), max(len(head[2]), len(sim_label)), len(head[3])]

    def line(cells) -> str:
        return "  ".join(str(c).ljust(w) for c, w in zip(cells, widths)) + f"  {cells[-1]}"

    print(line(head))
    failed = 0
    for blk, params in plan:
        try:
            res = run_block(blk, args.sim, params, seed=args.seed, build_root=args.build_dir,
                            waves=True if args.waves else None, min_cycles=args.min_cycles)
        except SimulatorUnavailable as e:
            raise InputError("--sim", None, f"an installed simulator ({e})", args.sim) from None
        result = "pass" if res.passed else f"FAIL: {res.message}"
        failed += not res.passed
        print(line((blk.name, res.parameters, sim_label, res.cycles_compared, result)), flush=True)
        if args.verbose:
            for check in res.checks if res.passed else ():
                print(f"    {check}")
            print(f"    build dir: {res.build_dir} ({res.seconds:.1f} s)")
        elif not res.passed:
            print(f"    log: {res.log}")
    print(f"{len(plan) - failed} of {len(plan)} passed", file=sys.stderr)
    return 1 if failed else 0
