"""The mapping entry point: a workload graph and a scratchpad size in, a :class:`MappingResult` out.

    >>> from archsim.mapping import map_graph, MapOptions
    >>> from archsim.workload import load_workload
    >>> res = map_graph(load_workload("resnet18"), "M_R", options=MapOptions(time_limit_s=5))  # doctest: +SKIP
    >>> res.status, res.cost.non_compulsory_bytes, res.bound_bytes                              # doctest: +SKIP

The scratchpad is a number of bytes or one of COSMA's budgets (§V-A), computed for the graph:

* ``M_R``: the largest working set of one op (inputs, weights, outputs): the smallest scratchpad
  that can run the graph at all;
* ``M_P``: the least peak memory over all schedules without eviction (min-peak order);
* ``M_H``: halfway, ``(M_R + M_P) // 2``.
"""

from __future__ import annotations

import re

from archsim.errors import InputError
from archsim.mapping.optimize import MapOptions, MappingResult, optimize
from archsim.mapping.order import min_peak_order
from archsim.mapping.problem import MemProblem
from archsim.workload.graph import Graph

BUDGETS = ("M_R", "M_P", "M_H")
_SIZE = re.compile(r"^\s*(\d+)\s*(KiB|MiB|GiB)?\s*$")
_MULT = {None: 1, "KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30}


def parse_scratchpad(text: str | int) -> int | str:
    """``1048576``, ``1024KiB``, ``1MiB`` -> bytes; ``M_R``/``M_P``/``M_H`` (any case) -> the name."""
    if isinstance(text, int) and not isinstance(text, bool):
        if text < 1:
            raise InputError("--scratchpad-bytes", None, "a positive number of bytes", text)
        return text
    s = str(text).strip()
    if s.upper() in BUDGETS:
        return s.upper()
    m = _SIZE.match(s)
    if not m or int(m.group(1)) < 1:
        raise InputError("--scratchpad-bytes", None, "a positive integer (optionally with KiB/MiB/GiB) or one of "
                         f"{', '.join(BUDGETS)}", text)
    return int(m.group(1)) * _MULT[m.group(2)]


def budget_bytes(problem: MemProblem, budget: str) -> int:
    """COSMA's budget ``M_R``, ``M_P`` or ``M_H`` of ``problem`` in bytes (see module docstring)."""
    mr = problem.single_op_min_bytes
    if budget == "M_R":
        return mr
    mp = min_peak_order(problem).peak_bytes
    return mp if budget == "M_P" else (mr + mp) // 2


def mem_problem(graph: Graph, scratchpad: int | str, *, align_bytes: int = 1,
                include_weights: bool = True) -> MemProblem:
    """The :class:`MemProblem` of ``graph`` for a scratchpad in bytes or a COSMA budget name."""
    sp = parse_scratchpad(scratchpad)
    if isinstance(sp, str):
        probe = MemProblem.from_graph(graph, 1 << 62, align_bytes=align_bytes, include_weights=include_weights)
        sp = budget_bytes(probe, sp)
    return MemProblem.from_graph(graph, sp, align_bytes=align_bytes, include_weights=include_weights)


def map_graph(graph: Graph, scratchpad: int | str, *, options: MapOptions | None = None, align_bytes: int = 1,
              include_weights: bool = True) -> MappingResult:
    """Optimise the schedule, addresses and spills of ``graph`` on a scratchpad (see module
    docstring); ``include_weights=False`` is COSMA's activations-only setting."""
    return optimize(mem_problem(graph, scratchpad, align_bytes=align_bytes, include_weights=include_weights),
                    options)
