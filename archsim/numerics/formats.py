"""Format names -> :class:`~archsim.numerics.base.Format` objects.

=================  ======================================================  ====================
name               what                                                    default group/block
=================  ======================================================  ====================
``int2..int16``    symmetric INT-k, per-group scale                        128 (FP16 scale)
``intK-asym``      asymmetric INT-k, per-group scale + k-bit zero point    128 (FP16 scale)
``fp3``, ``fp4``   FP3 {0,±1,±2,±4}, FP4 E2M1, per-group scale             128 (FP16 scale)
``flint4``         ANT's flint (BitMoD's table)                            128 (FP16 scale)
``ant4``           INT4 or flint4 per group (BitMoD's ``mixed_ant``)       128 (FP16 scale)
``fp3-er/-ea``     FP3 with special value ±3 / ±6 (sign chosen per group)  128 (INT8 scale)
``fp4-er/-ea``     FP4 with special value ±5 / ±8                          128 (INT8 scale)
``bitmod-fp3/4``   BitMoD: one of the four SVs per group (2-bit selector)  128 (INT8 scale)
``bfpN``           d-Matrix BFP: (N-8)-bit mantissa, 8-bit shared exp.     32 (ties to even)
``mxintK``         OCP MXINT-K (= BFP(K+8), ties away from zero)           32
``mxfp4``, ...     OCP MXFP4 (E2M1), ``mxfp6-e2m3/-e3m2``, ``mxfp8-e4m3/-e5m2``  32
``fp16``           IEEE half                                               none
=================  ======================================================  ====================

Group defaults: BitMoD quantizes weights in groups of 128 along the input channel (HPCA'25 §II-C);
MX blocks are 32 (OCP MX v1.0). ``group_size=0`` means one group per row (per-channel).
"""

from __future__ import annotations

import re

from archsim.errors import InputError
from archsim.numerics.base import SCALE_FORMATS, Format
from archsim.numerics.block import MX_FP_ELEMENTS, BlockFloatFormat, BlockIntFormat
from archsim.numerics.ieee import Fp16Format
from archsim.numerics.intq import IntFormat
from archsim.numerics.valueset import (
    FLINT4_VALUES,
    FP3_EA,
    FP3_ER,
    FP3_VALUES,
    FP4_EA,
    FP4_ER,
    FP4_VALUES,
    INT4_VALUES,
    ValueSetFormat,
    special_value_tables,
)

DEFAULT_GROUP = 128
DEFAULT_BLOCK = 32

#: value-set formats: name -> (tables, bits, default scale format)
_VALUE_SETS: dict[str, tuple[list, int, str]] = {
    "fp3": ([FP3_VALUES], 3, "fp16"),
    "fp4": ([FP4_VALUES], 4, "fp16"),
    "flint4": ([FLINT4_VALUES], 4, "fp16"),
    "ant4": ([INT4_VALUES, FLINT4_VALUES], 4, "fp16"),
    "fp3-er": (special_value_tables(FP3_VALUES, FP3_ER), 3, "uint8"),
    "fp3-ea": (special_value_tables(FP3_VALUES, FP3_EA), 3, "uint8"),
    "fp4-er": (special_value_tables(FP4_VALUES, FP4_ER), 4, "uint8"),
    "fp4-ea": (special_value_tables(FP4_VALUES, FP4_EA), 4, "uint8"),
    "bitmod-fp3": (special_value_tables(FP3_VALUES, FP3_ER + FP3_EA), 3, "uint8"),
    "bitmod-fp4": (special_value_tables(FP4_VALUES, FP4_ER + FP4_EA), 4, "uint8"),
}
_MX_FP = {"mxfp4": "fp4_e2m1", **{"mx" + k.replace("_", "-"): k for k in MX_FP_ELEMENTS if k != "fp4_e2m1"}}
_INT = re.compile(r"^int(\d+)(-asym)?$")
_BFP = re.compile(r"^bfp(\d+)$")
_MXINT = re.compile(r"^mxint(\d+)$")

FORMAT_NAMES: tuple[str, ...] = (
    "int2", "int3", "int4", "int6", "int8", "int3-asym", "int4-asym", "int8-asym", *_VALUE_SETS,
    "bfp12", "bfp14", "bfp16", "bfp24", "mxint4", "mxint8", *_MX_FP, "fp16",
)


def is_block_format(name: str) -> bool:
    return bool(_BFP.match(name) or _MXINT.match(name) or name in _MX_FP)


def get_format(name: str, *, group_size: int | None = None, block: int | None = None,
               scale_format: str | None = None, rounding: str | None = None) -> Format:
    """The format ``name`` (see the module table). ``group_size``/``block`` (synonyms) set the
    group or block length, ``scale_format`` (fp16, fp32, uint8) the group-scale storage of
    scaled formats, ``rounding`` (even, nearest) the tie rule of block formats."""
    if not isinstance(name, str):
        raise InputError(None, "format", f"a format name ({', '.join(FORMAT_NAMES)})", name)
    key = name.lower()
    if group_size is not None and block is not None and group_size != block:
        raise InputError(None, "block", f"the same value as group_size ({group_size})", block)
    size = group_size if group_size is not None else block
    if size is not None and (not isinstance(size, int) or isinstance(size, bool) or size < 0):
        raise InputError(None, "block", "a non-negative integer (0 = one group per row)", size)
    if scale_format is not None and scale_format not in SCALE_FORMATS:
        raise InputError(None, "scale_format", f"one of {SCALE_FORMATS}", scale_format)
    m = _INT.match(key)
    if m:
        return IntFormat(int(m.group(1)), symmetric=m.group(2) is None,
                         group_size=DEFAULT_GROUP if size is None else size, scale_format=scale_format or "fp16")
    if key in _VALUE_SETS:
        tables, bits, default_scale = _VALUE_SETS[key]
        return ValueSetFormat(key, tables, bits=bits, group_size=DEFAULT_GROUP if size is None else size,
                              scale_format=scale_format or default_scale)
    if is_block_format(key):
        if size == 0:
            raise InputError(None, "block", "a positive block size for a block format", size)
        blk = DEFAULT_BLOCK if size is None else size
        m = _BFP.match(key) or _MXINT.match(key)
        if m:
            p = int(m.group(1)) - 8 if key.startswith("bfp") else int(m.group(1))
            if p < 2:
                raise InputError(None, "format", "a BFP width of at least 10 (2-bit mantissa + 8-bit exponent)", name)
            default_round = "even" if key.startswith("bfp") else "nearest"
            return BlockIntFormat(key, mantissa_bits=p, block_size=blk, rounding=rounding or default_round)
        return BlockFloatFormat(key, _MX_FP[key], block_size=blk, rounding=rounding or "nearest")
    if key == "fp16":
        return Fp16Format()
    raise InputError(None, "format", f"one of {', '.join(FORMAT_NAMES)}", name)
