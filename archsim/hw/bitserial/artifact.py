"""The ``bitmod-sim`` convention: the BitMoD artifact's cycle model, quirks included.

It reproduces the per-model cycle arrays of the paper's speed-up figures (hard-coded in
``abdelfattah-lab/BitMoD-HPCA-25`` ``sim/plot/speedup_plot.ipynb``), which came from the
simulator version of commit ``6b68523`` (``bitmod_sim/accelerator.py``) with the 2-D
``PE_Array`` of ``yc2367/BitMoD`` ``sim/pe.py`` (commit ``1dac606``). Its rules:

* layers: every linear layer (``nn.Linear``, ``lm_head`` included) processes every token of the
  step (prefill: the whole context, also for ``lm_head``; decode: 1), plus per decoder layer two
  attention "layers" modelled as one GEMM each with the weight/input/output shapes
  ``attn_qk``: ``[ctx, H]``, ``[ctx, H/heads*kv_heads]``, ``[heads*ctx, ctx]`` and ``attn_v``:
  ``[heads*ctx, ctx]``, ``[ctx, H/heads*kv_heads]``, ``[ctx, H]`` (decode: the ``ctx`` of the
  query side becomes 1). Norms, softmax, embeddings and residual adds are not modelled;
* compute: ``tiles = ceil(cin / dp) * ceil(cout / rows) * ceil(tokens / cols)``, cycles =
  ``tiles * latency`` with ``latency = round(floor(w_prec) / 2)`` (Python's half-to-even round)
  on a bit-serial PE, 1 otherwise, for attention too;
* DRAM: ``w = ceil(cin_w * w_prec / 8) * cout``, ``i = ceil(cin_i * 16 / 8) * tokens_out``,
  ``o = ceil(cout * 16 / 8) * tokens_out`` bytes (attention "weights" at 16 bits); if both ``w`` and
  ``i`` exceed their 512 KB buffers one of them is re-fetched ``ceil(other / 512 KB)`` times,
  whichever moves fewer bytes; ``cycles = int((w f_w + i f_i + o) * 8 / (dram bits per cycle))``;
* a layer takes ``max(compute, DRAM)``; layers add up.

``w_prec`` is the stored bits per weight: the spec's ``weight_bits`` when set, else the element
bits plus ``scale_bits / group_size`` for group-scaled formats (4.0625 for BitMoD's 4-bit types;
the 2-bit SV selector is not charged) and 16 for FP16.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from archsim.hw.bitserial.hwformats import weight_hw_format
from archsim.hw.bitserial.spec import BitSerialSpec
from archsim.workload.graph import Graph, Op, OpKind


@dataclass(frozen=True)
class ArtifactLayer:
    """One layer as the artifact sees it: weight ``[cout, cin_w]``, input ``[tokens_in, cin_i]``,
    output ``[tokens_out, cout_o]`` and whether it is attention (16-bit "weights" in DRAM)."""

    name: str
    w: tuple[int, int]
    i: tuple[int, int]
    o: tuple[int, int]
    attention: bool


def w_prec(spec: BitSerialSpec) -> float:
    if spec.weight_bits:
        return spec.weight_bits
    f = weight_hw_format(spec)
    if f.dequant:
        return f.element_bits + spec.scale_bits / (f.group_size or 1)
    return f.bits_per_element


def pe_latency(spec: BitSerialSpec, prec: float) -> int:
    return round(math.floor(prec) / 2) if spec.pe == "bitserial" else 1


def layers_of(op: Op, graph: Graph) -> list[ArtifactLayer]:
    """The artifact layers standing for ``op`` (empty for ops the artifact ignores)."""
    p = graph.params
    if op.kind == OpKind.MATMUL:
        weights = [t for t in op.inputs if t.role == "weight" and len(t.shape) == 2]
        if not weights:
            return []
        _, m, n, k = op.gemm_dims()
        tokens = int(p.get("tokens", m))
        return [ArtifactLayer(op.name, (n, k), (tokens, k), (tokens, n), False)]
    if op.kind in (OpKind.ATTENTION_SCORE, OpKind.ATTENTION_CONTEXT):
        heads = int(op.attr("heads", 1))
        kv_heads = int(op.attr("kv_heads", heads))
        seqs = op.need("batch") // heads
        gen = op.need("m") == 1
        if op.kind == OpKind.ATTENTION_SCORE:
            ctx, hd = op.need("n"), op.need("k")
        else:
            ctx, hd = op.need("k"), op.need("n")
        hidden, kv = heads * hd, kv_heads * hd
        q = 1 if gen else ctx
        if op.kind == OpKind.ATTENTION_SCORE:
            layer = ArtifactLayer(op.name, (q, hidden), (ctx, kv), (heads * q, ctx), True)
        else:
            layer = ArtifactLayer(op.name, (heads * q, ctx), (ctx, kv), (q, hidden), True)
        return [layer] * seqs
    return []


def layer_cycles(layer: ArtifactLayer, spec: BitSerialSpec, rows: int, cols: int, prec: float,
                 latency: int) -> tuple[int, int, int, int, int]:
    """``(cycles, compute_cycles, dram_cycles, read_bytes, write_bytes)`` of one artifact layer."""
    cout, cin_w = layer.w
    _, cin_i = layer.i
    tokens, _ = layer.o
    tiles = math.ceil(cin_w / spec.dot_product_size) * math.ceil(cout / rows) * math.ceil(tokens / cols)
    compute = tiles * latency
    i_prec = spec.act_bits
    wp = i_prec if layer.attention else prec
    w_b = math.ceil(cin_w * wp / 8) * cout
    i_b = math.ceil(cin_i * i_prec / 8) * tokens
    o_b = math.ceil(cout * i_prec / 8) * tokens
    size_w, size_i = spec.weight_buffer_bytes, spec.act_buffer_bytes
    f_w = f_i = 1
    if w_b > size_w and i_b > size_i:
        re_i, re_w = math.ceil(w_b / size_w), math.ceil(i_b / size_i)
        if re_w * w_b + i_b < re_i * i_b + w_b:
            f_w = re_w
        else:
            f_i = re_i
    read = w_b * f_w + i_b * f_i
    dram = int((read + o_b) * 8 / (spec.dram_bytes_per_cycle * 8))
    return max(compute, dram), compute, dram, read, o_b
