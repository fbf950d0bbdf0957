"""The text the CLI prints: a per-op table and the run's totals."""

from __future__ import annotations

from archsim.report.tables import format_table
from archsim.results import RunResult


def summary_text(result: RunResult) -> str:
    opts = result.options
    arch = result.arch
    detail = [f"{k}={v}" for k, v in opts.items() if v is not None]
    shape = f" {arch['rows']}x{arch['cols']}" if "rows" in arch and "cols" in arch else ""
    head = (f"archsim: {result.workload.get('name')} on {arch.get('name')} ({arch.get('kind')}{shape}; "
            f"{', '.join(detail)})\n\n")
    rows = []
    for r in result.ops:
        rows.append({
            "op": r["op"], "kind": r["kind"], "unit": r["unit"], "cycles": r["cycles"],
            "stall": r["stall_cycles"], "util_pct": 100 * r["utilization"],
            "dram_kb": (r["dram_read_bytes"] + r["dram_write_bytes"]) / 1024, "energy_pj": r["energy_pj"],
            "memo": "=" + r["memoized_from"] if r.get("memoized_from") else "",
        })
    t = result.totals
    footer = {
        "op": "TOTAL", "kind": f"{t['ops']} ops", "unit": "", "cycles": t["cycles"], "stall": t["stall_cycles"],
        "util_pct": 100 * t["utilization"], "dram_kb": (t["dram_read_bytes"] + t["dram_write_bytes"]) / 1024,
        "energy_pj": t["energy_pj"], "memo": "",
    }
    cols = ["op", "kind", "unit", "cycles", "stall", "util_pct", "dram_kb", "energy_pj", "memo"]
    headers = dict(zip(cols, ["op", "kind", "unit", "cycles", "stall cycles", "util %", "DRAM KB", "energy pJ",
                              "memoized"]))
    table = format_table(rows, cols, headers=headers, footer=footer) + "\n"
    tail = (f"\ntotal: {t['cycles']:,} cycles = {t['time_ns'] / 1e3:,.3f} us at {arch.get('clock_hz', 0) / 1e6:g} MHz, "
            f"utilization {100 * t['utilization']:.2f} %, energy {t['energy_pj'] / 1e6:,.3f} uJ, "
            f"DRAM {t['dram_read_bytes'] / 2**20:,.2f} MiB read / {t['dram_write_bytes'] / 2**20:,.2f} MiB written\n")
    notes = "".join(f"note: {n}\n" for n in result.notes)
    return head + table + tail + notes
