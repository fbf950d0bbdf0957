"""The Python API: one call from (architecture, workload) to a :class:`RunResult`.

    >>> from archsim.api import run
    >>> result = run("tpu-like-128", "resnet50", dataflow="os")      # doctest: +SKIP
    >>> result.totals["cycles"], result.totals["energy_pj"]          # doctest: +SKIP
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from archsim.arch import load_arch
from archsim.errors import InputError
from archsim.hw.systolic.spec import SystolicSpec
from archsim.results import RunResult
from archsim.workload.graph import Graph


def resolve_arch(arch: str | Any, **overrides: Any) -> Any:
    """A spec object from a preset name / file path (or a spec object), with ``None``-valued
    overrides ignored."""
    spec = load_arch(arch) if isinstance(arch, str | Path) else arch
    overrides = {k: v for k, v in overrides.items() if v is not None}
    if overrides:
        spec = spec.replace(**overrides)
    return spec


def resolve_workload(workload: str | Graph, **kw: Any) -> Graph:
    if isinstance(workload, Graph):
        return workload
    from archsim.workload import load_workload

    return load_workload(str(workload), **{k: v for k, v in kw.items() if v is not None})


def run(arch: str | Any, workload: str | Graph, *, dataflow: str | None = None, convention: str | None = None,
        level: str = "event", seed: int = 0, record_events: bool = True, batch: int | None = None,
        seq_len: int | None = None, phase: str | None = None, dtype: str | None = None) -> RunResult:
    """Simulate ``workload`` (a model name, a file or a Graph) on ``arch`` (a preset name, a
    spec file or a spec object)."""
    spec = resolve_arch(arch)
    if isinstance(spec, SystolicSpec):
        spec = spec.replace(dataflow=dataflow, convention=convention)
        graph = resolve_workload(workload, batch=batch, seq_len=seq_len, phase=phase, dtype=dtype)
        from archsim.hw.systolic.model import simulate

        return simulate(graph, spec, level=level, seed=seed, record_events=record_events)
    raise InputError("--arch", "kind", "an architecture kind archsim can run", type(spec).__name__)
