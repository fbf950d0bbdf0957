"""Trace replay: a trace through the DRAM model, and the figures a report needs.

    >>> from archsim.hw.dram.replay import replay
    >>> res = replay("hbm2", "traces/dram/hbm2_random.trace")            # doctest: +SKIP
    >>> res.figures["bandwidth_gb_per_s"], res.figures["commands"]["ACT"]  # doctest: +SKIP

The front end issues requests in trace order, respecting arrival cycles, at most
``accepts_per_cycle`` per memory cycle; each request is split into native bursts; the run ends
when every read has returned and every write has issued (:mod:`archsim.hw.dram.controller`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from archsim import SCHEMA_VERSION, __version__
from archsim.engine.events import EventTable
from archsim.errors import InputError
from archsim.hw.dram.bursts import expand
from archsim.hw.dram.config import ControllerConfig
from archsim.hw.dram.controller import DramSystem
from archsim.hw.dram.energy import energy_report
from archsim.hw.dram.mapping import AddressMapping, resolve_mapping
from archsim.hw.dram.reference import simulate_reference
from archsim.hw.dram.results import DramRun
from archsim.hw.dram.standard import DramStandard, load_standard
from archsim.hw.dram.trace import Trace, read_trace

LEVELS = ("event", "cycle")
#: the cycle-stepped reference is for small traces
CYCLE_LEVEL_MAX_REQUESTS = 20_000


@dataclass
class ReplayResult:
    """A replay's resolved inputs, its raw :class:`DramRun` and the report figures (units in names)."""

    standard: DramStandard
    mapping: AddressMapping
    channels: int
    config: ControllerConfig
    trace: Trace
    level: str
    run: DramRun
    figures: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def to_report(self) -> dict[str, Any]:
        """The ``report.json`` document (deterministic: no timestamps, no host names)."""
        return {
            "schema_version": SCHEMA_VERSION,
            "archsim_version": __version__,
            "kind": "dram_replay",
            "inputs": {
                "standard": self.standard.to_dict(),
                "channels": self.channels,
                "mapping": self.mapping.to_dict(),
                "controller": self.config.to_dict(),
                "trace": {"path": self.trace.path, "format": self.trace.format, "requests": len(self.trace)},
                "level": self.level,
            },
            "results": self.figures,
            "notes": self.notes,
        }


def _figures(s: DramStandard, tr: Trace, run: DramRun, channels: int, cfg: ControllerConfig) -> dict[str, Any]:
    tck = s.tck_ns
    T = run.total_cycles
    n = len(tr)
    reads = ~tr.is_write
    nbytes = n * max(cfg.request_bytes, s.burst_bytes)
    lat = (run.done_cycle - run.accept_cycle)[reads]
    lat_trace = (run.done_cycle - tr.arrival_cycle)[reads]
    tot = run.command_totals()
    hits = [sum(ch[k] for ch in run.row_hits) for k in (0, 1)]
    miss = [sum(ch[k] for ch in run.row_misses) for k in (0, 1)]
    conf = [sum(ch[k] for ch in run.row_conflicts) for k in (0, 1)]
    peak = s.peak_bytes_per_cycle * channels / tck  # bytes per ns = GB/s
    bw = nbytes / (T * tck) if T else 0.0
    summary = {
        "ACT": tot.get("ACT", 0),
        "RD": tot.get("RD", 0) + tot.get("RDA", 0),
        "WR": tot.get("WR", 0) + tot.get("WRA", 0),
        "PRE": tot.get("PRE", 0) + tot.get("PREA", 0),
        "REF": tot.get("REFab", 0) + tot.get("REFpb", 0),
    }
    return {
        "total_cycles": T,
        "simulated_ns": T * tck,
        "tck_ns": tck,
        "requests": n,
        "read_requests": int(reads.sum()),
        "write_requests": int(n - reads.sum()),
        "bytes": nbytes,
        "bursts": n * max(cfg.request_bytes // s.burst_bytes, 1),
        "bandwidth_gb_per_s": bw,
        "peak_bandwidth_gb_per_s": peak,
        "bandwidth_utilization": bw / peak if peak else 0.0,
        "avg_read_latency_cycles": float(lat.mean()) if len(lat) else 0.0,
        "avg_read_latency_ns": float(lat.mean()) * tck if len(lat) else 0.0,
        "max_read_latency_cycles": int(lat.max()) if len(lat) else 0,
        "avg_read_latency_from_trace_cycles": float(lat_trace.mean()) if len(lat) else 0.0,
        "row_hits": hits[0] + hits[1],
        "row_misses": miss[0] + miss[1],
        "row_conflicts": conf[0] + conf[1],
        "read_row_hits": hits[0], "read_row_misses": miss[0], "read_row_conflicts": conf[0],
        "write_row_hits": hits[1], "write_row_misses": miss[1], "write_row_conflicts": conf[1],
        "row_hit_rate": (hits[0] + hits[1]) / max(sum(hits) + sum(miss) + sum(conf), 1),
        "commands": summary,
        "commands_detail": {k: v for k, v in tot.items()},
        "refreshes": summary["REF"],
        "refreshes_per_rank": (summary["REF"] / (channels * s.ranks)) if cfg.refresh == "all-bank" else None,
        "forwarded_reads": run.forwarded_reads,
        "coalesced_writes": run.coalesced_writes,
        "per_channel": [
            {"channel": c, "commands": run.commands[c], "row_hits": run.row_hits[c], "row_misses": run.row_misses[c],
             "row_conflicts": run.row_conflicts[c], "active_cycles_per_rank": run.active_cycles[c]}
            for c in range(channels)],
        "energy": energy_report(s, run),
    }


def replay(standard: str | DramStandard, trace: str | Path | Trace, *, trace_format: str | None = None,
           mapping: str | None = None, channels: int | None = None, config: ControllerConfig | None = None,
           level: str = "event", record_commands: bool = False) -> ReplayResult:
    """Replay ``trace`` (a file or a :class:`Trace`) on ``standard`` (a preset name, a ``.yaml``
    or a :class:`DramStandard`). ``level`` ``event`` is the fast controller, ``cycle`` the
    cycle-stepped reference (small traces). ``record_commands`` keeps every issued command in
    ``result.run.log``."""
    s = standard if isinstance(standard, DramStandard) else load_standard(standard)
    if level not in LEVELS:
        raise InputError("--level", None, f"one of {list(LEVELS)}", level)
    tr = trace if isinstance(trace, Trace) else read_trace(trace, trace_format)
    cfg = config or ControllerConfig()
    nch = channels or s.channels
    if nch < 1 or nch & (nch - 1):
        raise InputError("--channels", None, "a power of two", nch)
    m = resolve_mapping(mapping, s, nch, cfg.request_bytes)
    notes = []
    if level == "cycle":
        if len(tr) > CYCLE_LEVEL_MAX_REQUESTS:
            raise InputError("--level", None, f"a trace of at most {CYCLE_LEVEL_MAX_REQUESTS} requests for the "
                             "cycle-stepped reference", len(tr))
        sysm = DramSystem(s, m, nch, cfg)  # validates the configuration the same way
        del sysm
        run = simulate_reference(s, expand(tr, s, m, nch, cfg.request_bytes), nch, cfg, record=record_commands)
    else:
        sysm = DramSystem(s, m, nch, cfg, record=record_commands)
        if len(tr):
            sysm.add(tr.addr, tr.is_write, tr.arrival_cycle)
        run = sysm.run()
    fig = _figures(s, tr, run, nch, cfg)
    notes += fig["energy"].pop("notes")
    if cfg.request_bytes < s.burst_bytes:
        notes.append(f"requests of {cfg.request_bytes} B each move a whole {s.burst_bytes} B burst")
    if len(tr) and np.any(np.diff(tr.arrival_cycle) < 0):
        notes.append("arrival cycles decrease somewhere in the trace: requests are still issued in trace order")
    return ReplayResult(s, m, nch, cfg, tr, level, run, fig, notes)


def command_events(res: ReplayResult) -> EventTable:
    """The recorded commands as an event table for the timeline: one track per bank
    (``ch0.r0.bg1.b2``; rank-wide commands on ``ch0.r0``), each command a span from its issue to
    the end of its own time (ACT: tRCD, PRE/PREA: tRP, REF: tRFC, RD/WR: the burst on the data
    bus, CL / CWL after the command), and the data bursts on a ``chN.data`` track as
    ``dram_read`` / ``dram_write`` spans (the timeline's bandwidth counters read them)."""
    s = res.standard
    t = s.t
    dur = {"ACT": t("tRCD"), "PRE": t("tRP"), "PREA": t("tRPab"), "REFab": t("tRFC"),
           "REFpb": t("tRFCpb") or t("tRFC")}
    cols = {k: [] for k in ("start_cycle", "end_cycle", "unit", "op", "kind", "bytes")}

    def add(start, end, unit, op, kind, nbytes=0):
        cols["start_cycle"].append(start)
        cols["end_cycle"].append(end)
        cols["unit"].append(unit)
        cols["op"].append(op)
        cols["kind"].append(kind)
        cols["bytes"].append(nbytes)

    bl = t("tBURST")
    for clk, ch, cmd, r, g, b, _row in res.run.log:
        unit = f"ch{ch}.r{r}" if b < 0 else f"ch{ch}.r{r}.bg{g}.b{b}"
        if cmd in ("RD", "RDA", "WR", "WRA"):
            lat = t("CL") if cmd.startswith("RD") else t("CWL")
            add(clk, clk + 1, unit, cmd, cmd)
            add(clk + lat, clk + lat + bl, f"ch{ch}.data", cmd,
                "dram_read" if cmd.startswith("RD") else "dram_write", s.burst_bytes)
        else:
            add(clk, clk + max(dur.get(cmd, 1), 1), unit, cmd, cmd)
    ev = EventTable(clock_hz=s.clock_hz, meta={"standard": s.name})
    if cols["start_cycle"]:
        ev.extend(**cols)
    return ev
