"""The device: runs plan steps on the PIM scopes and the ASIC, with memoization at every level.

* A scope program is simulated once per :meth:`~.program.ScopeProgram.signature` (its timing is a
  function of the signature alone: every program starts from idle banks).
* A step's result is kept per (shape, context): the identical layers of a model, and every token
  whose attention programs do not change, reuse it.
* Refresh is applied on the token timeline (:meth:`PimDevice.refresh_penalty`): every tREFI a
  REFab falls due on every channel; one that falls while a PIM step runs costs that step the
  penalty the executor measures (close rows, REFab, reopen), one during ASIC-only time costs
  nothing.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from archsim.errors import InputError
from archsim.hw.dram_pim import mapping
from archsim.hw.dram_pim.asic import NOTHING, Asic, AsicWork
from archsim.hw.dram_pim.commands import PimTiming
from archsim.hw.dram_pim.executor import ScopeRun, run_program
from archsim.hw.dram_pim.plan import Plan, Step
from archsim.hw.dram_pim.program import ScopeProgram
from archsim.hw.dram_pim.spec import PimSpec

#: per-step counters, in this order, as an int64 vector (summed over scopes and steps)
COUNTS = ("bank_activations", "accesses", "hits", "misses", "conflicts", "mac_bursts", "mac_commands",
          "useful_macs", "gb_bursts", "readout_bursts", "read_bursts", "write_bursts", "commands",
          "asic_ops", "busy_scope_cycles")
CI = {name: i for i, name in enumerate(COUNTS)}
LEVELS = ("analytic", "event")


@dataclass(frozen=True)
class StepResult:
    """One step's timing (DRAM command-clock cycles) and counts."""

    pim_cycles: int  # the slowest scope, first command to last result / precharge
    asic_cycles: int  # exposed ASIC time after the PIM part (DRAM cycles)
    first_result_cycles: int  # first result at the ASIC (-1: none)
    scope_cycles: tuple[int, ...]  # per scope (0: idle)
    counts: np.ndarray
    asic_work_cycles: int  # the ASIC's whole work for the step (its clock), overlapped or not
    macs: int
    energy_pj: float

    @property
    def cycles(self) -> int:
        return self.pim_cycles + self.asic_cycles


class PimDevice:
    """A :class:`PimSpec` at one fidelity ``level`` (``event``: command by command through the
    timing engine; ``analytic``: the closed form of :mod:`.analytic`)."""

    def __init__(self, spec: PimSpec, level: str = "event"):
        if level not in LEVELS:
            raise InputError("--level", None, "analytic or event for a DRAM-PIM device (the cycle-stepped "
                             "reference checks single programs, see docs/dram_pim.md)", level)
        self.spec = spec
        self.level = level
        self.timing = PimTiming(spec)
        self.asic = Asic(spec)
        self._runs: dict[str, ScopeRun] = {}
        self._steps: dict[tuple, StepResult] = {}
        self.programs_simulated = 0
        self.program_lookups = 0
        self.steps_simulated = 0
        self.step_lookups = 0
        from archsim.hw.dram_pim.energy import step_energy_pj

        self._energy = step_energy_pj

    # -- scopes ---------------------------------------------------------------------------------
    def run(self, prog: ScopeProgram) -> ScopeRun:
        """The (memoized) run of one scope program, without refresh."""
        self.program_lookups += 1
        sig = prog.signature()
        r = self._runs.get(sig)
        if r is None:
            if self.level == "analytic":
                from archsim.hw.dram_pim.analytic import analytic_run

                r = analytic_run(self.timing, prog)
            else:
                r = run_program(self.timing, prog)
            self._runs[sig] = r
            self.programs_simulated += 1
        return r

    def vmm_result(self, vmm: mapping.Vmm, repeats: int, post: AsicWork, tail: AsicWork) -> StepResult:
        counts = np.zeros(len(COUNTS), np.int64)
        scope_cycles = []
        first = -1
        for prog in vmm.programs:
            if prog.empty:
                scope_cycles.append(0)
                continue
            r = self.run(prog)
            scope_cycles.append(r.cycles)
            if r.first_result_cycle >= 0 and (first < 0 or r.first_result_cycle < first):
                first = r.first_result_cycle
            counts += _counts(r, prog)
        pim = max(scope_cycles, default=0)
        counts *= repeats
        counts[CI["asic_ops"]] += post.ops * repeats
        post_c = self.asic_to_dram(post.cycles)
        tail_c = self.asic_to_dram(tail.cycles)
        if pim:
            window = pim - first if first >= 0 else 0
            exposed = max(tail_c, post_c - window)
        else:
            exposed = post_c
        # repeated vectors (batch) run one after another, the ASIC overlapping each with the next
        res_pim = pim * repeats
        res_asic = exposed
        return StepResult(res_pim, res_asic, first, tuple(c * repeats for c in scope_cycles), counts,
                          post.cycles * repeats, vmm.macs * repeats, 0.0)

    def asic_to_dram(self, asic_cycles: int) -> int:
        """ASIC cycles as whole DRAM command-clock cycles (rounded up)."""
        return -(-asic_cycles * self.spec.standard.clock_hz // self.spec.asic_clock_hz)

    # -- steps --------------------------------------------------------------------------------------
    def step(self, plan: Plan, s: Step, context: int) -> StepResult:
        """The result of step ``s`` in the token whose context is ``context`` tokens (memoized)."""
        self.step_lookups += 1
        kv = plan_kv_len(plan, context)
        key = (s.key(), kv if s.context_dependent else None, context - 1 if s.kind == "kv_write" else None)
        r = self._steps.get(key)
        if r is None:
            r = self._compute(plan, s, kv, context - 1)
            r = StepResult(**{**r.__dict__, "energy_pj": self._energy(self.spec, r.counts)})
            self._steps[key] = r
            self.steps_simulated += 1
        return r

    def _compute(self, plan: Plan, s: Step, kv: int, position: int) -> StepResult:
        sp, asic = self.spec, self.asic
        positions = mapping.reserved_positions(sp, plan.max_positions)
        if s.kind == "asic":
            w = self._asic_work(s, kv)
            counts = np.zeros(len(COUNTS), np.int64)
            counts[CI["asic_ops"]] = w.ops
            return StepResult(0, self.asic_to_dram(w.cycles), -1, (), counts, w.cycles, 0, 0.0)
        if s.kind == "vmm":
            vmm = mapping.weight_vmm(sp, s.k, s.n)
            post = NOTHING
            act = dict(s.activation)
            post = asic.vmm_post(s.n, vmm.partial_sums, s.bias, None)
            for fn, n in act.items():
                post = post + asic.activation(fn, n // max(1, s.repeats))
            tail = asic.vmm_post(min(s.n, sp.units), 0, s.bias, next(iter(act), None))
            return self.vmm_result(vmm, s.repeats, post, tail)
        if s.kind == "score":
            vmm = mapping.score_vmm(sp, kv, s.heads, s.kv_heads, s.head_dim, positions)
            post = asic.vmm_post(vmm.outputs - vmm.partial_sums, vmm.partial_sums, False, None)
            return self.vmm_result(vmm, s.repeats, post, NOTHING if not vmm.partial_sums else
                                   asic.vmm_post(sp.units, sp.units, False, None))
        if s.kind == "context":
            vmm = mapping.context_vmm(sp, kv, s.heads, s.kv_heads, s.head_dim, positions)
            post = asic.vmm_post(s.heads * s.head_dim, vmm.partial_sums, False, None)
            tail = asic.vmm_post(min(sp.units, s.heads * s.head_dim), 0, False, None) if vmm.partial_sums else NOTHING
            return self.vmm_result(vmm, s.repeats, post, tail)
        if s.kind == "kv_write":
            slot = position % positions if plan.sliding_window else position
            if slot >= positions:
                raise InputError("--tokens", None, f"contexts within the {positions} KV positions reserved per layer "
                                 "(kv_positions)", position + 1)
            vmm = mapping.kv_write(sp, slot, s.heads, s.kv_heads, s.head_dim, positions)
            return self.vmm_result(vmm, s.repeats, NOTHING, NOTHING)
        if s.kind == "embed":
            vmm = mapping.embedding_read(sp, s.k, positions=s.n > 1)
            add = asic.elementwise(s.k, 1) if s.n > 1 else NOTHING
            r = self.vmm_result(vmm, s.repeats, NOTHING, NOTHING)
            c = r.counts.copy()
            c[CI["asic_ops"]] += add.ops * s.repeats
            return StepResult(r.pim_cycles, self.asic_to_dram(add.cycles) * s.repeats, r.first_result_cycles,
                              r.scope_cycles, c, add.cycles * s.repeats, 0, 0.0)
        raise AssertionError(s.kind)

    def _asic_work(self, s: Step, kv: int) -> AsicWork:
        a = self.asic
        fn, *args = s.asic
        if fn == "layernorm":
            rows, cols, rms = args
            return a.layernorm(rows, cols, rms)
        if fn == "softmax":
            return a.softmax(args[0], kv)
        if fn == "elementwise":
            n, ops, name = args
            return a.elementwise(n, ops, name)
        if fn == "argmax":
            return a.argmax(args[0])
        raise AssertionError(fn)

    # -- refresh ------------------------------------------------------------------------------------
    @cached_property
    def refresh_penalty(self) -> tuple[float, float]:
        """``(cycles, bank activations)`` one refresh adds to a PIM step that it interrupts: measured
        by the executor on a long weight stream, with and without refresh."""
        sp = self.spec
        if sp.refresh == "none":
            return 0.0, 0.0
        t = self.timing.t("tREFI")
        k = sp.gb_elems
        n = sp.units * max(1, -(-8 * t // (sp.mac_interval_cycles * _ceil(k, sp.elems_per_burst))))
        prog = mapping.weight_vmm(sp, k, n).programs[0]
        base = run_program(self.timing, prog)
        ref = run_program(self.timing, prog, refresh_start=0)
        if not ref.refreshes:
            return 0.0, 0.0
        return ((ref.cycles - base.cycles) / ref.refreshes,
                (ref.bank_activations - base.bank_activations) / ref.refreshes)

    @cached_property
    def trefi(self) -> int:
        return self.timing.t("tREFI")


def _ceil(a: int, b: int) -> int:
    return -(-a // b)


def _counts(r: ScopeRun, prog: ScopeProgram) -> np.ndarray:
    c = np.zeros(len(COUNTS), np.int64)
    c[CI["bank_activations"]] = r.bank_activations
    c[CI["accesses"]] = r.accesses
    c[CI["hits"]] = r.hits
    c[CI["misses"]] = r.misses
    c[CI["conflicts"]] = r.conflicts
    c[CI["mac_bursts"]] = r.mac_bursts
    c[CI["mac_commands"]] = r.commands.get("MAC_AB", 0) + r.commands.get("MAC_SB", 0)
    c[CI["useful_macs"]] = r.useful_macs
    c[CI["gb_bursts"]] = r.gb_bursts
    c[CI["readout_bursts"]] = r.readout_bursts
    c[CI["read_bursts"]] = r.read_bursts
    c[CI["write_bursts"]] = r.write_bursts
    c[CI["commands"]] = sum(r.commands.values())
    c[CI["busy_scope_cycles"]] = r.busy_cycles
    return c


def plan_kv_len(plan: Plan, context: int) -> int:
    """Keys attended over at ``context`` (a sliding window caps it)."""
    return min(context, plan.sliding_window) if plan.sliding_window else context


def refreshes_in(start: float, length: float, trefi: int, penalty: float) -> int:
    """REFab due times ``k * trefi`` in ``(start, start + length + n * penalty]`` (one due exactly at
    ``start`` has just happened): the step grows by ``penalty`` per refresh it contains, so iterate
    to the fixed point."""
    if length <= 0:
        return 0
    first = math.floor(start / trefi)
    n = 0
    while True:
        m = max(0, math.floor((start + length + n * penalty) / trefi) - first)
        if m <= n:
            return n
        n = m
