"""Closed forms derived by hand from the JEDEC timings of each preset (not from the code under test).

Address helper: with the default mapping RoBaRaCoCh (MSB -> LSB: row, bank, bank group, rank,
column, channel, then the burst offset) one burst of a one-channel system lives at
``((((row * banks_per_group + bank) * bankgroups + bg) * ranks + rank) * columns + col) * burst``.
"""

import numpy as np
import pytest

from archsim.hw.dram.config import ControllerConfig
from archsim.hw.dram.replay import replay
from archsim.hw.dram.standard import load_standard
from archsim.hw.dram.trace import Trace

NO_REFRESH = ControllerConfig(refresh="none")


def addr(s, *, row=0, bank=0, bg=0, rank=0, col=0):
    return ((((row * s.banks_per_group + bank) * s.bankgroups + bg) * s.ranks + rank) * s.columns + col) * s.burst_bytes


def trace(addrs, writes=False, arrivals=None):
    a = np.asarray(addrs, dtype=np.int64)
    w = np.broadcast_to(np.asarray(writes, dtype=bool), a.shape)
    return Trace.from_arrays(a, w, arrivals, path="<test>", format="test")


def acts(res):
    return [r for r in res.run.log if r[2] == "ACT"]


# ---------------------------------------------------------------------------------------------
# same-bank row conflicts: one access per tRC
# ---------------------------------------------------------------------------------------------
def test_ddr4_same_bank_row_conflicts_cost_one_trc_each():
    # DDR4-2400 (CL17): every request opens a new row in bank 0. ACT_k -> RD_k after tRCD = 17;
    # PRE_k no earlier than ACT_k + tRAS = 39 (RD + tRTP = 26 is earlier); ACT_{k+1} = PRE_k + tRP
    # = ACT_k + 56 = ACT_k + tRC. The last read returns CL + tBURST = 21 after its RD.
    s = load_standard("ddr4-2400")
    n = 100
    res = replay(s, trace([addr(s, row=k) for k in range(n)]), config=NO_REFRESH, record_commands=True)
    trc, trcd, cl, bl = 56, 17, 17, 4
    assert [r[0] for r in acts(res)] == [k * trc for k in range(n)]
    assert res.figures["total_cycles"] == (n - 1) * trc + trcd + cl + bl == 5582
    assert res.figures["commands"] == {"ACT": n, "RD": n, "WR": 0, "PRE": n - 1, "REF": 0}
    assert res.figures["row_conflicts"] == n - 1 and res.figures["row_misses"] == 1
    # about 64 B per tRC: 64 B / (56 cycles * 0.8333 ns) = 1.37 GB/s
    assert res.figures["bandwidth_gb_per_s"] == pytest.approx(n * 64 / (5582 / 1.2), rel=1e-12)


def test_hbm2_same_bank_row_conflicts_cost_one_trc_each():
    # HBM2: a 64 B request is two 32 B bursts (adjacent columns of one row). ACT takes two row-bus
    # cycles and JEDEC timings count from its second, so ACT->RD is tRCD + 1 = 15 and ACT->PRE
    # tRAS + 1 = 35, while PRE->ACT is tRP - 1 = 13: ACT to ACT = 35 + 13 = 48 = tRC.
    # The second RD follows at tCCD_L = 4; it returns CL + tBURST = 16 later.
    s = load_standard("hbm2")
    n = 50
    res = replay(s, trace([addr(s, row=k) for k in range(n)]), config=NO_REFRESH, record_commands=True)
    assert [r[0] for r in acts(res)] == [48 * k for k in range(n)]
    assert res.figures["total_cycles"] == 48 * (n - 1) + 15 + 4 + 14 + 2
    assert res.figures["commands"]["ACT"] == n and res.figures["commands"]["RD"] == 2 * n


@pytest.mark.parametrize("name", ["ddr5-4800", "lpddr5-6400", "gddr6-14000", "hbm3"])
def test_every_standard_same_bank_conflicts_are_trc_spaced(name):
    # ACT-to-ACT in one bank is max(tRC, tRAS + tRP, tRCD + tRTP + tRP) with the multi-cycle
    # adjustments of the standard (ACT two cycles on HBM3 and DDR5: +1 after it, -1 before it).
    s = load_standard(name)
    t = s.t
    adj_after = 1 if s.command_cycles.get("ACT", 1) == 2 else 0
    rd2 = 1 if s.command_cycles.get("RD", 1) == 2 else 0
    expect = max(t("tRC"), t("tRAS") + adj_after + t("tRP") - adj_after,
                 t("tRCD") + adj_after - rd2 + (t("tBURST") if s.burst_bytes < 64 else 0) + t("tRTP") + rd2
                 + t("tRP") - adj_after)
    res = replay(s, trace([addr(s, row=k) for k in range(20)]), config=NO_REFRESH, record_commands=True)
    gaps = np.diff([r[0] for r in acts(res)])
    assert set(gaps.tolist()) == {expect}
    assert expect == t("tRC")  # in every preset tRC is the binding one


# ---------------------------------------------------------------------------------------------
# random reads on HBM2: at most 4 ACTs per tFAW per pseudo-channel
# ---------------------------------------------------------------------------------------------
def test_hbm2_random_reads_are_act_window_bound():
    # Each pseudo-channel may open at most 4 rows per tFAW = 15 ns, 4 x 64 B / 15 ns = 17.07 GB/s
    # per window: the figure Ramulator 2.1 and DRAMsim3 give for uniform random reads on one HBM2
    # channel (dram_pim.md section 3). Both pseudo-channels share the row-command bus, where each
    # request needs an ACT (2 cycles) and a PRE (1 cycle), so the channel lands near one window.
    s = load_standard("hbm2")
    rng = np.random.default_rng(3)
    n = 3000
    res = replay(s, trace(rng.integers(0, s.capacity_bytes // 64, n) * 64), record_commands=True)
    window = 4 * 64 / 15.0
    assert res.figures["bandwidth_gb_per_s"] == pytest.approx(window, rel=0.05)
    assert res.figures["commands"]["ACT"] >= 0.99 * n
    for pc in (0, 1):
        t = np.asarray([r[0] for r in acts(res) if r[3] == pc])
        # the 5th ACT of a pseudo-channel is never within tFAW of the 1st (ACT timing counts from
        # its second bus cycle on both ends, so the window is tFAW itself)
        assert (t[4:] - t[:-4] >= 15).all()
        assert (np.diff(t) >= 4).all()  # tRRD_S
        # and the window is used: some 5-ACT spans are exactly tFAW or tRRD-limited (16)
        assert (t[4:] - t[:-4] <= 16).any()


def test_tfaw_binds_exactly_when_trrd_is_short():
    # HBM2 with tRRD_S = tRRD_L = 2 (so only tFAW limits activations), 16 32-B reads to the 16
    # banks of pseudo-channel 0, bank groups alternating: ACTs go out in groups of four two row-bus
    # cycles apart, one group per tFAW: ACT_i = 15 * (i // 4) + 2 * (i % 4). RD_i = ACT_i + tRCD + 1
    # (adjusted 15) on four different bank groups per group (tCCD_S 2), so the last read issues at
    # 45 + 6 + 15 = 66 and returns CL + tBURST = 16 later: 82 cycles.
    s0 = load_standard("hbm2")
    s = s0.replace(timing_cycles={**s0.timing_cycles, "tRRD_S": 2, "tRRD_L": 2})
    a = [addr(s, bank=i // 4, bg=i % 4) for i in range(16)]
    res = replay(s, trace(a), config=ControllerConfig(refresh="none", request_bytes=32), record_commands=True)
    assert [r[0] for r in acts(res)] == [15 * (i // 4) + 2 * (i % 4) for i in range(16)]
    assert res.figures["total_cycles"] == 82


# ---------------------------------------------------------------------------------------------
# sequential streams with column bits lowest: tCCD_L-bound
# ---------------------------------------------------------------------------------------------
def test_ddr4_sequential_row_is_tccd_l_bound():
    # 128 consecutive 64 B reads fill one 8 KB row of one bank (column bits lowest): one ACT, then
    # a RD every tCCD_L = 6 cycles from tRCD = 17: the last at 17 + 6 * 127, data back 21 later.
    s = load_standard("ddr4-2400")
    res = replay(s, trace(np.arange(128) * 64), config=NO_REFRESH, record_commands=True)
    rd = [r[0] for r in res.run.log if r[2] == "RD"]
    assert rd == [17 + 6 * k for k in range(128)]
    assert res.figures["total_cycles"] == 17 + 6 * 127 + 17 + 4 == 800
    # that is 4/6 of the 19.2 GB/s peak once the row is open
    assert 128 * 64 / (6 * 128 / 1.2) == pytest.approx(19.2 * 4 / 6)


def test_hbm2_sequential_row_is_tccd_l_bound():
    # one 1 KB row = 32 bursts: RD_k = (tRCD + 1) + 4k, last data at 15 + 124 + 16 = 155.
    s = load_standard("hbm2")
    res = replay(s, trace(np.arange(16) * 64), config=NO_REFRESH, record_commands=True)
    assert [r[0] for r in res.run.log if r[2] == "RD"] == [15 + 4 * k for k in range(32)]
    assert res.figures["total_cycles"] == 155


def test_bank_group_interleaving_streams_at_tccd_s():
    # with bank-group bits under the column bits a stream alternates bank groups: after the four
    # ACTs (tRRD_S = 4 apart) the RDs go every tCCD_S = 4 cycles = the 64 B / 4 cycles peak.
    s = load_standard("ddr4-2400")
    n = 512
    res = replay(s, trace(np.arange(n) * 64), mapping="bg-interleave", config=NO_REFRESH, record_commands=True)
    rd = np.asarray([r[0] for r in res.run.log if r[2] == "RD"])
    # the first RD goes to bank group 0, opened by the ACT at cycle 0: tRCD = 17; data CL + tBURST = 21
    assert rd[0] == 17 and (np.diff(rd) == 4).all()
    assert res.figures["total_cycles"] == 17 + 4 * (n - 1) + 21


# ---------------------------------------------------------------------------------------------
# refresh: one REF per rank per tREFI
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name,ranks,n", [("ddr4-2400", 1, 1500), ("hbm2", 2, 1450), ("lpddr5-6400", 1, 1500)])
def test_refresh_count_is_simulated_time_over_trefi(name, ranks, n):
    s = load_standard(name)
    rng = np.random.default_rng(1)
    tr = trace(rng.integers(0, 1 << 26, n) * 64, arrivals=np.arange(n) * 211)
    res = replay(s, tr)
    T = res.figures["total_cycles"]
    trefi = s.t("tREFI")
    assert T // trefi >= 10
    # the last refresh falls due at the end of cycle k * tREFI - 1 and needs a few cycles to issue
    assert T % trefi > 2 * s.t("tRFC")
    assert res.figures["commands"]["REF"] == ranks * (T // trefi)


def test_per_bank_refresh_count_is_simulated_time_over_trefipb():
    s = load_standard("hbm2")
    rng = np.random.default_rng(2)
    n = 400
    res = replay(s, trace(rng.integers(0, 1 << 26, n) * 64, arrivals=np.arange(n) * 37),
                 config=ControllerConfig(refresh="per-bank"))
    T = res.figures["total_cycles"]
    trefipb = -(-3900 // 32)  # tREFI 3.9 us at 1 GHz over 32 banks per channel, rounded up: 122
    assert s.t("tREFIpb") == trefipb
    assert T % trefipb > 30
    assert res.figures["commands_detail"]["REFpb"] == T // trefipb and res.figures["commands_detail"]["REFab"] == 0


# ---------------------------------------------------------------------------------------------
# DDR5: same-bank-group writes are held to the write tCCD_L
# ---------------------------------------------------------------------------------------------
def test_ddr5_same_bank_group_writes_use_write_tccd_l():
    # 16 sequential 64 B writes to one row. ACT and WR are 2-cycle commands on DDR5's CA bus, so
    # ACT->WR is tRCD + 1 - 1 = 34 and WR->WR in one bank group is tCCD_L_WR = 48 (48 + 1 - 1);
    # reads of the same row are 12 apart (tCCD_L). The run ends one cycle after the last WR issues.
    s = load_standard("ddr5-4800")
    n = 16
    w = replay(s, trace(np.arange(n) * 64, writes=True), config=NO_REFRESH, record_commands=True)
    assert [r[0] for r in w.run.log if r[2] == "WR"] == [34 + 48 * k for k in range(n)]
    assert w.figures["total_cycles"] == 34 + 48 * (n - 1) + 1
    r = replay(s, trace(np.arange(n) * 64), config=NO_REFRESH, record_commands=True)
    assert [x[0] for x in r.run.log if x[2] == "RD"] == [34 + 12 * k for k in range(n)]


def test_write_to_read_turnaround_and_drain_watermarks():
    # DDR4, one open row: 8 writes (4 accepted per cycle: cycles 0 and 1) and then a read (cycle 2).
    # No reads at cycle 0 -> write mode; write 0's ACT moves it to the active buffer, leaving 3, then
    # 7 writes buffered. Write mode ends when the write buffer falls below the low watermark
    # 0.2 * 32 = 6.4 with a read waiting: write 0 issues from the active buffer (7 left), write 1
    # from the buffer (6 left) -> read mode. The read waits the same-bank-group write-to-read time
    # CWL + tBURST + tWTR_L = 12 + 4 + 9 = 25 cycles after the last WR.
    s = load_standard("ddr4-2400")
    a = [64 * k for k in range(8)] + [64 * 100]
    res = replay(s, trace(a, writes=[True] * 8 + [False], arrivals=[0] * 8 + [1]), config=NO_REFRESH,
                 record_commands=True)
    log = [(r[0], r[2]) for r in res.run.log if r[2] in ("WR", "RD")]
    kinds = [k for _, k in log]
    first_rd = kinds.index("RD")
    assert kinds[:first_rd] == ["WR", "WR"]
    assert log[0][0] == 17 and log[1][0] == 17 + 6  # tRCD, then tCCD_L
    assert log[first_rd][0] - log[first_rd - 1][0] == 25
    assert kinds[first_rd + 1:] == ["WR"] * 6
