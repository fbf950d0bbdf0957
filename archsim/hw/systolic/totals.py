"""Whole-workload analytic totals in one vectorised pass: the design-space-exploration fast path.

:func:`analytic_totals` returns exactly ``simulate(graph, spec, level="analytic").totals`` in the
physical convention (same keys, same integers, the same energy float), without per-op rows,
events or action tables. It exists because a sweep needs only the totals, thousands of times:

* the workload is lowered once (:class:`LoweredWorkload`: the unique GEMM jobs and vector ops with
  how many ops repeat each, as :func:`~archsim.hw.systolic.model.simulate` memoizes them);
* the per-fold work of every unique job (:func:`~archsim.hw.systolic.physical.fold_schedule`'s
  formulas) is computed for all jobs at once in flat numpy arrays, one repetition per job;
* identical work is evaluated once and weighted: the middle column folds of a GEMM do the same
  work, and so do the ``count`` back-to-back repetitions of a job (groups, heads). Runs of
  identical column blocks are written as first, middle (weighted) and last copies, so every
  evaluated fold keeps the neighbours it has in the full sequence and the double-buffered step
  ``max(compute, write(f-1) + load(f+1))`` is unchanged. The work per point is then
  ``O(row folds)`` per job instead of ``O(folds x count)`` (IS convolutions, whose ifmap split is
  not periodic over column folds, keep every column fold).

The equality with ``simulate`` is checked in ``tests/dse/test_systolic_totals.py``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from archsim.energy import EnergyTable
from archsim.hw.link import link_bandwidth
from archsim.hw.systolic.spec import SystolicSpec
from archsim.mapping.gemm import GemmJob, lower_op
from archsim.workload.graph import Graph

#: energy class of one MAC by operand width in bits (as in :mod:`archsim.hw.systolic.model`)
MAC_CLASS = {8: "mac_int8", 16: "mac_fp16", 32: "mac_fp32"}


@dataclass(frozen=True, eq=False)
class LoweredWorkload:
    """A graph lowered for the physical convention: unique GEMM jobs and vector ops in first-seen
    order, each with the number of ops that lower to it (``mult``)."""

    name: str
    ops: int
    jobs: tuple[GemmJob, ...]
    job_mult: tuple[int, ...]
    vectors: tuple[tuple[int, int, int], ...]  # (vector_ops, input_bytes, output_bytes)
    vector_mult: tuple[int, ...]

    @classmethod
    def of(cls, graph: Graph) -> LoweredWorkload:
        jobs: dict[GemmJob, int] = {}
        vectors: dict[tuple[int, int, int], int] = {}
        n = 0
        for op in graph.ops:
            n += 1
            if op.is_gemm:
                job = lower_op(op, "physical")
                jobs[job] = jobs.get(job, 0) + 1
            else:
                key = (op.vector_ops, op.input_bytes, op.output_bytes)
                vectors[key] = vectors.get(key, 0) + 1
        return cls(graph.name, n, tuple(jobs), tuple(jobs.values()), tuple(vectors), tuple(vectors.values()))

    def job_array(self, name: str) -> np.ndarray:
        """One attribute of every unique job as an int64 array (cached)."""
        cache = self.__dict__.setdefault("_arrays", {})
        arr = cache.get(name)
        if arr is None:
            arr = cache[name] = np.asarray([getattr(j, name) for j in self.jobs], dtype=np.int64)
        return arr


def _ceil_div(x: np.ndarray, num: int, den: int) -> np.ndarray:
    """``ceil(x * den / num)`` in integers (``x / bw`` with ``bw = num / den``)."""
    return -((-x * den) // num)


def _triple(n: int) -> tuple[int, ...]:
    """Weights of ``n`` consecutive identical items written as first, middle x (n-2), last."""
    return (1,) if n == 1 else (1, 1) if n == 2 else (1, n - 2, 1)


@lru_cache(maxsize=4096)
def _blocks(col_folds: int, count: int, periodic: bool) -> tuple[np.ndarray, np.ndarray]:
    """The column blocks to evaluate for one job, as ``(fc, weight)`` arrays.

    A block is one column fold (its ``row_fold`` folds). With ``periodic`` the middle column
    blocks (``0 < fc < CF - 1``) are identical, so ``CF - 2`` of them are written as first,
    middle (weight ``CF - 4``) and last copies: every copy then sits between the same neighbours
    as in the full sequence, so each fold's double-buffered step is the same and sums can be
    weighted. The ``count`` repetitions of the whole sequence are compressed the same way.
    """
    if periodic and col_folds > 2:
        mids = _triple(col_folds - 2)
        fc = np.array([0, *([1] * len(mids)), col_folds - 1], dtype=np.int64)
        w = np.array([1, *mids, 1], dtype=np.int64)
    else:
        fc = np.arange(col_folds, dtype=np.int64)
        w = np.ones(col_folds, dtype=np.int64)
    reps = _triple(count)
    return np.tile(fc, len(reps)), np.repeat(np.asarray(reps, dtype=np.int64), len(fc)) * np.tile(w, len(reps))


def _gemm_totals(lw: LoweredWorkload, spec: SystolicSpec) -> dict[str, np.ndarray]:
    """Per unique job: cycles, compute cycles and the sums the action counts need (for all
    ``count`` repetitions, one op)."""
    A = lw.job_array
    m, n, k, count = A("m"), A("n"), A("k"), A("count")
    a_b, b_b, c_b = A("a_bytes"), A("b_bytes"), A("c_bytes")
    a_tot, b_tot = A("a_elems") * a_b, A("b_elems") * b_b
    r, c, ab = spec.rows, spec.cols, spec.acc_bytes
    df = spec.dataflow
    sr, sc, t = {"os": (m, n, k), "ws": (k, n, m), "is": (k, m, n)}[df]
    RF = -(-sr // r)
    CF = -(-sc // c)
    # column blocks of every job (see _blocks); the ifmap split of IS is periodic over column
    # folds only when it is a whole number of bytes per (row x column) element
    periodic = np.ones(len(m), bool) if df != "is" else a_tot % np.maximum(sr * sc, 1) == 0
    parts = [_blocks(int(cf), int(cn), bool(p)) for cf, cn, p in zip(CF.tolist(), count.tolist(), periodic)]
    nblocks = np.asarray([len(p[0]) for p in parts], dtype=np.int64)
    bjob = np.repeat(np.arange(len(m)), nblocks)
    bfc = np.concatenate([p[0] for p in parts])
    bw_ = np.concatenate([p[1] for p in parts])
    blen = RF[bjob]
    jid = np.repeat(bjob, blen)
    fc = np.repeat(bfc, blen)
    w = np.repeat(bw_, blen)
    nf = len(jid)
    fr = np.arange(nf, dtype=np.int64) - np.repeat(np.cumsum(blen) - blen, blen)
    RFj, tj, srj = RF[jid], t[jid], sr[jid]
    last_fr = fr == RFj - 1
    first_pass = fc == 0
    ru = np.where(last_fr, (sr - (RF - 1) * r)[jid], r)
    cu = np.where(fc == CF[jid] - 1, (sc - (CF - 1) * c)[jid], c)
    a_total = a_tot[jid]

    if df in ("os", "ws"):  # the ifmap split over row folds in proportion to the rows they cover
        den = np.maximum(srj, 1)
        a_fr = (np.minimum((fr + 1) * r, srj) * a_total) // den - (fr * r * a_total) // den
        a_res = (a_tot <= spec.ifmap_sram_bytes)[jid]
        load_a = np.where(first_pass | ~a_res, a_fr, 0)
    else:  # is: the stationary ifmap block of every fold, split over all folds by area
        den = np.maximum(sr * sc, 1)[jid]
        cum0 = fc * c * srj + cu * fr * r
        load_a = ((cum0 + ru * cu) * a_total) // den - (cum0 * a_total) // den

    if df == "os":
        b_fits = (k * c * b_b <= spec.filter_sram_bytes // 2)[jid]
        load_b = np.where((fr == 0) | ~b_fits, (k * b_b)[jid] * cu, 0)
        write = ru * cu * c_b[jid]
        load_p = np.zeros(nf, np.int64)
        i_reads, f_reads, o_writes, o_reads = ru * tj, cu * tj, ru * cu, np.zeros(nf, np.int64)
    else:
        if df == "ws":
            load_b = ru * cu * b_b[jid]
            i_reads, f_reads = tj * ru, ru * cu
        else:
            b_res = (b_tot <= spec.filter_sram_bytes)[jid]
            load_b = np.where(first_pass | ~b_res, ru * (n * b_b)[jid], 0)
            i_reads, f_reads = ru * cu, tj * ru
        psum_fits = (t * c * ab <= spec.ofmap_sram_bytes // 2)[jid]
        block = tj * cu
        write = np.where(psum_fits, np.where(last_fr, block * c_b[jid], 0),
                         block * np.where(last_fr, c_b[jid], ab))
        load_p = np.where(~psum_fits & (fr > 0), block * ab, 0)
        o_writes = block
        o_reads = np.where(fr > 0, block, 0)

    load = load_a + load_b + load_p
    bw = link_bandwidth(spec)
    num, dnm = bw.numerator, bw.denominator
    rd = np.where(load > 0, _ceil_div(load, num, dnm) + spec.dram_latency_cycles, 0)
    wr = _ceil_div(write, num, dnm)

    # job_timing's step max(compute, write(f-1) + load(f+1)), nothing outside the job
    comp = t + 2 * r + c - 2
    first = np.concatenate([[0], np.cumsum(nblocks * RF)[:-1]])
    last = first + nblocks * RF - 1
    prev_w = np.concatenate([[0], wr[:-1]])
    prev_w[first] = 0
    next_r = np.concatenate([rd[1:], [0]])
    next_r[last] = 0
    steps = np.maximum(comp[jid], prev_w + next_r)
    sums = np.add.reduceat(
        w * np.stack([steps, ru * cu * tj, load_a, load_b, load, write, i_reads, f_reads, o_writes, o_reads]),
        first, axis=1,
    )
    steps_s, macs, load_a_s, load_b_s, load_s, write_s, i_s, f_s, ow_s, or_s = sums
    return {
        "cycles": rd[first] + steps_s + wr[last], "compute_cycles": RF * CF * count * comp, "macs": macs,
        "ifmap_read": i_s * a_b, "ifmap_write": load_a_s, "filter_read": f_s * b_b, "filter_write": load_b_s,
        "ofmap_write": ow_s * ab, "ofmap_read": or_s * ab + write_s, "dram_read": load_s, "dram_write": write_s,
    }


def _dot(mult: tuple[int, ...], values: np.ndarray) -> int:
    return sum(int(w) * int(v) for w, v in zip(mult, values.tolist()))


def analytic_totals(lw: LoweredWorkload, spec: SystolicSpec, table: EnergyTable | None = None) -> dict:
    """``simulate(graph, spec, level="analytic").totals`` for the physical convention, from the
    lowered workload ``lw`` (see module docstring). ``table`` defaults to ``spec.energy_table``."""
    if spec.convention != "physical":
        raise ValueError("analytic_totals models the physical convention only")
    table = table or EnergyTable.load(spec.energy_table)
    counts: dict[tuple[str, str, str], int] = {}

    def add(comp: str, cls: str, action: str, n: int) -> None:
        if n:
            counts[(comp, cls, action)] = counts.get((comp, cls, action), 0) + n

    cycles = compute = macs = read_b = write_b = 0
    if lw.jobs:
        g = _gemm_totals(lw, spec)
        mult = lw.job_mult
        cycles += _dot(mult, g["cycles"])
        compute += _dot(mult, g["compute_cycles"])
        macs += _dot(mult, g["macs"])
        read_b += _dot(mult, g["dram_read"])
        write_b += _dot(mult, g["dram_write"])
        for i, (job, w) in enumerate(zip(lw.jobs, mult)):
            add("systolic.pe_array", MAC_CLASS[job.mac_bits], "mac", int(g["macs"][i]) * w)
        for comp, action, col in (("ifmap", "read_bytes", "ifmap_read"), ("ifmap", "write_bytes", "ifmap_write"),
                                  ("filter", "read_bytes", "filter_read"), ("filter", "write_bytes", "filter_write"),
                                  ("ofmap", "write_bytes", "ofmap_write"), ("ofmap", "read_bytes", "ofmap_read")):
            add(f"systolic.{comp}_sram", "sram", action, _dot(mult, g[col]))
        add("dram", "dram", "read_bytes", _dot(mult, g["dram_read"]))
        add("dram", "dram", "write_bytes", _dot(mult, g["dram_write"]))
    bw = link_bandwidth(spec)
    num, den = bw.numerator, bw.denominator
    for (ops, in_b, out_b), w in zip(lw.vectors, lw.vector_mult):
        # vector_cycles: the larger of ceil(ops / lanes) and write(out) + load(in)
        comp = -(-ops // spec.vector_lanes)
        mem = -(-out_b * den // num) + ((-(-in_b * den // num) + spec.dram_latency_cycles) if in_b > 0 else 0)
        cyc = max(comp, mem)
        cycles += cyc * w
        compute += comp * w
        read_b += in_b * w
        write_b += out_b * w
        add("vector", "vector", "op", ops * w)
        add("dram", "dram", "read_bytes", in_b * w)
        add("dram", "dram", "write_bytes", out_b * w)

    energy = 0.0
    for (_, cls, action), n in sorted(counts.items()):  # EnergyTable.price's order and arithmetic
        pj = table.pj(cls, action)
        if pj is not None:
            energy += n * pj
    unique = len(lw.jobs) + len(lw.vectors)
    return {
        "cycles": cycles,
        "time_ns": cycles * 1e9 / spec.clock_hz,
        "macs": macs,
        "utilization": macs / (cycles * spec.pes) if cycles else 0.0,
        "compute_cycles": compute,
        "stall_cycles": cycles - compute,
        "dram_read_bytes": read_b,
        "dram_write_bytes": write_b,
        "energy_pj": energy,
        "ops": lw.ops,
        "ops_simulated": unique,
        "ops_memoized": lw.ops - unique,
    }
