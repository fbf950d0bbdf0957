"""The optimizer against exhaustive search (tests/mapping/bruteforce.py, which enumerates every
schedule, eviction, reload and address independently of archsim.mapping) on small graphs."""

import random

import pytest

from archsim.mapping.optimize import MapOptions, optimize
from archsim.mapping.problem import MemProblem
from archsim.workload.importers.plain_graph import plain_graph

from .bruteforce import brute_force

UNIT = 1024  # bytes per size unit of the reference search

#: (seed, extra units above M_R): instances with a non-zero optimum that the reference solves in
#: under a second (found by scanning seeds 100-191)
CASES = [(104, 0), (116, 0), (116, 1), (121, 0), (123, 0), (123, 1), (140, 0), (145, 0), (150, 0), (156, 0),
         (170, 0), (173, 0), (187, 0), (188, 0), (189, 0), (191, 0)]


def random_doc(seed: int) -> dict:
    """4-5 ops, each reading one or two earlier values (or the input), sizes 1-3 units."""
    rng = random.Random(seed)
    n = rng.choice([4, 5, 5])
    x_bytes = rng.randint(1, 2) * UNIT
    ops, edges, names = [], [], []
    for i in range(n):
        name = f"v{i}"
        pool = names + ["x"] if names else ["x"]
        for s in set(rng.sample(pool, min(len(pool), rng.randint(1, 2)))):
            edges.append([s, name])
        ops.append({"name": name, "output_bytes": rng.randint(1, 3) * UNIT, "weight_bytes": rng.choice([0, 0, 1]) * UNIT})
        names.append(name)
    return {"name": f"bf{seed}", "inputs": {"x": x_bytes}, "ops": ops, "edges": edges}


def reference_inputs(p: MemProblem):
    return ([list(p.op_inputs[v]) for v in range(p.n_ops)], [list(p.op_outputs[v]) for v in range(p.n_ops)],
            [t.size_bytes // UNIT for t in p.tensors], {a for a, t in enumerate(p.tensors) if t.external},
            {a for a, t in enumerate(p.tensors) if t.kind == "output"})


def case(seed: int, extra: int) -> tuple[MemProblem, int]:
    p0 = MemProblem.from_graph(plain_graph(random_doc(seed)), 1 << 30)
    cap = p0.single_op_min_bytes + extra * UNIT
    return p0.with_scratchpad(cap), cap // UNIT


@pytest.mark.parametrize("seed,extra", CASES)
def test_ilp_equals_exhaustive_optimum(seed, extra):
    p, cap_units = case(seed, extra)
    best = brute_force(*reference_inputs(p), cap_units, prefetch=False)
    assert best is not None and best > 0
    r = optimize(p, MapOptions(time_limit_s=20, method="joint"))
    assert r.status == "OPTIMAL"
    assert r.cost.non_compulsory_bytes == best * UNIT
    assert r.bound_bytes == best * UNIT and not any("inconsistency" in n for n in r.notes)
    # every baseline is a valid plan, so none can beat the optimum
    for b in r.baselines.values():
        if b.cost is not None:
            assert b.cost.non_compulsory_bytes >= best * UNIT


def test_some_cases_beat_every_baseline():
    wins = 0
    for seed, extra in CASES:
        p, _ = case(seed, extra)
        r = optimize(p, MapOptions(time_limit_s=20, method="joint"))
        wins += r.cost.non_compulsory_bytes < r.best_baseline.cost.non_compulsory_bytes
    assert wins >= 8


@pytest.mark.parametrize("seed,extra", [(104, 0), (123, 1), (140, 0), (173, 0), (189, 0)])
def test_prefetching_never_beats_loading_at_use(seed, extra):
    """The reference with prefetch loads (any tensor with a DRAM copy loaded at any step) finds
    nothing better: the model's rule 'load only at a step that reads it' loses no optimum."""
    p, cap_units = case(seed, extra)
    args = reference_inputs(p)
    assert brute_force(*args, cap_units, prefetch=True) == brute_force(*args, cap_units, prefetch=False)


def test_hand_derived_chain_with_skip():
    """x(1) -> a(2) -> b(2) -> c(1), and c also reads a (sizes in units). Working sets: a: x+a = 3,
    b: a+b = 4, c: a+b+c = 5, so M_R = 5 units; with 5 units every step fits with nothing else
    resident (x is dead after a): no non-compulsory traffic; compulsory: x loaded (1) and c
    stored (1)."""
    doc = {"name": "hand", "inputs": {"x": UNIT},
           "ops": [{"name": "a", "output_bytes": 2 * UNIT}, {"name": "b", "output_bytes": 2 * UNIT},
                   {"name": "c", "output_bytes": UNIT}],
           "edges": [["x", "a"], ["a", "b"], ["b", "c"], ["a", "c"]]}
    p = MemProblem.from_graph(plain_graph(doc), 5 * UNIT)
    assert p.single_op_min_bytes == 5 * UNIT
    r = optimize(p, MapOptions(time_limit_s=5))
    assert (r.status, r.cost.non_compulsory_bytes, r.cost.compulsory_bytes) == ("OPTIMAL", 0, 2 * UNIT)


def test_hand_derived_forced_reload():
    """x(1) -> a(2) -> b(2) -> c(1) -> d(1), and d also reads x; 4 units. The order is forced.
    Working sets: a 3, b 4, c 3, d x+c+d = 3, so M_R = 4. At step b, a and b fill all 4 units,
    so x (needed again by d) cannot stay; it has a DRAM copy, so dropping it is free and it is
    reloaded before d: the optimum is 1 unit, a reload, no spill."""
    doc = {"name": "reload", "inputs": {"x": UNIT},
           "ops": [{"name": "a", "output_bytes": 2 * UNIT}, {"name": "b", "output_bytes": 2 * UNIT},
                   {"name": "c", "output_bytes": UNIT}, {"name": "d", "output_bytes": UNIT}],
           "edges": [["x", "a"], ["a", "b"], ["b", "c"], ["c", "d"], ["x", "d"]]}
    p = MemProblem.from_graph(plain_graph(doc), 4 * UNIT)
    assert p.single_op_min_bytes == 4 * UNIT
    r = optimize(p, MapOptions(time_limit_s=5))
    assert r.status == "OPTIMAL"
    assert (r.cost.non_compulsory_bytes, r.cost.reload_bytes, r.cost.spill_bytes) == (UNIT, UNIT, 0)
    assert brute_force(*reference_inputs(p), 4) == 1


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(100, 140))
def test_ilp_equals_exhaustive_optimum_many(seed):
    """More graphs (zero optima included), at M_R and one unit above."""
    for extra in (0, 1):
        p, cap_units = case(seed, extra)
        best = brute_force(*reference_inputs(p), cap_units, prefetch=False)
        r = optimize(p, MapOptions(time_limit_s=20))
        assert r.status == "OPTIMAL" and r.cost.non_compulsory_bytes == best * UNIT
