"""ONNX import (optional ``onnx`` extra): op mapping, shapes from inference, unsupported-op report."""

from __future__ import annotations

import pytest

from archsim.errors import InputError
from archsim.workload import OpKind, load_workload

onnx = pytest.importorskip("onnx")
np = pytest.importorskip("numpy")
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

from archsim.workload.importers.onnx_import import UnsupportedOpsError, import_onnx  # noqa: E402


def _init(name, shape):
    return numpy_helper.from_array(np.zeros(shape, np.float32), name)


def _save(tmp_path, nodes, inits, out_shape, name="net.onnx"):
    graph = helper.make_graph(
        nodes, "net", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 3, 32, 32])],
        [helper.make_tensor_value_info(nodes[-1].output[0], TensorProto.FLOAT, out_shape)], inits,
    )
    path = tmp_path / name
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(path))
    return path


CNN_NODES = [
    helper.make_node("Conv", ["x", "w1", "b1"], ["c1"], name="conv1", kernel_shape=[3, 3], strides=[2, 2],
                     pads=[1, 1, 1, 1]),
    helper.make_node("Relu", ["c1"], ["r1"], name="relu1"),
    helper.make_node("Conv", ["r1", "wdw"], ["c2"], name="dw", kernel_shape=[3, 3], group=8, strides=[2, 2],
                     pads=[0, 0, 1, 1]),  # asymmetric (TF "SAME") padding
    helper.make_node("MaxPool", ["c2"], ["p1"], name="pool", kernel_shape=[2, 2], strides=[2, 2]),
    helper.make_node("GlobalAveragePool", ["p1"], ["gap"], name="gap"),
    helper.make_node("Flatten", ["gap"], ["flat"], name="flatten"),
    helper.make_node("Gemm", ["flat", "wfc", "bfc"], ["logits"], name="fc", transB=1),
    helper.make_node("Softmax", ["logits"], ["prob"], name="softmax", axis=-1),
]
CNN_INITS = [_init("w1", (8, 3, 3, 3)), _init("b1", (8,)), _init("wdw", (8, 1, 3, 3)), _init("wfc", (10, 8)),
             _init("bfc", (10,))]


def test_cnn_import_maps_ops_and_shapes(tmp_path):
    path = _save(tmp_path, CNN_NODES, CNN_INITS, ["N", 10])
    g = load_workload(path, batch=2)
    assert [op.name for op in g.ops] == ["conv1", "relu1", "dw", "pool", "gap", "fc", "softmax"]
    conv = g.op("conv1")
    assert conv.kind == OpKind.CONV2D and conv.outputs[0].shape == (2, 8, 16, 16)
    assert conv.macs == 2 * 16 * 16 * 8 * 27
    dw = g.op("dw")
    assert dw.kind == OpKind.DEPTHWISE_CONV2D and dw.conv_out_hw() == (8, 8)
    assert g.op("pool").kind == OpKind.POOL and g.op("gap").attr("kernel_h") == 4
    fc = g.op("fc")
    assert (fc.attr("m"), fc.attr("n"), fc.attr("k")) == (2, 10, 8)
    assert ("gap", "fc") in g.nx.edges  # Flatten is a view: the edge goes through it
    assert (g.op("softmax").attr("rows"), g.op("softmax").attr("cols")) == (2, 10)
    weights = {t.name for t in g.weights}
    assert weights == {"w1", "b1", "wdw", "wfc", "bfc"}
    assert g.weight_bytes == 4 * (8 * 27 + 8 + 8 * 9 + 80 + 10)  # fp32
    assert import_onnx(path, dtype="int8").weight_bytes == 8 * 27 + 8 + 8 * 9 + 80 + 10


def test_unsupported_ops_are_reported_together(tmp_path):
    nodes = [
        helper.make_node("Conv", ["x", "w1"], ["c1"], name="conv1", kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
        helper.make_node("Resize", ["c1", "", "scales"], ["up"], name="up1", mode="nearest"),
        helper.make_node("LRN", ["up"], ["n1"], name="lrn1", size=3),
        helper.make_node("Relu", ["n1"], ["out"], name="relu"),
    ]
    scales = numpy_helper.from_array(np.array([1, 1, 2, 2], np.float32), "scales")
    path = _save(tmp_path, nodes, [_init("w1", (8, 3, 3, 3)), scales], ["N", 8, 64, 64])
    with pytest.raises(UnsupportedOpsError) as e:
        import_onnx(path)
    assert [(n, t) for n, t, _ in e.value.unsupported] == [("up1", "Resize"), ("lrn1", "LRN")]
    assert isinstance(e.value, InputError)
    assert "LRN: lrn1" in str(e.value) and "Resize: up1" in str(e.value)
    g = import_onnx(path, strict=False)
    assert [op.name for op in g.ops] == ["conv1", "relu"]
    assert [u["op_type"] for u in g.params["unsupported_ops"]] == ["Resize", "LRN"]


def test_bad_onnx_file(tmp_path):
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"not a model")
    with pytest.raises(InputError, match="bad.onnx"):
        import_onnx(bad)
