"""PIM command timing derived by hand from the JEDEC values in the DRAM presets (gddr6-14000.yaml,
hbm2.yaml) and the PIM presets: one all-bank MAC sweep over a row (ACT_AB, MAC_AB every MAC
interval, PRE_AB, the read-out), the nCCDAB power limit, the tFAW switch, single-bank MACs, the
global-buffer write before a MAC, the one-result-register rule and refresh."""

import numpy as np
import pytest

from archsim.api import resolve_arch
from archsim.hw.dram_pim.commands import PIM_COMMANDS, PimTiming
from archsim.hw.dram_pim.executor import run_program
from archsim.hw.dram_pim.program import MacPhase, ScopeProgram


def sweep(n, row=0, gb=0, last_every=None, bank=-1):
    rows = np.full(n, row, dtype=np.int64)
    last = np.zeros(n, dtype=bool)
    if last_every:
        last[last_every - 1::last_every] = True
    last[-1] = True
    return ScopeProgram((MacPhase(gb, rows, last, bank=bank),))


def log_of(spec, prog):
    run = run_program(PimTiming(spec), prog, record=True)
    return run, [(t, name) for t, name, _ in run.log]


def test_pim_gpt_all_bank_sweep_of_one_2kb_row():
    # gddr6-14000: tRCD 30, tRAS 60, tRTP 4, tRP 30, CL 24, tBURST 2 (tCK 0.571 ns); 2 KB row = 64
    # bursts of 32 B. pim-gpt: MAC interval nCCDAB = 2 (the unit takes 16 BF16 per 1 ns = 1.75
    # cycles -> 2); result latency = 2 (transfer) + ceil(3 unit cycles x 1.75) = 8; RDMAC reads
    # 16 units x 4 B = 64 B = 2 bursts: data at issue + 24 + 2 x 2 = +28.
    sp = resolve_arch("pim-gpt").replace(refresh="none")
    assert (sp.mac_interval_cycles, sp.result_latency_cycles, sp.readout_bursts) == (2, 8, 2)
    run, log = log_of(sp, sweep(64))
    macs = [t for t, n in log if n == "MAC_AB"]
    assert log[0] == (0, "ACT_AB")
    assert macs == [30 + 2 * k for k in range(64)]                      # ACT + tRCD, then every 2
    assert (160, "PRE_AB") in log                                       # last MAC 156 + tRTP 4 (> ACT + tRAS 60)
    assert (164, "RDMAC_AB") in log                                     # 156 + 8
    assert run.cycles == 164 + 28                                       # > PRE + tRP = 190
    assert (run.hits, run.misses, run.accesses) == (63 * 16, 16, 64 * 16)  # 63 of 64 hits in every bank
    assert run.bank_activations == 16


def test_hbm_pim_all_bank_sweep_of_one_1kb_row():
    # hbm2: tCK 1 ns, ACT takes 2 row-bus cycles (JEDEC times from its last cycle), tRCD 14,
    # tRAS 34, tRTP 5, tRP 14, CL 14, tBURST 2; a 1 KB row holds 32 bursts. hbm-pim: MAC_AB every
    # nCCDAB = tCCD_L = 4 (the 300 MHz unit needs 3.33 ns per 16-lane burst -> 4 cycles too);
    # result latency = 4 + ceil(3 x 1000 / 300) = 14; 8 units x 4 B = one 32 B read-out burst.
    sp = resolve_arch("hbm-pim").replace(refresh="none")
    assert (sp.mac_interval_cycles, sp.result_latency_cycles, sp.readout_bursts) == (4, 14, 1)
    run, log = log_of(sp, sweep(32))
    macs = [t for t, n in log if n == "MAC_AB"]
    assert log[0] == (0, "ACT_AB")
    assert macs == [15 + 4 * k for k in range(32)]                      # 0 + 1 + tRCD 14
    assert (144, "PRE_AB") in log                                       # 139 + tRTP 5 (> 0 + 1 + tRAS 34)
    assert (153, "RDMAC_AB") in log                                     # 139 + 14
    assert run.cycles == 153 + 14 + 2                                   # data after CL + 1 burst; PRE + 14 = 158
    # one unit per two banks: a MAC reads one bank of each pair, so 8 banks per command
    assert run.accesses == 32 * 8 and run.bank_activations == 16


def test_power_limit_stretches_the_mac_interval():
    sp = resolve_arch("hbm-pim").replace(refresh="none", nccdab_cycles=7)
    _, log = log_of(sp, sweep(10))
    assert [t for t, n in log if n == "MAC_AB"] == [15 + 7 * k for k in range(10)]


def test_row_switch_costs_trtp_trp_trcd():
    # two rows of 64: the second ACT waits for PRE (156 + 4 = 160) + tRP 30 = 190 (tRC: 0 + 90)
    sp = resolve_arch("pim-gpt").replace(refresh="none")
    rows = np.repeat([0, 1], 64).astype(np.int64)
    last = np.zeros(128, dtype=bool)
    last[[63, 127]] = True
    _, log = log_of(sp, ScopeProgram((MacPhase(0, rows, last),)))
    acts = [t for t, n in log if n == "ACT_AB"]
    macs = [t for t, n in log if n == "MAC_AB"]
    assert acts == [0, 190]
    assert macs[64] == 220 and macs[-1] == 220 + 2 * 63


def test_all_bank_act_obeying_tfaw_is_a_burst_of_per_bank_acts():
    # gddr6-14000: tRRD_S = tRRD_L = 11, tFAW 43: ACT i at 11 i (four ACTs span 33 < 43, the fifth
    # waits for max(4 x 11, 0 + 43) = 44); the first MAC waits for the last bank: 165 + tRCD 30
    sp = resolve_arch("pim-gpt").replace(refresh="none", ab_act_obeys_tfaw=True)
    _, log = log_of(sp, sweep(4))
    acts = [t for t, n in log if n == "ACT"]
    assert acts == [11 * i for i in range(16)]
    assert [t for t, n in log if n == "MAC_AB"][0] == 165 + 30
    sp = sp.replace(ab_act_obeys_tfaw=False)
    _, log = log_of(sp, sweep(4))
    assert [t for t, n in log if n in ("ACT", "ACT_AB")] == [0]


def test_single_bank_macs_go_at_tccd_l():
    # one bank: ACT, MAC_SB every max(tCCD_L = 4, the unit's pace 2) in its bank group
    sp = resolve_arch("pim-gpt").replace(refresh="none")
    _, log = log_of(sp, sweep(5, bank=3))
    assert log[0] == (0, "ACT")
    assert [t for t, n in log if n == "MAC_SB"] == [30, 34, 38, 42, 46]
    assert [n for _, n in log if n.startswith("RDMAC")] == ["RDMAC_SB"]


def test_global_buffer_write_before_the_macs():
    # 4 WR_GB bursts every max(tBURST, tCCD_S) = 2 from 0; GDDR6 has one command bus, so the ACT
    # follows at 7; the MAC needs ACT + tRCD = 37 and the data in the buffer (6 + CWL 6 + tBURST 2)
    sp = resolve_arch("pim-gpt").replace(refresh="none")
    _, log = log_of(sp, sweep(3, gb=4))
    assert log[:5] == [(0, "WR_GB"), (2, "WR_GB"), (4, "WR_GB"), (6, "WR_GB"), (7, "ACT_AB")]
    assert [t for t, n in log if n == "MAC_AB"] == [37, 39, 41]         # 7 + tRCD 30 (> 6 + 8)


def test_one_result_register_holds_up_the_next_output():
    # outputs of one MAC each: the result is in the register 8 cycles after its MAC and the next
    # output-completing MAC waits until the read-out has issued (one command per cycle)
    sp = resolve_arch("pim-gpt").replace(refresh="none")
    _, log = log_of(sp, sweep(4, last_every=1))
    seq = [(t, n) for t, n in log if n in ("MAC_AB", "RDMAC_AB")]
    assert seq == [(30, "MAC_AB"), (38, "RDMAC_AB"), (39, "MAC_AB"), (47, "RDMAC_AB"), (48, "MAC_AB"),
                   (56, "RDMAC_AB"), (57, "MAC_AB"), (65, "RDMAC_AB")]


def test_refresh_closes_rows_and_costs_trfc():
    # REFab due at tREFI = 3325 from a refresh that just happened: the stream closes its row
    # (PRE_AB), refreshes once tRP has passed, waits tRFC 210, reopens its row and goes on
    sp = resolve_arch("pim-gpt")
    n = 2000
    prog = sweep(n, last_every=64)
    base = run_program(PimTiming(sp), prog)
    run, log = log_of(sp, prog)
    assert run.refreshes == 0  # refresh_start not given: no refresh inside a program
    run = run_program(PimTiming(sp), prog, record=True, refresh_start=0)
    ref = [t for t, n, _ in run.log if n == "REFab"]
    assert run.refreshes == len(ref) == 1
    pre = max(t for t, n, _ in run.log if n == "PRE_AB" and t <= ref[0])
    assert ref[0] == pre + 30 and pre >= 3325
    act = min(t for t, n, _ in run.log if n == "ACT_AB" and t > ref[0])
    assert act == ref[0] + 210
    assert run.bank_activations == base.bank_activations + 16
    assert run.cycles > base.cycles


def test_the_timing_table_has_every_pim_command():
    tm = PimTiming(resolve_arch("pim-gpt"))
    for name in PIM_COMMANDS:
        assert name in tm.idx
    scopes = {c.name: c.scope for c in tm.table.commands}
    assert scopes["MAC_AB"] == "rank" and scopes["MAC_SB"] == "bank"
    assert tm.read_data_cycles == 24 + 2 * 2


# units by hand from the presets: pim-gpt 8 channels x 16 banks; hbm-pim 8 channels x 2
# pseudo-channels x 8 units (one per 2 of 16 banks); aim 32 channels x 16 banks
@pytest.mark.parametrize("preset,units", [("pim-gpt", 8 * 16), ("hbm-pim", 8 * 2 * 8), ("aim", 32 * 16)])
def test_presets_load_and_resolve(preset, units):
    sp = resolve_arch(preset)
    d = sp.to_dict()
    assert d["resolved"]["units"] == sp.channels * sp.scopes_per_channel * sp.units_per_scope == units
    assert sp.replace(pim_lanes=8).lanes_per_unit == 8


def test_int8_doubles_the_elements_per_burst():
    # 32 INT8 per 32 B burst on 16 lanes: 2 unit cycles (2 ns) per burst = ceil(2 x 1.75) = 4 DRAM
    # cycles > nCCDAB 2; a K = 1024 weight column is 32 bursts instead of 64
    sp = resolve_arch("pim-gpt").replace(refresh="none", datatype="int8")
    assert (sp.elems_per_burst, sp.mac_interval_cycles, sp.gb_elems) == (32, 4, 2048)
    from archsim.hw.dram_pim import mapping

    v = mapping.weight_vmm(sp, 1024, 128)
    assert v.programs[0].mac_bursts == 32 and [p.gb_bursts for p in v.programs[0].phases] == [32]
    _, log = log_of(sp, sweep(8))
    assert [t for t, n in log if n == "MAC_AB"] == [30 + 4 * k for k in range(8)]
