"""Synthetic graph families for the mapping tests and benchmark, as plain graph documents
(:mod:`archsim.workload.importers.plain_graph`), with exactly ``n_ops`` ops each.

* :func:`chain`: a plain chain of convolution-like ops (one topological order);
* :func:`branchy`: Inception-v1-like modules (Szegedy et al. 2015, Fig. 2b): four branches
  (1x1; 1x1 -> 3x3; 1x1 -> 5x5; pool -> 1x1) joined by a concat;
* :func:`transformer`: pre-norm decoder layers (LayerNorm, Q/K/V projections, scores, softmax,
  context, output projection, residual add, LayerNorm, FC1, GELU, FC2, residual add);
* :func:`nas_cells`: random NASNet-style cells (Zoph et al. 2018, §3): each cell reads the
  outputs of the previous two cells, preprocesses both, then builds 5 blocks that each combine
  two earlier values of the cell with random ops, and concatenates the block outputs nobody
  else read.

Sizes are int8 bytes of realistic feature maps (e.g. 28x28x192) with a seeded random jitter, so
the graphs are reproducible from ``(n_ops, seed)``. Ops past ``n_ops`` are cut off; outputs they
would have read become graph outputs.
"""

from __future__ import annotations

import random
from typing import Any

from archsim.workload.graph import Graph
from archsim.workload.importers.plain_graph import plain_graph

FAMILIES = ("chain", "branchy", "transformer", "nas")


class _Builder:
    def __init__(self, name: str, n_ops: int, seed: int):
        self.name = name
        self.n_ops = n_ops
        self.rng = random.Random(seed)
        self.ops: list[dict[str, Any]] = []
        self.edges: list[list[str]] = []
        self.inputs: dict[str, int] = {}

    @property
    def full(self) -> bool:
        return len(self.ops) >= self.n_ops

    def op(self, name: str, out_bytes: int, srcs: list[str], weight_bytes: int = 0) -> str:
        if self.full:
            return name
        self.ops.append({"name": name, "output_bytes": max(1, int(out_bytes)), "weight_bytes": int(weight_bytes)})
        known = {o["name"] for o in self.ops} | set(self.inputs)
        for s in dict.fromkeys(srcs):
            if s in known:
                self.edges.append([s, name])
        return name

    def jitter(self, x: float, spread: float = 0.25) -> int:
        return max(1, int(x * (1 + self.rng.uniform(-spread, spread))))

    def doc(self) -> dict[str, Any]:
        names = {o["name"] for o in self.ops}
        edges = [e for e in self.edges if e[1] in names]
        return {"name": self.name, "inputs": self.inputs, "ops": self.ops, "edges": edges}


def chain(n_ops: int, seed: int = 0) -> dict[str, Any]:
    b = _Builder(f"chain{n_ops}_s{seed}", n_ops, seed)
    b.inputs["x"] = 56 * 56 * 64
    prev = "x"
    hw, ch = 56, 64
    i = 0
    while not b.full:
        if i % 6 == 5 and hw > 7:
            hw //= 2
            ch = min(1024, ch * 2)
        k = 3 if i % 2 else 1
        prev = b.op(f"conv{i}", b.jitter(hw * hw * ch), [prev], b.jitter(k * k * ch * ch // 2))
        i += 1
    return b.doc()


def branchy(n_ops: int, seed: int = 0) -> dict[str, Any]:
    b = _Builder(f"branchy{n_ops}_s{seed}", n_ops, seed)
    hw, ch = 28, 192
    b.inputs["x"] = hw * hw * ch
    prev = "x"
    m = 0
    while not b.full:
        p = f"m{m}"
        out = min(1024, b.jitter(ch * 1.1, 0.1))  # module widths grow slowly (256 .. 1024 in GoogLeNet)
        # branch shares of Inception 3a (64/128/32/32 of 256) and its 1x1 reductions (96, 16 of 192)
        c1, c3, c5 = b.jitter(out * 0.25, 0.2), b.jitter(out * 0.5, 0.2), b.jitter(out * 0.125, 0.2)
        cp = max(1, out - c1 - c3 - c5)
        c3r, c5r = b.jitter(ch * 0.5, 0.2), b.jitter(ch * 0.08, 0.2)
        a = b.op(f"{p}.b1_1x1", hw * hw * c1, [prev], ch * c1)
        r3 = b.op(f"{p}.b2_1x1", hw * hw * c3r, [prev], ch * c3r)
        b3 = b.op(f"{p}.b2_3x3", hw * hw * c3, [r3], 9 * c3r * c3)
        r5 = b.op(f"{p}.b3_1x1", hw * hw * c5r, [prev], ch * c5r)
        b5 = b.op(f"{p}.b3_5x5", hw * hw * c5, [r5], 25 * c5r * c5)
        pl = b.op(f"{p}.b4_pool", hw * hw * ch, [prev])
        bp = b.op(f"{p}.b4_1x1", hw * hw * cp, [pl], ch * cp)
        ch = c1 + c3 + c5 + cp
        prev = b.op(f"{p}.concat", hw * hw * ch, [a, b3, b5, bp])
        m += 1
        if m % 3 == 0 and hw > 7:
            hw //= 2
            prev = b.op(f"pool{m}", hw * hw * ch, [prev])
    return b.doc()


def transformer(n_ops: int, seed: int = 0, *, seq: int = 128, hidden: int = 768, heads: int = 12) -> dict[str, Any]:
    b = _Builder(f"transformer{n_ops}_s{seed}", n_ops, seed)
    act = seq * hidden
    b.inputs["x"] = act
    prev = "x"
    layer = 0
    while not b.full:
        p = f"l{layer}"
        ln = b.op(f"{p}.ln1", act, [prev], 2 * hidden)
        q = b.op(f"{p}.q", act, [ln], hidden * hidden)
        k = b.op(f"{p}.k", act, [ln], hidden * hidden)
        v = b.op(f"{p}.v", act, [ln], hidden * hidden)
        s = b.op(f"{p}.score", heads * seq * seq, [q, k])
        sm = b.op(f"{p}.softmax", heads * seq * seq, [s])
        c = b.op(f"{p}.context", act, [sm, v])
        o = b.op(f"{p}.o_proj", act, [c], hidden * hidden)
        r1 = b.op(f"{p}.add1", act, [prev, o])
        ln2 = b.op(f"{p}.ln2", act, [r1], 2 * hidden)
        f1 = b.op(f"{p}.fc1", 4 * act, [ln2], 4 * hidden * hidden)
        g = b.op(f"{p}.gelu", 4 * act, [f1])
        f2 = b.op(f"{p}.fc2", act, [g], 4 * hidden * hidden)
        prev = b.op(f"{p}.add2", act, [r1, f2])
        layer += 1
    return b.doc()


def nas_cells(n_ops: int, seed: int = 0, *, blocks: int = 5) -> dict[str, Any]:
    b = _Builder(f"nas{n_ops}_s{seed}", n_ops, seed)
    hw, ch = 32, 32
    b.inputs["x"] = hw * hw * ch
    prev2, prev1 = "x", b.op("stem", hw * hw * ch, ["x"], 27 * ch)
    cell = 0
    while not b.full:
        p = f"c{cell}"
        reduce = cell % 4 == 3 and hw > 4
        out_hw = hw // 2 if reduce else hw
        if reduce:
            ch *= 2
        fm = out_hw * out_hw * ch
        h0 = b.op(f"{p}.pre0", fm, [prev2], ch * ch)
        h1 = b.op(f"{p}.pre1", fm, [prev1], ch * ch)
        avail = [h0, h1]
        used: set[str] = set()
        for k in range(blocks):
            ins = b.rng.sample(avail, 2) if len(avail) >= 2 else avail * 2
            outs = []
            for j, src in enumerate(ins):
                kind = b.rng.choice(("sep3", "sep5", "pool", "id"))
                if kind == "id":
                    outs.append(src)
                    continue
                w = {"sep3": 9 * ch + ch * ch, "sep5": 25 * ch + ch * ch, "pool": 0}[kind]
                outs.append(b.op(f"{p}.b{k}_{j}_{kind}", b.jitter(fm, 0.05), [src], w))
            used.update(ins)
            avail.append(b.op(f"{p}.b{k}_add", fm, outs))
        loose = [a for a in avail[2:] if a not in used]
        prev2, prev1 = prev1, b.op(f"{p}.concat", fm * len(loose), loose)
        hw = out_hw
        cell += 1
    return b.doc()


GENERATORS = {"chain": chain, "branchy": branchy, "transformer": transformer, "nas": nas_cells}


def family_graph(family: str, n_ops: int, seed: int = 0) -> Graph:
    """A :class:`Graph` of ``n_ops`` ops of ``family`` (one of :data:`FAMILIES`)."""
    if family not in GENERATORS:
        raise ValueError(f"family must be one of {FAMILIES}, got {family!r}")
    return plain_graph(GENERATORS[family](n_ops, seed), source=None)
