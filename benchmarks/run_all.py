"""``make bench``: run every ``benchmarks/bench_*.py`` in turn (each prints its own table)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def main() -> int:
    rc = 0
    for script in sorted(Path(__file__).parent.glob("bench_*.py")):
        print(f"== {script.name}", flush=True)
        rc |= subprocess.call([sys.executable, str(script)])
        print(flush=True)
    return rc


if __name__ == "__main__":
    raise SystemExit(main())
