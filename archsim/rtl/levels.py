"""Run one :class:`~archsim.rtl.cases.GemmTileCase` at each Python fidelity level.

Every level gets the same tile on a spec whose DRAM never stalls the array, so each reports the
tile's compute cycles (the sum of its fold times) and, where it computes values, the product:

* ``analytic``: :func:`~archsim.hw.systolic.physical.job_timing` (closed form per fold);
* ``event``: the SimPy model; the systolic unit's compute spans in the event table;
* ``cycle``: :func:`~archsim.hw.systolic.cycle.run_gemm` (PE registers and DMA per cycle);
* ``ports``: :class:`~archsim.hw.systolic.ports.ArrayPorts`, the pin-level view the RTL bench uses,
  fed beat by beat, outputs assembled from its ``out_row``/``out_data`` pins.

The RTL level is rtl/systolic_array's bench (tests/rtl/test_rtl_systolic_array.py).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from archsim.hw.systolic.physical import fold_schedule, job_timing
from archsim.hw.systolic.spec import SystolicSpec
from archsim.mapping.gemm import GemmJob, gemm_geometry
from archsim.rtl.cases import GemmTileCase

LEVELS = ("analytic", "event", "cycle", "ports")


@dataclass(frozen=True)
class LevelResult:
    level: str
    cycles: int
    out: np.ndarray | None  # None where the level computes no values
    fold_cycles: tuple[int, ...] = ()


def spec_for(case: GemmTileCase) -> SystolicSpec:
    """The array of the case, with a DRAM link that never makes it wait."""
    return SystolicSpec(rows=case.rows, cols=case.cols, dataflow=case.dataflow, dram_bytes_per_cycle=1 << 20,
                        dram_latency_cycles=0)


def _job(case: GemmTileCase) -> GemmJob:
    m, n, k = case.m, case.n, case.k
    return GemmJob(m, n, k, 1, m * k, k * n, m * n, gemm_geometry(m, n, k))


def analytic(case: GemmTileCase) -> LevelResult:
    spec = spec_for(case)
    sched = fold_schedule(_job(case), spec)
    return LevelResult("analytic", int(job_timing(sched, 1, spec).compute_cycles), None,
                       tuple(int(c) for c in sched.compute_cycles))


def event(case: GemmTileCase) -> LevelResult:
    from archsim.hw.systolic.model import simulate
    from archsim.workload.graph import Graph, Op, OpKind, Tensor

    g = Graph("tile")
    a = Tensor("a", (1, case.m, case.k), "int8", "input")
    b = Tensor("b", (case.k, case.n), "int8", "weight")
    c = Tensor("c", (1, case.m, case.n), "int32", "activation")
    g.add_op(Op("mm", OpKind.MATMUL, (a, b), (c,), {"batch": 1, "m": case.m, "n": case.n, "k": case.k}))
    res = simulate(g, spec_for(case), level="event")
    cols = res.events.select(unit="systolic", kind="compute").columns()
    spans = cols["end_cycle"] - cols["start_cycle"]
    return LevelResult("event", int(spans.sum()), None, tuple(int(s) for s in spans))


def cycle(case: GemmTileCase) -> LevelResult:
    from archsim.hw.systolic.cycle import run_gemm

    spec = spec_for(case)
    res = run_gemm([case.a], [case.b], fold_schedule(_job(case), spec), spec)
    return LevelResult("cycle", int(sum(res.fold_cycles)), res.outputs[0], tuple(res.fold_cycles))


def ports(case: GemmTileCase) -> LevelResult:
    from archsim.hw.systolic.ports import ArrayPorts, place_row, tile_folds

    array = ArrayPorts(case.rows, case.cols)
    out = np.zeros((case.m, case.n), np.int64)
    folds = []
    for fold in tile_folds(case.a, case.b, case.dataflow, case.rows, case.cols):
        array.start_fold(case.dataflow, fold.stream, fold.stationary_or_b, fold.real_rows, fold.real_cols)
        n = 0
        while True:
            _, pins = array.step()
            n += 1
            if pins["out_valid"]:
                place_row(out, case.dataflow, fold, pins["out_row"], pins["out_data"])
            if pins["done"]:
                break
        folds.append(n)
    return LevelResult("ports", sum(folds), out, tuple(folds))


def run_level(case: GemmTileCase, level: str) -> LevelResult:
    return {"analytic": analytic, "event": event, "cycle": cycle, "ports": ports}[level](case)
