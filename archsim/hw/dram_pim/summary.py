"""The text ``archsim run`` prints for a DRAM-PIM run: the step (or token) table and the headline figures."""

from __future__ import annotations

from archsim.report.tables import format_table
from archsim.results import RunResult


def summary_text(result: RunResult) -> str:
    a, t, w = result.arch, result.totals, result.workload
    r = a["resolved"]
    head = (f"archsim: {w.get('name')} on {a.get('name')} (dram_pim: {a['channels']} x {a['pim_scope']} of "
            f"{r['banks_per_scope']} banks on {r['dram_standard']}, {r['units']} units x {a['lanes_per_unit']} "
            f"{a['datatype']} lanes at {a['unit_clock_hz'] / 1e6:g} MHz, ASIC {a['asic_clock_hz'] / 1e6:g} MHz; "
            f"level {result.options.get('level')})\n\n")
    generation = result.options.get("tokens") is not None
    rows = []
    for o in result.ops:
        if not generation and o.get("fused_into"):
            continue
        rows.append({
            "op": o["op"], "kind": o["kind"], "cycles": o["cycles"],
            "us": o["cycles"] / r["dram_clock_hz"] * 1e6, "util_pct": 100 * o["utilization"],
            "hit_pct": 100 * o.get("row_hit_rate", 0.0), "energy_uj": o["energy_pj"] / 1e6,
            "memo": ("=" + o["memoized_from"]) if o.get("memoized_from") else (
                f"ctx {o['context']}" if generation else ""),
        })
    cols = ["op", "kind", "cycles", "us", "util_pct", "hit_pct", "energy_uj", "memo"]
    headers = dict(zip(cols, ["op" if not generation else "token", "kind", "cycles", "us", "unit util %",
                              "row hit %", "energy uJ", "reused from" if not generation else "context"]))
    if len(rows) > 60:
        rows = rows[:25] + [{c: "..." for c in cols}] + rows[-25:]
    table = format_table(rows, cols, headers=headers, float_digits=3) + "\n"
    tail = (f"\n{t['tokens']} token(s), contexts {t['first_context']}..{t['last_context']}: "
            f"{t['latency_per_token_ns'] / 1e3:,.2f} us/token (mean), {t['tokens_per_s']:,.1f} tokens/s, "
            f"{t['energy_per_token_pj'] / 1e6:,.3f} uJ/token\n"
            f"row-hit rate {100 * t['row_hit_rate']:.2f} %; time: VMM {100 * t['vmm_share']:.2f} %, "
            f"data movement {100 * t['data_movement_share']:.2f} %, non-VMM (ASIC) {100 * t['non_vmm_share']:.2f} %, "
            f"refresh {100 * t['refresh_share']:.2f} %\n"
            f"PIM lanes busy {100 * t['pim_unit_utilization']:.1f} % (in VMM steps "
            f"{100 * t['pim_unit_utilization_in_vmm']:.1f} %; MAC stream {100 * t['mac_stream_utilization_in_vmm']:.1f} %), "
            f"channel bus {100 * t['channel_bus_utilization']:.1f} %, "
            f"ASIC {100 * t['asic_utilization']:.1f} %\n")
    notes = "".join(f"note: {n}\n" for n in result.notes)
    return head + table + tail + notes
