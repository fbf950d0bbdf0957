"""The fast controller equals the cycle-stepped reference command by command (same commands, same
cycles, same addresses), on random small traces over every standard and controller option."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from archsim.hw.dram.bursts import expand
from archsim.hw.dram.config import ControllerConfig
from archsim.hw.dram.controller import simulate_fast
from archsim.hw.dram.mapping import resolve_mapping
from archsim.hw.dram.reference import simulate_reference
from archsim.hw.dram.standard import list_standards
from archsim.hw.dram.trace import Trace

from .helpers import assert_equal, small

STANDARDS = list_standards()


def both(s, tr, channels=1, mapping=None, **cfg):
    c = ControllerConfig(**cfg)
    m = resolve_mapping(mapping, s, channels, c.request_bytes)
    b = expand(tr, s, m, channels, c.request_bytes)
    ref = simulate_reference(s, b, channels, c)
    fast = simulate_fast(s, b, channels, c, mapping=m, record=True)
    return ref, fast


@st.composite
def cases(draw):
    name = draw(st.sampled_from(STANDARDS))
    short = draw(st.booleans())
    ranks = 2 if (name.startswith("ddr") and draw(st.booleans())) else None
    s = small(name, short, ranks)
    refresh = draw(st.sampled_from(["all-bank", "none"] + (["per-bank"] if s.t("tREFIpb") else [])))
    policy = draw(st.sampled_from(["open", "closed"]))
    cap = draw(st.integers(1, 3))
    channels = draw(st.sampled_from([1, 1, 2]))
    mapping = draw(st.sampled_from([None, "bg-interleave", "RoCoBaRaCh+xor", "MOP4CLXOR", "rochrababgco"]))
    n = draw(st.integers(5, 45))
    rows = draw(st.integers(1, 6))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    span = s.row_bytes * s.banks * rows * channels
    addr = rng.integers(0, span // 64, n) * 64
    wr = rng.random(n) < draw(st.sampled_from([0.0, 0.3, 0.7, 1.0]))
    arrivals = np.cumsum(rng.integers(0, draw(st.integers(0, 8)) + 1, n))
    buf = draw(st.sampled_from([4, 8, 32]))
    return (s, Trace.from_arrays(addr, wr, arrivals), channels, mapping,
            dict(refresh=refresh, row_policy=policy, closed_cap=cap, read_buffer_size=buf, write_buffer_size=buf,
                 request_bytes=draw(st.sampled_from([64, 64, 32, 128])),
                 accepts_per_cycle=draw(st.sampled_from([4, 4, 1]))))


@settings(max_examples=40, deadline=None)
@given(cases())
def test_fast_equals_reference_on_random_traces(case):
    s, tr, channels, mapping, cfg = case
    ref, fast = both(s, tr, channels, mapping, **cfg)
    assert_equal(ref, fast)


@pytest.mark.parametrize("name", STANDARDS)
def test_fast_equals_reference_saturated_mixed_traffic(name):
    # queues full all the time, reads and writes mixed, refreshes every ~150 cycles
    s = small(name, short_refresh=True)
    rng = np.random.default_rng(11)
    n = 200
    tr = Trace.from_arrays(rng.integers(0, s.row_bytes * s.banks * 3 // 64, n) * 64, rng.random(n) < 0.4,
                           np.zeros(n, np.int64))
    ref, fast = both(s, tr)
    assert_equal(ref, fast)
    assert sum(fast.command_totals().get(k, 0) for k in ("REFab", "REFpb")) > 0


def test_fast_equals_reference_per_bank_refresh_closed_pages():
    s = small("hbm2", short_refresh=True)
    rng = np.random.default_rng(5)
    n = 150
    tr = Trace.from_arrays(rng.integers(0, 1 << 16, n) * 64, rng.random(n) < 0.5, np.cumsum(rng.integers(0, 3, n)))
    ref, fast = both(s, tr, refresh="per-bank", row_policy="closed", closed_cap=2)
    assert_equal(ref, fast)
    assert fast.command_totals()["REFpb"] > 0 and fast.command_totals()["PRE"] > 0
