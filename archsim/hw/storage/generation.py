"""Throughput over a whole generation: every decode step from context ``prompt_len + 1`` to
``prompt_len + gen_len``, summed exactly (InstInfer's setup: OPT input/output 1024/1024).

The GPU's non-attention ops do not depend on the context, so they are costed once; the
attention ops FlexGen runs on the GPU are costed per step from a one-layer graph of the same
model. Prefill is not included (its KV write, about ``batch x prompt x KV bytes per token``, is
seconds against hours of decode for the paper's configurations).

    >>> from archsim.hw.storage.generation import generation       # doctest: +SKIP
    >>> g = generation("instinfer", "opt-13b", batch=64, prompt_len=1024, gen_len=1024)
    >>> g.tokens_per_s, g.breakdown_share["kv_access"]
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from archsim.api import resolve_arch
from archsim.errors import InputError
from archsim.hw.storage.energy import energy_table
from archsim.hw.storage.gpu import GpuWork, LayerOps, gpu_work
from archsim.hw.storage.kvlayout import decode_shape
from archsim.hw.storage.model import feasibility, load_gpu, run_step
from archsim.hw.storage.spec import StorageSpec
from archsim.hw.storage.timeline import CATEGORIES
from archsim.workload.builders.llm import decoder_llm
from archsim.workload.builders.llm_config import ALIASES
from archsim.workload.importers.json_file import read_json
from archsim.workload.zoo import find_model


@dataclass(frozen=True)
class Generation:
    """Result of :func:`generation`; times in ns, throughput in tokens per second."""

    system: str
    model: str
    batch: int
    prompt_len: int
    gen_len: int
    level: str
    contexts: np.ndarray
    step_ns: np.ndarray
    breakdown_ns: dict[str, int]
    energy_pj: float
    feasible: bool
    infeasible_reasons: list[str] = field(default_factory=list)

    @property
    def total_ns(self) -> int:
        return int(self.step_ns.sum())

    @property
    def tokens_per_s(self) -> float:
        return self.batch * self.gen_len / (self.total_ns * 1e-9)

    @property
    def breakdown_share(self) -> dict[str, float]:
        t = sum(self.breakdown_ns.values())
        return {k: v / t for k, v in self.breakdown_ns.items()}

    def to_dict(self) -> dict[str, Any]:
        return {"system": self.system, "model": self.model, "batch": self.batch, "prompt_len": self.prompt_len,
                "gen_len": self.gen_len, "level": self.level, "tokens_per_s": self.tokens_per_s,
                "total_ns": self.total_ns, "breakdown_ns": self.breakdown_ns,
                "breakdown_share": self.breakdown_share, "energy_pj": self.energy_pj,
                "energy_per_token_pj": self.energy_pj / (self.batch * self.gen_len), "feasible": self.feasible,
                "infeasible_reasons": self.infeasible_reasons}


def _hf_config(model: str | Path | Mapping[str, Any]) -> dict[str, Any]:
    data = dict(model) if isinstance(model, Mapping) else read_json(find_model(model))
    if not isinstance(data, dict) or not any(k in data for k in ("model_type", "n_embd", "ffn_dim",
                                                                 "intermediate_size")):
        raise InputError(str(model), None, "a HuggingFace LLM config (model name or config.json)")
    return data


def _one_layer(cfg: dict[str, Any]) -> dict[str, Any]:
    out = dict(cfg)
    for key in ALIASES["num_layers"]:
        if key in out:
            out[key] = 1
    return out


def generation(arch: str | StorageSpec, model: str | Path | Mapping[str, Any], *, batch: int, prompt_len: int, gen_len: int,
               level: str = "analytic", dtype: str | None = None, **overrides: Any) -> Generation:
    """Decode ``gen_len`` tokens after a ``prompt_len`` prompt for ``batch`` sequences.

    ``model`` is a zoo name, a ``config.json`` path or a HuggingFace config dict; ``overrides``
    are spec fields (``drives=2``, ``sparse=True``, ...)."""
    if gen_len < 1 or prompt_len < 1:
        raise InputError(None, "prompt_len/gen_len", "positive token counts", (prompt_len, gen_len))
    spec = resolve_arch(arch, **overrides)
    if not isinstance(spec, StorageSpec):
        raise InputError("--arch", None, "a storage architecture (instinfer, flexgen)", type(spec).__name__)
    cfg = _hf_config(model)
    gpu = load_gpu(spec)
    first = prompt_len + 1
    name = cfg.get("_name_or_path", "model") if isinstance(model, Mapping) else str(model)
    base = decoder_llm(cfg, phase="decode", batch=batch, seq_len=first, dtype=dtype, name=str(name))
    shape0 = decode_shape(base)
    work0 = gpu_work(base, gpu)
    one = _one_layer(cfg)
    table = energy_table(spec, gpu)
    contexts = np.arange(first, prompt_len + gen_len + 1, dtype=np.int64)
    steps = np.zeros(len(contexts), dtype=np.int64)
    bd = dict.fromkeys(CATEGORIES, 0)
    energy = 0.0
    for i, s in enumerate(contexts.tolist()):
        shape = dataclasses.replace(shape0, context=s)
        work = work0
        if spec.system == "flexgen" and s != first:
            attn = gpu_work(decoder_llm(one, phase="decode", batch=batch, seq_len=s, dtype=dtype), gpu).layers[0].attn
            work = GpuWork(work0.embed, tuple(LayerOps(lay.pre, attn, lay.post) for lay in work0.layers), work0.head)
        run = run_step(spec, shape, work, gpu, level, record=False)
        steps[i] = run.step_ns
        for k, v in run.breakdown.ns.items():
            bd[k] += v
        energy += table.price(run.actions)[0]
    last = dataclasses.replace(shape0, context=int(contexts[-1]))
    problems = feasibility(spec, last, work0, gpu)
    return Generation(spec.system, str(name), batch, prompt_len, gen_len, level, contexts, steps, bd, energy,
                      not problems, problems)
