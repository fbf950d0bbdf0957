"""Instructions of the DRAM replay loop alone, counted by callgrind (a figure that does not vary with
the machine's load, unlike CPU time).

Run: ``python benchmarks/dram_loop_instructions.py [--standard S] [--kind random|sequential]
[--requests N] [--request-bytes B] [--build cython|python]``. It re-runs itself under
``valgrind --tool=callgrind`` with collection on inside ``run_one_channel`` only (the compiled
build's C function; the interpreted build has no C symbol of that name, so use the whole-process
count with ``--whole`` there) and prints the count. Needs valgrind (``apt-get install valgrind``).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile


def simulate(standard: str, kind: str, n: int, request_bytes: int, build: str) -> int:
    from archsim.hw.dram import loop
    from archsim.hw.dram.config import ControllerConfig
    from archsim.hw.dram.controller import DramSystem
    from archsim.hw.dram.mapping import resolve_mapping
    from archsim.hw.dram.standard import load_standard
    from archsim.hw.dram.trace import synthetic_trace

    loop.use(build)
    s = load_standard(standard)
    tr = synthetic_trace(kind, n, seed=1, capacity_bytes=s.capacity_bytes)
    sysm = DramSystem(s, resolve_mapping(None, s, 1), 1, ControllerConfig(request_bytes=request_bytes))
    sysm.add(tr.addr, tr.is_write, tr.arrival_cycle)
    return sysm.run().total_cycles


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--standard", default="ddr4-2400")
    ap.add_argument("--kind", choices=("random", "sequential"), default="random")
    ap.add_argument("--requests", type=int, default=20_000)
    ap.add_argument("--request-bytes", type=int, default=64)
    ap.add_argument("--build", choices=("cython", "python"), default="cython")
    ap.add_argument("--whole", action="store_true", help="count the whole process")
    ap.add_argument("--inner", action="store_true", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.inner:
        print(simulate(a.standard, a.kind, a.requests, a.request_bytes, a.build))
        return 0
    from archsim.hw.dram import loop

    if a.build not in loop.BUILDS:
        sys.stderr.write(f"dram_loop_instructions: --build {a.build}: not installed (builds here: "
                         f"{', '.join(sorted(loop.BUILDS))})\n")
        return 2
    if shutil.which("valgrind") is None:
        sys.stderr.write("dram_loop_instructions: valgrind not found (apt-get install valgrind)\n")
        return 2
    with tempfile.TemporaryDirectory() as tmp:
        cmd = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={os.path.join(tmp, 'cg.out')}"]
        if not a.whole:
            cmd.append("--toggle-collect=*run_one_channel*")
        cmd += [sys.executable, __file__, "--inner", "--standard", a.standard, "--kind", a.kind,
                "--requests", str(a.requests), "--request-bytes", str(a.request_bytes), "--build", a.build]
        r = subprocess.run(cmd, capture_output=True, text=True)
    m = re.search(r"Collected : (\d+)", r.stderr)
    if r.returncode or not m:
        sys.stderr.write(r.stderr[-2000:])
        return 1
    print(f"{a.standard} {a.kind} {a.requests} x {a.request_bytes} B, {a.build}: {int(m.group(1)):,} instructions "
          f"({'whole process' if a.whole else 'run_one_channel'}), {r.stdout.strip()} memory cycles")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
