"""The plan checker and the baselines, on hand-derived cases."""

import pytest

from archsim.mapping.baselines import belady, greedy_by_size
from archsim.mapping.plan import Plan, PlanError, Residency, evaluate
from archsim.mapping.problem import MemProblem
from archsim.workload.importers.plain_graph import plain_graph

# x(100) -> a(200) -> b(100) -> c(50); c also reads a; a has a 30-byte weight
DOC = {"name": "p", "inputs": {"x": 100},
       "ops": [{"name": "a", "output_bytes": 200, "weight_bytes": 30}, {"name": "b", "output_bytes": 100},
               {"name": "c", "output_bytes": 50}],
       "edges": [["x", "a"], ["a", "b"], ["b", "c"], ["a", "c"]]}


def problem(cap=1000):
    return MemProblem.from_graph(plain_graph(DOC), cap)


def test_transfers_of_a_plan_with_a_spill():
    """a is evicted after b and reloaded for c: one spill and one reload of 200 bytes; x and the
    weight are loaded once (compulsory), c is stored (compulsory)."""
    p = problem()
    t = p.tensor_index()
    plan = Plan.of([0, 1, 2], [Residency(t["x"], 0, 0, 0), Residency(t["a.weight"], 0, 0, 100),
                               Residency(t["a"], 0, 1, 200), Residency(t["b"], 1, 2, 400),
                               Residency(t["a"], 2, 2, 0), Residency(t["c"], 2, 2, 500)])
    c = evaluate(p, plan)
    assert (c.compulsory_load_bytes, c.compulsory_store_bytes) == (130, 50)
    assert (c.spill_bytes, c.reload_bytes, c.non_compulsory_bytes) == (200, 200, 400)
    assert c.peak_bytes == 550 and c.peak_live_bytes == 350  # step 2: a(200)+b(100)+c(50)
    kinds = [(x.step, x.when, x.kind, p.tensors[x.tensor].name) for x in c.transfers]
    assert kinds == [(0, "before", "load", "x"), (0, "before", "load", "a.weight"), (1, "after", "spill", "a"),
                     (2, "before", "reload", "a"), (2, "after", "store", "c")]


@pytest.mark.parametrize("res,order,msg", [
    ([("x", 0, 0, 0), ("a.weight", 0, 0, 100), ("a", 0, 2, 120), ("b", 1, 2, 400), ("c", 2, 2, 500)], [0, 1, 2],
     "overlap"),
    ([("x", 0, 0, 0), ("a.weight", 0, 0, 100), ("a", 0, 1, 200), ("b", 1, 2, 400), ("c", 2, 2, 500)], [0, 1, 2],
     "not resident at step 2"),
    ([("x", 0, 0, 0), ("a.weight", 0, 0, 100), ("a", 0, 2, 200), ("b", 1, 2, 400), ("c", 2, 2, 951)], [0, 1, 2],
     "inside the 1000-byte scratchpad"),
    ([("x", 0, 0, 0), ("a.weight", 0, 0, 100), ("a", 0, 2, 200), ("b", 1, 2, 400), ("c", 2, 2, 500)], [1, 0, 2],
     "before its input's producer"),
    ([("x", 0, 0, 0), ("a.weight", 0, 0, 100), ("a", 0, 2, 200), ("b", 0, 2, 400), ("c", 2, 2, 500)], [0, 1, 2],
     "before or after its creation"),
])
def test_invalid_plans(res, order, msg):
    p = problem()
    t = p.tensor_index()
    with pytest.raises(PlanError, match=msg):
        evaluate(p, Plan.of(order, [Residency(t[n], s, e, a) for n, s, e, a in res]))


def test_greedy_by_size_by_hand():
    """Lifetimes: x [0,0] 100, w [0,0] 30, a [0,2] 200, b [1,2] 100, c [2,2] 50. Largest first:
    a at 0; b (overlaps a) at 200; x (overlaps a) at 200; c (overlaps a, b) at 300; w (overlaps
    a, x) at 300. Arena 350 = the peak live bytes."""
    p = problem(350)
    g = greedy_by_size(p, p.default_order)
    t = p.tensor_index()
    addr = {r.tensor: r.addr_bytes for r in g.plan.residencies}
    assert g.fits and g.arena_bytes == 350
    assert (addr[t["a"]], addr[t["b"]], addr[t["x"]], addr[t["c"]], addr[t["a.weight"]]) == (0, 200, 200, 300, 300)
    assert not greedy_by_size(problem(349), p.default_order).fits


def test_belady_evicts_the_furthest_next_use():
    """Chain v0 -> v1 -> v2 -> v3 (100 B each) plus x(100) read by v0 and v3, y(100) read by v0
    and v2; 300 bytes. At v1 (needs v0, v1 = 200) one of x (next use 3) and y (next use 2) must
    go: Belady drops x, the furthest; x is reloaded for v3 (100 B, no spill: x is an input)."""
    doc = {"name": "b", "inputs": {"x": 100, "y": 100},
           "ops": [{"name": f"v{i}", "output_bytes": 100} for i in range(4)],
           "edges": [["x", "v0"], ["y", "v0"], ["v0", "v1"], ["v1", "v2"], ["y", "v2"], ["v2", "v3"],
                     ["x", "v3"]]}
    p = MemProblem.from_graph(plain_graph(doc), 300)
    plan, _ = belady(p, p.default_order)
    c = evaluate(p, plan)
    names = [(x.kind, p.tensors[x.tensor].name) for x in c.transfers if not x.compulsory]
    assert names == [("reload", "x")] and c.non_compulsory_bytes == 100
