"""Bit-serial (BitMoD) benchmark: the paper's whole evaluation, checked and timed.

For each convention (``bitmod-sim``: the artifact's cycle model; ``physical``: archsim's) it runs
the six LLMs of BitMoD HPCA'25 (OPT-1.3B, Phi-2, Yi-6B, Llama-2-7B, Llama-2-13B, Llama-3-8B) on
the five configurations (FP16, BitMoD lossless/lossy, ANT, OliVe), prefill (256 tokens) and one
decode step at context 256: 60 simulations. It prints the speed-ups next to the paper's, counts
how many of the notebook's per-model cycle numbers the ``bitmod-sim`` run reproduces exactly, and
reports wall time. Run: ``python benchmarks/bench_bitserial.py [--json FILE]``.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from archsim.hw.bitserial.evaluation import MODELS, cycle_table, speedups

ROOT = Path(__file__).resolve().parents[1]
GOLD = json.loads((ROOT / "tests" / "bitserial" / "data" / "bitmod_notebook_cycles.json").read_text())
KEYS = {"fp16": "fp16", "bitmod-lossless": "bitmod_lossless", "bitmod-lossy": "bitmod_lossy", "ant": "ant",
        "olive": "olive"}
#: BitMoD HPCA'25 §V-C and abstract
PAPER = {"lossless_disc": 1.99, "lossless_gen": 2.41, "over_ant": 1.69, "over_olive": 1.48}


def bench(convention: str) -> dict:
    t0 = time.perf_counter()
    table = cycle_table(convention=convention)
    secs = time.perf_counter() - t0
    s = speedups(table)
    exact = total = 0
    for cfg, key in KEYS.items():
        for ph, suf in (("prefill", "d"), ("decode", "g")):
            gold = GOLD[f"{key}_{suf}"]
            exact += sum(a == b for a, b in zip(table[cfg][ph], gold))
            total += len(gold)
    return {"convention": convention, "seconds": secs, "simulations": 2 * len(KEYS) * len(MODELS),
            "notebook_exact": f"{exact}/{total}", "lossless_disc": s["bitmod-lossless"]["disc_mean"],
            "lossless_gen": s["bitmod-lossless"]["gen_mean"], "over_ant": s["lossy_over_ant"]["mean"],
            "over_olive": s["lossy_over_olive"]["mean"], "table": table}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", type=Path, help="also write the results as JSON")
    args = ap.parse_args()
    rows = [bench("bitmod-sim"), bench("physical")]
    print(f"{'convention':12s} {'sims':>5s} {'wall s':>7s} {'notebook exact':>15s} {'lossless disc':>14s} "
          f"{'lossless gen':>13s} {'over ANT':>9s} {'over OliVe':>11s}")
    print(f"{'paper':12s} {'':>5s} {'':>7s} {'':>15s} {PAPER['lossless_disc']:14.3f} {PAPER['lossless_gen']:13.3f} "
          f"{PAPER['over_ant']:9.3f} {PAPER['over_olive']:11.3f}")
    for r in rows:
        print(f"{r['convention']:12s} {r['simulations']:5d} {r['seconds']:7.2f} {r['notebook_exact']:>15s} "
              f"{r['lossless_disc']:14.3f} {r['lossless_gen']:13.3f} {r['over_ant']:9.3f} {r['over_olive']:11.3f}")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
