"""Read SCALE-Sim ``.cfg`` files (v2 keys; v3's extra sections are ignored) as SystolicSpecs.

Keys (configparser, case-insensitive): ``[architecture_presets] ArrayHeight, ArrayWidth,
IfmapSramSzkB, FilterSramSzkB, OfmapSramSzkB, IfmapOffset, FilterOffset, OfmapOffset, Dataflow,
Bandwidth`` and ``[run_presets] InterfaceBandwidth``. Sizes are KB of 1-byte words (SCALE-Sim's
``word_size = 1``). ``Bandwidth`` (words/cycle; only the first of a comma list is used, as in
SCALE-Sim) becomes the physical convention's DRAM bandwidth.
"""

from __future__ import annotations

import configparser
from pathlib import Path

from archsim.errors import InputError, read_input_text
from archsim.hw.systolic.spec import DATAFLOWS, SystolicSpec


def _int(cp: configparser.ConfigParser, src: str, section: str, key: str, *, minimum: int = 0) -> int:
    if not cp.has_option(section, key):
        raise InputError(src, f"[{section}] {key}", "an integer (required key)")
    raw = cp.get(section, key).strip()
    try:
        v = int(raw)
    except ValueError:
        raise InputError(src, f"[{section}] {key}", "an integer", raw) from None
    if v < minimum:
        raise InputError(src, f"[{section}] {key}", f"an integer >= {minimum}", v)
    return v


def load_scalesim_cfg(path: str | Path) -> SystolicSpec:
    """A SCALE-Sim config as a :class:`SystolicSpec` (convention left at its default)."""
    p = Path(path)
    src = str(p)
    cp = configparser.ConfigParser()
    text = read_input_text(p)
    try:
        cp.read_string(text, source=src)
    except configparser.Error as e:
        raise InputError(src, None, "an INI file with [architecture_presets] and [run_presets] sections",
                         str(e).splitlines()[0]) from None
    sec = "architecture_presets"
    if not cp.has_section(sec):
        raise InputError(src, f"[{sec}]", "a section with ArrayHeight, ArrayWidth, SRAM sizes and Dataflow")
    mode = cp.get("run_presets", "InterfaceBandwidth", fallback="CALC").strip()
    if mode not in ("CALC", "USER"):
        raise InputError(src, "[run_presets] InterfaceBandwidth", "CALC or USER", mode)
    df = cp.get(sec, "Dataflow", fallback="").strip()
    if df not in DATAFLOWS:
        raise InputError(src, f"[{sec}] Dataflow", f"one of {list(DATAFLOWS)}", df)
    bw_raw = cp.get(sec, "Bandwidth", fallback="").strip()
    bw = None
    if bw_raw:
        first = bw_raw.split(",")[0].strip()
        try:
            bw = int(first)
        except ValueError:
            raise InputError(src, f"[{sec}] Bandwidth", "an integer number of words per cycle", bw_raw) from None
        if bw <= 0:
            raise InputError(src, f"[{sec}] Bandwidth", "a positive number of words per cycle", bw)
    elif mode == "USER":
        raise InputError(src, f"[{sec}] Bandwidth", "words per cycle (required with InterfaceBandwidth = USER)")
    name = cp.get("general", "run_name", fallback=p.stem).strip() or p.stem
    kb = 1024
    spec = SystolicSpec(
        name=name,
        rows=_int(cp, src, sec, "ArrayHeight", minimum=1),
        cols=_int(cp, src, sec, "ArrayWidth", minimum=1),
        dataflow=df,
        ifmap_sram_bytes=_int(cp, src, sec, "IfmapSramSzkB", minimum=1) * kb,
        filter_sram_bytes=_int(cp, src, sec, "FilterSramSzkB", minimum=1) * kb,
        ofmap_sram_bytes=_int(cp, src, sec, "OfmapSramSzkB", minimum=1) * kb,
        ifmap_offset=_int(cp, src, sec, "IfmapOffset") if cp.has_option(sec, "IfmapOffset") else 0,
        filter_offset=_int(cp, src, sec, "FilterOffset") if cp.has_option(sec, "FilterOffset") else 10_000_000,
        ofmap_offset=_int(cp, src, sec, "OfmapOffset") if cp.has_option(sec, "OfmapOffset") else 20_000_000,
        dram_bytes_per_cycle=float(bw) if bw else SystolicSpec.dram_bytes_per_cycle,
        source=f"SCALE-Sim cfg {p.name} (InterfaceBandwidth={mode})",
    )
    object.__setattr__(spec, "_scalesim_mode", mode)
    return spec
