"""The text ``archsim run`` prints for a storage system: throughput, the per-token latency
breakdown, KV-cache traffic, energy and the per-layer stages of the first layer."""

from __future__ import annotations

import re

from archsim.report.tables import format_table
from archsim.results import RunResult

_OTHER_DRIVE = re.compile(r"^drive([1-9]\d*)\.")


def _t(ns: float) -> str:
    for unit, scale in (("s", 1e9), ("ms", 1e6), ("us", 1e3)):
        if ns >= scale:
            return f"{ns / scale:,.3f} {unit}"
    return f"{ns:,.0f} ns"


def summary_text(result: RunResult) -> str:
    a, t = result.arch, result.totals
    sysname = a.get("system")
    what = (f"{a.get('drives')} drive{'s' if a.get('drives', 1) > 1 else ''}, "
            f"{'sparse (SparF)' if a.get('sparse') else 'dense'} attention" if sysname == "instinfer"
            else f"KV path {t.get('kv_path')}")
    head = (f"archsim: {result.workload.get('name')} decode on {a.get('name')} ({sysname}; {what}; GPU "
            f"{a.get('gpu')}; batch {t['batch']}, context {t['context']}, micro-batches {a.get('micro_batches')}; "
            f"level {result.options.get('level')})\n\n")
    lines = [f"throughput {t['tokens_per_s']:,.3f} tokens/s; per-token latency {_t(t['per_token_latency_ns'])}\n"]
    rows = [{"part": k, "time": _t(v), "share": 100 * t["breakdown_share"][k]} for k, v in t["breakdown_ns"].items()]
    lines.append("\nper-token latency breakdown:\n")
    lines.append(format_table(rows, ["part", "time", "share"], headers={"part": "part", "time": "time",
                                                                       "share": "share %"}) + "\n")
    lines.append(f"\nKV cache: {t['kv_bytes_per_token']:,} B per token ({t['kv_bytes_per_token'] / 2**20:.2f} MiB), "
                 f"{t['kv_cache_bytes'] / 1e9:,.2f} GB for the batch; read {t['kv_bytes_read'] / 1e9:,.2f} GB this step "
                 f"at {t['kv_read_bytes_per_s'] / 1e9:,.2f} GB/s\n")
    if sysname == "instinfer":
        lines.append(f"flash: internal peak {t['flash_internal_peak_bytes_per_s'] / 1e9:,.1f} GB/s, streaming "
                     f"{t['flash_streaming_bytes_per_s'] / 1e9:,.2f} GB/s vs PCIe {t['drive_pcie_bytes_per_s'] / 1e9:,.1f} "
                     f"GB/s; one task: {t['task_flash_pages']} pages in {_t(t['task_flash_ns'])} (array occupied "
                     f"{_t(t['task_flash_occupancy_ns'])}), compute "
                     f"{_t(t['task_compute_ns'])}\n")
    lines.append(f"energy {t['energy_pj'] / 1e12:,.3f} J per step, {t['energy_per_token_pj'] / 1e9:,.3f} mJ per token\n")
    cols = result.events.columns()
    first = [i for i, op in enumerate(cols["op"].tolist())
             if op.startswith("layers.0.") and not _OTHER_DRIVE.match(cols["unit"][i])]
    if first:
        table = [{"op": cols["op"][i], "unit": cols["unit"][i], "start": int(cols["start_cycle"][i]),
                  "time": _t(int(cols["end_cycle"][i] - cols["start_cycle"][i])), "util": 100 * float(cols["util"][i])}
                 for i in first]
        more = " (drives 1.. alike)" if result.arch.get("drives", 1) > 1 else ""
        lines.append(f"\nlayer 0 on the GPU and drive 0{more}; 1 cycle = 1 ns:\n")
        lines.append(format_table(table, ["op", "unit", "start", "time", "util"],
                                  headers={"op": "op", "unit": "unit", "start": "start ns", "time": "time",
                                           "util": "util %"}) + "\n")
    notes = "".join(f"note: {n}\n" for n in result.notes)
    return head + "".join(lines) + ("\n" + notes if notes else "")
