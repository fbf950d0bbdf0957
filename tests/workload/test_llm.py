"""Decoder-LLM builder: parameter counts, GQA, prefill/decode shapes, KV cache, MoE, memoization."""

from __future__ import annotations

from collections import defaultdict

import pytest

from archsim.errors import InputError
from archsim.workload import OpKind, decoder_llm

from .helpers import hf_config


def _params(g) -> int:
    return sum(t.numel for t in g.weights)


def _layer_ops(g) -> dict[int, list]:
    layers = defaultdict(list)
    for op in g.ops:
        if op.name.startswith("layers."):
            layers[int(op.name.split(".")[1])].append(op)
    return layers


# ---- parameter counts / weight bytes -----------------------------------------------------------
#: published parameter counts (HuggingFace ``model.num_parameters()``; model cards)
PUBLISHED_PARAMS = {
    "gpt2": 124_439_808,
    "gpt2-medium": 354_823_168,
    "gpt2-large": 774_030_080,
    "gpt2-xl": 1_557_611_200,
    "opt-125m": 125_239_296,
    "opt-350m": 331_196_416,
    "opt-1.3b": 1_315_758_080,
    "opt-6.7b": 6_658_473_984,
    "opt-13b": 12_853_473_280,
    "llama-2-7b": 6_738_415_616,
    "llama-3-8b": 8_030_261_248,
    "mistral-7b": 7_241_732_096,
    "mixtral-8x7b": 46_702_792_704,
}


@pytest.mark.parametrize("model", sorted(PUBLISHED_PARAMS))
def test_weights_equal_published_parameter_counts(model):
    # prefill of 8 tokens: every Mixtral expert receives tokens, so all weights are present
    g = decoder_llm(hf_config(model), phase="prefill", seq_len=8)
    assert _params(g) == PUBLISHED_PARAMS[model]


def test_gpt2_parameter_breakdown_by_hand():
    h, v, p, layers = 768, 50257, 1024, 12
    per_layer = 2 * (2 * h) + (h * 3 * h + 3 * h) + (h * h + h) + (h * 4 * h + 4 * h) + (4 * h * h + h)
    assert v * h + p * h + layers * per_layer + 2 * h == 124_439_808


def test_gpt2_weight_bytes_count_tied_embedding_once():
    n = PUBLISHED_PARAMS["gpt2"]
    g = decoder_llm(hf_config("gpt2"), phase="decode", seq_len=16)
    assert g.params["dtype"] == "fp16"  # gpt2 config has no torch_dtype
    assert g.weight_bytes == 2 * n
    assert decoder_llm(hf_config("gpt2"), phase="decode", seq_len=16, dtype="int8").weight_bytes == n
    lm_head, embed = g.op("lm_head"), g.op("embed_tokens")
    assert lm_head.inputs[1] is embed.inputs[1]
    assert lm_head.inputs[1].shape == (50257, 768)


def test_untied_lm_head_and_dtype_from_config():
    g = decoder_llm(hf_config("llama-3-8b"), phase="decode", seq_len=4)
    assert g.params["dtype"] == "bf16"
    assert g.op("lm_head").inputs[1].name == "lm_head.weight"
    assert g.weight_bytes == 2 * PUBLISHED_PARAMS["llama-3-8b"]
    assert decoder_llm(hf_config("opt-125m"), phase="decode", seq_len=4).params["dtype"] == "fp16"


# ---- GQA ---------------------------------------------------------------------------------------
def test_llama3_gqa_projection_sizes():
    g = decoder_llm(hf_config("llama-3-8b"), phase="prefill", batch=2, seq_len=16)
    tokens = 2 * 16
    q, k, v = (g.op(f"layers.5.attn.{n}_proj") for n in "qkv")
    assert (q.attr("m"), q.attr("n"), q.attr("k")) == (tokens, 32 * 128, 4096)
    assert (k.attr("m"), k.attr("n"), k.attr("k")) == (tokens, 8 * 128, 4096)
    assert (v.attr("m"), v.attr("n"), v.attr("k")) == (tokens, 8 * 128, 4096)
    assert k.inputs[1].shape == (1024, 4096) and v.inputs[1].shape == (1024, 4096)
    assert k.macs == tokens * 1024 * 4096
    assert g.op("layers.5.attn.score").attr("kv_heads") == 8


# ---- prefill vs decode -------------------------------------------------------------------------
def test_prefill_attention_shapes_and_kv_outputs():
    b, s = 2, 64
    g = decoder_llm(hf_config("llama-3-8b"), phase="prefill", batch=b, seq_len=s)
    score, sm, ctx = (g.op(f"layers.0.attn.{n}") for n in ("score", "softmax", "context"))
    assert (score.attr("batch"), score.attr("m"), score.attr("n"), score.attr("k")) == (b * 32, s, s, 128)
    assert (sm.attr("rows"), sm.attr("cols")) == (b * 32 * s, s)
    assert (ctx.attr("batch"), ctx.attr("m"), ctx.attr("n"), ctx.attr("k")) == (b * 32, s, 128, s)
    assert score.macs == b * 32 * s * s * 128
    assert not any(n.endswith("k_cache") for n in g.tensors)
    # the key as cached (after rotary) and the value projection are the KV-cache writes
    assert g.tensors["layers.0.attn.rope.k"].role == "kv_cache"
    assert g.tensors["layers.0.attn.v_proj.out"].role == "kv_cache"
    assert g.op("layers.0.attn.rope").kind == OpKind.ELEMENTWISE
    kv_written = sum(t.size_bytes for t in g.tensors.values() if t.role == "kv_cache")
    assert kv_written == 32 * 2 * b * s * 8 * 128 * 2  # layers * (k, v) * tokens * kv_heads * head_dim * bf16


def test_gpt2_prefill_kv_roles_without_rotary():
    g = decoder_llm(hf_config("gpt2"), phase="prefill", seq_len=8)
    assert g.tensors["layers.0.attn.k_proj.out"].role == "kv_cache"
    assert g.tensors["layers.0.attn.v_proj.out"].role == "kv_cache"
    assert g.tensors["layers.0.attn.q_proj.out"].role == "activation"
    assert [op.name for op in g.ops[:3]] == ["embed_tokens", "embed_positions", "embed_add"]


def test_decode_reads_past_kv_cache():
    b, s = 3, 1000
    g = decoder_llm(hf_config("llama-3-8b"), phase="decode", batch=b, seq_len=s)
    k_cache, v_cache = g.tensors["layers.7.k_cache"], g.tensors["layers.7.v_cache"]
    assert k_cache.shape == v_cache.shape == (b, 8, s - 1, 128)
    assert k_cache.role == "kv_cache" and k_cache.size_bytes == b * 8 * (s - 1) * 128 * 2
    score = g.op("layers.7.attn.score")
    assert (score.attr("batch"), score.attr("m"), score.attr("n"), score.attr("k")) == (b * 32, 1, s, 128)
    assert k_cache in score.inputs and v_cache in g.op("layers.7.attn.context").inputs
    assert g.op("layers.7.attn.q_proj").attr("m") == b
    past_bytes = sum(t.size_bytes for n, t in g.tensors.items() if n.endswith(("k_cache", "v_cache")))
    assert past_bytes == 32 * 2 * b * 8 * (s - 1) * 128 * 2
    assert g.params["q_len"] == 1 and g.params["kv_len"] == s


def test_decode_first_token_has_no_cache_and_sliding_window_limits_keys():
    g = decoder_llm(hf_config("gpt2"), phase="decode", seq_len=1)
    assert not any(t.endswith("_cache") for t in g.tensors)
    g = decoder_llm(hf_config("mistral-7b"), phase="decode", seq_len=10_000)
    assert g.op("layers.0.attn.score").attr("n") == 4096  # Mistral-7B sliding_window
    assert g.tensors["layers.0.k_cache"].shape == (1, 8, 4095, 128)


@pytest.mark.parametrize(("logits", "rows"), [("last", 2), ("all", 2 * 32)])
def test_logits_last_or_all(logits, rows):
    g = decoder_llm(hf_config("gpt2"), phase="prefill", batch=2, seq_len=32, logits=logits)
    head = g.op("lm_head")
    assert (head.attr("m"), head.attr("n"), head.attr("k")) == (rows, 50257, 768)
    assert g.op("final_norm").attr("rows") == rows
    assert head.outputs[0].role == "output"


def test_opt350m_projections_and_post_layernorm():
    g = decoder_llm(hf_config("opt-350m"), phase="prefill", seq_len=8)
    names = [op.name for op in g.ops]
    assert names[:4] == ["embed_tokens", "project_in", "embed_positions", "embed_add"]
    assert names[-2:] == ["project_out", "lm_head"] and "final_norm" not in names
    assert names.index("layers.0.attn_add") < names.index("layers.0.attn_norm")
    assert g.op("project_in").inputs[1].shape == (1024, 512)
    assert g.op("lm_head").attr("k") == 512
    assert g.tensors["embed_positions.weight"].shape == (2048 + 2, 1024)  # OPT position offset 2


def test_mlp_op_names_and_activation():
    g = decoder_llm(hf_config("opt-125m"), phase="decode", seq_len=4)
    assert g.op("layers.3.mlp.fc1").attr("activation") == "relu"
    assert g.op("layers.3.mlp.fc2").attr("n") == 768
    g = decoder_llm(hf_config("llama-2-7b"), phase="decode", seq_len=4)
    assert g.op("layers.3.mlp.gate").attr("activation") == "silu"
    assert g.op("layers.3.mlp.up").attr("n") == 11008 and g.op("layers.3.mlp.down").attr("k") == 11008
    assert g.op("layers.3.attn_norm").attr("rms") is True


# ---- memoization -------------------------------------------------------------------------------
@pytest.mark.parametrize(("model", "phase"), [("gpt2", "prefill"), ("gpt2", "decode"), ("opt-350m", "decode"),
                                              ("llama-3-8b", "decode"), ("mixtral-8x7b", "prefill")])
def test_identical_layers_have_equal_op_signatures(model, phase):
    g = decoder_llm(hf_config(model), phase=phase, seq_len=32)
    layers = _layer_ops(g)
    assert len(layers) == g.params["config"]["num_layers"]
    first = [op.signature() for op in layers[0]]
    for ops in layers.values():
        assert [op.signature() for op in ops] == first


# ---- MoE ---------------------------------------------------------------------------------------
def test_mixtral_balanced_routing_prefill():
    g = decoder_llm(hf_config("mixtral-8x7b"), phase="prefill", seq_len=5)
    # T*k = 5*2 = 10 assignments over 8 experts: 10 // 8 = 1 each, the first 10 % 8 = 2 get one more
    expected = [2, 2, 1, 1, 1, 1, 1, 1]
    assert g.params["expert_tokens"] == [expected] * 32
    router = g.op("layers.0.moe.router")
    assert router.kind == OpKind.TOPK_ROUTER
    assert (router.attr("tokens"), router.attr("experts"), router.attr("top_k")) == (5, 8, 2)
    for e, n in enumerate(expected):
        for part in ("gate", "up", "down"):
            assert g.op(f"layers.0.moe.expert{e}.{part}").attr("m") == n
    assert g.op("layers.0.moe.expert0.down").attr("n") == 4096


def test_mixtral_decode_omits_experts_without_tokens():
    g = decoder_llm(hf_config("mixtral-8x7b"), phase="decode", batch=3, seq_len=64)
    # T*k = 3*2 = 6 < 8 experts: experts 0..5 get one token each, experts 6 and 7 none
    assert g.params["expert_tokens"][0] == [1, 1, 1, 1, 1, 1, 0, 0]
    names = {op.name for op in g.ops}
    assert "layers.0.moe.expert5.up" in names
    assert not any(n.startswith(("layers.0.moe.expert6.", "layers.0.moe.expert7.")) for n in names)
    expert_params = 3 * 4096 * 14336
    assert _params(g) == PUBLISHED_PARAMS["mixtral-8x7b"] - 32 * 2 * expert_params


def test_mixtral_random_routing_is_seeded_and_consistent():
    cfg = hf_config("mixtral-8x7b")
    a = decoder_llm(cfg, phase="prefill", seq_len=16, routing="random", seed=1).params["expert_tokens"]
    b = decoder_llm(cfg, phase="prefill", seq_len=16, routing="random", seed=1).params["expert_tokens"]
    c = decoder_llm(cfg, phase="prefill", seq_len=16, routing="random", seed=2).params["expert_tokens"]
    assert a == b and a != c
    for counts in a:
        assert sum(counts) == 16 * 2 and max(counts) <= 16  # k distinct experts per token


# ---- config normalisation and errors -----------------------------------------------------------
def test_gpt2_style_keys_without_model_type():
    cfg = {"n_embd": 64, "n_head": 4, "n_layer": 2, "n_positions": 32, "vocab_size": 100}
    g = decoder_llm(cfg, phase="prefill", seq_len=8, name="tiny")
    assert g.params["config"]["intermediate_size"] == 256  # n_inner defaults to 4 * n_embd
    assert g.params["model"] == "tiny" and g.params["phase"] == "prefill" and g.params["seq_len"] == 8


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"num_key_value_heads": 5}, "num_key_value_heads"),
        ({"hidden_size": -1}, "hidden_size"),
        ({"hidden_act": "tanhshrink"}, "hidden_act"),
        ({"model_type": "bert"}, "model_type"),
    ],
)
def test_bad_config_values_name_the_key(change, field):
    cfg = {**hf_config("llama-2-7b"), **change}
    with pytest.raises(InputError) as e:
        decoder_llm(cfg, phase="decode", source="cfg.json")
    assert str(e.value).startswith(f"cfg.json: {field}:")


def test_bad_arguments():
    cfg = hf_config("gpt2")
    with pytest.raises(InputError, match="phase"):
        decoder_llm(cfg, phase="train")
    with pytest.raises(InputError, match="seq_len"):
        decoder_llm(cfg, phase="prefill", seq_len=1025)  # beyond GPT-2's 1024 learned positions
    with pytest.raises(InputError, match="routing"):
        decoder_llm(cfg, phase="decode", routing="greedy")
    with pytest.raises(InputError, match="dtype"):
        decoder_llm(cfg, phase="decode", dtype="float64")
