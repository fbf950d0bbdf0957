"""Scratchpad-mapping benchmark: solve time and optimality gap against graph size.

Four families (archsim.mapping.synthetic): a chain, Inception-like branchy modules, transformer
layers and random NASNet-style cells, from 10 to 1000 ops, at COSMA's tight budgets M_R (the
single-op minimum) and M_H (halfway to the min-peak budget). Each run is one call of the
optimizer with the default method (whole-graph model up to 1200 ops), then the 1000-op graphs
again with divide and conquer. Targets (issue 4): up to 200 ops proven optimal in under 10 s,
1000 ops within 5 % of the bound in under 60 s, on 2 cores.

Reports per run: status, non-compulsory bytes of the plan, the bound (over all schedules), the
gap, the divide-and-conquer segment bound where there is one, seconds, the best baseline and the
reduction; then the targets met, and the wall seconds per deterministic work unit CP-SAT showed
(the calibration of archsim.mapping.solver). Run: ``make bench`` or
``python benchmarks/bench_mapping.py [--sizes 10,30,100] [--families nas] [--json FILE]``.
"""

from __future__ import annotations

import argparse
import json
import platform
import time

from archsim.mapping.api import mem_problem
from archsim.mapping.optimize import MapOptions, optimize
from archsim.mapping.synthetic import FAMILIES, family_graph
from archsim.report.tables import format_table

SIZES = (10, 30, 100, 200, 500, 1000)
BUDGETS = ("M_R", "M_H")


def limit_for(n: int) -> float:
    return 10.0 if n <= 200 else 60.0


def run_one(family: str, n: int, budget: str, method: str = "auto", seed: int = 0) -> dict:
    g = family_graph(family, n, seed)
    p = mem_problem(g, budget)
    t0 = time.perf_counter()
    r = optimize(p, MapOptions(time_limit_s=limit_for(n), method=method))
    secs = time.perf_counter() - t0
    base = r.best_baseline
    det = r.stats.deterministic_time
    return {
        "family": family, "ops": n, "budget": budget, "scratchpad_bytes": p.scratchpad_bytes, "method": r.method,
        "status": r.status, "non_compulsory_bytes": r.cost.non_compulsory_bytes, "bound_bytes": r.bound_bytes,
        "gap_pct": 100 * (r.stats.gap or 0.0), "segment_bound_bytes": r.segment_bound_bytes,
        "segment_gap_pct": None if r.segment_gap is None else 100 * r.segment_gap,
        "seconds": secs, "baseline": base.name, "baseline_bytes": base.cost.non_compulsory_bytes,
        "reduction_pct": r.reduction_pct, "wall_limited": r.stats.wall_limited,
        "solver_wall_s": sum(ph["wall_time_s"] for ph in r.phases), "det_units": det,
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default=",".join(map(str, SIZES)))
    ap.add_argument("--families", default=",".join(FAMILIES))
    ap.add_argument("--budgets", default=",".join(BUDGETS))
    ap.add_argument("--no-divide", action="store_true", help="skip the divide-and-conquer runs at 1000 ops")
    ap.add_argument("--json", help="also write the rows to this file")
    args = ap.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")]
    rows = []
    for fam in args.families.split(","):
        for n in sizes:
            for b in args.budgets.split(","):
                rows.append(run_one(fam, n, b))
                print(f"  {fam:12s} {n:5d} {b}  {rows[-1]['status']:9s} {rows[-1]['seconds']:7.2f} s", flush=True)
    if not args.no_divide and max(sizes) >= 1000:
        for fam in args.families.split(","):
            for b in args.budgets.split(","):
                rows.append(run_one(fam, 1000, b, method="divide"))
                print(f"  {fam:12s}  1000 {b}  divide {rows[-1]['status']:9s} {rows[-1]['seconds']:7.2f} s", flush=True)
    cols = ["family", "ops", "budget", "method", "status", "non_compulsory_bytes", "bound_bytes", "gap_pct",
            "segment_gap_pct", "seconds", "baseline_bytes", "reduction_pct"]
    heads = {"non_compulsory_bytes": "non-comp B", "bound_bytes": "bound B", "gap_pct": "gap %",
             "segment_gap_pct": "seg gap %", "baseline_bytes": "best baseline B", "reduction_pct": "reduction %"}
    print()
    print(format_table(rows, cols, headers=heads))
    small = [r for r in rows if r["ops"] <= 200 and r["method"] != "divide"]
    opt = [r for r in small if r["status"] == "OPTIMAL" and r["seconds"] < 10]
    print(f"\nup to 200 ops: {len(opt)}/{len(small)} proven optimal in under 10 s "
          f"(slowest {max((r['seconds'] for r in small), default=0):.2f} s)")
    for method in ("joint", "divide"):
        big = [r for r in rows if r["ops"] == 1000 and r["method"] == method]
        if big:
            ok = [r for r in big if r["gap_pct"] <= 5 and r["seconds"] < 60]
            seg = [r for r in big if r["segment_gap_pct"] is not None and r["segment_gap_pct"] <= 5
                   and r["seconds"] < 60]
            print(f"1000 ops ({method}): {len(ok)}/{len(big)} within 5 % of the all-schedules bound in under 60 s"
                  + (f"; {len(seg)} more within 5 % of their segment-sequence bound" if seg else "")
                  + f" (slowest {max(r['seconds'] for r in big):.1f} s)")
    det = sum(r["det_units"] for r in rows)
    wall = sum(r["solver_wall_s"] for r in rows)
    limited = sum(r["wall_limited"] for r in rows)
    reds = [r["reduction_pct"] for r in rows if r["reduction_pct"] is not None]
    if reds:
        print(f"reduction of non-compulsory traffic against the best baseline: mean {sum(reds) / len(reds):.1f} % "
              f"over {len(reds)} runs where the baseline moves anything")
    if det:
        print(f"CP-SAT: {wall / det:.1f} wall s per deterministic unit over all solves; {limited} run(s) stopped by "
              "the wall-clock cap (results of those may vary between runs)")
    print(f"machine: {platform.processor() or platform.machine()}, python {platform.python_version()}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=1)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
