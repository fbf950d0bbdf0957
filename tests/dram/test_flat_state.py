"""The replay loop's flat copy of the timing state (TimingEngine.flat_state / flat_update /
load_flat) against the engine's own issue(): the same commands applied both ways leave the same
ready times and tFAW histories."""

import random

import pytest

from archsim.hw.dram.device import TimingEngine
from archsim.hw.dram.standard import load_standard


@pytest.mark.parametrize("name, ranks", [("ddr4-2400", 1), ("ddr4-2400", 2), ("ddr5-4800", 2), ("lpddr5-6400", 2),
                                         ("gddr6-14000", 1), ("hbm2", 1), ("hbm3", 1)])
def test_flat_updates_equal_issue(name, ranks):
    s = load_standard(name).replace(ranks=ranks)   # two ranks: the rank-to-rank sibling constraints
    ref, flat = TimingEngine(s), TimingEngine(s)
    bank_cmds = [c for c in range(ref.ncmd) if ref.scope[c] == "bank"]
    rng = random.Random(7)
    rt, hf = flat.flat_state()
    clk = 0
    for _ in range(400):
        cmd, bk = rng.choice(bank_cmds), rng.randrange(ref.nbanks)
        clk += rng.randrange(1, 30)
        ref.issue(cmd, bk, clk)
        ops, wops = flat.flat_update(cmd, bk)
        # the documented semantics: max-updates, then shift clk into the history and apply the
        # windowed constraints from its w-th newest entry
        for p, lat in ops:
            rt[p] = max(rt[p], clk + lat)
        for h, depth, wins in wops:
            hf[h + 1:h + depth] = hf[h:h + depth - 1]
            hf[h] = clk
            for p, lat, w in wins:
                if hf[h + w - 1] >= 0:
                    rt[p] = max(rt[p], hf[h + w - 1] + lat)
    flat.load_flat(rt, hf)
    assert flat.ready == ref.ready
    assert flat.hist == ref.hist
    assert any(v >= 0 for lv in ref.ready for lst in lv for v in lst)
    # and back: the flat state of the reference engine is what the flat copy holds
    assert ref.flat_state() == (rt, hf)
