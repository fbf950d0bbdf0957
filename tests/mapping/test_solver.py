"""The solver facade: limits on every call, statuses as results (never exceptions), the greedy
plan as a complete hint, and reproducible answers."""

import json

from ortools.sat.python import cp_model

from archsim.mapping.api import map_graph
from archsim.mapping.baselines import belady
from archsim.mapping.mapping_file import mapping_document, render_mapping
from archsim.mapping.model import CosmaModel, steps_of_plan
from archsim.mapping.optimize import MapOptions, optimize
from archsim.mapping.plan import evaluate
from archsim.mapping.problem import MemProblem
from archsim.mapping.solver import SolverOptions, solve
from archsim.mapping.synthetic import family_graph


def test_optimal_status_with_objective_and_bound():
    m = cp_model.CpModel()
    x = m.new_int_var(0, 10, "x")
    y = m.new_int_var(0, 10, "y")
    m.add(x + 2 * y >= 7)
    m.minimize(3 * x + 4 * y)  # optimum by hand: y = 3, x = 1 -> 15 (y = 4 -> 16; x = 7 -> 21)
    st, solver = solve(m, SolverOptions(time_limit_s=5))
    assert (st.status, st.objective, st.best_bound, st.gap) == ("OPTIMAL", 15.0, 15.0, 0.0)
    assert st.time_limit_s == 5 and st.wall_time_s >= 0 and st.relative_gap_limit == 0


def test_infeasible_model_is_a_status():
    m = cp_model.CpModel()
    x = m.new_int_var(0, 3, "x")
    m.add(x >= 5)
    m.minimize(x)
    st, _ = solve(m, SolverOptions(time_limit_s=5))
    assert (st.status, st.objective, st.best_bound) == ("INFEASIBLE", None, None)
    assert not st.has_solution


def test_time_out_before_any_solution_is_a_status():
    p = MemProblem.from_graph(family_graph("nas", 200, 0), 1 << 40)
    p = p.with_scratchpad(p.single_op_min_bytes)
    model = CosmaModel(p, list(p.default_order))
    st, _ = solve(model.m, SolverOptions(time_limit_s=0.0))
    assert st.status == "TIMEOUT" and st.objective is None


def test_infeasible_scratchpad_is_a_result():
    g = family_graph("transformer", 14, 0)
    p = MemProblem.from_graph(g, 1 << 40)
    small = p.with_scratchpad(p.single_op_min_bytes - 1)
    r = optimize(small, MapOptions(time_limit_s=5))
    assert r.status == "INFEASIBLE" and r.plan is None and r.cost is None
    assert "needs" in r.notes[0] and str(p.single_op_min_bytes) in r.notes[0]
    doc = mapping_document(r)
    assert doc["status"] == "INFEASIBLE" and doc["schedule"] == [] and doc["solve"]["status"] == "INFEASIBLE"


def test_timeout_keeps_the_best_baseline_plan():
    g = family_graph("nas", 120, 0)
    r = map_graph(g, "M_R", options=MapOptions(time_limit_s=0.0))
    assert r.status == "TIMEOUT"
    assert r.source == r.best_baseline.name
    assert r.cost.non_compulsory_bytes == r.best_baseline.cost.non_compulsory_bytes
    assert r.stats.best_bound == 0.0 and r.stats.gap == 1.0


def test_greedy_plan_is_a_complete_feasible_hint():
    """The Belady plan, turned into values of every model variable, is a solution of the model:
    fixing all variables to the hint, CP-SAT accepts it and its objective is the plan's own
    non-compulsory traffic as the independent checker prices it."""
    g = family_graph("nas", 30, 1)
    p0 = MemProblem.from_graph(g, 1 << 40)
    p = p0.with_scratchpad(p0.single_op_min_bytes)
    plan, _ = belady(p, p.default_order)
    cost = evaluate(p, plan).non_compulsory_bytes
    for addresses in (True, False):
        model = CosmaModel(p, list(p.default_order), addresses=addresses)
        sp = steps_of_plan(p, plan, 0, p.n_ops)
        assert model.cost_of(sp) == cost
        st, _ = solve(model.m, SolverOptions(time_limit_s=10), hint=model.hint_from_steps(sp),
                      parameters={"fix_variables_to_their_hinted_value": True})
        assert st.status == "OPTIMAL" and st.objective == cost


def test_the_hint_is_recorded_and_beaten():
    g = family_graph("nas", 30, 1)
    r = map_graph(g, "M_R", options=MapOptions(time_limit_s=10))
    assert r.stats.hint_objective == r.best_baseline.cost.non_compulsory_bytes
    assert r.cost.non_compulsory_bytes <= r.stats.hint_objective


def _stable(doc):
    """The document without its wall-clock fields (the only ones that vary between runs)."""
    if isinstance(doc, dict):
        return {k: _stable(v) for k, v in doc.items() if "wall_time" not in k}
    if isinstance(doc, list):
        return [_stable(v) for v in doc]
    return doc


def test_same_inputs_same_mapping():
    g = family_graph("branchy", 40, 2)
    a = mapping_document(map_graph(g, "M_H", options=MapOptions(time_limit_s=5)))
    b = mapping_document(map_graph(g, "M_H", options=MapOptions(time_limit_s=5)))
    assert not a["solve"]["wall_limited"]
    assert render_mapping(_stable(a)) == render_mapping(_stable(b))
    assert json.loads(render_mapping(a))["schedule"] == a["schedule"]


def test_fixed_schedule_mode():
    """COSMA FS (§III-E2): the same model with the order fixed. On the order of a proven joint
    optimum it reaches that optimum; on any order it can do no better."""
    g = family_graph("branchy", 30, 0)
    r = map_graph(g, "M_R", options=MapOptions(time_limit_s=10))
    p = r.problem
    for order, expect_equal in ((list(r.plan.order), True), (list(p.default_order), False)):
        model = CosmaModel(p, order, fixed_order=True)
        st, _ = solve(model.m, SolverOptions(time_limit_s=10))
        assert st.status == "OPTIMAL" and st.objective >= r.cost.non_compulsory_bytes
        if expect_equal:
            assert st.objective == r.cost.non_compulsory_bytes
