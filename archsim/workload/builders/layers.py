"""Op factories shared by the builders: each makes one :class:`Op` and its output tensor.

Conventions (see ``archsim/workload/graph.py``): conv weights are ``(out_ch, in_ch/groups, kh, kw)``,
linear weights ``(out_features, in_features)`` (PyTorch layout), biases ``(out,)``; activations are
NCHW for convolutions and ``(..., features)`` for linear layers. Weight and bias tensors have role
``"weight"``. A fused activation function is recorded as the ``activation`` attribute.
"""

from __future__ import annotations

import math

from archsim.errors import InputError
from archsim.workload.graph import Graph, Op, OpKind, Tensor


def out_len(in_len: int, kernel: int, stride: int, pad: int) -> int:
    """Output length of a conv/pool window sweep (PyTorch ``floor`` semantics)."""
    return (in_len + 2 * pad - kernel) // stride + 1


def _check_positive(length: int, op_name: str, what: str, field: str, value: object) -> None:
    if length <= 0:
        raise InputError(None, field, f"an input large enough for {op_name} ({what} would be {length})", value)


def conv2d(
    g: Graph,
    name: str,
    x: Tensor,
    out_ch: int,
    kernel: int,
    *,
    stride: int = 1,
    pad: int = 0,
    groups: int = 1,
    kind: OpKind | None = None,
    activation: str | None = None,
    bias: bool = True,
    size_field: str = "input_hw",
) -> Tensor:
    """Add a square-kernel convolution on NCHW ``x``; returns its output tensor.

    ``kind`` defaults to CONV2D for ``groups == 1``, DEPTHWISE_CONV2D for ``groups == in_ch`` and
    GROUPED_CONV2D otherwise. ``bias`` adds a ``(out_ch,)`` weight tensor (a folded BatchNorm).
    """
    b, c, h, w = x.shape
    oh, ow = out_len(h, kernel, stride, pad), out_len(w, kernel, stride, pad)
    _check_positive(min(oh, ow), name, "the output size", size_field, (h, w))
    if kind is None:
        kind = OpKind.CONV2D if groups == 1 else OpKind.DEPTHWISE_CONV2D if groups == c else OpKind.GROUPED_CONV2D
    inputs = [x, Tensor(f"{name}.weight", (out_ch, c // groups, kernel, kernel), x.dtype, "weight")]
    if bias:
        inputs.append(Tensor(f"{name}.bias", (out_ch,), x.dtype, "weight"))
    y = Tensor(f"{name}.out", (b, out_ch, oh, ow), x.dtype)
    attrs = {
        "batch": b,
        "in_h": h,
        "in_w": w,
        "in_ch": c,
        "out_ch": out_ch,
        "kernel_h": kernel,
        "kernel_w": kernel,
        "stride_h": stride,
        "stride_w": stride,
        "pad_h": pad,
        "pad_w": pad,
        "groups": groups,
    }
    if activation:
        attrs["activation"] = activation
    g.add_op(Op(name, kind, tuple(inputs), (y,), attrs))
    return y


def pool2d(
    g: Graph, name: str, x: Tensor, kernel: tuple[int, int], *, stride: int, pad: int = 0, fn: str
) -> Tensor:
    """Add a max/avg pooling op (``fn`` "max" or "avg") on NCHW ``x``."""
    b, c, h, w = x.shape
    kh, kw = kernel
    oh, ow = out_len(h, kh, stride, pad), out_len(w, kw, stride, pad)
    _check_positive(min(oh, ow), name, "the output size", "input_hw", (h, w))
    y = Tensor(f"{name}.out", (b, c, oh, ow), x.dtype)
    attrs = {
        "batch": b,
        "in_h": h,
        "in_w": w,
        "channels": c,
        "kernel_h": kh,
        "kernel_w": kw,
        "stride_h": stride,
        "stride_w": stride,
        "pad_h": pad,
        "pad_w": pad,
        "fn": fn,
    }
    g.add_op(Op(name, OpKind.POOL, (x,), (y,), attrs))
    return y


def linear(
    g: Graph,
    name: str,
    x: Tensor,
    out_features: int,
    *,
    weight: Tensor | None = None,
    bias: bool = False,
    activation: str | None = None,
    rows: int | None = None,
    out_shape: tuple[int, ...] | None = None,
    out_role: str = "activation",
    out_name: str | None = None,
    in_features: int | None = None,
) -> Tensor:
    """Add a fully connected layer ``y = x W^T (+ b)`` as a MATMUL (batch 1, m rows, n out, k in).

    ``weight`` reuses an existing tensor (tied embeddings); by default a fresh ``name.weight`` of
    shape ``(out_features, in_features)``. ``rows`` overrides ``m`` when the op reads only some rows
    of ``x`` (the last position of each sequence); ``out_shape`` then gives the output shape.
    ``in_features`` overrides ``k`` (default ``x.shape[-1]``) for an NCHW input flattened on the fly.
    """
    if in_features is None:
        in_features = x.shape[-1]
    m = rows if rows is not None else math.prod(x.shape[:-1])
    w = weight if weight is not None else Tensor(f"{name}.weight", (out_features, in_features), x.dtype, "weight")
    inputs = [x, w]
    if bias:
        inputs.append(Tensor(f"{name}.bias", (out_features,), x.dtype, "weight"))
    shape = out_shape if out_shape is not None else (*x.shape[:-1], out_features)
    y = Tensor(out_name or f"{name}.out", shape, x.dtype, out_role)
    attrs: dict[str, object] = {"batch": 1, "m": m, "n": out_features, "k": in_features}
    if activation:
        attrs["activation"] = activation
    g.add_op(Op(name, OpKind.MATMUL, tuple(inputs), (y,), attrs))
    return y


def elementwise(
    g: Graph,
    name: str,
    inputs: tuple[Tensor, ...],
    out_shape: tuple[int, ...],
    *,
    fn: str,
    ops_per_element: int = 1,
    elements: int | None = None,
    activation: str | None = None,
    dtype: str | None = None,
) -> Tensor:
    """Add an ELEMENTWISE op; ``elements`` defaults to the output size."""
    y = Tensor(f"{name}.out", out_shape, dtype or inputs[0].dtype)
    attrs: dict[str, object] = {
        "elements": elements if elements is not None else math.prod(out_shape),
        "ops_per_element": ops_per_element,
        "fn": fn,
    }
    if activation:
        attrs["activation"] = activation
    g.add_op(Op(name, OpKind.ELEMENTWISE, inputs, (y,), attrs))
    return y
