"""SCALE-Sim topology CSV import (tolerant of layout, strict about values) and export."""

from __future__ import annotations

import pytest

from archsim.errors import InputError
from archsim.workload import (
    Graph,
    Op,
    OpKind,
    Tensor,
    export_scalesim_csv,
    mobilenet_v1,
    read_scalesim_csv,
    resnet,
)
from archsim.workload.importers.scalesim_csv import parse_scalesim_csv

from .helpers import GOLDEN_RESNET50_CSV

HEADER = "Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, Num Filter, Strides,"


def _write(tmp_path, monkeypatch, text: str, name: str = "topo.csv") -> str:
    (tmp_path / name).write_text(text)
    monkeypatch.chdir(tmp_path)
    return name


# ---- import ------------------------------------------------------------------------------------
def test_conv_form_tolerates_layout(tmp_path, monkeypatch):
    text = (
        f"{HEADER}\n"
        "  conv1 ,  230,230, 7, 7, 3, 64, 2,   \n"
        "\n"
        "conv2, 58, 58, 3, 3, 64, 64, 1\n"  # no trailing comma
        "conv3,30,28,3,3,8,16,2,1,\n"  # 9th column: stride width
        "dw_DP, 16, 16, 3, 3, 32, 2, 1,,\n"  # depthwise, extra trailing comma
        ",,,,,,,,\n"
        "\n"
    )
    g = read_scalesim_csv(_write(tmp_path, monkeypatch, text))
    assert [op.name for op in g.ops] == ["conv1", "conv2", "conv3", "dw_DP"]
    assert g.name == "topo" and g.nx.number_of_edges() == 0
    c1 = g.op("conv1")
    assert c1.kind == OpKind.CONV2D
    assert c1.params == {"batch": 1, "in_h": 230, "in_w": 230, "in_ch": 3, "out_ch": 64, "kernel_h": 7,
                         "kernel_w": 7, "stride_h": 2, "stride_w": 2, "pad_h": 0, "pad_w": 0, "groups": 1}
    assert c1.outputs[0].shape == (1, 64, 112, 112)  # (230 - 7) // 2 + 1
    assert g.op("conv2").attr("stride_h") == 1
    c3 = g.op("conv3")
    assert (c3.attr("stride_h"), c3.attr("stride_w")) == (2, 1)
    assert c3.outputs[0].shape == (1, 16, 14, 26)  # (30-3)//2+1, (28-3)//1+1
    dw = g.op("dw_DP")
    assert dw.kind == OpKind.DEPTHWISE_CONV2D
    assert (dw.attr("groups"), dw.attr("in_ch"), dw.attr("out_ch")) == (32, 32, 64)
    # SCALE-Sim runs it as 32 one-channel layers of 2 filters: 14*14 outputs * 9 taps * 2 filters each
    assert dw.macs == 32 * (14 * 14 * 9 * 1 * 2)
    assert c1.macs == 112 * 112 * 64 * 7 * 7 * 3


def test_gemm_form(tmp_path, monkeypatch):
    g = read_scalesim_csv(_write(tmp_path, monkeypatch, "Layer, M, N, K,\nqk, 128, 64, 256,\n fc ,1, 1000, 2048\n"))
    qk = g.op("qk")
    assert qk.kind == OpKind.MATMUL
    assert qk.params == {"batch": 1, "m": 128, "n": 64, "k": 256}
    assert qk.macs == 128 * 64 * 256
    assert g.op("fc").attr("k") == 2048


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ("c1, 5, 5, 3, 3, 3, 8, 1,\nc2, 5, 5, x, 3, 3, 8, 1,",
         "topo.csv: line 3, column 'Filter Height': expected a positive integer, got 'x'"),
        ("c1, 5, 5, 3, 3, 0, 8, 1,",
         "topo.csv: line 2, column 'Channels': expected a positive integer, got '0'"),
        ("c1, 5, 5, 3, 3, 3, -8, 1,",
         "topo.csv: line 2, column 'Num Filter': expected a positive integer, got '-8'"),
        ("c1, 5, 5, 3, 3, 3, 8, 1.5,",
         "topo.csv: line 2, column 'Strides': expected a positive integer, got '1.5'"),
        ("c1, 5, 5, 3, 3, 3, 8, 1, y,",
         "topo.csv: line 2, column 'Stride width': expected a positive integer, got 'y'"),
        ("c1, 5, 5, 3,",
         "topo.csv: line 2, column 'Filter Width': expected a positive integer (the row ends after column "
         "'Filter Height')"),
        ("c1, , 5, 3, 3, 3, 8, 1,",
         "topo.csv: line 2, column 'IFMAP Height': expected a positive integer, got ''"),
        ("c1, 5, 5, 7, 3, 3, 8, 1,",
         "topo.csv: line 2, column 'Filter Height': expected at most the IFMAP Height (5), got '7'"),
        ("c1, 5, 4, 3, 5, 3, 8, 1,",
         "topo.csv: line 2, column 'Filter Width': expected at most the IFMAP Width (4), got '5'"),
        ("c1, 5, 5, 3, 3, 3, 8, 1, 1, 1,",
         "topo.csv: line 2: expected at most 9 columns (Layer name, IFMAP Height, IFMAP Width, Filter Height, "
         "Filter Width, Channels, Num Filter, Strides, Stride width), got 10"),
        ("c1, 5, 5, 3, 3, 3, 8, 1,\n\nc1, 5, 5, 3, 3, 3, 8, 1,",
         "topo.csv: line 4, column 'Layer name': expected a unique layer name (line 2 uses it already), got 'c1'"),
        (", 5, 5, 3, 3, 3, 8, 1,",
         "topo.csv: line 2, column 'Layer name': expected a layer name"),
    ],
)
def test_bad_conv_rows_raise_one_error_naming_file_line_column(tmp_path, monkeypatch, rows, message):
    path = _write(tmp_path, monkeypatch, f"{HEADER}\n{rows}\n")
    with pytest.raises(InputError) as e:
        read_scalesim_csv(path)
    assert str(e.value) == message


def test_bad_gemm_row_and_header(tmp_path, monkeypatch):
    path = _write(tmp_path, monkeypatch, "Layer, M, N, K,\nfc, 4, 8, k,\n")
    with pytest.raises(InputError, match=r"^topo.csv: line 2, column 'K': expected a positive integer, got 'k'$"):
        read_scalesim_csv(path)
    path = _write(tmp_path, monkeypatch, "\nname, rows, cols\nfc, 1, 2\n")
    with pytest.raises(InputError, match=r"^topo.csv: line 2: expected a SCALE-Sim header"):
        read_scalesim_csv(path)
    path = _write(tmp_path, monkeypatch, "\n,,,,\n")
    with pytest.raises(InputError, match="an empty file"):
        read_scalesim_csv(path)
    with pytest.raises(InputError, match="an existing file"):
        read_scalesim_csv(tmp_path / "missing.csv")


# ---- export ------------------------------------------------------------------------------------
def test_resnet50_export_matches_golden_topology_byte_for_byte():
    assert export_scalesim_csv(resnet(50)).encode() == GOLDEN_RESNET50_CSV.read_bytes()


def test_export_depthwise_grouped_and_pointwise_rows():
    text = export_scalesim_csv(mobilenet_v1())
    lines = text.splitlines()
    assert lines[0] == HEADER
    assert lines[1] == "conv1, 226, 226, 3, 3, 3, 32, 2,"
    assert lines[2] == "conv2_dw_DP, 114, 114, 3, 3, 32, 1, 1,"
    assert lines[3] == "conv2_pw, 112, 112, 1, 1, 32, 64, 1,"
    assert lines[-1] == "fc, 1, 1, 1, 1, 1024, 1000, 1,"
    assert text.endswith(",\n") and all(line.endswith(",") for line in lines)
    grouped = export_scalesim_csv(mobilenet_v1(channels_per_group=8)).splitlines()
    g_rows = [r for r in grouped if r.startswith("conv2_dw")]
    assert g_rows == [f"conv2_dw_g{i}, 114, 114, 3, 3, 8, 8, 1," for i in range(4)]


def test_export_unequal_strides_batched_matmul_and_skips_non_gemm():
    g = Graph("t")
    x = Tensor("x", (1, 4, 10, 12))
    g.add_op(Op("c", OpKind.CONV2D, (x, Tensor("w", (8, 4, 3, 3), role="weight")), (Tensor("y", (1, 8, 4, 10)),),
                {"batch": 1, "in_h": 10, "in_w": 12, "in_ch": 4, "out_ch": 8, "kernel_h": 3, "kernel_w": 3,
                 "stride_h": 2, "stride_w": 1, "pad_h": 0, "pad_w": 0, "groups": 1}))
    g.add_op(Op("relu", OpKind.ELEMENTWISE, (Tensor("y", (1, 8, 4, 10)),), (Tensor("z", (1, 8, 4, 10)),),
                {"elements": 320, "ops_per_element": 1, "fn": "relu"}))
    g.add_op(Op("bmm", OpKind.MATMUL, (Tensor("a", (2, 3, 5)),), (Tensor("o", (2, 3, 7)),),
                {"batch": 2, "m": 3, "n": 7, "k": 5}))
    assert export_scalesim_csv(g) == (
        f"{HEADER}\n"
        "c, 10, 12, 3, 3, 4, 8, 2, 1,\n"
        "bmm_b0, 3, 1, 1, 1, 5, 7, 1,\n"
        "bmm_b1, 3, 1, 1, 1, 5, 7, 1,\n"
    )


@pytest.mark.parametrize("graph", [resnet(50), mobilenet_v1(), mobilenet_v1(channels_per_group=4)],
                         ids=["resnet50", "mobilenet", "mobilenet-g4"])
def test_export_then_import_preserves_macs(graph):
    back = parse_scalesim_csv(export_scalesim_csv(graph))
    assert back.total_macs == graph.total_macs


def test_export_rejects_names_scalesim_would_misread():
    g = Graph("t")
    g.add_op(Op("layerDP", OpKind.MATMUL, (Tensor("a", (2, 3)),), (Tensor("o", (2, 4)),),
                {"batch": 1, "m": 2, "n": 4, "k": 3}))
    with pytest.raises(InputError, match="layerDP"):
        export_scalesim_csv(g)
