"""Decoder-only LLM builder (GPT-2, OPT, Llama, Mistral, Mixtral) for one prefill or decode step.

One step processes ``q_len`` new tokens per sequence (prefill: the whole prompt of ``seq_len``
tokens; decode: one token, with ``seq_len`` the context length including it) and attends over
``kv_len`` keys. Op names: ``embed_tokens``, ``embed_positions``, ``embed_add``, ``project_in``,
``layers.{i}.attn_norm``, ``layers.{i}.attn.{q_proj,k_proj,v_proj,rope,score,softmax,context,o_proj}``,
``layers.{i}.attn_add``, ``layers.{i}.mlp_norm``, ``layers.{i}.mlp.{fc1,fc2}`` or
``layers.{i}.mlp.{gate,up,mul,down}``, ``layers.{i}.moe.{router,expert{e}.*,combine}``,
``layers.{i}.mlp_add``, ``final_norm``, ``project_out``, ``lm_head``.

Modelling choices:

* Tensors written to the KV cache have role ``kv_cache``: the v projection output and the key as
  cached (the k projection output, or the rotary op's key output for rotary models). In decode the
  attention also reads ``layers.{i}.k_cache``/``v_cache`` of shape ``(batch, kv_heads, past, head_dim)``.
* Attention is dense (``q_len x kv_len`` scores; the causal mask is not exploited). With a
  ``sliding_window`` (Mistral) a decode step attends over ``min(seq_len, sliding_window)`` keys.
* ``logits="last"``: the first op after the last layer reads only the last position of each
  sequence (its input tensor is still the full hidden state).
* MoE models: every layer has an MoE FFN unless the config's ``decoder_sparse_step`` makes only
  every step-th one sparse (GLaM); ``params["expert_tokens"]`` has one entry per MoE layer, listed
  in ``params["moe_layers"]``.
* Parameters include biases and norm scales/shifts, so weight bytes equal published parameter
  counts times the dtype size; a tied lm_head reuses the embedding tensor (counted once). MoE
  experts that receive no tokens are omitted (their weights are not read in that step).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from archsim.errors import InputError
from archsim.workload.builders.layers import elementwise, linear
from archsim.workload.builders.llm_config import LLMConfig, normalize_config, resolve_dtype
from archsim.workload.builders.moe import ROUTINGS, expert_token_counts
from archsim.workload.graph import Graph, Op, OpKind, Tensor

PHASES = ("prefill", "decode")
LOGITS = ("last", "all")
#: element ops of rotary embedding per element: x*cos + rotate_half(x)*sin
ROPE_OPS_PER_ELEMENT = 3
TOKEN_ID_DTYPE = "int32"


def _positive_int(field: str, value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise InputError(None, field, "a positive integer", value)
    return value


class _Builder:
    """Adds the ops of one decoder step to ``g``."""

    def __init__(self, g: Graph, cfg: LLMConfig, dtype: str, batch: int, q_len: int, kv_len: int):
        self.g, self.cfg, self.dtype = g, cfg, dtype
        self.batch, self.q_len, self.kv_len = batch, q_len, kv_len
        self.tokens = batch * q_len

    # -- building blocks --------------------------------------------------------------------
    def norm(self, name: str, x: Tensor, *, rows: int | None = None, out_shape: tuple[int, ...] | None = None) -> Tensor:
        cfg = self.cfg
        cols = x.shape[-1]
        inputs = [x]
        if cfg.norm_affine:
            inputs.append(Tensor(f"{name}.weight", (cols,), self.dtype, "weight"))
            if cfg.norm == "layernorm":
                inputs.append(Tensor(f"{name}.bias", (cols,), self.dtype, "weight"))
        y = Tensor(f"{name}.out", out_shape or x.shape, self.dtype)
        attrs = {"rows": rows if rows is not None else math.prod(x.shape[:-1]), "cols": cols,
                 "rms": cfg.norm == "rmsnorm", "eps": cfg.norm_eps}
        self.g.add_op(Op(name, OpKind.LAYERNORM, tuple(inputs), (y,), attrs))
        return y

    def add(self, name: str, a: Tensor, b: Tensor) -> Tensor:
        return elementwise(self.g, name, (a, b), a.shape, fn="add")

    def embed(self) -> tuple[Tensor, Tensor]:
        """Token (and learned position) embedding; returns the hidden state and the token table."""
        cfg, g, b, q = self.cfg, self.g, self.batch, self.q_len
        width = cfg.word_embed_proj_dim
        ids = Tensor("input_ids", (b, q), TOKEN_ID_DTYPE, "input")
        table = Tensor("embed_tokens.weight", (cfg.vocab_size, width), self.dtype, "weight")
        x = Tensor("embed_tokens.out", (b, q, width), self.dtype)
        g.add_op(Op("embed_tokens", OpKind.EMBEDDING, (ids, table), (x,), {"tokens": self.tokens, "hidden": width}))
        if width != cfg.hidden_size:
            x = linear(g, "project_in", x, cfg.hidden_size)
        if cfg.positions == "learned":
            pos = Tensor("position_ids", (b, q), TOKEN_ID_DTYPE, "input")
            ptable = Tensor(
                "embed_positions.weight", (cfg.max_positions + cfg.position_offset, cfg.hidden_size), self.dtype,
                "weight",
            )
            pe = Tensor("embed_positions.out", (b, q, cfg.hidden_size), self.dtype)
            g.add_op(Op("embed_positions", OpKind.EMBEDDING, (pos, ptable), (pe,),
                        {"tokens": self.tokens, "hidden": cfg.hidden_size}))
            x = self.add("embed_add", x, pe)
        return x, table

    def attention(self, i: int, h: Tensor) -> Tensor:
        cfg, g, b = self.cfg, self.g, self.batch
        p = f"layers.{i}.attn"
        nh, nkv, hd = cfg.num_heads, cfg.num_kv_heads, cfg.head_dim
        rotary = cfg.positions == "rotary"
        bias = cfg.attention_bias
        q = linear(g, f"{p}.q_proj", h, nh * hd, bias=bias)
        k = linear(g, f"{p}.k_proj", h, nkv * hd, bias=bias, out_role="activation" if rotary else "kv_cache")
        v = linear(g, f"{p}.v_proj", h, nkv * hd, bias=bias, out_role="kv_cache")
        if rotary:
            q_rot = Tensor(f"{p}.rope.q", q.shape, self.dtype)
            k_rot = Tensor(f"{p}.rope.k", k.shape, self.dtype, "kv_cache")
            g.add_op(Op(f"{p}.rope", OpKind.ELEMENTWISE, (q, k), (q_rot, k_rot), {
                "elements": self.tokens * (nh + nkv) * hd, "ops_per_element": ROPE_OPS_PER_ELEMENT, "fn": "rope"}))
            q, k = q_rot, k_rot
        past = self.kv_len - self.q_len
        k_in, v_in = [k], [v]
        if past > 0:
            k_in.insert(0, Tensor(f"layers.{i}.k_cache", (b, nkv, past, hd), self.dtype, "kv_cache"))
            v_in.insert(0, Tensor(f"layers.{i}.v_cache", (b, nkv, past, hd), self.dtype, "kv_cache"))
        heads = {"heads": nh, "kv_heads": nkv}
        scores = Tensor(f"{p}.score.out", (b, nh, self.q_len, self.kv_len), self.dtype)
        g.add_op(Op(f"{p}.score", OpKind.ATTENTION_SCORE, (q, *k_in), (scores,),
                    {"batch": b * nh, "m": self.q_len, "n": self.kv_len, "k": hd, **heads}))
        probs = Tensor(f"{p}.softmax.out", scores.shape, self.dtype)
        g.add_op(Op(f"{p}.softmax", OpKind.SOFTMAX, (scores,), (probs,),
                    {"rows": b * nh * self.q_len, "cols": self.kv_len}))
        ctx = Tensor(f"{p}.context.out", (b, self.q_len, nh * hd), self.dtype)
        g.add_op(Op(f"{p}.context", OpKind.ATTENTION_CONTEXT, (probs, *v_in), (ctx,),
                    {"batch": b * nh, "m": self.q_len, "n": hd, "k": self.kv_len, **heads}))
        return linear(g, f"{p}.o_proj", ctx, cfg.hidden_size, bias=bias)

    def dense_mlp(self, p: str, h: Tensor) -> Tensor:
        cfg, g = self.cfg, self.g
        bias = cfg.mlp_bias
        if not cfg.gated_mlp:
            y = linear(g, f"{p}.fc1", h, cfg.intermediate_size, bias=bias, activation=cfg.activation)
            return linear(g, f"{p}.fc2", y, cfg.hidden_size, bias=bias)
        gate = linear(g, f"{p}.gate", h, cfg.intermediate_size, bias=bias, activation=cfg.activation)
        up = linear(g, f"{p}.up", h, cfg.intermediate_size, bias=bias)
        y = elementwise(g, f"{p}.mul", (gate, up), gate.shape, fn="mul")
        return linear(g, f"{p}.down", y, cfg.hidden_size, bias=bias)

    def moe(self, i: int, h: Tensor, counts: list[int]) -> Tensor:
        """TOPK_ROUTER (scores + top-k + dispatch), one FFN per expert with tokens, weighted combine."""
        cfg, g = self.cfg, self.g
        p = f"layers.{i}.moe"
        hidden, k = cfg.hidden_size, cfg.experts_per_token
        gate_w = Tensor(f"{p}.router.weight", (cfg.num_experts, hidden), self.dtype, "weight")
        dispatched = [(e, Tensor(f"{p}.expert{e}.in", (n, hidden), self.dtype)) for e, n in enumerate(counts) if n]
        route_w = Tensor(f"{p}.router.weights", (self.tokens, k), self.dtype)
        g.add_op(Op(f"{p}.router", OpKind.TOPK_ROUTER, (h, gate_w), (*(t for _, t in dispatched), route_w), {
            "tokens": self.tokens, "experts": cfg.num_experts, "top_k": k, "hidden": hidden,
            "expert_tokens": tuple(counts)}))
        outs = [self.dense_mlp(f"{p}.expert{e}", x) for e, x in dispatched]
        y = Tensor(f"{p}.combine.out", h.shape, self.dtype)
        g.add_op(Op(f"{p}.combine", OpKind.ELEMENTWISE, (*outs, route_w), (y,), {
            "elements": self.tokens * k * hidden, "ops_per_element": 2, "fn": "weighted_sum"}))
        return y

    def layer(self, i: int, x: Tensor, counts: list[int] | None) -> Tensor:
        p = f"layers.{i}"

        def mlp(h: Tensor) -> Tensor:
            return self.moe(i, h, counts) if counts is not None else self.dense_mlp(f"{p}.mlp", h)

        if self.cfg.pre_norm:
            x = self.add(f"{p}.attn_add", x, self.attention(i, self.norm(f"{p}.attn_norm", x)))
            return self.add(f"{p}.mlp_add", x, mlp(self.norm(f"{p}.mlp_norm", x)))
        # post-LN (OPT-350m): residual add, then norm
        x = self.norm(f"{p}.attn_norm", self.add(f"{p}.attn_add", x, self.attention(i, x)))
        return self.norm(f"{p}.mlp_norm", self.add(f"{p}.mlp_add", x, mlp(x)))

    def head(self, x: Tensor, table: Tensor, logits: str) -> None:
        cfg, g, b = self.cfg, self.g, self.batch
        q_out = 1 if logits == "last" else self.q_len
        rows = b * q_out
        if cfg.final_norm:
            x = self.norm("final_norm", x, rows=rows, out_shape=(b, q_out, x.shape[-1]))
        if cfg.word_embed_proj_dim != cfg.hidden_size:
            x = linear(g, "project_out", x, cfg.word_embed_proj_dim, rows=rows,
                       out_shape=(b, q_out, cfg.word_embed_proj_dim))
        linear(g, "lm_head", x, cfg.vocab_size, weight=table if cfg.tie_word_embeddings else None, rows=rows,
               out_shape=(b, q_out, cfg.vocab_size), out_role="output")


def _default_name(config: Mapping[str, Any], cfg: LLMConfig) -> str:
    path = config.get("_name_or_path")
    if isinstance(path, str) and path:
        return path.rstrip("/").rsplit("/", 1)[-1]
    return cfg.model_type


def decoder_llm(
    config: Mapping[str, Any],
    *,
    phase: str,
    batch: int = 1,
    seq_len: int = 128,
    dtype: str | None = None,
    routing: str = "balanced",
    seed: int = 0,
    logits: str = "last",
    name: str | None = None,
    source: str | None = None,
) -> Graph:
    """One prefill or decode step of a decoder-only LLM described by a HuggingFace config dict.

    ``seq_len`` is the prompt length (prefill) or the context length including the new token
    (decode). ``dtype`` (archsim or torch name) defaults to the config's ``torch_dtype``, else fp16.
    ``routing``/``seed`` choose MoE expert loads (see :mod:`archsim.workload.builders.moe`).
    ``source`` names the config file in errors and in the graph.
    """
    cfg = normalize_config(config, source)
    if phase not in PHASES:
        raise InputError(None, "phase", f"one of {PHASES}", phase)
    if logits not in LOGITS:
        raise InputError(None, "logits", f"one of {LOGITS}", logits)
    if routing not in ROUTINGS:
        raise InputError(None, "routing", f"one of {ROUTINGS}", routing)
    if not isinstance(seed, int) or isinstance(seed, bool):
        raise InputError(None, "seed", "an integer", seed)
    batch = _positive_int("batch", batch)
    seq_len = _positive_int("seq_len", seq_len)
    if cfg.positions == "learned" and seq_len > cfg.max_positions:
        raise InputError(source, "seq_len", f"at most the {cfg.max_positions} learned positions of this model", seq_len)
    dt = resolve_dtype(dtype, None, "dtype") if dtype is not None else (cfg.torch_dtype or "fp16")

    q_len = seq_len if phase == "prefill" else 1
    kv_len = seq_len
    if phase == "decode" and cfg.sliding_window is not None:
        kv_len = min(seq_len, cfg.sliding_window)
    tokens = batch * q_len
    counts = None
    moe_layers = cfg.moe_layers
    if cfg.is_moe:
        counts = expert_token_counts(routing, layers=len(moe_layers), tokens=tokens, experts=cfg.num_experts,
                                     top_k=cfg.experts_per_token, seed=seed)

    params: dict[str, Any] = {
        "model": name or _default_name(config, cfg),
        "phase": phase,
        "batch": batch,
        "seq_len": seq_len,
        "q_len": q_len,
        "kv_len": kv_len,
        "tokens": tokens,
        "dtype": dt,
        "logits": logits,
        "config": cfg.to_dict(),
    }
    if counts is not None:
        params.update({"routing": routing, "seed": seed, "expert_tokens": counts, "moe_layers": moe_layers})
    g = Graph(params["model"], source=source, params=params)
    b = _Builder(g, cfg, dt, batch, q_len, kv_len)
    x, table = b.embed()
    layer_counts = dict(zip(moe_layers, counts or []))
    for i in range(cfg.num_layers):
        x = b.layer(i, x, layer_counts.get(i))
    b.head(x, table, logits)
    return g
