"""Duplex / Logic-PIM benchmark: speed of the serving loop and the step models, and (``--validate``)
the comparison with the Duplex paper that docs/validation/logic_pim.md reports.

Speed (``make bench``): a 1000-request continuous-batching Mixtral run, Duplex's Fig. 13 setup
(Poisson arrivals at 12 requests/s, input 4096 and output 512 tokens, max batch 128), on Duplex and
on the H100 system; one decode step at the analytic and event levels; the bank-bundle stream,
command by command against its closed form.

Validation (a few minutes): Fig. 11 (Mixtral, GLaM, Grok-1 throughput over the GPU system for
batch 32-128 and input/output 256-4096, five systems), Fig. 12 (GLaM latencies at batch 64), Fig. 13
(Mixtral latencies against the request rate), Fig. 14 (Duplex and Bank-PIM on Mixtral, Llama-3,
OPT), energy (Sec. VII-D) and Fig. 8 (EDAP against Op/B).

Run: ``python benchmarks/bench_logic_pim.py [--json FILE] [--validate]``.
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


def fig11(models: dict, systems=("GPU", "2xGPU", "Duplex", "Duplex+PE", "Duplex+PE+ET")) -> list[dict]:
    rows = []
    for model, lengths in models.items():
        for batch in (32, 64, 128):
            for L in lengths:
                res = {s: serve_system(s, model, batch, L, L, 3 * batch) for s in systems}
                g = res["GPU"]
                row = {"model": model, "batch": batch, "len": L, "gpu_tokens_per_s": g["throughput_tokens_per_s"]}
                for s in systems[1:]:
                    row[s] = res[s]["throughput_tokens_per_s"] / g["throughput_tokens_per_s"]
                    row[f"{s} energy"] = res[s]["energy_per_token_j"] / g["energy_per_token_j"] - 1
                rows.append(row)
                print(format_table([row], list(row)), flush=True)
    return rows


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
                rows.append({"model": model, "batch": batch, "len": L,
                             "Bank-PIM": res["Bank-PIM"]["throughput_tokens_per_s"] / g,
                             "Duplex": res["Duplex+PE+ET"]["throughput_tokens_per_s"] / g})
                print(format_table([rows[-1]], list(rows[-1])), flush=True)
    return rows


def fig8() -> dict:
    t = edap_table({n: resolve_arch(n) for n in ("bank-pim", "bg-pim", "duplex")})
    t["paper"] = PAPER_EDAP
    return t


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", help="write the results here")
    ap.add_argument("--validate", action="store_true", help="the paper comparison (minutes)")
    args = ap.parse_args()
    doc: dict = {"machine": platform.platform(), "python": platform.python_version()}
    speed = bench_speed()
    doc["speed"] = speed
    print("1000-request Mixtral serving runs (Poisson 12/s, 4096 in, 512 out, max batch 128):")
    print(format_table(speed["serve"], ["arch", "wall_s", "stages", "us_per_stage", "throughput_tokens_per_s",
                                        "ttft_p50_ms", "tbt_p50_ms", "tbt_p99_ms", "energy_per_token_mj"]))
    print("\nOne Mixtral decode step (batch 64, context 2048) on Duplex:")
    print(format_table(speed["step"], ["level", "wall_s", "step_us"]))
    print("\nBank-bundle stream of 4 MiB on one pseudo-channel (command level vs closed form):")
    print(format_table(speed["stream"], ["ways", "event_cycles", "closed_form_cycles", "commands", "commands_per_s",
                                         "gb_per_s"]))
    if args.validate:
        doc["fig8"] = fig8()
        print("\nFig. 8 EDAP (normalized per Op/B):", json.dumps(doc["fig8"]["normalized"]))
        doc["fig11"] = fig11({"mixtral-8x7b": (256, 1024, 4096), "glam": (512, 1024, 2048),
                              "grok-1": (256, 1024, 4096)})
        doc["fig14"] = fig14()
        doc["fig12"] = fig12()
        print(format_table(doc["fig12"], list(doc["fig12"][0])))
        doc["fig13"] = fig13()
        print(format_table(doc["fig13"], list(doc["fig13"][0])))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(doc, f, indent=1)
    total = sum(r["wall_s"] for r in speed["serve"])
    print(f"\nserving runs: {total:.1f} s of wall time (target: under 60 s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
