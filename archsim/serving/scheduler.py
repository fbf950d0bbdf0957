"""Iteration-level continuous batching (Orca, OSDI'22; vLLM), stage by stage.

At the start of each stage (iteration) the scheduler takes every request that has arrived, in
arrival order, while fewer than ``max_batch`` requests are running and the KV cache has room for
the request's whole context (``input_len + output_len`` tokens, reserved at admission, so no
request is ever preempted). The stage then runs the new requests' prefills and one decode step of
every running request together (a *mixed* stage; without new requests a *decode-only* stage),
and its time comes from the step model. A prefill produces a request's first token at the end of
its stage (TTFT = that time minus the arrival); every later stage that decodes it produces one
more token (TBT = the gap between two of its tokens); the request leaves after ``output_len``
tokens (E2E = that time minus the arrival) and frees its KV cache. When nothing runs and nothing
waits, time jumps to the next arrival.

With several nodes (data parallelism), a new request goes to the node with the most free KV
cache (ties: the lowest node); its decodes stay there.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np

from archsim.errors import InputError
from archsim.serving.requests import RequestStream
from archsim.serving.step import NodeBatch, StepModel


@dataclass
class ScheduleTrace:
    """What happened: per request (arrays in stream order) and per stage (arrays in time order)."""

    first_token_ns: np.ndarray
    done_ns: np.ndarray
    node: np.ndarray
    tbt_ns: np.ndarray            # every token-to-token gap of every request
    stage_start_ns: np.ndarray
    stage_ns: np.ndarray
    stage_decode: np.ndarray      # decoding requests per stage
    stage_prefill: np.ndarray     # prefilling requests per stage
    stage_prefill_tokens: np.ndarray
    stage_energy_pj: np.ndarray
    stage_moe_on_pim: np.ndarray
    stage_parts_ns: dict[str, np.ndarray]
    counts: np.ndarray            # action counts over the run
    busy_ns: dict[str, float]


def run_schedule(sm: StepModel, stream: RequestStream, max_batch: int, *, seed: int = 0) -> ScheduleTrace:
    """Serve ``stream`` on ``sm`` with at most ``max_batch`` running requests (see the module
    docstring); expert routing draws from ``numpy.random.default_rng(seed)``."""
    if not isinstance(max_batch, int) or max_batch < 1:
        raise InputError(None, "max_batch", "a positive integer", max_batch)
    n = len(stream)
    inp, out, arr = stream.input_len, stream.output_len, stream.arrival_ns
    need = inp + out
    cap = sm.kv_tokens_per_node
    if cap < 1:
        raise InputError(None, "devices", "devices with memory left for a KV cache after the weights", sm.plan.devices)
    worst = int(need.max())
    if worst > cap:
        raise InputError(None, "input_len + output_len", f"at most the {cap:,} tokens of KV cache a node holds "
                         f"({sm.plan.devices} devices)", worst)
    rng = np.random.default_rng(seed)
    nodes = sm.plan.nodes
    first = np.full(n, np.nan)
    done = np.full(n, np.nan)
    node = np.full(n, -1, dtype=np.int64)
    gen = np.zeros(n, dtype=np.int64)
    last = np.zeros(n)
    kv_used = np.zeros(nodes, dtype=np.int64)
    waiting: deque[int] = deque()
    running = np.zeros(0, dtype=np.int64)
    nxt, finished, t = 0, 0, 0.0
    tbt: list[np.ndarray] = []
    st_start, st_ns, st_dec, st_pre, st_pre_tok, st_e, st_pim = [], [], [], [], [], [], []
    parts: dict[str, list[float]] = {}
    counts = None
    busy: dict[str, float] = {}
    while finished < n:
        while nxt < n and arr[nxt] <= t:
            waiting.append(nxt)
            nxt += 1
        if not running.size and not waiting:
            t = float(arr[nxt])
            continue
        new: list[int] = []
        while waiting and running.size + len(new) < max_batch:
            r = waiting[0]
            free = cap - kv_used
            j = int(np.argmax(free))
            if free[j] < need[r]:
                break
            kv_used[j] += need[r]
            node[r] = j
            new.append(waiting.popleft())
        new_a = np.asarray(new, dtype=np.int64)
        batches = []
        for j in range(nodes):
            dec = running[node[running] == j] if nodes > 1 else running
            pre = new_a[node[new_a] == j] if nodes > 1 else new_a
            batches.append(NodeBatch(inp[dec] + gen[dec], inp[pre]))
        cost = sm.step(batches, rng)
        end = t + cost.time_ns
        if running.size:
            tbt.append(end - last[running])
            gen[running] += 1
            last[running] = end
        if new_a.size:
            first[new_a] = end
            gen[new_a] = 1
            last[new_a] = end
        active = np.concatenate([running, new_a])
        fin = active[gen[active] >= out[active]]
        if fin.size:
            done[fin] = end
            np.subtract.at(kv_used, node[fin], need[fin])
            finished += fin.size
        running = active[gen[active] < out[active]]
        st_start.append(t)
        st_ns.append(cost.time_ns)
        st_dec.append(len(active) - len(new_a))
        st_pre.append(len(new_a))
        st_pre_tok.append(int(inp[new_a].sum()))
        st_e.append(cost.energy_pj)
        st_pim.append(cost.moe_on_pim)
        for k, v in cost.parts_ns.items():
            parts.setdefault(k, []).append(v)
        for k, v in cost.busy_ns.items():
            busy[k] = busy.get(k, 0.0) + v
        counts = cost.counts.copy() if counts is None else counts + cost.counts
        t = end
    return ScheduleTrace(first, done, node, np.concatenate(tbt) if tbt else np.zeros(0), np.asarray(st_start),
                         np.asarray(st_ns), np.asarray(st_dec), np.asarray(st_pre), np.asarray(st_pre_tok),
                         np.asarray(st_e), np.asarray(st_pim), {k: np.asarray(v) for k, v in parts.items()},
                         counts if counts is not None else np.zeros(11), busy)
