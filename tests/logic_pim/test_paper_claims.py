"""The must-show claims of Duplex (Yun et al., MICRO'24) that archsim reproduces, each against an
independent expectation: a closed form derived here by hand from the spec's parameters, or the
paper's figure (shared/reference/papers.md section 3.5, dram_pim.md section 5) with a tolerance band
whose width and reason are in docs/validation/logic_pim.md.

The fast tests take a few seconds; the grids behind the validation page are ``slow``."""

import functools
from pathlib import Path

import pytest

from archsim.api import resolve_arch
from archsim.hw.logic_pim import bundle
from archsim.hw.logic_pim.edap import edap_table
from archsim.hw.logic_pim.model import device_figures
from archsim.serving import serve

PRESET = Path(bundle.__file__).parent / "presets" / "hbm3-5200.yaml"

#: Duplex Fig. 8 (normalized EDAP of a 16384 x 4096 FP16 GEMM at Op/B 1, 2, 4, 8, 16, 32)
PAPER_EDAP = {"bank-pim": [0.08, 0.16, 0.35, 0.81, 1.00, 1.00], "bg-pim": [1.00, 1.00, 1.00, 1.00, 0.96, 0.67],
              "duplex": [0.66, 0.66, 0.65, 0.65, 0.61, 0.40]}
#: Duplex Sec. VII / abstract: Duplex(+PE+ET) over the GPU system, average and best; energy average
PAPER_MEAN_X, PAPER_MAX_X, PAPER_MEAN_ENERGY, PAPER_MIXTRAL_BEST_ENERGY = 2.07, 2.67, -0.2819, -0.3328


# ---------------------------------------------------------------------------------------------
# 21.3 TFLOPS per stack and the 4x bundle bandwidth come out of the parameters and the timing
# ---------------------------------------------------------------------------------------------
def standard_with(tmp_path: Path, **timing: int) -> str:
    """A copy of the hbm3-5200 pseudo-channel standard with some timing values changed."""
    lines = []
    for line in PRESET.read_text().splitlines():
        key = line.strip().split(":")[0]
        if key in timing:
            line = f"{line.split(':')[0]}: {timing[key]}"
        lines.append(line)
    p = tmp_path / "hbm3-variant.yaml"
    p.write_text("\n".join(lines) + "\n")
    return str(p)


def test_duplex_figures_by_hand():
    """Per stack: 32 modules x 512 MACs x 2 FLOP at 1 / tCCD_S = 1.3 GHz / 2 = 650 MHz = 21.3 TFLOPS;
    32 pseudo-channels x 8 banks x 32 B per tCCD_L (4 tCK) = 2.66 TB/s, 4x the 32 x 32 B per tCCD_S
    of the conventional path; their quotient 8 FLOP/B."""
    f = device_figures(resolve_arch("duplex"))
    assert f["pim_flops_per_s_per_stack"] == pytest.approx(32 * 512 * 2 * 1.3e9 / 2, rel=1e-12)
    assert round(f["pim_flops_per_s_per_stack"] / 1e12, 1) == 21.3
    assert f["pim_bytes_per_s_per_stack"] == pytest.approx(32 * 8 * 32 / 4 * 1.3e9, rel=1e-12)
    assert f["pim_to_pch_bandwidth_ratio"] == 4.0
    assert f["pim_op_per_byte"] == pytest.approx(8.0)


@pytest.mark.parametrize("t_s,t_l", [(2, 4), (2, 3), (2, 6), (3, 6)])
def test_bandwidth_ratio_and_clock_follow_the_timing(tmp_path, t_s, t_l):
    """Change tCCD_S / tCCD_L in the standard and everything moves with them: the bundle's reads
    issue tCCD_L apart on the timing engine, the PIM clocks at 1 / tCCD_S, and the ratio to the
    pseudo-channel is 8 banks x tCCD_S / tCCD_L (not a constant 4)."""
    path = standard_with(tmp_path, tCCD_S=t_s, tCCD_L=t_l)
    spec = resolve_arch("duplex").replace(dram_standard=path)
    f = device_figures(spec)
    assert f["pim_to_pch_bandwidth_ratio"] == pytest.approx(8 * t_s / t_l)
    assert f["pim_clock_hz"] == pytest.approx(1.3e9 / t_s)
    assert f["pim_flops_per_s_per_stack"] == pytest.approx(32 * 512 * 2 * 1.3e9 / t_s)
    std = bundle.load_pch_standard(path)
    log = []
    bundle.simulate_stream(std, bundle.pim_path(std, "logic", 1), 8 * 32 * 32, refresh=False, log=log)
    reads = [t for t, c, _ in log if c == "RDP"]
    assert len(reads) == 32 and {b - a for a, b in zip(reads, reads[1:])} == {t_l}


# ---------------------------------------------------------------------------------------------
# Mixtral on Duplex(+PE+ET) against the H100 system: throughput and energy
# ---------------------------------------------------------------------------------------------
@functools.cache
def results(arch: str, model: str, batch: int, lin: int, lout: int) -> dict:
    """Fig. 11's setup: closed loop, 3 x batch requests, Gaussian lengths (std 10 %)."""
    return serve(arch, model, input_len=lin, output_len=lout, max_batch=batch, requests=3 * batch, length_std=0.1,
                 seed=1).results


def ratios(batch: int, lin: int, lout: int, arch: str = "duplex") -> tuple[float, float]:
    """(throughput, energy per token - 1) of ``arch`` over the 4-H100 system on Mixtral."""
    d = results(arch, "mixtral-8x7b", batch, lin, lout)
    g = results("h100", "mixtral-8x7b", batch, lin, lout)
    return (d["throughput_tokens_per_s"] / g["throughput_tokens_per_s"],
            d["energy_per_token_j"] / g["energy_per_token_j"] - 1)


def test_mixtral_throughput_and_energy_in_duplex_band_short_requests():
    """Batch 32, 64, 128 at input = output = 256 (the quick corner of Fig. 11): Duplex is ahead of the
    GPU system everywhere, less at larger batches (the experts' Op/B grows past Logic-PIM's 8), its
    mean within 20 % of the paper's 2.07x, none beyond 1.25 x the paper's best 2.67x, energy per
    token lower at every point."""
    got = [ratios(b, 256, 256) for b in (32, 64, 128)]
    x = [g[0] for g in got]
    assert x[0] > x[1] > x[2] > 1.3
    assert abs(sum(x) / 3 / PAPER_MEAN_X - 1) < 0.20
    assert max(x) < 1.25 * PAPER_MAX_X
    assert all(-0.40 < e < -0.10 for _, e in got)


def test_bank_pim_and_duplex_at_256_batch_64():
    """Duplex Sec. VII-C (Fig. 14): at (256, 256) and batch 64 Bank-PIM is 1.18x the GPU system and
    Duplex 2.05x; within 10 %."""
    bank, _ = ratios(64, 256, 256, "bank-pim")
    duplex, _ = ratios(64, 256, 256, "duplex")
    assert bank == pytest.approx(1.18, rel=0.10)
    assert duplex == pytest.approx(2.05, rel=0.10)


@pytest.mark.slow
def test_mixtral_grid_against_the_paper():
    """Fig. 11's range for Mixtral (batch 32, 64, 128; every input/output pair of 256, 1024, 4096;
    27 points, about 2 minutes): mean throughput within 15 % of the paper's 2.07x and the best
    within 25 % of its 2.67x (ours is above it at batch 32 with long outputs: see the validation
    page); mean energy change within 8 points of -28.19 % and the best within 3 points of
    Mixtral's -33.28 %."""
    got = [ratios(b, lin, lout) for b in (32, 64, 128) for lin in (256, 1024, 4096) for lout in (256, 1024, 4096)]
    x = [g[0] for g in got]
    e = [g[1] for g in got]
    assert min(x) > 1.0
    assert abs(sum(x) / len(x) / PAPER_MEAN_X - 1) < 0.15
    assert abs(max(x) / PAPER_MAX_X - 1) < 0.25
    assert abs(sum(e) / len(e) - PAPER_MEAN_ENERGY) < 0.08
    assert abs(min(e) - PAPER_MIXTRAL_BEST_ENERGY) < 0.03


# ---------------------------------------------------------------------------------------------
# Bank-PIM beats Duplex on multi-head attention (OPT), not on GQA/MoE
# ---------------------------------------------------------------------------------------------
def served(arch: str, model: str, batch: int, length: int) -> float:
    return results(arch, model, batch, length, length)["throughput_tokens_per_s"]


def test_bank_pim_beats_duplex_on_opt():
    """OPT-66B decode attention is multi-head: 1 FLOP per KV byte, where Bank-PIM's 16x bandwidth
    beats Logic-PIM's 4x (Duplex Sec. VII-C)."""
    assert served("bank-pim", "opt-66b", 32, 512) > served("duplex", "opt-66b", 32, 512)


@pytest.mark.slow
def test_fig14_orderings():
    """Fig. 14's grid: Bank-PIM ahead of Duplex on OPT at every point; Duplex ahead on Mixtral (MoE
    at 8+ FLOP/B, GQA 4) and Llama-3 (GQA 8)."""
    for batch in (32, 64):
        for length in (256, 512, 1024):
            assert served("bank-pim", "opt-66b", batch, length) > served("duplex", "opt-66b", batch, length)
        for model in ("mixtral-8x7b", "llama-3-70b"):
            for length in (256, 1024):
                assert served("duplex", model, batch, length) > served("bank-pim", model, batch, length)


# ---------------------------------------------------------------------------------------------
# EDAP against Op/B (Fig. 8)
# ---------------------------------------------------------------------------------------------
def test_edap_best_placement_per_op_per_byte_is_the_papers():
    """Which placement has the lowest EDAP at each Op/B, ours against Fig. 8's: Bank-PIM at 1, 2
    and 4, Logic-PIM at 8, 16 and 32; Logic-PIM's EDAP is below BankGroup-PIM's everywhere (same
    rates, TSV path energy below the DRAM-die path, less area than DRAM-process logic)."""
    t = edap_table({n: resolve_arch(n) for n in PAPER_EDAP})["normalized"]
    ours = [min(t, key=lambda n: t[n][j]) for j in range(6)]
    paper = [min(PAPER_EDAP, key=lambda n: PAPER_EDAP[n][j]) for j in range(6)]
    assert paper == ["bank-pim"] * 3 + ["duplex"] * 3
    assert ours == paper
    assert all(t["duplex"][j] < t["bg-pim"][j] for j in range(6))
    # Bank-PIM's EDAP rises with Op/B (compute-bound at 1 FLOP/B), as in the paper
    assert all(a < b for a, b in zip(t["bank-pim"], t["bank-pim"][1:]))
