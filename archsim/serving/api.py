"""``serve()``: a request stream served with continuous batching on any architecture kind whose
plugin provides a step model (``ArchPlugin.extra["step_model"]``: ``xpu`` and ``duplex``).

    >>> from archsim.serving import serve
    >>> r = serve("duplex", "mixtral-8x7b", rate=8, input_len=512, output_len=512, max_batch=64,
    ...           requests=200)                                            # doctest: +SKIP
    >>> r.results["throughput_tokens_per_s"], r.results["tbt_ms"]["p99"]   # doctest: +SKIP
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from archsim import SCHEMA_VERSION, __version__
from archsim.arch.registry import plugin_for_spec, plugins
from archsim.errors import InputError
from archsim.serving.model_dims import ModelDims
from archsim.serving.requests import RequestStream, poisson_stream, read_trace
from archsim.serving.scheduler import ScheduleTrace, run_schedule
from archsim.serving.step import ROUTINGS, StepModel
from archsim.serving.units import to_action_counts

LEVELS = ("analytic", "event")


def model_dims(workload: str | Path) -> ModelDims:
    """:class:`ModelDims` of a zoo model name or a HuggingFace ``config.json`` path (FP16)."""
    from archsim.workload.builders.llm_config import looks_like_hf_config, normalize_config
    from archsim.workload.importers.json_file import read_json
    from archsim.workload.zoo import find_model

    path = find_model(str(workload))
    data = read_json(path) if path.suffix == ".json" else None
    if not isinstance(data, dict) or not looks_like_hf_config(data):
        raise InputError("--workload", None, "an LLM: a model name or a HuggingFace config.json", str(workload))
    return ModelDims(path.stem, normalize_config(data, str(path)), 2)


def step_model_for(spec: Any, dims: ModelDims, **kw: Any) -> StepModel:
    plugin = plugin_for_spec(spec)
    factory = plugin.extra.get("step_model")
    if factory is None:
        kinds = sorted(k for k, p in plugins().items() if "step_model" in p.extra)
        raise InputError("--arch", None, f"an architecture whose kind can time a batched LLM step ({', '.join(kinds)})",
                         plugin.kind)
    return factory(spec, dims, **kw)


def _pct(x: np.ndarray, scale: float) -> dict[str, float]:
    if not len(x):
        return {"mean": 0.0, "p50": 0.0, "p90": 0.0, "p99": 0.0}
    p50, p90, p99 = np.percentile(x, [50, 90, 99])
    return {"mean": float(x.mean()) * scale, "p50": float(p50) * scale, "p90": float(p90) * scale,
            "p99": float(p99) * scale}


def summarize(tr: ScheduleTrace, stream: RequestStream, sm: StepModel) -> dict[str, Any]:
    """The run's figures: throughput, latencies (ms), energy, stages, utilization."""
    out_tok = int(stream.output_len.sum())
    in_tok = int(stream.input_len.sum())
    t0 = float(stream.arrival_ns.min())
    span = float(np.nanmax(tr.done_ns)) - t0
    energy_pj = float(tr.stage_energy_pj.sum())
    ttft = tr.first_token_ns - stream.arrival_ns
    e2e = tr.done_ns - stream.arrival_ns
    mixed = tr.stage_prefill > 0
    busy_time = float(tr.stage_ns.sum())
    actions = to_action_counts(tr.counts, sm.pim_class, sm.pim_mac)
    total_pj, by_comp, _ = sm.table.price(actions)
    return {
        "requests": len(stream),
        "output_tokens": out_tok,
        "input_tokens": in_tok,
        "makespan_s": span / 1e9,
        "throughput_tokens_per_s": out_tok / span * 1e9 if span else 0.0,
        "total_tokens_per_s": (out_tok + in_tok) / span * 1e9 if span else 0.0,
        "request_throughput_per_s": len(stream) / span * 1e9 if span else 0.0,
        "ttft_ms": _pct(ttft, 1e-6),
        "tbt_ms": _pct(tr.tbt_ns, 1e-6),
        "e2e_ms": _pct(e2e, 1e-6),
        "energy_j": energy_pj / 1e12,
        "energy_per_token_j": energy_pj / 1e12 / out_tok,
        "energy_breakdown_j": {k: v / 1e12 for k, v in by_comp.items()},
        "stages": {"total": len(tr.stage_ns), "mixed": int(mixed.sum()), "decode_only": int((~mixed).sum()),
                   "mixed_time_share": float(tr.stage_ns[mixed].sum() / busy_time) if busy_time else 0.0,
                   "mean_batch": float((tr.stage_decode + tr.stage_prefill).mean()) if len(tr.stage_ns) else 0.0,
                   "busy_s": busy_time / 1e9},
        "time_breakdown_s": {k: float(v.sum()) / 1e9 for k, v in tr.stage_parts_ns.items()},
        "utilization": {u: b / busy_time if busy_time else 0.0 for u, b in tr.busy_ns.items()},
        "moe_work_on_pim": float(np.average(tr.stage_moe_on_pim, weights=tr.stage_ns)) if busy_time else 0.0,
    }


def fit_positions(stream: RequestStream, dims: ModelDims) -> tuple[RequestStream, int]:
    """For a model with learned positions (OPT, GPT-2) no context may pass the position table:
    a prompt that does not fit is an error, an output that would pass it stops there (how a server
    with ``max_model_len`` behaves). Rotary models have no such limit here."""
    cfg = dims.cfg
    if cfg.positions != "learned":
        return stream, 0
    limit = cfg.max_positions
    if int(stream.input_len.max()) >= limit:
        raise InputError("--input-len", None, f"prompts shorter than the model's {limit} positions",
                         int(stream.input_len.max()))
    out = np.minimum(stream.output_len, limit - stream.input_len)
    cut = int((out < stream.output_len).sum())
    if not cut:
        return stream, 0
    return RequestStream(stream.arrival_ns, stream.input_len, out, stream.source), cut


@dataclass
class ServeResult:
    """A served stream: resolved inputs, ``results`` (:func:`summarize`), the trace and the step
    model; :meth:`to_report` is the ``report.json`` document."""

    inputs: dict[str, Any]
    results: dict[str, Any]
    trace: ScheduleTrace
    stream: RequestStream
    step_model: StepModel
    seed: int = 0
    notes: list[str] = field(default_factory=list)

    def to_report(self) -> dict[str, Any]:
        sm = self.step_model
        return {"schema_version": SCHEMA_VERSION, "archsim_version": __version__, "seed": self.seed,
                "inputs": self.inputs, "results": self.results,
                "actions": to_action_counts(self.trace.counts, sm.pim_class, sm.pim_mac).rows(),
                "energy_table": sm.table.to_dict(), "notes": self.notes}


def serve(arch: str | Any, workload: str | Path, *, rate: float = math.inf, input_len: int = 512,
          output_len: int = 512, max_batch: int = 64, requests: int = 1000, seed: int = 0,
          length_std: float = 0.0, trace: str | Path | None = None, devices: int | None = None,
          routing: str = "random", level: str = "analytic", expert_split: str | None = None) -> ServeResult:
    """Serve a request stream (``trace``, else ``requests`` Poisson arrivals at ``rate`` per second
    with the given lengths) on ``arch`` with continuous batching (:mod:`archsim.serving.scheduler`);
    routing and arrivals are seeded by ``seed``."""
    from archsim.api import resolve_arch

    if routing not in ROUTINGS:
        raise InputError("--routing", None, f"one of {list(ROUTINGS)}", routing)
    if level not in LEVELS:
        raise InputError("--level", None, "analytic or event", level)
    spec = resolve_arch(arch)
    dims = model_dims(workload)
    kw: dict[str, Any] = {"devices": devices, "routing": routing, "level": level}
    if expert_split is not None:
        kw["expert_split"] = expert_split
    sm = step_model_for(spec, dims, **kw)
    stream = read_trace(trace) if trace is not None else poisson_stream(
        requests, rate, input_len, output_len, seed=seed, length_std=length_std)
    stream, truncated = fit_positions(stream, dims)
    tr = run_schedule(sm, stream, max_batch, seed=seed)
    plugin = plugin_for_spec(spec)
    inputs = {
        "arch": {"kind": plugin.kind, **spec.to_dict()},
        "workload": {"name": dims.name, "config": dims.cfg.to_dict(), "dtype_bytes": dims.dtype_bytes,
                     "weight_bytes": dims.weight_bytes},
        "requests": stream.source, "max_batch": max_batch, "routing": routing, "level": level,
        "system": {"devices": sm.plan.devices, "nodes": sm.plan.nodes, "tp": sm.plan.tp,
                   "expert_split": sm.plan.expert_split, "co_processing": sm.co_processing,
                   "pim": getattr(sm.pim, "name", None), "pim_ops": list(sm.pim_ops),
                   "weights_per_device_bytes": sm.weights_per_device, "kv_tokens_per_node": sm.kv_tokens_per_node},
    }
    notes = ["stage times from the step model's closed forms (level analytic) per (batch, contexts) shape; "
             "identical layers computed once per stage",
             "KV cache reserved for input_len + output_len at admission (no preemption)"]
    if truncated:
        notes.append(f"{truncated} request(s) generate fewer tokens than asked: the model's learned positions end at "
                     f"{dims.cfg.max_positions} (a server stops generating there)")
    if sm.unpriced:
        notes.append(f"counted but not priced: {', '.join(sm.unpriced)}")
    return ServeResult(inputs, summarize(tr, stream, sm), tr, stream, sm, seed, notes)
