"""How a model is spread over devices, and the links between them.

Non-expert weights are tensor-parallel across the devices of a node and data-parallel across
nodes (Duplex Sec. III, after DeepSpeed-MoE [46]). Experts are either expert-parallel over every
device (``ep``: the GPU system of Sec. III; an expert on several devices when there are more
devices than experts) or tensor-parallel within a node and expert-parallel across nodes (``tp``:
Duplex+ET, Sec. V-B).
"""

from __future__ import annotations

from dataclasses import dataclass

from archsim.errors import InputError
from archsim.serving.model_dims import ModelDims

#: Link defaults. NVLink: Duplex Sec. VI (HGX: 900 GB/s bidirectional = 450 GB/s per direction)
#: and the per-hop latency of Duplex's simulator (scale-snu/LLMSimulator
#: src/hardware/hardware_config.h, H100 preset: 0.8 us). InfiniBand: Duplex Sec. VI (400 GB/s per
#: 8-device node = 50 GB/s per device, one 400 Gb/s ConnectX-7 port each; LLMSimulator's H100
#: preset: 50 GB/s, 130 ns).
NVLINK_BYTES_PER_S = 450e9
NVLINK_LATENCY_NS = 800.0
IB_BYTES_PER_S = 50e9
IB_LATENCY_NS = 130.0
DEVICES_PER_NODE = 8


@dataclass(frozen=True)
class Links:
    """Per-device link bandwidths (one direction) and per-message latencies."""

    nvlink_bytes_per_s: float = NVLINK_BYTES_PER_S
    nvlink_latency_ns: float = NVLINK_LATENCY_NS
    ib_bytes_per_s: float = IB_BYTES_PER_S
    ib_latency_ns: float = IB_LATENCY_NS

    def allreduce_ns(self, nbytes: float, parties: int) -> tuple[float, float]:
        """Ring all-reduce of ``nbytes`` among ``parties`` devices on NVLink: ``2 (p-1)`` steps of
        ``nbytes / p`` (reduce-scatter then all-gather). Returns ``(ns, bytes each device sends)``."""
        if parties <= 1 or nbytes <= 0:
            return 0.0, 0.0
        chunk = nbytes / parties
        steps = 2 * (parties - 1)
        return steps * (self.nvlink_latency_ns + chunk / self.nvlink_bytes_per_s * 1e9), steps * chunk

    def allgather_ns(self, nbytes: float, parties: int) -> tuple[float, float]:
        """Ring all-gather of ``nbytes`` in total (``p - 1`` steps of ``nbytes / p``)."""
        if parties <= 1 or nbytes <= 0:
            return 0.0, 0.0
        chunk = nbytes / parties
        return (parties - 1) * (self.nvlink_latency_ns + chunk / self.nvlink_bytes_per_s * 1e9), (parties - 1) * chunk

    def ib_ns(self, nbytes: float) -> float:
        """One transfer of ``nbytes`` over a device's InfiniBand port."""
        return self.ib_latency_ns + nbytes / self.ib_bytes_per_s * 1e9 if nbytes > 0 else 0.0


def default_devices(weight_bytes: int, capacity_bytes: int, per_node: int = DEVICES_PER_NODE) -> int:
    """The fewest devices, a power of two, whose memory is at least twice the weights (half is
    left for the KV cache). This reproduces Duplex's system sizes (Sec. VI): Mixtral, OPT-66B and
    Llama-3-70B on 4 devices, GLaM on 8, Grok-1 on 16 (2 nodes of 8)."""
    d = 1
    while weight_bytes > 0.5 * d * capacity_bytes:
        d *= 2
    return d


@dataclass(frozen=True)
class Plan:
    """``devices`` = ``nodes`` x ``tp`` devices; expert ownership by ``expert_split``."""

    devices: int
    tp: int
    nodes: int
    expert_split: str

    @classmethod
    def make(cls, dims: ModelDims, devices: int, per_node: int, expert_split: str) -> Plan:
        if devices < 1:
            raise InputError(None, "devices", "a positive device count", devices)
        tp = min(devices, per_node)
        if devices % tp:
            raise InputError(None, "devices", f"a multiple of {per_node} devices per node above one node", devices)
        nodes = devices // tp
        for what, n in (("attention heads", dims.heads), ("hidden size", dims.hidden),
                        ("intermediate size", dims.cfg.intermediate_size)):
            if n % tp:
                raise InputError(None, "devices", f"a per-node device count dividing the {what} ({n})", tp)
        kv = dims.kv_heads
        if kv % tp and tp % kv:
            raise InputError(None, "devices", f"a per-node device count that divides or is a multiple of the "
                             f"{kv} KV heads", tp)
        if dims.experts:
            if expert_split == "tp" and dims.experts % nodes:
                raise InputError(None, "devices", f"a node count dividing the {dims.experts} experts", nodes)
            if expert_split == "ep" and dims.experts % devices and devices % dims.experts:
                raise InputError(None, "devices", f"a device count that divides or is a multiple of the "
                                 f"{dims.experts} experts", devices)
        return cls(devices, tp, nodes, expert_split)

    def kv_heads_on_device(self, dims: ModelDims) -> int:
        """KV heads held by a device (replicated when a node has more devices than KV heads)."""
        return max(dims.kv_heads // self.tp, 1)

    def expert_owners(self, dims: ModelDims) -> tuple[list[list[int]], float]:
        """``(experts held by each distinct device group, fraction of each expert a device holds)``.

        ``tp``: one group per node (its devices hold ``1/tp`` of each of the node's experts);
        ``ep``: one group per device (the whole expert, or ``E/D`` of it when devices outnumber
        experts)."""
        E = dims.experts
        if self.expert_split == "tp":
            return [[e for e in range(E) if e % self.nodes == j] for j in range(self.nodes)], 1.0 / self.tp
        if self.devices <= E:
            return [[e for e in range(E) if e % self.devices == d] for d in range(self.devices)], 1.0
        return [[d % E] for d in range(self.devices)], E / self.devices

    def weight_bytes_per_device(self, dims: ModelDims) -> float:
        """Weights on one device: non-expert weights split ``tp`` ways (norms replicated), its
        share of the experts (the largest share when shares differ)."""
        b = dims.dtype_bytes
        kv_rep = self.kv_heads_on_device(dims) * self.tp / dims.kv_heads  # >1 when KV heads replicate
        attn = (dims.attn_params - 2 * dims.hidden * dims.kv_width) / self.tp \
            + 2 * dims.hidden * dims.kv_width * kv_rep / self.tp
        dense = dims.ffn_params / self.tp
        per_layer = attn + dims.layer_norm_params
        total = dims.layers * per_layer + dims.dense_layers * dense + (dims.embed_params + dims.head_params) / self.tp
        if dims.experts:
            groups, frac = self.expert_owners(dims)
            per_group = max(len(g) for g in groups)
            total += len(dims.moe_layers) * (per_group * frac * dims.ffn_params + dims.router_params)
        return total * b

    def kv_bytes_per_token_per_device(self, dims: ModelDims) -> float:
        return 2 * dims.layers * self.kv_heads_on_device(dims) * dims.head_dim * dims.dtype_bytes
