"""``archsim replay``: re-run a recorded run's op trace on another architecture and compare."""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from archsim.arch.registry import plugins

NAME = "replay"
HELP = "re-run the op trace of a run directory (archsim run --out) on another architecture"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("run_dir", type=Path, help="run directory with report.json and events.csv")
    p.add_argument("--arch", required=True, help="preset name, spec .yaml or SCALE-Sim .cfg to replay on")
    p.add_argument("--level", choices=("analytic", "event", "cycle"), help="fidelity level (default: the recorded run's)")
    p.add_argument("--out", type=Path, help="directory for the new run and comparison.csv "
                   "(default: RUN_DIR-on-<arch name>)")
    p.add_argument("--format", choices=("table", "json"), default="table", help="stdout format")
    for plugin in plugins().values():
        if plugin.add_run_arguments is not None:
            plugin.add_run_arguments(p.add_argument_group(f"{plugin.kind} options"))


def run(args: argparse.Namespace) -> int:
    import json

    from archsim.dse.export import render_csv
    from archsim.dse.replay import COMPARISON_COLUMNS, replay
    from archsim.report import atomic_write_text, write_run
    from archsim.report.tables import format_table

    names = sorted({n for p in plugins().values() for n in p.options + p.spec_overrides})
    options = {n: getattr(args, n) for n in names if getattr(args, n, None) not in (None, False)}
    rr = replay(args.run_dir, args.arch, level=args.level, **options)
    arch_name = str(rr.result.arch.get("name", "arch"))
    out = args.out or args.run_dir.with_name(f"{args.run_dir.name}-on-{re.sub(r'[^A-Za-z0-9_.-]+', '_', arch_name)}")
    written = write_run(rr.result, out)
    written["comparison.csv"] = atomic_write_text(out / "comparison.csv", render_csv(rr.comparison, []))
    if args.format == "json":
        sys.stdout.write(json.dumps({"run_dir": str(args.run_dir), "out": str(out), "comparison": rr.comparison},
                                    indent=1) + "\n")
        return 0
    old = rr.old_report["arch"]
    sys.stdout.write(f"replay of {args.run_dir} ({rr.old_report['workload'].get('name')}, {len(rr.comparison) - 1} ops "
                     f"recorded on {old.get('name')}) on {arch_name}\n\n")
    cols = ["op", "kind", "old_cycles", "new_cycles", "cycles_ratio", "old_energy_pj", "new_energy_pj", "energy_ratio"]
    body, total = rr.comparison[:-1], rr.comparison[-1]
    sys.stdout.write(format_table(body, cols, footer=total, float_digits=3) + "\n")
    t = total
    if None not in (t["old_time_ns"], t["new_time_ns"], t["old_energy_pj"], t["new_energy_pj"]):
        sys.stdout.write(f"\ntotal time: {t['old_time_ns'] / 1e3:,.3f} us -> {t['new_time_ns'] / 1e3:,.3f} us; "
                         f"energy {t['old_energy_pj'] / 1e6:,.3f} uJ -> {t['new_energy_pj'] / 1e6:,.3f} uJ\n")
    sys.stdout.write(f"\nwrote {len(written)} files to {out}/ (comparison.csv: {', '.join(COMPARISON_COLUMNS)})\n")
    return 0
