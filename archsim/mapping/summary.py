"""The text ``archsim map`` prints: the plan's traffic, peak and solver figures next to the baselines'."""

from __future__ import annotations

from archsim.mapping.optimize import MappingResult
from archsim.report.tables import format_table

_BASELINE_LABELS = {
    "greedy_by_size": "greedy by size (graph order)",
    "belady": "best fit + Belady (graph order)",
    "belady_min_peak_order": "best fit + Belady (min-peak order)",
}


def mapping_summary(result: MappingResult) -> str:
    """A header, one table row per plan (the optimizer's and each baseline's) and a verdict."""
    p = result.problem
    b = result.budgets
    head = (f"archsim map: {p.name} ({p.n_ops} ops, {p.n_tensors} tensors) on a {p.scratchpad_bytes:,}-byte "
            f"scratchpad\nCOSMA budgets: M_R (single-op minimum) {b['single_op_min_bytes']:,} B")
    if "min_peak_bytes" in b:
        exact = "" if b.get("min_peak_exact") else " (beam search: an upper bound)"
        head += f", M_P (min peak) {b['min_peak_bytes']:,} B{exact}"
    head += "\n\n"
    s = result.stats
    rows = []
    if result.cost is not None:
        c = result.cost
        rows.append({"plan": f"ILP ({result.method})", "status": s.status, "compulsory": c.compulsory_bytes,
                     "non_compulsory": c.non_compulsory_bytes, "peak": c.peak_bytes,
                     "bound": result.bound_bytes, "gap_pct": None if s.gap is None else 100 * s.gap,
                     "seconds": s.wall_time_s})
    else:
        rows.append({"plan": "ILP", "status": s.status})
    for name, bl in result.baselines.items():
        label = _BASELINE_LABELS.get(name, name)
        if bl.cost is None:
            rows.append({"plan": label, "status": "no fit", "peak": bl.arena_bytes, "seconds": bl.wall_time_s})
        else:
            rows.append({"plan": label, "status": "valid", "compulsory": bl.cost.compulsory_bytes,
                         "non_compulsory": bl.cost.non_compulsory_bytes, "peak": bl.cost.peak_bytes,
                         "seconds": bl.wall_time_s})
    cols = ["plan", "status", "compulsory", "non_compulsory", "peak", "bound", "gap_pct", "seconds"]
    headers = {"compulsory": "compulsory B", "non_compulsory": "non-compulsory B", "peak": "peak B",
               "bound": "bound B", "gap_pct": "gap %", "seconds": "seconds"}
    text = head + format_table(rows, cols, headers=headers, float_digits=2) + "\n\n"
    if result.cost is None:
        return text + "".join(f"note: {n}\n" for n in result.notes)
    lines = []
    red = result.reduction_pct
    best = result.best_baseline
    if red is not None and best is not None:
        lines.append(f"the ILP plan removes {red:.1f} % of the non-compulsory traffic of the best baseline "
                     f"({_BASELINE_LABELS.get(best.name, best.name)})")
    elif best is not None and best.cost.non_compulsory_bytes == 0:
        lines.append("the best baseline already has no non-compulsory traffic")
    if s.status == "OPTIMAL":
        lines.append("optimal: the plan's non-compulsory traffic equals the bound (over all schedules)")
    elif s.best_bound == 0 and result.method == "divide":
        lines.append(f"{s.status.lower()}: no bound over all schedules without articulation cuts (--method joint "
                     "computes one)")
    elif s.gap is not None:
        lines.append(f"{s.status.lower()}: within {100 * s.gap:.1f} % of the bound over all schedules")
    if result.segment_bound_bytes is not None:
        lines.append(f"divide and conquer: bound {result.segment_bound_bytes:,} B for schedules that run the "
                     f"{len(result.segments)} segments in sequence (gap {100 * (result.segment_gap or 0):.1f} %)")
    if s.wall_limited:
        lines.append("a solve was stopped by the wall-clock cap before its deterministic budget: this result may "
                     "differ from run to run")
    lines += [f"note: {n}" for n in result.notes if "segment_bound" not in n]
    return text + "".join(x + "\n" for x in lines)
