"""CNN builders: ResNet-18/50 (torchvision layout, v1.5) and MobileNetV1.

BatchNorm is folded into the preceding convolution, which therefore carries a ``(out_ch,)`` bias;
a ReLU that follows a conv directly is fused (``activation="relu"``). Every tensor uses ``dtype``.

Sources: He et al., "Deep Residual Learning for Image Recognition" (2016), Table 1, with the
torchvision ``resnet.py`` layout (stride on the 3x3 conv of a bottleneck, "ResNet v1.5");
Howard et al., "MobileNets" (2017), Table 1, channel scaling ``int(c * width_mult)`` as in
``keras.applications.mobilenet``.
"""

from __future__ import annotations

from archsim.errors import InputError
from archsim.workload.builders.layers import conv2d, elementwise, linear, pool2d
from archsim.workload.graph import DTYPE_BITS, Graph, OpKind, Tensor

#: ResNet depth -> (block type, blocks per stage); He et al. Table 1
RESNET_STAGES: dict[int, tuple[str, tuple[int, int, int, int]]] = {
    18: ("basic", (2, 2, 2, 2)),
    50: ("bottleneck", (3, 4, 6, 3)),
}
_STAGE_WIDTHS = (64, 128, 256, 512)
_BOTTLENECK_EXPANSION = 4

#: MobileNetV1 body after conv1: (output channels, stride of the depthwise conv); Howard et al.
#: Table 1, where the last depthwise conv is listed as "s2" but runs at stride 1 (7x7 -> 7x7).
MOBILENET_V1_BLOCKS: tuple[tuple[int, int], ...] = (
    (64, 1),
    (128, 2),
    (128, 1),
    (256, 2),
    (256, 1),
    (512, 2),
    (512, 1),
    (512, 1),
    (512, 1),
    (512, 1),
    (512, 1),
    (1024, 2),
    (1024, 1),
)


def _check_common(batch: int, input_hw: int, num_classes: int, dtype: str) -> None:
    for field, value in (("batch", batch), ("input_hw", input_hw), ("num_classes", num_classes)):
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise InputError(None, field, "a positive integer", value)
    if dtype not in DTYPE_BITS:
        raise InputError(None, "dtype", f"one of {sorted(DTYPE_BITS)}", dtype)


def _basic_block(g: Graph, p: str, x: Tensor, width: int, stride: int) -> Tensor:
    y = conv2d(g, f"{p}.conv1", x, width, 3, stride=stride, pad=1, activation="relu")
    y = conv2d(g, f"{p}.conv2", y, width, 3, pad=1)
    short = x
    if stride != 1 or x.shape[1] != width:
        short = conv2d(g, f"{p}.downsample", x, width, 1, stride=stride)
    return elementwise(g, f"{p}.add", (y, short), y.shape, fn="add", ops_per_element=2, activation="relu")


def _bottleneck(g: Graph, p: str, x: Tensor, width: int, stride: int) -> Tensor:
    out_ch = width * _BOTTLENECK_EXPANSION
    y = conv2d(g, f"{p}.conv1", x, width, 1, activation="relu")
    y = conv2d(g, f"{p}.conv2", y, width, 3, stride=stride, pad=1, activation="relu")
    y = conv2d(g, f"{p}.conv3", y, out_ch, 1)
    short = x
    if stride != 1 or x.shape[1] != out_ch:
        short = conv2d(g, f"{p}.downsample", x, out_ch, 1, stride=stride)
    return elementwise(g, f"{p}.add", (y, short), y.shape, fn="add", ops_per_element=2, activation="relu")


def _head(g: Graph, x: Tensor, num_classes: int) -> None:
    """Global average pool + fully connected classifier (``fc``: m=batch, k=channels, n=classes)."""
    b, c, h, w = x.shape
    pooled = pool2d(g, "avgpool", x, (h, w), stride=1, fn="avg")
    linear(g, "fc", pooled, num_classes, bias=True, rows=b, in_features=c, out_shape=(b, num_classes),
           out_role="output")


def resnet(
    depth: int, batch: int = 1, input_hw: int = 224, num_classes: int = 1000, dtype: str = "int8"
) -> Graph:
    """ResNet-``depth`` (18 or 50) for a ``batch x 3 x input_hw x input_hw`` image, torchvision names."""
    if depth not in RESNET_STAGES:
        raise InputError(None, "depth", f"one of {sorted(RESNET_STAGES)}", depth)
    _check_common(batch, input_hw, num_classes, dtype)
    block_type, blocks = RESNET_STAGES[depth]
    block = _basic_block if block_type == "basic" else _bottleneck
    g = Graph(
        f"resnet{depth}",
        params={"model": f"resnet{depth}", "batch": batch, "input_hw": input_hw, "num_classes": num_classes,
                "dtype": dtype},
    )
    x = Tensor("input", (batch, 3, input_hw, input_hw), dtype, "input")
    x = conv2d(g, "conv1", x, 64, 7, stride=2, pad=3, activation="relu")
    x = pool2d(g, "maxpool", x, (3, 3), stride=2, pad=1, fn="max")
    for stage, (width, n_blocks) in enumerate(zip(_STAGE_WIDTHS, blocks), start=1):
        for i in range(n_blocks):
            stride = 2 if stage > 1 and i == 0 else 1
            x = block(g, f"layer{stage}.{i}", x, width, stride)
    _head(g, x, num_classes)
    return g


def mobilenet_v1(
    batch: int = 1,
    input_hw: int = 224,
    width_mult: float = 1.0,
    channels_per_group: int = 1,
    dtype: str = "int8",
    num_classes: int = 1000,
) -> Graph:
    """MobileNetV1 (Howard et al. 2017, Table 1): ``conv1``, ``conv{i}_dw``/``conv{i}_pw`` (i=2..14),
    ``avgpool``, ``fc``.

    ``channels_per_group`` (G) sets how many input channels each filter of the 3x3 "depthwise"
    layers sees: G=1 gives DEPTHWISE_CONV2D ops; G>1 gives GROUPED_CONV2D ops with ``C/G`` groups
    (for PE-utilisation studies à la DRACO). Every channel count must then be divisible by G.
    """
    _check_common(batch, input_hw, num_classes, dtype)
    if not isinstance(width_mult, int | float) or isinstance(width_mult, bool) or width_mult <= 0:
        raise InputError(None, "width_mult", "a positive number", width_mult)
    if not isinstance(channels_per_group, int) or isinstance(channels_per_group, bool) or channels_per_group < 1:
        raise InputError(None, "channels_per_group", "a positive integer", channels_per_group)

    def ch(c: int) -> int:
        scaled = int(c * width_mult)
        if scaled < 1:
            raise InputError(None, "width_mult", f"large enough that {c} channels scale to at least 1", width_mult)
        return scaled

    gsize = channels_per_group
    g = Graph(
        "mobilenet_v1",
        params={"model": "mobilenet_v1", "batch": batch, "input_hw": input_hw, "width_mult": width_mult,
                "channels_per_group": gsize, "num_classes": num_classes, "dtype": dtype},
    )
    x = Tensor("input", (batch, 3, input_hw, input_hw), dtype, "input")
    x = conv2d(g, "conv1", x, ch(32), 3, stride=2, pad=1, activation="relu")
    for i, (out_c, stride) in enumerate(MOBILENET_V1_BLOCKS, start=2):
        c = x.shape[1]
        if c % gsize:
            raise InputError(None, "channels_per_group", f"a divisor of {c} (channels of conv{i}_dw)", gsize)
        kind = OpKind.DEPTHWISE_CONV2D if gsize == 1 else OpKind.GROUPED_CONV2D
        x = conv2d(g, f"conv{i}_dw", x, c, 3, stride=stride, pad=1, groups=c // gsize, kind=kind, activation="relu")
        x = conv2d(g, f"conv{i}_pw", x, ch(out_c), 1, activation="relu")
    _head(g, x, num_classes)
    return g
