"""ResNet-18/50 and MobileNetV1 builders against hand formulas and published figures."""

from __future__ import annotations

import pytest

from archsim.errors import InputError
from archsim.workload import OpKind, mobilenet_v1, resnet


def _params(g) -> int:
    return sum(t.numel for t in g.weights)


# ---- ResNet ------------------------------------------------------------------------------------
def _resnet18_macs() -> int:
    """He et al. Table 1, written out stage by stage (output HxW x Cout x kernel volume)."""
    conv1 = 112 * 112 * 64 * (7 * 7 * 3)
    layer1 = 4 * (56 * 56 * 64 * 9 * 64)
    # stages 2-4: first 3x3 conv halves H, then three 3x3 convs, plus a 1x1 stride-2 downsample
    later = 0
    for hw, c in ((28, 128), (14, 256), (7, 512)):
        later += hw * hw * c * 9 * (c // 2) + 3 * hw * hw * c * 9 * c + hw * hw * c * (c // 2)
    fc = 512 * 1000
    return conv1 + layer1 + later + fc


def _resnet50_macs() -> int:
    total = 112 * 112 * 64 * (7 * 7 * 3)
    in_c = 64
    for hw_in, hw, width, blocks in ((56, 56, 64, 3), (56, 28, 128, 4), (28, 14, 256, 6), (14, 7, 512, 3)):
        out_c = 4 * width
        for b in range(blocks):
            c = in_c if b == 0 else out_c
            conv1_hw = hw_in if b == 0 else hw  # v1.5: the 1x1 reduce runs before the stride
            total += conv1_hw * conv1_hw * width * c  # 1x1 reduce
            total += hw * hw * width * 9 * width  # 3x3 (strided in block 0 of stages 2-4)
            total += hw * hw * out_c * width  # 1x1 expand
            if b == 0:
                total += hw * hw * out_c * c  # downsample
        in_c = out_c
    return total + 2048 * 1000


def test_resnet18_macs_match_hand_formula_and_torchvision():
    g = resnet(18)
    assert g.total_macs == _resnet18_macs()
    assert g.total_macs == 1_814_073_344  # torchvision: 1.81 GFLOPS (multiply-adds)


def test_resnet50_macs_match_hand_formula_and_torchvision():
    g = resnet(50)
    assert g.total_macs == _resnet50_macs()
    assert g.total_macs == 4_089_184_256  # torchvision: 4.09 GFLOPS (multiply-adds)


@pytest.mark.parametrize(
    ("depth", "published_params", "bn_channels"),
    [
        # torchvision parameter counts; BN channels = conv output channels summed over all convs
        (18, 11_689_512, 64 + 4 * 64 + (4 * 128 + 128) + (4 * 256 + 256) + (4 * 512 + 512)),
        (50, 25_557_032, 64 + (3 * 384 + 256) + (4 * 768 + 512) + (6 * 1536 + 1024) + (3 * 3072 + 2048)),
    ],
)
def test_resnet_weights_are_published_params_with_batchnorm_folded(depth, published_params, bn_channels):
    # folding replaces each BN's (gamma, beta) by one bias per channel
    g = resnet(depth)
    assert _params(g) == published_params - bn_channels
    assert g.weight_bytes == _params(g)  # int8
    assert resnet(depth, dtype="fp16").weight_bytes == 2 * _params(g)


def test_resnet50_names_and_v15_stride_placement():
    g = resnet(50)
    names = [op.name for op in g.ops]
    assert names[:2] == ["conv1", "maxpool"]
    assert names[2:7] == ["layer1.0.conv1", "layer1.0.conv2", "layer1.0.conv3", "layer1.0.downsample", "layer1.0.add"]
    assert names[-2:] == ["avgpool", "fc"]
    assert g.op("layer2.0.conv1").attr("stride_h") == 1
    assert g.op("layer2.0.conv2").attr("stride_h") == 2
    assert g.op("layer2.0.downsample").attr("stride_h") == 2
    assert "layer1.1.downsample" not in names
    add = g.op("layer3.2.add")
    assert add.kind == OpKind.ELEMENTWISE and add.attr("activation") == "relu"
    assert g.op("layer1.0.conv3").attr("activation") is None  # ReLU comes after the add
    assert g.op("layer1.0.conv1").attr("activation") == "relu"
    assert g.op("avgpool").kind == OpKind.POOL


def test_resnet_conv_attrs_and_weight_layout():
    conv = resnet(50).op("layer3.0.conv2")
    assert conv.params == {
        "batch": 1, "in_h": 28, "in_w": 28, "in_ch": 256, "out_ch": 256, "kernel_h": 3, "kernel_w": 3,
        "stride_h": 2, "stride_w": 2, "pad_h": 1, "pad_w": 1, "groups": 1, "activation": "relu",
    }
    weight = [t for t in conv.inputs if t.name.endswith(".weight")][0]
    assert weight.role == "weight" and weight.shape == (256, 256, 3, 3)
    assert conv.outputs[0].shape == (1, 256, 14, 14)


@pytest.mark.parametrize(("depth", "out_c"), [(18, 512), (50, 2048)])
def test_resnet_output_shapes_per_stage(depth, out_c):
    g = resnet(depth, batch=2, input_hw=256)
    # 256 -> conv1 /2 -> maxpool /2 = 64, then /2 per later stage
    last = "layer{}.{}.add"
    blocks = (2, 2, 2, 2) if depth == 18 else (3, 4, 6, 3)
    for stage, hw in zip(range(1, 5), (64, 32, 16, 8)):
        out = g.op(last.format(stage, blocks[stage - 1] - 1)).outputs[0]
        assert out.shape[0] == 2 and out.shape[2:] == (hw, hw)
    assert g.op("conv1").outputs[0].shape == (2, 64, 128, 128)
    assert g.op("maxpool").outputs[0].shape == (2, 64, 64, 64)
    fc = g.op("fc")
    assert (fc.attr("m"), fc.attr("k"), fc.attr("n")) == (2, out_c, 1000)
    assert g.op("avgpool").attr("kernel_h") == 8
    assert g.graph_inputs[0].role == "input" and g.graph_inputs[0].shape == (2, 3, 256, 256)


def test_resnet_bad_arguments():
    with pytest.raises(InputError, match="depth"):
        resnet(34)
    with pytest.raises(InputError, match="dtype"):
        resnet(18, dtype="int7")
    with pytest.raises(InputError, match="input_hw"):
        resnet(18, input_hw=0)


# ---- MobileNetV1 -------------------------------------------------------------------------------
#: Howard et al. Table 1: (input HxW of the dw conv, channels in, dw stride, channels out)
_MOBILENET_TABLE = [
    (112, 32, 1, 64), (112, 64, 2, 128), (56, 128, 1, 128), (56, 128, 2, 256), (28, 256, 1, 256),
    (28, 256, 2, 512), *[(14, 512, 1, 512)] * 5, (14, 512, 2, 1024), (7, 1024, 1, 1024),
]


def test_mobilenet_v1_macs_match_table1_and_paper():
    macs = 112 * 112 * 32 * 27  # conv1
    for hw, c, s, out in _MOBILENET_TABLE:
        o = hw // s
        macs += o * o * c * 9 + o * o * c * out
    macs += 1024 * 1000
    g = mobilenet_v1()
    assert g.total_macs == macs
    assert round(g.total_macs / 1e6) == 569  # paper: 569 million mult-adds


def test_mobilenet_v1_weights_match_keras_count_with_batchnorm_folded():
    # keras.applications.MobileNet(alpha=1): 4,231,976 trainable parameters including BN gamma/beta
    bn_channels = 32 + sum(c + out for _, c, _, out in _MOBILENET_TABLE)
    assert _params(mobilenet_v1()) == 4_231_976 - bn_channels


def test_mobilenet_v1_names_kinds_and_last_dw_stride():
    g = mobilenet_v1()
    names = [op.name for op in g.ops]
    expected = ["conv1"] + [f"conv{i}_{p}" for i in range(2, 15) for p in ("dw", "pw")] + ["avgpool", "fc"]
    assert names == expected
    dw = g.op("conv14_dw")
    assert dw.kind == OpKind.DEPTHWISE_CONV2D and dw.attr("stride_h") == 1 and dw.attr("groups") == 1024
    assert dw.outputs[0].shape == (1, 1024, 7, 7)
    assert g.op("conv3_dw").attr("stride_h") == 2
    weight = [t for t in g.op("conv2_dw").inputs if t.name.endswith(".weight")][0]
    assert weight.shape == (32, 1, 3, 3)


@pytest.mark.parametrize("cpg", [2, 4, 8, 32])
def test_mobilenet_channels_per_group_gives_grouped_convs(cpg):
    g = mobilenet_v1(channels_per_group=cpg)
    base = mobilenet_v1()
    extra = 0
    for i, (hw, c, s, _) in enumerate(_MOBILENET_TABLE, start=2):
        op = g.op(f"conv{i}_dw")
        assert op.kind == OpKind.GROUPED_CONV2D and op.attr("groups") == c // cpg
        o = hw // s
        assert op.macs == o * o * c * 9 * cpg
        extra += o * o * c * 9 * (cpg - 1)
    assert g.total_macs == base.total_macs + extra


def test_mobilenet_width_mult_and_bad_group():
    g = mobilenet_v1(width_mult=0.5)
    assert g.op("conv1").attr("out_ch") == 16 and g.op("fc").attr("k") == 512
    with pytest.raises(InputError, match="channels_per_group"):
        mobilenet_v1(channels_per_group=3)
