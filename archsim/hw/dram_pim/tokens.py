"""The token timeline: a plan's steps one after another, token after token, with refresh.

Steps run in program order (each VMM needs the previous step's output). A PIM step takes its
slowest scope's time; its ASIC post-processing overlaps it and only the exposed part follows.
Time is absolute across the generation (DRAM command-clock cycles from the first token's start):
a REFab due while a PIM step runs adds :attr:`PimDevice.refresh_penalty` to it; one due during
ASIC-only time is free. Time is split into

* ``vmm``: PIM VMM steps (weights, attention score and context), their input broadcast and
  result read-out included,
* ``data_movement``: the KV-cache writes and the embedding reads,
* ``non_vmm``: the ASIC time that is not hidden under a PIM step (LayerNorm, softmax, residual
  adds, the exposed part of partial sums / bias / activation, sampling),
* ``refresh``: the refresh penalties.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from archsim.hw.dram_pim.device import CI, COUNTS, PimDevice, StepResult, refreshes_in
from archsim.hw.dram_pim.plan import Plan, Step

VMM_KINDS = ("vmm", "score", "context")
DATA_KINDS = ("kv_write", "embed")


@dataclass
class StepSpan:
    step: Step
    result: StepResult
    start: int
    pim_cycles: int  # with refresh penalties
    refreshes: int

    @property
    def end(self) -> int:
        return self.start + self.pim_cycles + self.result.asic_cycles


@dataclass
class TokenRun:
    index: int
    context: int
    start: int
    cycles: int = 0
    vmm_cycles: int = 0
    data_cycles: int = 0
    non_vmm_cycles: int = 0
    refresh_cycles: int = 0
    refreshes: int = 0
    counts: np.ndarray = field(default_factory=lambda: np.zeros(len(COUNTS), np.int64))
    energy_pj: float = 0.0
    macs: int = 0
    asic_work_cycles: int = 0  # the ASIC's work in its own cycles, hidden or not
    spans: list[StepSpan] | None = None

    @property
    def end(self) -> int:
        return self.start + self.cycles


def run_tokens(device: PimDevice, plan: Plan, contexts: list[int], *, detail: int = 1) -> list[TokenRun]:
    """Every token of ``contexts`` on ``device``; the first ``detail`` tokens keep their step spans."""
    steps = plan.steps
    # steps with equal keys share results: resolve each distinct one once per token
    kinds = [s.kind for s in steps]
    keyed: dict[tuple, int] = {}
    idx = [keyed.setdefault((s.key(), s.kind), len(keyed)) for s in steps]
    reps = {i: s for s, i in zip(steps, idx)}
    mult = np.bincount(np.array(idx), minlength=len(keyed))
    refresh = device.spec.refresh != "none"
    penalty, acts_per_ref = device.refresh_penalty if refresh else (0.0, 0.0)
    trefi = device.trefi
    out: list[TokenRun] = []
    t = 0
    for ti, ctx in enumerate(contexts):
        res = [device.step(plan, reps[i], ctx) for i in range(len(keyed))]
        tok = TokenRun(ti, ctx, t)
        keep = ti < detail
        spans: list[StepSpan] = []
        for i, r in enumerate(res):
            m = int(mult[i])
            tok.counts += r.counts * m
            tok.energy_pj += r.energy_pj * m
            tok.macs += r.macs * m
            tok.asic_work_cycles += r.asic_work_cycles * m
        start = t
        vmm = data = asic = ref_c = nref = 0
        if refresh:
            for s, i, kind in zip(steps, idx, kinds):
                r = res[i]
                pim = r.pim_cycles
                n = refreshes_in(t, pim, trefi, penalty) if pim else 0
                extra = math.ceil(n * penalty) if n else 0
                if keep:
                    spans.append(StepSpan(s, r, t, pim + extra, n))
                t += pim + extra + r.asic_cycles
                nref += n
                ref_c += extra
                if kind in VMM_KINDS:
                    vmm += pim
                elif kind in DATA_KINDS:
                    data += pim
                asic += r.asic_cycles
        else:
            for s, i in zip(steps, idx):
                r = res[i]
                if keep:
                    spans.append(StepSpan(s, r, t, r.pim_cycles, 0))
                t += r.pim_cycles + r.asic_cycles
            for i, r in enumerate(res):
                m = int(mult[i])
                kind = reps[i].kind
                if kind in VMM_KINDS:
                    vmm += r.pim_cycles * m
                elif kind in DATA_KINDS:
                    data += r.pim_cycles * m
                asic += r.asic_cycles * m
        tok.cycles = t - start
        tok.vmm_cycles, tok.data_cycles, tok.non_vmm_cycles = vmm, data, asic
        tok.refresh_cycles, tok.refreshes = ref_c, nref
        if nref:
            # every scope reopens its rows after a refresh: each reopened bank's next access misses
            extra = round(nref * acts_per_ref * device.spec.scopes)
            tok.counts[CI["bank_activations"]] += extra
            tok.counts[CI["misses"]] += extra
            tok.counts[CI["hits"]] -= extra
            tok.energy_pj += extra * device.spec.act_pj
        tok.spans = spans if keep else None
        out.append(tok)
    return out
