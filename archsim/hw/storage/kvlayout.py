"""KV-cache geometry and layout: the decode step's shape, bytes per token, pages per attention
task, the split over drives, the pages flushed per step and the sparse (SparQ) selection.

Arithmetic (checked by hand in tests/storage):

* KV bytes per token = ``2 (K and V) x layers x kv_heads x head_dim x dtype bytes``; OPT-13B:
  ``2 x 40 x 40 x 128 x 2 = 819,200 B`` (0.78 MiB, InstInfer Sec. VI-F).
* token-indexed layout (InstInfer Sec. IV-C): one page holds ``page_bytes / (head_dim x dtype
  bytes)`` consecutive tokens of one head (16 for OPT's 128 x FP16 in 4 KiB). A page reaches
  flash when it is full; the newest tokens of a partial page wait in the drive's DRAM (decode K/V
  are buffered in CSD DRAM and flushed as whole pages), so a task reads ``2 floor((S-1)/16)``
  pages and the step that completes a page (``S mod 16 = 0``) programs 2 pages per (sequence,
  KV head) per layer.
* channel-indexed copy of K (sparse only): ``c`` head dimensions per page, so
  ``page_bytes / (c x dtype bytes)`` tokens per page (1,024 for c = 2); also flushed when full.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

from archsim.errors import InputError
from archsim.hw.storage.spec import StorageSpec
from archsim.workload.graph import DTYPE_BITS, Graph, OpKind


@dataclass(frozen=True)
class DecodeShape:
    """One decode step: ``batch`` sequences at context ``context`` (tokens attended, the new one
    included), ``layers`` layers of ``heads`` query heads and ``kv_heads`` KV heads of
    ``head_dim``, KV elements of ``dtype_bytes``."""

    batch: int
    context: int
    layers: int
    heads: int
    kv_heads: int
    head_dim: int
    dtype_bytes: int

    @property
    def group(self) -> int:
        """Query heads per KV head (GQA group size; 1 for multi-head attention)."""
        return self.heads // self.kv_heads

    @property
    def past(self) -> int:
        """Tokens already in the KV cache (the new token's K/V arrive with the step)."""
        return self.context - 1

    @property
    def kv_bytes_per_token(self) -> int:
        return 2 * self.layers * self.kv_heads * self.head_dim * self.dtype_bytes

    @property
    def kv_cache_bytes(self) -> int:
        """Bytes of the whole KV cache of the batch after this step (``context`` tokens each)."""
        return self.batch * self.context * self.kv_bytes_per_token

    @property
    def row_bytes(self) -> int:
        """One token of one head: ``head_dim x dtype bytes``."""
        return self.head_dim * self.dtype_bytes

    def tokens_per_page(self, spec: StorageSpec) -> int:
        tpp = spec.flash_page_bytes // self.row_bytes
        if tpp < 1:
            raise InputError(None, "flash_page_bytes", f"at least one token row ({self.row_bytes} B)",
                             spec.flash_page_bytes)
        return tpp

    def flushed_pages(self, spec: StorageSpec) -> int:
        """Full token-indexed pages of one head's K (or V) on flash before this step."""
        return self.past // self.tokens_per_page(spec)

    def channel_tokens_per_page(self, spec: StorageSpec) -> int:
        tpp = spec.flash_page_bytes // (spec.sparse_channels_per_page * self.dtype_bytes)
        if tpp < 1 or spec.sparse_channels_per_page > self.head_dim:
            raise InputError(None, "sparse_channels_per_page", f"at most {self.head_dim} dimensions that fit a page",
                             spec.sparse_channels_per_page)
        return tpp


def decode_shape(graph: Graph) -> DecodeShape:
    """The decode step of an LLM graph (from its ``attention_score`` ops and KV-cache tensors)."""
    scores = [op for op in graph.ops if op.kind == OpKind.ATTENTION_SCORE]
    if not scores:
        raise InputError(graph.source or graph.name, "ops", "an LLM decode graph (attention_score ops)", graph.name)
    op = scores[0]
    count, q_len, kv_len, head_dim = op.gemm_dims()
    if q_len != 1:
        raise InputError("--phase", None, "decode (storage systems model the decode phase; one new token per "
                         "sequence)", f"{q_len} query tokens per sequence")
    heads = op.attr("heads") or 1
    kv_heads = op.attr("kv_heads") or heads
    cache = [t for t in op.inputs if t.role == "kv_cache"]
    dtype = cache[0].dtype if cache else op.inputs[0].dtype
    if heads % kv_heads or count % heads:
        raise InputError(graph.source or graph.name, f"op {op.name}", "heads divisible by kv_heads and batch*heads",
                         (count, heads, kv_heads))
    return DecodeShape(batch=count // heads, context=kv_len, layers=len(scores), heads=heads, kv_heads=kv_heads,
                       head_dim=head_dim, dtype_bytes=max(1, DTYPE_BITS[dtype] // 8))


def split_even(total: int, parts: int) -> list[int]:
    """``total`` split into ``parts`` near-equal integers, larger ones first (40 over 3: 14, 13, 13)."""
    q, r = divmod(total, parts)
    return [q + (1 if i < r else 0) for i in range(parts)]


def micro_batch_sizes(spec: StorageSpec, batch: int) -> list[int]:
    """Sequences per micro-batch: ``batch`` split over ``min(micro_batches, batch)`` GPU batches."""
    return split_even(batch, min(spec.micro_batches, batch))


@dataclass(frozen=True)
class DriveShare:
    """What one drive holds of one micro-batch: ``sequences`` x ``kv_heads`` attention tasks."""

    drive: int
    sequences: int
    kv_heads: int

    @property
    def tasks(self) -> int:
        return self.sequences * self.kv_heads


def drive_shares(spec: StorageSpec, shape: DecodeShape, sequences: int) -> list[DriveShare]:
    """The split of ``sequences`` x ``kv_heads`` over the drives (by KV head, InstInfer's
    ``n_head / n`` per CSD, or by sequence)."""
    n = spec.drives
    if spec.drive_split == "heads":
        if n > shape.kv_heads:
            raise InputError("--drives", None, f"at most {shape.kv_heads} drives to split {shape.kv_heads} KV heads "
                             "(or drive_split: batch)", n)
        return [DriveShare(i, sequences, h) for i, h in enumerate(split_even(shape.kv_heads, n))]
    if n > sequences:
        raise InputError("--drives", None, f"at most {sequences} drives to split {sequences} sequences by batch", n)
    return [DriveShare(i, s, shape.kv_heads) for i, s in enumerate(split_even(sequences, n))]


def flush_pages_per_pair(spec: StorageSpec, shape: DecodeShape) -> int:
    """Pages one (sequence, KV head) programs in one layer at this step (pages completed by the
    new token: K and V token pages, and the channel-indexed K pages when sparse)."""
    pages = 2 if shape.context % shape.tokens_per_page(spec) == 0 else 0
    if spec.sparse and shape.context % shape.channel_tokens_per_page(spec) == 0:
        pages += math.ceil(shape.head_dim / spec.sparse_channels_per_page)
    return pages


def _p_untouched(pool: int, drawn: int, group: int) -> Fraction:
    """Probability that ``drawn`` items chosen uniformly from ``pool`` miss a given ``group``."""
    p = Fraction(1)
    for i in range(group):
        if pool - drawn - i <= 0:
            return Fraction(0)
        p *= Fraction(pool - drawn - i, pool - i)
    return p


@dataclass(frozen=True)
class SparseSelection:
    """SparQ selection of one task: ``channels`` (r) of the head dimensions and ``tokens`` (k);
    the pages fetched (expected counts, rounded up) and the row bytes moved per token page."""

    channels: int
    tokens: int
    channel_pages: int
    token_pages: int
    row_bytes_per_page: Fraction


def sparse_selection(spec: StorageSpec, shape: DecodeShape) -> SparseSelection:
    """Pages a SparF task reads, for selections placed uniformly at random:

    * r = round(fraction x head_dim) channels lie in an expected
      ``(d/c) (1 - C(d-c, r) / C(d, r))`` channel groups of ``c`` dimensions; each group has
      ``floor((S-1) / tokens_per_channel_page)`` pages on flash;
    * the top-k tokens are chosen in blocks of ``L = sparse_block_tokens`` consecutive tokens:
      ``n = ceil(k / L)`` of the ``B = S div L`` blocks. A token page holds ``t / L`` blocks, so an
      expected ``P (1 - C(B - t/L, n) / C(B, n))`` of the ``P`` full token pages are touched, for K
      and again for V (``L = 1``: scattered tokens; ``L = t``: whole pages, the flash-aware
      choice). A touched page costs a full tR but moves only its selected rows.
    """
    d, s = shape.head_dim, shape.context
    r = min(d, max(1, round(spec.sparse_channel_fraction * d)))
    c = spec.sparse_channels_per_page
    groups = Fraction(math.ceil(d / c)) * (1 - _p_untouched(d, r, c))
    ch_pages = math.ceil(groups * (shape.past // shape.channel_tokens_per_page(spec)))
    tpp = shape.tokens_per_page(spec)
    blk = spec.sparse_block_tokens
    if tpp % blk:
        raise InputError(None, "sparse_block_tokens", f"a divisor of the {tpp} tokens per page", blk)
    blocks = max(1, s // blk)
    chosen = min(blocks, max(1, math.ceil(spec.sparse_token_fraction * s / blk)))
    k = chosen * blk
    full = shape.flushed_pages(spec)
    touched = full * (1 - _p_untouched(blocks, chosen, tpp // blk))
    tok_pages = 2 * math.ceil(touched)
    rows_on_flash = Fraction(k * full * tpp, s)  # expected selected tokens that live on flash
    row_bytes = rows_on_flash * shape.row_bytes / math.ceil(touched) if tok_pages else Fraction(0)
    return SparseSelection(r, k, ch_pages, tok_pages, row_bytes)
