"""Duplex / Logic-PIM benchmark: speed of the serving loop and the step models, and (``--validate``)
the comparison with the Duplex paper that docs/validation/logic_pim.md reports.

Speed (``make bench``): a 1000-request continuous-batching Mixtral run, Duplex's Fig. 13 setup
(Poisson arrivals at 12 requests/s, input 4096 and output 512 tokens, max batch 128), on Duplex and
on the H100 system; one decode step at the analytic and event levels; the bank-bundle stream,
command by command against its closed form.

Validation (``--validate [PART ...]``, about 20 minutes for every part on 2 cores): Fig. 8 (EDAP
against Op/B), Fig. 11 (throughput and energy per token over the GPU system: Mixtral over batch
32-128 and every input/output pair of 256, 1024, 4096; GLaM; Grok-1), Fig. 14 (Duplex and Bank-PIM
on Mixtral, Llama-3, OPT), Fig. 12 (GLaM latencies at batch 64), Fig. 13 (Mixtral latencies against
the request rate).

Run: ``python benchmarks/bench_logic_pim.py [--json FILE] [--no-speed] [--validate [PART ...]]``.
"""

from __future__ import annotations

import argparse
import json
import math
import platform
import time

from archsim.api import resolve_arch, run
from archsim.hw.logic_pim import bundle
from archsim.hw.logic_pim.edap import edap_table
from archsim.report.tables import format_table
from archsim.serving import serve
from archsim.workload import load_workload

PAPER_EDAP = {"bank-pim": [0.08, 0.16, 0.35, 0.81, 1.00, 1.00], "bg-pim": [1.00, 1.00, 1.00, 1.00, 0.96, 0.67],
              "duplex": [0.66, 0.66, 0.65, 0.65, 0.61, 0.40]}  # Duplex Fig. 8


def timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


# ---------------------------------------------------------------------------------------------
# speed
# ---------------------------------------------------------------------------------------------
def bench_speed() -> dict:
    out: dict = {"serve": [], "step": [], "stream": []}
    for arch in ("duplex", "h100"):
        secs, r = timed(lambda a=arch: serve(a, "mixtral-8x7b", rate=12.0, input_len=4096, output_len=512,
                                             max_batch=128, requests=1000, length_std=0.1, seed=0))
        res = r.results
        out["serve"].append({"arch": arch, "wall_s": secs, "stages": res["stages"]["total"],
                             "us_per_stage": secs / res["stages"]["total"] * 1e6,
                             "throughput_tokens_per_s": res["throughput_tokens_per_s"],
                             "ttft_p50_ms": res["ttft_ms"]["p50"], "tbt_p50_ms": res["tbt_ms"]["p50"],
                             "tbt_p99_ms": res["tbt_ms"]["p99"], "e2e_p50_ms": res["e2e_ms"]["p50"],
                             "energy_per_token_mj": res["energy_per_token_j"] * 1e3,
                             "simulated_s": res["makespan_s"]})
    g = load_workload("mixtral-8x7b", phase="decode", batch=64, seq_len=2048)
    for level in ("analytic", "event"):
        secs, r = timed(lambda lv=level: run("duplex", g, level=lv))
        out["step"].append({"level": level, "wall_s": secs, "step_us": r.totals["time_ns"] / 1e3})
    std = bundle.load_pch_standard("hbm3-5200")
    for ways in (1, 2):
        path = bundle.pim_path(std, "logic", ways)
        nbytes = 4 * 2**20
        secs, ev = timed(lambda p=path, n=nbytes: bundle.simulate_stream(std, p, n))
        cf = bundle.stream_cycles(std, path, nbytes)
        cmds = ev.acts * 2 + ev.reads + ev.refreshes
        out["stream"].append({"ways": ways, "bytes": nbytes, "event_cycles": ev.cycles, "closed_form_cycles": cf.cycles,
                              "commands": cmds, "commands_per_s": cmds / secs, "wall_s": secs,
                              "gb_per_s": nbytes / (ev.cycles * std.tck_ns)})
    return out


# ---------------------------------------------------------------------------------------------
# validation
# ---------------------------------------------------------------------------------------------
SYSTEMS = {  # name -> (arch, serve options)
    "GPU": ("h100", {}),
    "2xGPU": ("h100", {"double": True}),
    "Duplex": ("duplex", {"spec": {"co_processing": False, "expert_split": "ep"}}),
    "Duplex+PE": ("duplex", {"spec": {"expert_split": "ep"}}),
    "Duplex+PE+ET": ("duplex", {}),
    "Bank-PIM": ("bank-pim", {}),
}


def serve_system(name: str, model: str, batch: int, lin: int, lout: int, requests: int, **kw) -> dict:
    from archsim.serving.api import model_dims
    from archsim.serving.plan import default_devices

    arch, opts = SYSTEMS[name]
    spec = resolve_arch(arch).replace(**opts.get("spec", {}))
    devices = None
    if opts.get("double"):
        devices = 2 * default_devices(model_dims(model).weight_bytes, spec.mem_capacity_bytes)
    r = serve(spec, model, input_len=lin, output_len=lout, max_batch=batch, requests=requests, devices=devices,
              length_std=kw.pop("length_std", 0.1), seed=kw.pop("seed", 1), rate=kw.pop("rate", math.inf), **kw)
    return r.results


#: Fig. 11's range: batch 32-128, input and output lengths 256-4096 (every pair of the three)
LENGTHS = (256, 1024, 4096)
GRID = [(b, lin, lout) for b in (32, 64, 128) for lin in LENGTHS for lout in LENGTHS]


def fig11(model: str, grid=GRID, systems=("GPU", "Duplex", "Duplex+PE", "Duplex+PE+ET")) -> dict:
    """Throughput and energy per token of each system over the GPU system, closed loop with
    ``3 x batch`` requests of Gaussian lengths (std 10 %) per point; with a summary per system."""
    rows = []
    for batch, lin, lout in grid:
        res = {s: serve_system(s, model, batch, lin, lout, 3 * batch) for s in systems}
        g = res["GPU"]
        row = {"model": model, "batch": batch, "lin": lin, "lout": lout,
               "gpu_tokens_per_s": g["throughput_tokens_per_s"]}
        for s in systems[1:]:
            row[s] = res[s]["throughput_tokens_per_s"] / g["throughput_tokens_per_s"]
            row[f"{s} energy"] = res[s]["energy_per_token_j"] / g["energy_per_token_j"] - 1
        rows.append(row)
        print(format_table([row], list(row)), flush=True)
    summary = []
    for s in systems[1:]:
        x = [r[s] for r in rows]
        e = [r[f"{s} energy"] for r in rows]
        summary.append({"model": model, "system": s, "points": len(rows), "mean_x": sum(x) / len(x), "max_x": max(x),
                        "min_x": min(x), "mean_energy": sum(e) / len(e), "best_energy": min(e)})
    return {"rows": rows, "summary": summary}


def fig12() -> list[dict]:
    rows = []
    for L in (512, 1024, 2048):
        res = {s: serve_system(s, "glam", 64, L, L, 192) for s in ("GPU", "2xGPU", "Duplex+PE+ET")}
        for s, r in res.items():
            rows.append({"len": L, "system": s, "tbt_p50": r["tbt_ms"]["p50"], "tbt_p90": r["tbt_ms"]["p90"],
                         "tbt_p99": r["tbt_ms"]["p99"], "ttft_p50": r["ttft_ms"]["p50"], "e2e_p50": r["e2e_ms"]["p50"]})
    return rows


def fig13() -> list[dict]:
    rows = []
    for qps in (4, 8, 10, 12, 14, 16):
        for s in ("GPU", "2xGPU", "Duplex+PE+ET"):
            r = serve_system(s, "mixtral-8x7b", 128, 4096, 512, 600, rate=float(qps), seed=0)
            rows.append({"qps": qps, "system": s, "throughput": r["throughput_tokens_per_s"],
                         "ttft_p50_ms": r["ttft_ms"]["p50"], "tbt_p50_ms": r["tbt_ms"]["p50"],
                         "tbt_p90_ms": r["tbt_ms"]["p90"], "e2e_p50_ms": r["e2e_ms"]["p50"]})
    return rows


def fig14() -> list[dict]:
    rows = []
    for model, lengths in (("mixtral-8x7b", (256, 1024, 4096)), ("llama-3-70b", (256, 1024, 4096)),
                           ("opt-66b", (256, 512, 1024))):
        for batch in (32, 64):
            for L in lengths:
                res = {s: serve_system(s, model, batch, L, L, 3 * batch) for s in ("GPU", "Bank-PIM", "Duplex+PE+ET")}
                g = res["GPU"]["throughput_tokens_per_s"]
                b, d = (res[s]["throughput_tokens_per_s"] / g for s in ("Bank-PIM", "Duplex+PE+ET"))
                rows.append({"model": model, "batch": batch, "len": L, "Bank-PIM": b, "Duplex": d,
                             "Duplex/Bank-PIM": d / b})
                print(format_table([rows[-1]], list(rows[-1])), flush=True)
    return rows


def fig8() -> dict:
    t = edap_table({n: resolve_arch(n) for n in ("bank-pim", "bg-pim", "duplex")})
    t["paper"] = PAPER_EDAP
    return t


PARTS = ("fig8", "fig11-mixtral", "fig11-glam", "fig11-grok", "fig14", "fig12", "fig13")


def validate(parts, doc: dict) -> None:
    if "fig8" in parts:
        doc["fig8"] = fig8()
        print("\nFig. 8 EDAP (normalized per Op/B 1, 2, 4, 8, 16, 32; ours / paper):")
        print(format_table([{"placement": n, "ours": " ".join(f"{v:.2f}" for v in vals),
                             "paper": " ".join(f"{v:.2f}" for v in PAPER_EDAP[n])}
                            for n, vals in doc["fig8"]["normalized"].items()], ["placement", "ours", "paper"]))
    for part, model, grid in (("fig11-mixtral", "mixtral-8x7b", GRID),
                              ("fig11-glam", "glam", [(b, L, L) for b in (32, 64, 128) for L in (512, 1024, 2048)]),
                              ("fig11-grok", "grok-1", [(b, L, L) for b in (32, 64, 128) for L in (256, 1024)])):
        if part in parts:
            print(f"\nFig. 11, {model}: throughput and energy per token over the GPU system")
            doc[part] = fig11(model, grid)
            print(format_table(doc[part]["summary"], list(doc[part]["summary"][0])))
    if "fig14" in parts:
        print("\nFig. 14: Bank-PIM and Duplex over the GPU system")
        doc["fig14"] = fig14()
    if "fig12" in parts:
        doc["fig12"] = fig12()
        print(format_table(doc["fig12"], list(doc["fig12"][0])))
    if "fig13" in parts:
        doc["fig13"] = fig13()
        print(format_table(doc["fig13"], list(doc["fig13"][0])))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", help="write the results here")
    ap.add_argument("--validate", nargs="*", choices=PARTS, metavar="PART",
                    help=f"the paper comparison (minutes): all parts, or some of {', '.join(PARTS)}")
    ap.add_argument("--no-speed", action="store_true", help="skip the speed runs")
    args = ap.parse_args()
    doc: dict = {"machine": platform.platform(), "python": platform.python_version()}
    if not args.no_speed:
        speed = bench_speed()
        doc["speed"] = speed
        print("1000-request Mixtral serving runs (Poisson 12/s, 4096 in, 512 out, max batch 128):")
        print(format_table(speed["serve"], ["arch", "wall_s", "stages", "us_per_stage", "throughput_tokens_per_s",
                                            "ttft_p50_ms", "tbt_p50_ms", "tbt_p99_ms", "energy_per_token_mj"]))
        print("\nOne Mixtral decode step (batch 64, context 2048) on Duplex:")
        print(format_table(speed["step"], ["level", "wall_s", "step_us"]))
        print("\nBank-bundle stream of 4 MiB on one pseudo-channel (command level vs closed form):")
        print(format_table(speed["stream"], ["ways", "event_cycles", "closed_form_cycles", "commands",
                                             "commands_per_s", "gb_per_s"]))
    if args.validate is not None:
        validate(args.validate or PARTS, doc)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(doc, f, indent=1)
    if not args.no_speed:
        duplex = next(r["wall_s"] for r in doc["speed"]["serve"] if r["arch"] == "duplex")
        total = sum(r["wall_s"] for r in doc["speed"]["serve"])
        print(f"\n1000-request Mixtral run on Duplex: {duplex:.1f} s of wall time (target: under 60 s); "
              f"both serving runs {total:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
