"""What a number format means to the PE array: stored bits, bit-serial terms, dequantization.

* ``terms``: cycles a bit-serial PE spends per weight (one term per cycle, BitMoD §IV-A):
  INT-k and BFP/MXINT mantissas are radix-4 Booth encoded, ``ceil(k/2)`` terms (INT8 4, INT6 3,
  INT4 and INT3 2); FP3/FP4, BitMoD's ER/EA types and MXFP4 elements are converted to
  sign-magnitude fixed point with 4 integer and 1 fraction bit, at most two '1' bits, so 2 terms.
  Other formats (FP16, flint4 with its value 16, MXFP6/8) cannot be issued bit-serially.
* ``dequant``: the format has a per-group scale that the bit-serial dequantization unit applies
  (INT and value-set formats with 8-bit scale codes); a block format's shared exponent is a shift
  folded into the accumulation, no dequantization pass.
* ``bits_per_element``: stored bits per element including per-group metadata; weights on a
  bit-serial PE keep BitMoD's 8-bit group scale (``scale_format="uint8"``).

``olive4`` has no quantizer in :mod:`archsim.numerics` (OliVe's outlier-victim pairs, Guo et
al., ISCA'23): a 4-bit storage format for the bit-parallel OliVe baseline only.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from archsim.errors import InputError
from archsim.numerics import (
    BlockFloatFormat,
    BlockIntFormat,
    Format,
    Fp16Format,
    IntFormat,
    ValueSetFormat,
    get_format,
)

#: formats that exist only as storage widths for the bit-parallel baselines
OPAQUE_BITS = {"olive4": 4}
#: value-set formats whose values fit 4.1 fixed point with at most two '1' bits (BitMoD §IV-A)
TWO_TERM_SETS = {"fp3", "fp4", "fp3-er", "fp3-ea", "fp4-er", "fp4-ea", "bitmod-fp3", "bitmod-fp4"}


@dataclass(frozen=True)
class HwFormat:
    """A format as the hardware sees it (see module docstring)."""

    name: str
    element_bits: int
    bits_per_element: float
    terms: int | None  # bit-serial terms per element; None: not bit-serial
    group_size: int  # dequantization group along the reduction axis (0: none)
    dequant: bool
    numeric: Format | None

    def stored_bytes(self, elements: int, bits_override: float = 0.0) -> int:
        return math.ceil(elements * (bits_override or self.bits_per_element) / 8)


def hw_format(name: str, *, group_size: int, scale_format: str | None) -> HwFormat:
    """The hardware view of format ``name`` grouped/blocked by ``group_size``."""
    if name in OPAQUE_BITS:
        b = OPAQUE_BITS[name]
        return HwFormat(name, b, float(b), None, 0, False, None)
    fmt = get_format(name, group_size=group_size or None,
                     scale_format=scale_format if not _is_block(name) and name != "fp16" else None)
    if isinstance(fmt, Fp16Format):
        return HwFormat(name, 16, 16.0, None, 0, False, fmt)
    if isinstance(fmt, BlockIntFormat):
        return HwFormat(name, fmt.element_bits, fmt.bits_per_element, math.ceil(fmt.mantissa_bits / 2),
                        fmt.group_size, False, fmt)
    if isinstance(fmt, BlockFloatFormat):
        terms = 2 if fmt.element == "fp4_e2m1" else None
        return HwFormat(name, fmt.element_bits, fmt.bits_per_element, terms, fmt.group_size, False, fmt)
    if isinstance(fmt, IntFormat):
        terms = math.ceil(fmt.bits / 2) if fmt.symmetric else None
        return HwFormat(name, fmt.element_bits, fmt.bits_per_element, terms, fmt.group_size, True, fmt)
    if isinstance(fmt, ValueSetFormat):
        terms = 2 if name in TWO_TERM_SETS else None
        return HwFormat(name, fmt.element_bits, fmt.bits_per_element, terms, fmt.group_size, True, fmt)
    raise InputError(None, "format", "a format the accelerator can store", name)


def _is_block(name: str) -> bool:
    from archsim.numerics import is_block_format

    return is_block_format(name)


def _check_executable(spec, fmt: HwFormat, field: str, group_field: str) -> HwFormat:
    if spec.pe == "bitserial" and fmt.terms is None:
        raise InputError(None, field, "a format a bit-serial PE can issue as bit-terms (INT-k symmetric, FP3/FP4 and "
                         "BitMoD types, BFP/MXINT, MXFP4)", fmt.name)
    if spec.pe == "bitserial" and fmt.dequant and fmt.group_size % spec.dot_product_size:
        raise InputError(None, group_field, f"a multiple of the dot-product size {spec.dot_product_size} "
                         f"(the {fmt.name} groups are dequantized between steps)", fmt.group_size)
    return fmt


def weight_hw_format(spec, name: str | None = None) -> HwFormat:
    """The weight format of ``spec`` (or ``name``) for its PE type."""
    scale = "uint8" if spec.pe == "bitserial" else None
    try:
        fmt = hw_format(name or spec.weight_format, group_size=spec.group_size, scale_format=scale)
    except InputError as e:
        raise InputError(None, "weight_format", e.expected, e.got) from None
    return _check_executable(spec, fmt, "weight_format", "group_size")


def kv_hw_format(spec, name: str | None = None) -> HwFormat:
    """The KV-cache format of ``spec`` (or ``name``); ``kv_block`` sets its group/block."""
    scale = "uint8" if spec.pe == "bitserial" else None
    try:
        fmt = hw_format(name or spec.kv_format, group_size=spec.kv_block, scale_format=scale)
    except InputError as e:
        raise InputError(None, "kv_format", e.expected, e.got) from None
    return _check_executable(spec, fmt, "kv_format", "kv_block")
