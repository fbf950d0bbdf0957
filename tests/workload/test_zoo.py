"""Model zoo lookup, model cards, HF configs, graph JSON round trip, and the committed model files."""

from __future__ import annotations

import json

import pytest

from archsim.errors import InputError
from archsim.workload import Graph, OpKind, decoder_llm, list_models, load_workload, resnet

from .helpers import MODELS, hf_config

EXPECTED_MODELS = [
    "gpt2", "gpt2-large", "gpt2-medium", "gpt2-xl", "llama-2-7b", "llama-3-8b", "mistral-7b", "mixtral-8x7b",
    "mobilenet_v1", "opt-1.3b", "opt-125m", "opt-13b", "opt-350m", "opt-6.7b", "resnet18", "resnet50",
]


def test_list_models():
    # the zoo grows as models are added; these are the ones every release ships, listed sorted
    names = list_models()
    assert set(EXPECTED_MODELS) <= set(names)
    assert names == sorted(names)


def test_load_card_by_name():
    g = load_workload("resnet50", batch=4)
    assert g.name == "resnet50" and g.source == str(MODELS / "resnet50.json")
    assert g.op("fc").attr("m") == 4
    assert g.total_macs == 4 * 4_089_184_256
    g = load_workload("mobilenet_v1", channels_per_group=4, dtype="fp16")
    assert g.op("conv2_dw").kind == OpKind.GROUPED_CONV2D
    assert g.graph_inputs[0].dtype == "fp16"


def test_load_hf_config_defaults_are_recorded():
    g = load_workload("llama-3-8b")
    assert g.name == "llama-3-8b"
    assert (g.params["phase"], g.params["seq_len"]) == ("decode", 128)
    assert g.params["defaults_applied"] == ["phase=decode", "seq_len=128"]
    g = load_workload("gpt2", phase="prefill", seq_len=16, batch=2, logits="all")
    assert g.params["defaults_applied"] == []
    assert g.op("lm_head").attr("m") == 32


def test_unknown_name_lists_available_models():
    with pytest.raises(InputError) as e:
        load_workload("resnet-9000")
    msg = str(e.value)
    assert "'resnet-9000'" in msg and "model" in msg
    for name in EXPECTED_MODELS:
        assert name in msg


def test_archsim_models_dir_comes_first(tmp_path, monkeypatch):
    (tmp_path / "tiny.json").write_text(json.dumps({"archsim_model": "resnet", "depth": 18, "input_hw": 64}))
    (tmp_path / "gpt2.json").write_text(json.dumps({"archsim_model": "mobilenet_v1", "_note": "shadows gpt2"}))
    monkeypatch.setenv("ARCHSIM_MODELS", str(tmp_path))
    assert "tiny" in list_models() and "resnet50" in list_models()
    assert load_workload("tiny").op("conv1").outputs[0].shape == (1, 64, 32, 32)
    assert load_workload("gpt2").op("conv2_dw").kind == OpKind.DEPTHWISE_CONV2D


def test_load_by_path_csv_and_graph_json(tmp_path):
    csv = tmp_path / "net.csv"
    csv.write_text("Layer, M, N, K,\nfc, 1, 10, 20,\n")
    assert load_workload(str(csv)).op("fc").macs == 200
    gj = tmp_path / "g.json"
    gj.write_text(json.dumps(resnet(18).to_dict()))
    g = load_workload(gj)
    assert g.total_macs == resnet(18).total_macs
    with pytest.raises(InputError, match="batch"):
        load_workload(gj, batch=2)


def test_card_errors_name_the_file_and_key(tmp_path):
    card = tmp_path / "bad.json"
    card.write_text(json.dumps({"archsim_model": "resnet", "depth": 50, "widht": 2}))
    with pytest.raises(InputError, match=r"bad.json: widht: expected an argument of resnet"):
        load_workload(card)
    card.write_text(json.dumps({"archsim_model": "resnet", "depth": 34}))
    with pytest.raises(InputError, match=r"bad.json: depth: expected one of \[18, 50\], got 34"):
        load_workload(card)
    card.write_text(json.dumps({"archsim_model": "vgg"}))
    with pytest.raises(InputError, match="bad.json: archsim_model"):
        load_workload(card)
    card.write_text("{not json")
    with pytest.raises(InputError, match=r"bad.json: line 1, column 2: expected valid JSON"):
        load_workload(card)
    with pytest.raises(InputError, match="seq_len"):
        load_workload("resnet18", seq_len=128)


def test_hf_config_errors_name_the_file_and_key(tmp_path):
    cfg = hf_config("opt-125m")
    del cfg["num_attention_heads"]
    path = tmp_path / "opt.json"
    path.write_text(json.dumps(cfg))
    with pytest.raises(InputError, match=r"opt.json: num_attention_heads: expected a positive integer"):
        load_workload(path)


# ---- graph JSON round trip ---------------------------------------------------------------------
@pytest.mark.parametrize(
    "graph",
    [resnet(18), decoder_llm(hf_config("gpt2"), phase="decode", seq_len=9),
     decoder_llm(hf_config("mixtral-8x7b"), phase="decode", batch=3, seq_len=9)],
    ids=["resnet18", "gpt2-decode", "mixtral-decode"],
)
def test_graph_json_round_trip(graph):
    data = json.loads(json.dumps(graph.to_dict()))
    back = Graph.from_dict(data)
    assert back.name == graph.name and back.params == data["params"]
    assert [op.name for op in back.ops] == [op.name for op in graph.ops]
    assert [op.signature() for op in back.ops] == [op.signature() for op in graph.ops]
    assert back.tensors == graph.tensors
    assert back.total_macs == graph.total_macs and back.weight_bytes == graph.weight_bytes
    assert sorted(back.nx.edges) == sorted(graph.nx.edges)
    assert json.dumps(back.to_dict()) == json.dumps(graph.to_dict())


# ---- committed model files ---------------------------------------------------------------------
#: the brief's figures for each HF config: (hidden, heads, layers, vocab, max positions, ffn/intermediate)
HF_FIGURES = {
    "gpt2": ("n_embd", 768, "n_head", 12, "n_layer", 12, 50257, ("n_positions", 1024)),
    "gpt2-medium": ("n_embd", 1024, "n_head", 16, "n_layer", 24, 50257, ("n_positions", 1024)),
    "gpt2-large": ("n_embd", 1280, "n_head", 20, "n_layer", 36, 50257, ("n_positions", 1024)),
    "gpt2-xl": ("n_embd", 1600, "n_head", 25, "n_layer", 48, 50257, ("n_positions", 1024)),
    "opt-125m": ("hidden_size", 768, "num_attention_heads", 12, "num_hidden_layers", 12, 50272, ("ffn_dim", 3072)),
    "opt-350m": ("hidden_size", 1024, "num_attention_heads", 16, "num_hidden_layers", 24, 50272, ("ffn_dim", 4096)),
    "opt-1.3b": ("hidden_size", 2048, "num_attention_heads", 32, "num_hidden_layers", 24, 50272, ("ffn_dim", 8192)),
    "opt-6.7b": ("hidden_size", 4096, "num_attention_heads", 32, "num_hidden_layers", 32, 50272,
                 ("ffn_dim", 16384)),
    "opt-13b": ("hidden_size", 5120, "num_attention_heads", 40, "num_hidden_layers", 40, 50272, ("ffn_dim", 20480)),
    "llama-2-7b": ("hidden_size", 4096, "num_attention_heads", 32, "num_hidden_layers", 32, 32000,
                   ("intermediate_size", 11008)),
    "llama-3-8b": ("hidden_size", 4096, "num_attention_heads", 32, "num_hidden_layers", 32, 128256,
                   ("intermediate_size", 14336)),
    "mistral-7b": ("hidden_size", 4096, "num_attention_heads", 32, "num_hidden_layers", 32, 32000,
                   ("intermediate_size", 14336)),
    "mixtral-8x7b": ("hidden_size", 4096, "num_attention_heads", 32, "num_hidden_layers", 32, 32000,
                     ("intermediate_size", 14336)),
}
KV_HEADS = {"llama-2-7b": 32, "llama-3-8b": 8, "mistral-7b": 8, "mixtral-8x7b": 8}


@pytest.mark.parametrize("name", sorted(HF_FIGURES))
def test_hf_config_files_have_the_published_dimensions(name):
    cfg = hf_config(name)
    hk, h, nk, n, lk, layers, vocab, (xk, x) = HF_FIGURES[name]
    assert (cfg[hk], cfg[nk], cfg[lk], cfg["vocab_size"], cfg[xk]) == (h, n, layers, vocab, x)
    assert cfg["_archsim_source"].startswith("https://huggingface.co/")
    if name.startswith("opt"):
        assert cfg["max_position_embeddings"] == 2048
        assert cfg["word_embed_proj_dim"] == (512 if name == "opt-350m" else h)
    if name in KV_HEADS:
        assert cfg["num_key_value_heads"] == KV_HEADS[name]
    if name == "mixtral-8x7b":
        assert (cfg["num_local_experts"], cfg["num_experts_per_tok"]) == (8, 2)


def test_models_readme_lists_every_file():
    readme = (MODELS / "README.md").read_text()
    for f in MODELS.iterdir():
        if f.suffix in (".json", ".csv", ".onnx"):
            assert f"`{f.name}`" in readme, f.name
