"""The one door to OR-Tools CP-SAT: every solve has a time limit and a relative gap and returns a
:class:`SolveStats`; infeasible and timed-out solves are results, never exceptions.

Statuses:

* ``OPTIMAL``: the objective equals the proven bound;
* ``FEASIBLE``: a solution, stopped by the time limit or the relative gap (``gap`` says how far
  from the bound it may be);
* ``INFEASIBLE``: proven to have no solution;
* ``TIMEOUT``: the time limit passed before any solution was found.

Limits: ``time_limit_s`` is the solve's budget and ``wall_cap_s`` a hard wall-clock cap. With
``deterministic=True`` (the default) the budget is spent as CP-SAT deterministic time
(``max_deterministic_time = time_limit_s * DET_UNITS_PER_S``) on one worker, so the same model,
hint and seed give the same answer on any machine, unless the wall cap fires first
(``wall_limited`` says so). With ``deterministic=False`` the budget is wall-clock seconds and
``workers`` threads race (not reproducible). Parameters are those of OR-Tools'
``sat_parameters.proto`` (``max_deterministic_time``, ``max_time_in_seconds``,
``relative_gap_limit``, ``num_workers``, ``random_seed``).
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from ortools.sat.python import cp_model

STATUSES = ("OPTIMAL", "FEASIBLE", "INFEASIBLE", "TIMEOUT")


#: CP-SAT deterministic work units per second of budget, calibrated on the 2-core reference
#: machine so a deterministic solve takes about its budget in wall seconds: one unit took
#: 6.5-22 s (median about 10 s) with the address models and 3.3-8.4 s with the capacity models
#: (:data:`CAPACITY_DET_UNITS_PER_S`); benchmarks/bench_mapping.py prints the ratio it sees.
DET_UNITS_PER_S = 0.1
CAPACITY_DET_UNITS_PER_S = 0.2
#: CP-SAT parameters used for every solve: probing during presolve off (measured on the mapping
#: models: 1.5-2x less time to the same proven optimum on 200-op graphs).
DEFAULT_PARAMETERS: dict[str, Any] = {"cp_model_probing_level": 0}


@dataclass(frozen=True)
class SolverOptions:
    """Limits of one solve: ``time_limit_s`` (budget, seconds), ``wall_cap_s`` (hard wall-clock
    cap, default the budget), the relative gap at which to stop (0 = prove optimality), worker
    threads (used when not deterministic) and the random seed."""

    time_limit_s: float = 10.0
    relative_gap: float = 0.0
    workers: int = 1
    seed: int = 0
    deterministic: bool = True
    wall_cap_s: float | None = None
    det_units_per_s: float = DET_UNITS_PER_S

    def __post_init__(self) -> None:
        if not (self.time_limit_s >= 0 and math.isfinite(self.time_limit_s)):
            raise ValueError(f"time_limit_s must be a finite number >= 0, got {self.time_limit_s!r}")
        if not 0 <= self.relative_gap < 1:
            raise ValueError(f"relative_gap must be in [0, 1), got {self.relative_gap!r}")
        if self.workers < 1:
            raise ValueError(f"workers must be >= 1, got {self.workers!r}")

    @property
    def wall_limit_s(self) -> float:
        cap = self.time_limit_s if self.wall_cap_s is None else self.wall_cap_s
        return cap if self.deterministic else min(self.time_limit_s, cap)


@dataclass
class SolveStats:
    """Outcome of one solve (or of a sequence of solves, see :func:`combine`).

    ``objective`` and ``best_bound`` are in the model's objective unit (bytes of traffic for the
    mapping models); ``gap`` is ``(objective - bound) / max(objective, 1)``.
    """

    status: str
    objective: float | None
    best_bound: float | None
    wall_time_s: float
    time_limit_s: float
    relative_gap_limit: float
    deterministic: bool = True
    deterministic_time: float = 0.0
    wall_limited: bool = False
    hint_objective: float | None = None
    solves: int = 1
    budget_used_s: float = 0.0  # budget seconds spent: deterministic work converted back, or wall
    notes: list[str] = field(default_factory=list)

    @property
    def gap(self) -> float | None:
        if self.objective is None or self.best_bound is None:
            return None
        return max(0.0, self.objective - self.best_bound) / max(abs(self.objective), 1.0)

    @property
    def has_solution(self) -> bool:
        return self.status in ("OPTIMAL", "FEASIBLE")

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["gap"] = self.gap
        return d


def solve(model: cp_model.CpModel, options: SolverOptions, *,
          hint: Mapping[Any, int] | None = None,
          hint_objective: float | None = None,
          parameters: Mapping[str, Any] | None = None) -> tuple[SolveStats, cp_model.CpSolver]:
    """Solve ``model`` within ``options``; ``hint`` maps model variables to values (a complete
    hint lets CP-SAT start from that solution). ``parameters`` sets extra CP-SAT parameters."""
    if hint:
        model.clear_hints()
        for var, value in hint.items():
            model.add_hint(var, int(value))
    solver = cp_model.CpSolver()
    p = solver.parameters
    p.random_seed = options.seed
    p.relative_gap_limit = options.relative_gap
    p.max_time_in_seconds = max(0.0, options.wall_limit_s)
    if options.deterministic:
        p.num_workers = 1
        p.max_deterministic_time = options.time_limit_s * options.det_units_per_s
    else:
        p.num_workers = options.workers
    for k, v in {**DEFAULT_PARAMETERS, **(parameters or {})}.items():
        setattr(p, k, v)
    t0 = time.perf_counter()
    code = solver.solve(model)
    wall = time.perf_counter() - t0
    has_obj = model.has_objective()
    if code == cp_model.MODEL_INVALID:
        raise RuntimeError(f"CP-SAT rejected the model: {model.validate()}")
    if code in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        obj = float(solver.objective_value) if has_obj else 0.0
        bound = float(solver.best_objective_bound) if has_obj else 0.0
        status = "OPTIMAL" if (not has_obj or obj <= bound + 1e-9) else "FEASIBLE"
    elif code == cp_model.INFEASIBLE:
        status, obj, bound = "INFEASIBLE", None, None
    else:
        status, obj = "TIMEOUT", None
        bound = float(solver.best_objective_bound) if has_obj else None
        if bound is not None and not math.isfinite(bound):
            bound = None
    dtime = float(solver.deterministic_time)
    wall_limited = options.deterministic and status in ("FEASIBLE", "TIMEOUT") \
        and dtime < p.max_deterministic_time * 0.999 and wall >= p.max_time_in_seconds * 0.98
    used = min(dtime / options.det_units_per_s, options.time_limit_s) if options.deterministic else wall
    stats = SolveStats(status, obj, bound, wall, options.time_limit_s, options.relative_gap, options.deterministic,
                       dtime, wall_limited, hint_objective, budget_used_s=used)
    return stats, solver


def combine(parts: list[SolveStats]) -> SolveStats:
    """One SolveStats for solves of disjoint parts whose objectives and bounds add up (segments).
    ``OPTIMAL`` only if every part is; ``TIMEOUT`` if no part found a solution."""
    if not parts:
        return SolveStats("OPTIMAL", 0.0, 0.0, 0.0, 0.0, 0.0, solves=0)
    statuses = {p.status for p in parts}
    if "INFEASIBLE" in statuses:
        status = "INFEASIBLE"
    elif statuses == {"OPTIMAL"}:
        status = "OPTIMAL"
    elif statuses & {"OPTIMAL", "FEASIBLE"}:
        status = "FEASIBLE"
    else:
        status = "TIMEOUT"
    objs = [p.objective for p in parts]
    bounds = [p.best_bound for p in parts]
    return SolveStats(
        status,
        None if any(o is None for o in objs) else float(sum(objs)),
        None if any(b is None for b in bounds) else float(sum(bounds)),
        wall_time_s=sum(p.wall_time_s for p in parts),
        time_limit_s=sum(p.time_limit_s for p in parts),
        relative_gap_limit=parts[0].relative_gap_limit,
        deterministic=all(p.deterministic for p in parts),
        deterministic_time=sum(p.deterministic_time for p in parts),
        wall_limited=any(p.wall_limited for p in parts),
        solves=sum(p.solves for p in parts),
        budget_used_s=sum(p.budget_used_s for p in parts),
    )
