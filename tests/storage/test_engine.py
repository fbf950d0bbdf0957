"""The attention engine's kernels x flash schedule: timelines derived by hand, the closed form,
and the period-jumping solver against the phase-by-phase reference."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from archsim.api import resolve_arch
from archsim.hw.storage.engine import dense_closed_form_ns, dense_task, run_tasks, sparse_task
from archsim.hw.storage.kvlayout import decode_shape
from archsim.hw.storage.reference import engine_reference
from archsim.workload import load_workload


def test_kernel_bound_by_hand():
    # 2 kernels, F = 10 (flash), C = 30: k0 F[0,10] C[10,40]; k1 F[10,20] C[20,50]; k0 F[40,50] C[50,80];
    # k1 F[50,60] C[60,90]; k0 F[80,90] C[90,120]
    sched = run_tasks(5, 2, (("flash", 10), ("compute", 30)))
    assert sched.makespan_ns == 120
    assert (sched.flash_busy_ns, sched.kernel_busy_ns) == (50, 150)
    assert dense_closed_form_ns(5, 2, 10, 30) == 120


def test_flash_bound_by_hand():
    # F = 30, C = 10: the flash never idles after t = 0; the last compute ends at 5 x 30 + 10
    assert run_tasks(5, 2, (("flash", 30), ("compute", 10))).makespan_ns == 160
    assert dense_closed_form_ns(5, 2, 30, 10) == 160


def test_large_layer_uses_the_period_and_matches_the_closed_form():
    for f, c in ((136538, 160853), (136538, 60000), (7, 7)):
        for n in (1, 2, 3, 2560, 10240, 10241):
            assert run_tasks(n, 2, (("flash", f), ("compute", c))).makespan_ns == dense_closed_form_ns(n, 2, f, c)


@settings(max_examples=150, deadline=None)
@given(n=st.integers(1, 120), k=st.integers(1, 4),
       phases=st.lists(st.tuples(st.sampled_from(["flash", "compute"]), st.integers(0, 40)), min_size=1, max_size=5))
def test_solver_equals_phase_by_phase_reference(n, k, phases):
    assert run_tasks(n, k, phases).makespan_ns == engine_reference(n, k, phases)


def test_task_work_of_opt13b_by_hand():
    spec = resolve_arch("instinfer")
    s = decode_shape(load_workload("opt-13b", phase="decode", batch=1, seq_len=1536))
    t = dense_task(spec, s)
    # 2 x 95 pages over 8 channels x 8 dies: 24 pages on channel 0 = 3 rounds, die-bound:
    # 3 (tR + x) + 7x = 3 x 35760 + 10 x 2925.71 = 136537.1 ns
    assert t.flash_pages == 190
    assert t.phases[0] == ("flash", 136538)
    # 4 x 1536 x 128 FLOPs at 13.3 GFLOPS + 1536 softmax elements at 15.1 M/s = 160852.1 ns
    assert t.phases[1] == ("compute", 160853)
    sp = sparse_task(spec.replace(sparse=True), s)
    assert [k for k, _ in sp.phases] == ["compute", "flash", "compute", "flash", "compute"]
    assert sp.flash_pages == 16 + 12
    assert sp.flash_ns < t.flash_ns and sp.compute_ns < t.compute_ns
    # phase 1 compute: approximate scores over 16 channels, softmax and arg-top-k over 1536 tokens
    assert sp.phases[2][1] == pytest.approx((2 * 16 * 1536 / 13.3e9 + 1536 / 15.1e6 + 1536 / 285e6) * 1e9, abs=1)
