"""DSE speed benchmark: a 1,000-point systolic sweep (ResNet-50, analytic level) on 2 workers.

The sweep: rows x cols in {16, 24, 32, 48, 64, 96, 128, 192, 256, 384} x dataflow {os, ws} x
ifmap SRAM {256 KiB .. 4 MiB} on the tpu-like-128 preset (10 x 10 x 2 x 5 = 1,000 points), each
point the whole 72-op ResNet-50 graph. Reported:

* the per-point cost in one process: the sweep path (lowered workload cached per worker,
  :func:`archsim.hw.systolic.totals.analytic_totals`) against ``simulate(..., level="analytic",
  record_events=False)`` on the same points, with a check that both give the same totals;
* the whole sweep with the local executor (process pool start, chunks, SQLite writes and CSV
  export included): wall seconds and points/min, against the target of 10,000 points/min;
* resuming the finished sweep (every point already stored);
* the same sweep on Dask, when ``dask[distributed]`` is installed: ``dask`` starts its own
  LocalCluster of 2 workers (start included), ``dask-up`` uses a LocalCluster already running
  (by its scheduler address, as on a real cluster).

Run: ``make bench`` or ``python benchmarks/bench_dse.py [--workers N] [--json FILE]``.
"""

from __future__ import annotations

import argparse
import json
import platform
import tempfile
import time
from pathlib import Path

from archsim.dse import build_sweep, run_sweep
from archsim.dse.evaluate import energy_table, evaluate_point
from archsim.dse.workloads import workload_handle

TARGET_POINTS_PER_MIN = 10_000
SIZES = [16, 24, 32, 48, 64, 96, 128, 192, 256, 384]
SWEEP = {
    "name": "bench-resnet50-1000",
    "arch": "tpu-like-128",
    "workloads": ["resnet50"],
    "level": "analytic",
    "axes": {
        "rows": SIZES,
        "cols": SIZES,
        "dataflow": ["os", "ws"],
        "ifmap_sram_bytes": {"from": 262144, "to": 4194304, "times": 2},
    },
}


def per_point_cost(spec, sample: int) -> dict:
    """Seconds per point in this process: the sweep path vs the full simulate() path."""
    from archsim.hw.systolic.model import simulate

    points = spec.points()[:: max(1, len(spec.points()) // sample)][:sample]
    for p in points[:2]:
        evaluate_point(p)  # warm the workload and energy-table caches
    t0 = time.perf_counter()
    fast = [evaluate_point(p) for p in points]
    t_fast = (time.perf_counter() - t0) / len(points)
    graph = workload_handle(points[0].workload).graph
    t0 = time.perf_counter()
    slow = [simulate(graph, p.spec, level="analytic", record_events=False,
                     energy_table=energy_table(p.spec.energy_table)).totals for p in points]
    t_slow = (time.perf_counter() - t0) / len(points)
    same = all(f["totals"] == s for f, s in zip(fast, slow))
    return {"sample": len(points), "sweep_path_ms": 1e3 * t_fast, "simulate_ms": 1e3 * t_slow,
            "speedup": t_slow / t_fast, "same_totals": same}


def timed_sweep(spec, out: Path, **kw) -> dict:
    t0 = time.perf_counter()
    res = run_sweep(spec, out, progress=False, **kw)
    wall = time.perf_counter() - t0
    return {"points": res.points, "ran": res.ran, "ok": res.ok, "errors": res.errors, "wall_s": wall,
            "points_per_min": 60 * res.ran / wall if res.ran else 0.0, "executor": res.executor, "rows": res.rows}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workers", type=int, default=2, help="worker processes (default 2)")
    ap.add_argument("--no-dask", action="store_true", help="skip the Dask LocalCluster run")
    ap.add_argument("--json", type=Path, help="also write the figures as JSON")
    args = ap.parse_args()
    print(f"machine: {platform.processor() or platform.machine()}, python {platform.python_version()}, "
          f"{args.workers} workers")
    t0 = time.perf_counter()
    spec = build_sweep(SWEEP)
    n = len(spec.points())
    t_expand = time.perf_counter() - t0
    print(f"\nsweep {spec.name}: {n} points (ResNet-50, 72 ops each), spec load + expansion {t_expand:.2f} s")

    cost = per_point_cost(spec, 40)
    print(f"per point, one process ({cost['sample']} points): sweep path {cost['sweep_path_ms']:.2f} ms, "
          f"simulate(analytic, no events) {cost['simulate_ms']:.2f} ms ({cost['speedup']:.0f}x), "
          f"same totals: {cost['same_totals']}")

    runs = {}
    with tempfile.TemporaryDirectory() as tmp:
        runs["local"] = timed_sweep(spec, Path(tmp) / "local", executor="local", workers=args.workers)
        runs["resume"] = timed_sweep(spec, Path(tmp) / "local", executor="local", workers=args.workers)
        if not args.no_dask:
            try:
                import distributed  # noqa: F401
            except ImportError:
                print("dask[distributed] not installed: Dask run skipped (pip install archsim[dask])")
            else:
                import logging

                runs["dask"] = timed_sweep(spec, Path(tmp) / "dask", executor="dask", workers=args.workers)
                with distributed.LocalCluster(n_workers=args.workers, threads_per_worker=1, processes=True,
                                              dashboard_address=None, silence_logs=logging.ERROR) as cluster:
                    with distributed.Client(cluster) as client:  # warm the workers: imports, ResNet-50 graph
                        client.run(lambda: __import__("archsim.dse.evaluate"))
                    runs["dask-up"] = timed_sweep(spec, Path(tmp) / "dask-up", executor="dask",
                                                  scheduler=cluster.scheduler_address)
    print(f"\n{'run':8} {'points run':>10} {'wall s':>8} {'points/min':>11}  executor")
    for name, r in runs.items():
        print(f"{name:8} {r['ran']:10,d} {r['wall_s']:8.2f} {r['points_per_min']:11,.0f}  {r['executor']}")
    for name in ("dask", "dask-up"):
        if name in runs:
            print(f"{name} rows identical to local rows: {runs[name]['rows'] == runs['local']['rows']}")
    rate = runs["local"]["points_per_min"]
    met = rate >= TARGET_POINTS_PER_MIN
    print(f"\ntarget {TARGET_POINTS_PER_MIN:,} points/min at the analytic level on {args.workers} workers: "
          f"{'met' if met else 'NOT met'} ({rate:,.0f} points/min, whole sweep incl. pool start and store writes)")
    if args.json:
        doc = {"points": n, "expand_s": t_expand, "per_point": cost,
               "runs": {k: {kk: vv for kk, vv in v.items() if kk != "rows"} for k, v in runs.items()}}
        args.json.write_text(json.dumps(doc, indent=1) + "\n")
    return 0 if cost["same_totals"] and runs["local"]["errors"] == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
