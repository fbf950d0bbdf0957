"""Mapping files: self-describing, checked on load, written by ``archsim map``."""

import json
import subprocess
import sys

import pytest

from archsim.errors import InputError
from archsim.mapping.api import map_graph
from archsim.mapping.mapping_file import load_mapping, mapping_document, mapping_from_document, write_mapping
from archsim.mapping.optimize import MapOptions
from archsim.mapping.problem import MemProblem
from archsim.workload import load_workload

from .test_golden import R18_BASE, R18_MR, R18_NC


@pytest.fixture(scope="module")
def r18():
    g = load_workload("resnet18")
    return g, map_graph(g, "M_R", options=MapOptions(time_limit_s=10))


def test_document_has_every_part(r18):
    g, r = r18
    d = mapping_document(r, graph_params=g.params)
    assert d["schema_version"] == 1 and d["kind"] == "archsim-mapping" and d["archsim_version"]
    gi = d["inputs"]["graph"]
    assert gi["name"] == "resnet18" and gi["hash"].startswith("sha256:") and gi["ops"] == 31
    assert d["inputs"]["scratchpad_bytes"] == r.problem.scratchpad_bytes == R18_MR  # derived in test_golden
    assert d["inputs"]["options"]["time_limit_s"] == 10
    assert len(d["schedule"]) == 31 and set(d["schedule"]) == {op.name for op in g.ops}
    tr = d["traffic"]
    assert tr["compulsory_bytes"] + tr["non_compulsory_bytes"] == tr["total_bytes"]
    assert tr["non_compulsory_bytes"] == tr["spill_bytes"] + tr["reload_bytes"] == tr["bound_bytes"]
    assert sum(x["bytes"] for x in d["transfers"]) == tr["total_bytes"]
    assert {x["kind"] for x in d["transfers"]} <= {"load", "reload", "spill", "store"}
    assert d["solve"]["status"] == "OPTIMAL" and {"objective", "best_bound", "wall_time_s", "gap"} <= set(d["solve"])
    assert set(d["baselines"]) == {"greedy_by_size", "belady", "belady_min_peak_order"}
    # every tensor's residencies are inside the scratchpad and cover its uses
    sp = d["inputs"]["scratchpad_bytes"]
    for t in d["tensors"]:
        for res in t["residency"]:
            assert 0 <= res["addr_bytes"] and res["addr_bytes"] + t["alloc_bytes"] <= sp
    assert d["peak_bytes"] <= sp


def test_round_trip(tmp_path, r18):
    g, r = r18
    path = write_mapping(mapping_document(r, graph_params=g.params), tmp_path / "sub" / "r18.json")
    m = load_mapping(path)
    assert m.cost.non_compulsory_bytes == r.cost.non_compulsory_bytes
    assert m.cost.peak_bytes == r.cost.peak_bytes and m.status == "OPTIMAL"
    assert [m.problem.op_names[v] for v in m.plan.order] == [r.problem.op_names[v] for v in r.plan.order]
    m.check_graph(MemProblem.from_graph(g, 1))  # same graph: no error


def _edited(doc, fn):
    d = json.loads(json.dumps(doc))
    fn(d)
    return d


@pytest.mark.parametrize("edit,field", [
    (lambda d: d["traffic"].update(non_compulsory_bytes=1), "traffic.non_compulsory_bytes"),
    (lambda d: d["transfers"].pop(), "transfers["),
    (lambda d: d["tensors"][0]["residency"].clear(), "schedule/tensors"),
    (lambda d: d["schedule"].reverse(), "schedule/tensors"),
    (lambda d: d.update(schema_version=2), "schema_version"),
    (lambda d: d["inputs"]["graph"].update(hash="sha256:0"), "inputs.graph.hash"),
    (lambda d: d["inputs"].update(scratchpad_bytes=100), "schedule/tensors"),
])
def test_inconsistent_file_is_refused(r18, edit, field):
    _, r = r18
    with pytest.raises(InputError) as e:
        mapping_from_document(_edited(mapping_document(r), edit), source="m.json")
    assert f"m.json: {field}" in str(e.value)


def test_mapping_of_another_graph_is_refused(r18):
    _, r = r18
    m = mapping_from_document(mapping_document(r), source="m.json")
    other = MemProblem.from_graph(load_workload("mobilenet_v1"), 1)
    with pytest.raises(InputError, match="m.json: inputs.graph: expected a mapping of workload 'mobilenet_v1'"):
        m.check_graph(other)


def test_cli_writes_file_and_prints_summary(tmp_path):
    out = tmp_path / "m.json"
    r = subprocess.run([sys.executable, "-m", "archsim.cli", "map", "--workload", "resnet18", "--scratchpad-bytes",
                        "M_R", "--time-limit-s", "10", "--out", str(out)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    # reduction vs the best baseline: 1 - 100352 / 150528 = 1/3 (both derived in test_golden)
    assert f"{100 * (1 - R18_NC / R18_BASE):.1f} %" == "33.3 %"
    for word in ("compulsory B", "non-compulsory B", "peak B", "OPTIMAL", "bound B", "seconds",
                 "best fit + Belady (graph order)", "greedy by size", "33.3 %"):
        assert word in r.stdout
    assert load_mapping(out).cost.non_compulsory_bytes == R18_NC
    j = subprocess.run([sys.executable, "-m", "archsim.cli", "map", "--workload", "resnet18", "--scratchpad-bytes",
                        str(R18_MR), "--format", "json"], capture_output=True, text=True)
    assert j.returncode == 0 and json.loads(j.stdout)["traffic"]["non_compulsory_bytes"] == R18_NC


def test_cli_infeasible_budget_is_a_result(tmp_path):
    out = tmp_path / "m.json"
    r = subprocess.run([sys.executable, "-m", "archsim.cli", "map", "--workload", "resnet18", "--scratchpad-bytes",
                        "1000", "--out", str(out)], capture_output=True, text=True)
    assert r.returncode == 0 and "INFEASIBLE" in r.stdout
    assert json.loads(out.read_text())["status"] == "INFEASIBLE"


@pytest.mark.parametrize("args,field", [
    (["--scratchpad-bytes", "lots"], "--scratchpad-bytes"),
    (["--scratchpad-bytes", "1MiB", "--arch", "tpu-like-128"], "--arch"),
    ([], "--scratchpad-bytes"),
    (["--scratchpad-bytes", "1MiB", "--workers", "2"], "--workers"),
])
def test_cli_bad_arguments(args, field):
    r = subprocess.run([sys.executable, "-m", "archsim.cli", "map", "--workload", "resnet18", *args],
                       capture_output=True, text=True)
    assert r.returncode == 2 and field in r.stderr and len(r.stderr.strip().splitlines()) == 1


def test_arch_gives_the_unified_scratchpad():
    r = subprocess.run([sys.executable, "-m", "archsim.cli", "map", "--workload", "resnet18", "--arch", "scalesim-32",
                        "--format", "json"], capture_output=True, text=True)
    from archsim.api import resolve_arch

    s = resolve_arch("scalesim-32")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["inputs"]["scratchpad_bytes"] == s.ifmap_sram_bytes + s.filter_sram_bytes + \
        s.ofmap_sram_bytes
