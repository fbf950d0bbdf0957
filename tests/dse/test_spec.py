"""Sweep specs: value forms, name resolution, expansion order, keys, and one-line errors."""

from __future__ import annotations

import pytest

from archsim.cli import main
from archsim.dse import build_sweep, load_sweep
from archsim.dse.axes import parse_axes
from archsim.errors import InputError

from .helpers import write_yaml


def values(raw):
    return [v[0] for v in parse_axes({"a": raw}, None)[0].values]


def test_value_forms():
    assert values([3, 1, 2]) == [3, 1, 2]
    assert values(7) == [7]
    assert values({"values": ["os", "ws"]}) == ["os", "ws"]
    assert values({"from": 16, "to": 64, "step": 16}) == [16, 32, 48, 64]
    assert values({"from": 16, "to": 70, "step": 16}) == [16, 32, 48, 64]
    assert values({"from": 16, "to": 256, "times": 2}) == [16, 32, 64, 128, 256]
    assert values({"from": 0.5, "to": 1.5, "step": 0.25}) == [0.5, 0.75, 1.0, 1.25, 1.5]
    assert values({"from": 8, "to": 8, "step": 1}) == [8]


@pytest.mark.parametrize("raw, field", [
    ([], "axes.a"),
    ({"from": 64, "to": 16, "step": 16}, "axes.a"),
    ({"from": 16, "to": 64, "step": 0}, "axes.a.step"),
    ({"from": 16, "to": 64, "times": 1}, "axes.a.times"),
    ({"from": 16, "to": 64}, "axes.a"),
    ({"from": 16, "to": 64, "step": 1, "times": 2}, "axes.a"),
    ({"from": 16, "upto": 64, "step": 1}, "axes.a.upto"),
    ([1, 2, 1], "axes.a"),
    ([[1, 2]], "axes.a[0]"),
])
def test_bad_values_name_the_field(raw, field):
    with pytest.raises(InputError) as e:
        parse_axes({"a": raw}, "s.yaml")
    assert e.value.source == "s.yaml" and e.value.field == field


def test_expansion_order_zip_and_resolution():
    spec = build_sweep({
        "arch": "tpu-like-128", "workloads": ["resnet18", {"model": "gpt2", "phase": "decode"}],
        "axes": {"array": {"zip": {"rows": [32, 64], "cols": [16, 8]}}, "dataflow": ["os", "ws"],
                 "seq_len": [64, 128], "dram_bytes_per_cycle": 64},
    })
    targets = {n: str(t) for n, t in spec.targets}
    assert targets == {"rows": "arch.rows", "cols": "arch.cols", "dataflow": "arch.dataflow",
                       "seq_len": "workload.seq_len", "dram_bytes_per_cycle": "arch.dram_bytes_per_cycle"}
    pts = spec.points()
    # resnet18 takes no seq_len: 2 x 2 points; gpt2: 2 x 2 x 2; workloads outermost, last axis fastest
    assert len(pts) == 4 + 8
    assert [dict(p.axes)["seq_len"] for p in pts[:4]] == [None] * 4
    first = [(p.spec.rows, p.spec.cols, p.spec.dataflow) for p in pts[:4]]
    assert first == [(32, 16, "os"), (32, 16, "ws"), (64, 8, "os"), (64, 8, "ws")]
    assert [dict(p.workload.params).get("seq_len") for p in pts[4:8]] == [64, 128, 64, 128]
    assert all(p.spec.dram_bytes_per_cycle == 64.0 and isinstance(p.spec.dram_bytes_per_cycle, float) for p in pts)
    assert len({p.key for p in pts}) == len(pts) and [p.idx for p in pts] == list(range(12))


def test_keys_hash_resolved_inputs():
    a = build_sweep({"arch": "tpu-like-128", "workloads": ["resnet18"], "axes": {"rows": [32, 64]}})
    b = build_sweep({"name": "other", "arch": "tpu-like-128", "workloads": ["resnet18"],
                     "axes": {"arch.rows": [64], "level": "analytic"}})
    assert a.points()[1].key == b.points()[0].key  # same resolved inputs, same key
    c = build_sweep({"arch": "tpu-like-128", "workloads": ["resnet18"], "axes": {"rows": [64]}, "seed": 1})
    assert c.points()[0].key != a.points()[1].key
    assert a.sweep_id != b.sweep_id


def test_cross_field_failure_is_a_point_error_not_a_spec_error():
    from archsim.hw.xpu.spec import XpuSpec

    spec = build_sweep({"arch": XpuSpec(), "workloads": ["resnet18"],
                        "axes": {"compute_efficiency": [0.5, 1.0]}})
    assert [p.error for p in spec.points()] == [None, None]


@pytest.mark.parametrize("axes, field, words", [
    ({"rowz": [1]}, "axes.rowz", ["SystolicSpec", "rows", "cols", "dataflow", "level", "batch", "rowz"]),
    ({"rows": []}, "axes.rows", ["non-empty"]),
    ({"rows": {"from": 64, "to": 32, "step": 8}}, "axes.rows", ["from <= to"]),
    ({"rows": [0, 8]}, "axes.rows", [">= 1"]),
    ({"dataflow": ["os", "xs"]}, "axes.dataflow", ["'os', 'ws', 'is'"]),
    ({"level": ["fast"]}, "axes.level", ["analytic"]),
    ({"batch": [0]}, "axes.batch", ["positive"]),
    ({"arch.seq_len": [1]}, "axes.arch.seq_len", ["arch names"]),
])
def test_cli_bad_spec_is_one_line_exit_2(tmp_path, capsys, axes, field, words):
    path = write_yaml(tmp_path / "bad.yaml", {"version": 1, "arch": "tpu-like-128", "workloads": ["resnet18"],
                                              "axes": axes})
    out = tmp_path / "out"
    assert main(["sweep", str(path), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("archsim sweep: error: ")
    assert f"{path}: {field}: expected" in err
    for w in words:
        assert w in err
    assert not out.exists()  # nothing written


@pytest.mark.parametrize("data, field", [
    ({"arch": "no-such-arch", "workloads": ["resnet18"]}, "arch"),
    ({"arch": "tpu-like-128", "workloads": ["no-such-model"]}, "workloads[0].model"),
    ({"arch": "tpu-like-128", "workloads": [{"model": "resnet18", "seq_len": 4}]}, "workloads[0].seq_len"),
    ({"arch": "tpu-like-128"}, "workloads"),
    ({"arch": "tpu-like-128", "workloads": ["resnet18"], "axis": {}}, "axis"),
    ({"arch": "tpu-like-128", "workloads": ["resnet18"], "level": "rtl"}, "level"),
    ({"arch": "tpu-like-128", "workloads": ["resnet18"], "area": {"pe_mm2": -1}}, "area.pe_mm2"),
])
def test_bad_top_level_fields(tmp_path, data, field):
    path = write_yaml(tmp_path / "bad.yaml", data)
    with pytest.raises(InputError) as e:
        load_sweep(path)
    assert e.value.source == str(path) and e.value.field == field


def test_relative_paths_resolve_against_the_spec_file(tmp_path, gemm_file):
    gemm_file("g.json")
    write_yaml(tmp_path / "arch.yaml", {"version": 1, "kind": "systolic", "systolic": {"rows": 8, "cols": 8}})
    path = write_yaml(tmp_path / "s.yaml", {"arch": "arch.yaml", "workloads": ["g.json"]})
    spec = load_sweep(path)
    assert spec.base.rows == 8 and spec.workloads[0].name == "g" and len(spec.points()) == 1
