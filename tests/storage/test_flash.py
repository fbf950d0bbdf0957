"""Flash timing: a striped page batch derived by hand, and the closed form against the page-level
reference on random geometries."""

from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from archsim.api import resolve_arch
from archsim.hw.storage import flash
from archsim.hw.storage.reference import flash_batch_reference

T_R = 35760  # ns, NVMeVirt SAMSUNG_970PRO 4 KiB read latency
X = Fraction(4096 * 10**9, 1_400_000_000)  # ns for one 4 KiB page at 1.4 GB/s


def spec(**kw):
    return resolve_arch("instinfer").replace(**kw)


def read_ns(s, n):
    return flash.read_batch_s(s, n) * 10**9


def test_one_page_is_tr_plus_one_transfer():
    assert read_ns(spec(), 1) == T_R + X
    assert flash.to_ns(flash.read_batch_s(spec(), 1)) == 38686  # 35760 + 2925.71 rounded up


def test_a_page_per_channel_reads_in_parallel():
    # 8 pages striped over 8 channels: one page on die 0 of every channel
    assert read_ns(spec(), 8) == T_R + X


def test_one_page_per_die_serialises_on_each_channel_bus():
    # 64 pages = one per die: all dies ready at tR, each bus moves its 8 pages back to back
    assert read_ns(spec(), 64) == T_R + 8 * X


def test_two_rounds_die_bound():
    # 128 pages, 2 per die. Die d's first page leaves at tR + (d+1)x; it senses again (tR) and
    # is ready at 2 tR + (d+1)x; the bus finished round 0 at tR + 8x < 2 tR + x, so nobody waits:
    # die 7 ends at 2 tR + 9x.
    assert read_ns(spec(), 128) == 2 * T_R + 9 * X


def test_two_planes_make_the_bus_the_bottleneck():
    # 2 planes: a die moves 2 pages (T = 2x) per read; (D - 1) T = 14x > tR, so the bus never idles
    # after the first tR: 256 pages (2 rounds of 16 pages per channel) end at tR + 32x.
    assert read_ns(spec(flash_planes_per_die=2), 256) == T_R + 32 * X


def test_partial_round_by_hand():
    # one channel, 4 dies, 2 planes, tR = 10, x = 1: 10 pages = one full round (8 pages) + 2.
    # Full round: die d leaves at 10 + 2(d+1) (die 3 at 18). Partial: die 0 ready 12 + 10 = 22 -> 23;
    # die 1 ready 14 + 10 = 24 -> 25.
    assert flash.channel_makespan(10, 4, 2, 10, 10, 1) == 25
    assert flash_batch_reference(10, 1, 4, 2, t_read=10, transfer=1) == 25


def test_program_batch_by_hand():
    # 64 pages, one per die: each bus moves its 8 pages from t = 0, then the last die programs.
    s = spec()
    assert flash.program_batch_s(s, 64) * 10**9 == 8 * X + 185000


def test_streaming_bandwidth_die_bound_and_bus_bound():
    # die-bound: a channel moves D P pages per (tR + P x): 8 x 4096 B / 38.686 us
    s = spec()
    die = 8 * 8 * 4096 / ((T_R + float(X)) * 1e-9)
    assert flash.streaming_read_bytes_per_s(s) == pytest.approx(die, rel=1e-12)
    assert die == pytest.approx(6.776e9, rel=1e-3)
    assert flash.streaming_read_bytes_per_s(spec(flash_planes_per_die=2)) == pytest.approx(11.2e9)


def test_internal_bandwidth_beats_the_drive_pcie_link():
    """A large striped read inside a bus-bound drive runs at 8 x 1.4 = 11.2 GB/s; shipping the same
    bytes over the drive's PCIe 4.0 x4 link (7 GB/s) takes 11.2 / 7 = 1.6x longer."""
    s = spec(flash_planes_per_die=2)
    n = 64 * 1024
    assert read_ns(s, n) == T_R + (n // 8) * X  # every bus busy from tR on
    internal = float(flash.read_batch_s(s, n))
    over_pcie = n * 4096 / s.drive_pcie_bytes_per_s
    assert over_pcie / internal == pytest.approx(1.6, rel=2e-3)


def test_back_to_back_batches_stream_through_per_die_queues():
    """With per-die queues the array does not drain between batches: the second of two batches
    of 128 pages (2 die-bound rounds) is ready one occupancy (2 (tR + x)) after the first batch
    started plus its own latency (2 tR + 9x): 4 tR + 11x, the end of the 256-page stream in the
    page-level reference; a draining array takes 2 (2 tR + 9x)."""
    s = spec()
    occ = flash.read_occupancy_s(s, 128) * 10**9
    assert occ == 2 * (T_R + X)
    stream = flash_batch_reference(256, 8, 8, 1, t_read=T_R, transfer=X)
    assert occ + read_ns(s, 128) == stream == 4 * T_R + 11 * X
    assert 2 * read_ns(s, 128) == 4 * T_R + 18 * X
    # bus-bound (2 planes): a 256-page batch occupies each bus 32x; two end at tR + 64x
    s2 = spec(flash_planes_per_die=2)
    assert flash.read_occupancy_s(s2, 256) * 10**9 + read_ns(s2, 256) == T_R + 64 * X == flash_batch_reference(
        512, 8, 8, 2, t_read=T_R, transfer=X)


def test_occupancy_is_the_streaming_rate():
    for kw in ({}, {"flash_planes_per_die": 2}):
        s = spec(**kw)
        n = 1000
        assert float(n * 4096 / flash.read_occupancy_s(s, n)) == pytest.approx(flash.streaming_read_bytes_per_s(s))


@settings(max_examples=200, deadline=None)
@given(n=st.integers(0, 300), c=st.integers(1, 4), d=st.integers(1, 5), p=st.integers(1, 3),
       t_r=st.integers(0, 50), x=st.integers(1, 20), program=st.booleans())
def test_closed_form_equals_page_level_reference(n, c, d, p, t_r, x, program):
    busiest = -(-n // c)
    if program:
        closed = flash.channel_makespan(busiest, d, p, 0, t_r, x) + (t_r if n else 0)
    else:
        closed = flash.channel_makespan(busiest, d, p, t_r, t_r, x)
    assert closed == flash_batch_reference(n, c, d, p, t_read=t_r, transfer=x, program=program)
