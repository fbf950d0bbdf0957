"""The PIM's derived figures and the area model, from the presets' parameters (Duplex Sec. VI,
VII-E), each re-derived here by hand."""

import pytest

from archsim.api import resolve_arch
from archsim.errors import InputError
from archsim.hw.logic_pim.edap import edap_table, gemm_cost, pim_area_mm2, stack_area_mm2
from archsim.hw.logic_pim.model import device_figures
from archsim.hw.logic_pim.pim import PimDevice


def test_logic_pim_is_21_3_tflops_per_stack_at_8_op_per_byte():
    spec = resolve_arch("duplex")
    f = device_figures(spec)
    clock = 1.3e9 / 2                                  # 1 / tCCD_S, tCCD_S = 2 tCK of 1.3 GHz
    assert f["pim_clock_hz"] == clock == 650e6
    assert f["pim_flops_per_s_per_stack"] == 32 * 512 * 2 * clock == pytest.approx(21.2992e12)
    bw = 32 * 8 * 32 / 4 * 1.3e9                       # 32 pCH x 8 banks x 32 B per tCCD_L (4 tCK)
    assert f["pim_bytes_per_s_per_stack"] == bw == pytest.approx(2.6624e12)
    assert f["pch_bytes_per_s_per_stack"] == 32 * 32 / 2 * 1.3e9 == pytest.approx(665.6e9)
    assert f["pim_to_pch_bandwidth_ratio"] == 4
    assert f["pim_op_per_byte"] == pytest.approx(8.0)


def test_bank_pim_is_16x_at_one_op_per_byte():
    f = device_figures(resolve_arch("bank-pim"))
    assert f["pim_to_pch_bandwidth_ratio"] == 16
    assert f["pim_flops_per_s_per_stack"] == 32 * 32 * 8 * 2 * 650e6     # 8 MACs per bank, 1024 banks
    assert f["pim_op_per_byte"] == pytest.approx(1.0)


def test_bankgroup_pim_has_logic_pims_rates():
    a, b = device_figures(resolve_arch("bg-pim")), device_figures(resolve_arch("duplex"))
    assert a == b


def test_device_stream_is_one_pseudo_channel_of_the_spread_bytes():
    pim = PimDevice.from_spec(resolve_arch("duplex"))
    s = pim.stream(160 * 8192, 1)           # one row-set per pseudo-channel (5 x 32)
    assert s.ns == pytest.approx((20 + 31 * 4 + 21) / 1.3)
    assert (s.acts, s.reads) == (160 * 8, 160 * 256)


def test_logic_pim_area_is_section_vii_e():
    a = pim_area_mm2(resolve_arch("duplex"))
    assert sum(a.values()) == pytest.approx(10.89 + 3.02 + 2.26 + 1.64)     # 17.81 mm2, 14.7 % of 121 mm2
    assert sum(a.values()) / 121 == pytest.approx(0.1472, abs=5e-4)


def test_dram_die_placements_scale_to_the_dram_process():
    scale = (15 / 7) ** 2 * 10                      # 1z-nm DRAM node, 10x a logic process (Sec. VI)
    bg = pim_area_mm2(resolve_arch("bg-pim"))
    assert sum(bg.values()) == pytest.approx((3.02 + 2.26) * scale + 1.64)
    bank = pim_area_mm2(resolve_arch("bank-pim"))
    assert sum(bank.values()) == pytest.approx(3.02 / (32 * 512) * (32 * 32 * 8) * scale + 1.64)
    assert stack_area_mm2(resolve_arch("duplex")) == pytest.approx(9 * 121 + 17.81)


def test_gemm_op_per_byte_and_delay():
    spec = resolve_arch("duplex")
    c = gemm_cost(spec, 32)
    assert c.op_per_byte == 32
    flops = 2 * 32 * 16384 * 4096
    assert c.delay_ns == pytest.approx(flops / (5 * 21.2992e12) * 1e9)   # compute-bound above 8 FLOP/B


def test_edap_ordering_against_op_per_byte():
    """Duplex Fig. 8: Bank-PIM best at low Op/B, Logic-PIM best from 8 FLOP/B on, BankGroup-PIM
    never best (same bandwidth and FLOPS as Logic-PIM, more energy and area)."""
    t = edap_table({n: resolve_arch(n) for n in ("bank-pim", "bg-pim", "duplex")})
    norm = t["normalized"]
    best = [min(norm, key=lambda n: norm[n][j]) for j in range(6)]
    assert best[:2] == ["bank-pim", "bank-pim"]
    assert best[3:] == ["duplex"] * 3
    assert all(norm["bg-pim"][j] > norm["duplex"][j] for j in range(6))


def test_spec_rejects_co_processing_with_bank_pim():
    with pytest.raises(InputError, match="co_processing"):
        resolve_arch("bank-pim").replace(co_processing=True)
