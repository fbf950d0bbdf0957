"""The plain graph JSON: a compact operator graph given by sizes and edges only.

It describes what the scratchpad mapper needs (COSMA's input): ops with the bytes of their output,
the bytes of their weights, and the edges between them. It is distinct from archsim's full graph
JSON (:meth:`Graph.to_dict`, with shapes and dtypes)::

    {
      "name": "diamond",                         # optional (default: the file name)
      "inputs": {"x": 4096},                     # graph inputs: name -> bytes (optional)
      "ops": [
        {"name": "a", "output_bytes": 8192, "weight_bytes": 1024},
        {"name": "b", "output_bytes": 4096},
        {"name": "c", "output_bytes": 4096, "kind": "matmul",
         "attrs": {"m": 64, "n": 64, "k": 128}},
        {"name": "d", "output_bytes": 2048}
      ],
      "edges": [["x", "a"], ["a", "b"], ["a", "c"], ["b", "d"], ["c", "d"]]
    }

* every op produces one tensor of ``output_bytes`` (named like the op); ``weight_bytes`` (default
  0) is one weight tensor ``<op>.weight`` read only by that op;
* an edge ``[src, dst]`` makes the output of op ``src`` (or the graph input ``src``) an input of
  op ``dst``; op outputs nobody reads are graph outputs;
* ``kind`` and ``attrs`` (optional) give the op's compute for simulation, as in the full graph
  JSON (``archsim/workload/graph.py``); by default an op is an elementwise op with one operation
  per output byte;
* tensors are 1-D ``int8`` (one byte per element), so their sizes are exactly the bytes given.

Errors (one line each, naming the op): a missing or non-positive ``output_bytes``, a negative
``weight_bytes``, duplicate names, an edge to or from an unknown name, a self-loop or a cycle.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from archsim.errors import InputError
from archsim.workload.graph import Graph, Op, OpKind, Tensor
from archsim.workload.importers.json_file import read_json

PLAIN_KEYS = {"name", "inputs", "ops", "edges", "_comment", "format"}
OP_KEYS = {"name", "output_bytes", "weight_bytes", "kind", "attrs"}


def is_plain_graph(data: Any) -> bool:
    """True for a plain graph document (has ``edges``, or ops with ``output_bytes``)."""
    if not isinstance(data, Mapping) or not isinstance(data.get("ops"), list):
        return False
    if "edges" in data:
        return True
    return any(isinstance(o, Mapping) and "output_bytes" in o for o in data["ops"])


def _int(value: Any, src: str, field: str, *, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float) or int(value) != value or value < minimum:
        what = "a positive integer" if minimum > 0 else "a non-negative integer"
        raise InputError(src, field, f"{what} (bytes)", value)
    return int(value)


def plain_graph(data: Mapping[str, Any], *, source: str | None = None, name: str | None = None) -> Graph:
    """Build a :class:`Graph` from a parsed plain graph document (see module docstring)."""
    src = source or "<plain graph>"
    if not isinstance(data, Mapping):
        raise InputError(src, None, "a JSON object with ops and edges", type(data).__name__)
    extra = sorted(k for k in data if k not in PLAIN_KEYS and not str(k).startswith("_"))
    if extra:
        raise InputError(src, extra[0], f"only the keys {sorted(PLAIN_KEYS - {'_comment'})}", extra[0])
    ops_data = data.get("ops")
    if not isinstance(ops_data, list) or not ops_data:
        raise InputError(src, "ops", "a non-empty list of ops", ops_data)
    inputs_data = data.get("inputs", {}) or {}
    if not isinstance(inputs_data, Mapping):
        raise InputError(src, "inputs", "an object mapping input names to bytes", inputs_data)
    edges_data = data.get("edges", [])
    if not isinstance(edges_data, list):
        raise InputError(src, "edges", "a list of [source, destination] pairs", edges_data)

    inputs: dict[str, int] = {}
    for k, v in inputs_data.items():
        inputs[str(k)] = _int(v, src, f"inputs.{k}", minimum=1)
    ops: dict[str, dict[str, Any]] = {}
    for i, od in enumerate(ops_data):
        if not isinstance(od, Mapping) or not isinstance(od.get("name"), str) or not od["name"]:
            raise InputError(src, f"ops[{i}].name", "an object with a non-empty string name", od)
        nm = od["name"]
        where = f"ops[{i}] ({nm})"
        bad = sorted(k for k in od if k not in OP_KEYS and not str(k).startswith("_"))
        if bad:
            raise InputError(src, f"{where}.{bad[0]}", f"only the keys {sorted(OP_KEYS)}", bad[0])
        if nm in ops or nm in inputs:
            raise InputError(src, f"{where}.name", "a name used once (ops and inputs share one namespace)", nm)
        if "output_bytes" not in od:
            raise InputError(src, f"{where}.output_bytes", "a positive integer (bytes)")
        out_b = _int(od["output_bytes"], src, f"{where}.output_bytes", minimum=1)
        w_b = _int(od.get("weight_bytes", 0), src, f"{where}.weight_bytes", minimum=0)
        kind = od.get("kind", "elementwise")
        try:
            kind = OpKind(kind)
        except ValueError:
            raise InputError(src, f"{where}.kind", f"one of {[k.value for k in OpKind]}", kind) from None
        attrs = od.get("attrs")
        if attrs is None:
            if kind != OpKind.ELEMENTWISE:
                raise InputError(src, f"{where}.attrs", f"the shape attributes of a {kind} op "
                                 "(see archsim/workload/graph.py)")
            attrs = {"elements": out_b, "ops_per_element": 1, "fn": "generic"}
        elif not isinstance(attrs, Mapping):
            raise InputError(src, f"{where}.attrs", "an object", attrs)
        ops[nm] = {"index": i, "output_bytes": out_b, "weight_bytes": w_b, "kind": kind, "attrs": dict(attrs),
                   "where": where}

    preds: dict[str, list[str]] = {nm: [] for nm in ops}
    seen_edges: set[tuple[str, str]] = set()
    for j, e in enumerate(edges_data):
        if not isinstance(e, list | tuple) or len(e) != 2 or not all(isinstance(s, str) for s in e):
            raise InputError(src, f"edges[{j}]", "a [source, destination] pair of names", e)
        s, d = e
        if d not in ops:
            raise InputError(src, f"edges[{j}]", f"a destination op (op {s} feeds an unknown name)", d)
        if s not in ops and s not in inputs:
            raise InputError(src, f"edges[{j}]", f"a source op or input (op {d} reads an unknown name)", s)
        if s == d:
            raise InputError(src, f"edges[{j}]", f"no self-loop (op {d} reads its own output)", e)
        if (s, d) in seen_edges:
            continue
        seen_edges.add((s, d))
        preds[d].append(s)

    order = _topological(ops, preds, src)
    g = Graph(str(name or data.get("name") or (Path(source).stem if source else "plain")), source=source,
              params={"format": "plain"})
    tensors: dict[str, Tensor] = {nm: Tensor(nm, (b,), "int8", "input") for nm, b in inputs.items()}
    consumed = {s for s, _ in seen_edges}
    for nm in order:
        info = ops[nm]
        role = "activation" if nm in consumed else "output"
        out = Tensor(nm, (info["output_bytes"],), "int8", role)
        tensors[nm] = out
        ins = [tensors[p] for p in preds[nm]]
        if info["weight_bytes"]:
            ins.append(Tensor(f"{nm}.weight", (info["weight_bytes"],), "int8", "weight"))
        try:
            g.add_op(Op(nm, info["kind"], tuple(ins), (out,), info["attrs"]))
        except InputError as e:
            raise InputError(src, f"{info['where']}.{e.field or ''}".rstrip("."), e.expected, e.got) from None
    return g


def _topological(ops: dict[str, dict], preds: dict[str, list[str]], src: str) -> list[str]:
    """Ops in a topological order (ties by position in the file); a cycle names one of its ops."""
    import heapq

    indeg = {nm: sum(1 for p in preds[nm] if p in ops) for nm in ops}
    succ: dict[str, list[str]] = {nm: [] for nm in ops}
    for d, ps in preds.items():
        for p in ps:
            if p in ops:
                succ[p].append(d)
    heap = [(ops[nm]["index"], nm) for nm, k in indeg.items() if k == 0]
    heapq.heapify(heap)
    order = []
    while heap:
        _, nm = heapq.heappop(heap)
        order.append(nm)
        for d in succ[nm]:
            indeg[d] -= 1
            if indeg[d] == 0:
                heapq.heappush(heap, (ops[d]["index"], d))
    if len(order) < len(ops):
        left = {nm for nm, k in indeg.items() if k > 0}
        # walk predecessors inside the leftover set until a name repeats: that is a cycle
        start = min(left, key=lambda nm: ops[nm]["index"])
        path, seen = [start], {start}
        cur = start
        while True:
            nxt = next(p for p in preds[cur] if p in left)
            if nxt in seen:
                ring = path[path.index(nxt):][::-1]  # predecessors walked backwards: reverse them
                k = min(range(len(ring)), key=lambda i: ops[ring[i]]["index"])
                ring = ring[k:] + ring[:k]  # start at the op that comes first in the file
                cyc = ring + [ring[0]]
                break
            path.append(nxt)
            seen.add(nxt)
            cur = nxt
        info = ops[cyc[0]]
        raise InputError(src, f"{info['where']}", "an acyclic graph (no op may depend on itself)",
                         " -> ".join(cyc))
    return order


def read_plain_graph(path: str | Path) -> Graph:
    """Read a plain graph JSON file (see module docstring)."""
    p = Path(path)
    return plain_graph(read_json(p), source=str(p))
