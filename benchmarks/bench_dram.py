"""DRAM model speed: requests replayed per CPU-second, next to Ramulator 2.1 and DRAMsim3.

Traces are generated at run time from a seed (500 000 64 B reads by default): ``random``
(uniform over the standard's capacity) and ``sequential``, replayed on one DDR4-2400 channel and
one HBM2 channel with the default mapping (RoBaRaCoCh), FR-FCFS, open page, all-bank refresh; and
``paced`` on DDR4 (random reads arriving one per 200 ns, a mostly idle channel).
Every case also parses the same trace from a DRAMsim3-format file, to show the trace reader's rate.
Each case runs on every build of the replay loop present (``archsim.hw.dram.loop``): the loop
interpreted (``python``) and its Cython build (``cython``, compiled at install time when a C
compiler is there); ``--build`` picks one.

CPU time (``time.process_time``) is the figure, as in the reference measurements of Ramulator 2.1
and DRAMsim3 on the same class of shared 2-core machine (``../shared/reference/dram_pim.md``
section 3): requests per CPU-second 166 k / 283 k (Ramulator, DDR4 random / sequential),
142 k / 203 k (Ramulator, HBM2), 116 k / 273 k and 86 k / 414 k (DRAMsim3); paced DDR4 118 k
(Ramulator, 28.2 M cycles per CPU-second) and 30 k (DRAMsim3). The simulated
bandwidth of each case is printed next to the figure those runs gave, as a sanity check.

Run: ``make bench`` or ``python benchmarks/bench_dram.py [--requests N] [--repeat K] [--build B]
[--json FILE]``.
"""

from __future__ import annotations

import argparse
import json
import platform
import tempfile
import time
from pathlib import Path

from archsim.hw.dram import loop
from archsim.hw.dram.controller import DramSystem
from archsim.hw.dram.mapping import resolve_mapping
from archsim.hw.dram.standard import load_standard
from archsim.hw.dram.trace import read_trace, synthetic_trace, write_trace

# requests per CPU-second measured for Ramulator 2.1 and DRAMsim3 (dram_pim.md section 3) and the
# cycles per request those runs imply (cycles/CPU-s divided by requests/CPU-s)
REFERENCE = {
    ("ddr4-2400", "random"): {"ramulator2_req_per_cpu_s": 166e3, "dramsim3_req_per_cpu_s": 116e3,
                              "ramulator2_cycles_per_req": 1.15e6 / 166e3},
    ("ddr4-2400", "sequential"): {"ramulator2_req_per_cpu_s": 283e3, "dramsim3_req_per_cpu_s": 273e3,
                                  "ramulator2_cycles_per_req": 1.52e6 / 283e3},
    ("hbm2", "random"): {"ramulator2_req_per_cpu_s": 142e3, "dramsim3_req_per_cpu_s": 86e3,
                         "ramulator2_cycles_per_req": 0.54e6 / 142e3},
    ("hbm2", "sequential"): {"ramulator2_req_per_cpu_s": 203e3, "dramsim3_req_per_cpu_s": 414e3,
                             "ramulator2_cycles_per_req": 0.80e6 / 203e3},
    # random reads paced one per 200 ns (mostly idle): the figure is simulated cycles per CPU-second
    ("ddr4-2400", "paced"): {"ramulator2_req_per_cpu_s": 118e3, "dramsim3_req_per_cpu_s": 30e3,
                             "ramulator2_cycles_per_req": 28.2e6 / 118e3},
}
PACED_NS = 200


def bench_case(name: str, kind: str, n: int, repeat: int, tmp: Path, build: str) -> dict:
    loop.use(build)
    s = load_standard(name)
    if kind == "paced":
        tr = synthetic_trace("random", n, seed=1, capacity_bytes=s.capacity_bytes,
                             gap_cycles=round(PACED_NS / s.tck_ns))
    else:
        tr = synthetic_trace(kind, n, seed=1, capacity_bytes=s.capacity_bytes)
    best = None
    for _ in range(repeat):
        t0 = time.process_time()
        sysm = DramSystem(s, resolve_mapping(None, s, 1), 1)
        sysm.add(tr.addr, tr.is_write, tr.arrival_cycle)
        t1 = time.process_time()
        run = sysm.run()
        t2 = time.process_time()
        if best is None or t2 - t0 < best[0]:
            best = (t2 - t0, t1 - t0, run)
    cpu, prep, run = best
    path = write_trace(tr, tmp / f"{name}_{kind}.trace")
    t0 = time.process_time()
    read_trace(path, "dramsim3")
    parse = time.process_time() - t0
    ref = REFERENCE[(name, kind)]
    cycles = run.total_cycles
    return {
        "standard": name, "trace": kind, "loop_build": build, "requests": n, "cpu_s": cpu, "decode_cpu_s": prep,
        "requests_per_cpu_s": n / cpu, "cycles": cycles, "cycles_per_cpu_s": cycles / cpu,
        "cycles_per_request": cycles / n, "bandwidth_gb_per_s": n * 64 / (cycles * s.tck_ns),
        "commands": run.command_totals(), "parse_cpu_s": parse, "parse_requests_per_cpu_s": n / parse,
        **ref, "vs_ramulator2": (n / cpu) / ref["ramulator2_req_per_cpu_s"],
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--requests", type=int, default=500_000)
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--build", choices=["all", "python", "cython"], default="all",
                    help="the replay loop's build to measure (default: every build present)")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    present = loop.BUILDS
    if args.build != "all" and args.build not in present:
        ap.error(f"--build {args.build}: not installed here (present: {', '.join(present)})")
    builds = list(present) if args.build == "all" else [args.build]
    rows = []
    with tempfile.TemporaryDirectory() as d:
        for name in ("ddr4-2400", "hbm2"):
            for kind in ("random", "sequential", "paced"):
                if (name, kind) not in REFERENCE:
                    continue
                for build in builds:
                    rows.append(bench_case(name, kind, args.requests, args.repeat, Path(d), build))
                    r = rows[-1]
                    print(f"{name:10s} {kind:10s} {build:6s} {r['requests']:>8,} req  {r['cpu_s']:7.2f} CPU-s  "
                          f"{r['requests_per_cpu_s']:>9,.0f} req/CPU-s ({r['vs_ramulator2']:.2f}x Ramulator 2.1's "
                          f"{r['ramulator2_req_per_cpu_s']:,.0f})  {r['cycles_per_cpu_s'] / 1e6:5.2f} M cycles/CPU-s  "
                          f"{r['cycles_per_request']:.2f} cycles/req (Ramulator {r['ramulator2_cycles_per_req']:.2f})  "
                          f"{r['bandwidth_gb_per_s']:.2f} GB/s  parse {r['parse_requests_per_cpu_s']:,.0f} req/CPU-s",
                          flush=True)
    if args.json:
        args.json.write_text(json.dumps({"machine": platform.platform(), "python": platform.python_version(),
                                         "cases": rows}, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
