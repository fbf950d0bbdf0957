"""Continuous batching: request streams and the iteration-level scheduler, checked against
timelines worked out by hand with a step model of fixed stage times; then the real system."""

import json
import math
from types import SimpleNamespace

import numpy as np
import pytest

from archsim.errors import InputError
from archsim.serving import serve
from archsim.serving.requests import RequestStream, poisson_stream, read_trace
from archsim.serving.scheduler import run_schedule
from archsim.serving.step import StepCost


class FixedStages:
    """A step model whose stages take ``decode_ns`` (decode-only) or ``mixed_ns`` (with a prefill)."""

    def __init__(self, decode_ns=1e6, mixed_ns=3e6, kv_tokens=10**9, nodes=1):
        self.decode_ns, self.mixed_ns = decode_ns, mixed_ns
        self.kv_tokens_per_node = kv_tokens
        self.plan = SimpleNamespace(nodes=nodes, devices=nodes)
        self.stages = []

    def step(self, nodes, rng=None):
        self.stages.append([(list(nb.decode_ctx), list(nb.prefill_len)) for nb in nodes])
        mixed = any(len(nb.prefill_len) for nb in nodes)
        t = self.mixed_ns if mixed else self.decode_ns
        return StepCost(t, np.zeros(11), 1.0, {"other": t}, {"xpu": t}, 0, 0)


def stream(arrivals_ms, inp, out):
    n = len(arrivals_ms)
    return RequestStream(np.asarray(arrivals_ms, float) * 1e6, np.full(n, inp), np.full(n, out), {})


def test_one_request_timeline():
    """Prefill stage 3 ms (first token), then 4 decode stages of 1 ms: TTFT 3, TBT 1, E2E 7."""
    sm = FixedStages()
    tr = run_schedule(sm, stream([0], 10, 5), max_batch=4)
    assert tr.first_token_ns[0] == 3e6 and tr.done_ns[0] == 7e6
    assert list(tr.tbt_ns) == [1e6] * 4
    assert sm.stages[0] == [([], [10])] and sm.stages[1] == [([11], [])] and sm.stages[-1] == [([14], [])]


def test_max_batch_queues_requests():
    """Three requests at 0, max batch 2, 2 tokens each: r0, r1 prefill (0-3 ms), decode (3-4 ms,
    done); r2 starts at 4: prefill 4-7, decode 7-8."""
    tr = run_schedule(FixedStages(), stream([0, 0, 0], 8, 2), max_batch=2)
    assert list(tr.first_token_ns / 1e6) == [3, 3, 7]
    assert list(tr.done_ns / 1e6) == [4, 4, 8]


def test_mixed_stage_stretches_running_requests():
    """r0 arrives at 0, r1 at 3.5 ms: r1 joins at the stage starting at 4 ms (a mixed stage of
    3 ms), so r0's TBT there is 3 ms."""
    tr = run_schedule(FixedStages(), stream([0, 3.5], 8, 4), max_batch=4)
    assert list(tr.tbt_ns[:2] / 1e6) == [1, 3]
    assert tr.first_token_ns[1] / 1e6 == 7
    assert (tr.first_token_ns[1] - 3.5e6) / 1e6 == 3.5


def test_kv_capacity_limits_admission():
    """KV cache for 20 tokens and requests of 8 + 4: one at a time."""
    tr = run_schedule(FixedStages(kv_tokens=20), stream([0, 0], 8, 4), max_batch=8)
    assert list(tr.first_token_ns / 1e6) == [3, 9]
    with pytest.raises(InputError, match="KV cache"):
        run_schedule(FixedStages(kv_tokens=10), stream([0], 8, 4), max_batch=8)


def test_idle_time_jumps_to_the_next_arrival():
    tr = run_schedule(FixedStages(), stream([0, 100], 8, 1), max_batch=8)
    assert list(tr.first_token_ns / 1e6) == [3, 103]


def test_nodes_get_requests_by_free_kv_cache():
    sm = FixedStages(nodes=2)
    tr = run_schedule(sm, stream([0, 0, 0], 8, 2), max_batch=8)
    assert list(tr.node) == [0, 1, 0]
    assert sm.stages[0] == [([], [8, 8]), ([], [8])]


def test_poisson_arrivals_are_seeded_exponential_gaps():
    s = poisson_stream(50, 4.0, 128, 64, seed=7)
    gaps = np.random.default_rng(7).exponential(1e9 / 4.0, 50)
    assert s.arrival_ns[0] == 0 and np.allclose(np.diff(s.arrival_ns), gaps[:-1])
    assert (s.input_len == 128).all() and (s.output_len == 64).all()
    closed = poisson_stream(5, math.inf, 16, 16)
    assert (closed.arrival_ns == 0).all()


def test_trace_file(tmp_path):
    p = tmp_path / "t.csv"
    p.write_text("# a trace\narrival_s,input_len,output_len,user\n0.5,100,10,a\n0.0,50,5,b\n")
    s = read_trace(p)
    assert list(s.arrival_ns) == [0.0, 0.5e9] and list(s.input_len) == [50, 100]
    p.write_text("arrival_s,input_len,output_len\n0.5,100,x\n")
    with pytest.raises(InputError, match=r"t.csv:2"):
        read_trace(p)


def test_serve_mixtral_on_duplex_and_the_gpu():
    """A small closed-loop run: Duplex ahead of the H100 system (Duplex Fig. 11 direction) with
    less energy per token (Sec. VII-D), every request served, latencies ordered."""
    kw = dict(rate=math.inf, input_len=256, output_len=64, max_batch=32, requests=64, seed=1)
    d = serve("duplex", "mixtral-8x7b", **kw).results
    g = serve("h100", "mixtral-8x7b", **kw).results
    assert d["requests"] == g["requests"] == 64
    assert d["throughput_tokens_per_s"] > 1.5 * g["throughput_tokens_per_s"]
    assert d["energy_per_token_j"] < g["energy_per_token_j"]
    for r in (d, g):
        assert r["tbt_ms"]["p50"] <= r["tbt_ms"]["p99"] and r["ttft_ms"]["p50"] > 0
        assert r["e2e_ms"]["mean"] > r["ttft_ms"]["mean"]


def test_bank_pim_beats_duplex_on_multi_head_attention():
    """OPT-66B (MHA, decode attention at 1 FLOP/B): Bank-PIM's 16x bandwidth beats Logic-PIM's 4x
    (Duplex Sec. VII-C); Llama-3-70B (GQA 8): the other way round."""
    kw = dict(rate=math.inf, input_len=1024, output_len=128, max_batch=32, requests=32, seed=1)
    opt = {a: serve(a, "opt-66b", **kw).results["throughput_tokens_per_s"] for a in ("duplex", "bank-pim")}
    assert opt["bank-pim"] > opt["duplex"]
    kw.update(input_len=3072)
    llama = {a: serve(a, "llama-3-70b", **kw).results["throughput_tokens_per_s"] for a in ("duplex", "bank-pim")}
    assert llama["duplex"] > llama["bank-pim"]


def test_serve_report_is_deterministic_and_complete():
    from archsim.serving.report import render_report_json

    kw = dict(rate=20.0, input_len=128, output_len=16, max_batch=8, requests=20, seed=3)
    a = render_report_json(serve("duplex", "mixtral-8x7b", **kw))
    b = render_report_json(serve("duplex", "mixtral-8x7b", **kw))
    assert a == b
    doc = json.loads(a)
    assert doc["schema_version"] == 1 and doc["archsim_version"]
    r = doc["results"]
    for key in ("throughput_tokens_per_s", "energy_per_token_j"):
        assert r[key] > 0
    for key in ("ttft_ms", "tbt_ms", "e2e_ms"):
        assert set(r[key]) == {"mean", "p50", "p90", "p99"}
    assert doc["inputs"]["requests"]["seed"] == 3 and doc["inputs"]["system"]["devices"] == 4


def test_learned_positions_cap_the_output():
    r = serve("h100", "opt-125m", rate=math.inf, input_len=2000, output_len=100, max_batch=4, requests=4)
    # opt-125m has 2048 learned positions: 2048 - 2000 input tokens = 48 outputs per request
    assert r.results["output_tokens"] == 4 * (2048 - 2000)
    assert any("positions" in n for n in r.notes)
