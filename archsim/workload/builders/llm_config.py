"""Normalise a HuggingFace-style ``config.json`` dict into an :class:`LLMConfig` (no ``transformers``).

Three families are understood, by ``model_type`` (or, without it, by their characteristic keys):

* ``gpt2`` — keys ``n_embd, n_head, n_layer, n_positions, n_inner`` (None: 4*hidden); GELU MLP,
  LayerNorm, learned positions, tied embeddings, biases everywhere.
* ``opt`` — ``hidden_size, num_attention_heads, num_hidden_layers, ffn_dim, word_embed_proj_dim``
  (project_in/out when it differs from hidden_size); ReLU MLP, LayerNorm, learned positions with
  2 extra table rows (``OPTLearnedPositionalEmbedding`` offset), ``do_layer_norm_before``
  (False for opt-350m: post-LN, no final norm), ``enable_bias``, tied embeddings.
* ``llama`` (also ``mistral``, ``mixtral``, ``grok-1``) — ``intermediate_size``,
  ``num_key_value_heads`` (GQA), ``head_dim``; RMSNorm, SiLU-gated MLP, rotary positions,
  ``attention_bias``/``mlp_bias`` (default False), untied unless ``tie_word_embeddings``; Mixtral
  adds ``num_local_experts`` and ``num_experts_per_tok`` (Grok-1: ``num_experts``).

Two optional keys describe MoE models whose layers are not all alike (GLaM):
``decoder_sparse_step`` (Qwen2-MoE / NLLB-MoE's name: layer ``i``, counted from 0, is an MoE layer
when ``(i + 1) % step == 0``; default 1, every layer) and ``gated_mlp`` (a Llama-family model
whose FFNs are two-matrix ``fc1``/``fc2`` instead of gate/up/down; default true).

Defaults follow the ``transformers`` configuration classes of each family.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from archsim.errors import InputError
from archsim.workload.graph import DTYPE_BITS

#: normalised field -> config keys that may hold it, first match wins
ALIASES: dict[str, tuple[str, ...]] = {
    "hidden_size": ("hidden_size", "n_embd", "d_model"),
    "num_layers": ("num_hidden_layers", "n_layer", "num_layers"),
    "num_heads": ("num_attention_heads", "n_head"),
    "num_kv_heads": ("num_key_value_heads",),
    "head_dim": ("head_dim",),
    "intermediate_size": ("intermediate_size", "ffn_dim", "n_inner"),
    "vocab_size": ("vocab_size",),
    "max_positions": ("max_position_embeddings", "n_positions", "n_ctx"),
    "norm_eps": ("rms_norm_eps", "layer_norm_epsilon", "layer_norm_eps"),
    "activation": ("hidden_act", "activation_function"),
    "num_experts": ("num_local_experts", "num_experts"),
    "experts_per_token": ("num_experts_per_tok",),
    "word_embed_proj_dim": ("word_embed_proj_dim",),
    "tie_word_embeddings": ("tie_word_embeddings",),
    "sliding_window": ("sliding_window",),
    "torch_dtype": ("torch_dtype", "dtype"),
    "moe_layer_step": ("decoder_sparse_step",),
}

#: model_type -> family
MODEL_TYPES: dict[str, str] = {"gpt2": "gpt2", "opt": "opt", "llama": "llama", "mistral": "llama", "mixtral": "llama",
                               "grok-1": "llama"}

#: HF activation names -> archsim activation
ACTIVATIONS: dict[str, str] = {
    "gelu": "gelu",
    "gelu_new": "gelu",
    "gelu_fast": "gelu",
    "gelu_pytorch_tanh": "gelu",
    "relu": "relu",
    "silu": "silu",
    "swish": "silu",
}

#: torch dtype names (``torch_dtype`` in config.json) and archsim names -> archsim dtype
DTYPE_NAMES: dict[str, str] = {
    "float16": "fp16",
    "half": "fp16",
    "bfloat16": "bf16",
    "float32": "fp32",
    "float": "fp32",
    **{d: d for d in DTYPE_BITS},
}

#: per-family structure and defaults (transformers' GPT2Config/OPTConfig/LlamaConfig and modelling code)
_FAMILY_DEFAULTS: dict[str, dict[str, Any]] = {
    "gpt2": {"norm": "layernorm", "activation": "gelu_new", "gated_mlp": False, "positions": "learned",
             "position_offset": 0, "tie_word_embeddings": True, "norm_eps": 1e-5},
    "opt": {"norm": "layernorm", "activation": "relu", "gated_mlp": False, "positions": "learned",
            "position_offset": 2, "tie_word_embeddings": True, "norm_eps": 1e-5},
    "llama": {"norm": "rmsnorm", "activation": "silu", "gated_mlp": True, "positions": "rotary",
              "position_offset": 0, "tie_word_embeddings": False, "norm_eps": 1e-6},
}


@dataclass(frozen=True)
class LLMConfig:
    """A decoder-only transformer, family-independent. Sizes in elements (features, heads, tokens)."""

    model_type: str
    family: str  # "gpt2" | "opt" | "llama"
    hidden_size: int
    num_layers: int
    num_heads: int
    num_kv_heads: int
    head_dim: int
    intermediate_size: int
    vocab_size: int
    max_positions: int
    norm: str  # "layernorm" | "rmsnorm"
    norm_affine: bool  # LayerNorm has scale (and shift) parameters
    norm_eps: float
    activation: str  # "gelu" | "relu" | "silu"
    gated_mlp: bool
    positions: str  # "learned" | "rotary"
    position_offset: int  # extra rows in a learned position table (OPT: 2)
    tie_word_embeddings: bool
    attention_bias: bool
    mlp_bias: bool
    word_embed_proj_dim: int  # embedding width; != hidden_size means project_in/out (OPT-350m)
    pre_norm: bool
    final_norm: bool
    num_experts: int  # 0 for a dense MLP
    experts_per_token: int
    sliding_window: int | None
    torch_dtype: str | None  # archsim dtype name, or None when the config has none
    moe_layer_step: int = 1  # every moe_layer_step-th layer is an MoE layer (GLaM: 2)

    @property
    def is_moe(self) -> bool:
        return self.num_experts > 0

    def is_moe_layer(self, i: int) -> bool:
        """Whether layer ``i`` (from 0) has an MoE FFN: ``(i + 1) % moe_layer_step == 0``."""
        return self.is_moe and (i + 1) % self.moe_layer_step == 0

    @property
    def moe_layers(self) -> list[int]:
        """Indices of the MoE layers (empty for a dense model)."""
        return [i for i in range(self.num_layers) if self.is_moe_layer(i)]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class _Reader:
    """Looks up aliased keys and validates values; errors name ``source`` and the key found."""

    def __init__(self, config: Mapping[str, Any], source: str | None):
        self.config = config
        self.source = source or "<config>"

    def find(self, field: str) -> tuple[str, Any]:
        for key in ALIASES.get(field, (field,)):
            if key in self.config and self.config[key] is not None:
                return key, self.config[key]
        return ALIASES.get(field, (field,))[0], None

    def int(self, field: str, default: int | None = None, *, required: bool = True) -> int | None:
        key, value = self.find(field)
        if value is None:
            if default is not None or not required:
                return default
            raise InputError(self.source, key, f"a positive integer (one of the keys {list(ALIASES.get(field, (field,)))})")
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise InputError(self.source, key, "a positive integer", value)
        return value

    def bool(self, key: str, default: bool) -> bool:
        value = self.config.get(key, default)
        if value is None:
            return default
        if not isinstance(value, bool):
            raise InputError(self.source, key, "true or false", value)
        return value


def detect_family(config: Mapping[str, Any], source: str | None = None) -> str:
    """The family (``gpt2``/``opt``/``llama``) from ``model_type``, else from characteristic keys."""
    mt = config.get("model_type")
    if mt is not None:
        if mt not in MODEL_TYPES:
            raise InputError(source or "<config>", "model_type", f"one of {sorted(MODEL_TYPES)}", mt)
        return MODEL_TYPES[mt]
    if "n_embd" in config:
        return "gpt2"
    if "ffn_dim" in config:
        return "opt"
    if "intermediate_size" in config:
        return "llama"
    raise InputError(
        source or "<config>", "model_type",
        "a model_type or GPT-2 (n_embd), OPT (ffn_dim) or Llama (intermediate_size) keys",
    )


def looks_like_hf_config(config: Mapping[str, Any]) -> bool:
    """True when ``config`` is a HuggingFace-style LLM config (``model_type`` or family keys)."""
    return "model_type" in config or any(k in config for k in ("n_embd", "ffn_dim", "intermediate_size"))


def resolve_dtype(name: str, source: str | None, field: str) -> str:
    """An archsim dtype from a torch or archsim dtype name."""
    if not isinstance(name, str) or name not in DTYPE_NAMES:
        raise InputError(source, field, f"one of {sorted(DTYPE_NAMES)}", name)
    return DTYPE_NAMES[name]


def normalize_config(config: Mapping[str, Any], source: str | None = None) -> LLMConfig:
    """Normalise a HuggingFace config dict; a missing or bad key raises one InputError naming it."""
    if not isinstance(config, Mapping):
        raise InputError(source or "<config>", None, "a JSON object (HuggingFace config)", type(config).__name__)
    family = detect_family(config, source)
    d = _FAMILY_DEFAULTS[family]
    r = _Reader(config, source)
    hidden = r.int("hidden_size")
    heads = r.int("num_heads")
    kv_heads = r.int("num_kv_heads", heads)
    head_dim = r.int("head_dim", required=False)
    if head_dim is None:
        if hidden % heads:
            key, _ = r.find("num_heads")
            raise InputError(r.source, key, f"a divisor of the hidden size {hidden} (or a head_dim key)", heads)
        head_dim = hidden // heads
    if heads % kv_heads:
        raise InputError(r.source, "num_key_value_heads", f"a divisor of the head count {heads}", kv_heads)
    inter = r.int("intermediate_size", 4 * hidden if family == "gpt2" else None)

    act_key, act = r.find("activation")
    act = act if act is not None else d["activation"]
    if act not in ACTIVATIONS:
        raise InputError(r.source, act_key, f"one of {sorted(ACTIVATIONS)}", act)

    eps_key, eps = r.find("norm_eps")
    eps = d["norm_eps"] if eps is None else eps
    if not isinstance(eps, int | float) or isinstance(eps, bool) or eps <= 0:
        raise InputError(r.source, eps_key, "a positive number", eps)

    tie_key, tie = r.find("tie_word_embeddings")
    tie = d["tie_word_embeddings"] if tie is None else tie
    if not isinstance(tie, bool):
        raise InputError(r.source, tie_key, "true or false", tie)

    if family == "opt":
        bias = r.bool("enable_bias", True)
        attn_bias = mlp_bias = bias
        pre_norm = r.bool("do_layer_norm_before", True)
        final_norm = pre_norm and not r.bool("_remove_final_layer_norm", False)
        affine = r.bool("layer_norm_elementwise_affine", True)
    elif family == "gpt2":
        attn_bias = mlp_bias = True
        pre_norm, final_norm, affine = True, True, True
    else:
        attn_bias = r.bool("attention_bias", False)
        mlp_bias = r.bool("mlp_bias", False)
        pre_norm, final_norm, affine = True, True, True
    gated = r.bool("gated_mlp", d["gated_mlp"]) if family == "llama" else d["gated_mlp"]

    num_experts = r.int("num_experts", required=False) or 0
    top_k = r.int("experts_per_token", 2 if num_experts else None, required=False) or 0
    if num_experts and top_k > num_experts:
        raise InputError(r.source, "num_experts_per_tok", f"at most num_local_experts ({num_experts})", top_k)
    if num_experts and family != "llama":
        raise InputError(r.source, "num_local_experts", "no experts for a GPT-2/OPT config", num_experts)
    step = r.int("moe_layer_step", 1)
    if step > 1 and not num_experts:
        raise InputError(r.source, "decoder_sparse_step", "no value for a model without experts", step)

    dtype_key, torch_dtype = r.find("torch_dtype")
    if torch_dtype is not None:
        torch_dtype = resolve_dtype(torch_dtype, r.source, dtype_key)

    return LLMConfig(
        model_type=str(config.get("model_type", family)),
        family=family,
        hidden_size=hidden,
        num_layers=r.int("num_layers"),
        num_heads=heads,
        num_kv_heads=kv_heads,
        head_dim=head_dim,
        intermediate_size=inter,
        vocab_size=r.int("vocab_size"),
        max_positions=r.int("max_positions"),
        norm=d["norm"],
        norm_affine=affine,
        norm_eps=float(eps),
        activation=ACTIVATIONS[act],
        gated_mlp=gated,
        positions=d["positions"],
        position_offset=d["position_offset"],
        tie_word_embeddings=tie,
        attention_bias=attn_bias,
        mlp_bias=mlp_bias,
        word_embed_proj_dim=r.int("word_embed_proj_dim", hidden),
        pre_norm=pre_norm,
        final_norm=final_norm,
        num_experts=num_experts,
        experts_per_token=top_k,
        sliding_window=r.int("sliding_window", required=False),
        torch_dtype=torch_dtype,
        moe_layer_step=step,
    )
