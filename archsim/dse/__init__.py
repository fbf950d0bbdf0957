"""Design-space exploration: sweeps over specs, a resumable result store, executors, Pareto fronts
and op-trace replay. See docs/dse.md.

    >>> from archsim.dse import build_sweep, run_sweep, pareto_front          # doctest: +SKIP
    >>> spec = build_sweep({"arch": "tpu-like-128", "workloads": ["resnet50"],
    ...                     "axes": {"rows": [64, 128], "cols": [64, 128]}})  # doctest: +SKIP
    >>> run = run_sweep(spec, "runs/sweep", workers=2)                        # doctest: +SKIP
    >>> pareto_front(run.rows, "energy_pj", "cycles")                         # doctest: +SKIP
"""

from archsim.dse.area import AreaModel
from archsim.dse.axes import Axis
from archsim.dse.evaluate import evaluate_point, run_chunk
from archsim.dse.executors import DaskExecutor, LocalExecutor, make_executor
from archsim.dse.pareto import pareto_front, pareto_mask
from archsim.dse.replay import ReplayResult, replay
from archsim.dse.spec import DesignPoint, SweepSpec, build_sweep, load_sweep
from archsim.dse.store import Store
from archsim.dse.sweep import SweepRun, open_sweep, run_sweep
from archsim.dse.workloads import WorkloadRef

__all__ = [
    "AreaModel",
    "Axis",
    "DaskExecutor",
    "DesignPoint",
    "LocalExecutor",
    "ReplayResult",
    "Store",
    "SweepRun",
    "SweepSpec",
    "WorkloadRef",
    "build_sweep",
    "evaluate_point",
    "load_sweep",
    "make_executor",
    "open_sweep",
    "pareto_front",
    "pareto_mask",
    "replay",
    "run_chunk",
    "run_sweep",
]
