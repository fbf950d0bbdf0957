"""Divide and conquer: segments solved in turn and stitched, with the gap to the bound reported."""

import pytest

from archsim.mapping.api import map_graph
from archsim.mapping.optimize import MapOptions
from archsim.mapping.plan import evaluate
from archsim.mapping.segments import articulation_ops, cut_segments
from archsim.mapping.synthetic import family_graph


def test_articulation_ops_of_a_transformer():
    """Every residual add is comparable with every op: one per half layer (14 ops a layer)."""
    from archsim.mapping.problem import MemProblem

    g = family_graph("transformer", 28, 0)
    p = MemProblem.from_graph(g, 1)
    names = {p.op_names[v] for v in articulation_ops(p)}
    assert {"l0.add1", "l0.add2", "l1.add1", "l1.add2"} <= names
    assert "l0.q" not in names and "l0.score" not in names
    segs, all_art = cut_segments(p, p.default_order, 10)
    assert all_art and segs[0][0] == 0 and segs[-1][1] == 28
    assert all(p.op_names[p.default_order[e - 1]] in names for _, e in segs[:-1])


def test_divide_at_articulation_ops_proves_optimality():
    g = family_graph("transformer", 70, 0)
    d = map_graph(g, "M_R", options=MapOptions(time_limit_s=20, method="divide", segment_ops=14))
    j = map_graph(g, "M_R", options=MapOptions(time_limit_s=20, method="joint"))
    assert d.method == "divide" and len(d.segments) == 5
    assert d.status == j.status == "OPTIMAL"
    assert d.cost.non_compulsory_bytes == j.cost.non_compulsory_bytes == d.bound_bytes > 0
    assert sum(r["bound_bytes"] for r in d.segments) == d.bound_bytes
    assert sum(r["share_bytes"] for r in d.segments) == d.cost.non_compulsory_bytes


def test_divide_without_articulation_ops_reports_its_gap():
    g = family_graph("nas", 80, 0)
    d = map_graph(g, "M_R", options=MapOptions(time_limit_s=20, method="divide", segment_ops=20))
    j = map_graph(g, "M_R", options=MapOptions(time_limit_s=20, method="joint"))
    assert j.status == "OPTIMAL"
    obj = d.cost.non_compulsory_bytes
    seg = d.segment_bound_bytes
    assert seg is not None and len(d.segments) >= 4
    # the stitched plan is valid, no better than the proven optimum, and the segment bound is
    # the sum of per-segment bounds, each at most that segment's share of the traffic
    assert evaluate(d.problem, d.plan).non_compulsory_bytes == obj >= j.cost.non_compulsory_bytes
    assert seg == sum(r["bound_bytes"] for r in d.segments)
    for r in d.segments:  # a bound covers a block of segments and is at most their traffic
        if "bound_block" in r:
            lo, hi = r["bound_block"]
            assert r["bound_bytes"] <= sum(x["share_bytes"] for x in d.segments if lo <= x["start_step"] < hi)
    assert sum(r["share_bytes"] for r in d.segments) == obj
    assert d.segment_gap == pytest.approx((obj - seg) / obj)
    # without articulation cuts the all-schedules bound is the trivial one
    assert d.bound_bytes == 0 and d.stats.gap == 1.0 and d.status == "FEASIBLE"
    assert any("segments in sequence" in n for n in d.notes)
    assert obj < d.best_baseline.cost.non_compulsory_bytes
