"""Import an ONNX model (optional ``onnx`` extra, imported lazily) into a :class:`Graph`.

Shapes come from ONNX shape inference after symbolic dimensions of the graph inputs are set to
``batch``. Mapping: Conv (2-D, no dilation) -> CONV2D / DEPTHWISE_CONV2D / GROUPED_CONV2D; Gemm and
MatMul -> MATMUL (a MatMul against a 2-D initializer folds leading dims into ``m``, otherwise they
become ``batch``); Add, Mul, Relu, Sigmoid, ... -> ELEMENTWISE (BatchNormalization too, 2 ops per
element); Softmax -> SOFTMAX; LayerNormalization -> LAYERNORM; MaxPool/AveragePool/Global*Pool ->
POOL. Flatten, Reshape, Squeeze, Unsqueeze, Identity and Dropout are views: their output aliases
their input. Constant outputs are treated as weights. Any other node is unsupported: all of them
are reported together in one :class:`UnsupportedOpsError` (or, with ``strict=False``, skipped and
listed in ``graph.params["unsupported_ops"]``).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from archsim.errors import InputError
from archsim.workload.builders.layers import out_len
from archsim.workload.graph import Graph, Op, OpKind, Tensor

#: ONNX TensorProto data types -> archsim dtype
ONNX_DTYPES = {1: "fp32", 2: "uint8", 3: "int8", 5: "int16", 6: "int32", 10: "fp16", 16: "bf16"}
_FLOAT_DTYPES = {"fp32", "fp16", "bf16"}
#: elementwise ONNX ops -> element operations per output element
ELEMENTWISE_OPS = {
    "Add": 1, "Sub": 1, "Mul": 1, "Div": 1, "Max": 1, "Min": 1, "Neg": 1, "Abs": 1, "Relu": 1,
    "LeakyRelu": 1, "Clip": 1, "Sigmoid": 1, "Tanh": 1, "Exp": 1, "Sqrt": 1, "Pow": 1, "Erf": 1,
    "Gelu": 1, "HardSigmoid": 1, "HardSwish": 1, "BatchNormalization": 2,
}
VIEW_OPS = {"Flatten", "Reshape", "Squeeze", "Unsqueeze", "Identity", "Dropout"}
POOL_OPS = {"MaxPool": "max", "AveragePool": "avg", "GlobalAveragePool": "avg", "GlobalMaxPool": "max"}
SUPPORTED_OPS = sorted({"Conv", "Gemm", "MatMul", "Softmax", "LayerNormalization", "Constant"}
                       | set(ELEMENTWISE_OPS) | VIEW_OPS | set(POOL_OPS))


class UnsupportedOpsError(InputError):
    """The model has nodes archsim cannot map; ``unsupported`` lists ``(node name, op type, reason)``."""

    def __init__(self, source: str, unsupported: list[tuple[str, str, str]]):
        self.unsupported = unsupported
        by_type: dict[str, list[str]] = {}
        for node, op_type, reason in unsupported:
            by_type.setdefault(f"{op_type} ({reason})" if reason else op_type, []).append(node)
        listing = "; ".join(f"{t}: {', '.join(nodes)}" for t, nodes in sorted(by_type.items()))
        super().__init__(source, "graph.node", f"only supported ops ({', '.join(SUPPORTED_OPS)}); unsupported: {listing}")


class _Skip(Exception):
    """This node cannot be mapped (the message says why)."""


class _Importer:
    def __init__(self, model: Any, source: str, dtype: str | None):
        self.source, self.dtype = source, dtype
        graph = model.graph
        self.info: dict[str, tuple[tuple[int, ...] | None, int]] = {}
        for vi in [*graph.input, *graph.value_info, *graph.output]:
            tt = vi.type.tensor_type
            dims = tuple(d.dim_value if d.HasField("dim_value") else -1 for d in tt.shape.dim)
            self.info[vi.name] = (None if any(d < 1 for d in dims) else dims, tt.elem_type)
        self.initializers = {init.name for init in graph.initializer}
        for init in graph.initializer:
            self.info[init.name] = (tuple(init.dims), init.data_type)
        self.inputs = {vi.name for vi in graph.input} - self.initializers
        self.outputs = {vi.name for vi in graph.output}
        self.constants: set[str] = set()
        self.alias: dict[str, str] = {}
        self.tensors: dict[str, Tensor] = {}

    # -- tensors ----------------------------------------------------------------------------
    def shape(self, name: str) -> tuple[int, ...]:
        shape, _ = self.info.get(name, (None, 0))
        if shape is None:
            raise _Skip(f"unknown shape of {name}")
        return shape

    def tensor(self, name: str) -> Tensor:
        canon = self.alias.get(name, name)
        if canon in self.tensors:
            return self.tensors[canon]
        shape, elem = self.info.get(canon, (None, 0))
        if shape is None:
            raise _Skip(f"unknown shape of {canon}")
        dt = ONNX_DTYPES.get(elem)
        if dt is None:
            raise _Skip(f"data type {elem} of {canon}")
        if self.dtype is not None and dt in _FLOAT_DTYPES:
            dt = self.dtype
        role = ("weight" if canon in self.initializers or canon in self.constants else "input" if canon in self.inputs
                else "output" if canon in self.outputs else "activation")
        t = Tensor(canon, shape if shape else (1,), dt, role)
        self.tensors[canon] = t
        return t

    # -- node handlers ----------------------------------------------------------------------
    def op(self, node: Any, name: str) -> Op | None:
        t = node.op_type
        attrs = {a.name: _attr_value(a) for a in node.attribute}
        if t == "Constant":
            self.constants.update(node.output)
            return None
        if t in VIEW_OPS:
            src = node.input[0]
            self.alias[node.output[0]] = self.alias.get(src, src)
            return None
        ins = [i for i in node.input if i]
        out_shape = self.shape(node.output[0])
        if t == "Conv":
            kind, a = self.conv(node, attrs)
        elif t == "Gemm":
            kind, a = self.gemm(node, attrs)
        elif t == "MatMul":
            kind, a = self.matmul(node)
        elif t in ELEMENTWISE_OPS:
            kind, a = OpKind.ELEMENTWISE, {"elements": math.prod(out_shape), "ops_per_element": ELEMENTWISE_OPS[t],
                                           "fn": t.lower()}
        elif t == "Softmax":
            kind, a = OpKind.SOFTMAX, self.rows_cols(node, attrs, default_axis=-1)
        elif t == "LayerNormalization":
            kind, a = OpKind.LAYERNORM, {**self.rows_cols(node, attrs, default_axis=-1), "rms": False}
        elif t in POOL_OPS:
            kind, a = self.pool(node, attrs)
        else:
            raise _Skip("")
        inputs = tuple(self.tensor(i) for i in ins)
        outputs = tuple(self.tensor(o) for o in node.output if o)
        return Op(name, kind, inputs, outputs, a)

    def conv(self, node: Any, attrs: dict[str, Any]) -> tuple[OpKind, dict[str, Any]]:
        x, w, y = self.shape(node.input[0]), self.shape(node.input[1]), self.shape(node.output[0])
        if len(x) != 4:
            raise _Skip("not 2-D")
        if any(d != 1 for d in attrs.get("dilations", [1, 1])):
            raise _Skip("dilation")
        groups = attrs.get("group", 1)
        kh, kw = w[2], w[3]
        sh, sw = attrs.get("strides", [1, 1])
        ph, pw = _sym_pads(x[2:], (kh, kw), (sh, sw), y[2:])
        kind = OpKind.CONV2D if groups == 1 else OpKind.DEPTHWISE_CONV2D if groups == x[1] else OpKind.GROUPED_CONV2D
        return kind, {"batch": x[0], "in_h": x[2], "in_w": x[3], "in_ch": x[1], "out_ch": w[0], "kernel_h": kh,
                      "kernel_w": kw, "stride_h": sh, "stride_w": sw, "pad_h": ph, "pad_w": pw, "groups": groups}

    def gemm(self, node: Any, attrs: dict[str, Any]) -> tuple[OpKind, dict[str, Any]]:
        a, b = self.shape(node.input[0]), self.shape(node.input[1])
        m, k = (a[1], a[0]) if attrs.get("transA", 0) else (a[0], a[1])
        n = b[0] if attrs.get("transB", 0) else b[1]
        return OpKind.MATMUL, {"batch": 1, "m": m, "n": n, "k": k}

    def matmul(self, node: Any) -> tuple[OpKind, dict[str, Any]]:
        a, b = self.shape(node.input[0]), self.shape(node.input[1])
        a2 = (1, *a) if len(a) == 1 else a
        b2 = (*b, 1) if len(b) == 1 else b
        k, n = b2[-2], b2[-1]
        if len(b2) == 2:  # shared right operand (a linear layer): leading dims of A are rows
            return OpKind.MATMUL, {"batch": 1, "m": math.prod(a2[:-1]), "n": n, "k": k}
        lead = _broadcast(a2[:-2], b2[:-2])
        return OpKind.MATMUL, {"batch": math.prod(lead), "m": a2[-2], "n": n, "k": k}

    def rows_cols(self, node: Any, attrs: dict[str, Any], default_axis: int) -> dict[str, int]:
        x = self.shape(node.input[0])
        axis = attrs.get("axis", default_axis) % len(x)
        cols = math.prod(x[axis:]) if node.op_type == "LayerNormalization" else x[axis]
        if node.op_type == "Softmax" and axis != len(x) - 1:
            raise _Skip("softmax over a non-last axis")
        return {"rows": math.prod(x) // cols, "cols": cols}

    def pool(self, node: Any, attrs: dict[str, Any]) -> tuple[OpKind, dict[str, Any]]:
        x, y = self.shape(node.input[0]), self.shape(node.output[0])
        if len(x) != 4:
            raise _Skip("not 2-D")
        if node.op_type.startswith("Global"):
            (kh, kw), (sh, sw), (ph, pw) = x[2:], (1, 1), (0, 0)
        else:
            kh, kw = attrs["kernel_shape"]
            sh, sw = attrs.get("strides", [1, 1])
            if sh != sw:
                raise _Skip("unequal pooling strides")
            ph, pw = _sym_pads(x[2:], (kh, kw), (sh, sw), y[2:])
        return OpKind.POOL, {"batch": x[0], "in_h": x[2], "in_w": x[3], "channels": x[1], "kernel_h": kh,
                             "kernel_w": kw, "stride_h": sh, "stride_w": sw, "pad_h": ph, "pad_w": pw,
                             "fn": POOL_OPS[node.op_type]}


def _attr_value(a: Any) -> Any:
    from onnx import helper

    v = helper.get_attribute_value(a)
    return list(v) if isinstance(v, list | tuple) else v


def _broadcast(a: tuple[int, ...], b: tuple[int, ...]) -> tuple[int, ...]:
    n = max(len(a), len(b))
    a, b = (1,) * (n - len(a)) + a, (1,) * (n - len(b)) + b
    return tuple(max(x, y) for x, y in zip(a, b))


def _sym_pads(in_hw: tuple[int, ...], k: tuple[int, int], s: tuple[int, int], out_hw: tuple[int, ...]) -> tuple[int, int]:
    """Symmetric pads that reproduce the inferred output size (covers explicit, asymmetric and
    SAME padding); raises _Skip when none does."""
    pads = []
    for i in range(2):
        total = max((out_hw[i] - 1) * s[i] + k[i] - in_hw[i], 0)
        p = (total + 1) // 2
        if out_len(in_hw[i], k[i], s[i], p) != out_hw[i]:
            raise _Skip("padding not expressible symmetrically")
        pads.append(p)
    return pads[0], pads[1]


def _set_batch(model: Any, batch: int) -> None:
    for vi in model.graph.input:
        for d in vi.type.tensor_type.shape.dim:
            if not d.HasField("dim_value"):
                d.dim_value = batch


def import_onnx(
    path: str | Path, *, batch: int = 1, dtype: str | None = None, strict: bool = True, name: str | None = None
) -> Graph:
    """Import the ONNX model at ``path``; symbolic input dims become ``batch``; ``dtype`` overrides
    the floating-point tensor dtypes (e.g. ``"int8"`` for a quantised accelerator study)."""
    src = str(path)
    try:
        import onnx
    except ImportError:
        raise InputError(src, None, "the optional 'onnx' package installed (pip install 'archsim[onnx]')") from None
    try:
        model = onnx.load(src)
    except FileNotFoundError:
        raise InputError(src, None, "an existing file") from None
    except Exception as e:  # onnx raises DecodeError and friends for bad files
        raise InputError(src, None, "a valid ONNX model", str(e)) from None
    _set_batch(model, batch)
    try:
        model = onnx.shape_inference.infer_shapes(model)
    except Exception as e:
        raise InputError(src, None, "a model ONNX shape inference accepts", str(e)) from None

    imp = _Importer(model, src, dtype)
    g = Graph(name or Path(src).stem, source=src, params={"format": "onnx", "batch": batch})
    unsupported: list[tuple[str, str, str]] = []
    used: set[str] = set()
    for idx, node in enumerate(model.graph.node):
        node_name = node.name or f"{node.op_type}_{idx}"
        if node_name in used:
            node_name = f"{node_name}_{idx}"
        used.add(node_name)
        try:
            op = imp.op(node, node_name)
        except _Skip as e:
            unsupported.append((node_name, node.op_type, str(e)))
            continue
        if op is not None:
            g.add_op(op)
    if unsupported and strict:
        raise UnsupportedOpsError(src, unsupported)
    if unsupported:
        g.params["unsupported_ops"] = [{"node": n, "op_type": t, "reason": r} for n, t, r in unsupported]
    return g
