"""The multi-device step model: rooflines, expert placement, Op/B dispatch, co-processing,
communication and KV capacity, each expected value derived by hand from the spec numbers
(H100: 989.4 TFLOPS, 3.352 TB/s; Logic-PIM 5 x 21.2992 TFLOPS; HBM3 5.2 Gb/s bundle streams)."""

import numpy as np
import pytest

from archsim.api import resolve_arch
from archsim.serving.api import model_dims, step_model_for
from archsim.serving.plan import Links, default_devices
from archsim.serving.step import NodeBatch, balanced_counts, uniform_counts

P_X, B_X = 989.4e12, 3.352e12          # H100 roofline
P_P = 5 * 32 * 512 * 2 * 650e6         # Logic-PIM per device (5 stacks)
MIX = model_dims("mixtral-8x7b")


def roof(flops, nbytes):
    return max(flops / P_X, nbytes / B_X) * 1e9


def gemm(m, k, n):
    return roof(2 * m * k * n, 2 * (m * k + k * n + m * n))


def expert_x(c, inter, h=4096):
    """A gated expert slice on the xPU: gate and up (m=c, k=h, n=inter), down (k=inter, n=h), the
    gating multiply (c*inter elements: two reads, one write)."""
    return 2 * gemm(c, h, inter) + gemm(c, inter, h) + roof(c * inter, 3 * c * inter * 2)


def duplex(**kw):
    return resolve_arch("duplex").replace(refresh="none", **kw)


def test_default_system_sizes_are_duplex_section_vi():
    cap = 80 * 2**30
    sizes = {n: default_devices(model_dims(n).weight_bytes, cap) for n in
             ("mixtral-8x7b", "glam", "grok-1", "opt-66b", "llama-3-70b")}
    assert sizes == {"mixtral-8x7b": 4, "glam": 8, "grok-1": 16, "opt-66b": 4, "llama-3-70b": 4}


def test_gpu_experts_expert_parallel():
    """4 H100s, experts expert-parallel (device d holds experts d and d + 4); batch 64 decode,
    balanced: 16 tokens per expert; a layer takes two full experts' time."""
    sm = step_model_for(resolve_arch("h100"), MIX, routing="balanced")
    assert sm.plan.expert_split == "ep" and sm.plan.devices == 4
    counts = balanced_counts(64, 8, 2, 32)
    m = sm.moe_experts(counts)
    assert m["layer_ns"] == pytest.approx([2 * expert_x(16, 14336)] * 32)
    assert not m["on_pim"].any()


def stream_ns(nbytes, ways):
    """A bundle stream without refresh: per pseudo-channel ceil(n / 160) bytes in 256 B steps,
    first read 20 cycles in, reads every 4 (two bundles) or 170 per row-set (one), + CL + tBURST."""
    per = -(-nbytes // 160)
    steps = -(-per // 256)
    if ways == 2:
        cycles = 20 + (steps - 1) * 4 + 21
    else:
        rows = -(-steps // 32)
        cycles = (rows - 1) * 170 + 20 + (steps - (rows - 1) * 32 - 1) * 4 + 21
    return cycles / 1.3


def test_decode_experts_co_processed():
    """Duplex+PE+ET, batch 8 decode: every device holds a quarter of each expert (inter 3584), 2
    tokens each, 2 experts per memory space. Putting the k spaces with fewest tokens on the PIM
    (two bundles when k >= 2) and the rest on the xPU: the best k, then the xPU reduces the
    PIM's 5 stacks of partial sums."""
    sm = step_model_for(duplex(), MIX, routing="balanced")
    assert sm.plan.expert_split == "tp"
    slice_bytes = 3 * 4096 * 3584 * 2
    flops = 2 * 3 * 2 * 4096 * 3584
    tp = {w: max(flops / P_P * 1e9, stream_ns(slice_bytes, w)) for w in (1, 2)}
    tx = expert_x(2, 3584)
    options = []
    for k in range(5):
        pim = 0 if k == 0 else (2 * tp[1] if k == 1 else 2 * k * tp[2])
        options.append(max(pim, 2 * (4 - k) * tx))
    k = int(np.argmin(options))
    red = min(2 * k * 2, 8)
    reduce_ns = roof(5 * red * 4096, 6 * red * 4096 * 2) if k else 0.0
    m = sm.moe_experts(balanced_counts(8, 8, 2, 32))
    assert m["layer_ns"][0] == pytest.approx(options[k] + reduce_ns)
    assert int(m["on_pim"][0, 0].sum()) == 2 * k


def test_op_per_byte_dispatch_without_co_processing():
    """Each layer's experts go whole to the faster unit: the PIM below its balance point
    (P_pim / B_xpu = 106.5 / 3.352 = 32 FLOP per weight byte, about 32 tokens per expert), the xPU
    above."""
    sm = step_model_for(duplex(co_processing=False), MIX, routing="balanced")
    low = sm.moe_experts(balanced_counts(64, 8, 2, 1))       # 16 tokens per expert
    high = sm.moe_experts(balanced_counts(2048, 8, 2, 1))    # 512 tokens per expert
    assert low["on_pim"].all() and not high["on_pim"].any()


def attention_ns(sm, nb):
    return sm.step([nb]).parts_ns["attention"] / sm.dims.layers


def test_attention_co_processing_overlaps_prefill_and_decode():
    dec, pre = [1024] * 16, [512, 256]
    co = step_model_for(duplex(), MIX, routing="balanced")
    solo = step_model_for(duplex(co_processing=False), MIX, routing="balanced")
    d_only, p_only = attention_ns(solo, NodeBatch.of(dec)), attention_ns(solo, NodeBatch.of((), pre))
    assert attention_ns(solo, NodeBatch.of(dec, pre)) == pytest.approx(d_only + p_only)
    assert attention_ns(co, NodeBatch.of(dec, pre)) == pytest.approx(max(d_only, p_only))


def test_decode_attention_goes_to_the_pim_by_op_per_byte():
    """GQA decode attention (Mixtral: 4 query heads per KV head, 4 FLOP/B) streams its KV cache
    through the bundles at 4x the xPU's bandwidth: K and V of 2 heads x 128 x 1024 tokens x 16
    requests per device."""
    sm = step_model_for(duplex(), MIX, routing="balanced")
    kv = 2 * 2 * 128 * 1024 * 16 * 2
    flops = 4 * 8 * 128 * 1024 * 16 + 5 * 8 * 1024 * 16
    expect = max(flops / P_P * 1e9, stream_ns(kv, 2))
    assert attention_ns(sm, NodeBatch.of([1024] * 16)) == pytest.approx(expect)


def test_ring_allreduce():
    lk = Links()
    ns, sent = lk.allreduce_ns(8e6, 4)
    assert ns == pytest.approx(6 * (800 + 2e6 / 450e9 * 1e9))
    assert sent == pytest.approx(6 * 2e6)
    assert lk.allreduce_ns(8e6, 1) == (0.0, 0.0)


def test_kv_capacity_per_node():
    """Mixtral on 4 devices, everything but the norms split 4 ways (experts too, ET): per device
    the weights below; the rest of 80 GiB holds 32 layers x K,V x 2 heads x 128 x 2 B per token."""
    sm = step_model_for(duplex(), MIX)
    h, inter, V = 4096, 14336, 32000
    per_layer = (h * (4096 + 2 * 1024) + 4096 * h) / 4 + 2 * h + 8 * 3 * h * inter / 4 + 8 * h
    weights = 2 * (32 * per_layer + (V * h + h + V * h) / 4)
    assert sm.weights_per_device == pytest.approx(weights)
    assert sm.kv_tokens_per_node == int((80 * 2**30 - weights) // (32 * 2 * 2 * 128 * 2))


def test_uniform_routing_is_top_k_without_replacement():
    """Each token picks two distinct experts uniformly: with one token per layer and 4 experts each
    of the 6 pairs comes up a sixth of the time (token-by-token draws); with many tokens (the
    two-stage multinomial) every layer routes 2 T picks, none twice to an expert per token."""
    c = uniform_counts(np.random.default_rng(1), 1, 4, 2, 30000)
    assert (c.sum(axis=1) == 2).all() and c.max() == 1
    pairs = np.unique(c, axis=0, return_counts=True)[1]
    assert len(pairs) == 6 and np.allclose(pairs / 30000, 1 / 6, atol=0.01)
    big = uniform_counts(np.random.default_rng(3), 5000, 8, 2, 40)
    assert (big.sum(axis=1) == 10000).all() and (big <= 5000).all()
    assert abs(big.mean() - 1250) < 10
    assert (uniform_counts(np.random.default_rng(3), 5000, 8, 2, 40) == big).all()
    three = uniform_counts(np.random.default_rng(2), 1, 5, 3, 20000)
    assert (three.sum(axis=1) == 3).all() and three.max() == 1 and np.allclose(three.mean(axis=0), 0.6, atol=0.02)


def test_data_parallel_nodes_wait_for_the_slowest():
    """Grok-1 on 2 nodes: a stage costs what its busier node costs (plus the shared experts)."""
    grok = model_dims("grok-1")
    sm = step_model_for(resolve_arch("h100"), grok, routing="balanced")
    assert (sm.plan.nodes, sm.plan.tp) == (2, 8)
    busy = sm.step([NodeBatch.of([2048] * 8), NodeBatch.of([128] * 8)])
    same = sm.step([NodeBatch.of([2048] * 8), NodeBatch.of([2048] * 8)])
    assert busy.parts_ns["attention"] == pytest.approx(same.parts_ns["attention"])
    assert busy.energy_pj < same.energy_pj


def test_input_buffer_limits_tokens_per_weight_pass():
    """One 1 MB buffer per stack holds the inputs: 2**20 / (4096 x 2 B) = 128 tokens per pass over a
    Mixtral expert; 300 tokens take 3 passes (each re-reads the weights)."""
    sm = step_model_for(duplex(), MIX, routing="balanced")
    assert sm.pim.tokens_per_pass(4096) == 128
    tab = sm._expert_tables(300)
    assert tab["passes"][300] == 3 and tab["passes"][128] == 1
    slice_bytes = 3 * 4096 * 3584 * 2
    flops = 2 * 3 * 300 * 4096 * 3584
    assert tab["tp2"][300] == pytest.approx(max(flops / P_P * 1e9, 3 * stream_ns(slice_bytes, 2)))
