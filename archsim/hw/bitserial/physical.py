"""The physical convention in closed form: how a workload op runs on the PE array and its DMA.

**Ops to GEMM jobs.** A GEMM-kind op becomes ``count`` GEMMs ``C[m x n] = A[m x k] B[k x n]``.
``A`` streams FP16 activations to the token lines; ``B`` is the operand issued as weight terms:
a linear layer's weights (``weight_format``), or for attention the cached keys (``q . k``,
``n = kv_len``, ``k = head_dim``) and values (``p . V``, ``n = head_dim``, ``k = kv_len``) in
``kv_format``. Query heads that share a KV head (GQA) run as one GEMM with ``m = q_len x group``,
so each KV head is read once (as in the BitMoD artifact, ``pe_array.py``).

**Compute.** The array is output stationary: an output tile is ``rows`` channels x ``cols``
tokens and takes ``ceil(k / dot_product_size)`` steps of ``terms`` cycles (:mod:`.hwformats`;
1 on a bit-parallel PE). A dequantized format adds the group rule of :mod:`.pe`: a group of
``c`` cycles occupies ``max(c, scale_bits)`` (the dequantization unit takes a group every
``scale_bits`` cycles). An op adds the PE pipeline (``pe_pipeline_cycles``) and the last group's
dequantization (``scale_bits``) once; the first group does not wait. Tiles of any token or
channel count take the same time (the PEs of a tile run in lockstep).

**Memory.** Tiles run channels-outer/tokens-inner or tokens-outer/channels-inner, whichever
moves fewer DRAM bytes: a channel block (``rows x k`` of B) is kept across the inner token tiles
when it fits the weight buffer (otherwise it is re-read per token tile), all of A is kept across
channel blocks when it fits the activation buffer (otherwise each token tile is re-read per
block); symmetrically for the other order. Outputs are written once. A DMA engine loads tile
``s+1`` and writes tile ``s-1`` while tile ``s`` computes (double buffering); a resident chunk
bigger than half its buffer cannot be prefetched while its predecessor is in use, so its load
waits for the tile before it (a *serial* load):
``cycles = load(0) + sum_s [max(compute_s, write_{s-1} + load_{s+1}) + serial_{s+1}] + write_last``
with ``load(x) = ceil(x / bw) + latency`` and posted writes ``ceil(x / bw)``.

Non-GEMM ops run on the vector unit (``vector_lanes`` ops per cycle) as a roofline with their
operands streaming; with ``vector_lanes = 0`` they are not modelled (left out, as the artifact
does). Bytes of a tensor follow its role: weights in ``weight_format`` (biases and norm scales
FP16), ``kv_cache`` tensors in ``kv_format``, everything else ``act_bits``. An embedding reads
only the rows it gathers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from archsim.errors import InputError
from archsim.hw.bitserial.hwformats import HwFormat, kv_hw_format, weight_hw_format
from archsim.hw.bitserial.spec import BitSerialSpec
from archsim.workload.graph import CONV_KINDS, Op, OpKind, Tensor

ATTENTION_KINDS = (OpKind.ATTENTION_SCORE, OpKind.ATTENTION_CONTEXT)


@dataclass(frozen=True)
class GemmJob:
    """``count`` GEMMs ``m x k`` (FP16 A) by ``k x n`` (B in ``b_fmt``) on a ``rows x cols`` array."""

    count: int
    m: int
    n: int
    k: int
    b_fmt: HwFormat
    b_bits: float  # stored bits per B element (the format's, or the spec's weight_bits)
    a_bits: int
    out_bits: float
    extra_read_bytes: int
    rows: int
    cols: int
    b_role: str  # "weight" or "kv_cache"

    @property
    def macs(self) -> int:
        return self.count * self.m * self.n * self.k


def link_bandwidth(spec: BitSerialSpec) -> Fraction:
    return Fraction(spec.dram_bytes_per_cycle).limit_denominator(1 << 20)


def read_cycles(nbytes: np.ndarray, bw: Fraction, latency: int) -> np.ndarray:
    occ = -((-np.asarray(nbytes, np.int64) * bw.denominator) // bw.numerator)
    return np.where(np.asarray(nbytes) > 0, occ + latency, 0)


def write_cycles(nbytes: np.ndarray, bw: Fraction) -> np.ndarray:
    return -((-np.asarray(nbytes, np.int64) * bw.denominator) // bw.numerator)


# -- bytes of tensors ------------------------------------------------------------------------------
def tensor_bytes(t: Tensor, spec: BitSerialSpec, wfmt: HwFormat, kvfmt: HwFormat) -> int:
    if t.role == "weight":
        if len(t.shape) >= 2:
            return wfmt.stored_bytes(t.numel, spec.weight_bits)
        return math.ceil(t.numel * spec.act_bits / 8)
    if t.role == "kv_cache":
        return kvfmt.stored_bytes(t.numel)
    if t.dtype in ("int32",):
        return t.size_bytes
    return math.ceil(t.numel * spec.act_bits / 8)


def op_io_bytes(op: Op, spec: BitSerialSpec, wfmt: HwFormat, kvfmt: HwFormat) -> tuple[int, int]:
    """``(read_bytes, write_bytes)`` of a non-GEMM op (an embedding reads the gathered rows)."""
    if op.kind == OpKind.EMBEDDING:
        ids = sum(t.size_bytes for t in op.inputs if t.role != "weight")
        read = ids + math.ceil(op.need("tokens") * op.need("hidden") * spec.act_bits / 8)
    else:
        read = sum(tensor_bytes(t, spec, wfmt, kvfmt) for t in op.inputs)
    return read, sum(tensor_bytes(t, spec, wfmt, kvfmt) for t in op.outputs)


# -- ops to jobs -----------------------------------------------------------------------------------
def gemm_job(op: Op, spec: BitSerialSpec, phase: str | None, wfmt: HwFormat | None = None,
             kvfmt: HwFormat | None = None) -> GemmJob:
    wfmt, kvfmt = wfmt or weight_hw_format(spec), kvfmt or kv_hw_format(spec)
    rows, cols = spec.array(phase)
    out = op.outputs[0] if op.outputs else None
    out_bits = kvfmt.bits_per_element if out is not None and out.role == "kv_cache" else spec.act_bits
    if op.kind in ATTENTION_KINDS:
        heads = int(op.attr("heads", 1))
        kv_heads = int(op.attr("kv_heads", heads))
        if heads % kv_heads or op.need("batch") % heads:
            raise InputError(None, f"op {op.name}", "attention attrs with batch = sequences x heads and "
                             "heads a multiple of kv_heads", dict(op.attrs))
        group = heads // kv_heads
        count = op.need("batch") // heads * kv_heads
        return GemmJob(count, op.need("m") * group, op.need("n"), op.need("k"), kvfmt, kvfmt.bits_per_element,
                       spec.act_bits, out_bits, 0, rows, cols, "kv_cache")
    if op.kind == OpKind.MATMUL or op.kind in CONV_KINDS:
        count, m, n, k = op.gemm_dims()
        weights = [t for t in op.inputs if t.role == "weight" and len(t.shape) >= 2]
        if not weights:
            raise InputError(None, f"op {op.name}", f"a weight operand ({spec.name} issues weights as bit-terms)")
        extra = sum(math.ceil(t.numel * spec.act_bits / 8) for t in op.inputs if t.role == "weight" and len(t.shape) < 2)
        return GemmJob(count, m, n, k, wfmt, spec.weight_bits or wfmt.bits_per_element, spec.act_bits, out_bits,
                       extra, rows, cols, "weight")
    raise InputError(None, f"op {op.name}.kind", "a GEMM kind", str(op.kind))


# -- compute ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class TileTiming:
    tile_cycles: int  # steady-state cycles of one output tile
    first_slack: int  # cycles the op's first group does not wait for the dequantization unit
    tail_cycles: int  # pipeline drain + last dequantization, once per op
    terms: int
    groups_per_tile: int


def tile_timing(job: GemmJob, spec: BitSerialSpec) -> TileTiming:
    bitserial = spec.pe == "bitserial"
    terms = job.b_fmt.terms if bitserial else 1
    dp = spec.dot_product_size
    if bitserial and job.b_fmt.dequant:
        g = job.b_fmt.group_size or job.k
        full, rem = divmod(job.k, g)
        c_full, c_rem = math.ceil(g / dp) * terms, math.ceil(rem / dp) * terms
        s = spec.scale_bits
        tile = full * max(c_full, s) + (max(c_rem, s) if rem else 0)
        first = c_full if full else c_rem
        return TileTiming(tile, max(first, s) - first, spec.pe_pipeline_cycles + s, terms, full + (1 if rem else 0))
    return TileTiming(math.ceil(job.k / dp) * terms, 0, spec.pe_pipeline_cycles, terms, 1)


# -- tiles and their DMA ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Schedule:
    """Per-step (one output tile each) arrays of one op: loads that overlap the previous tile
    (``load_bytes``), loads that must wait for it (``serial_load_bytes``: a resident chunk larger
    than half its buffer replacing the previous one), writes, compute cycles and MACs."""

    load_bytes: np.ndarray
    serial_load_bytes: np.ndarray
    write_bytes: np.ndarray
    compute_cycles: np.ndarray
    macs: np.ndarray
    order: str  # "channels-outer" or "tokens-outer"
    a_bytes: int
    b_bytes: int
    timing: TileTiming

    @property
    def steps(self) -> int:
        return len(self.compute_cycles)

    @property
    def read_bytes(self) -> int:
        return int(self.load_bytes.sum() + self.serial_load_bytes.sum())


def _split(total: int, size: int) -> np.ndarray:
    n = -(-total // size)
    out = np.full(n, size, np.int64)
    out[-1] = total - size * (n - 1)
    return out


def schedule(job: GemmJob, spec: BitSerialSpec) -> Schedule:
    """The op's output tiles in loop order with their DMA (see module docstring).

    Order ``channels-outer``: a B channel block stays on chip across the token tiles when it fits
    the weight buffer (else it is re-read per tile); A stays across blocks when all of it fits the
    activation buffer (else each token tile is re-read per block). ``tokens-outer`` swaps the
    roles. The order moving fewer bytes is used (channels-outer on a tie). A resident chunk
    larger than half its buffer cannot be prefetched while the previous one is in use: its load
    is serial."""
    tt = tile_timing(job, spec)
    ch = _split(job.n, job.rows)  # channels per block
    tok = _split(job.m, job.cols)  # tokens per tile
    n_c, n_t = len(ch), len(tok)
    bits_b = Fraction(job.b_bits).limit_denominator(1 << 16)
    # B block bytes telescope to the total: ceil(end*k*bits/8) - ceil(start*k*bits/8)
    ends = np.concatenate([[0], np.cumsum(ch)]) * job.k
    edges = -((-ends * bits_b.numerator) // (bits_b.denominator * 8))
    b_block = np.diff(edges)
    a_tile = tok * math.ceil(job.k * job.a_bits / 8)
    b_total, a_total = int(edges[-1]), int(a_tile.sum())
    cap_w, cap_a = spec.weight_buffer_bytes, spec.act_buffer_bytes
    block_res, tile_res = int(b_block.max()) <= cap_w, int(a_tile.max()) <= cap_a
    a_res, b_res = a_total <= cap_a, b_total <= cap_w
    traffic_c = b_total * (1 if block_res else n_t) + a_total * (1 if a_res else n_c)
    traffic_t = a_total * (1 if tile_res else n_c) + b_total * (1 if b_res else n_t)
    ci, ti = np.meshgrid(np.arange(n_c), np.arange(n_t), indexing="ij")
    if traffic_c <= traffic_t:
        order = "channels-outer"
        ci, ti = ci.ravel(), ti.ravel()
        load_b = np.where((ti == 0) | (not block_res), b_block[ci], 0)
        load_a = np.where((ci == 0) | (not a_res), a_tile[ti], 0)
        serial_b = block_res and n_t > 1 and int(b_block.max()) > cap_w // 2
        serial_a = False
    else:
        order = "tokens-outer"
        ci, ti = ci.T.ravel(), ti.T.ravel()
        load_a = np.where((ci == 0) | (not tile_res), a_tile[ti], 0)
        load_b = np.where((ti == 0) | (not b_res), b_block[ci], 0)
        serial_a = tile_res and n_c > 1 and int(a_tile.max()) > cap_a // 2
        serial_b = False
    out_elems = tok[ti] * ch[ci]
    ob = Fraction(job.out_bits).limit_denominator(1 << 16)
    write = -((-out_elems * ob.numerator) // (ob.denominator * 8))
    serial = (load_a if serial_a else 0) + (load_b if serial_b else 0) + np.zeros(len(ci), np.int64)
    load = (load_a + load_b - serial).astype(np.int64)
    macs = out_elems * job.k
    reps = job.count
    load, serial, write, macs = (np.tile(x, reps) for x in (load, serial, write, macs))
    compute = np.full(len(load), tt.tile_cycles, np.int64)
    compute[0] -= tt.first_slack
    compute[-1] += tt.tail_cycles
    load[0] += serial[0] + job.extra_read_bytes
    serial[0] = 0
    return Schedule(load, serial, write, compute, macs, order, a_total * reps, b_total * reps, tt)


@dataclass(frozen=True)
class Timing:
    cycles: int
    compute_cycles: int
    step_start_cycles: np.ndarray
    prologue_cycles: int
    epilogue_cycles: int


def timing(sched: Schedule, spec: BitSerialSpec) -> Timing:
    """``load(0) + sum_s [max(compute_s, write_{s-1} + load_{s+1}) + serial_load_{s+1}] +
    write_last`` (loads take ``latency + ceil(bytes / bw)``, posted writes ``ceil(bytes / bw)``)."""
    bw = link_bandwidth(spec)
    lat = spec.dram_latency_cycles
    occ_r = read_cycles(sched.load_bytes, bw, lat)
    occ_s = read_cycles(sched.serial_load_bytes, bw, lat)
    occ_w = write_cycles(sched.write_bytes, bw)
    n = sched.steps
    prev_w = np.concatenate([[0], occ_w[:-1]])
    next_r = np.concatenate([occ_r[1:], [0]])
    next_s = np.concatenate([occ_s[1:], [0]])
    step = np.maximum(sched.compute_cycles, prev_w + next_r) + next_s
    prologue, epilogue = int(occ_r[0]), int(occ_w[-1]) if n else 0
    starts = prologue + np.concatenate([[0], np.cumsum(step)[:-1]])
    return Timing(prologue + int(step.sum()) + epilogue, int(sched.compute_cycles.sum()), starts, prologue, epilogue)


def vector_cycles(ops: int, read_bytes: int, write_bytes: int, spec: BitSerialSpec) -> tuple[int, int]:
    """``(cycles, compute_cycles)`` of a non-GEMM op: the larger of ``ceil(ops / lanes)`` and
    ``write + load`` of its operands (they stream while it computes)."""
    comp = math.ceil(ops / spec.vector_lanes)
    bw = link_bandwidth(spec)
    mem = int(write_cycles(np.asarray([write_bytes]), bw)[0]) + int(
        read_cycles(np.asarray([read_bytes]), bw, spec.dram_latency_cycles)[0])
    return max(comp, mem), comp
