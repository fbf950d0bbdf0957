"""GEMV partitioning across PIM scopes and units (PIM-GPT's mapping), as per-scope command programs.

All units of a scope run in lock step (an all-bank MAC reads the same column of every unit's open
row and the same global-buffer entry), so a scope's units always work on outputs that need the
same input-vector tile. Output ``n`` of a VMM goes to unit ``g = n mod T`` (``T`` = units of the
device; unit ``g`` is unit ``g mod U`` of scope ``g div U``), slot ``n div T``. Each unit stores the
weights of its outputs one after another, so rows fill completely; a weight column longer than
the global buffer is split into K-tiles (one phase per tile, each reloading the buffer), and the
ASIC adds the tiles' partial sums (PIM-GPT: "tiles larger than a row are split across rows").

Attention (PIM-GPT: heads concatenated to fill rows; K row-major, V column-major):

* **K** is row-major: token ``t`` goes to unit ``t mod T``; its keys of all KV heads are stored
  together, so a row holds whole tokens of every head. The score phase loads the query of a tile of
  heads into the buffer; each (token, head) is one output of ``head_dim`` elements.
* **V** is column-major: output column ``(kv head, d)`` holds ``V[:, d]`` of that head, ``L``
  elements, in a region reserved for ``kv_positions`` tokens. Columns go to units in blocks of
  ``U`` (one slot of one scope); a scope's blocks are consecutive in head order so consecutive
  blocks share the probability vector in the buffer. Contexts longer than the buffer are split
  into tiles whose partial sums the ASIC adds.
* The new token's K vector is written to its unit (ACT, WR bursts, PRE on one bank); its V
  values, one per column, are written with ACT_AB and one masked WR burst per unit.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from archsim.errors import InputError
from archsim.hw.dram_pim.program import BankAccess, MacPhase, RowWrite, ScopeProgram
from archsim.hw.dram_pim.spec import PimSpec


def _ceil(a: int, b: int) -> int:
    return -(-a // b)


@dataclass(frozen=True)
class Vmm:
    """The programs of one VMM step (one per scope) and what they compute."""

    programs: tuple[ScopeProgram, ...]
    outputs: int  # result values produced (partial sums included)
    macs: int  # multiply-accumulates of real work
    partial_sums: int  # results the ASIC adds to an earlier partial sum (K-tiles)


def _bank_of(spec: PimSpec, unit: int, pos: np.ndarray | int):
    """Bank and its row of unit-layout burst position ``pos`` (a unit row spans ``banks_per_unit``
    banks, alternating column by column)."""
    R = spec.unit_row_bursts
    col = pos % R
    return unit * spec.banks_per_unit + col % spec.banks_per_unit, pos // R


def _mac_phase(spec: PimSpec, gb_bursts: int, pos: np.ndarray, seg: int, active: np.ndarray, macs: int,
               base_row: int) -> MacPhase:
    """A phase whose segments of ``seg`` bursts start at the unit positions ``pos`` (one per segment)."""
    off = (pos[:, None] + np.arange(seg)[None, :]).ravel()
    last = np.zeros(len(off), dtype=bool)
    last[seg - 1::seg] = True
    single = spec.single_bank_mac and spec.banks_per_unit == 1 and len(active) and int(active.max()) == 1
    return MacPhase(gb_bursts=gb_bursts, rows=base_row + off // spec.unit_row_bursts, last=last,
                    bank=0 if single else -1, useful_macs=macs, active_units=int(active.max()) if len(active) else 0)


def weight_vmm(spec: PimSpec, k: int, n: int) -> Vmm:
    """``y[n] = x[k] @ W[k, n]`` with the weights resident in the banks."""
    S, U, T = spec.scopes, spec.units_per_scope, spec.units
    epb, gbe = spec.elems_per_burst, spec.gb_elems
    tiles = [(k0, min(gbe, k - k0)) for k0 in range(0, k, gbe)]
    progs = []
    for s in range(S):
        first = s * U
        slots = _ceil(n - first, T) if n > first else 0
        active = np.clip(n - np.arange(slots) * T - first, 0, U)
        outs = int(active.sum())
        phases, off = [], 0
        for _, kt in tiles:
            if not slots:
                break
            b = _ceil(kt, epb)
            pos = off + np.arange(slots) * b
            phases.append(_mac_phase(spec, b, pos, b, active, kt * outs, 0))
            off += slots * b
        progs.append(ScopeProgram(tuple(phases)))
    return Vmm(tuple(progs), outputs=n * len(tiles), macs=k * n, partial_sums=n * (len(tiles) - 1))


def kv_tiles(spec: PimSpec, kv_heads: int, head_dim: int, group: int) -> list[tuple[int, int, int, int]]:
    """Tiles ``(kv head from, to, d from, to)`` of the score step: the queries of a tile (``group``
    per KV head, each burst-aligned) fit the global buffer; heads are split along ``d`` if one
    group's queries do not."""
    gbe, epb = spec.gb_elems, spec.elems_per_burst
    hb = _ceil(head_dim, epb)
    if group * hb * epb <= gbe:
        per = gbe // (group * hb * epb)
        return [(k0, min(kv_heads, k0 + per), 0, head_dim) for k0 in range(0, kv_heads, per)]
    chunk = (gbe // group) // epb * epb
    if chunk <= 0:
        raise InputError(None, "gb_bytes", f"a global buffer that holds {group} query slices of one burst "
                         f"({group * spec.standard.burst_bytes} B)", spec.gb_bytes)
    return [(h, h + 1, d0, min(head_dim, d0 + chunk)) for h in range(kv_heads) for d0 in range(0, head_dim, chunk)]


def _tile_bursts(tile: tuple[int, int, int, int], epb: int) -> tuple[int, int]:
    """``(bursts per head slice, bursts per token)`` of a score tile."""
    k0, k1, d0, d1 = tile
    hb = _ceil(d1 - d0, epb)
    return hb, (k1 - k0) * hb


def _token_slots(spec: PimSpec, kv_positions: int) -> int:
    return _ceil(kv_positions, spec.units)


def score_vmm(spec: PimSpec, context: int, heads: int, kv_heads: int, head_dim: int, kv_positions: int) -> Vmm:
    """``s[h, t] = q_h . K[t, kvh(h)]`` over ``context`` tokens (K row-major, heads together)."""
    S, U, T, epb = spec.scopes, spec.units_per_scope, spec.units, spec.elems_per_burst
    group = heads // kv_heads
    tiles = kv_tiles(spec, kv_heads, head_dim, group)
    pmax = _token_slots(spec, kv_positions)
    bases, b0 = [], 0
    for tile in tiles:
        bases.append(b0)
        b0 += pmax * _tile_bursts(tile, epb)[1]
    progs = []
    for s in range(S):
        first = s * U
        slots = _ceil(context - first, T) if context > first else 0
        active = np.clip(context - np.arange(slots) * T - first, 0, U)
        toks = int(active.sum())
        phases = []
        for tile, base in zip(tiles, bases):
            if not slots:
                break
            k0, k1, d0, d1 = tile
            hb, tokb = _tile_bursts(tile, epb)
            qheads = np.arange(k0 * group, k1 * group)
            kv_local = qheads // group - k0
            pos = (base + np.arange(slots)[:, None] * tokb + kv_local[None, :] * hb).ravel()
            gb = len(qheads) * hb
            phases.append(_mac_phase(spec, gb, pos, hb, active, toks * len(qheads) * (d1 - d0), 0))
        progs.append(ScopeProgram(tuple(phases)))
    chunks = _ceil(head_dim, tiles[0][3] - tiles[0][2])  # d-slices per head (1 unless split)
    partial = context * heads * (chunks - 1)
    return Vmm(tuple(progs), outputs=context * heads * chunks, macs=context * heads * head_dim,
               partial_sums=partial)


def _context_blocks(spec: PimSpec, kv_heads: int, head_dim: int) -> list[list[tuple[int, int]]]:
    """Per scope, its V-column blocks ``(kv head, block)`` in head order (contiguous, balanced)."""
    S, U = spec.scopes, spec.units_per_scope
    nbh = _ceil(head_dim, U)
    blocks = [(h, b) for h in range(kv_heads) for b in range(nbh)]
    per, extra = divmod(len(blocks), S)
    out, i = [], 0
    for s in range(S):
        cnt = per + (1 if s < extra else 0)
        out.append(blocks[i:i + cnt])
        i += cnt
    return out


def context_vmm(spec: PimSpec, context: int, heads: int, kv_heads: int, head_dim: int, kv_positions: int) -> Vmm:
    """``o[h, d] = sum_t p[h, t] V[t, kvh(h), d]`` (V column-major, one column per unit and slot)."""
    U, epb, gbe = spec.units_per_scope, spec.elems_per_burst, spec.gb_elems
    group = heads // kv_heads
    rv = _ceil(kv_positions, epb)
    ttiles = [(t0, min(gbe, context - t0)) for t0 in range(0, context, gbe)]
    progs = []
    for blocks in _context_blocks(spec, kv_heads, head_dim):
        phases = []
        by_head: dict[int, list[tuple[int, int]]] = {}
        for j, (h, b) in enumerate(blocks):
            by_head.setdefault(h, []).append((j, b))
        for kvh, items in by_head.items():
            js = np.array([j for j, _ in items])
            active = np.array([min(U, head_dim - b * U) for _, b in items])
            for _h in range(kvh * group, (kvh + 1) * group):
                for t0, lt in ttiles:
                    seg = _ceil(lt, epb)
                    pos = js * rv + t0 // epb
                    phases.append(_mac_phase(spec, seg, pos, seg, active, lt * int(active.sum()), 0))
        progs.append(ScopeProgram(tuple(phases)))
    partial = heads * head_dim * (len(ttiles) - 1)
    return Vmm(tuple(progs), outputs=heads * head_dim + partial, macs=context * heads * head_dim,
               partial_sums=partial)


def kv_write(spec: PimSpec, position: int, heads: int, kv_heads: int, head_dim: int, kv_positions: int) -> Vmm:
    """Write the K and V of the token at ``position`` (0-based) into the cache layouts above."""
    S, U, T, epb = spec.scopes, spec.units_per_scope, spec.units, spec.elems_per_burst
    group = heads // kv_heads
    per_scope: list[list] = [[] for _ in range(S)]
    # K: one unit, the token's slice of every score tile (contiguous bursts)
    g = position % T
    s, u, j = g // U, g % U, position // T
    pmax = _token_slots(spec, kv_positions)
    base = 0
    for tile in kv_tiles(spec, kv_heads, head_dim, group):
        _, tokb = _tile_bursts(tile, epb)
        pos = base + j * tokb + np.arange(tokb)
        bank, row = _bank_of(spec, u, pos)
        for bk, rw in dict.fromkeys(zip(bank.tolist(), row.tolist())):
            n = int(np.sum((bank == bk) & (row == rw)))
            per_scope[s].append(BankAccess(bank=bk, row=rw, bursts=n, write=True))
        base += pmax * tokb
    # V: one element per column, every unit of a block at the same row
    rv = _ceil(kv_positions, epb)
    vbase = 1 << 30  # V rows are not K rows
    for sc, blocks in enumerate(_context_blocks(spec, kv_heads, head_dim)):
        for jb, (_h, b) in enumerate(blocks):
            pos = jb * rv + position // epb
            units = range(min(U, head_dim - b * U))
            per_bg = spec.standard.banks_per_group
            # one WR per unit; the controller alternates bank groups (tCCD_S instead of tCCD_L)
            banks = tuple(sorted((int(_bank_of(spec, uu, pos)[0]) for uu in units),
                                 key=lambda bk: (bk % per_bg, bk // per_bg)))
            per_scope[sc].append(RowWrite(row=vbase + pos // spec.unit_row_bursts, banks=banks))
    progs = tuple(ScopeProgram(tuple(p)) for p in per_scope)
    return Vmm(progs, outputs=0, macs=0, partial_sums=0)


def embedding_read(spec: PimSpec, hidden: int, positions: bool) -> Vmm:
    """Read a token's embedding row (and its position embedding) to the ASIC: ``hidden`` elements
    from one unit (token id 0's unit; every id costs the same), the position row from the next
    scope."""
    S, epb = spec.scopes, spec.elems_per_burst
    per_scope: list[list] = [[] for _ in range(S)]
    n = _ceil(hidden, epb)
    for s in ([0, 1 % S] if positions else [0]):
        bank, row = _bank_of(spec, 0, np.arange(n))
        for bk, rw in dict.fromkeys(zip(bank.tolist(), row.tolist())):
            cnt = int(np.sum((bank == bk) & (row == rw)))
            per_scope[s].append(BankAccess(bank=bk, row=rw + (1 << 29) * (1 + len(per_scope[s])), bursts=cnt,
                                           write=False))
    return Vmm(tuple(ScopeProgram(tuple(p)) for p in per_scope), outputs=0, macs=0, partial_sums=0)


def reserved_positions(spec: PimSpec, max_positions: int) -> int:
    """KV slots reserved per layer: the spec's ``kv_positions`` or the model's maximum."""
    return spec.kv_positions or max_positions


def kv_cache_bytes(spec: PimSpec, layers: int, kv_heads: int, head_dim: int, kv_positions: int) -> int:
    """Bytes the reserved K and V regions take (per-unit slots rounded to whole bursts)."""
    epb, bb = spec.elems_per_burst, spec.standard.burst_bytes
    k = _token_slots(spec, kv_positions) * spec.units * kv_heads * _ceil(head_dim, epb) * bb
    v = kv_heads * head_dim * _ceil(kv_positions, epb) * bb
    return layers * (k + v)


def weight_bytes_resident(spec: PimSpec, k: int, n: int) -> int:
    """Bytes a ``k x n`` weight matrix occupies in the units (slots and burst alignment included)."""
    return _ceil(n, spec.units) * spec.units * sum(_ceil(min(spec.gb_elems, k - k0), spec.elems_per_burst)
                                                    for k0 in range(0, k, spec.gb_elems)) * spec.standard.burst_bytes


def rows_of(bursts: int, spec: PimSpec) -> int:
    return math.ceil(bursts / spec.unit_row_bursts)
