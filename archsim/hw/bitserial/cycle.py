"""Cycle level: the whole PE array stepped cycle by cycle on real data (small GEMMs only).

Every PE of the ``rows x cols`` array is a :class:`~archsim.hw.bitserial.pe.BitSerialPEModel`
lane (all in lockstep: PEs of a channel line share the weight terms, PEs of a token line the
activations). Random FP16 activations and random weights quantized to the job's format
(:mod:`archsim.numerics`) are issued tile after tile, group after group, term after term. Each
dequantized group result is checked against the exact integer reference
``sum (a * 2^25) (2 w) * scale_code`` (``w`` the element value: INT code, BFP mantissa or table
entry), and the cycle of the last result must equal the closed form's compute cycles
(:func:`archsim.hw.bitserial.physical.tile_timing`).
"""

from __future__ import annotations

import numpy as np

from archsim.errors import InputError
from archsim.hw.bitserial.pe import BitSerialPEModel, fp16_units
from archsim.hw.bitserial.physical import GemmJob, tile_timing
from archsim.hw.bitserial.spec import BitSerialSpec
from archsim.hw.bitserial.terms import fp_terms, int_terms
from archsim.numerics import BlockFloatFormat, BlockIntFormat, IntFormat, ValueSetFormat

#: limits that keep the cycle-stepped reference small
MAX_INPUT_CYCLES = 200_000
MAX_PES = 1024


def element_operand(job: GemmJob, rng: np.random.Generator) -> dict:
    """Random ``n x k`` weights quantized to the job's format: per-element terms (issue order),
    the doubled element values ``2 w`` (exact ints) and per-group scale codes."""
    fmt = job.b_fmt.numeric
    w = rng.standard_normal((job.n, job.k))
    q = fmt.quantize(w, axis=-1)
    k_pad = q.codes.shape[-2] * q.codes.shape[-1]
    if isinstance(fmt, IntFormat | BlockIntFormat):
        codes = q.codes.reshape(job.n, k_pad)
        bits = fmt.bits if isinstance(fmt, IntFormat) else fmt.mantissa_bits
        s, e, m, bsig = int_terms(codes, bits)
        two_w = 2 * codes
    elif isinstance(fmt, ValueSetFormat | BlockFloatFormat):
        if isinstance(fmt, BlockFloatFormat):
            vals = fmt.values[q.codes]
        else:
            vals = fmt.group_values(q.codes, q.fields)
        vals = vals.reshape(job.n, k_pad)
        s, e, m, bsig = fp_terms(vals)
        two_w = np.rint(2 * vals).astype(np.int64)
    else:
        raise InputError("--level", "cycle", "a format with bit-serial terms", job.b_fmt.name)
    scale = q.fields.get("scale_code")
    if scale is None:
        scale = np.zeros((job.n, q.codes.shape[-2]), np.int64)
    return {"sign": s[:, :, : job.k], "exp": e[:, :, : job.k], "man": m[:, :, : job.k], "bsig": bsig,
            "two_w": two_w[:, : job.k], "scale": scale}


def run_job(job: GemmJob, spec: BitSerialSpec, seed: int = 0) -> dict:
    """Step the array through ``job``; returns ``{"compute_cycles", "groups_checked"}``.
    Raises AssertionError when a result differs from the exact reference."""
    if spec.pe != "bitserial":
        raise InputError("--level", "cycle", "a bit-serial PE array (the cycle level steps BitMoD PEs)", spec.pe)
    rows, cols = job.rows, job.cols
    tt = tile_timing(job, spec)
    n_c, n_t = -(-job.n // rows), -(-job.m // cols)
    steps = -(-job.k // spec.dot_product_size)
    in_cycles = job.count * n_c * n_t * steps * tt.terms
    if rows * cols > MAX_PES or in_cycles > MAX_INPUT_CYCLES:
        raise InputError("--level", "cycle", f"a small job (at most {MAX_PES} PEs and {MAX_INPUT_CYCLES} issue cycles)",
                         f"{job.count}x{job.m}x{job.n}x{job.k} on {rows}x{cols}")
    rng = np.random.default_rng(seed)
    dp, terms = spec.dot_product_size, tt.terms
    dequant = job.b_fmt.dequant
    group = job.b_fmt.group_size or job.k  # dequantization groups, or BFP blocks (shift only)
    pe = BitSerialPEModel(rows * cols, scale_bits=spec.scale_bits, dequant=dequant, lanes=dp)
    k_pad = steps * dp
    pending: list[np.ndarray] = []  # expected results, in hand-off order
    checked = 0
    cycle = 0
    last_out = -1

    def collect(out) -> None:
        nonlocal checked, last_out
        if out.out_valid:
            exp = pending.pop(0)
            if not np.array_equal(out.out_value.astype(object), exp.astype(object)):
                raise AssertionError(f"cycle {cycle}: PE results differ from the exact reference")
            checked += 1
            last_out = cycle

    for _ in range(job.count):
        a = rng.standard_normal((job.m, job.k)).astype(np.float16)
        a_pat = np.zeros((n_t * cols, k_pad), np.int64)
        a_pat[: job.m, : job.k] = a.view(np.uint16)
        a_units = np.zeros((n_t * cols, k_pad), np.int64)
        a_units[: job.m, : job.k] = fp16_units(a.view(np.uint16))
        op = element_operand(job, rng)
        pad = ((0, n_c * rows - job.n), (0, k_pad - job.k))
        sgn = np.stack([np.pad(x, pad) for x in op["sign"]])
        ex = np.stack([np.pad(x, pad) for x in op["exp"]])
        mn = np.stack([np.pad(x, pad) for x in op["man"]])
        two_w = np.pad(op["two_w"], pad)
        scale = np.pad(op["scale"], ((0, n_c * rows - job.n), (0, 0)))
        for c in range(n_c):
            ch = c * rows + np.arange(rows)
            for t in range(n_t):
                tok = t * cols + np.arange(cols)
                for st in range(steps):
                    k0 = st * dp
                    ks = slice(k0, k0 + dp)
                    g = k0 // group
                    last_step_of_group = (k0 + dp) % group == 0 or k0 + dp >= job.k
                    act = np.broadcast_to(a_pat[tok, ks][None, :, :], (rows, cols, dp)).reshape(-1, dp)
                    for ti in range(terms):
                        end = int(last_step_of_group and ti == terms - 1)
                        sc = np.broadcast_to(scale[ch, min(g, scale.shape[1] - 1)][:, None], (rows, cols)).reshape(-1)
                        kw = {"valid": 1, "act": act,
                              "t_sign": np.broadcast_to(sgn[ti][ch, ks][:, None, :], (rows, cols, dp)).reshape(-1, dp),
                              "t_exp": np.broadcast_to(ex[ti][ch, ks][:, None, :], (rows, cols, dp)).reshape(-1, dp),
                              "t_man": np.broadcast_to(mn[ti][ch, ks][:, None, :], (rows, cols, dp)).reshape(-1, dp),
                              "bsig": int(op["bsig"][ti]), "group_end": end, "scale": sc}
                        if end:
                            g0 = (k0 // group) * group
                            gs = slice(g0, min(g0 + group, k_pad))
                            ref = (a_units[tok][:, gs].astype(object)[None, :, :]
                                   * two_w[ch][:, gs].astype(object)[:, None, :]).sum(axis=2)
                            if dequant:
                                ref = ref * scale[ch, g].astype(object)[:, None]
                            pending.append(np.asarray(ref, dtype=object).reshape(-1))
                        while not pe.ready():
                            collect(pe.step())
                            cycle += 1
                        collect(pe.step(**kw))
                        cycle += 1
    while pending:
        collect(pe.step())
        cycle += 1
        if cycle > in_cycles * 4 + 1000:
            raise AssertionError("cycle-level array did not drain")
    return {"compute_cycles": last_out + 1, "groups_checked": checked, "issue_cycles": in_cycles}
