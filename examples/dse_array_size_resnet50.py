"""Array size against ResNet-50 latency and energy: a systolic-array design sweep.

Sweeps the rows and columns of a TPU-like array (700 MHz, 500 B/cycle HBM, 6/6/2 MiB SRAMs) and
its dataflow, runs ResNet-50 (batch 1, int8) on every point at the analytic level, and writes:

* OUT_DIR/sweep/: the resumable result store, results.csv and sweep.json (rerun to resume);
* OUT_DIR/latency_energy.png: latency and energy of square arrays against their PE count;
* OUT_DIR/pareto.png: the area-latency Pareto front of all points (energy falls with array size
  here, as fewer folds move fewer bytes, so the cost a bigger array pays is its area).

    python examples/dse_array_size_resnet50.py OUT_DIR [--quick] [--workers N]

``--quick`` sweeps three sizes and one dataflow (what CI runs).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from archsim.dse import build_sweep, pareto_front, run_sweep
from archsim.dse.pareto import pareto_figure
from archsim.report.plots import save_png
from archsim.report.tables import format_table


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out", type=Path, help="output directory")
    ap.add_argument("--quick", action="store_true", help="reduced axes (CI)")
    ap.add_argument("--workers", type=int, default=None, help="worker processes (default: all CPUs)")
    args = ap.parse_args()

    sizes = [32, 64, 128] if args.quick else [8, 16, 32, 64, 128, 256, 512]
    dataflows = ["ws"] if args.quick else ["os", "ws", "is"]
    spec = build_sweep({
        "name": "resnet50-array-size",
        "arch": "tpu-like-128",              # the base spec; the axes below replace its fields
        "workloads": ["resnet50"],
        "level": "analytic",                 # closed form per fold: the DSE fidelity
        "axes": {"rows": sizes, "cols": sizes, "dataflow": dataflows},
    })
    run = run_sweep(spec, args.out / "sweep", workers=args.workers)
    print(f"{run.points} points ({run.ran} run, {run.stored_before} already stored) "
          f"in {run.wall_s:.1f} s; {run.errors} errors")
    rows = [dict(r, time_ms=r["time_ns"] / 1e6, energy_mj=r["energy_pj"] / 1e9) for r in run.rows
            if r["status"] == "ok"]

    # square arrays, per dataflow
    square = [r for r in rows if r["rows"] == r["cols"]]
    print(format_table(square, ["rows", "cols", "dataflow", "time_ms", "energy_mj", "utilization", "area_mm2"],
                       float_digits=3))

    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(10, 4), dpi=100, layout="constrained")
    FigureCanvasAgg(fig)
    ax_t, ax_e = fig.subplots(1, 2)
    for df in dataflows:
        pts = sorted((r["rows"] * r["cols"], r["time_ms"], r["energy_mj"]) for r in square if r["dataflow"] == df)
        ax_t.plot([p[0] for p in pts], [p[1] for p in pts], marker="o", label=df)
        ax_e.plot([p[0] for p in pts], [p[2] for p in pts], marker="o", label=df)
    for ax, label in ((ax_t, "latency (ms)"), (ax_e, "energy (mJ)")):
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_xlabel("PEs (square array)")
        ax.set_ylabel(label)
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(title="dataflow")
    fig.suptitle("ResNet-50 on a TPU-like systolic array")
    save_png(fig, args.out / "latency_energy.png")

    # area-latency Pareto front over every point (area_mm2: see docs/dse.md for the proxy)
    front = pareto_front(rows, "area_mm2", "time_ms")
    print(f"\nPareto front (area vs latency): {len(front)} of {len(rows)} points")
    print(format_table(front, ["point", "rows", "cols", "dataflow", "area_mm2", "time_ms", "energy_mj"],
                       float_digits=3))
    save_png(pareto_figure({"": (rows, front)}, "area_mm2", "time_ms", title="ResNet-50: area vs latency"),
             args.out / "pareto.png")
    print(f"\nwrote {args.out}/latency_energy.png, {args.out}/pareto.png and {args.out}/sweep/")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
