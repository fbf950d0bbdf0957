"""IEEE binary16 as a format (no groups, no metadata): round-to-nearest-even conversion."""

from __future__ import annotations

import numpy as np

from archsim.errors import InputError
from archsim.numerics.base import Format

FP16_MAX = float(np.finfo(np.float16).max)


class Fp16Format(Format):
    """Each value rounded to IEEE half precision; codes are the 16-bit patterns."""

    name = "fp16"
    element_bits = 16
    group_size = 0
    metadata_bits = 0

    def _quantize_groups(self, groups: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, dict]:
        if np.abs(groups).max() > FP16_MAX:
            raise InputError(None, "tensor", f"values within the FP16 range (|x| <= {FP16_MAX})", float(np.abs(groups).max()))
        return groups.astype(np.float16).view(np.uint16).astype(np.int64), {}

    def _dequantize_groups(self, codes: np.ndarray, fields: dict) -> np.ndarray:
        return codes.astype(np.uint16).view(np.float16).astype(np.float64)
