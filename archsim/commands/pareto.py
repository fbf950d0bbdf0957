"""``archsim pareto``: the Pareto front of a sweep's rows, printed and plotted."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from archsim.errors import InputError

NAME = "pareto"
HELP = "print and plot the Pareto front of a sweep (two metrics, minimised unless --maximize)"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("dir", type=Path, help="sweep directory (archsim sweep --out)")
    p.add_argument("--x", default="energy_pj", help="x objective column (default energy_pj)")
    p.add_argument("--y", default="cycles", help="y objective column (default cycles)")
    p.add_argument("--maximize", action="append", default=[], metavar="COLUMN",
                   help="maximise this objective instead (repeatable; e.g. utilization)")
    p.add_argument("--where", action="append", default=[], metavar="COLUMN=VALUE",
                   help="keep rows with this value (repeatable), e.g. --where dataflow=ws")
    p.add_argument("--by", metavar="COLUMN",
                   help="one front per value of this column (default: per workload when there are several)")
    p.add_argument("--png", type=Path, help="plot file (default DIR/pareto_<x>_<y>.png)")
    p.add_argument("--format", choices=("table", "csv", "json"), default="table", help="stdout format")


def _match(value: object, text: str) -> bool:
    if value is None:
        return text == ""
    if isinstance(value, bool):
        return text.lower() == str(value).lower()
    if isinstance(value, int | float):
        try:
            return float(text) == float(value)
        except ValueError:
            return False
    return str(value) == text


def run(args: argparse.Namespace) -> int:
    from archsim.dse.export import render_csv
    from archsim.dse.pareto import check_objective, pareto_figure, pareto_front
    from archsim.dse.sweep import open_sweep
    from archsim.report.plots import save_png
    from archsim.report.tables import format_table

    doc, rows = open_sweep(args.dir)
    ok = [r for r in rows if r.get("status") == "ok"]
    if not ok:
        raise InputError(args.dir, None, "a sweep with ok rows", f"{len(rows)} rows, none ok")
    for cond in args.where:
        col, sep, text = cond.partition("=")
        if not sep or not col:
            raise InputError("--where", None, "COLUMN=VALUE", cond)
        if ok and col not in ok[0]:
            raise InputError("--where", None, f"a column of the sweep rows ({', '.join(ok[0])})", col)
        ok = [r for r in ok if _match(r.get(col), text)]
        if not ok:
            raise InputError("--where", None, "a filter that some ok rows pass", cond)
    for flag, col in (("--x", args.x), ("--y", args.y)):
        check_objective(ok or rows, col, flag)
    for col in args.maximize:
        if col not in (args.x, args.y):
            raise InputError("--maximize", None, f"one of the objectives ({args.x}, {args.y})", col)
    axis_names = list(doc["sweep"].get("axes", {}))
    axis_cols = [c for c in (ok[0] if ok else {}) if c in axis_names or c in doc["sweep"].get("targets", {})]
    by = args.by
    if by is None and len({r["workload"] for r in ok}) > 1:
        by = "workload"
    if by is not None and ok and by not in ok[0]:
        raise InputError("--by", None, f"a column of the sweep rows ({', '.join(ok[0])})", by)
    groups: dict[str, tuple[list, list]] = {}
    for r in ok:
        key = "" if by is None else str(r.get(by))
        groups.setdefault(key, ([], []))[0].append(r)
    for grows, front in groups.values():
        front.extend(pareto_front(grows, args.x, args.y, maximize=args.maximize))
    fronts = [dict(r, **({"group": k} if by else {})) for k, (_, f) in groups.items() for r in f]

    png = args.png or args.dir / f"pareto_{args.x}_{args.y}.png"
    name = doc["sweep"].get("name", "")
    fig = pareto_figure(groups, args.x, args.y, title=f"{name}: Pareto front of {args.y} vs {args.x}")
    save_png(fig, png)

    cols = list(dict.fromkeys((["group"] if by else []) + ["point", *axis_cols, "workload", args.x, args.y,
                                                         "cycles", "energy_pj", "utilization", "area_mm2"]))
    if args.format == "json":
        sys.stdout.write(json.dumps({"x": args.x, "y": args.y, "maximize": args.maximize, "by": by,
                                     "front": [{c: r.get(c) for c in ["key", *cols]} for r in fronts]}, indent=1) + "\n")
        return 0
    if args.format == "csv":
        sys.stdout.write(render_csv([{c: r.get(c) for c in cols} for r in fronts], []))
        return 0
    left = len(rows) - len([r for r in rows if r.get("status") == "ok"])
    sys.stdout.write(f"Pareto front of {args.y} vs {args.x} ({', '.join(f'max {c}' for c in args.maximize) or 'both minimised'}): "
                     f"{len(fronts)} of {sum(len(g[0]) for g in groups.values())} points"
                     + (f" ({left} error rows left out)" if left else "") + "\n\n")
    sys.stdout.write(format_table(fronts, cols, float_digits=4) + "\n")
    sys.stdout.write(f"\nwrote {png}\n")
    return 0
