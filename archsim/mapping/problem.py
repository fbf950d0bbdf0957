"""The scratchpad mapping problem of a workload graph (COSMA's setting).

Operators are atomic and run one per step. At the step of op ``v`` every input and output tensor
of ``v`` is resident in the scratchpad, each in one contiguous address range. Graph inputs and
weights start off-chip (their first load is compulsory); graph outputs end off-chip (their store
is compulsory). Anything else that moves between the scratchpad and DRAM is non-compulsory: a
spill (the first write of an intermediate tensor that is evicted while still needed) and every
reload (a load of a tensor that was on chip before).

:class:`MemProblem` is that problem in index form: ops and tensors numbered, sizes in bytes,
producers, consumers and the default (graph) order. Allocation sizes are rounded up to
``align_bytes`` and addresses are multiples of it; traffic is counted in the tensors' own bytes.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass
from functools import cached_property

from archsim.errors import InputError
from archsim.workload.graph import Graph

#: tensor kinds: ``input`` (graph input, starts off-chip), ``weight`` (starts off-chip),
#: ``activation`` (produced and consumed on chip), ``output`` (produced; stored off-chip)
TENSOR_KINDS = ("input", "weight", "activation", "output")


@dataclass(frozen=True)
class MemTensor:
    """One tensor of the problem. ``producer`` is an op index or -1; ``consumers`` are op indices
    in the default order."""

    name: str
    size_bytes: int
    kind: str
    producer: int
    consumers: tuple[int, ...]

    @property
    def external(self) -> bool:
        """Starts off-chip (graph input or weight): its first load is compulsory."""
        return self.producer < 0

    @property
    def stored(self) -> bool:
        """A graph output: written off-chip once after it is produced (compulsory)."""
        return self.kind == "output"


@dataclass(frozen=True)
class MemProblem:
    """Ops, tensors and a scratchpad of ``scratchpad_bytes`` (addresses aligned to ``align_bytes``).

    ``op_inputs[v]`` / ``op_outputs[v]`` are tensor indices (each tensor once per op);
    ``default_order`` is the graph's own topological order.
    """

    name: str
    op_names: tuple[str, ...]
    tensors: tuple[MemTensor, ...]
    op_inputs: tuple[tuple[int, ...], ...]
    op_outputs: tuple[tuple[int, ...], ...]
    scratchpad_bytes: int
    align_bytes: int = 1
    source: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.scratchpad_bytes, int) or isinstance(self.scratchpad_bytes, bool) \
                or self.scratchpad_bytes < 1:
            raise InputError("--scratchpad-bytes", None, "a positive integer number of bytes", self.scratchpad_bytes)
        if not isinstance(self.align_bytes, int) or self.align_bytes < 1:
            raise InputError("--align-bytes", None, "a positive integer number of bytes", self.align_bytes)

    # -- sizes ----------------------------------------------------------------------------------
    @property
    def n_ops(self) -> int:
        return len(self.op_names)

    @property
    def n_tensors(self) -> int:
        return len(self.tensors)

    @cached_property
    def alloc_bytes(self) -> tuple[int, ...]:
        """Allocation size of each tensor: its bytes rounded up to ``align_bytes``."""
        a = self.align_bytes
        return tuple(-(-t.size_bytes // a) * a for t in self.tensors)

    @cached_property
    def unit_bytes(self) -> int:
        """Address granularity of the solver: the gcd of the alignment and every allocation size.
        Rounding addresses down to a multiple of it never creates an overlap (sizes are multiples
        of it), so it loses no solution."""
        return math.gcd(self.align_bytes, *self.alloc_bytes) if self.tensors else self.align_bytes

    @cached_property
    def capacity_units(self) -> int:
        """Scratchpad size in solver units (whole aligned units only)."""
        usable = self.scratchpad_bytes // self.align_bytes * self.align_bytes
        return usable // self.unit_bytes

    @cached_property
    def size_units(self) -> tuple[int, ...]:
        u = self.unit_bytes
        return tuple(b // u for b in self.alloc_bytes)

    def working_set(self, op: int) -> tuple[int, ...]:
        """Tensors resident while ``op`` runs: its inputs and outputs."""
        return tuple(dict.fromkeys(self.op_inputs[op] + self.op_outputs[op]))

    def working_set_bytes(self, op: int) -> int:
        return sum(self.alloc_bytes[a] for a in self.working_set(op))

    @cached_property
    def single_op_min_bytes(self) -> int:
        """COSMA's ``M_R``: the largest working set of one op (the smallest feasible scratchpad)."""
        return max((self.working_set_bytes(v) for v in range(self.n_ops)), default=0)

    def infeasible_op(self) -> int | None:
        """The first op whose working set does not fit the scratchpad, or None."""
        cap = self.capacity_units
        for v in range(self.n_ops):
            if sum(self.size_units[a] for a in self.working_set(v)) > cap:
                return v
        return None

    # -- structure ------------------------------------------------------------------------------
    @cached_property
    def preds(self) -> tuple[tuple[int, ...], ...]:
        """Ops whose outputs op ``v`` reads (sorted)."""
        out = []
        for v in range(self.n_ops):
            ps = {self.tensors[a].producer for a in self.op_inputs[v]}
            ps.discard(-1)
            out.append(tuple(sorted(ps)))
        return tuple(out)

    @cached_property
    def succs(self) -> tuple[tuple[int, ...], ...]:
        s: list[set[int]] = [set() for _ in range(self.n_ops)]
        for v, ps in enumerate(self.preds):
            for p in ps:
                s[p].add(v)
        return tuple(tuple(sorted(x)) for x in s)

    @property
    def default_order(self) -> tuple[int, ...]:
        """The graph's order (ops are numbered in it)."""
        return tuple(range(self.n_ops))

    @cached_property
    def compulsory_load_bytes(self) -> int:
        return sum(t.size_bytes for t in self.tensors if t.external and t.consumers)

    @cached_property
    def compulsory_store_bytes(self) -> int:
        return sum(t.size_bytes for t in self.tensors if t.stored)

    @property
    def compulsory_bytes(self) -> int:
        """First loads of graph inputs and weights plus stores of graph outputs (any plan)."""
        return self.compulsory_load_bytes + self.compulsory_store_bytes

    def op_index(self) -> dict[str, int]:
        return {n: i for i, n in enumerate(self.op_names)}

    def tensor_index(self) -> dict[str, int]:
        return {t.name: i for i, t in enumerate(self.tensors)}

    # -- identity -------------------------------------------------------------------------------
    def canonical(self) -> dict:
        """What the mapping depends on (names, sizes, kinds, edges), sorted by name so that the
        numbering of ops and tensors does not matter."""
        ops = sorted(
            ({"name": n, "inputs": sorted(self.tensors[a].name for a in self.op_inputs[v]),
              "outputs": sorted(self.tensors[a].name for a in self.op_outputs[v])}
             for v, n in enumerate(self.op_names)), key=lambda o: o["name"])
        tensors = sorted(({"name": t.name, "bytes": t.size_bytes, "kind": t.kind} for t in self.tensors),
                         key=lambda t: t["name"])
        return {"ops": ops, "tensors": tensors}

    @cached_property
    def graph_hash(self) -> str:
        """``sha256:<hex>`` of :meth:`canonical` (op names, tensor names, bytes and kinds, edges)."""
        text = json.dumps(self.canonical(), sort_keys=True, separators=(",", ":"))
        return "sha256:" + hashlib.sha256(text.encode()).hexdigest()

    def with_scratchpad(self, scratchpad_bytes: int) -> MemProblem:
        return MemProblem(self.name, self.op_names, self.tensors, self.op_inputs, self.op_outputs,
                          scratchpad_bytes, self.align_bytes, self.source)

    # -- construction ---------------------------------------------------------------------------
    @classmethod
    def from_graph(cls, graph: Graph, scratchpad_bytes: int, *, align_bytes: int = 1,
                   include_weights: bool = True) -> MemProblem:
        """The problem of ``graph`` (ops in the graph's topological order).

        With ``include_weights=False`` weights are left out (COSMA's "activations only" setting:
        they are streamed past the scratchpad and not counted).
        """
        ops = graph.ops
        op_names = tuple(op.name for op in ops)
        producer: dict[str, int] = {}
        for v, op in enumerate(ops):
            for t in op.outputs:
                producer[t.name] = v
        consumers: dict[str, list[int]] = {}
        info: dict[str, object] = {}
        order: list[str] = []

        def note(t) -> None:
            if t.name not in info:
                info[t.name] = t
                order.append(t.name)

        for v, op in enumerate(ops):
            for t in op.inputs:
                if t.role == "weight" and not include_weights:
                    continue
                note(t)
                lst = consumers.setdefault(t.name, [])
                if not lst or lst[-1] != v:
                    lst.append(v)
            for t in op.outputs:
                note(t)
        tensors = []
        index: dict[str, int] = {}
        for name in order:
            t = info[name]
            cons = tuple(sorted(set(consumers.get(name, ()))))
            p = producer.get(name, -1)
            if p < 0:
                kind = "weight" if t.role == "weight" else "input"
            elif not cons or t.role == "output":
                kind = "output"
            else:
                kind = "activation"
            index[name] = len(tensors)
            tensors.append(MemTensor(name, t.size_bytes, kind, p, cons))
        op_inputs = tuple(
            tuple(dict.fromkeys(index[t.name] for t in op.inputs if t.name in index)) for op in ops
        )
        op_outputs = tuple(tuple(dict.fromkeys(index[t.name] for t in op.outputs)) for op in ops)
        return cls(graph.name, op_names, tuple(tensors), op_inputs, op_outputs, scratchpad_bytes, align_bytes,
                   graph.source)
