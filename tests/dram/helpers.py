"""Shared by the tests that compare the fast DRAM controller with the cycle-stepped reference."""

from archsim.hw.dram.standard import load_standard


def assert_equal(ref, fast):
    """Same commands at the same cycles and the same figures."""
    assert len(ref.log) > 0
    for i, (a, b) in enumerate(zip(ref.log, fast.log)):
        assert a == b, f"command {i}: reference {a} != fast {b}"
    assert len(ref.log) == len(fast.log)
    assert ref.total_cycles == fast.total_cycles
    assert ref.commands == fast.commands
    assert (ref.done_cycle == fast.done_cycle).all() and (ref.accept_cycle == fast.accept_cycle).all()
    assert (ref.row_hits, ref.row_misses, ref.row_conflicts) == (fast.row_hits, fast.row_misses, fast.row_conflicts)
    assert ref.active_cycles == fast.active_cycles
    assert (ref.forwarded_reads, ref.coalesced_writes) == (fast.forwarded_reads, fast.coalesced_writes)


def small(name, short_refresh=False, ranks=None):
    """A preset with (optionally) refresh every ~150 cycles so short traces see many refreshes."""
    s = load_standard(name)
    if short_refresh:
        t = dict(s.timing_cycles, tREFI=137 + s.t("tRFC") // 4, tRFC=min(s.t("tRFC"), 60))
        if s.t("tREFIpb"):
            t.update(tREFIpb=61, tRFCpb=15, tRREFD=min(s.t("tRREFD"), 20))
        s = s.replace(timing_cycles=t)
    if ranks:
        s = s.replace(ranks=ranks)
    return s
