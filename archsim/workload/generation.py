"""Token-by-token generation with a growing KV cache, shared by the models that support ``--tokens``.

A generation of ``N`` tokens is ``N`` decode steps; step ``i`` attends over a context of ``S + i``
tokens (``S``: the graph's ``seq_len``, the context of the first generated token, itself included).
Only the attention ops depend on the context (``attention_score``, its ``softmax``,
``attention_context``); :func:`at_context` rebuilds one of them for another context, so a model can
cost every other op once and the context-dependent ones per step (or in closed form).

When ``--tokens`` is given without ``--seq-len`` (the zoo's default context of 128 was applied),
the generation starts from a one-token context, so ``--tokens N`` means "generate N tokens".
"""

from __future__ import annotations

import argparse
from dataclasses import replace

from archsim.argtypes import positive_int
from archsim.errors import InputError
from archsim.workload.graph import Graph, Op, OpKind, Tensor

#: op kinds whose shapes follow the context
CONTEXT_KINDS = (OpKind.ATTENTION_SCORE, OpKind.SOFTMAX, OpKind.ATTENTION_CONTEXT)


def add_tokens_argument(group: argparse._ArgumentGroup) -> None:
    """Add ``--tokens`` to an ``archsim run`` argument group unless another kind already did."""
    if "--tokens" in group._option_string_actions:  # shared with the parser and its other groups
        return

    group.add_argument("--tokens", type=positive_int, help="generate N tokens one by one with a growing KV cache "
                       "(decode; --seq-len is the first token's context, default 1)")


def check_tokens(tokens: object) -> int:
    if isinstance(tokens, bool) or not isinstance(tokens, int) or tokens < 1:
        raise InputError("--tokens", None, "a positive number of tokens", tokens)
    return tokens


def generation_contexts(graph: Graph, tokens: int) -> tuple[list[int], list[str]]:
    """The context of each of the ``tokens`` decode steps, and notes for the report.

    Raises InputError for a graph that is not an LLM decode step, or when the last context exceeds a
    model's learned positions."""
    tokens = check_tokens(tokens)
    p = graph.params
    cfg = p.get("config")
    if not isinstance(cfg, dict) or p.get("phase") != "decode":
        raise InputError("--tokens", None, "a decoder LLM in the decode phase (--phase decode)",
                         p.get("phase", graph.name))
    notes = []
    start = int(p.get("seq_len", 1))
    if "seq_len=128" in p.get("defaults_applied", []):
        start = 1
        notes.append("generation starts from a 1-token context (no --seq-len given)")
    last = start + tokens - 1
    if cfg.get("positions") == "learned" and last > int(cfg["max_positions"]):
        raise InputError("--tokens", None, f"at most {int(cfg['max_positions']) - start + 1} tokens from a context of "
                         f"{start}: {graph.name} has {cfg['max_positions']} learned positions", tokens)
    return list(range(start, last + 1)), notes


def kv_len(graph: Graph, context: int) -> int:
    """Keys attended over at ``context`` (a sliding window caps it)."""
    w = (graph.params.get("config") or {}).get("sliding_window")
    return min(context, w) if w else context


def _resize(t: Tensor, axis: int, size: int) -> Tensor:
    shape = list(t.shape)
    shape[axis] = size
    return replace(t, shape=tuple(shape))


def at_context(op: Op, kv: int) -> Op:
    """``op`` (an attention op of a one-token decode step) rebuilt to attend over ``kv`` keys; other
    ops are returned unchanged. The past K/V inputs hold ``kv - 1`` tokens (none when ``kv == 1``)."""
    if op.kind not in CONTEXT_KINDS:
        return op
    attrs = op.params
    if op.kind == OpKind.SOFTMAX:
        attrs["cols"] = kv
        return Op(op.name, op.kind, tuple(_resize(t, -1, kv) for t in op.inputs),
                  tuple(_resize(t, -1, kv) for t in op.outputs), attrs)
    cache = "k_cache" if op.kind == OpKind.ATTENTION_SCORE else "v_cache"
    first, *rest = op.inputs
    caches = [t for t in rest if t.name.endswith(cache)]
    new = [t for t in rest if not t.name.endswith(cache)]
    if kv > 1:
        if caches:
            caches = [_resize(caches[0], 2, kv - 1)]
        else:
            b = first.shape[0]
            hd = attrs["k"] if op.kind == OpKind.ATTENTION_SCORE else attrs["n"]
            kvh = attrs.get("kv_heads", attrs.get("heads"))
            layer = op.name.split(".attn.")[0]
            caches = [Tensor(f"{layer}.{cache}", (b, kvh, kv - 1, hd), first.dtype, "kv_cache")]
    else:
        caches = []
    if op.kind == OpKind.ATTENTION_SCORE:
        attrs["n"] = kv
        outs = tuple(_resize(t, -1, kv) for t in op.outputs)
        return Op(op.name, op.kind, (first, *caches, *new), outs, attrs)
    attrs["k"] = kv
    return Op(op.name, op.kind, (_resize(first, -1, kv), *caches, *new), op.outputs, attrs)
