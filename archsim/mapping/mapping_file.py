"""Mapping files (``mappings/*.json``): a solved schedule + memory plan, self-describing.

:func:`mapping_document` turns a :class:`MappingResult` into the JSON document documented in
``docs/mapping.md`` (schema ``archsim-mapping`` version 1): the resolved inputs (graph name,
source and hash, scratchpad bytes, alignment, solver options), the schedule, every tensor's
residencies with addresses, every DRAM transfer, the traffic split (compulsory / non-compulsory),
the peak, the solver statistics with the bound, and the baselines' figures.

:func:`load_mapping` reads one back and re-checks it (:func:`archsim.mapping.plan.evaluate`):
a file whose transfers or traffic do not follow from its schedule and residencies is rejected
with one :class:`~archsim.errors.InputError`, so a mapping that loads is a valid plan.
:func:`Mapping.check_graph` verifies that a workload graph is the one the mapping was solved for.
"""

from __future__ import annotations

import json
from collections.abc import Mapping as AbcMapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from archsim import __version__
from archsim.errors import InputError
from archsim.mapping.optimize import MappingResult
from archsim.mapping.plan import Plan, PlanCost, PlanError, Residency, evaluate
from archsim.mapping.problem import MemProblem, MemTensor
from archsim.report.json_report import to_jsonable

KIND = "archsim-mapping"
SCHEMA_VERSION = 1


def _traffic(cost: PlanCost | None, problem: MemProblem, result: MappingResult) -> dict[str, Any] | None:
    if cost is None:
        return None
    return {
        "compulsory_bytes": cost.compulsory_bytes,
        "compulsory_load_bytes": cost.compulsory_load_bytes,
        "compulsory_store_bytes": cost.compulsory_store_bytes,
        "non_compulsory_bytes": cost.non_compulsory_bytes,
        "spill_bytes": cost.spill_bytes,
        "reload_bytes": cost.reload_bytes,
        "total_bytes": cost.total_bytes,
        "bound_bytes": result.bound_bytes,
        "gap": result.stats.gap,
        "segment_bound_bytes": result.segment_bound_bytes,
        "segment_gap": result.segment_gap,
    }


def _portable(source: str | None) -> str | None:
    """A source path inside the repository as a repository-relative path (same file on every
    checkout), anything else as given."""
    if not source:
        return source
    import archsim

    root = Path(archsim.__file__).resolve().parents[1]
    try:
        return Path(source).resolve().relative_to(root).as_posix()
    except ValueError:
        return source


def mapping_document(result: MappingResult, *, graph_params: dict[str, Any] | None = None) -> dict[str, Any]:
    """The mapping JSON document of ``result`` (see module docstring)."""
    p = result.problem
    plan, cost = result.plan, result.cost
    doc: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "kind": KIND,
        "archsim_version": __version__,
        "inputs": {
            "graph": {"name": p.name, "source": _portable(p.source), "hash": p.graph_hash, "ops": p.n_ops,
                      "tensors": p.n_tensors, "params": graph_params or {}},
            "scratchpad_bytes": p.scratchpad_bytes,
            "align_bytes": p.align_bytes,
            "weights_in_scratchpad": any(t.kind == "weight" for t in p.tensors),
            "options": result.options.to_dict(),
        },
        "status": result.status,
        "method": result.method,
        "plan_source": result.source,
        "traffic": _traffic(cost, p, result),
        "peak_bytes": cost.peak_bytes if cost else None,
        "peak_live_bytes": cost.peak_live_bytes if cost else None,
        "budgets": result.budgets,
        "solve": result.stats.to_dict(),
        "peak_solve": result.peak_stats.to_dict() if result.peak_stats else None,
        "phases": result.phases,
        "segments": result.segments,
        "baselines": {k: b.to_dict() for k, b in result.baselines.items()},
        "reduction_vs_best_baseline_pct": result.reduction_pct,
        "best_baseline": result.best_baseline.name if result.best_baseline else None,
        "notes": result.notes,
        "schedule": [p.op_names[v] for v in plan.order] if plan else [],
        "tensors": [],
        "transfers": [],
    }
    by_tensor: dict[int, list[Residency]] = {}
    if plan:
        for r in plan.residencies:
            by_tensor.setdefault(r.tensor, []).append(r)
    for a, t in enumerate(p.tensors):
        doc["tensors"].append({
            "name": t.name, "bytes": t.size_bytes, "alloc_bytes": p.alloc_bytes[a], "kind": t.kind,
            "producer": p.op_names[t.producer] if t.producer >= 0 else None,
            "consumers": [p.op_names[c] for c in t.consumers],
            "residency": [{"start_step": r.start_step, "end_step": r.end_step, "addr_bytes": r.addr_bytes}
                          for r in by_tensor.get(a, [])],
        })
    if cost:
        doc["transfers"] = [{"step": x.step, "when": x.when, "kind": x.kind, "tensor": p.tensors[x.tensor].name,
                             "bytes": x.bytes, "compulsory": x.compulsory} for x in cost.transfers]
    return to_jsonable(doc)


def render_mapping(doc: dict[str, Any]) -> str:
    """Deterministic JSON text (keys in insertion order, two-space indent, trailing newline)."""
    return json.dumps(doc, indent=2, allow_nan=False) + "\n"


def write_mapping(doc: dict[str, Any], path: str | Path) -> Path:
    """Write atomically (creates the parent directory)."""
    from archsim.report.atomic import atomic_write_text

    dest = Path(path)
    dest.parent.mkdir(parents=True, exist_ok=True)
    return atomic_write_text(dest, render_mapping(doc))


# -- reading -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Mapping:
    """A loaded, checked mapping: its problem, plan and cost, plus the document itself."""

    source: str
    problem: MemProblem
    plan: Plan
    cost: PlanCost
    document: dict[str, Any]

    @property
    def status(self) -> str:
        return self.document.get("status", "")

    @property
    def graph_hash(self) -> str:
        return self.problem.graph_hash

    def check_graph(self, problem: MemProblem) -> None:
        """One InputError unless ``problem`` (built from a workload graph) is the mapped graph."""
        mine = self.problem
        if problem.graph_hash == mine.graph_hash:
            return
        names = set(problem.op_names)
        missing = [n for n in mine.op_names if n not in names]
        extra = [n for n in problem.op_names if n not in set(mine.op_names)]
        if missing or extra:
            what = f"op {missing[0]} (in the mapping, not in the workload)" if missing else \
                f"op {extra[0]} (in the workload, not in the mapping)"
            raise InputError(self.source, "inputs.graph", f"a mapping of workload {problem.name!r} "
                             f"(hash {problem.graph_hash[:19]}...); first difference: {what}",
                             mine.graph_hash[:19] + "...")
        theirs = {t.name: t for t in problem.tensors}
        for t in mine.tensors:
            o = theirs.get(t.name)
            if o is None or o.size_bytes != t.size_bytes or o.kind != t.kind:
                got = None if o is None else f"{o.size_bytes} bytes, {o.kind}"
                raise InputError(self.source, f"tensors.{t.name}", f"the workload's tensor ({got})",
                                 f"{t.size_bytes} bytes, {t.kind}")
        raise InputError(self.source, "inputs.graph.hash", f"the workload's graph hash {problem.graph_hash}",
                         mine.graph_hash)


def _need(doc: AbcMapping, key: str, src: str, what: str, types: type | tuple[type, ...]) -> Any:
    if key not in doc:
        raise InputError(src, key, what)
    v = doc[key]
    if not isinstance(v, types) or isinstance(v, bool) and types is int:
        raise InputError(src, key, what, v)
    return v


def mapping_from_document(doc: Any, *, source: str = "<mapping>") -> Mapping:
    """Rebuild and re-check a mapping document; errors are one InputError each."""
    src = source
    if not isinstance(doc, AbcMapping):
        raise InputError(src, None, f"a JSON object of kind {KIND!r}", type(doc).__name__)
    if doc.get("kind") != KIND:
        raise InputError(src, "kind", repr(KIND), doc.get("kind"))
    if doc.get("schema_version") != SCHEMA_VERSION:
        raise InputError(src, "schema_version", str(SCHEMA_VERSION), doc.get("schema_version"))
    inputs = _need(doc, "inputs", src, "an object with graph and scratchpad_bytes", AbcMapping)
    graph = inputs.get("graph")
    if not isinstance(graph, AbcMapping):
        raise InputError(src, "inputs.graph", "an object with name and hash", graph)
    sp_bytes = inputs.get("scratchpad_bytes")
    if not isinstance(sp_bytes, int) or isinstance(sp_bytes, bool) or sp_bytes < 1:
        raise InputError(src, "inputs.scratchpad_bytes", "a positive integer", sp_bytes)
    align = inputs.get("align_bytes", 1)
    if not isinstance(align, int) or isinstance(align, bool) or align < 1:
        raise InputError(src, "inputs.align_bytes", "a positive integer", align)
    schedule = _need(doc, "schedule", src, "a list of op names", list)
    if not schedule:
        raise InputError(src, "schedule", f"a non-empty schedule (this mapping has status {doc.get('status')!r} "
                         "and no plan)")
    tdocs = _need(doc, "tensors", src, "a list of tensors", list)
    op_index = {}
    for i, nm in enumerate(schedule):
        if not isinstance(nm, str) or nm in op_index:
            raise InputError(src, f"schedule[{i}]", "a unique op name", nm)
        op_index[nm] = len(op_index)
    tensors: list[MemTensor] = []
    residencies: list[Residency] = []
    t_index: dict[str, int] = {}
    for i, td in enumerate(tdocs):
        where = f"tensors[{i}]"
        if not isinstance(td, AbcMapping) or not isinstance(td.get("name"), str):
            raise InputError(src, where, "an object with name, bytes, kind, producer, consumers, residency", td)
        name = td["name"]
        try:
            size = int(td["bytes"])
            kind = str(td["kind"])
            prod = td.get("producer")
            cons = [op_index[c] for c in td.get("consumers", [])]
            p = -1 if prod is None else op_index[prod]
        except KeyError as e:
            raise InputError(src, f"{where} ({name})", "bytes, kind and producer/consumers naming ops of the schedule",
                             e.args[0]) from None
        except (TypeError, ValueError):
            raise InputError(src, f"{where} ({name}).bytes", "an integer", td.get("bytes")) from None
        if kind not in ("input", "weight", "activation", "output") or size < 1 or name in t_index:
            raise InputError(src, f"{where} ({name})", "a unique name, bytes >= 1 and kind input/weight/activation/"
                             "output", {"bytes": size, "kind": kind})
        t_index[name] = len(tensors)
        tensors.append(MemTensor(name, size, kind, p, tuple(sorted(cons))))
        for j, rd in enumerate(td.get("residency", [])):
            try:
                residencies.append(Residency(len(tensors) - 1, int(rd["start_step"]), int(rd["end_step"]),
                                             int(rd["addr_bytes"])))
            except (KeyError, TypeError, ValueError):
                raise InputError(src, f"{where} ({name}).residency[{j}]",
                                 "an object with integer start_step, end_step, addr_bytes", rd) from None
    # the problem's op numbering is the schedule's; inputs/outputs follow from the tensor lists
    n = len(schedule)
    op_in: list[list[int]] = [[] for _ in range(n)]
    op_out: list[list[int]] = [[] for _ in range(n)]
    for a, t in enumerate(tensors):
        for c in t.consumers:
            op_in[c].append(a)
        if t.producer >= 0:
            op_out[t.producer].append(a)
    name = str(graph.get("name", ""))
    # op_names must be in a graph order for the problem; the mapping's schedule is one
    problem = MemProblem(name, tuple(schedule), tuple(tensors), tuple(tuple(x) for x in op_in),
                         tuple(tuple(x) for x in op_out), sp_bytes, align, graph.get("source"))
    recorded_hash = graph.get("hash")
    if recorded_hash != problem.graph_hash:
        raise InputError(src, "inputs.graph.hash", f"{problem.graph_hash} (the hash of the file's own ops and "
                         "tensors)", recorded_hash)
    plan = Plan.of(range(n), residencies)
    try:
        cost = evaluate(problem, plan)
    except PlanError as e:
        raise InputError(src, "schedule/tensors", "a valid plan", str(e)) from None
    _check_recorded(doc, problem, cost, src)
    return Mapping(src, problem, plan, cost, dict(doc))


def _check_recorded(doc: AbcMapping, problem: MemProblem, cost: PlanCost, src: str) -> None:
    """The file's transfers and traffic figures must be the ones its plan implies."""
    traffic = doc.get("traffic") or {}
    for key in ("compulsory_bytes", "non_compulsory_bytes", "spill_bytes", "reload_bytes"):
        if key in traffic and traffic[key] != getattr(cost, key):
            raise InputError(src, f"traffic.{key}", f"{getattr(cost, key)} (what the plan implies)", traffic[key])
    if "peak_bytes" in doc and doc["peak_bytes"] != cost.peak_bytes:
        raise InputError(src, "peak_bytes", f"{cost.peak_bytes} (what the plan implies)", doc["peak_bytes"])
    recorded = doc.get("transfers")
    if recorded is not None:
        mine = [{"step": x.step, "when": x.when, "kind": x.kind, "tensor": problem.tensors[x.tensor].name,
                 "bytes": x.bytes, "compulsory": x.compulsory} for x in cost.transfers]
        if list(recorded) != mine:
            first = next((i for i, (a, b) in enumerate(zip(recorded, mine)) if a != b), min(len(recorded), len(mine)))
            raise InputError(src, f"transfers[{first}]", "the transfers the plan implies",
                             recorded[first] if first < len(recorded) else None)


def load_mapping(path: str | Path) -> Mapping:
    """Read and check a mapping file (see module docstring)."""
    from archsim.workload.importers.json_file import read_json

    p = Path(path)
    return mapping_from_document(read_json(p), source=str(p))


def problem_for_mapping(graph, mapping: Mapping) -> MemProblem:
    """The problem of ``graph`` with the mapping's scratchpad and alignment (weights in or out as
    the mapping has them)."""
    include = any(t.kind == "weight" for t in mapping.problem.tensors)
    return MemProblem.from_graph(graph, mapping.problem.scratchpad_bytes, align_bytes=mapping.problem.align_bytes,
                                 include_weights=include)
