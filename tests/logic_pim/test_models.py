"""The LLM configs Duplex evaluates (Table I), added to the zoo: dimensions against the published
ones, parameter counts against the published totals, and the builder features they need."""

import json

import pytest

from archsim.errors import InputError
from archsim.serving.model_dims import ModelDims, dims_from_graph_params
from archsim.workload import decoder_llm, load_workload
from archsim.workload.builders.llm_config import normalize_config
from archsim.workload.zoo import find_model

# Duplex Table I: layers, hidden, intermediate, heads, deg_grp (heads per KV head), experts, top-k
TABLE_I = {
    "mixtral-8x7b": (32, 4096, 14336, 32, 4, 8, 2),
    "glam": (32, 4096, 16384, 32, 1, 64, 2),
    "grok-1": (64, 6144, 32768, 48, 6, 8, 2),
    "opt-66b": (64, 9216, 36864, 72, 1, 0, 0),
    "llama-3-70b": (80, 8192, 28672, 64, 8, 0, 0),
}
#: published parameter counts (Table I; GLaM paper Table 4: 143B; Grok-1 README: 314B)
PUBLISHED_B = {"mixtral-8x7b": 47, "glam": 143, "grok-1": 314, "opt-66b": 66, "llama-3-70b": 70}


def config(name):
    path = find_model(name)
    return normalize_config(json.loads(path.read_text()), str(path))


@pytest.mark.parametrize("name", sorted(TABLE_I))
def test_table_i_dimensions(name):
    c = config(name)
    layers, hidden, inter, heads, grp, experts, k = TABLE_I[name]
    assert (c.num_layers, c.hidden_size, c.intermediate_size, c.num_heads) == (layers, hidden, inter, heads)
    assert c.num_heads // c.num_kv_heads == grp
    assert (c.num_experts, c.experts_per_token) == (experts, k)


@pytest.mark.parametrize("name", sorted(TABLE_I))
def test_parameter_counts_match_the_published_totals(name):
    d = ModelDims(name, config(name))
    assert d.total_params / 1e9 == pytest.approx(PUBLISHED_B[name], rel=0.02)


@pytest.mark.parametrize("name", ["mixtral-8x7b", "glam", "grok-1", "opt-66b", "llama-3-70b", "opt-350m", "gpt2"])
def test_model_dims_weights_equal_the_graphs(name):
    """The step model's weight count (ModelDims) against the graph builder's weight tensors (an
    independent construction): a prefill long enough to route tokens to every expert."""
    g = load_workload(name, phase="prefill", batch=1, seq_len=512 if name != "gpt2" else 64)
    seen = {t.name: t.size_bytes for op in g.ops for t in op.inputs if t.role == "weight"}
    assert dims_from_graph_params(g.params).weight_bytes == sum(seen.values())


def test_glam_alternates_dense_and_moe_layers_with_two_matrix_ffns():
    g = load_workload("glam", phase="decode", batch=64, seq_len=128)
    assert g.params["moe_layers"] == list(range(1, 32, 2))
    assert len(g.params["expert_tokens"]) == 16
    names = {op.name for op in g.ops}
    assert "layers.0.mlp.fc1" in names and "layers.1.moe.router" in names and "layers.0.moe.router" not in names
    assert any(n.startswith("layers.1.moe.expert") and n.endswith(".fc2") for n in names)


def test_mixtral_graph_unchanged_by_sparse_step():
    g = load_workload("mixtral-8x7b", phase="decode", batch=4, seq_len=64)
    assert g.params["moe_layers"] == list(range(32))


def test_sparse_step_needs_experts():
    cfg = json.loads(find_model("llama-3-8b").read_text())
    cfg["decoder_sparse_step"] = 2
    with pytest.raises(InputError, match="decoder_sparse_step"):
        decoder_llm(cfg, phase="decode")
