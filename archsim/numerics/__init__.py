"""Number formats as numpy code: INT-k, FP3/FP4, BitMoD's extended types, BFP/MX block formats.

    >>> from archsim.numerics import get_format, error_report
    >>> fmt = get_format("bfp12", block=32)
    >>> fmt.bits_per_element
    4.25
    >>> q = fmt.quantize([1.0, 0.3, -0.9, 0.05], axis=-1)
    >>> q.dequantize().tolist()
    [1.0, 0.25, -1.0, 0.0]

Every format has ``quantize(x, axis) -> Quantized``, ``dequantize``, ``fake_quantize``,
``bits_per_element`` (elements + per-group metadata) and ``storage_bits(shape, axis)`` (exact).
"""

from archsim.numerics.base import Format, Quantized
from archsim.numerics.block import BlockFloatFormat, BlockIntFormat
from archsim.numerics.channel_sort import (
    channel_norms,
    inverse,
    ksort_weights,
    permutation_from_norms,
    sort_channels,
)
from archsim.numerics.formats import FORMAT_NAMES, get_format, is_block_format
from archsim.numerics.ieee import Fp16Format
from archsim.numerics.intq import IntFormat
from archsim.numerics.metrics import error_report, max_abs_error, mse, sqnr_db
from archsim.numerics.valueset import ValueSetFormat


def quantize(x, fmt: str | Format, *, axis: int = -1, **params) -> Quantized:
    """Quantize ``x`` along ``axis`` to ``fmt`` (a Format or a name for :func:`get_format`)."""
    f = get_format(fmt, **params) if isinstance(fmt, str) else fmt
    return f.quantize(x, axis)


def dequantize(q: Quantized):
    return q.dequantize()


def fake_quantize(x, fmt: str | Format, *, axis: int = -1, **params):
    return quantize(x, fmt, axis=axis, **params).dequantize()


def bits_per_element(fmt: str | Format, **params) -> float:
    f = get_format(fmt, **params) if isinstance(fmt, str) else fmt
    return f.bits_per_element


__all__ = [
    "FORMAT_NAMES", "BlockFloatFormat", "BlockIntFormat", "Format", "Fp16Format", "IntFormat", "Quantized",
    "ValueSetFormat", "bits_per_element", "channel_norms", "dequantize", "error_report", "fake_quantize",
    "get_format", "inverse", "is_block_format", "ksort_weights", "max_abs_error", "mse", "permutation_from_norms",
    "quantize", "sort_channels", "sqnr_db",
]
