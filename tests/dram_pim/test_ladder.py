"""The fidelity ladder of a scope program: the event executor (timing engine + PIM table) issues the
same commands at the same cycles as the cycle-stepped reference (its own rules, no engine), on
random programs of every phase type and on the mapping's programs; the analytic closed form is
exact where no read-out meets a MAC and close to the event level elsewhere."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from archsim.api import resolve_arch
from archsim.hw.dram_pim import mapping
from archsim.hw.dram_pim.analytic import analytic_run
from archsim.hw.dram_pim.commands import PimTiming
from archsim.hw.dram_pim.executor import run_program
from archsim.hw.dram_pim.program import BankAccess, MacPhase, RowWrite, ScopeProgram
from archsim.hw.dram_pim.reference import reference_run

PRESETS = ["pim-gpt", "hbm-pim", "aim"]


def spec_of(preset, tfaw=False, nccdab=None):
    sp = resolve_arch(preset).replace(refresh="none", ab_act_obeys_tfaw=tfaw)
    return sp.replace(nccdab_cycles=nccdab) if nccdab else sp


@st.composite
def programs(draw, banks, single_ok):
    phases = []
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["mac", "mac", "sb", "row", "bank"]))
        if kind in ("mac", "sb"):
            n = draw(st.integers(1, 70))
            switches = draw(st.lists(st.booleans(), min_size=n, max_size=n))
            rows = np.cumsum([0] + [int(x) for x in switches[1:]]).astype(np.int64) + draw(st.integers(0, 2))
            last = np.array(draw(st.lists(st.booleans(), min_size=n, max_size=n)), dtype=bool)
            last[-1] = True
            bank = draw(st.integers(0, banks - 1)) if (kind == "sb" and single_ok) else -1
            phases.append(MacPhase(draw(st.integers(0, 5)), rows, last, bank=bank))
        elif kind == "row":
            bs = draw(st.lists(st.integers(0, banks - 1), min_size=1, max_size=6, unique=True))
            phases.append(RowWrite(draw(st.integers(0, 3)), tuple(sorted(bs))))
        else:
            phases.append(BankAccess(draw(st.integers(0, banks - 1)), draw(st.integers(0, 2)), draw(st.integers(1, 6)),
                                     draw(st.booleans())))
    return ScopeProgram(tuple(phases))


@pytest.mark.parametrize("preset,tfaw,nccdab", [("pim-gpt", False, None), ("pim-gpt", True, None),
                                                ("hbm-pim", False, None), ("hbm-pim", True, 7), ("aim", False, 3)])
@given(data=st.data())
def test_event_equals_cycle_reference_command_by_command(preset, tfaw, nccdab, data):
    sp = spec_of(preset, tfaw, nccdab)
    prog = data.draw(programs(sp.banks_per_scope, sp.single_bank_mac and sp.banks_per_unit == 1))
    run = run_program(PimTiming(sp), prog, record=True)
    log, cycles = reference_run(sp, prog)
    assert run.log == log
    assert run.cycles == cycles


@pytest.mark.parametrize("preset", PRESETS)
def test_mapping_programs_event_equals_reference(preset):
    sp = spec_of(preset)
    tm = PimTiming(sp)
    vmms = [mapping.weight_vmm(sp, 200, 40), mapping.score_vmm(sp, 37, 4, 4, 32, 64),
            mapping.context_vmm(sp, 37, 4, 2, 32, 64), mapping.kv_write(sp, 36, 4, 2, 32, 64),
            mapping.embedding_read(sp, 96, True)]
    for v in vmms:
        for prog in v.programs[:3]:
            if prog.empty:
                continue
            run = run_program(tm, prog, record=True)
            log, cycles = reference_run(sp, prog)
            assert run.log == log and run.cycles == cycles


@pytest.mark.parametrize("preset", PRESETS)
def test_analytic_is_exact_without_readouts_between_macs(preset):
    # outputs that end only at the end of each phase: no read-out competes with a MAC
    sp = spec_of(preset)
    tm = PimTiming(sp)
    rng = np.random.default_rng(7)
    for _ in range(20):
        phases = []
        for _ in range(rng.integers(1, 4)):
            n = int(rng.integers(1, 300))
            rows = (np.cumsum(rng.random(n) < 0.03) + rng.integers(0, 3)).astype(np.int64)
            last = np.zeros(n, dtype=bool)
            last[-1] = True
            phases.append(MacPhase(int(rng.integers(0, 9)), rows, last))
        prog = ScopeProgram(tuple(phases))
        assert analytic_run(tm, prog).cycles == run_program(tm, prog).cycles


@pytest.mark.parametrize("preset", PRESETS)
def test_analytic_is_close_on_the_mapping(preset):
    sp = spec_of(preset)
    tm = PimTiming(sp)
    for v in (mapping.weight_vmm(sp, 1600, 4800), mapping.weight_vmm(sp, 6400, 1600),
              mapping.context_vmm(sp, 300, 25, 25, 64, 1024), mapping.kv_write(sp, 77, 25, 25, 64, 1024)):
        prog = v.programs[0]
        a, e = analytic_run(tm, prog), run_program(tm, prog)
        assert abs(a.cycles - e.cycles) <= 0.02 * e.cycles
        assert (a.hits, a.misses + a.conflicts, a.bank_activations) == (e.hits, e.misses + e.conflicts,
                                                                         e.bank_activations)
        assert dict(a.commands) == dict(e.commands)
    # 4-burst score segments: read-outs take MACs' command slots and turn the data bus around before
    # the next buffer write; the closed form leaves both out: a lower bound within 15 %
    prog = mapping.score_vmm(sp, 300, 25, 25, 64, 1024).programs[0]
    a, e = analytic_run(tm, prog), run_program(tm, prog)
    assert a.cycles <= e.cycles <= 1.15 * a.cycles
