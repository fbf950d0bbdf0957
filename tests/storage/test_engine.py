"""The attention engine's kernels x flash schedule: timelines derived by hand (serial and
double-buffered kernels, draining and per-die flash queues), the closed form, and the
period-jumping solver against the phase-by-phase reference."""

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


def test_double_buffered_two_tasks_by_hand():
    # one kernel, two buffers, fetch latency F = 10, array occupancy S = 4, compute C = 30.
    # Both tasks start at 0: task 0's batch starts at 0 (ready 10); the array takes task 1's
    # batch at 4 (ready 14). The kernel computes task 0 in [10, 40], task 1 in [40, 70].
    phases = (("flash", 10, 4), ("compute", 30))
    assert run_tasks(2, 1, phases, buffers=2).makespan_ns == 70
    assert engine_reference(2, 1, phases, buffers=2) == 70
    assert dense_closed_form_ns(2, 1, 10, 30, 4, 2) == 70
    # a single buffer: fetch, compute, fetch, compute = 10 + 30 + 10 + 30
    assert run_tasks(2, 1, phases, buffers=1).makespan_ns == 80
    # short compute (C = 2): task 0 computes [10, 12], task 1 waits for its data (14) -> 16
    assert run_tasks(2, 1, (("flash", 10, 4), ("compute", 2)), buffers=2).makespan_ns == 16
    # a draining array (S = F): task 1's batch starts at 10, ready 20 -> compute [20, 22]
    assert run_tasks(2, 1, (("flash", 10), ("compute", 2)), buffers=2).makespan_ns == 22


def test_double_buffered_five_tasks_on_two_kernels_by_hand():
    # K = 2, B = 2, F = 10, S = 6, C = 30. Tasks 0..3 start at 0 (task i on kernel i mod 2); the
    # array takes their batches at 0, 6, 12, 18 (ready 10, 16, 22, 28). Kernel 0: task 0 [10, 40],
    # task 2 [40, 70]; kernel 1: task 1 [16, 46], task 3 [46, 76]. Task 4 takes task 0's buffer at
    # 40: batch [40, ready 50], computes on kernel 0 after task 2: [70, 100].
    phases = (("flash", 10, 6), ("compute", 30))
    sched = run_tasks(5, 2, phases, buffers=2)
    assert sched.makespan_ns == 100 == engine_reference(5, 2, phases, buffers=2)
    assert (sched.flash_busy_ns, sched.kernel_busy_ns) == (5 * 6, 5 * 30)
    # closed form: n - 1 = 2 K + 0; kernel-bound path 0 S + 2 C + F + C = 100
    assert dense_closed_form_ns(5, 2, 10, 30, 6, 2) == 100


def test_double_buffering_is_limited_by_latency_with_small_batches():
    # F = 40 dominates (tR of a small batch), S = 2, C = 4: with K B = 4 buffers the array and the
    # kernels idle; each buffer cycles F + C per task: tasks 0, 4, 8 on one buffer end at 3 x 44.
    phases = (("flash", 40, 2), ("compute", 4))
    assert run_tasks(9, 2, phases, buffers=2).makespan_ns == 3 * 44
    assert dense_closed_form_ns(9, 2, 40, 4, 2, 2) == 132


@settings(max_examples=150, deadline=None)
@given(n=st.integers(1, 120), k=st.integers(1, 4), b=st.integers(1, 3), f=st.integers(0, 50), s=st.integers(0, 50),
       c=st.integers(0, 50))
def test_dense_closed_form_equals_solver_and_reference(n, k, b, f, s, c):
    s = min(s, f)
    phases = (("flash", f, s), ("compute", c))
    cf = dense_closed_form_ns(n, k, f, c, s, b)
    assert run_tasks(n, k, phases, b).makespan_ns == cf == engine_reference(n, k, phases, b)


_phase = st.one_of(st.tuples(st.just("compute"), st.integers(0, 40)),
                   st.tuples(st.just("flash"), st.integers(0, 40)),
                   st.integers(0, 40).flatmap(lambda f: st.tuples(st.just("flash"), st.just(f), st.integers(0, f))))


@settings(max_examples=150, deadline=None)
@given(n=st.integers(1, 120), k=st.integers(1, 4), b=st.integers(1, 3), phases=st.lists(_phase, min_size=1, max_size=5))
def test_solver_equals_phase_by_phase_reference(n, k, b, phases):
    assert run_tasks(n, k, phases, b).makespan_ns == engine_reference(n, k, phases, b)


def test_task_work_of_opt13b_by_hand():
    spec = resolve_arch("instinfer")
    s = decode_shape(load_workload("opt-13b", phase="decode", batch=1, seq_len=1536))
    t = dense_task(spec, s)
    # 2 x 95 pages over 8 channels x 8 dies: 24 pages on channel 0 = 3 rounds, die-bound:
    # 3 (tR + x) + 7x = 3 x 35760 + 10 x 2925.71 = 136537.1 ns
    # Streaming (per-die queues), the batch occupies the array for its share of the die-bound
    # rate: 190 / 8 channels x (tR + x) / 8 dies = 23.75 x 4835.71 = 114848.2 ns
    assert t.flash_pages == 190
    assert t.phases[0] == ("flash", 136538, 114849)
    assert dense_task(spec.replace(flash_queueing="batch"), s).phases[0] == ("flash", 136538, 136538)
    # 4 x 1536 x 128 FLOPs at 13.3 GFLOPS + 1536 softmax elements at 15.1 M/s = 160852.1 ns
    assert t.phases[1] == ("compute", 160853)
    sp = sparse_task(spec.replace(sparse=True), s)
    assert [ph[0] for ph in sp.phases] == ["compute", "flash", "compute", "flash", "compute"]
    assert sp.flash_pages == 16 + 12
    assert sp.flash_ns < t.flash_ns and sp.compute_ns < t.compute_ns
    # phase 1 compute: approximate scores over 16 channels, softmax and arg-top-k over 1536 tokens
    assert sp.phases[2][1] == pytest.approx((2 * 16 * 1536 / 13.3e9 + 1536 / 15.1e6 + 1536 / 285e6) * 1e9, abs=1)
