"""From workload graph to mapping: lowering ops to GEMMs (:mod:`.gemm`) and the scratchpad
optimizer (COSMA: schedule, addresses and spills with OR-Tools CP-SAT; docs/mapping.md).

The optimizer's names are loaded on first use, so importing :mod:`archsim.mapping.gemm` (as the
hardware models do) does not import the solver.
"""

from __future__ import annotations

import importlib
from typing import Any

_LAZY = {
    "map_graph": "archsim.mapping.api",
    "mem_problem": "archsim.mapping.api",
    "parse_scratchpad": "archsim.mapping.api",
    "MapOptions": "archsim.mapping.optimize",
    "MappingResult": "archsim.mapping.optimize",
    "optimize": "archsim.mapping.optimize",
    "MemProblem": "archsim.mapping.problem",
    "Plan": "archsim.mapping.plan",
    "evaluate": "archsim.mapping.plan",
    "SolveStats": "archsim.mapping.solver",
    "SolverOptions": "archsim.mapping.solver",
    "load_mapping": "archsim.mapping.mapping_file",
    "mapping_document": "archsim.mapping.mapping_file",
    "write_mapping": "archsim.mapping.mapping_file",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    mod = _LAZY.get(name)
    if mod is None:
        raise AttributeError(f"module 'archsim.mapping' has no attribute {name!r}")
    return getattr(importlib.import_module(mod), name)
