"""What the runner tells a cocotb bench and what the bench reports back (plain JSON files).

The runner passes the configuration in the environment variable ``ARCHSIM_RTL_CONFIG`` (JSON:
``block``, ``params``, ``sim``, ``seed``, ``report``); the bench writes ``report`` (JSON:
``passed``, ``cycles_compared``, ``message``, ``checks``) whether it passes or fails, so the
runner can print one table row per run.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from archsim.report.atomic import atomic_open

CONFIG_ENV = "ARCHSIM_RTL_CONFIG"


def encode_config(block: str, params: dict, sim: str, seed: int, report: Path, **extra) -> str:
    return json.dumps({"block": block, "params": params, "sim": sim, "seed": seed, "report": str(report), **extra},
                      sort_keys=True)


def read_config() -> dict:
    """The bench's configuration (inside the simulator process)."""
    text = os.environ.get(CONFIG_ENV)
    if not text:
        raise RuntimeError(f"{CONFIG_ENV} is not set: run benches through archsim.rtl.runner.run_block")
    return json.loads(text)


def write_report(path: str | Path, *, passed: bool, cycles_compared: int, message: str = "",
                 checks: list[str] | None = None, **extra) -> None:
    body = {"passed": bool(passed), "cycles_compared": int(cycles_compared), "message": message,
            "checks": list(checks or []), **extra}
    with atomic_open(path) as f:
        f.write(json.dumps(body, indent=1, sort_keys=True) + "\n")


def read_report(path: str | Path) -> dict | None:
    p = Path(path)
    if not p.is_file():
        return None
    return json.loads(p.read_text(encoding="utf-8"))
