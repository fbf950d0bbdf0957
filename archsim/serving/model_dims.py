"""Shapes and byte counts of a decoder LLM, per layer, from its :class:`LLMConfig`.

Weights include biases and norm parameters exactly as :func:`archsim.workload.decoder_llm` builds
them (the tests check the totals against the graph), so a step model and a graph agree on what a
step reads. Sizes are in elements or bytes (``*_bytes``); ``dtype_bytes`` is 2 (FP16/BF16).
"""

from __future__ import annotations

from dataclasses import dataclass

from archsim.workload.builders.llm_config import LLMConfig


@dataclass(frozen=True)
class ModelDims:
    """One model's dimensions (see the module docstring)."""

    name: str
    cfg: LLMConfig
    dtype_bytes: int = 2

    # -- shapes ---------------------------------------------------------------------------------
    @property
    def hidden(self) -> int:
        return self.cfg.hidden_size

    @property
    def heads(self) -> int:
        return self.cfg.num_heads

    @property
    def kv_heads(self) -> int:
        return self.cfg.num_kv_heads

    @property
    def head_dim(self) -> int:
        return self.cfg.head_dim

    @property
    def layers(self) -> int:
        return self.cfg.num_layers

    @property
    def experts(self) -> int:
        return self.cfg.num_experts

    @property
    def top_k(self) -> int:
        return self.cfg.experts_per_token

    @property
    def moe_layers(self) -> list[int]:
        return self.cfg.moe_layers

    @property
    def dense_layers(self) -> int:
        return self.layers - len(self.moe_layers)

    @property
    def ffn_mats(self) -> int:
        """Weight matrices of one FFN (gate/up/down: 3; fc1/fc2: 2)."""
        return 3 if self.cfg.gated_mlp else 2

    @property
    def q_width(self) -> int:
        return self.heads * self.head_dim

    @property
    def kv_width(self) -> int:
        return self.kv_heads * self.head_dim

    # -- weights (elements) ---------------------------------------------------------------------
    def _norm_params(self) -> int:
        c = self.cfg
        if not c.norm_affine:
            return 0
        return self.hidden * (2 if c.norm == "layernorm" else 1)

    @property
    def attn_params(self) -> int:
        """q, k, v, o projections (+ biases)."""
        h, q, kv = self.hidden, self.q_width, self.kv_width
        n = h * (q + 2 * kv) + q * h
        if self.cfg.attention_bias:
            n += q + 2 * kv + h
        return n

    @property
    def ffn_params(self) -> int:
        """One dense FFN or one expert (+ biases)."""
        h, i = self.hidden, self.cfg.intermediate_size
        n = self.ffn_mats * h * i
        if self.cfg.mlp_bias:
            n += (self.ffn_mats - 1) * i + h
        return n

    @property
    def router_params(self) -> int:
        return self.experts * self.hidden

    @property
    def layer_norm_params(self) -> int:
        return 2 * self._norm_params()

    @property
    def embed_params(self) -> int:
        c = self.cfg
        n = c.vocab_size * c.word_embed_proj_dim
        if c.positions == "learned":
            n += (c.max_positions + c.position_offset) * self.hidden
        if c.word_embed_proj_dim != self.hidden:
            n += 2 * c.word_embed_proj_dim * self.hidden  # project_in / project_out (no bias)
        return n

    @property
    def head_params(self) -> int:
        """Final norm and the LM head (0 for a tied head)."""
        c = self.cfg
        n = self._norm_params() if c.final_norm else 0
        if not c.tie_word_embeddings:
            n += c.vocab_size * c.word_embed_proj_dim
        return n

    @property
    def total_params(self) -> int:
        moe = len(self.moe_layers)
        per_layer = self.attn_params + self.layer_norm_params
        return (self.layers * per_layer + self.dense_layers * self.ffn_params
                + moe * (self.experts * self.ffn_params + self.router_params) + self.embed_params + self.head_params)

    @property
    def weight_bytes(self) -> int:
        return self.total_params * self.dtype_bytes

    @property
    def expert_bytes(self) -> int:
        return self.ffn_params * self.dtype_bytes

    @property
    def kv_bytes_per_token(self) -> int:
        """K and V of one token over all layers (whole model)."""
        return 2 * self.layers * self.kv_width * self.dtype_bytes


def dims_from_graph_params(params: dict) -> ModelDims:
    """:class:`ModelDims` from a decoder graph's ``params`` (its resolved config)."""
    cfg = LLMConfig(**params["config"])
    dtype = params.get("dtype", "fp16")
    from archsim.workload.graph import DTYPE_BITS

    return ModelDims(str(params.get("model", cfg.model_type)), cfg, DTYPE_BITS[dtype] // 8)
