"""KV cache in a block format: footprint and DRAM traffic, and the K-sort option.

Layout: per layer, K and V each hold ``tokens x kv_heads x head_dim`` elements. K blocks run
along the channels of a head (the reduction axis of ``q . k``, where K-sort acts); V blocks run
along tokens (the reduction axis of ``p . V``). Footprints use the format's bits per element
(elements plus one shared exponent or scale per block), i.e. a partially filled last block is
counted pro rata: the newest tokens of a decode step would sit in an open block.

K-sort (``sort_channels``) permutes K's channels at compile time (``W_k``/``W_q`` rows,
:func:`archsim.numerics.ksort_weights`): it changes which channels share a block, not the number
of bits, so footprint and traffic are the same with and without it; only the error changes
(``archsim quantize --sort-channels``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from archsim.errors import InputError
from archsim.numerics import get_format
from archsim.numerics.base import Format


@dataclass(frozen=True)
class KvLayout:
    """The KV-cache shape of a decoder: layers, KV heads and head size (elements)."""

    num_layers: int
    kv_heads: int
    head_dim: int

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> KvLayout:
        """From a normalised :class:`~archsim.workload.builders.llm_config.LLMConfig` dict
        (``graph.params["config"]``)."""
        try:
            return cls(int(config["num_layers"]), int(config["num_kv_heads"]), int(config["head_dim"]))
        except (KeyError, TypeError):
            raise InputError(None, "config", "num_layers, num_kv_heads and head_dim of a decoder LLM") from None

    @property
    def elements_per_token(self) -> int:
        """K plus V elements of one token over all layers."""
        return 2 * self.num_layers * self.kv_heads * self.head_dim


def kv_format(name: str, block: int | None = None) -> Format:
    """The KV-cache format ``name`` with ``block`` elements per block/group (None: default)."""
    return get_format(name, block=block or None)


def kv_bits_per_token(layout: KvLayout, fmt: Format) -> float:
    return layout.elements_per_token * fmt.bits_per_element


def kv_cache_bytes(layout: KvLayout, tokens: int, fmt: Format, batch: int = 1) -> int:
    """Bytes of the KV cache holding ``tokens`` tokens for ``batch`` sequences."""
    return math.ceil(batch * tokens * kv_bits_per_token(layout, fmt) / 8)


def footprint_table(layout: KvLayout, tokens: int, formats: list[tuple[str, int | None]], batch: int = 1) -> list[dict]:
    """One row per ``(format, block)``: bits per element, bytes, and the saving versus FP16."""
    fp16 = kv_cache_bytes(layout, tokens, get_format("fp16"), batch)
    rows = []
    for name, block in formats:
        fmt = kv_format(name, block)
        b = kv_cache_bytes(layout, tokens, fmt, batch)
        rows.append({"format": fmt.name, "block": fmt.group_size, "bits_per_element": fmt.bits_per_element,
                     "bytes": b, "saving_vs_fp16": fp16 / b})
    return rows
