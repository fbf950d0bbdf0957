"""From a decode-step graph to the device's steps: PIM VMMs, KV-cache writes, ASIC operations.

Walks the graph's ops in order (``archsim.workload.decoder_llm`` names):

* ``embedding`` ops -> one ``embed`` step (the token's and the position's rows read by the ASIC)
* ``matmul`` ops with resident weights -> ``vmm`` steps; consecutive ones reading the same input
  (q/k/v; gate/up) are fused into one VMM with the input loaded once; bias adds, K-tile partial
  sums and the activation run on the ASIC as the results stream in
* ``attention_score`` -> a ``kv_write`` step (the new token's K and V into the cache), then a
  ``score`` step; ``attention_context`` -> a ``context`` step
* ``softmax``, ``layernorm``, ``elementwise`` -> ``asic`` steps
* after the last op, the ASIC picks the next token (argmax over the logits)

Steps of layer ``i`` that repeat layer 0's shapes are marked as such (``twin``): their timing is
taken from layer 0 (the report says which ops were simulated and which reused).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from archsim.errors import InputError
from archsim.workload.graph import Graph, OpKind

STEP_KINDS = ("embed", "vmm", "kv_write", "score", "context", "asic")
PIM_KINDS = ("embed", "vmm", "kv_write", "score", "context")


@dataclass(frozen=True)
class Step:
    """One step of a decode token (``ops``: the graph ops it stands for, the first names it)."""

    kind: str
    ops: tuple[str, ...]
    layer: int = -1
    # vmm: K, N, bias, (activation, elements) parts; repeats = vectors (batch)
    k: int = 0
    n: int = 0
    bias: bool = False
    activation: tuple[tuple[str, int], ...] = ()
    repeats: int = 1
    # attention
    heads: int = 0
    kv_heads: int = 0
    head_dim: int = 0
    # asic: (function, args...)
    asic: tuple = ()
    context_dependent: bool = False
    twin: str | None = None  # the layer-0 step with the same shape (reused)
    row_op: str = ""  # the graph op whose report row carries this step ("": ops[0])

    @property
    def name(self) -> str:
        return self.ops[0]

    @property
    def row(self) -> str:
        """The graph op this step's time is reported under (the KV write under its score op,
        sampling under the lm_head)."""
        return self.row_op or self.ops[0]

    @property
    def unit(self) -> str:
        return "asic" if self.kind == "asic" else "pim"

    def key(self) -> tuple:
        """Everything but the names and the layer: equal keys, equal timing."""
        return (self.kind, self.k, self.n, self.bias, self.activation, self.repeats, self.heads, self.kv_heads,
                self.head_dim, self.asic)


@dataclass
class Plan:
    steps: list[Step]
    hidden: int
    layers: int
    heads: int
    kv_heads: int
    head_dim: int
    max_positions: int
    vocab: int
    batch: int
    context: int  # kv length of the graph's step
    sliding_window: int | None
    params: dict = field(default_factory=dict)

    @property
    def layer_steps(self) -> int:
        return sum(1 for s in self.steps if s.layer == 0)


def _weight_input(op) -> bool:
    return any(t.role == "weight" and not t.name.endswith(".bias") for t in op.inputs)


def _layer_of(name: str) -> int:
    if name.startswith("layers."):
        return int(name.split(".")[1])
    return -1


def build_plan(graph: Graph) -> Plan:
    """The steps of ``graph`` (one decode step of a dense decoder LLM; see the module docstring)."""
    p = graph.params
    cfg = p.get("config")
    if not isinstance(cfg, dict) or p.get("phase") is None:
        raise InputError(graph.source or graph.name, "workload", "a decoder LLM (a HuggingFace config from the zoo, "
                         "e.g. gpt2-xl) for a DRAM-PIM device", graph.name)
    if p["phase"] != "decode":
        raise InputError("--phase", None, "decode: the PIM device generates tokens one at a time (PIM-GPT); "
                         "a prompt is the starting context (--seq-len)", p["phase"])
    if cfg.get("num_experts"):
        raise InputError(graph.source or graph.name, "num_local_experts", "a dense model (MoE routing is not "
                         "mapped onto the PIM device)", cfg["num_experts"])
    batch = int(p.get("batch", 1))
    steps: list[Step] = []
    ops = graph.ops
    i = 0
    while i < len(ops):
        op = ops[i]
        layer = _layer_of(op.name)
        kind = op.kind
        if kind == OpKind.EMBEDDING:
            names = [op.name]
            while i + 1 < len(ops) and ops[i + 1].kind == OpKind.EMBEDDING:
                i += 1
                names.append(ops[i].name)
            steps.append(Step("embed", tuple(names), layer, k=int(op.attr("hidden")), n=len(names),
                              repeats=batch))
        elif kind == OpKind.MATMUL and _weight_input(op):
            group = [op]
            while (i + 1 < len(ops) and ops[i + 1].kind == OpKind.MATMUL and _weight_input(ops[i + 1])
                   and ops[i + 1].inputs[0].name == op.inputs[0].name):
                i += 1
                group.append(ops[i])
            k = int(op.attr("k"))
            n = sum(int(g.attr("n")) for g in group)
            bias = any(t.name.endswith(".bias") for g in group for t in g.inputs)
            act = tuple((g.attr("activation"), int(g.attr("n")) * int(g.attr("m"))) for g in group
                        if g.attr("activation"))
            steps.append(Step("vmm", tuple(g.name for g in group), layer, k=k, n=n, bias=bias, activation=act,
                              repeats=int(op.attr("m"))))
        elif kind == OpKind.ATTENTION_SCORE:
            heads, kv_heads, hd = int(op.attr("heads")), int(op.attr("kv_heads")), int(op.attr("k"))
            steps.append(Step("kv_write", (f"layers.{layer}.kv_write",), layer, heads=heads, kv_heads=kv_heads,
                              head_dim=hd, repeats=batch, context_dependent=True, row_op=op.name))
            steps.append(Step("score", (op.name,), layer, heads=heads, kv_heads=kv_heads, head_dim=hd,
                              repeats=batch, context_dependent=True))
        elif kind == OpKind.ATTENTION_CONTEXT:
            steps.append(Step("context", (op.name,), layer, heads=int(op.attr("heads")),
                              kv_heads=int(op.attr("kv_heads")), head_dim=int(op.attr("n")), repeats=batch,
                              context_dependent=True))
        elif kind == OpKind.SOFTMAX:
            steps.append(Step("asic", (op.name,), layer, asic=("softmax", int(op.attr("rows"))),
                              context_dependent=True))
        elif kind == OpKind.LAYERNORM:
            steps.append(Step("asic", (op.name,), layer, asic=("layernorm", int(op.attr("rows")),
                                                               int(op.attr("cols")), bool(op.attr("rms")))))
        elif kind == OpKind.ELEMENTWISE:
            steps.append(Step("asic", (op.name,), layer, asic=("elementwise", int(op.attr("elements")),
                                                               int(op.attr("ops_per_element", 1)),
                                                               str(op.attr("fn", "")))))
        else:
            raise InputError(graph.source or graph.name, f"op {op.name}", "dense decoder ops (embedding, matmul, "
                             "attention, softmax, layernorm, elementwise) for a DRAM-PIM device", str(kind))
        i += 1
    last = graph.ops[-1]
    steps.append(Step("asic", ("sample",), -1, asic=("argmax", int(last.attr("n", 0)) * int(last.attr("m", 1))),
                      row_op=last.name))
    # layer twins: a step of layer i > 0 with layer 0's shape reuses its timing
    layer0 = [s for s in steps if s.layer == 0]
    seen: dict[int, int] = {}
    out = []
    for s in steps:
        if s.layer > 0:
            pos = seen.get(s.layer, 0)
            seen[s.layer] = pos + 1
            if pos < len(layer0) and layer0[pos].key() == s.key():
                s = Step(**{**s.__dict__, "twin": layer0[pos].row})
        out.append(s)
    return Plan(steps=out, hidden=int(cfg["hidden_size"]), layers=int(cfg["num_layers"]),
                heads=int(cfg["num_heads"]), kv_heads=int(cfg["num_kv_heads"]), head_dim=int(cfg["head_dim"]),
                max_positions=int(cfg["max_positions"]), vocab=int(cfg["vocab_size"]), batch=batch,
                context=int(p.get("kv_len", p.get("seq_len", 1))), sliding_window=cfg.get("sliding_window"),
                params=dict(p))
