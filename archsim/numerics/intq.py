"""INT-k quantizers with one scale per group (symmetric) or a scale and zero point (asymmetric).

Rules follow the BitMoD artifact (``abdelfattah-lab/BitMoD-HPCA-25``,
``bitmod_quant/quant_utils/quant_weight.py``: ``quant_int``, ``quant_int_asym``):

* symmetric: ``qmax = 2^(k-1) - 1``, ``scale = max|x| / qmax``,
  ``code = clamp(round(x / scale), -qmax, qmax)``, ``x' = code * scale``;
* asymmetric: ``scale = (max - min) / (2^k - 1)``, ``zero_point = clamp(round(-min / scale), 0,
  2^k - 1)``, ``code = clamp(round(x / scale) + zero_point, 0, 2^k - 1)``,
  ``x' = (code - zero_point) * scale``, with the range widened to include 0 (``min <= 0 <= max``,
  as PyTorch's observers do) so 0 is exact and the zero point never clamps; the artifact omits
  this, which only differs for a group whose values all have the same sign.

``round`` is round-half-to-even (``torch.round``). An all-zero group gets scale 0 and codes 0
(the artifact clamps the scale to ``[1e-5, 1e4]`` for FP16 arithmetic instead). Metadata per
group: the scale (``scale_format``) plus, asymmetric, a ``k``-bit zero point.
"""

from __future__ import annotations

import numpy as np

from archsim.errors import InputError
from archsim.numerics.base import (
    CHANNEL_SCALE_BITS,
    SCALE_BITS,
    Format,
    check_scale_format,
    round_half_even,
    store_scales,
)


class IntFormat(Format):
    """``k``-bit integers with a per-group scale (``symmetric``) or scale + zero point."""

    def __init__(self, bits: int, *, symmetric: bool = True, group_size: int = 128, scale_format: str = "fp16"):
        if not isinstance(bits, int) or not 2 <= bits <= 16:
            raise InputError(None, "bits", "an integer width from 2 to 16", bits)
        self.bits = bits
        self.symmetric = symmetric
        self.group_size = int(group_size)
        self.scale_format = check_scale_format(scale_format)
        self.element_bits = bits
        self.metadata_bits = SCALE_BITS[scale_format] + (0 if symmetric else bits)
        self.channel_bits = CHANNEL_SCALE_BITS if scale_format == "uint8" else 0
        self.name = f"int{bits}" + ("" if symmetric else "-asym")

    @property
    def qmax(self) -> int:
        return 2 ** (self.bits - 1) - 1 if self.symmetric else 2**self.bits - 1

    def _quantize_groups(self, groups: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, dict]:
        if self.symmetric:
            fields = store_scales(np.abs(groups).max(axis=-1) / self.qmax, self.scale_format)
            s = fields["scale"][..., None]
            safe = np.where(s > 0, s, 1.0)
            codes = np.where(s > 0, np.clip(round_half_even(groups / safe), -self.qmax, self.qmax), 0)
            return codes.astype(np.int64), fields
        lo, hi = np.minimum(groups.min(axis=-1), 0.0), np.maximum(groups.max(axis=-1), 0.0)
        raw = (hi - lo) / self.qmax
        fields = store_scales(raw, self.scale_format)
        s = fields["scale"]
        safe = np.where(s > 0, s, 1.0)
        zp = np.where(s > 0, np.clip(round_half_even(-lo / safe), 0, self.qmax), 0).astype(np.int64)
        codes = np.clip(round_half_even(groups / safe[..., None]) + zp[..., None], 0, self.qmax)
        fields["zero_point"] = zp
        return codes.astype(np.int64), fields

    def _dequantize_groups(self, codes: np.ndarray, fields: dict) -> np.ndarray:
        s = fields["scale"][..., None]
        if self.symmetric:
            return codes * s
        return (codes - fields["zero_point"][..., None]) * s
