"""The time and energy of one continuous-batching stage (iteration) of an LLM on a device system.

A stage runs every request of the batch once: decoding requests one token each (with their
context), new requests their whole prompt (prefill). Per device and layer the ops are:

* attention block: norm, QKV projection (tensor-parallel: ``1/tp`` of the heads), rotary,
  attention (fused, FlashAttention-style: Q, K, V read once, no score round trip, as Duplex's
  simulator assumes), output projection, NVLink all-reduce of the hidden state, residual add;
* FFN block: norm, dense FFN (tensor-parallel) or MoE (router, experts, combine; expert weights
  split by the :class:`~archsim.serving.plan.Plan`), NVLink all-reduce, InfiniBand all-to-all
  across nodes, residual add;
* embedding before the first layer and, after the last, the final norm, the LM head on the last
  token of each request and an all-gather of the logits.

Each op has a time on the xPU (roofline) and, when a PIM unit may run it (``pim_ops``), on the
PIM. Dispatch follows Duplex (Sec. IV, V-B):

* without co-processing every op group (the decode attention, the prefill attention, a layer's
  experts, an FC) goes whole to the processor that finishes it first, i.e. by its Op/B: the PIM
  when the group's FLOPs per byte are below the PIM's balance point, the xPU above; one processor
  works at a time;
* with co-processing (Duplex+PE) the prefill and decode attention run at the same time on the two
  processors, and a layer's experts are split: start all on the xPU, then move the memory spaces
  (bank-bundle partitions, Sec. V-C; experts are allocated to them round robin) holding the fewest
  tokens to the PIM while that shortens the layer (the greedy of Sec. V-B).

Identical layers are computed once per stage; only the MoE part differs between layers (its
expert loads come from the routing), and it is computed for all layers at once with numpy.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import combinations

import numpy as np

from archsim.energy import EnergyTable
from archsim.errors import InputError
from archsim.serving.model_dims import ModelDims
from archsim.serving.plan import Links, Plan
from archsim.serving.units import IB, NV, PA, PF, PR, PREF, PW, PimUnit, XpuUnit, price_vector, zeros

ROUTINGS = ("random", "balanced")
#: element ops per softmax element (max, subtract, exp, sum, divide)
SOFTMAX_OPS = 5
#: element ops per normalized element (mean/variance or RMS, scale)
NORM_OPS = 5
#: up to this many tokens a stage's top-2 routing is drawn token by token (see uniform_counts)
PER_TOKEN = 4096


@dataclass
class NodeBatch:
    """The requests one node serves in a stage: context lengths of decoding requests (including
    the token being decoded) and prompt lengths of prefilling ones."""

    decode_ctx: np.ndarray
    prefill_len: np.ndarray

    @classmethod
    def of(cls, decode_ctx=(), prefill_len=()) -> NodeBatch:
        return cls(np.asarray(decode_ctx, dtype=np.int64), np.asarray(prefill_len, dtype=np.int64))

    @property
    def tokens(self) -> int:
        return int(len(self.decode_ctx) + self.prefill_len.sum())

    @property
    def requests(self) -> int:
        return int(len(self.decode_ctx) + len(self.prefill_len))


@dataclass(frozen=True)
class Op:
    """One op on one unit (``xpu``, ``pim``, ``nvlink``, ``ib``) of the critical device."""

    name: str
    unit: str
    ns: float
    flops: float = 0.0
    nbytes: float = 0.0


@dataclass
class Segment:
    """Ops that start together; units run in parallel, ops on one unit one after another."""

    name: str
    cls: str
    ops: list[Op]

    @property
    def ns(self) -> float:
        per: dict[str, float] = {}
        for o in self.ops:
            per[o.unit] = per.get(o.unit, 0.0) + o.ns
        return max(per.values(), default=0.0)


@dataclass
class StepCost:
    """A stage's time (``time_ns``), its action counts over all devices (``counts``, see
    :mod:`archsim.serving.units`) and energy, the critical path split by op class
    (``parts_ns``) and each unit's busy time on the critical device (``busy_ns``)."""

    time_ns: float
    counts: np.ndarray
    energy_pj: float
    parts_ns: dict[str, float]
    busy_ns: dict[str, float]
    tokens: int
    requests: int
    moe_on_pim: float = 0.0  # fraction of expert work (tokens x experts) the PIM did
    timeline: list[tuple[int, Segment]] = field(default_factory=list)


CLASSES = ("fc", "attention", "moe", "comm", "other")
UNITS = ("xpu", "pim", "nvlink", "ib")


@dataclass
class _Block:
    """Segments and their totals: time, action counts, time per class, busy time per unit."""

    segs: list[tuple[Segment, np.ndarray]]
    ns: float
    counts: np.ndarray
    parts: np.ndarray
    busy: np.ndarray

    @classmethod
    def of(cls, segs: list[tuple[Segment, np.ndarray]]) -> _Block:
        parts, busy, counts = np.zeros(len(CLASSES)), np.zeros(len(UNITS)), zeros()
        for seg, c in segs:
            parts[CLASSES.index(seg.cls)] += seg.ns
            for o in seg.ops:
                busy[UNITS.index(o.unit)] += o.ns
            counts += c
        return cls(segs, float(parts.sum()), counts, parts, busy)


def uniform_counts(rng: np.random.Generator, tokens: int, experts: int, top_k: int, layers: int,
                   subsets: np.ndarray | None = None) -> np.ndarray:
    """Per layer, expert token counts when each token picks ``top_k`` distinct experts uniformly
    (Duplex Sec. VI, after Switch Transformers [11]); exact in distribution, at a cost that does
    not grow with the token count:

    * ``k = 1``: a multinomial over the experts;
    * ``k = 2``: a token's ordered pair is a uniform first expert ``i`` and a uniform second among
      the other ``E - 1`` (the second drawn from ``E - 1`` and shifted past ``i``): token by token
      up to ``PER_TOKEN`` tokens, else first picks ``n ~ Mult(T, 1/E)`` and, for each ``i``,
      second picks ``Mult(n_i, 1/(E-1))`` over the other experts;
    * otherwise a multinomial over the ``C(E, k)`` subsets (``subsets``, built when not given)."""
    E, L = experts, layers
    if top_k == 1:
        return rng.multinomial(tokens, np.full(E, 1.0 / E), size=L).astype(np.int64)
    if top_k == 2 and tokens <= PER_TOKEN:
        first = rng.integers(0, E, size=(L, tokens))
        second = rng.integers(0, E - 1, size=(L, tokens))
        second += second >= first
        base = np.arange(L)[:, None] * E
        flat = np.concatenate([(first + base).ravel(), (second + base).ravel()])
        return np.bincount(flat, minlength=L * E).reshape(L, E).astype(np.int64)
    if top_k == 2:
        first = rng.multinomial(tokens, np.full(E, 1.0 / E), size=L)                   # (L, E)
        second = rng.multinomial(first, np.full(E - 1, 1.0 / (E - 1)))                 # (L, E, E-1)
        out = first.copy()
        j = np.arange(E - 1)
        for i in range(E):  # slot j of first expert i is expert j + (j >= i)
            out[:, np.where(j < i, j, j + 1)] += second[:, i, :]
        return out.astype(np.int64)
    if subsets is None:
        subsets = np.array(list(combinations(range(E), top_k)), dtype=np.int64)
    draws = rng.multinomial(tokens, np.full(len(subsets), 1.0 / len(subsets)), size=L)  # (L, S)
    idx = np.arange(L)[:, None, None] * E + subsets[None, :, :]                       # (L, S, k)
    w = np.broadcast_to(draws[:, :, None], idx.shape)
    return np.bincount(idx.ravel(), weights=w.ravel(), minlength=L * E).reshape(L, E).astype(np.int64)


def balanced_counts(tokens: int, experts: int, top_k: int, layers: int) -> np.ndarray:
    total = tokens * top_k
    base, extra = divmod(total, experts)
    row = np.array([base + (1 if e < extra else 0) for e in range(experts)], dtype=np.int64)
    return np.tile(row, (layers, 1))


class StepModel:
    """Stage cost of ``dims`` on ``plan`` devices, each an ``xpu`` (+ a ``pim``), see the module
    docstring. ``capacity_bytes`` is one device's memory; ``spaces`` the memory spaces experts are
    allocated to; ``ways`` the bundles the PIM alternates between when its work spans two or more
    spaces."""

    def __init__(self, dims: ModelDims, plan: Plan, xpu: XpuUnit, pim: PimUnit | None, links: Links,
                 table: EnergyTable, *, capacity_bytes: int, co_processing: bool = False,
                 pim_ops: tuple[str, ...] = ("attention", "moe"), routing: str = "random", spaces: int = 4,
                 ways: int = 2, name: str = ""):
        if routing not in ROUTINGS:
            raise InputError(None, "routing", f"one of {list(ROUTINGS)}", routing)
        self.dims, self.plan, self.xpu, self.pim, self.links = dims, plan, xpu, pim, links
        self.table, self.capacity_bytes = table, capacity_bytes
        self.co_processing = bool(co_processing and pim is not None)
        self.pim_ops = tuple(pim_ops) if pim is not None else ()
        self.routing, self.spaces, self.ways, self.name = routing, spaces, ways, name
        self.pim_class = pim.read_class if pim is not None else "pim_path"
        self.pim_mac = pim.mac_class if pim is not None else "mac"
        self.prices, self.unpriced = price_vector(table, self.pim_class, self.pim_mac)
        b = dims.dtype_bytes
        self.b = b
        t = plan.tp
        self.hq = dims.heads // t if dims.heads >= t else 1
        self.kvh = plan.kv_heads_on_device(dims)
        if dims.experts:
            groups, frac = plan.expert_owners(dims)
            sizes = {len(g) for g in groups}
            if len(sizes) != 1:
                raise InputError(None, "devices", "a device count that gives every device the same number of experts",
                                 plan.devices)
            self.groups = np.array(groups, dtype=np.int64)          # (G, m)
            self.frac = frac
            self.group_devices = t if plan.expert_split == "tp" else 1
            m = self.groups.shape[1]
            s = min(spaces, m)
            self.space_of = np.arange(m) % s
            self.onehot = np.eye(s)[self.space_of]                  # (m, S)
            slice_bytes = dims.expert_bytes * frac
            self.exp_slice_bytes = slice_bytes
            if pim is not None:
                self.exp_stream = {w: pim.stream(slice_bytes, w) for w in sorted({1, ways})}
        self.n_layers, self.n_moe = dims.layers, len(dims.moe_layers)
        self.n_dense = self.n_layers - self.n_moe
        self.moe_layer_ids = list(dims.moe_layers)
        self._fixed: dict[int, tuple] = {}
        self._heads: dict[tuple[int, int], _Block] = {}
        self._tables: dict[str, np.ndarray] = {}
        self._subsets = None
        if dims.experts and dims.top_k > 2:
            self._subsets = np.array(list(combinations(range(dims.experts), dims.top_k)), dtype=np.int64)
        self.weights_per_device = plan.weight_bytes_per_device(dims)
        self.kv_per_token = plan.kv_bytes_per_token_per_device(dims)
        if self.weights_per_device >= capacity_bytes:
            raise InputError(None, "devices", f"enough devices to hold the weights ({dims.weight_bytes / 2**30:.1f} "
                             f"GiB; {self.weights_per_device / 2**30:.1f} GiB per device > "
                             f"{capacity_bytes / 2**30:.1f} GiB)", plan.devices)

    # -- capacity -------------------------------------------------------------------------------
    @property
    def kv_tokens_per_node(self) -> int:
        """KV-cache tokens one node can hold (every device of a node holds its heads' share)."""
        return int((self.capacity_bytes - self.weights_per_device) // self.kv_per_token)

    # -- op helpers -----------------------------------------------------------------------------
    def _x(self, name: str, flops: float, read: float, write: float) -> tuple[Op, np.ndarray]:
        ns = float(self.xpu.ns(flops, read + write))
        return Op(name, "xpu", ns, flops, read + write), XpuUnit.counts(flops, read, write)

    def _gemm(self, name: str, m: float, k: float, n: float, bias: bool = False) -> tuple[Op, np.ndarray]:
        b = self.b
        return self._x(name, 2.0 * m * k * n, (m * k + k * n + (n if bias else 0)) * b, m * n * b)

    def _vec(self, name: str, ops: float, read_el: float, write_el: float) -> tuple[Op, np.ndarray]:
        return self._x(name, ops, read_el * self.b, write_el * self.b)

    def _p(self, name: str, flops: float, stream_bytes: float, ways: int, other_read: float = 0.0,
           write: float = 0.0, passes: int = 1) -> tuple[Op, np.ndarray]:
        """A PIM op: ``passes`` streams of ``stream_bytes`` of weights/KV through the bank path, the
        rest (inputs, partial sums) counted as PIM-path reads and writes."""
        s = self.pim.stream(stream_bytes, ways)
        ns = max(flops / self.pim.flops_per_s * 1e9, s.ns * passes)
        c = zeros()
        c[PF] = flops
        c[PR] = s.reads * passes + other_read / 32.0
        c[PW] = write / 32.0
        c[PA] = s.acts * passes
        c[PREF] = s.refreshes * passes
        return Op(name, "pim", ns, flops, stream_bytes + other_read + write), c

    def _link(self, name: str, unit: str, ns: float, nbytes: float) -> tuple[Op, np.ndarray]:
        c = zeros()
        c[NV if unit == "nvlink" else IB] = nbytes
        return Op(name, unit, ns, 0.0, nbytes), c

    def _allowed(self, cls: str) -> bool:
        return self.pim is not None and cls in self.pim_ops

    # -- per-node blocks (identical in every layer of a stage) ---------------------------------
    def _attn_pre(self, T: int) -> list[tuple[Segment, np.ndarray]]:
        """Norm, QKV projection, rotary: the attention block's ops before the attention."""
        d = self.dims
        h, hd, hq, kvh = d.hidden, d.head_dim, self.hq, self.kvh
        segs = [self._seg("other", *self._vec("attn_norm", NORM_OPS * T * h, T * h, T * h))]
        segs.append(self._fc("qkv_proj", T, h, (hq + 2 * kvh) * hd, d.cfg.attention_bias))
        if d.cfg.positions == "rotary":
            el = T * (hq + kvh) * hd
            segs.append(self._seg("other", *self._vec("rope", 3 * el, el, el)))
        return segs

    def _attn_post(self, T: int) -> list[tuple[Segment, np.ndarray]]:
        """Output projection, all-reduce, residual add."""
        d, t, b = self.dims, self.plan.tp, self.b
        h = d.hidden
        segs = [self._fc("o_proj", T, self.hq * d.head_dim, h, d.cfg.attention_bias)]
        ns, sent = self.links.allreduce_ns(T * h * b, t)
        if ns:
            segs.append(self._seg("comm", *self._link("attn_allreduce", "nvlink", ns, sent)))
        segs.append(self._seg("other", *self._vec("attn_add", T * h, 2 * T * h, T * h)))
        return segs

    @staticmethod
    def _seg(cls: str, op: Op, c: np.ndarray) -> tuple[Segment, np.ndarray]:
        return Segment(op.name, cls, [op]), c

    def _fc(self, name: str, m: float, k: float, n: float, bias: bool) -> tuple[Segment, np.ndarray]:
        """A weight GEMM on the xPU, or on the PIM when ``fc`` is a PIM op class and it is faster."""
        x_op, x_c = self._gemm(name, m, k, n, bias)
        if self._allowed("fc"):
            b = self.b
            passes = -(-int(m) // self.pim.tokens_per_pass(int(k), b))
            p_op, p_c = self._p(name, 2.0 * m * k * n, k * n * b, self.ways, m * k * b * self.pim.stacks, m * n * b,
                                passes)
            if p_op.ns < x_op.ns:
                return Segment(name, "fc", [p_op]), p_c
        return Segment(name, "fc", [x_op]), x_c

    def _attention(self, nb: NodeBatch) -> list[tuple[Segment, np.ndarray]]:
        d, b = self.dims, self.b
        hd, hq, kvh = d.head_dim, self.hq, self.kvh
        groups = []
        if len(nb.decode_ctx):
            ctx = float(nb.decode_ctx.sum())
            r = len(nb.decode_ctx)
            fl = 4.0 * hq * hd * ctx + SOFTMAX_OPS * hq * ctx
            kv = 2.0 * kvh * hd * ctx * b
            qo = r * hq * hd * b
            x = self._x("attention.decode", fl, kv + qo, qo)
            p = self._p("attention.decode", fl, kv, self.ways, qo, qo) if self._allowed("attention") else None
            groups.append((x, p))
        if len(nb.prefill_len):
            L = nb.prefill_len.astype(np.float64)
            sq, s1 = float((L * L).sum()), float(L.sum())
            fl = 4.0 * hq * hd * sq + SOFTMAX_OPS * hq * sq
            qkv = s1 * (hq + 2 * kvh) * hd * b
            out = s1 * hq * hd * b
            x = self._x("attention.prefill", fl, qkv, out)
            p = self._p("attention.prefill", fl, qkv, self.ways, 0.0, out) if self._allowed("attention") else None
            groups.append((x, p))
        if not groups:
            return []
        if self.co_processing and any(p is not None for _, p in groups):
            # every assignment of the groups to units; the one that ends first (ties: the first)
            best = None
            for choice in _assignments(len(groups)):
                picks = [g[0] if u == 0 or g[1] is None else g[1] for g, u in zip(groups, choice)]
                seg = Segment("attention", "attention", [op for op, _ in picks])
                if best is None or seg.ns < best[0].ns - 1e-9:
                    best = (seg, sum((c for _, c in picks), zeros()))
            return [best]
        out = []
        for x, p in groups:
            op, c = (p if p is not None and p[0].ns < x[0].ns else x)
            out.append((Segment(op.name, "attention", [op]), c))
        return out

    def _dense_ffn_block(self, T: int) -> list[tuple[Segment, np.ndarray]]:
        d, t = self.dims, self.plan.tp
        h = d.hidden
        i = d.cfg.intermediate_size // t
        bias = d.cfg.mlp_bias
        segs = [(Segment("mlp_norm", "other", [op]), c) for op, c in [self._vec("mlp_norm", NORM_OPS * T * h, T * h, T * h)]]
        if d.cfg.gated_mlp:
            segs.append(self._fc("mlp.gate", T, h, i, bias))
            segs.append(self._fc("mlp.up", T, h, i, bias))
            op, c = self._vec("mlp.mul", T * i, 2 * T * i, T * i)
            segs.append((Segment("mlp.mul", "other", [op]), c))
            segs.append(self._fc("mlp.down", T, i, h, bias))
        else:
            segs.append(self._fc("mlp.fc1", T, h, i, bias))
            segs.append(self._fc("mlp.fc2", T, i, h, bias))
        segs.extend(self._ffn_comm(T, moe=False))
        return segs

    def _ffn_comm(self, T: int, moe: bool) -> list[tuple[Segment, np.ndarray]]:
        d, t, b, p = self.dims, self.plan.tp, self.b, self.plan
        h = d.hidden
        segs = []
        if moe and p.nodes > 1:  # tokens to and from the other nodes' experts
            sent = T * d.top_k * h * b * (p.nodes - 1) / p.nodes / t
            op, c = self._link("moe_all2all", "ib", 2 * self.links.ib_ns(sent), 2 * sent)
            segs.append((Segment("moe_all2all", "comm", [op]), c))
        ns, sent = self.links.allreduce_ns(T * h * b, t)
        if ns:
            op, c = self._link("moe_allreduce" if moe else "mlp_allreduce", "nvlink", ns, sent)
            segs.append((Segment(op.name, "comm", [op]), c))
        op, c = self._vec("mlp_add", T * h, 2 * T * h, T * h)
        segs.append((Segment("mlp_add", "other", [op]), c))
        return segs

    def _moe_fixed_block(self, T: int) -> tuple[list[tuple[Segment, np.ndarray]], list[tuple[Segment, np.ndarray]]]:
        """MoE ops around the experts: (before: norm, router, top-k; after: combine, comm)."""
        d, t = self.dims, self.plan.tp
        h, E, k = d.hidden, d.experts, d.top_k
        before = [self._vec("mlp_norm", NORM_OPS * T * h, T * h, T * h)]
        before.append(self._gemm("moe.router", T, h, E))
        before.append(self._vec("moe.topk", T * E * 2, T * E, T * k))
        pre = [(Segment(op.name, "moe", [op]), c) for op, c in before]
        op, c = self._vec("moe.combine", 2 * T * k * h / t, T * k * h / t + T * k, T * h)
        post = [(Segment(op.name, "moe", [op]), c)] + self._ffn_comm(T, moe=True)
        return pre, post

    def _head_block(self, T: int, R: int) -> list[tuple[Segment, np.ndarray]]:
        d, t, b = self.dims, self.plan.tp, self.b
        h = d.hidden
        V = d.cfg.vocab_size
        segs = []
        op, c = self._vec("embed", 0, T * h + T, T * h)
        segs.append((Segment("embed", "other", [op]), c))
        if d.cfg.final_norm:
            op, c = self._vec("final_norm", NORM_OPS * R * h, R * h, R * h)
            segs.append((Segment("final_norm", "other", [op]), c))
        segs.append(self._fc("lm_head", R, d.cfg.word_embed_proj_dim, V / t, False))
        ns, sent = self.links.allgather_ns(R * V * b, t)
        if ns:
            op, c = self._link("logits_allgather", "nvlink", ns, sent)
            segs.append((Segment(op.name, "comm", [op]), c))
        return segs

    # -- MoE experts, every layer at once ----------------------------------------------------
    def _expert_tables(self, cmax: int) -> dict[str, np.ndarray]:
        """Per token count ``c`` (the index): an expert slice's xPU time, PIM times (1 way and
        ``ways``) and FLOPs; built up to the largest count seen (doubling)."""
        tab = self._tables
        if tab and len(tab["tx"]) > cmax:
            return tab
        d, b = self.dims, self.b
        n = max(256, 2 * cmax + 1)
        c = np.arange(n, dtype=np.float64)
        h, i = d.hidden, d.cfg.intermediate_size * self.frac
        x = self.xpu
        up = x.ns(2 * c * h * i, (c * h + h * i + c * i) * b)
        down = x.ns(2 * c * i * h, (c * i + i * h + c * h) * b)
        tx = (d.ffn_mats - 1) * up + down
        if d.cfg.gated_mlp:
            tx = tx + x.ns(c * i, 3 * c * i * b)
        flops = 2.0 * d.ffn_mats * c * h * i
        tab = {"tx": tx, "flops": flops}
        if self.pim is not None:  # passes over the weights: the input buffer holds so many tokens
            tab["passes"] = np.ceil(c / self.pim.tokens_per_pass(h, b))
            for w, st in self.exp_stream.items():
                tab[f"tp{w}"] = np.maximum(flops / self.pim.flops_per_s * 1e9, st.ns * tab["passes"])
        for arr in tab.values():
            arr[0] = 0.0  # an expert without tokens is not run (its weights are not read)
        self._tables = tab
        return tab

    def _expert_arrays(self, counts: np.ndarray) -> dict[str, np.ndarray]:
        """Per (layer, group, expert): token count, xPU time, PIM times, FLOPs."""
        Ci = counts[:, self.groups]                      # (L, G, m)
        tab = self._expert_tables(int(Ci.max()))
        out = {k: v[Ci] for k, v in tab.items()}
        out["C"] = Ci.astype(np.float64)
        out["nz"] = Ci > 0
        return out

    def moe_experts(self, counts: np.ndarray) -> dict:
        """Every MoE layer at once: per layer the expert time of the slowest device group
        (``layer_ns``), which experts the PIM runs (``on_pim``, per layer, group, expert), the
        action counts over all devices, the critical group per layer and its xPU/PIM busy time."""
        d, b = self.dims, self.b
        a = self._expert_arrays(counts)
        C, nz = a["C"], a["nz"]
        L, G, m = C.shape
        S = self.onehot.shape[1]
        w = self.ways
        has_pim = self.pim is not None
        vals = np.stack([C, a["tx"], a["flops"]] + ([a["tp1"], a[f"tp{w}"], a["passes"]] if has_pim else []))
        if self._allowed("moe"):
            sp = vals[[0, 1, 3, 4]] @ self.onehot                     # (4, L, G, S): tokens, xPU, PIM 1/w ways
            order = np.argsort(sp[0], axis=2, kind="stable")         # fewest tokens first
            li, gi = np.ogrid[:L, :G]
            srt = sp[:, li[..., None], gi[..., None], order]          # (4, L, G, S) in that order
            cum = np.zeros((4, L, G, S + 1))
            np.cumsum(srt, axis=3, out=cum[..., 1:])
            active = np.zeros((L, G, S + 1))
            np.cumsum(srt[0] > 0, axis=2, out=active[..., 1:])
            pim_k = np.where(active >= 2, cum[3], cum[2])            # the first k spaces on the PIM
            time_k = np.maximum(pim_k, cum[1][..., -1:] - cum[1])    # the rest on the xPU, in parallel
            if not self.co_processing:                               # the whole layer on one unit
                time_k[..., 1:S] = np.inf
            k = np.argmin(time_k, axis=2)                            # (L, G); ties: fewer on the PIM
            t_g = time_k[li, gi, k]
            n_active = active[li, gi, k]
            rank = np.empty_like(order)
            rank[li[..., None], gi[..., None], order] = np.arange(S)
            on_pim = ((rank < k[..., None]).astype(np.float64) @ self.onehot.T > 0.5) & nz   # (L, G, m)
        else:
            t_g = vals[1].sum(axis=2)
            on_pim = np.zeros_like(nz)
            n_active = np.zeros((L, G))
        tot = vals.sum(axis=3)                                        # (V, L, G)
        pim = (vals * on_pim).sum(axis=3) if on_pim.any() else np.zeros_like(tot)
        busy_p_g = np.where(n_active >= 2, pim[4], pim[3]) if has_pim else np.zeros((L, G))
        busy_x_g = tot[1] - pim[1]
        # the PIM's per-stack partial sums are reduced by the xPU, once per layer (Sec. V-A)
        h = d.hidden
        stacks = self.pim.stacks if has_pim else 0
        tokens_all = counts.sum(axis=1) / max(d.top_k, 1)
        red_tok = np.minimum(pim[0], tokens_all[:, None])
        red_ns = np.where(red_tok > 0, self.xpu.ns(stacks * red_tok * h, (stacks + 1) * red_tok * h * b), 0.0)
        t_g = t_g + red_ns
        busy_x_g = busy_x_g + red_ns
        crit = np.argmax(t_g, axis=1)                                 # (L,)
        lr = np.arange(L)
        # action counts over all devices
        i = d.cfg.intermediate_size * self.frac
        gated = d.cfg.gated_mlp
        n_pim = on_pim.sum(axis=2)                                    # PIM experts per (layer, group)
        x_tok = float(tot[0].sum() - pim[0].sum())
        x_slices = float(nz.sum() - n_pim.sum())
        x_read = x_slices * self.exp_slice_bytes + x_tok * ((d.ffn_mats - 1) * h + i + (2 * i if gated else 0)) * b
        x_write = x_tok * ((d.ffn_mats - 1) * i + h + (i if gated else 0)) * b
        cnt = XpuUnit.counts(float(tot[2].sum() - pim[2].sum()), x_read, x_write)
        if has_pim and n_pim.any():
            cp_tok = float(pim[0].sum())
            passes = pim[5]                                           # weight passes per (layer, group)
            n_w = float(np.where(n_active >= 2, passes, 0).sum()) if w != 1 else 0.0
            n_1 = float(passes.sum()) - n_w
            s1, sw = self.exp_stream[1], self.exp_stream[w]
            cnt[PF] += float(pim[2].sum())
            cnt[PR] += n_1 * s1.reads + n_w * sw.reads + cp_tok * h * b * stacks / 32.0   # inputs to each stack
            cnt[PW] += cp_tok * h * b * stacks / 32.0                                     # partial sums
            cnt[PA] += n_1 * s1.acts + n_w * sw.acts
            cnt[PREF] += n_1 * s1.refreshes + n_w * sw.refreshes
            red = float(red_tok.sum())
            cnt += XpuUnit.counts(stacks * red * h, stacks * red * h * b, red * h * b)
        cnt *= self.group_devices
        work = float(tot[0].sum())
        return {"layer_ns": t_g[lr, crit], "on_pim": on_pim, "counts": cnt, "crit": crit,
                "busy_x": float(busy_x_g[lr, crit].sum()), "busy_p": float(busy_p_g[lr, crit].sum()),
                "frac_pim": float(pim[0].sum()) / work if work else 0.0,
                "arrays": a, "n_active": n_active, "red_ns": red_ns}

    # -- the stage ------------------------------------------------------------------------------
    def expert_counts(self, tokens: int, rng: np.random.Generator | None) -> np.ndarray:
        """Per MoE layer, each expert's token count: balanced, or :func:`uniform_counts`."""
        d = self.dims
        if self.routing == "balanced" or rng is None:
            return balanced_counts(tokens, d.experts, d.top_k, self.n_moe)
        return uniform_counts(rng, tokens, d.experts, d.top_k, self.n_moe, self._subsets)

    def _blocks(self, nb: NodeBatch) -> tuple[_Block, ...]:
        """(before attention, attention, after attention, dense FFN, MoE before/after experts,
        head) of one node; everything but the attention is cached by token and request count."""
        T, R = nb.tokens, nb.requests
        fixed = self._fixed.get(T)
        if fixed is None:
            if len(self._fixed) > 50_000:
                self._fixed.clear()
            moe_pre, moe_post = self._moe_fixed_block(T) if self.n_moe else ([], [])
            fixed = self._fixed[T] = (_Block.of(self._attn_pre(T)), _Block.of(self._attn_post(T)),
                                      _Block.of(self._dense_ffn_block(T) if self.n_dense else []),
                                      _Block.of(moe_pre), _Block.of(moe_post))
        head = self._heads.get((T, R))
        if head is None:
            if len(self._heads) > 50_000:
                self._heads.clear()
            head = self._heads[(T, R)] = _Block.of(self._head_block(T, R))
        pre, post, dense, moe_pre, moe_post = fixed
        return pre, _Block.of(self._attention(nb)), post, dense, moe_pre, moe_post, head

    def _node_ns(self, bl: tuple[_Block, ...]) -> float:
        pre, att, post, dense, moe_pre, moe_post, head = bl
        return (self.n_layers * (pre.ns + att.ns + post.ns) + self.n_dense * dense.ns
                + self.n_moe * (moe_pre.ns + moe_post.ns) + head.ns)

    def step(self, nodes: list[NodeBatch], rng: np.random.Generator | None = None,
             expert_counts: np.ndarray | None = None, record: bool = False) -> StepCost:
        """The cost of one stage; ``nodes`` has one batch per node (``plan.nodes``); every layer
        waits for the slowest node (the MoE all-to-all joins them)."""
        d, p = self.dims, self.plan
        if len(nodes) != p.nodes:
            raise InputError(None, "nodes", f"{p.nodes} node batches", len(nodes))
        tokens = sum(nb.tokens for nb in nodes)
        requests = sum(nb.requests for nb in nodes)
        live = [self._blocks(nb) for nb in nodes if nb.tokens]
        if not live:
            return StepCost(0.0, zeros(), 0.0, dict.fromkeys(CLASSES, 0.0), dict.fromkeys(UNITS, 0.0), 0, 0)
        crit = max(live, key=self._node_ns)
        mult = (self.n_layers, self.n_layers, self.n_layers, self.n_dense, self.n_moe, self.n_moe, 1)
        parts, busy, counts = np.zeros(len(CLASSES)), np.zeros(len(UNITS)), zeros()
        for blk, times in zip(crit, mult):
            parts += blk.parts * times
            busy += blk.busy * times
        for bl in live:
            for blk, times in zip(bl, mult):
                counts += blk.counts * (times * p.tp)
        moe_pim, moe = 0.0, None
        if self.n_moe:
            ec = expert_counts if expert_counts is not None else self.expert_counts(tokens, rng)
            ec = np.asarray(ec, dtype=np.int64).reshape(self.n_moe, d.experts)
            moe = self.moe_experts(ec)
            parts[CLASSES.index("moe")] += moe["layer_ns"].sum()
            counts += moe["counts"]
            busy[0] += moe["busy_x"]
            busy[1] += moe["busy_p"]
            moe_pim = moe["frac_pim"]
        energy = float(counts @ self.prices)
        timeline = self._timeline(crit, moe) if record else []
        return StepCost(float(parts.sum()), counts, energy, dict(zip(CLASSES, parts.tolist())),
                        dict(zip(UNITS, busy.tolist())), tokens, requests, moe_pim, timeline)

    # -- a recorded timeline for one stage (the critical device) --------------------------------
    def _timeline(self, crit, moe: dict | None) -> list[tuple[int, Segment]]:
        """Segments of the critical node, layer by layer (``-1``: before the first layer), the
        experts of the critical device group shown one op each."""
        d = self.dims
        pre, attn, post, dense, moe_pre, moe_post, head = (b.segs for b in crit)
        att = pre + attn + post
        out: list[tuple[int, Segment]] = [(-1, s) for s, _ in head[:1]]
        moe_index = {layer: j for j, layer in enumerate(d.moe_layers)}
        for layer in range(d.layers):
            out += [(layer, s) for s, _ in att]
            if layer not in moe_index:
                out += [(layer, s) for s, _ in dense]
                continue
            j = moe_index[layer]
            out += [(layer, s) for s, _ in moe_pre]
            a, g = moe["arrays"], int(moe["crit"][j])
            tp = a[f"tp{self.ways}"] if moe["n_active"][j, g] >= 2 and self.pim is not None else a.get("tp1")
            ops = []
            for e_local, e in enumerate(self.groups[g]):
                if not a["nz"][j, g, e_local]:
                    continue
                unit = "pim" if moe["on_pim"][j, g, e_local] else "xpu"
                ns = float(tp[j, g, e_local] if unit == "pim" else a["tx"][j, g, e_local])
                ops.append(Op(f"moe.expert{e}", unit, ns, float(a["flops"][j, g, e_local]), self.exp_slice_bytes))
            if moe["red_ns"][j, g] > 0:
                ops.append(Op("moe.pim_reduce", "xpu", float(moe["red_ns"][j, g])))
            out.append((layer, Segment("moe.experts", "moe", ops)))
            out += [(layer, s) for s, _ in moe_post]
        out += [(d.layers, s) for s, _ in head[1:]]
        return out


def _assignments(n: int):
    """Unit choices (0 xPU, 1 PIM) for ``n`` op groups, the paper's default (prefill on the xPU,
    decode on the PIM) first."""
    if n == 1:
        return [(1,), (0,)]
    return [(1, 0), (0, 0), (1, 1), (0, 1)]
