"""report.json: strict, deterministic JSON of RunResult.to_report()."""

from __future__ import annotations

import enum
import json
from pathlib import PurePosixPath

import numpy as np
import pytest

from archsim.errors import InputError
from archsim.report.json_report import render_report_json, to_jsonable, write_report_json


def test_matches_to_report_and_is_deterministic(tmp_path, result):
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    write_report_json(result, a)
    write_report_json(result, b)
    assert a.read_bytes() == b.read_bytes()
    text = a.read_text()
    assert text == json.dumps(result.to_report(), indent=1, sort_keys=False, allow_nan=False) + "\n"
    doc = json.loads(text)
    assert list(doc)[:3] == ["schema_version", "archsim_version", "seed"]
    assert doc["ops"][0]["tile"] == [2, 2]


def test_numpy_values_become_plain_json(make_run):
    r = make_run(
        totals={
            "cycles": np.int64(20),
            "util": np.float32(0.5),
            "ok": np.bool_(True),
            "per_unit": np.array([1, 2]),
            "shape": (3, 4),
        }
    )
    doc = json.loads(render_report_json(r))
    assert doc["totals"] == {"cycles": 20, "util": 0.5, "ok": True, "per_unit": [1, 2], "shape": [3, 4]}
    assert type(doc["totals"]["cycles"]) is int


def test_floats_keep_repr_precision(make_run):
    text = render_report_json(make_run(totals={"x": 0.1 + 0.2, "y": 1e-30}))
    assert '"x": 0.30000000000000004' in text
    assert '"y": 1e-30' in text


def test_non_finite_float_names_the_field_and_writes_nothing(tmp_path, make_run):
    r = make_run(totals={"cycles": 20, "energy_pj": float("nan")})
    path = tmp_path / "report.json"
    with pytest.raises(InputError) as err:
        write_report_json(r, path)
    assert "totals.energy_pj" in str(err.value)
    assert str(path) in str(err.value)
    assert not path.exists()


def test_op_rows_are_indexed_in_errors(make_run):
    r = make_run(ops=[{"op": "a"}, {"op": "b", "cycles": float("inf")}])
    with pytest.raises(InputError, match=r"ops\[1\]\.cycles"):
        render_report_json(r)


class Phase(enum.Enum):
    PREFILL = "prefill"


def test_to_jsonable_conversions():
    obj = {
        "p": PurePosixPath("a/b.yaml"),
        "e": Phase.PREFILL,
        "s": {"b", "a"},
        3: "int key",
        np.int32(4): "numpy key",
    }
    assert to_jsonable(obj) == {
        "p": "a/b.yaml",
        "e": "prefill",
        "s": ["a", "b"],
        "3": "int key",
        "4": "numpy key",
    }


def test_to_jsonable_rejects_what_json_cannot_hold():
    with pytest.raises(InputError, match="a.b"):
        to_jsonable({"a": {"b": object()}})
    with pytest.raises(InputError, match="keys"):
        to_jsonable({("x", "y"): 1})
    with pytest.raises(InputError, match="unique"):
        to_jsonable({1: "a", "1": "b"})
