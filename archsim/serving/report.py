"""Outputs of ``archsim serve``: ``report.json``, ``requests.csv`` (one row per request),
``stages.csv`` (one row per stage) and ``timeline.perfetto.json`` (one span per stage on a
``stages`` track, 1 cycle = 1 ns), all written atomically from a :class:`ServeResult`; and the
terminal summary."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from archsim.engine import EventTable
from archsim.errors import InputError
from archsim.report.atomic import atomic_write_text
from archsim.report.json_report import to_jsonable
from archsim.report.perfetto import render_perfetto, to_chrome_trace
from archsim.report.tables import format_table
from archsim.serving.api import ServeResult


def render_report_json(result: ServeResult) -> str:
    return json.dumps(to_jsonable(result.to_report()), indent=1, allow_nan=False) + "\n"


def _csv(header: list[str], rows) -> str:
    out = [",".join(header)]
    for r in rows:
        out.append(",".join(repr(float(v)) if isinstance(v, float | np.floating) else str(v) for v in r))
    return "\n".join(out) + "\n"


def render_requests_csv(result: ServeResult) -> str:
    s, t = result.stream, result.trace
    rows = zip(range(len(s)), s.arrival_ns / 1e9, s.input_len, s.output_len, t.node, t.first_token_ns / 1e9,
               t.done_ns / 1e9, (t.first_token_ns - s.arrival_ns) / 1e6, (t.done_ns - s.arrival_ns) / 1e6)
    return _csv(["request", "arrival_s", "input_len", "output_len", "node", "first_token_s", "done_s", "ttft_ms",
                 "e2e_ms"], rows)


def render_stages_csv(result: ServeResult) -> str:
    t = result.trace
    parts = sorted(t.stage_parts_ns)
    cols = [t.stage_start_ns, t.stage_ns, t.stage_decode, t.stage_prefill, t.stage_prefill_tokens,
            t.stage_energy_pj, t.stage_moe_on_pim] + [t.stage_parts_ns[p] for p in parts]
    return _csv(["start_ns", "time_ns", "decoding", "prefilling", "prefill_tokens", "energy_pj", "moe_on_pim"]
                + [f"{p}_ns" for p in parts], zip(*cols))


def stage_events(result: ServeResult) -> EventTable:
    t = result.trace
    ev = EventTable(clock_hz=1e9, meta={"time_unit": "1 cycle = 1 ns"})
    start = np.floor(t.stage_start_ns).astype(np.int64)
    end = np.floor(t.stage_start_ns + t.stage_ns).astype(np.int64)
    end = np.maximum(end, start + 1)
    names = np.where(t.stage_prefill > 0, "mixed", "decode-only")
    ev.extend(start_cycle=start, end_cycle=end, unit="stages", op=list(names), kind="compute",
              util=np.ones(len(start)))
    return ev


def write_serve(result: ServeResult, out_dir: str | Path) -> dict[str, Path]:
    """Write every output to ``out_dir`` (created); returns ``{name: path}``. A directory that
    cannot be created or written is one :class:`~archsim.errors.InputError` naming it."""
    out = Path(out_dir)
    files = {"report.json": render_report_json(result), "requests.csv": render_requests_csv(result),
             "stages.csv": render_stages_csv(result),
             "timeline.perfetto.json": render_perfetto(to_chrome_trace(stage_events(result), title="archsim serve"))}
    written = {}
    try:
        out.mkdir(parents=True, exist_ok=True)
        for name, text in files.items():
            written[name] = atomic_write_text(out / name, text)
    except OSError as e:
        raise InputError("--out", None, "a directory that can be created and written", f"{out} ({e.strerror})") from None
    return written


def summary_text(result: ServeResult) -> str:
    r, i = result.results, result.inputs
    sysd = i["system"]
    head = (f"{i['workload']['name']} on {i['arch']['name']} ({i['arch']['kind']}): {sysd['devices']} devices "
            f"({sysd['nodes']} node(s) x {sysd['tp']}), experts {sysd['expert_split']}, max batch {i['max_batch']}, "
            f"{r['requests']} requests")
    lat = [{"latency": name, **{k: r[key][k] for k in ("mean", "p50", "p90", "p99")}}
           for name, key in (("TTFT (ms)", "ttft_ms"), ("TBT (ms)", "tbt_ms"), ("E2E (ms)", "e2e_ms"))]
    st = r["stages"]
    lines = [head, format_table(lat, ["latency", "mean", "p50", "p90", "p99"]),
             f"throughput {r['throughput_tokens_per_s']:,.1f} tokens/s ({r['request_throughput_per_s']:.3f} "
             f"requests/s) over {r['makespan_s']:.3f} s",
             f"energy {r['energy_j']:,.2f} J, {r['energy_per_token_j'] * 1e3:.3f} mJ per output token",
             f"stages {st['total']:,} ({st['mixed']:,} mixed, {st['mixed_time_share']:.0%} of the time), mean batch "
             f"{st['mean_batch']:.1f}; expert work on the PIM {r['moe_work_on_pim']:.0%}"]
    return "\n".join(lines) + "\n"
