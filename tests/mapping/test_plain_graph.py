"""The plain graph JSON (ops with output bytes, edges, weight bytes): reading, zoo detection and
one-line errors that name the op."""

import json
import subprocess
import sys

import pytest

from archsim.errors import InputError
from archsim.workload import load_workload
from archsim.workload.importers.plain_graph import plain_graph

DIAMOND = {
    "name": "diamond", "inputs": {"x": 4096},
    "ops": [{"name": "a", "output_bytes": 8192, "weight_bytes": 1024},
            {"name": "b", "output_bytes": 4096},
            {"name": "c", "output_bytes": 4096, "kind": "matmul", "attrs": {"m": 32, "n": 128, "k": 64}},
            {"name": "d", "output_bytes": 2048}],
    "edges": [["x", "a"], ["a", "b"], ["a", "c"], ["b", "d"], ["c", "d"]],
}


def test_reads_sizes_edges_and_weights():
    g = plain_graph(DIAMOND)
    assert [op.name for op in g.ops] == ["a", "b", "c", "d"]
    t = g.tensors
    assert (t["x"].size_bytes, t["x"].role) == (4096, "input")
    assert (t["a"].size_bytes, t["a.weight"].size_bytes, t["a.weight"].role) == (8192, 1024, "weight")
    assert t["d"].role == "output" and [x.name for x in g.graph_outputs] == ["d"]
    assert [x.name for x in g.op("d").inputs] == ["b", "c"]
    assert g.op("c").macs == 32 * 128 * 64 and g.op("b").vector_ops == 4096


def test_order_of_ops_in_the_file_does_not_matter():
    doc = dict(DIAMOND, ops=list(reversed(DIAMOND["ops"])))
    assert [op.name for op in plain_graph(doc).ops] == ["a", "c", "b", "d"]


def test_zoo_reads_a_plain_graph_file(tmp_path):
    f = tmp_path / "diamond.json"
    f.write_text(json.dumps(DIAMOND))
    g = load_workload(str(f))
    assert len(g) == 4 and g.params["format"] == "plain"


BAD = [
    ("cycle", {"ops": [{"name": "a", "output_bytes": 1}, {"name": "b", "output_bytes": 1}],
               "edges": [["a", "b"], ["b", "a"]]}, "ops[0] (a)", "a -> b -> a"),
    ("dangling destination", {"ops": [{"name": "a", "output_bytes": 1}], "edges": [["a", "zz"]]},
     "edges[0]", "op a feeds an unknown name"),
    ("dangling source", {"ops": [{"name": "a", "output_bytes": 1}], "edges": [["zz", "a"]]},
     "edges[0]", "op a reads an unknown name"),
    ("negative size", {"ops": [{"name": "a", "output_bytes": 1}, {"name": "b", "output_bytes": -4}],
                       "edges": [["a", "b"]]}, "ops[1] (b).output_bytes", "-4"),
    ("zero size", {"ops": [{"name": "a", "output_bytes": 0}], "edges": []}, "ops[0] (a).output_bytes", "0"),
    ("negative weight", {"ops": [{"name": "a", "output_bytes": 1, "weight_bytes": -1}], "edges": []},
     "ops[0] (a).weight_bytes", "-1"),
    ("duplicate name", {"ops": [{"name": "a", "output_bytes": 1}, {"name": "a", "output_bytes": 2}], "edges": []},
     "ops[1] (a).name", "used once"),
    ("self loop", {"ops": [{"name": "a", "output_bytes": 1}], "edges": [["a", "a"]]}, "edges[0]", "self-loop"),
    ("missing size", {"ops": [{"name": "a"}], "edges": []}, "ops[0] (a).output_bytes", "positive integer"),
]


@pytest.mark.parametrize("label,doc,field,text", BAD, ids=[b[0] for b in BAD])
def test_malformed_graph_is_one_error_naming_the_op(label, doc, field, text):
    with pytest.raises(InputError) as e:
        plain_graph(doc, source="g.json")
    msg = str(e.value)
    assert msg.startswith(f"g.json: {field}") and text in msg and "\n" not in msg


@pytest.mark.parametrize("label,doc,field,text", BAD[:4], ids=[b[0] for b in BAD[:4]])
def test_cli_exit_code_2_and_one_line(tmp_path, label, doc, field, text):
    f = tmp_path / "g.json"
    f.write_text(json.dumps(doc))
    out = tmp_path / "m.json"
    r = subprocess.run([sys.executable, "-m", "archsim.cli", "map", "--workload", str(f), "--scratchpad-bytes",
                        "1MiB", "--out", str(out)], capture_output=True, text=True)
    assert r.returncode == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and field in lines[0] and text in lines[0] and "Traceback" not in r.stderr
    assert not out.exists() and r.stdout == ""
