"""The PIM MAC unit's cycle model (rtl/pim_mac's oracle) on its own: values worked out by hand, the
pipeline latency the timing presets use, the result register, signed zeros and subnormal inputs."""

import numpy as np
import pytest

from archsim.api import resolve_arch
from archsim.hw.dram_pim.rtl_stimulus import ONE, TWO, bf16, directed, idle, random_cycles, reference_dot
from archsim.hw.dram_pim.unit import MAC, RD, PimMacUnit, bf16_to_f32, tree_sum


def run(unit, seq):
    return [unit.step(**inp) for inp in seq]


def test_directed_results_worked_out_by_hand():
    seq, want = directed(16)
    states = run(PimMacUnit(16), seq)
    assert [s["dout"] for s in states if s["rd_valid"]] == want
    assert want[:2] == [0x3F800001, 0x42000000]       # 1 + 2^-23 (rounded up); 16 x 2 = 32
    assert states[-1]["overrun"] == 1                 # the last directed pair


def test_result_register_latency_is_the_presets_pipeline():
    # a MAC with `last` on cycle 1: products after edge 1, tree sum after edge 2, result after edge 3
    pipe = resolve_arch("pim-gpt").mac_pipeline_cycles
    u = PimMacUnit(16)
    states = run(u, [{"cmd": MAC, "last": 1, "w": [ONE] * 16, "x": [TWO] * 16}] + [idle(16)] * 4)
    first = next(i for i, s in enumerate(states, start=1) if s["out_valid"])
    assert first == pipe == 3
    s = u.step(cmd=RD)
    assert (s["rd_valid"], s["dout"], s["out_valid"]) == (1, 0x42000000, 0)


def test_tree_rounds_each_add_to_nearest_even():
    # (1 + 2^-24) is a tie: it rounds to 1.0; adding 2^-24 twice in a tree ((a+b)+(c+d)) gives 1.0,
    # while 1 + (2^-24 + 2^-24) = 1 + 2^-23 is exact
    a = np.array([1.0, 2.0**-24, 0.0, 0.0], dtype=np.float32)
    assert tree_sum(a) == np.float32(1.0)
    b = np.array([1.0, 0.0, 2.0**-24, 2.0**-24], dtype=np.float32)
    assert tree_sum(b) == np.float32(1.0 + 2.0**-23)


def test_signed_zeros_and_subnormal_inputs():
    assert bf16_to_f32([0x0001])[0] == 0.0                  # a subnormal reads as zero
    assert np.signbit(bf16_to_f32([0x8001])[0])             # with its sign
    u = PimMacUnit(2)
    states = run(u, [{"cmd": MAC, "last": 1, "w": [0x8000, 0x8000], "x": [ONE, ONE]}] + [idle(2)] * 3)
    assert states[1]["sum"] == 0x80000000                    # -0 + -0 = -0
    assert states[2]["out"] == 0                             # +0 + -0 = +0


def test_random_results_match_float64():
    seq = random_cycles(16, seed=3, n=600) + [idle(16)] * 4
    u = PimMacUnit(16)
    outputs, bursts, reads = [], [], []
    for inp in seq:
        if inp["cmd"] == MAC:
            bursts.append(inp)
            if inp["last"]:
                outputs.append(bursts)
                bursts = []
        s = u.step(**inp)
        if s["rd_valid"]:
            reads.append(np.uint32(s["dout"]).view(np.float32))
    assert len(outputs) > 50 and reads
    # the unit's last result (whether read or not) is the last output's dot product
    last = np.uint32(u.out).view(np.float32)
    assert float(last) == pytest.approx(reference_dot(outputs[-1]), rel=2.0**-18, abs=2.0**-60)


def test_lanes_must_be_a_power_of_two():
    with pytest.raises(ValueError):
        PimMacUnit(12)
    assert bf16(0, 0, 0) == ONE
