"""Formats defined by a small table of values with a per-group scale: FP3, FP4 (E2M1), FLINT4,
and BitMoD's extended types, whose groups each pick one table from a few candidates.

Value tables are in the element domain (before the group scale). Quantization follows BitMoD's
``quant_datatype`` / ``search_datatype`` (``abdelfattah-lab/BitMoD-HPCA-25``,
``bitmod_quant/quant_utils/quant_weight.py``):

* per candidate table: ``scale = max|x| / max|table|``; each element goes to the nearest table
  entry (a tie goes to the lower entry; values beyond the table clamp to its ends);
* a group keeps the candidate with the lowest mean squared error (the first one on a tie) and
  stores its index in ``selector_bits = ceil(log2(candidates))`` bits of metadata.

BitMoD's extended types (HPCA'25 §III-B, Tab. IV) replace the redundant negative zero of FP3/FP4
by one *special value* (SV) per group: FP3-ER ±3, FP3-EA ±6, FP4-ER ±5, FP4-EA ±8 (the FP4 SVs
are ±10/±16 in the code's doubled table). ``fp3-er`` chooses between +3 and -3 per group (1-bit
selector); ``bitmod-fp3`` chooses among +3, -3, +6, -6 and ``bitmod-fp4`` among +5, -5, +8, -8
(2-bit selector, the paper's "BitMoD" type). With ``scale_format="uint8"`` (BitMoD's INT8 scale)
the table choice is made with float scales, then scales are stored as 8-bit codes and each group
is re-quantized with its stored scale (two passes, see :mod:`archsim.numerics.base`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from archsim.errors import InputError
from archsim.numerics.base import (
    CHANNEL_SCALE_BITS,
    SCALE_BITS,
    Format,
    check_scale_format,
    nearest_in_table,
    store_scales,
)

#: FP3 (1 sign, 2 exponent bits, no mantissa): BitMoD Tab. IV / quant_weight.py ``FP3``
FP3_VALUES = (-4.0, -2.0, -1.0, 0.0, 1.0, 2.0, 4.0)
#: FP4 E2M1 (OCP MX spec v1.0 §5.3.3; BitMoD ``FP4_E2M1`` is this table doubled)
FP4_VALUES = (-6.0, -4.0, -3.0, -2.0, -1.5, -1.0, -0.5, 0.0, 0.5, 1.0, 1.5, 2.0, 3.0, 4.0, 6.0)
#: ANT's 4-bit flint as BitMoD evaluates it (quant_weight.py ``FLINT4``)
FLINT4_VALUES = (-16.0, -8.0, -6.0, -4.0, -3.0, -2.0, -1.0, 0.0, 1.0, 2.0, 3.0, 4.0, 6.0, 8.0, 16.0)
INT4_VALUES = tuple(float(v) for v in range(-7, 8))
#: special values replacing -0 (BitMoD HPCA'25 §III-B): extra resolution / extra asymmetry
FP3_ER, FP3_EA = (3.0, -3.0), (6.0, -6.0)
FP4_ER, FP4_EA = (5.0, -5.0), (8.0, -8.0)


def special_value_tables(base: Sequence[float], special_values: Sequence[float]) -> list[tuple[float, ...]]:
    """One table per special value: ``base`` (which has a single zero) plus that value."""
    return [tuple(sorted({*base, float(sv)})) for sv in special_values]


class ValueSetFormat(Format):
    """A ``bits``-bit code indexing one of ``tables`` (chosen per group), times a group scale."""

    def __init__(self, name: str, tables: Sequence[Sequence[float]], *, bits: int, group_size: int = 128,
                 scale_format: str = "fp16"):
        if not tables:
            raise InputError(None, "tables", "at least one value table")
        self.tables = [np.asarray(sorted(set(map(float, t))), dtype=np.float64) for t in tables]
        width = max(len(t) for t in self.tables)
        if width > 2**bits:
            raise InputError(None, f"{name}.bits", f"at least {math.ceil(math.log2(width))} bits for {width} values", bits)
        self.name = name
        self.bits = bits
        self.element_bits = bits
        self.group_size = int(group_size)
        self.scale_format = check_scale_format(scale_format)
        self.selector_bits = math.ceil(math.log2(len(self.tables))) if len(self.tables) > 1 else 0
        self.metadata_bits = SCALE_BITS[scale_format] + self.selector_bits
        self.channel_bits = CHANNEL_SCALE_BITS if scale_format == "uint8" else 0
        # all tables padded to the same length with their last (largest) value; codes never point there
        self._stack = np.stack([np.concatenate([t, np.full(width - len(t), t[-1])]) for t in self.tables])
        self._qmax = np.array([np.abs(t).max() for t in self.tables])

    def _fit(self, groups: np.ndarray, scale: np.ndarray, sel: int) -> tuple[np.ndarray, np.ndarray]:
        """Codes and values of ``groups`` in table ``sel`` with the per-group ``scale``."""
        table = self.tables[sel]
        s = scale[..., None]
        safe = np.where(s > 0, s, 1.0)
        idx = np.where(s > 0, nearest_in_table(groups / safe, table), int(np.searchsorted(table, 0.0)))
        return idx, table[idx] * s

    def _quantize_groups(self, groups: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, dict]:
        absmax = np.abs(groups).max(axis=-1)
        stored_first = self.scale_format != "uint8"
        best_err = np.full(absmax.shape, np.inf)
        selector = np.zeros(absmax.shape, dtype=np.int64)
        scale = np.zeros(absmax.shape)
        codes = np.zeros(groups.shape, dtype=np.int64)
        for sel in range(len(self.tables)):
            raw = absmax / self._qmax[sel]
            s = store_scales(raw, self.scale_format)["scale"] if stored_first else raw
            idx, val = self._fit(groups, s, sel)
            err = (((val - groups) ** 2) * mask).sum(axis=-1)
            better = err < best_err
            best_err = np.where(better, err, best_err)
            selector = np.where(better, sel, selector)
            scale = np.where(better, s, scale)
            codes = np.where(better[..., None], idx, codes)
        if stored_first:
            fields = {"scale": scale}
        else:
            fields = store_scales(scale, self.scale_format)
            for sel in range(len(self.tables)):
                idx, _ = self._fit(groups, fields["scale"], sel)
                codes = np.where((selector == sel)[..., None], idx, codes)
        if self.selector_bits:
            fields["selector"] = selector
        return codes, fields

    def _dequantize_groups(self, codes: np.ndarray, fields: dict) -> np.ndarray:
        sel = fields.get("selector")
        if sel is None:
            values = self.tables[0][codes]
        else:
            values = self._stack[sel[..., None], codes]
        return values * fields["scale"][..., None]

    def group_values(self, q_codes: np.ndarray, fields: dict) -> np.ndarray:
        """Element-domain values (table entries, before the scale) of each code."""
        return self._dequantize_groups(q_codes, {**fields, "scale": np.ones(q_codes.shape[:-1])})
