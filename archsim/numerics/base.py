"""The common shape of every number format: quantize to codes + per-group metadata, dequantize,
and count storage bits (elements plus metadata).

A :class:`Quantized` keeps the codes grouped as ``(..., n_groups, group)`` (see
:mod:`archsim.numerics.grouping`) and per-group metadata arrays of shape ``(..., n_groups)``:
``scale`` (the effective float scale), and per format ``scale_code``, ``channel_scale``,
``zero_point``, ``selector`` or ``exponent``.

Scale storage (``scale_format``) for group-scaled formats:

* ``fp16``: each group's scale rounded to IEEE half (16 bits per group); the BitMoD artifact's
  quantizers keep FP16 scales (``bitmod_quant/quant_utils/quant_weight.py``).
* ``fp32``: 32-bit scales (no rounding beyond float32).
* ``uint8``: BitMoD's 8-bit per-group scale (HPCA'25 §III-C, Tab. V), quantized with a second,
  per-channel FP16 scale as in VS-Quant (Dai et al., MLSys 2021): ``channel_scale =
  max(group scales of the row) / 255``, ``scale_code = round(scale / channel_scale)`` in
  ``1..255`` (0 only for an all-zero group). Elements are then quantized with the effective scale
  ``scale_code * channel_scale``. The per-channel FP16 scale is counted in
  :meth:`Format.storage_bits` but not in the asymptotic :attr:`Format.bits_per_element`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from archsim.errors import InputError
from archsim.numerics.grouping import Grouping, from_groups, to_groups

SCALE_FORMATS = ("fp16", "fp32", "uint8")
SCALE_BITS = {"fp16": 16, "fp32": 32, "uint8": 8}
#: bits of the per-channel second-level scale that ``uint8`` group scales need (FP16)
CHANNEL_SCALE_BITS = 16
UINT8_MAX = 255


@dataclass(frozen=True, eq=False)
class Quantized:
    """A quantized tensor: ``codes`` ``(..., n_groups, group)`` and per-group ``fields``."""

    format: Format
    grouping: Grouping
    codes: np.ndarray
    fields: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def shape(self) -> tuple[int, ...]:
        return self.grouping.shape

    def dequantize(self) -> np.ndarray:
        return self.format.dequantize(self)

    def storage_bits(self) -> int:
        return self.format.storage_bits(self.grouping.shape, self.grouping.axis)


class Format:
    """A number format. Subclasses set ``name``, ``element_bits``, ``group_size`` and
    ``metadata_bits`` (per group), and implement ``_quantize_groups`` / ``_dequantize_groups``."""

    name: str
    element_bits: int
    group_size: int
    metadata_bits: int = 0
    channel_bits: int = 0  # per row of groups (e.g. the FP16 second-level scale of uint8 scales)

    @property
    def bits_per_element(self) -> float:
        """Storage bits per element including per-group metadata (asymptotic: per-channel
        second-level scales and padding of a partial last group are not included)."""
        g = self.group_size
        return self.element_bits + (self.metadata_bits / g if g else 0.0)

    def storage_bits(self, shape: tuple[int, ...], axis: int = -1) -> int:
        """Exact bits to store a tensor of ``shape`` grouped along ``axis``: elements, one set of
        metadata per (possibly partial) group, and per-channel fields."""
        shape = tuple(int(s) for s in shape)
        if not shape:
            shape = (1,)
        ax = axis % len(shape)
        length = shape[ax]
        size = self.group_size or length
        n_groups = -(-length // size)
        channels = math.prod(shape) // length
        return (math.prod(shape) * self.element_bits + channels * n_groups * self.metadata_bits
                + channels * self.channel_bits)

    # -- quantize / dequantize ----------------------------------------------------------------
    def quantize(self, x: Any, axis: int = -1) -> Quantized:
        arr = np.asarray(x, dtype=np.float64)
        if not np.all(np.isfinite(arr)):
            raise InputError(None, "tensor", "finite values (no NaN or Inf)")
        groups, g = to_groups(arr, axis, self.group_size)
        codes, fields = self._quantize_groups(groups, g.mask())
        return Quantized(self, g, codes, fields)

    def dequantize(self, q: Quantized) -> np.ndarray:
        return from_groups(self._dequantize_groups(q.codes, q.fields), q.grouping)

    def fake_quantize(self, x: Any, axis: int = -1) -> np.ndarray:
        """``dequantize(quantize(x))``: the values the format can hold nearest to ``x``."""
        return self.quantize(x, axis).dequantize()

    def _quantize_groups(self, groups: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, dict]:
        raise NotImplementedError

    def _dequantize_groups(self, codes: np.ndarray, fields: dict) -> np.ndarray:
        raise NotImplementedError

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "element_bits": self.element_bits, "group_size": self.group_size,
                "metadata_bits_per_group": self.metadata_bits, "bits_per_element": self.bits_per_element}

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r}, group={self.group_size})"


# -- shared helpers ------------------------------------------------------------------------------
def round_half_even(x: np.ndarray) -> np.ndarray:
    """Round to nearest, ties to even (``torch.round`` / ``np.rint``)."""
    return np.rint(x)


def round_half_away(x: np.ndarray) -> np.ndarray:
    """Round to nearest, ties away from zero (microxcaling's ``"nearest"``:
    ``sign(x) * floor(|x| + 0.5)``, mx/elemwise_ops.py ``_round_mantissa``)."""
    return np.sign(x) * np.floor(np.abs(x) + 0.5)


ROUNDINGS = {"even": round_half_even, "nearest": round_half_away}


def check_scale_format(scale_format: str) -> str:
    if scale_format not in SCALE_FORMATS:
        raise InputError(None, "scale_format", f"one of {SCALE_FORMATS}", scale_format)
    return scale_format


def store_scales(scale: np.ndarray, scale_format: str) -> dict[str, np.ndarray]:
    """Round float group scales (``(..., n_groups)``, >= 0) to their storage format; returns
    ``scale`` (effective float64) plus ``scale_code``/``channel_scale`` for ``uint8``."""
    if scale_format == "fp32":
        s32 = scale.astype(np.float32).astype(np.float64)
        s32 = np.where((s32 == 0) & (scale > 0), float(np.finfo(np.float32).smallest_subnormal), s32)
        return {"scale": s32}
    if scale_format == "fp16":
        s16 = scale.astype(np.float16).astype(np.float64)
        # a tiny nonzero scale that underflows in FP16 keeps the smallest subnormal
        s16 = np.where((s16 == 0) & (scale > 0), float(np.finfo(np.float16).smallest_subnormal), s16)
        return {"scale": s16}
    peak = scale.max(axis=-1, keepdims=True)
    chan = (peak / UINT8_MAX).astype(np.float16).astype(np.float64)
    chan = np.where((chan == 0) & (peak > 0), float(np.finfo(np.float16).smallest_subnormal), chan)
    safe = np.where(chan > 0, chan, 1.0)
    code = np.where(scale > 0, np.clip(np.rint(scale / safe), 1, UINT8_MAX), 0).astype(np.int64)
    return {"scale": code * chan, "scale_code": code, "channel_scale": chan[..., 0]}


def nearest_in_table(x: np.ndarray, table: np.ndarray) -> np.ndarray:
    """Index of the nearest entry of the sorted ``table`` for each ``x``; a tie goes to the
    lower entry and values outside the table clamp to its ends (BitMoD's ``quant_datatype``:
    ``mid[i-1] < x <= mid[i]`` selects entry ``i``)."""
    mids = (table[1:] + table[:-1]) / 2
    return np.searchsorted(mids, x, side="left")
