"""Quantizers on hand-computed examples (every expected value derived in the comments)."""

import numpy as np
import pytest

from archsim.errors import InputError
from archsim.numerics import get_format


def deq(name, x, **kw):
    return get_format(name, **kw).quantize(np.asarray(x, float)).dequantize()


def test_int4_symmetric_ties_to_even():
    # absmax 1.75 -> scale 1.75/7 = 0.25; x/s = 3.5, -1.5, 0.5, 7 -> rint 4, -2, 0, 7
    q = get_format("int4", group_size=4, scale_format="fp32").quantize([0.875, -0.375, 0.125, 1.75])
    assert q.codes.ravel().tolist() == [4, -2, 0, 7]
    assert q.dequantize().tolist() == [1.0, -0.5, 0.0, 1.75]


def test_int4_asymmetric():
    # min -5, max 10 -> scale 15/15 = 1, zero point rint(5) = 5; codes rint(x) + 5
    q = get_format("int4-asym", group_size=4, scale_format="fp32").quantize([-5.0, 10.0, 2.5, -1.5])
    assert q.fields["zero_point"].ravel().tolist() == [5]
    assert q.codes.ravel().tolist() == [0, 15, 7, 3]
    assert q.dequantize().tolist() == [-5.0, 10.0, 2.0, -2.0]


def test_int8_groups_of_128_and_partial_group():
    x = np.zeros(130)
    x[0], x[129] = 127.0, -2.0  # group 0: scale 1; group 1 (2 real values): scale 2/127
    q = get_format("int8").quantize(x)
    assert q.codes.shape == (2, 128)
    assert q.fields["scale"].tolist() == [1.0, float(np.float16(2 / 127))]
    assert q.dequantize()[129] == pytest.approx(-2.0, rel=1e-3)


def test_fp4_e2m1_nearest_with_ties_to_the_lower_value():
    # absmax 6 -> scale 1. 2.6 -> 3; -0.75 (tie of -1/-0.5) -> -1; 0.2 -> 0; 5 (tie 4/6) -> 4;
    # -2.5 (tie -3/-2) -> -3  (BitMoD quant_datatype: mid[i-1] < x <= mid[i] picks entry i)
    y = deq("fp4", [6.0, 2.6, -0.75, 0.2, 5.0, -2.5], group_size=6, scale_format="fp32")
    assert y.tolist() == [6.0, 3.0, -1.0, 0.0, 4.0, -3.0]


def test_fp3_values_and_scale():
    # absmax 8 -> scale 8/4 = 2; x/s = 4, 1.6, -0.7, 0.2 -> 4, 2, -1, 0
    assert deq("fp3", [8.0, 3.2, -1.4, 0.4], group_size=4, scale_format="fp32").tolist() == [8.0, 4.0, -2.0, 0.0]


def test_fp3_er_picks_the_sign_of_the_special_value_per_group():
    # group 0: +3 table {-4,-2,-1,0,1,2,3,4}: 3.1 -> 3 (error 0.01); -3 table: 3.1 -> 4 (error 0.81)
    # group 1: mirrored -> the -3 table
    q = get_format("fp3-er", group_size=4, scale_format="fp32").quantize([3.1, 1.0, 0.0, -4.0, -3.1, 1.0, 0.0, 4.0])
    assert q.fields["selector"].tolist() == [0, 1]
    assert q.dequantize().tolist() == [3.0, 1.0, 0.0, -4.0, -3.0, 1.0, 0.0, 4.0]


def test_fp3_ea_special_value_six():
    # +6 table {-4,-2,-1,0,1,2,4,6}, qmax 6, scale 1: exact; -6 table would clamp 6 to 4
    q = get_format("fp3-ea", group_size=4, scale_format="fp32").quantize([6.0, 4.0, 1.0, -4.0])
    assert q.fields["selector"].tolist() == [0]
    assert q.dequantize().tolist() == [6.0, 4.0, 1.0, -4.0]


def test_bitmod_fp4_uses_all_four_special_values():
    f = get_format("bitmod-fp4", group_size=4, scale_format="fp32")
    # each group is exactly representable with one SV only: +5, -5, +8, -8 (scale 1 for 5/-5 groups)
    x = [5.0, 1.0, 0.5, -6.0, -5.0, 1.0, 0.5, 6.0, 8.0, 1.0, 3.0, -6.0, -8.0, 1.0, 3.0, 6.0]
    q = f.quantize(x)
    assert q.fields["selector"].tolist() == [0, 1, 2, 3]
    assert q.dequantize().tolist() == x
    assert get_format("bitmod-fp4").bits_per_element == 4 + (8 + 2) / 128


def test_uint8_group_scales_two_level():
    # two groups: absmax 7 and 3.5 -> FP scales 1 and 0.5; channel scale = fp16(1/255);
    # codes = rint(scale / channel) in 1..255 (VS-Quant)
    f = get_format("int4", group_size=2, scale_format="uint8")
    q = f.quantize([7.0, 1.0, 3.5, -1.0])
    chan = float(np.float16(1 / 255))
    assert float(q.fields["channel_scale"]) == chan
    assert q.fields["scale_code"].ravel().tolist() == [round(1 / chan), round(0.5 / chan)]
    assert q.fields["scale"].ravel().tolist() == [round(1 / chan) * chan, round(0.5 / chan) * chan]


def test_bits_per_element_including_metadata():
    assert get_format("bfp16", block=64).bits_per_element == 8.125  # d-Matrix BFP16_64
    assert get_format("bfp12", block=32).bits_per_element == 4.25  # BFP12_32
    assert get_format("bfp12", block=64).bits_per_element == 4.125
    assert get_format("int4").bits_per_element == 4 + 16 / 128  # FP16 scale per 128
    assert get_format("bitmod-fp3").bits_per_element == 3 + 10 / 128  # INT8 scale + 2-bit SV selector
    assert get_format("fp3-er").bits_per_element == 3 + 9 / 128  # 1-bit selector (sign of the SV)
    assert get_format("mxfp4").bits_per_element == 4.25


def test_storage_bits_exact_with_partial_blocks():
    # (10, 100) in BFP12 blocks of 32 along the last axis: 4 blocks per row (the last partial)
    assert get_format("bfp12", block=32).storage_bits((10, 100)) == 1000 * 4 + 10 * 4 * 8
    # uint8 scales add one FP16 channel scale per row
    assert get_format("int4", group_size=64, scale_format="uint8").storage_bits((3, 128)) == 384 * 4 + 3 * 2 * 8 + 3 * 16


def test_bfp12_hand_example_and_ties_to_even():
    # max 1.0 -> E = 0, step 2^(0-2) = 0.25: 0.3 -> 1 (0.25), -0.9 -> -3.6 -> -4 (-1.0), 0.05 -> 0
    assert deq("bfp12", [1.0, 0.3, -0.9, 0.05], block=4).tolist() == [1.0, 0.25, -1.0, 0.0]
    # ties: 0.375/0.25 = 1.5 -> 2, 0.625/0.25 = 2.5 -> 2, -0.125/0.25 = -0.5 -> -0
    assert deq("bfp12", [1.0, 0.375, 0.625, -0.125], block=4).tolist() == [1.0, 0.5, 0.5, 0.0]
    # MXINT4 = BFP12 with ties away from zero (microxcaling round="nearest")
    assert deq("mxint4", [1.0, 0.375, 0.625, -0.125], block=4).tolist() == [1.0, 0.5, 0.75, -0.25]


def test_bfp12_clamps_to_seven_and_codes_are_sign_magnitude_range():
    # max 1.99 -> E = 0; 1.99/0.25 = 7.96 -> 8 -> clamp 7 -> 1.75; mantissas in -7..7
    q = get_format("bfp12", block=2).quantize([1.99, -0.1])
    assert q.codes.ravel().tolist() == [7, 0]
    assert q.fields["exponent"].tolist() == [0]
    assert q.dequantize().tolist() == [1.75, 0.0]


def test_bfp16_exponent_of_small_and_zero_blocks():
    q = get_format("bfp16", block=4).quantize([0.0, 0.0, 0.0, 0.0, 3e-3, 0.0, 0.0, 0.0])
    # zero block -> exponent -127; 3e-3 in [2^-9, 2^-8) -> E = -9, step 2^(-9-6), m = rint(3e-3 * 2^15) = 98
    assert q.fields["exponent"].tolist() == [-127, -9]
    assert q.codes[1, 0] == 98


def test_mxfp4_private_exponents():
    # absmax 6 -> shared floor(log2 6) - emax(2) = 0. 1.25: 2.5 -> 3 (half away) -> 1.5;
    # -0.3: private exponent clipped at 0 -> -0.6 -> -1 -> -0.5
    assert deq("mxfp4", [6.0, 3.0, 1.25, -0.3], block=4).tolist() == [6.0, 3.0, 1.5, -0.5]


def test_fp16_round_trip_and_overflow():
    assert deq("fp16", [1.0, 1 + 2**-11, 65504.0]).tolist() == [1.0, 1.0, 65504.0]
    with pytest.raises(InputError):
        deq("fp16", [1e6])


def test_unknown_format_and_bad_parameters():
    with pytest.raises(InputError, match="format"):
        get_format("int4x")
    with pytest.raises(InputError, match="block"):
        get_format("bfp12", block=0)
    with pytest.raises(InputError, match="block"):
        get_format("bfp12", group_size=16, block=32)
    with pytest.raises(InputError, match="finite"):
        get_format("int8").quantize([1.0, float("nan")])
