"""``archsim dram``: DRAM trace replay (``replay``) and the DRAM standard presets (``standards``)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from archsim.argtypes import positive_int

NAME = "dram"
HELP = "replay a DRAM trace through the DRAM timing model; list DRAM standards"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="dram_command", required=True, parser_class=type(parser))
    r = sub.add_parser("replay", help="replay a DRAMsim3 or Ramulator 2 trace",
                       description="Replay a memory trace through the DRAM model and report cycles, bandwidth, "
                                   "latency, row-buffer statistics, command counts and energy.")
    r.add_argument("--standard", required=True, help="DRAM standard preset (archsim dram standards) or a .yaml")
    r.add_argument("--trace", required=True, type=Path, help="trace file")
    r.add_argument("--trace-format", choices=("dramsim3", "ramulator"),
                   help="dramsim3: '<hex addr> READ|WRITE <cycle>'; ramulator: 'LD|ST <addr>' (default: detected)")
    r.add_argument("--mapping", help="address mapping, MSB to LSB: RoBaRaCoCh (default), Ro:Ba:Bg:Ra:Co:Ch, "
                                     "rochrababgco, bg-interleave, MOP4CLXOR; +xor for a bank XOR hash")
    r.add_argument("--channels", type=positive_int, help="channels (a power of two; default: the standard's)")
    r.add_argument("--level", choices=("event", "cycle"), default="event",
                   help="event: fast controller (default); cycle: cycle-stepped reference (small traces)")
    r.add_argument("--refresh", choices=("all-bank", "per-bank", "none"), default="all-bank", help="refresh mode")
    r.add_argument("--row-policy", choices=("open", "closed"), default="open", help="row-buffer policy")
    r.add_argument("--closed-cap", type=positive_int, default=1,
                   help="closed policy: column accesses before a row is closed (default 1)")
    r.add_argument("--read-buffer", type=positive_int, default=32, help="read buffer entries per channel")
    r.add_argument("--write-buffer", type=positive_int, default=32, help="write buffer entries per channel")
    r.add_argument("--request-bytes", type=positive_int, default=64, help="bytes per trace request (default 64)")
    r.add_argument("--accepts-per-cycle", type=positive_int, default=4,
                   help="requests accepted per memory cycle (default 4)")
    r.add_argument("--format", choices=("table", "json"), default="table", help="stdout format")
    r.add_argument("--out", type=Path, help="directory for report.json (and commands.csv, timeline.perfetto.json "
                                            "with --commands)")
    r.add_argument("--commands", action="store_true",
                   help="with --out: also write every issued command (commands.csv) and a Perfetto timeline")
    sub.add_parser("standards", help="list the DRAM standard presets")


def run(args: argparse.Namespace) -> int:
    if args.dram_command == "standards":
        return _standards()
    return _replay(args)


def _standards() -> int:
    from archsim.hw.dram.standard import list_standards, load_standard
    from archsim.report.tables import format_table

    rows = []
    for name in list_standards():
        s = load_standard(name)
        rows.append({"name": name, "family": s.family, "tck_ns": s.tck_ns, "org": f"{s.ranks}x{s.bankgroups}x"
                     f"{s.banks_per_group}", "burst_b": s.burst_bytes, "row_kb": s.row_bytes / 1024,
                     "peak_gb_s": s.peak_bytes_per_cycle * s.clock_hz / 1e9,
                     "energy": "+".join(s.energy) or "-"})
    sys.stdout.write(format_table(rows, list(rows[0]), headers={
        "name": "standard", "family": "family", "tck_ns": "tCK ns", "org": "ranks x BG x banks",
        "burst_b": "burst B", "row_kb": "row KB", "peak_gb_s": "peak GB/s per channel", "energy": "energy model"})
        + "\n")
    return 0


def _replay(args: argparse.Namespace) -> int:
    from archsim.hw.dram.config import ControllerConfig
    from archsim.hw.dram.replay import replay
    from archsim.report.json_report import to_jsonable

    cfg = ControllerConfig(read_buffer_size=args.read_buffer, write_buffer_size=args.write_buffer,
                           refresh=args.refresh, row_policy=args.row_policy, closed_cap=args.closed_cap,
                           accepts_per_cycle=args.accepts_per_cycle, request_bytes=args.request_bytes)
    res = replay(args.standard, args.trace, trace_format=args.trace_format, mapping=args.mapping,
                 channels=args.channels, config=cfg, level=args.level, record_commands=bool(args.out and args.commands))
    doc = to_jsonable(res.to_report())
    text = json.dumps(doc, indent=1) + "\n"
    written = []
    if args.out is not None:
        written = _write(args.out, text, res if args.commands else None)
    if args.format == "json":
        sys.stdout.write(text)
        return 0
    sys.stdout.write(summary_text(res))
    for p in written:
        sys.stdout.write(f"wrote {p}\n")
    return 0


def _write(out: Path, report_text: str, res) -> list[Path]:
    from archsim.errors import InputError
    from archsim.report.atomic import atomic_write_text

    if out.exists() and not out.is_dir():
        raise InputError(out, None, "a directory for the replay's report files", "a file")
    files = {"report.json": report_text}
    if res is not None:
        from archsim.hw.dram.replay import command_events
        from archsim.report.perfetto import render_perfetto, to_chrome_trace

        lines = ["cycle,channel,command,rank,bankgroup,bank,row"]
        lines += [",".join(map(str, rec)) for rec in res.run.log]
        files["commands.csv"] = "\n".join(lines) + "\n"
        files["timeline.perfetto.json"] = render_perfetto(
            to_chrome_trace(command_events(res), title=f"{res.trace.path} on {res.standard.name}"))
    out.mkdir(parents=True, exist_ok=True)
    return [atomic_write_text(out / name, text) for name, text in files.items()]


def summary_text(res) -> str:
    """The replay's figures as a table (metric, value, unit)."""
    from archsim.report.tables import format_table

    f = res.figures
    s = res.standard
    e = f["energy"]
    rows = [
        ("memory cycles", f["total_cycles"], "cycles"),
        ("simulated time", f["simulated_ns"], "ns"),
        ("requests (read / write)", f"{f['requests']} ({f['read_requests']} / {f['write_requests']})", ""),
        ("bandwidth", f["bandwidth_gb_per_s"], "GB/s"),
        ("peak bandwidth", f["peak_bandwidth_gb_per_s"], "GB/s"),
        ("average read latency", f["avg_read_latency_cycles"], "cycles"),
        ("average read latency", f["avg_read_latency_ns"], "ns"),
        ("row hits / misses / conflicts", f"{f['row_hits']} / {f['row_misses']} / {f['row_conflicts']}", "bursts"),
    ]
    rows += [(f"{k} commands", v, "") for k, v in f["commands"].items()]
    if e["total_pj"] is not None:
        rows.append((f"energy ({e['model']})", e["total_pj"] / 1e3, "nJ"))
        rows += [(f"  {k}", v / 1e3, "nJ") for k, v in e["breakdown_pj"].items()]
        if "idd" in e and e["model"] != "idd":
            rows.append(("energy (idd)", e["idd"]["total_pj"] / 1e3, "nJ"))
    else:
        rows.append(("energy", "not modelled", ""))
    table = format_table([{"metric": a, "value": b, "unit": c} for a, b, c in rows], ["metric", "value", "unit"])
    head = (f"archsim dram replay: {res.trace.path} ({res.trace.format}, {len(res.trace):,} requests) on {s.name} "
            f"x{res.channels} channel{'s' if res.channels > 1 else ''}, mapping {res.mapping.describe()}, "
            f"level {res.level}\n\n")
    notes = "".join(f"note: {n}\n" for n in res.notes)
    return head + table + "\n" + notes
