"""DRACO's study: PE utilization and latency of MobileNetV1 on a 64x64 array against channels per group.

DRACO (arXiv 2006.15103) widens MobileNetV1's depthwise 3x3 convolutions into grouped ones (G
input channels per filter) so that they fill more of a 64x64 array. A depthwise layer lowers to
C independent GEMMs with N = 1 filter and K = 9 weights each: weight stationary maps K x N = 9 x 1
of the 4,096 PEs, output stationary uses one column of 64, so the array idles whatever its size.
With G channels per group a GEMM is 9G x G (WS), and the mapped fraction grows as G^2.

This script sweeps G (and the dataflow) with the DSE API, then runs each point once more at the
analytic level for its per-layer rows, and writes:

* OUT_DIR/sweep/: result store, results.csv, sweep.json;
* OUT_DIR/draco.png: overall and depthwise-layer PE utilization, and latency, against G;
* a table: latency (ms at 200 MHz), MACs, overall utilization, mean utilization of the 13
  depthwise/grouped layers and their share of the cycles.

    python examples/draco_channels_per_group.py OUT_DIR [--quick] [--workers N]
"""

from __future__ import annotations

import argparse
from pathlib import Path

from archsim.api import run
from archsim.dse import build_sweep, run_sweep
from archsim.report.plots import save_png
from archsim.report.tables import format_table
from archsim.workload import load_workload

#: DRACO's 64x64 array at 200 MHz (the paper reports latency in ms at 200 MHz) with 1 MiB of
#: on-chip buffer (the 64x64 configuration that nn-dataflow can schedule; see docs/dse.md) and a
#: DRAM link fast enough (51 GB/s) that the array, not memory, sets the time, as in nn-dataflow
ARCH = {"kind": "systolic", "systolic": {
    "name": "draco-64x64", "rows": 64, "cols": 64, "dataflow": "ws", "clock_hz": 200_000_000, "acc_bytes": 4,
    "ifmap_sram_bytes": 512 * 1024, "filter_sram_bytes": 256 * 1024, "ofmap_sram_bytes": 256 * 1024,
    "dram_bytes_per_cycle": 256, "dram_latency_cycles": 100, "vector_lanes": 64,
    "source": "DRACO (arXiv 2006.15103): 64x64 PEs, 200 MHz; 1 MiB buffer; DRAM link assumed fast (256 B/cycle) so that, as in nn-dataflow, the array sets the time"}}


def layer_stats(arch, g: int, dataflow: str) -> dict:
    """Per-layer view of one point: the depthwise/grouped 3x3 layers against the rest."""
    res = run(arch, load_workload("mobilenet_v1", channels_per_group=g), level="analytic", record_events=False,
              dataflow=dataflow)
    dw = [r for r in res.ops if r["op"].endswith("_dw")]
    return {"dw_util": sum(r["utilization"] for r in dw) / len(dw),
            "dw_cycle_share": sum(r["cycles"] for r in dw) / res.totals["cycles"]}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out", type=Path, help="output directory")
    ap.add_argument("--quick", action="store_true", help="reduced axes (CI)")
    ap.add_argument("--workers", type=int, default=None, help="worker processes (default: all CPUs)")
    args = ap.parse_args()

    groups = [1, 8] if args.quick else [1, 2, 4, 8, 16, 32]
    dataflows = ["ws"] if args.quick else ["ws", "os"]
    spec = build_sweep({
        "name": "draco-mobilenet-v1",
        "arch": ARCH,
        "workloads": ["mobilenet_v1"],
        "level": "analytic",
        # channels_per_group is a parameter of the MobileNetV1 builder; dataflow a spec field
        "axes": {"dataflow": dataflows, "channels_per_group": groups},
    })
    sweep = run_sweep(spec, args.out / "sweep", workers=args.workers)
    arch = spec.base
    rows = []
    for r in sweep.rows:
        rows.append({"dataflow": r["dataflow"], "G": r["channels_per_group"], "latency_ms": r["time_ns"] / 1e6,
                     "mmacs": r["macs"] / 1e6, "utilization": r["utilization"],
                     **layer_stats(arch, r["channels_per_group"], r["dataflow"])})
    print(f"MobileNetV1 on {arch.rows}x{arch.cols} at {arch.clock_hz / 1e6:g} MHz "
          f"(utilization = MACs / (cycles x PEs))\n")
    print(format_table(rows, ["dataflow", "G", "latency_ms", "mmacs", "utilization", "dw_util", "dw_cycle_share"],
                       headers={"G": "channels/group", "latency_ms": "latency ms", "mmacs": "MMACs",
                                "dw_util": "depthwise util", "dw_cycle_share": "depthwise cycles"},
                       float_digits=4))

    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(10, 4), dpi=100, layout="constrained")
    FigureCanvasAgg(fig)
    ax_u, ax_l = fig.subplots(1, 2)
    for df, color in zip(dataflows, ("tab:blue", "tab:orange")):
        pts = [r for r in rows if r["dataflow"] == df]
        g = [r["G"] for r in pts]
        ax_u.plot(g, [r["utilization"] for r in pts], marker="o", color=color, label=f"{df}: whole network")
        ax_u.plot(g, [r["dw_util"] for r in pts], marker="s", linestyle="--", color=color,
                  label=f"{df}: depthwise/grouped layers")
        ax_l.plot(g, [r["latency_ms"] for r in pts], marker="o", color=color, label=df)
    ax_u.set_ylabel("PE utilization")
    ax_l.set_ylabel("latency (ms)")
    for ax in (ax_u, ax_l):
        ax.set_xscale("log", base=2)
        ax.set_xlabel("input channels per group (1 = depthwise)")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize="small")
    fig.suptitle(f"MobileNetV1 on a {arch.rows}x{arch.cols} systolic array (DRACO's study)")
    save_png(fig, args.out / "draco.png")
    print(f"\nwrote {args.out}/draco.png and {args.out}/sweep/")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
