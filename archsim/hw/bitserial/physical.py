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

**Memory.** Tiles run in one of two loop nests: *channels-outer* keeps a chunk of channel
blocks of B (``rows x k`` each) on chip while the token tiles of A stream past, each tile kept
across the chunk's blocks; *tokens-outer* keeps a chunk of A token tiles while B's blocks stream,
each block kept across the chunk's tiles. A chunk fills half its buffer (so the next one loads
meanwhile), all of it (fewer re-reads of the other operand, but the next chunk's load waits) or
nothing (both operands stream). When a full-width tile's operand does not fit its buffer (a long
reduction), tiles using fewer token (or channel) lines are tried as well. The op uses the fastest
of these mappings (the mapper's job, done per op). An operand that fits its
buffer whole is read once; a unit too big for its buffer is re-streamed in reduction slices for
every tile that needs it. Outputs are written once. A DMA engine loads tile ``s+1`` and writes
tile ``s-1`` while tile ``s`` computes (double buffering); a load that replaces a resident chunk
or block when the buffer has no room for both cannot be prefetched and waits for the tile before
it (a *serial* load):
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
from archsim.hw.link import link_bandwidth, read_cycles, write_cycles
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


def _nest(outer: np.ndarray, inner: np.ndarray, cap_o: int, cap_i: int, chunk_cap: int | None) -> dict:
    """Steps of the loop nest ``for chunk of outer units: for inner unit: for outer unit in chunk``.

    An outer chunk is as many outer units as fit ``chunk_cap`` (at least one; kept on chip across
    the inner loop; ``chunk_cap`` is the whole buffer or half of it, so the next chunk can load;
    ``None`` streams the outer operand instead: re-read at every step); an inner unit is kept
    across the chunk's outer units when it fits ``cap_i`` and, when all of the inner operand fits,
    across chunks too. A unit that is not kept is re-streamed at every step (in reduction-dimension
    slices that prefetch like any other load). A load that replaces a kept chunk or unit without
    room for both is *serial* (it cannot be prefetched)."""
    n_o, n_i = len(outer), len(inner)
    outer_res = chunk_cap is not None and int(outer.max()) <= cap_o
    per = max(1, chunk_cap // int(outer.max())) if outer_res else 1
    inner_all = int(inner.sum()) <= cap_i
    inner_res = int(inner.max()) <= cap_i and (per > 1 or inner_all)
    chunks = [np.arange(q, min(q + per, n_o)) for q in range(0, n_o, per)]
    o_idx = np.concatenate([np.tile(u, n_i) for u in chunks])
    i_idx = np.concatenate([np.repeat(np.arange(n_i), len(u)) for u in chunks])
    q_idx = np.concatenate([np.full(len(u) * n_i, q) for q, u in enumerate(chunks)])
    first_o = np.concatenate([np.tile(np.arange(len(u)) == 0, n_i) for u in chunks])
    chunk_bytes = np.array([int(outer[u].sum()) for u in chunks], np.int64)
    load_o = np.where((i_idx == 0) | (not outer_res), outer[o_idx], 0)
    load_i = np.where((first_o & ((q_idx == 0) | (not inner_all))) | (not inner_res), inner[i_idx], 0)
    prev_chunk = np.concatenate([[0], chunk_bytes])[q_idx]
    serial_o = outer_res & (q_idx > 0) & (i_idx == 0) & first_o & (prev_chunk + outer[o_idx] > cap_o)
    prev_i = np.concatenate([[0], inner[i_idx][:-1]])
    serial_i = (inner_res & (not inner_all) & first_o & (np.arange(len(i_idx)) > 0)
                & (prev_i + inner[i_idx] > cap_i))
    traffic = (int(outer.sum()) * (1 if outer_res else n_i)
               + int(inner.sum()) * (1 if inner_all else len(chunks) if inner_res else n_o))
    return {"o": o_idx, "i": i_idx, "load_o": load_o, "load_i": load_i, "serial_o": serial_o, "serial_i": serial_i,
            "traffic": traffic}


def _narrow_widths(full: int, per_lane_bytes: float, cap: int) -> list[int]:
    """Tile widths to try: the whole array side, plus (when a full-width tile does not fit the
    buffer) the widest that fits all of it and the widest that fits half of it."""
    widths = [full]
    if full * per_lane_bytes > cap:
        for c in (cap, cap // 2):
            w = int(c // per_lane_bytes)
            if 1 <= w < full and w not in widths:
                widths.append(w)
    return widths


def schedule(job: GemmJob, spec: BitSerialSpec) -> Schedule:
    """The op's output tiles in loop order with their DMA (see module docstring and :func:`_nest`):
    ``channels-outer`` keeps chunks of B channel blocks and streams A token tiles; ``tokens-outer``
    keeps chunks of A token tiles and streams B blocks; chunks fill half the buffer (prefetched),
    all of it (fewer re-reads, serial chunk loads) or nothing (the outer operand streamed too).
    When a full-width tile's operand does not fit its buffer (a long reduction, e.g. a down
    projection with FP16 activations), narrower tiles using fewer token lines (or channel lines)
    are tried too: more tiles, less re-reading. The fastest mapping is used (fewer DRAM bytes,
    then the first tried, on a tie)."""
    tt = tile_timing(job, spec)
    bits_b = Fraction(job.b_bits).limit_denominator(1 << 16)
    a_row = math.ceil(job.k * job.a_bits / 8)
    cap_w, cap_a = spec.weight_buffer_bytes, spec.act_buffer_bytes
    best = None
    fills = {"half": 2, "full": 1, "stream": None}
    for width_c in _narrow_widths(job.rows, job.k * float(bits_b) / 8, cap_w):
        ch = _split(job.n, width_c)  # channels per block
        # B block bytes telescope to the total: ceil(end*k*bits/8) - ceil(start*k*bits/8)
        ends = np.concatenate([[0], np.cumsum(ch)]) * job.k
        edges = -((-ends * bits_b.numerator) // (bits_b.denominator * 8))
        b_block = np.diff(edges)
        for width_t in _narrow_widths(job.cols, a_row, cap_a):
            tok = _split(job.m, width_t)  # tokens per tile
            a_tile = tok * a_row
            for order in ("channels-outer", "tokens-outer"):
                for fill, div in fills.items():
                    if order == "channels-outer":
                        nest = _nest(b_block, a_tile, cap_w, cap_a, cap_w // div if div else None)
                        ci, ti = nest["o"], nest["i"]
                        load_b, load_a, ser_b, ser_a = nest["load_o"], nest["load_i"], nest["serial_o"], nest["serial_i"]
                    else:
                        nest = _nest(a_tile, b_block, cap_a, cap_w, cap_a // div if div else None)
                        ti, ci = nest["o"], nest["i"]
                        load_a, load_b, ser_a, ser_b = nest["load_o"], nest["load_i"], nest["serial_o"], nest["serial_i"]
                    label = f"{order}/{fill}"
                    if width_t != job.cols or width_c != job.rows:
                        label += f"/tile {width_c}x{width_t}"
                    cand = _build(job, tt, tok, ch, ti, ci, load_a, load_b, ser_a, ser_b, label,
                                  int(a_tile.sum()), int(edges[-1]))
                    key = (timing(cand, spec).cycles, nest["traffic"])
                    if best is None or key < best[0]:
                        best = (key, cand)
    return best[1]


def _build(job: GemmJob, tt: TileTiming, tok, ch, ti, ci, load_a, load_b, ser_a, ser_b, order: str,
           a_total: int, b_total: int) -> Schedule:
    out_elems = tok[ti] * ch[ci]
    ob = Fraction(job.out_bits).limit_denominator(1 << 16)
    write = -((-out_elems * ob.numerator) // (ob.denominator * 8))
    serial = np.where(ser_a, load_a, 0) + np.where(ser_b, load_b, 0)
    load = (load_a + load_b - serial).astype(np.int64)
    serial = serial.astype(np.int64)
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
