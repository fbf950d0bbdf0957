"""The replay hot path (archsim/hw/dram/_fastloop.py) equals the cycle-stepped reference command by
command, on traffic chosen to drive its fast paths: the single-channel loop, and its row-hit
streaming mode (every queued request a hit to an open row) with the ways out of it: a request that
is not a hit, a request of the other kind, a refresh falling due, the write drain, forwarded reads
and coalesced writes, the end of the trace, the read buffer running empty (the write mode turns
on in that same cycle on a dual command bus). Each streaming case also checks that the streaming
mode did issue most of the commands, so the comparison is not vacuous. Every case runs on each
build of the loop present: the module interpreted, and its Cython build (archsim/hw/dram/loop.py)."""

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from archsim.hw.dram import loop
from archsim.hw.dram.bursts import expand
from archsim.hw.dram.config import ControllerConfig
from archsim.hw.dram.controller import DramSystem, _system_for
from archsim.hw.dram.mapping import resolve_mapping
from archsim.hw.dram.reference import simulate_reference
from archsim.hw.dram.standard import list_standards, load_standard
from archsim.hw.dram.trace import Trace

from .helpers import assert_equal, small

STANDARDS = list_standards()


@pytest.fixture(scope="module", autouse=True, params=sorted(loop.BUILDS))
def loop_build(request):
    """Every test of this module runs once per build of the replay loop."""
    saved = loop.LOOP_BUILD
    loop.use(request.param)
    yield request.param
    loop.use(saved)


def both(s, tr, channels=1, mapping=None, **cfg):
    """(reference run, fast run, fast system) for trace ``tr``."""
    c = ControllerConfig(**cfg)
    m = resolve_mapping(mapping, s, channels, c.request_bytes)
    b = expand(tr, s, m, channels, c.request_bytes)
    ref = simulate_reference(s, b, channels, c)
    sysm = _system_for(s, b, channels, c, mapping=m, record=True)
    fast = sysm.run()
    return ref, fast, sysm


def streamed(fast, sysm, fraction):
    """The row-hit streaming mode issued at least ``fraction`` of the commands."""
    total = sum(fast.command_totals().values())
    assert sysm.hit_run_issues >= fraction * total, (sysm.hit_run_issues, total)


def seq(n, start=0, step=64):
    return start + np.arange(n, dtype=np.int64) * step


@pytest.mark.parametrize("name", STANDARDS)
def test_sequential_reads_with_refreshes(name):
    s = small(name, short_refresh=True)
    tr = Trace.from_arrays(seq(300), np.zeros(300, bool), np.zeros(300, np.int64))
    ref, fast, sysm = both(s, tr)
    assert_equal(ref, fast)
    assert fast.command_totals()["REFab"] > 3
    streamed(fast, sysm, 0.7)


@pytest.mark.parametrize("name", ["hbm2", "ddr4-2400", "ddr5-4800", "gddr6-14000"])
def test_sequential_writes_coalescing_and_drain_to_reads(name):
    # a write stream (write mode with an empty read buffer), every address written twice in a row
    # (the second coalesces), then reads of the same lines (forwarded while the writes are queued)
    s = small(name, short_refresh=True)
    w = np.repeat(seq(120), 2)
    addr = np.concatenate([w, seq(120)])
    wr = np.concatenate([np.ones(240, bool), np.zeros(120, bool)])
    tr = Trace.from_arrays(addr, wr, np.zeros(len(addr), np.int64))
    ref, fast, sysm = both(s, tr)
    assert_equal(ref, fast)
    assert fast.coalesced_writes > 0 and fast.forwarded_reads > 0
    streamed(fast, sysm, 0.2)


@pytest.mark.parametrize("name", ["hbm2", "ddr4-2400", "lpddr5-6400"])
def test_streams_with_write_bursts_and_row_switches(name):
    # reads streaming through rows, with a run of writes every 40 requests (the writes pile up
    # until the drain watermark, then drain) and jumps to far rows of the same banks (conflicts)
    s = small(name, short_refresh=True)
    rng = np.random.default_rng(3)
    addr = seq(400)
    wr = np.zeros(400, bool)
    for k in range(40, 400, 40):
        wr[k:k + 12] = True
        addr[k + 20:k + 24] += s.row_bytes * s.banks * int(rng.integers(1, 4))
    tr = Trace.from_arrays(addr, wr, np.zeros(400, np.int64))
    ref, fast, sysm = both(s, tr, read_buffer_size=8, write_buffer_size=8)
    assert_equal(ref, fast)
    streamed(fast, sysm, 0.03)


@pytest.mark.parametrize("name", ["hbm2", "ddr4-2400"])
def test_paced_stream_per_bank_refresh_and_slow_front_end(name):
    s = small(name, short_refresh=True)
    rng = np.random.default_rng(8)
    n = 250
    tr = Trace.from_arrays(seq(n), np.zeros(n, bool), np.cumsum(rng.integers(0, 7, n)))
    refresh = "per-bank" if s.t("tREFIpb") else "all-bank"
    ref, fast, sysm = both(s, tr, refresh=refresh, accepts_per_cycle=1, request_bytes=128)
    assert_equal(ref, fast)
    streamed(fast, sysm, 0.7)


def test_two_streams_in_one_bank_leave_streaming():
    # two interleaved streams to different rows of the same bank: an active request's bank queues
    # a request to another row, so the streaming mode must not take over (it did once, wrongly)
    s = small("hbm2", short_refresh=True)
    a = seq(100)
    b = seq(100, start=s.row_bytes * s.banks * 2)
    addr = np.stack([a, b], 1).reshape(-1)
    tr = Trace.from_arrays(addr, np.zeros(200, bool), np.zeros(200, np.int64))
    ref, fast, _ = both(s, tr)
    assert_equal(ref, fast)


def test_two_ranks_and_closed_pages():
    s = small("ddr4-2400", short_refresh=True, ranks=2)
    n = 300
    addr = np.concatenate([seq(n // 2), seq(n // 2, start=s.capacity_bytes // 2)])
    addr = np.stack([addr[: n // 2], addr[n // 2:]], 1).reshape(-1)
    tr = Trace.from_arrays(addr, np.zeros(n, bool), np.zeros(n, np.int64))
    for policy in ("open", "closed"):
        ref, fast, sysm = both(s, tr, row_policy=policy, mapping="Ro:Ba:Bg:Co:Ra:Ch")
        assert_equal(ref, fast)
        if policy == "closed":
            assert sysm.hit_run_issues == 0  # the closed-page policy never streams


def test_last_requests_forwarded_and_bulk_replay_equals_stepwise():
    # the run ends on forwarded reads; the one-channel loop equals the general event loop
    s = load_standard("hbm2")
    addr = np.concatenate([seq(64), seq(8)])
    wr = np.concatenate([np.ones(64, bool), np.zeros(8, bool)])
    tr = Trace.from_arrays(addr, wr, np.zeros(72, np.int64))
    ref, fast, _ = both(s, tr)
    assert_equal(ref, fast)
    m = resolve_mapping(None, s, 1)
    tr = Trace.from_arrays(seq(3000) * 3, np.arange(3000) % 7 == 0, np.arange(3000) // 2)
    runs = []
    for stepwise in (False, True):
        sysm = DramSystem(s, m, 1, record=True)
        sysm.add(tr.addr, tr.is_write, tr.arrival_cycle)
        if stepwise:  # the general loop (what DramPort drives), one decision at a time
            while not sysm.idle():
                sysm._step(sysm.next_event())
            end = sysm.end_cycle()
            sysm.advance(end)
            runs.append(sysm.result(end))
        else:
            runs.append(sysm.run())
    a, b = runs
    assert a.log == b.log and a.total_cycles == b.total_cycles
    assert (a.done_cycle == b.done_cycle).all() and (a.accept_cycle == b.accept_cycle).all()
    assert a.active_cycles == b.active_cycles and a.row_hits == b.row_hits


@pytest.mark.parametrize("name", ["ddr4-2400", "hbm2"])
def test_add_after_run(name, loop_build):
    # requests added after a run() and run again (the compiled loop must not leave the system's
    # per-burst arrays held, or add() cannot grow them): every request completes, and the builds
    # make the same decisions
    s = load_standard(name)
    m = resolve_mapping(None, s, 1)
    tr = Trace.from_arrays(seq(600) * 5, np.arange(600) % 5 == 0, np.arange(600) // 2)
    runs = []
    for build in sorted(loop.BUILDS):
        loop.use(build)
        sysm = DramSystem(s, m, 1, record=True)
        for lo, hi in ((0, 200), (200, 201), (201, 600)):
            sysm.add(tr.addr[lo:hi], tr.is_write[lo:hi], np.maximum(tr.arrival_cycle[lo:hi], sysm.now))
            r = sysm.run()
        runs.append(r)
    loop.use(loop_build)
    assert len(runs[0].done_cycle) == 600 and (runs[0].done_cycle >= 0).all()
    for r in runs[1:]:
        assert r.log == runs[0].log and (r.done_cycle == runs[0].done_cycle).all()


@st.composite
def stream_cases(draw):
    """Traces made of segments: sequential runs of reads, writes or a mix, in one or several
    rows, with gaps, rewrites of recent lines and jumps."""
    name = draw(st.sampled_from(STANDARDS))
    s = small(name, draw(st.booleans()), 2 if (name.startswith("ddr") and draw(st.booleans())) else None)
    refresh = draw(st.sampled_from(["all-bank", "none"] + (["per-bank"] if s.t("tREFIpb") else [])))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    addr, wr, gaps = [], [], []
    for _ in range(draw(st.integers(1, 5))):
        m = draw(st.integers(1, 60))
        start = int(rng.integers(0, 8)) * s.row_bytes * int(rng.integers(1, 5)) + int(rng.integers(0, 16)) * 64
        a = seq(m, start=start)
        kind = draw(st.sampled_from(["read", "write", "mix", "rewrite"]))
        if kind == "read":
            w = np.zeros(m, bool)
        elif kind == "write":
            w = np.ones(m, bool)
        elif kind == "mix":
            w = rng.random(m) < 0.3
        else:  # lines written, then read or written again soon after
            w = rng.random(m) < 0.6
            a = np.where(rng.random(m) < 0.5, np.roll(a, 2), a)
        addr.append(a)
        wr.append(w)
        gaps.append(rng.integers(0, draw(st.sampled_from([1, 1, 3, 12])), m))
    addr, wr = np.concatenate(addr), np.concatenate(wr)
    arrival = np.cumsum(np.concatenate(gaps))
    buf = draw(st.sampled_from([4, 8, 32]))
    cfg = dict(refresh=refresh, row_policy=draw(st.sampled_from(["open", "open", "closed"])),
               read_buffer_size=buf, write_buffer_size=draw(st.sampled_from([buf, 8])),
               request_bytes=draw(st.sampled_from([64, 64, 32, 128])),
               accepts_per_cycle=draw(st.sampled_from([4, 4, 1])))
    mapping = draw(st.sampled_from([None, None, "bg-interleave", "RoCoBaRaCh", "MOP4CLXOR"]))
    return s, Trace.from_arrays(addr, wr, arrival), mapping, cfg


@pytest.mark.parametrize("name", STANDARDS)
def test_read_buffer_emptied_while_streaming_turns_write_mode_on(name):
    # a read request fills the read buffer; the next one fits only once the streaming mode has
    # drained it, and arrives in the same cycle as a write request. On a dual command bus the row
    # slot of the cycle that issues the last queued RD finds the read buffer empty and turns the
    # write mode on before the front end of the next cycle queues the reads, so the writes go
    # first (the streaming mode once left the write mode off; hypothesis found it on hbm2)
    s = small(name)
    req = 4 * s.burst_bytes
    tr = Trace.from_arrays(np.array([0, 0, req]), np.array([False, False, True]), np.zeros(3, np.int64))
    ref, fast, sysm = both(s, tr, read_buffer_size=4, write_buffer_size=8, request_bytes=req)
    assert_equal(ref, fast)
    streamed(fast, sysm, 0.2)


@settings(max_examples=60, deadline=None)
@given(stream_cases())
@example(case=(small("hbm2"), Trace.from_arrays(np.array([6272, 6336, 6400]), np.array([False, False, True]),
                                                np.zeros(3, np.int64)),
               None, dict(refresh="all-bank", row_policy="open", read_buffer_size=4, write_buffer_size=8,
                          request_bytes=128, accepts_per_cycle=4)))
def test_fast_paths_equal_reference_on_random_streams(case):
    s, tr, mapping, cfg = case
    ref, fast, _ = both(s, tr, 1, mapping, **cfg)
    assert_equal(ref, fast)
