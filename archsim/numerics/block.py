"""Block floating point: one 8-bit exponent shared by a block of values.

**BFP (d-Matrix convention)** — ``BFP{p+8}``: a ``p``-bit sign-magnitude mantissa (sign included)
per element and an 8-bit exponent per block of ``n`` (Trukhanov & Soloveychik, arXiv 2403.20137;
``d-matrix-ai/dmx-compressor`` ``numerical/format.py`` and the QPyTorch ``block_quantize`` it
calls): ``E = floor(log2 max|x|)``, ``step = 2^(E - (p-2))``, ``m = round(x / step)`` clamped to
``±(2^(p-1) - 1)``, ties to even. BFP12 (``p = 4``) holds ``{-7..7} * 2^(E-2)``.

**MX (OCP Microscaling v1.0, as in ``microsoft/microxcaling`` ``mx/mx_ops.py``
``_quantize_mx`` and ``mx/elemwise_ops.py`` ``_quantize_elemwise_core``)** —
``shared_exp = floor(log2 max|x|) - emax_elem``, clamped below at -127; elements are quantized
with saturation to ``±max_norm``; ``round="nearest"`` (the library default) rounds half away
from zero. MXINT-p is exactly BFP(p+8) with that tie rule; MXFP elements keep a private exponent
(clipped at ``2 - 2^(ebits-1)``, subnormals allowed).

A block whose values are all zero gets the exponent -127 and zero codes. Exponents above 127
cannot be stored in 8 bits and raise an error. Storage: element bits plus 8 bits per block.
"""

from __future__ import annotations

import numpy as np

from archsim.errors import InputError
from archsim.numerics.base import ROUNDINGS, Format

EXPONENT_BITS = 8
#: E8M0 exponent range (MX spec §5.4: 2^-127 .. 2^127; 0xFF is NaN)
EXP_MIN, EXP_MAX = -127, 127

#: MX element formats: (ebits, mbits incl. sign and implicit one, emax, max_norm) —
#: microxcaling ``mx/formats.py`` ``_get_format_params``
MX_FP_ELEMENTS = {
    "fp4_e2m1": (2, 3, 2, 6.0),
    "fp6_e2m3": (2, 5, 2, 7.5),
    "fp6_e3m2": (3, 4, 4, 28.0),
    "fp8_e4m3": (4, 5, 8, 448.0),
    "fp8_e5m2": (5, 4, 15, 57344.0),
}


def floor_log2(x: np.ndarray) -> np.ndarray:
    """Exact ``floor(log2(x))`` for ``x > 0`` (``frexp``: ``x = f * 2^e``, ``0.5 <= f < 1``)."""
    _, e = np.frexp(x)
    return e.astype(np.int64) - 1


def _shared_exponent(absmax: np.ndarray, emax_elem: int) -> np.ndarray:
    safe = np.where(absmax > 0, absmax, 1.0)
    e = np.where(absmax > 0, floor_log2(safe) - emax_elem, EXP_MIN)
    if np.any(e > EXP_MAX):
        raise InputError(None, "tensor", f"block maxima below 2^{EXP_MAX + 1} (8-bit shared exponent)",
                         float(absmax.max()))
    return np.maximum(e, EXP_MIN)


class BlockIntFormat(Format):
    """BFP / MXINT: ``mantissa_bits`` sign-magnitude mantissa, 8-bit exponent per ``block_size``."""

    def __init__(self, name: str, *, mantissa_bits: int, block_size: int = 32, rounding: str = "even"):
        if not isinstance(mantissa_bits, int) or not 2 <= mantissa_bits <= 24:
            raise InputError(None, f"{name}.mantissa_bits", "an integer from 2 to 24", mantissa_bits)
        if not isinstance(block_size, int) or block_size < 1:
            raise InputError(None, "block", "a positive block size", block_size)
        if rounding not in ROUNDINGS:
            raise InputError(None, "rounding", f"one of {sorted(ROUNDINGS)}", rounding)
        self.name = name
        self.mantissa_bits = mantissa_bits
        self.element_bits = mantissa_bits
        self.group_size = block_size
        self.metadata_bits = EXPONENT_BITS
        self.rounding = rounding

    @property
    def max_mantissa(self) -> int:
        return 2 ** (self.mantissa_bits - 1) - 1

    def step_exponent(self, exponent: np.ndarray) -> np.ndarray:
        """log2 of the mantissa LSB for a block exponent: ``E - (p - 2)``."""
        return exponent - (self.mantissa_bits - 2)

    def _quantize_groups(self, groups: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, dict]:
        e = _shared_exponent(np.abs(groups).max(axis=-1), 0)
        step = np.ldexp(1.0, self.step_exponent(e))[..., None]
        m = ROUNDINGS[self.rounding](groups / step)
        m = np.clip(m, -self.max_mantissa, self.max_mantissa).astype(np.int64)
        return m, {"exponent": e, "scale": step[..., 0]}

    def _dequantize_groups(self, codes: np.ndarray, fields: dict) -> np.ndarray:
        return np.ldexp(codes.astype(np.float64), self.step_exponent(fields["exponent"])[..., None])


def fp_element_values(ebits: int, mbits: int, max_norm: float) -> np.ndarray:
    """Every value of a small FP element format up to ``max_norm`` (both signs, one zero)."""
    frac = mbits - 2
    min_exp = 2 - 2 ** (ebits - 1)
    mags = {k * 2.0 ** (min_exp - frac) for k in range(2**frac)}  # zero and subnormals
    e = min_exp
    while True:
        row = [(1 + k / 2**frac) * 2.0**e for k in range(2**frac)]
        mags.update(v for v in row if v <= max_norm)
        if row[0] > max_norm:
            break
        e += 1
    pos = np.array(sorted(mags))
    return np.concatenate([-pos[:0:-1], pos])


class BlockFloatFormat(Format):
    """MXFP: small-float elements (``MX_FP_ELEMENTS``) with an 8-bit shared exponent per block."""

    def __init__(self, name: str, element: str, *, block_size: int = 32, rounding: str = "nearest"):
        if element not in MX_FP_ELEMENTS:
            raise InputError(None, "element", f"one of {sorted(MX_FP_ELEMENTS)}", element)
        if rounding not in ROUNDINGS:
            raise InputError(None, "rounding", f"one of {sorted(ROUNDINGS)}", rounding)
        if not isinstance(block_size, int) or block_size < 1:
            raise InputError(None, "block", "a positive block size", block_size)
        self.name = name
        self.element = element
        self.ebits, self.mbits, self.emax, self.max_norm = MX_FP_ELEMENTS[element]
        self.element_bits = 1 + self.ebits + self.mbits - 2
        self.group_size = block_size
        self.metadata_bits = EXPONENT_BITS
        self.rounding = rounding
        self.values = fp_element_values(self.ebits, self.mbits, self.max_norm)

    def _quantize_groups(self, groups: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, dict]:
        e = _shared_exponent(np.abs(groups).max(axis=-1), self.emax)
        a = np.ldexp(groups, -e[..., None])
        mag = np.abs(a)
        min_exp = 2 - 2 ** (self.ebits - 1)
        private = np.maximum(np.where(mag > 0, floor_log2(np.where(mag > 0, mag, 1.0)), 0), min_exp)
        shift = (self.mbits - 2) - private
        q = np.ldexp(ROUNDINGS[self.rounding](np.ldexp(a, shift)), -shift)
        q = np.clip(q, -self.max_norm, self.max_norm)
        codes = np.searchsorted(self.values, q)
        return codes.astype(np.int64), {"exponent": e, "scale": np.ldexp(1.0, e)}

    def _dequantize_groups(self, codes: np.ndarray, fields: dict) -> np.ndarray:
        return np.ldexp(self.values[codes], fields["exponent"][..., None])
