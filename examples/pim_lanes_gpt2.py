"""MAC lanes per PIM unit against GPT-2 decode latency: a DRAM-PIM design sweep.

Sweeps the multipliers per bank unit of the PIM-GPT device (8 GDDR6 channels x 16 banks, BF16,
1 GHz units, all-bank MACs every nCCDAB = 2 tCK) and the context length, runs one GPT-2 decode
step on every point at the event level, and writes:

* OUT_DIR/sweep/: the resumable result store, results.csv and sweep.json (rerun to resume);
* OUT_DIR/latency_lanes.png: latency per token and PIM-unit utilization against the lanes.

A 32 B burst holds 16 BF16 values: with fewer lanes the unit takes ceil(16 / lanes) ns per burst
and the MAC stream slows down to it; from 16 lanes on, the bank's column rate (one all-bank MAC
every 2 cycles of 0.571 ns) is the limit and more lanes only sit idle.

    python examples/pim_lanes_gpt2.py OUT_DIR [--quick] [--workers N]

``--quick`` sweeps three lane counts and one context (what CI runs).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from archsim.dse import build_sweep, pareto_front, run_sweep
from archsim.report.plots import save_png
from archsim.report.tables import format_table


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out", type=Path, help="output directory")
    ap.add_argument("--quick", action="store_true", help="reduced axes (CI)")
    ap.add_argument("--workers", type=int, default=None, help="worker processes (default: all CPUs)")
    args = ap.parse_args()

    lanes = [4, 16, 32] if args.quick else [1, 2, 4, 8, 16, 32, 64]
    contexts = [128] if args.quick else [128, 512, 1024]
    spec = build_sweep({
        "name": "pim-lanes-gpt2",
        "arch": "pim-gpt",                      # the base spec; the axes below replace its fields
        "workloads": [{"model": "gpt2", "phase": "decode"}],
        "level": "event",                       # command by command through the DRAM timing engine
        "axes": {"lanes_per_unit": lanes, "seq_len": contexts},
    })
    run = run_sweep(spec, args.out / "sweep", workers=args.workers)
    print(f"{run.points} points ({run.ran} run, {run.stored_before} already stored) "
          f"in {run.wall_s:.1f} s; {run.errors} errors")
    rows = [dict(r, us_per_token=r["latency_per_token_ns"] / 1e3, uj_per_token=r["energy_per_token_pj"] / 1e6)
            for r in run.rows if r["status"] == "ok"]
    print(format_table(rows, ["lanes_per_unit", "seq_len", "us_per_token", "uj_per_token", "pim_unit_utilization",
                              "row_hit_rate"], float_digits=3))

    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(10, 4), dpi=100, layout="constrained")
    FigureCanvasAgg(fig)
    ax_t, ax_u = fig.subplots(1, 2)
    for ctx in contexts:
        pts = sorted((r["lanes_per_unit"], r["us_per_token"], r["pim_unit_utilization"]) for r in rows
                     if r["seq_len"] == ctx)
        ax_t.plot([p[0] for p in pts], [p[1] for p in pts], marker="o", label=f"context {ctx}")
        ax_u.plot([p[0] for p in pts], [100 * p[2] for p in pts], marker="o", label=f"context {ctx}")
    for ax, label in ((ax_t, "latency per token (us)"), (ax_u, "PIM unit utilization (%)")):
        ax.set_xscale("log", base=2)
        ax.set_xlabel("MAC lanes per unit")
        ax.set_ylabel(label)
        ax.grid(True, which="both", alpha=0.3)
        ax.legend()
    fig.suptitle("GPT-2 decode on PIM-GPT (8 channels x 16 banks, BF16)")
    save_png(fig, args.out / "latency_lanes.png")

    # fewest lanes for the latency: the front of (lanes, latency) at the first context
    first = [r for r in rows if r["seq_len"] == contexts[0]]
    front = pareto_front(first, "lanes_per_unit", "us_per_token")
    print(f"\nlanes-latency front at context {contexts[0]}: "
          + ", ".join(f"{r['lanes_per_unit']} lanes {r['us_per_token']:.1f} us" for r in front))
    print(f"\nwrote {args.out}/latency_lanes.png and {args.out}/sweep/")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
