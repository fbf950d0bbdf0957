"""The operator-graph IR: a networkx DiGraph of :class:`Op` nodes joined by :class:`Tensor` edges.

An op lists its input and output tensors (shape, dtype, bytes). Edges run from the op that
produces a tensor to each op that consumes it; tensors that no op produces are graph inputs or
weights (``role``), and they start off-chip. Shapes follow NCHW for convolutions and
``(batch..., rows, cols)`` for matrices.

Hardware models never walk the graph themselves: ``archsim.mapping`` lowers each op (for example
a convolution to GEMMs) for the target unit.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

import networkx as nx

from archsim.errors import InputError

#: bits per element of each supported dtype
DTYPE_BITS: dict[str, int] = {
    "int4": 4,
    "int8": 8,
    "uint8": 8,
    "fp8": 8,
    "int16": 16,
    "fp16": 16,
    "bf16": 16,
    "int32": 32,
    "fp32": 32,
}

TENSOR_ROLES = ("activation", "weight", "input", "output", "kv_cache")


class OpKind(str, Enum):  # noqa: UP042 (str mixin kept: same behaviour on 3.11 and later)
    """Operator kinds known to the IR and to the mappers."""

    CONV2D = "conv2d"
    DEPTHWISE_CONV2D = "depthwise_conv2d"
    GROUPED_CONV2D = "grouped_conv2d"
    MATMUL = "matmul"  # GEMM, batched GEMM, fully connected, linear projections
    ATTENTION_SCORE = "attention_score"  # Q x K^T per head
    ATTENTION_CONTEXT = "attention_context"  # P x V per head
    ELEMENTWISE = "elementwise"  # add, mul, relu, gelu, silu, rope, ...
    SOFTMAX = "softmax"
    LAYERNORM = "layernorm"  # LayerNorm or RMSNorm (attr rms=True)
    POOL = "pool"  # max/avg pooling, global average pooling
    EMBEDDING = "embedding"  # table gather
    TOPK_ROUTER = "topk_router"  # MoE gate: scores + top-k selection

    def __str__(self) -> str:  # so f-strings print "conv2d", not "OpKind.CONV2D"
        return self.value


#: kinds whose work is a matrix product (mapped to a systolic array / GEMM engine)
GEMM_KINDS = frozenset(
    {
        OpKind.CONV2D,
        OpKind.DEPTHWISE_CONV2D,
        OpKind.GROUPED_CONV2D,
        OpKind.MATMUL,
        OpKind.ATTENTION_SCORE,
        OpKind.ATTENTION_CONTEXT,
    }
)
CONV_KINDS = frozenset({OpKind.CONV2D, OpKind.DEPTHWISE_CONV2D, OpKind.GROUPED_CONV2D})


@dataclass(frozen=True)
class Tensor:
    """A tensor: ``shape`` in elements, ``dtype`` one of :data:`DTYPE_BITS`, ``role`` one of
    :data:`TENSOR_ROLES`."""

    name: str
    shape: tuple[int, ...]
    dtype: str = "int8"
    role: str = "activation"

    def __post_init__(self) -> None:
        object.__setattr__(self, "shape", tuple(int(s) for s in self.shape))
        if self.dtype not in DTYPE_BITS:
            raise InputError(None, f"tensor {self.name}.dtype", f"one of {sorted(DTYPE_BITS)}", self.dtype)
        if self.role not in TENSOR_ROLES:
            raise InputError(None, f"tensor {self.name}.role", f"one of {TENSOR_ROLES}", self.role)
        if any(s <= 0 for s in self.shape):
            raise InputError(None, f"tensor {self.name}.shape", "positive dimensions", self.shape)

    @property
    def numel(self) -> int:
        return math.prod(self.shape)

    @property
    def bits_per_element(self) -> int:
        return DTYPE_BITS[self.dtype]

    @property
    def size_bytes(self) -> int:
        """Storage size in bytes (rounded up to whole bytes)."""
        return (self.numel * DTYPE_BITS[self.dtype] + 7) // 8

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "shape": list(self.shape), "dtype": self.dtype, "role": self.role}


def _freeze(value: Any) -> Any:
    if isinstance(value, list | tuple):
        return tuple(_freeze(v) for v in value)
    if isinstance(value, Mapping):
        return tuple(sorted((k, _freeze(v)) for k, v in value.items()))
    return value


@dataclass(frozen=True)
class Op:
    """One operator. ``attrs`` holds the shape parameters of its kind (see :meth:`macs`).

    Shape attributes by kind:

    * conv kinds: ``batch, in_h, in_w, in_ch, out_ch, kernel_h, kernel_w, stride_h, stride_w,
      pad_h, pad_w, groups`` (depthwise: ``groups == in_ch``)
    * matmul / attention_score / attention_context: ``batch, m, n, k`` (``batch`` independent
      ``m x k`` by ``k x n`` products)
    * elementwise: ``elements, ops_per_element, fn``; softmax / layernorm: ``rows, cols``;
      pool: ``batch, in_h, in_w, channels, kernel_h, kernel_w, stride_h, stride_w, fn``;
      embedding: ``tokens, hidden``; topk_router: ``tokens, experts, top_k``
    """

    name: str
    kind: OpKind
    inputs: tuple[Tensor, ...] = ()
    outputs: tuple[Tensor, ...] = ()
    attrs: tuple[tuple[str, Any], ...] = field(default=())

    def __post_init__(self) -> None:
        object.__setattr__(self, "kind", OpKind(self.kind))
        object.__setattr__(self, "inputs", tuple(self.inputs))
        object.__setattr__(self, "outputs", tuple(self.outputs))
        if isinstance(self.attrs, Mapping):
            object.__setattr__(self, "attrs", _freeze(self.attrs))

    # -- attributes -------------------------------------------------------------------------
    @property
    def params(self) -> dict[str, Any]:
        return dict(self.attrs)

    def attr(self, key: str, default: Any = None) -> Any:
        for k, v in self.attrs:
            if k == key:
                return v
        return default

    def need(self, key: str) -> Any:
        v = self.attr(key)
        if v is None:
            raise InputError(None, f"op {self.name}.{key}", f"a value for {self.kind} ops")
        return v

    # -- derived shapes -----------------------------------------------------------------------
    @property
    def is_gemm(self) -> bool:
        return self.kind in GEMM_KINDS

    def conv_out_hw(self) -> tuple[int, int]:
        """Output height and width of a conv or pool op (PyTorch ``floor`` semantics)."""
        h, w = self.need("in_h"), self.need("in_w")
        kh, kw = self.need("kernel_h"), self.need("kernel_w")
        sh, sw = self.attr("stride_h", 1), self.attr("stride_w", 1)
        ph, pw = self.attr("pad_h", 0), self.attr("pad_w", 0)
        return (h + 2 * ph - kh) // sh + 1, (w + 2 * pw - kw) // sw + 1

    def gemm_dims(self) -> tuple[int, int, int, int]:
        """``(count, m, n, k)``: this op as ``count`` independent ``m x k`` by ``k x n`` GEMMs.

        A convolution lowers by im2col with the batch folded into ``m``: ``m = batch*out_h*out_w``,
        ``k = kernel_h*kernel_w*in_ch/groups``, ``n = out_ch/groups`` and ``count = groups``.
        """
        if self.kind in CONV_KINDS:
            oh, ow = self.conv_out_hw()
            g = self.attr("groups", 1)
            return g, self.attr("batch", 1) * oh * ow, self.need("out_ch") // g, (
                self.need("kernel_h") * self.need("kernel_w") * self.need("in_ch") // g
            )
        if self.kind in (OpKind.MATMUL, OpKind.ATTENTION_SCORE, OpKind.ATTENTION_CONTEXT):
            return self.attr("batch", 1), self.need("m"), self.need("n"), self.need("k")
        raise InputError(None, f"op {self.name}.kind", "a GEMM kind for gemm_dims()", str(self.kind))

    @property
    def macs(self) -> int:
        """Multiply-accumulates performed by a GEMM-kind op (0 for other kinds)."""
        if not self.is_gemm:
            return 0
        count, m, n, k = self.gemm_dims()
        return count * m * n * k

    @property
    def vector_ops(self) -> int:
        """Element operations of a non-GEMM op (vector/SIMD unit work); 0 for GEMM kinds.

        Counts per element: elementwise ``ops_per_element``; softmax 5 (max, sub, exp, sum,
        div); layernorm 8 (mean, var, normalise, scale, shift) and RMSNorm 5; pooling one per
        window element; embedding 1 (copy); router ``experts`` scores plus a top-k pass.
        """
        kind = self.kind
        if kind == OpKind.ELEMENTWISE:
            return self.need("elements") * self.attr("ops_per_element", 1)
        if kind == OpKind.SOFTMAX:
            return self.need("rows") * self.need("cols") * 5
        if kind == OpKind.LAYERNORM:
            return self.need("rows") * self.need("cols") * (5 if self.attr("rms", False) else 8)
        if kind == OpKind.POOL:
            oh, ow = self.conv_out_hw()
            return self.attr("batch", 1) * oh * ow * self.need("channels") * self.need("kernel_h") * self.need(
                "kernel_w"
            )
        if kind == OpKind.EMBEDDING:
            return self.need("tokens") * self.need("hidden")
        if kind == OpKind.TOPK_ROUTER:
            return self.need("tokens") * self.need("experts") * 2
        return 0

    @property
    def input_bytes(self) -> int:
        return sum(t.size_bytes for t in self.inputs)

    @property
    def output_bytes(self) -> int:
        return sum(t.size_bytes for t in self.outputs)

    @property
    def weight_bytes(self) -> int:
        return sum(t.size_bytes for t in self.inputs if t.role == "weight")

    def signature(self) -> tuple:
        """Everything that determines this op's cost, without its name (for memoization)."""
        return (
            str(self.kind),
            tuple((t.shape, t.dtype, t.role) for t in self.inputs),
            tuple((t.shape, t.dtype, t.role) for t in self.outputs),
            self.attrs,
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": str(self.kind),
            "inputs": [t.name for t in self.inputs],
            "outputs": [t.name for t in self.outputs],
            "attrs": {k: (list(v) if isinstance(v, tuple) else v) for k, v in self.attrs},
        }


class Graph:
    """A DNN as a DAG of ops. Ops are added in a valid order; iteration is topological and
    deterministic (ties broken by insertion order)."""

    def __init__(self, name: str, *, source: str | None = None, params: Mapping[str, Any] | None = None):
        self.name = name
        self.source = source
        self.params: dict[str, Any] = dict(params or {})
        self.nx = nx.DiGraph(name=name)
        self._tensors: dict[str, Tensor] = {}
        self._producer: dict[str, str] = {}
        self._order: dict[str, int] = {}

    # -- building -----------------------------------------------------------------------------
    def _register(self, t: Tensor, where: str) -> None:
        old = self._tensors.get(t.name)
        if old is None:
            self._tensors[t.name] = t
        elif old != t:
            raise InputError(self.source or self.name, f"{where}.tensor {t.name}", f"the same definition as before ({old})", t)

    def add_op(self, op: Op) -> Op:
        if op.name in self._order:
            raise InputError(self.source or self.name, f"op {op.name}", "a unique op name", op.name)
        for t in op.inputs:
            self._register(t, f"op {op.name}.inputs")
        for t in op.outputs:
            self._register(t, f"op {op.name}.outputs")
            if t.name in self._producer:
                raise InputError(
                    self.source or self.name,
                    f"op {op.name}.outputs",
                    f"tensor {t.name} produced once (already by {self._producer[t.name]})",
                )
            self._producer[t.name] = op.name
        self._order[op.name] = len(self._order)
        self.nx.add_node(op.name, op=op)
        for t in op.inputs:
            src = self._producer.get(t.name)
            if src is not None:
                self.nx.add_edge(src, op.name, tensor=t.name, size_bytes=t.size_bytes)
        return op

    def extend(self, ops: Iterable[Op]) -> None:
        for op in ops:
            self.add_op(op)

    # -- queries ------------------------------------------------------------------------------
    def __len__(self) -> int:
        return self.nx.number_of_nodes()

    def __iter__(self) -> Iterator[Op]:
        return iter(self.ops)

    def op(self, name: str) -> Op:
        return self.nx.nodes[name]["op"]

    @property
    def ops(self) -> list[Op]:
        order = nx.lexicographical_topological_sort(self.nx, key=self._order.__getitem__)
        return [self.nx.nodes[n]["op"] for n in order]

    @property
    def tensors(self) -> dict[str, Tensor]:
        return dict(self._tensors)

    def producer(self, tensor: str) -> str | None:
        return self._producer.get(tensor)

    def consumers(self, tensor: str) -> list[str]:
        return [op.name for op in self.ops if any(t.name == tensor for t in op.inputs)]

    @property
    def weights(self) -> list[Tensor]:
        return [t for t in self._tensors.values() if t.role == "weight"]

    @property
    def graph_inputs(self) -> list[Tensor]:
        """Tensors no op produces that are not weights (they start off-chip)."""
        return [t for n, t in self._tensors.items() if n not in self._producer and t.role != "weight"]

    @property
    def graph_outputs(self) -> list[Tensor]:
        """Produced tensors that no op consumes (they end off-chip)."""
        consumed = {t.name for op in self.ops for t in op.inputs}
        return [t for n, t in self._tensors.items() if n in self._producer and n not in consumed]

    @property
    def total_macs(self) -> int:
        return sum(op.macs for op in self.ops)

    @property
    def weight_bytes(self) -> int:
        return sum(t.size_bytes for t in self.weights)

    def to_dict(self) -> dict[str, Any]:
        from archsim import SCHEMA_VERSION

        return {
            "schema_version": SCHEMA_VERSION,
            "name": self.name,
            "params": self.params,
            "tensors": [t.to_dict() for t in self._tensors.values()],
            "ops": [op.to_dict() for op in self.ops],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, source: str | None = None) -> Graph:
        """Rebuild a graph written by :meth:`to_dict`; errors name ``source`` and the field."""
        src = source or "<graph>"
        if not isinstance(data, Mapping):
            raise InputError(src, None, "a JSON object with 'name', 'tensors' and 'ops'", type(data).__name__)
        for key in ("name", "tensors", "ops"):
            if key not in data:
                raise InputError(src, key, "a value (graph JSON needs name, tensors, ops)")
        tensors: dict[str, Tensor] = {}
        for i, td in enumerate(data["tensors"]):
            try:
                t = Tensor(td["name"], tuple(td["shape"]), td.get("dtype", "int8"), td.get("role", "activation"))
            except InputError as e:
                raise InputError(src, f"tensors[{i}].{e.field or ''}", e.expected, e.got) from None
            except (KeyError, TypeError):
                raise InputError(src, f"tensors[{i}]", "an object with name and shape (list of ints)", td) from None
            tensors[t.name] = t
        g = cls(str(data["name"]), source=source, params=data.get("params"))
        for i, od in enumerate(data["ops"]):
            try:
                kind = OpKind(od["kind"])
            except (KeyError, ValueError):
                raise InputError(src, f"ops[{i}].kind", f"one of {[k.value for k in OpKind]}", od.get("kind")) from None
            try:
                ins = tuple(tensors[n] for n in od.get("inputs", []))
                outs = tuple(tensors[n] for n in od.get("outputs", []))
            except KeyError as e:
                raise InputError(src, f"ops[{i}].inputs/outputs", "names of tensors listed in 'tensors'", e.args[0]) from None
            g.add_op(Op(od["name"], kind, ins, outs, od.get("attrs", {})))
        return g
