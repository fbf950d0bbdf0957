"""Systolic-array speed benchmark: all ResNet-50 layers on a 128x128 array, each dataflow.

* ``scalesim`` convention: every layer as SCALE-Sim v2 would run it (the 54-layer topology in
  tests/golden/scalesim/topologies/resnet50.csv, 6144/6144/2048 KB SRAMs), checked number for
  number against the SCALE-Sim golden run, timed with and without archsim's memoization of
  identical layers, and compared with the wall time SCALE-Sim itself took (recorded when the
  golden file was made, on a 2-core machine of the same class).
* ``physical`` convention: the ResNet-50 graph (72 ops) on the tpu-like-128 preset at the
  analytic and event levels.

Reports wall seconds, layers/s and simulated cycles/s. Run: ``make bench`` (or
``python benchmarks/bench_systolic.py [--repeat N] [--json FILE]``).
"""

from __future__ import annotations

import argparse
import json
import platform
from pathlib import Path

from timing import best_of

from archsim.api import resolve_arch
from archsim.hw.systolic.model import simulate
from archsim.hw.systolic.scalesim import (
    BANDWIDTH_REPORT,
    COMPUTE_REPORT,
    DETAILED_ACCESS_REPORT,
    simulate_layer,
)
from archsim.mapping.gemm import lower_op
from archsim.workload import load_workload, read_scalesim_csv

ROOT = Path(__file__).resolve().parents[1]
GOLDEN = ROOT / "tests" / "golden" / "scalesim" / "resnet50_128.json"
TOPOLOGY = ROOT / "tests" / "golden" / "scalesim" / "topologies" / "resnet50.csv"
COLUMNS = COMPUTE_REPORT + BANDWIDTH_REPORT + DETAILED_ACCESS_REPORT


def bench_scalesim(repeat: int) -> list[dict]:
    golden = {c["cfg"]["Dataflow"]: c for c in json.loads(GOLDEN.read_text())["cases"]}
    graph = read_scalesim_csv(TOPOLOGY)
    rows = []
    for df in ("os", "ws", "is"):
        spec = resolve_arch("tpu-like-128").replace(dataflow=df, convention="scalesim")
        secs, result = best_of(lambda s=spec: simulate(graph, s, level="analytic", record_events=False), repeat)
        jobs = [lower_op(op, "scalesim").geometry for op in graph.ops]
        secs_nomemo, layers = best_of(lambda s=spec, j=jobs: [simulate_layer(g, s) for g in j], repeat)
        gold = golden[df]
        mismatches = sum(
            1
            for lay, g in zip(layers, gold["layers"], strict=True)
            for col, field in COLUMNS
            if getattr(lay, field) != g[col]
        )
        cycles = sum(lay.total_cycles for lay in layers)
        rows.append({
            "convention": "scalesim", "dataflow": df, "layers": len(layers), "wall_s": secs,
            "wall_s_no_memo": secs_nomemo, "layers_per_s": len(layers) / secs_nomemo,
            "sim_cycles_per_s": cycles / secs_nomemo, "total_cycles": cycles,
            "scalesim_wall_s": gold["scalesim_wall_s"], "speedup_vs_scalesim": gold["scalesim_wall_s"] / secs_nomemo,
            "values_checked": len(layers) * len(COLUMNS), "mismatches": mismatches,
            "total_cycles_from_result": result.totals["cycles"],
        })
    return rows


def bench_physical(repeat: int) -> list[dict]:
    graph = load_workload("resnet50")
    rows = []
    for df in ("os", "ws", "is"):
        spec = resolve_arch("tpu-like-128").replace(dataflow=df)
        for level in ("analytic", "event"):
            secs, res = best_of(lambda s=spec, lv=level: simulate(graph, s, level=lv), repeat)
            rows.append({
                "convention": "physical", "dataflow": df, "level": level, "layers": len(res.ops), "wall_s": secs,
                "layers_per_s": len(res.ops) / secs, "sim_cycles_per_s": res.totals["cycles"] / secs,
                "total_cycles": res.totals["cycles"], "events": len(res.events),
            })
    return rows


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3, help="best of N runs (default 3)")
    ap.add_argument("--json", type=Path, help="also write the rows as JSON")
    args = ap.parse_args()
    print(f"machine: {platform.processor() or platform.machine()}, python {platform.python_version()}")
    ss = bench_scalesim(args.repeat)
    print("\nResNet-50 (54 SCALE-Sim layers), 128x128, scalesim convention vs SCALE-Sim v2 2.0.2:")
    print(f"{'df':3} {'archsim s':>10} {'(no memo)':>10} {'layers/s':>9} {'sim cycles/s':>14} {'SCALE-Sim s':>12} "
          f"{'speedup':>8} {'values':>7} {'diffs':>6}")
    for r in ss:
        print(f"{r['dataflow']:3} {r['wall_s']:10.3f} {r['wall_s_no_memo']:10.3f} {r['layers_per_s']:9.1f} "
              f"{r['sim_cycles_per_s']:14,.0f} {r['scalesim_wall_s']:12.1f} {r['speedup_vs_scalesim']:7.0f}x "
              f"{r['values_checked']:7d} {r['mismatches']:6d}")
    ph = bench_physical(args.repeat)
    print("\nResNet-50 graph (72 ops) on tpu-like-128, physical convention:")
    print(f"{'df':3} {'level':9} {'wall s':>8} {'layers/s':>9} {'sim cycles/s':>14} {'cycles':>12} {'events':>7}")
    for r in ph:
        print(f"{r['dataflow']:3} {r['level']:9} {r['wall_s']:8.3f} {r['layers_per_s']:9.1f} "
              f"{r['sim_cycles_per_s']:14,.0f} {r['total_cycles']:12,d} {r['events']:7d}")
    if args.json:
        args.json.write_text(json.dumps({"scalesim": ss, "physical": ph}, indent=1) + "\n")
    return 1 if any(r["mismatches"] for r in ss) else 0


if __name__ == "__main__":
    raise SystemExit(main())
