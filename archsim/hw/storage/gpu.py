"""The GPU side of a decode step: the graph's ops grouped per layer, timed on the xpu roofline.

Per layer: ``pre`` (norm, Q/K/V projections, rotary), ``attn`` (score, softmax, context: on the
drives for InstInfer, on the GPU for FlexGen) and ``post`` (output projection, residual, MLP);
``embed`` runs before the first layer and ``head`` after the last.

Op time is :func:`archsim.hw.xpu.model.op_time_ns` (``max(compute, memory) + launch``). For a
micro-batch holding a fraction ``f`` of the sequences, compute and activation/KV bytes scale by
``f`` and weight bytes do not: ``max(f comp, mem_weights + f mem_rest) + launch``.

A GPU span (a group of ops run back to back, :class:`GpuSpan`) carries the ops' MACs and its
utilization: the ops' FLOPs over what the GPU's peak (``XpuSpec.peak`` of each op's dtype, no
efficiency derating) does in the span, ``sum(f flops_i / peak_i) / span``, capped at 1.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

from archsim.hw.xpu.model import op_time_ns
from archsim.hw.xpu.spec import XpuSpec
from archsim.workload.graph import Graph, Op, OpKind

ATTENTION_KINDS = (OpKind.ATTENTION_SCORE, OpKind.SOFTMAX, OpKind.ATTENTION_CONTEXT)
_LAYER = re.compile(r"^layers\.(\d+)\.")


@dataclass(frozen=True)
class OpCost:
    """Roofline cost of one op for the whole batch (ns as floats) and what it moves."""

    name: str
    comp_ns: float
    mem_weight_ns: float
    mem_rest_ns: float
    launch_ns: float
    flops: int
    weight_bytes: int
    read_bytes: int
    write_bytes: int
    macs: int
    peak_ns: float = 0.0  # the op's FLOPs at the GPU's peak for its dtype (whole batch)

    def time_ns(self, frac: float = 1.0) -> float:
        return max(self.comp_ns * frac, self.mem_weight_ns + self.mem_rest_ns * frac) + self.launch_ns


def op_cost(op: Op, spec: XpuSpec) -> OpCost:
    t, comp, mem, ops, nbytes = op_time_ns(op, spec)
    per_byte = mem / nbytes if nbytes else 0.0
    w = op.weight_bytes
    dtype = op.inputs[0].dtype if op.inputs else "fp16"  # as op_time_ns picks the peak
    peak = spec.peak(dtype)
    return OpCost(op.name, comp, w * per_byte, (nbytes - w) * per_byte, spec.launch_overhead_ns, ops, w,
                  op.input_bytes, op.output_bytes, op.macs, ops / peak * 1e9 if peak else 0.0)


@dataclass(frozen=True)
class LayerOps:
    pre: tuple[OpCost, ...]
    attn: tuple[OpCost, ...]
    post: tuple[OpCost, ...]


@dataclass(frozen=True)
class GpuWork:
    embed: tuple[OpCost, ...]
    layers: tuple[LayerOps, ...]
    head: tuple[OpCost, ...]

    @property
    def weight_bytes(self) -> int:
        ops = [*self.embed, *self.head, *(o for lay in self.layers for o in (*lay.pre, *lay.attn, *lay.post))]
        return sum(o.weight_bytes for o in ops)


def _split_layer(ops: Sequence[OpCost], kinds: Sequence[OpKind]) -> LayerOps:
    idx = [i for i, k in enumerate(kinds) if k in ATTENTION_KINDS]
    if not idx:
        return LayerOps(tuple(ops), (), ())
    a, b = idx[0], idx[-1] + 1
    return LayerOps(tuple(ops[:a]), tuple(ops[a:b]), tuple(ops[b:]))


def gpu_work(graph: Graph, spec: XpuSpec) -> GpuWork:
    """Group ``graph``'s ops by layer (``layers.{i}.`` names; positionally between attention ops
    for graphs without them) and cost them on ``spec``."""
    ops = graph.ops
    costs = [op_cost(op, spec) for op in ops]
    kinds = [op.kind for op in ops]
    layer_of = [(int(m.group(1)) if (m := _LAYER.match(op.name)) else None) for op in ops]
    if any(x is not None for x in layer_of):
        first = next(i for i, x in enumerate(layer_of) if x is not None)
        last = max(i for i, x in enumerate(layer_of) if x is not None)
        groups: dict[int, list[int]] = {}
        for i, x in enumerate(layer_of):
            if x is not None:
                groups.setdefault(x, []).append(i)
        embed = tuple(costs[i] for i in range(first) if layer_of[i] is None)
        head = tuple(costs[i] for i in range(last + 1, len(ops)) if layer_of[i] is None)
        layers = tuple(_split_layer([costs[i] for i in idx], [kinds[i] for i in idx]) for _, idx in sorted(groups.items()))
        return GpuWork(embed, layers, head)
    # positional: a layer ends with its context op
    layers, cur_ops, cur_kinds = [], [], []
    for c, k in zip(costs, kinds):
        cur_ops.append(c)
        cur_kinds.append(k)
        if k == OpKind.ATTENTION_CONTEXT:
            layers.append(_split_layer(cur_ops, cur_kinds))
            cur_ops, cur_kinds = [], []
    return GpuWork((), tuple(layers), tuple(cur_ops))


def group_ns(ops: Sequence[OpCost], frac: float = 1.0) -> int:
    """Whole ns (rounded up) of running ``ops`` back to back for a fraction ``frac`` of the batch."""
    return math.ceil(sum(o.time_ns(frac) for o in ops))


def group_traffic(ops: Sequence[OpCost], frac: float = 1.0) -> tuple[int, int, int, int]:
    """``(flops, dram_read_bytes, dram_write_bytes, macs)`` of ``ops`` for a fraction of the batch."""
    flops = round(sum(o.flops for o in ops) * frac)
    reads = round(sum(o.weight_bytes + (o.read_bytes - o.weight_bytes) * frac for o in ops))
    writes = round(sum(o.write_bytes for o in ops) * frac)
    macs = round(sum(o.macs for o in ops) * frac)
    return flops, reads, writes, macs


def group_peak_ns(ops: Sequence[OpCost], frac: float = 1.0) -> float:
    """Time ``ops``' FLOPs (for a fraction of the batch) take at the GPU's peak, ns."""
    return sum(o.peak_ns for o in ops) * frac


def span_util(peak_ns: float, span_ns: int) -> float:
    """Utilization of a GPU span of ``span_ns`` whose FLOPs take ``peak_ns`` at peak (capped at 1)."""
    return min(1.0, peak_ns / span_ns) if span_ns > 0 else 0.0


@dataclass(frozen=True)
class GpuSpan:
    """One GPU span: ``ops`` for a fraction of the batch (whole ns, energy, MACs, utilization)."""

    ns: int
    pj: float
    macs: int
    util: float


def gpu_span(ops: Sequence[OpCost], frac: float, pj: float) -> GpuSpan:
    ns = group_ns(ops, frac)
    return GpuSpan(ns, pj, group_traffic(ops, frac)[3], span_util(group_peak_ns(ops, frac), ns))
