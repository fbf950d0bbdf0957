"""A new architecture kind plugs into sweeps without changes to archsim.dse: axes resolve against
its spec dataclass (nested fields too), its PLUGIN may bring a fast evaluator and an area model."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from types import SimpleNamespace

import pytest

import archsim.arch.registry as registry
from archsim.arch.registry import ArchPlugin
from archsim.dse import build_sweep, evaluate_point
from archsim.errors import InputError
from archsim.specs import at_least, check_spec, choice


@dataclass(frozen=True)
class ToyDram:
    standard: str = choice("ddr4", ("ddr4", "hbm2"))
    channels: int = at_least(1, 1)

    def __post_init__(self) -> None:
        check_spec(self)


@dataclass(frozen=True)
class ToyPim:
    name: str = "toy-pim"
    lanes: int = at_least(4, 1)
    dram: ToyDram = field(default_factory=ToyDram)

    def __post_init__(self) -> None:
        check_spec(self)
        if self.lanes > 64 and self.dram.standard == "ddr4":
            raise InputError(None, "lanes", "at most 64 lanes on ddr4", self.lanes)

    def replace(self, **kw):
        return dataclasses.replace(self, **kw)

    def to_dict(self):
        return dataclasses.asdict(self)


def toy_simulate(graph, spec, *, level, seed, record_events, **options):
    bw = {"ddr4": 1, "hbm2": 4}[spec.dram.standard] * spec.dram.channels
    return SimpleNamespace(totals={"cycles": graph.total_macs // (spec.lanes * bw), "macs": graph.total_macs})


@pytest.fixture
def toy_kind(monkeypatch):
    real = registry.plugins()
    plugin = ArchPlugin(kind="toy_pim", spec_cls=ToyPim, simulate=toy_simulate, options=("mode",))
    monkeypatch.setattr(registry, "plugins", lambda: {**real, "toy_pim": plugin})
    return plugin


def test_axes_on_nested_fields_of_a_new_kind(toy_kind):
    spec = build_sweep({"arch": ToyPim(), "workloads": ["resnet18"],
                        "axes": {"lanes": [8, 128], "dram.standard": ["ddr4", "hbm2"], "dram.channels": [1, 2]}})
    assert spec.kind == "toy_pim"
    pts = spec.points()
    assert len(pts) == 8 and pts[-1].spec == ToyPim(lanes=128, dram=ToyDram("hbm2", 2))
    rows = [evaluate_point(p) for p in pts]
    macs = rows[0]["totals"]["macs"]
    assert [r["totals"].get("cycles") for r in rows] == [
        macs // 8, macs // 16, macs // 32, macs // 64, None, None, macs // 512, macs // 1024]
    bad = rows[4]  # 128 lanes on ddr4: invalid together, an error row
    assert bad["status"] == "error" and "at most 64 lanes" in bad["error"]
    assert rows[0]["area_mm2"] is None  # no PEs or SRAM fields: no area proxy


def test_bad_values_and_names_of_a_new_kind(toy_kind):
    with pytest.raises(InputError) as e:
        build_sweep({"arch": ToyPim(), "workloads": ["resnet18"], "axes": {"dram.standard": ["ddr5"]}})
    assert e.value.field == "axes.dram.standard" and "ddr4" in e.value.expected
    with pytest.raises(InputError) as e:
        build_sweep({"arch": ToyPim(), "workloads": ["resnet18"], "axes": {"rows": [8]}})
    assert "ToyPim (name, lanes, dram.standard, dram.channels)" in e.value.expected
    assert "run option (level, seed, mode)" in e.value.expected


def test_plugin_fast_evaluator_and_area(toy_kind, monkeypatch):
    calls = []

    def fast(handle, spec, *, level, seed, options):
        calls.append((handle.graph.name, spec.lanes, options))
        return {"cycles": 7}

    plugin = dataclasses.replace(toy_kind, extra={"dse_evaluate": fast, "area_mm2": lambda s, m: 0.5 * s.lanes})
    monkeypatch.setattr(registry, "plugins", lambda: {"toy_pim": plugin})
    spec = build_sweep({"arch": ToyPim(), "workloads": ["resnet18"], "axes": {"lanes": [8], "mode": ["fast"]}})
    row = evaluate_point(spec.points()[0])
    assert row["totals"] == {"cycles": 7} and row["area_mm2"] == 4.0
    assert calls == [("resnet18", 8, {"mode": "fast"})]


def test_a_value_invalid_in_every_combination_is_a_spec_error(toy_kind):
    with pytest.raises(InputError) as e:
        build_sweep({"arch": ToyPim(), "workloads": ["resnet18"],
                     "axes": {"lanes": [8, 128], "dram.channels": [1, 2]}}, source="s.yaml")
    assert (e.value.source, e.value.field, e.value.got) == ("s.yaml", "axes.lanes", 128)
    assert "at most 64 lanes on ddr4" in e.value.expected
