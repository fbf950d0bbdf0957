"""The Python API: one call from (architecture, workload) to a :class:`RunResult`.

    >>> from archsim.api import run
    >>> result = run("tpu-like-128", "resnet50", dataflow="os")      # doctest: +SKIP
    >>> result.totals["cycles"], result.totals["energy_pj"]          # doctest: +SKIP
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from archsim.arch import load_arch
from archsim.arch.registry import plugin_for_spec
from archsim.errors import InputError
from archsim.results import RunResult
from archsim.workload.graph import Graph


def resolve_arch(arch: str | Any, **overrides: Any) -> Any:
    """A spec object from a preset name / file path (or a spec object), with ``None``-valued
    overrides ignored."""
    spec = load_arch(str(arch)) if isinstance(arch, str | Path) else arch
    overrides = {k: v for k, v in overrides.items() if v is not None}
    if overrides:
        spec = spec.replace(**overrides)
    return spec


def resolve_workload(workload: str | Graph, **kw: Any) -> Graph:
    if isinstance(workload, Graph):
        return workload
    from archsim.workload import load_workload

    return load_workload(str(workload), **{k: v for k, v in kw.items() if v is not None})


def run(arch: str | Any, workload: str | Graph | None, *, level: str = "event", seed: int = 0,
        record_events: bool = True, batch: int | None = None, seq_len: int | None = None,
        phase: str | None = None, dtype: str | None = None, **options: Any) -> RunResult:
    """Simulate ``workload`` (a model name, a file or a Graph) on ``arch`` (a preset name, a spec
    file or a spec object). ``options`` are the architecture kind's own options (for a systolic
    array: ``dataflow``, ``convention``; see ``archsim run --help``)."""
    spec = resolve_arch(arch)
    plugin = plugin_for_spec(spec)
    options = {k: v for k, v in options.items() if v is not None}
    unknown = set(options) - set(plugin.options) - set(plugin.spec_overrides)
    if unknown:
        name = sorted(unknown)[0]
        raise InputError(f"--{name.replace('_', '-')}", None, f"an option of {plugin.kind} architectures "
                         f"({', '.join(sorted(plugin.options + plugin.spec_overrides)) or 'none'})", options[name])
    spec = spec.replace(**{k: options.pop(k) for k in plugin.spec_overrides if k in options})
    graph = None
    if plugin.needs_workload:
        if workload is None:
            raise InputError("--workload", None, f"a workload for {plugin.kind} architectures")
        graph = resolve_workload(workload, batch=batch, seq_len=seq_len, phase=phase, dtype=dtype)
    return plugin.simulate(graph, spec, level=level, seed=seed, record_events=record_events, **options)
