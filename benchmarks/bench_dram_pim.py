"""DRAM-PIM benchmark: simulated tokens per wall-second for GPT-2 XL decode on PIM-GPT, and
(``--validate``) the figures docs/validation/dram_pim.md compares with the PIM-GPT paper.

Speed: a 1,024-token GPT-2 XL generation (contexts 1..1024) on the pim-gpt preset at the event
and analytic levels, with and without the event table (target: under 60 s at the event level);
the scope executor's command rate on one weight VMM program (every MAC_AB through the timing
engine, and with its stretch fast path).

Validation (a few minutes): the 8 GPT-2 / GPT-3 models (128-token generations from a 1-token
context) against the T4 and Xeon rooflines and the t4-eager preset; the row-hit rate; the
non-VMM share of GPT3-XL over contexts; channel scaling; the ASIC clock; refresh on / off.

Run: ``python benchmarks/bench_dram_pim.py [--repeat N] [--tokens N] [--json FILE] [--validate]``.
"""

from __future__ import annotations

import argparse
import json
import platform
from pathlib import Path

from timing import best_of

from archsim.api import resolve_arch, run
from archsim.hw.dram_pim import mapping
from archsim.hw.dram_pim.commands import PimTiming
from archsim.hw.dram_pim.executor import ScopeExecutor

MODELS = ["gpt2", "gpt2-medium", "gpt2-large", "gpt2-xl", "gpt3-small", "gpt3-medium", "gpt3-large", "gpt3-xl"]
T4_WATTS = 70.0  # NVIDIA T4 datasheet board power


def bench_generation(tokens: int, repeat: int) -> list[dict]:
    rows = []
    for level, events in (("event", True), ("event", False), ("analytic", False)):
        secs, res = best_of(lambda lv=level, ev=events: run("pim-gpt", "gpt2-xl", phase="decode", seq_len=1,
                                                             tokens=tokens, level=lv, record_events=ev), repeat)
        t = res.totals
        rows.append({"what": f"gpt2-xl {tokens}-token generation", "level": level, "events": events,
                     "wall_s": secs, "tokens_per_wall_s": tokens / secs,
                     "simulated_ms_per_token": t["latency_per_token_ns"] / 1e6,
                     "programs_simulated": t["programs_simulated"], "step_results_computed": t["step_results_computed"]})
    return rows


def bench_executor(repeat: int) -> list[dict]:
    spec = resolve_arch("pim-gpt").replace(refresh="none")
    tm = PimTiming(spec)
    prog = mapping.weight_vmm(spec, 1600, 6400).programs[0]
    rows = []
    for record in (False, True):  # record=True logs every MAC (the stretch fast path still applies)
        secs, r = best_of(lambda rec=record: ScopeExecutor(tm, record=rec).execute(prog), repeat)
        n = sum(r.commands.values())
        rows.append({"what": "executor, fc1 of GPT-2 XL on one channel", "record": record, "commands": n,
                     "wall_s": secs, "commands_per_wall_s": n / secs})
    return rows


def validate(tokens: int) -> dict:
    out: dict = {"models": []}
    for m in MODELS:
        kw = {"phase": "decode", "seq_len": 1, "tokens": tokens, "record_events": False}
        p = run("pim-gpt", m, **kw).totals
        q = run("pim-gpt", m, pim_refresh="none", **kw).totals
        t4 = run("t4", m, **kw).totals
        t4e = run("t4-eager", m, **kw).totals
        t4e32 = run("t4-eager", m, dtype="fp32", **kw).totals
        cpu = run("xeon-6154", m, **kw).totals
        lat = p["latency_per_token_ns"]
        out["models"].append({
            "model": m, "pim_us": lat / 1e3, "pim_no_refresh_us": q["latency_per_token_ns"] / 1e3,
            "tokens_per_s": p["tokens_per_s"], "energy_uj": p["energy_per_token_pj"] / 1e6,
            "row_hit_rate": p["row_hit_rate"], "vmm_share": p["vmm_share"], "non_vmm_share": p["non_vmm_share"],
            "data_movement_share": p["data_movement_share"], "refresh_share": p["refresh_share"],
            "t4_us": t4["latency_per_token_ns"] / 1e3, "speedup_t4": t4["latency_per_token_ns"] / lat,
            "t4_eager_us": t4e["latency_per_token_ns"] / 1e3, "speedup_t4_eager": t4e["latency_per_token_ns"] / lat,
            "speedup_t4_eager_fp32": t4e32["latency_per_token_ns"] / lat,
            "speedup_xeon": cpu["latency_per_token_ns"] / lat,
            "energy_ratio_t4": t4["energy_per_token_pj"] / p["energy_per_token_pj"],
            "energy_ratio_t4_eager_70w": T4_WATTS * t4e["latency_per_token_ns"] * 1e3 / p["energy_per_token_pj"],
            "energy_ratio_xeon": cpu["energy_per_token_pj"] / p["energy_per_token_pj"],
        })
    out["gpt3xl_context"] = []
    for ctx in (1, 128, 512, 1024, 2048):
        t = run("pim-gpt", "gpt3-xl", phase="decode", seq_len=ctx, record_events=False).totals
        out["gpt3xl_context"].append({"context": ctx, "us": t["latency_per_token_ns"] / 1e3,
                                      "non_vmm_share": t["non_vmm_share"], "row_hit_rate": t["row_hit_rate"],
                                      "data_movement_share": t["data_movement_share"]})
    out["channels"] = []
    base = None
    for ch in (1, 2, 4, 8, 16, 32):
        t = run("pim-gpt", "gpt3-xl", phase="decode", seq_len=1, tokens=32, pim_channels=ch,
                record_events=False).totals
        base = base or t["latency_per_token_ns"]
        out["channels"].append({"channels": ch, "us": t["latency_per_token_ns"] / 1e3,
                                "speedup": base / t["latency_per_token_ns"]})
    out["asic_clock"] = []
    ref = None
    for hz in (1_000_000_000, 500_000_000, 200_000_000, 100_000_000):
        t = run("pim-gpt", "gpt3-xl", phase="decode", seq_len=1, tokens=128, asic_clock_hz=hz,
                record_events=False).totals
        ref = ref or t["latency_per_token_ns"]
        out["asic_clock"].append({"asic_mhz": hz / 1e6, "us": t["latency_per_token_ns"] / 1e3,
                                  "slowdown": t["latency_per_token_ns"] / ref, "non_vmm_share": t["non_vmm_share"]})
    out["devices"] = []
    for arch in ("pim-gpt", "aim", "hbm-pim"):
        t = run(arch, "gpt2-xl", phase="decode", seq_len=1, tokens=tokens, record_events=False).totals
        out["devices"].append({"arch": arch, "us": t["latency_per_token_ns"] / 1e3, "row_hit_rate": t["row_hit_rate"],
                               "unit_utilization": t["pim_unit_utilization"], "energy_uj": t["energy_per_token_pj"] / 1e6})
    return out


def table(rows: list[dict]) -> str:
    if not rows:
        return ""
    cols = list(rows[0])
    fmt = lambda v: f"{v:,.3f}" if isinstance(v, float) else str(v)  # noqa: E731
    width = {c: max(len(c), *(len(fmt(r[c])) for r in rows)) for c in cols}
    lines = ["  ".join(c.ljust(width[c]) for c in cols)]
    lines += ["  ".join(fmt(r[c]).ljust(width[c]) for c in cols) for r in rows]
    return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--tokens", type=int, default=1024, help="tokens of the speed run (default 1024)")
    ap.add_argument("--json", type=Path)
    ap.add_argument("--validate", action="store_true", help="also the PIM-GPT comparison (a few minutes)")
    args = ap.parse_args()
    doc = {"machine": platform.processor() or platform.machine(), "python": platform.python_version()}
    doc["generation"] = bench_generation(args.tokens, args.repeat)
    print(table(doc["generation"]))
    ev = doc["generation"][0]
    print(f"\nGPT-2 XL: {args.tokens} tokens simulated in {ev['wall_s']:.1f} s at the event level "
          f"({ev['tokens_per_wall_s']:.1f} tokens per wall-second; target: {args.tokens} in under 60 s)\n")
    doc["executor"] = bench_executor(args.repeat)
    print(table(doc["executor"]))
    if args.validate:
        doc["validation"] = validate(128)
        for key in ("models", "gpt3xl_context", "channels", "asic_clock", "devices"):
            print(f"\n{key}:\n{table(doc['validation'][key])}")
    if args.json:
        args.json.write_text(json.dumps(doc, indent=1) + "\n")
    return 0 if ev["wall_s"] < 60 or args.tokens != 1024 else 1


if __name__ == "__main__":
    raise SystemExit(main())
