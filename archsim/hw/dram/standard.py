"""DRAM standards: organization, timing (JEDEC names, in clock cycles) and energy parameters.

A :class:`DramStandard` is a frozen, validated spec loaded from YAML
(``archsim/hw/dram/presets/<name>.yaml``, ``version: 1``, ``kind: dram_standard``). Every timing
value is a whole number of cycles of the DRAM command clock (``clock_hz``; ``tck_ns`` is derived).
The constraint tables that use these values are built per ``family`` in
:mod:`archsim.hw.dram.timing`.

Organization of one channel (the unit one controller drives):

* ``ranks``: ranks, or pseudo-channels for HBM (each has its own data bus and bank set; HBM
  pseudo-channels share the channel's row and column command buses)
* ``bankgroups`` x ``banks_per_group`` banks per rank, ``rows`` rows per bank
* ``columns``: bursts per row (row size = ``columns * burst_bytes``)
* ``burst_bytes``: bytes moved by one RD/WR (``channel_width_bits * BL / 8``)
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from archsim.errors import InputError
from archsim.specs import load_yaml

PRESETS_DIR = Path(__file__).parent / "presets"

FAMILIES = ("ddr4", "ddr5", "lpddr5", "gddr6", "hbm2", "hbm3")

#: timing parameters every standard must give (cycles)
REQUIRED_TIMINGS = ("tBURST", "CL", "CWL", "tRCD", "tRP", "tRAS", "tRC", "tCCD_S", "tCCD_L", "tRRD_S", "tRRD_L",
                    "tFAW", "tWR", "tWTR_S", "tWTR_L", "tRTP", "tRFC", "tREFI")
#: optional timing parameters and what they default to (another parameter's value, or a number)
OPTIONAL_TIMINGS: dict[str, str | int] = {
    "tRCDWR": "tRCD",        # ACT to WR where the standard separates it (HBM, GDDR6)
    "tRPab": "tRP",          # all-bank precharge period (LPDDR5)
    "tCCD_S_WR": "tCCD_S",   # write-to-write, different bank group (DDR5, LPDDR5)
    "tCCD_L_WR": "tCCD_L",   # write-to-write, same bank group (DDR5: 48 nCK at 4800)
    "tPPD": 0,               # precharge-to-precharge (DDR5, LPDDR5, HBM3)
    "tCS": 2,                # rank-to-rank switch on the shared data bus (Ramulator's nCS)
    "tRFCpb": 0,             # per-bank refresh cycle time (0 = no per-bank refresh)
    "tREFIpb": 0,            # per-bank refresh interval
    "tRREFD": 0,             # REFpb to ACT of another bank
}
ENERGY_MODELS = ("idd", "datapath")
IDD_FIELDS = ("vdd_v", "idd0_ma", "idd2n_ma", "idd3n_ma", "idd4r_ma", "idd4w_ma", "idd5ab_ma")
DATAPATH_FIELDS = ("act_pj", "cell_pj_per_bit", "coldec_pj_per_bit", "bgmux_gio_pj_per_bit", "tsv_pj_per_bit",
                   "io_pj_per_bit")


@dataclass(frozen=True)
class DramStandard:
    """One DRAM standard at one speed bin (see the module docstring for the organization fields).

    * ``clock_hz``: command clock (CK); every timing value is in cycles of it
    * ``timing_cycles``: JEDEC timing parameters in cycles (``tBURST`` is the data-bus time of one
      burst, BL / beats per CK); see :data:`REQUIRED_TIMINGS` and :data:`OPTIONAL_TIMINGS`
    * ``command_cycles``: command-bus cycles of multi-cycle commands (``{"ACT": 2}`` on HBM2);
      JEDEC timings count from a command's last cycle, so constraints are adjusted as Ramulator 2 does
    * ``dual_command_bus``: separate row and column command buses (HBM): one row and one column
      command may issue per cycle
    * ``energy``: ``{"idd": {...}, "datapath": {...}}`` (see :mod:`archsim.hw.dram.energy`)
    * ``sources``: where each group of numbers comes from
    """

    name: str
    family: str
    clock_hz: int
    channels: int
    ranks: int
    bankgroups: int
    banks_per_group: int
    rows: int
    columns: int
    burst_bytes: int
    channel_width_bits: int
    burst_length: int
    timing_cycles: dict[str, int]
    command_cycles: dict[str, int] = field(default_factory=dict)
    dual_command_bus: bool = False
    energy: dict[str, dict[str, float]] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)
    path: str = ""

    def __post_init__(self) -> None:
        src = self.path or None
        if self.family not in FAMILIES:
            raise InputError(src, "family", f"one of {list(FAMILIES)}", self.family)
        for f in ("clock_hz", "channels", "ranks", "bankgroups", "banks_per_group", "rows", "columns", "burst_bytes",
                  "channel_width_bits", "burst_length"):
            v = getattr(self, f)
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise InputError(src, f, "a positive integer", v)
        for f in ("rows", "columns", "bankgroups", "banks_per_group", "ranks", "burst_bytes"):
            v = getattr(self, f)
            if v & (v - 1):
                raise InputError(src, f, "a power of two (address bits map to it)", v)
        if self.channel_width_bits * self.burst_length != 8 * self.burst_bytes:
            raise InputError(src, "burst_bytes", f"channel_width_bits * burst_length / 8 = "
                             f"{self.channel_width_bits * self.burst_length / 8:g}", self.burst_bytes)
        t = self.timing_cycles
        for name in REQUIRED_TIMINGS:
            if name not in t:
                raise InputError(src, f"timing_cycles.{name}", "a timing value in cycles")
        known = set(REQUIRED_TIMINGS) | set(OPTIONAL_TIMINGS)
        for name, v in t.items():
            if name not in known:
                raise InputError(src, f"timing_cycles.{name}", f"one of {sorted(known)}", name)
            if isinstance(v, bool) or not isinstance(v, int) or v < 0:
                raise InputError(src, f"timing_cycles.{name}", "a non-negative integer number of cycles", v)
        for name in ("tBURST", "tRC", "tRAS", "tREFI", "tRFC", "tFAW"):
            if t[name] < 1:
                raise InputError(src, f"timing_cycles.{name}", "at least 1 cycle", t[name])
        if t["tRC"] < t["tRAS"]:
            raise InputError(src, "timing_cycles.tRC", f">= tRAS ({t['tRAS']})", t["tRC"])
        for cmd, n in self.command_cycles.items():
            if cmd not in ("ACT", "PRE", "PREA", "RD", "WR", "RDA", "WRA", "REFab", "REFpb"):
                raise InputError(src, f"command_cycles.{cmd}", "a command name (ACT, PRE, RD, WR, ...)", cmd)
            if isinstance(n, bool) or not isinstance(n, int) or n < 1:
                raise InputError(src, f"command_cycles.{cmd}", "a positive number of cycles", n)
        for model, params in self.energy.items():
            if model not in ENERGY_MODELS:
                raise InputError(src, f"energy.{model}", f"one of {list(ENERGY_MODELS)}", model)
            need = IDD_FIELDS if model == "idd" else DATAPATH_FIELDS
            for k in need:
                if k not in params:
                    raise InputError(src, f"energy.{model}.{k}", "a number")
            for k, v in params.items():
                if isinstance(v, bool) or not isinstance(v, int | float) or v < 0:
                    raise InputError(src, f"energy.{model}.{k}", "a non-negative number", v)

    # -- derived ----------------------------------------------------------------------------------
    def t(self, name: str) -> int:
        """Timing parameter ``name`` in cycles (optional ones resolved to their defaults)."""
        v = self.timing_cycles.get(name)
        if v is not None:
            return v
        d = OPTIONAL_TIMINGS[name]
        return self.t(d) if isinstance(d, str) else d

    @property
    def tck_ns(self) -> float:
        return 1e9 / self.clock_hz

    @property
    def banks_per_rank(self) -> int:
        return self.bankgroups * self.banks_per_group

    @property
    def banks(self) -> int:
        """Banks per channel (all ranks / pseudo-channels)."""
        return self.ranks * self.banks_per_rank

    @property
    def row_bytes(self) -> int:
        return self.columns * self.burst_bytes

    @property
    def read_latency_cycles(self) -> int:
        """RD issue to last data beat: CL + tBURST (Ramulator 2's ``read_latency``)."""
        return self.t("CL") + self.t("tBURST")

    @property
    def peak_bytes_per_cycle(self) -> float:
        """Peak data rate of one channel: one burst per tBURST on each rank/pseudo-channel data bus
        (HBM pseudo-channels have their own DQ; DDR ranks share one)."""
        buses = self.ranks if self.family in ("hbm2", "hbm3") else 1
        return buses * self.burst_bytes / self.t("tBURST")

    @property
    def capacity_bytes(self) -> int:
        return self.channels * self.banks * self.rows * self.row_bytes

    def replace(self, **changes: Any) -> DramStandard:
        return dataclasses.replace(self, **{k: v for k, v in changes.items() if v is not None})

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d.pop("path")
        d["tck_ns"] = self.tck_ns
        d["timing_cycles"] = {k: self.t(k) for k in (*REQUIRED_TIMINGS, *OPTIONAL_TIMINGS)}
        d["peak_bytes_per_cycle"] = self.peak_bytes_per_cycle
        d["peak_gb_per_s"] = self.peak_bytes_per_cycle * self.clock_hz * self.channels / 1e9
        d["source_file"] = Path(self.path).name if self.path else ""
        return d


# ---------------------------------------------------------------------------------------------
# loading
# ---------------------------------------------------------------------------------------------
_ORG = ("channels", "ranks", "bankgroups", "banks_per_group", "rows", "columns", "burst_bytes", "channel_width_bits",
        "burst_length")


def list_standards() -> list[str]:
    """Names of the DRAM standard presets (what ``--standard`` and ``--dram`` accept)."""
    return sorted(p.stem for p in PRESETS_DIR.glob("*.yaml"))


def standard_from_mapping(data: Any, source: str) -> DramStandard:
    """A :class:`DramStandard` from a parsed preset document (one InputError per bad field)."""
    if not isinstance(data, dict):
        raise InputError(source, None, "a mapping with version, kind: dram_standard and dram_standard",
                         type(data).__name__)
    if data.get("version") != 1:
        raise InputError(source, "version", "1", data.get("version"))
    if data.get("kind") != "dram_standard":
        raise InputError(source, "kind", "dram_standard", data.get("kind"))
    body = data.get("dram_standard")
    if not isinstance(body, dict):
        raise InputError(source, "dram_standard", "a mapping of the standard's fields", body)
    allowed = {"name", "family", "clock_hz", "tck_ps", "organization", "timing_cycles", "command_cycles",
               "dual_command_bus", "energy", "sources"}
    for k in body:
        if k not in allowed:
            raise InputError(source, f"dram_standard.{k}", f"one of {sorted(allowed)}", k)
    org = body.get("organization")
    if not isinstance(org, dict):
        raise InputError(source, "dram_standard.organization", f"a mapping with {list(_ORG)}", org)
    for k in org:
        if k not in _ORG:
            raise InputError(source, f"dram_standard.organization.{k}", f"one of {list(_ORG)}", k)
    for k in _ORG:
        if k not in org:
            raise InputError(source, f"dram_standard.organization.{k}", "a positive integer")
    for k in ("timing_cycles", "command_cycles", "energy", "sources"):
        v = body.get(k, {})
        if not isinstance(v, dict):
            raise InputError(source, f"dram_standard.{k}", "a mapping", v)
    clock = body.get("clock_hz")
    if isinstance(clock, float) and clock == int(clock):
        clock = int(clock)
    tck = body.get("tck_ps")  # optional, for readers: must agree with clock_hz to 0.5 ps
    if tck is not None and isinstance(clock, int) and clock > 0:
        if isinstance(tck, bool) or not isinstance(tck, int | float) or abs(tck - 1e12 / clock) > 0.5:
            raise InputError(source, "dram_standard.tck_ps", f"1e12 / clock_hz = {1e12 / clock:.3f} ps", tck)
    try:
        return DramStandard(
            name=str(body.get("name", Path(source).stem)), family=str(body.get("family")), clock_hz=clock,
            **{k: org[k] for k in _ORG}, timing_cycles=dict(body.get("timing_cycles") or {}),
            command_cycles=dict(body.get("command_cycles") or {}),
            dual_command_bus=bool(body.get("dual_command_bus", False)),
            energy={k: dict(v) if isinstance(v, dict) else v for k, v in (body.get("energy") or {}).items()},
            sources={str(k): str(v) for k, v in (body.get("sources") or {}).items()}, path=str(source))
    except InputError as e:
        if e.source is None:
            raise InputError(source, f"dram_standard.{e.field}" if e.field else None, e.expected, e.got) from None
        raise
    except (AttributeError, TypeError) as e:
        raise InputError(source, "dram_standard", "a well-formed standard", str(e)) from None


def load_standard(name_or_path: str | Path) -> DramStandard:
    """A standard from a preset name (``hbm2``, ``ddr4-2400``, ...) or a ``.yaml`` file."""
    p = Path(name_or_path)
    if p.suffix in (".yaml", ".yml"):
        if not p.exists():
            raise InputError("--standard", None, "an existing DRAM standard .yaml file", str(name_or_path))
        return standard_from_mapping(load_yaml(p), str(p))
    preset = PRESETS_DIR / f"{str(name_or_path).lower()}.yaml"
    if not preset.exists():
        raise InputError("--standard", None, f"a DRAM standard preset ({', '.join(list_standards())}) or a .yaml file",
                         str(name_or_path))
    return standard_from_mapping(load_yaml(preset), str(preset))
