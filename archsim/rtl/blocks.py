"""The registry of RTL blocks: sources, bench, parameters and the configurations to verify.

A block named ``X`` lives in ``rtl/X/``: ``X.v`` (top-level module ``X``) plus any sources it
instantiates, and the cocotb bench ``bench_X.py`` that compares it with its Python model on every
cycle. Adding a block to ``archsim verify-rtl`` and the runner tests is adding an entry here.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path


def rtl_root() -> Path:
    """The rtl/ directory of the source tree (``ARCHSIM_RTL_DIR`` overrides it)."""
    env = os.environ.get("ARCHSIM_RTL_DIR")
    return Path(env).resolve() if env else Path(__file__).resolve().parents[2] / "rtl"


@dataclass(frozen=True)
class Block:
    name: str  # top-level module, rtl/<name>/ directory
    sources: tuple[str, ...]  # Verilog files, relative to rtl/, leaves first
    model: str  # the Python cycle model it is compared with
    defaults: dict = field(default_factory=dict)  # every parameter and its default
    configs: tuple[dict, ...] = ()  # parameter sets verified by default (verify-rtl, make test)
    slow_configs: tuple[dict, ...] = ()  # more, for pytest -m slow / verify-rtl --all
    limits: dict = field(default_factory=dict)  # parameter -> (min, max)

    @property
    def bench(self) -> str:
        return f"bench_{self.name}"

    def directory(self) -> Path:
        return rtl_root() / self.name

    def source_paths(self) -> list[Path]:
        return [rtl_root() / s for s in self.sources]

    def resolve(self, params: dict | None = None) -> dict:
        """Every parameter (defaults filled in), validated; raises ValueError naming the bad one."""
        out = dict(self.defaults)
        for key, value in (params or {}).items():
            if key not in self.defaults:
                raise ValueError(f"{self.name}: unknown parameter {key!r} (known: {', '.join(self.defaults)})")
            out[key] = int(value)
        for key, (lo, hi) in self.limits.items():
            if not lo <= out[key] <= hi:
                raise ValueError(f"{self.name}: parameter {key} must be in [{lo}, {hi}], got {out[key]}")
        return out


def describe(params: dict) -> str:
    """``ROWS=4 COLS=4 ACC_W=32`` (``BROKEN`` only when set)."""
    return " ".join(f"{k}={v}" for k, v in params.items() if not (k == "BROKEN" and not v))


def slug(params: dict) -> str:
    """A directory-name form of a full parameter set: ``ROWS4-COLS4-ACC_W32-BROKEN0``."""
    return "-".join(f"{k}{v}" for k, v in params.items())


MAC_PE = Block(
    name="mac_pe",
    sources=("mac_pe/mac_pe.v",),
    model="archsim.hw.systolic.pe.MacPE",
    defaults={"ACC_W": 32, "BROKEN": 0},
    configs=({"ACC_W": 32}, {"ACC_W": 20}),
    limits={"ACC_W": (17, 64), "BROKEN": (0, 1)},
)

SYSTOLIC_ARRAY = Block(
    name="systolic_array",
    sources=("mac_pe/mac_pe.v", "systolic_array/systolic_array.v"),
    model="archsim.hw.systolic.ports.ArrayPorts (PEArray)",
    defaults={"ROWS": 4, "COLS": 4, "ACC_W": 32, "BROKEN": 0},
    configs=({"ROWS": 2, "COLS": 2}, {"ROWS": 4, "COLS": 4}, {"ROWS": 8, "COLS": 8}),
    slow_configs=({"ROWS": 16, "COLS": 16}, {"ROWS": 3, "COLS": 3}, {"ROWS": 3, "COLS": 5}, {"ROWS": 1, "COLS": 1},
                  {"ROWS": 4, "COLS": 4, "ACC_W": 20}),
    limits={"ROWS": (1, 64), "COLS": (1, 64), "ACC_W": (17, 64), "BROKEN": (0, 2)},
)

BITSERIAL_PE = Block(
    name="bitserial_pe",
    sources=("bitserial_pe/bitserial_pe.v",),
    model="archsim.hw.bitserial.pe.BitSerialPEPorts",
    defaults={"LANES": 4, "SCALE_BITS": 8, "DEQUANT": 1, "BROKEN": 0},
    configs=({"SCALE_BITS": 8},),
    slow_configs=({"DEQUANT": 0}, {"SCALE_BITS": 4}, {"SCALE_BITS": 16}),
    limits={"LANES": (4, 4), "SCALE_BITS": (2, 16), "DEQUANT": (0, 1), "BROKEN": (0, 2)},
)

BFP_DOT = Block(
    name="bfp_dot",
    sources=("bfp_dot/bfp_dot.v",),
    model="archsim.hw.bfp.dot.BfpDotModel",
    defaults={"P": 4, "LANES": 4, "BLOCK": 32, "BROKEN": 0},
    configs=({"P": 4, "LANES": 4, "BLOCK": 32},),
    slow_configs=({"P": 8, "LANES": 8, "BLOCK": 64}, {"P": 4, "LANES": 1, "BLOCK": 16}, {"P": 16, "LANES": 4, "BLOCK": 128}),
    limits={"P": (2, 24), "LANES": (1, 128), "BLOCK": (1, 1024), "BROKEN": (0, 1)},
)

PIM_MAC = Block(
    name="pim_mac",
    sources=("pim_mac/pim_mac.v",),
    model="archsim.hw.dram_pim.unit.PimMacUnit",
    defaults={"LANES": 16, "BROKEN": 0},
    configs=({"LANES": 16},),
    slow_configs=({"LANES": 4}, {"LANES": 8}),
    limits={"LANES": (2, 32), "BROKEN": (0, 2)},
)

BLOCKS: dict[str, Block] = {b.name: b for b in (MAC_PE, SYSTOLIC_ARRAY, BITSERIAL_PE, BFP_DOT, PIM_MAC)}
