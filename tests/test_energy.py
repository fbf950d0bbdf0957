import pytest

from archsim.energy import EnergyTable
from archsim.engine import ActionCounts
from archsim.errors import InputError


def test_default_table_prices_actions_with_sources():
    t = EnergyTable.load("default")
    assert t.version == 1
    assert all(e.source for acts in t.entries.values() for e in acts.values())
    a = ActionCounts()
    a.add("pe", "mac_int8", "mac", 1000)
    a.add("dram", "dram", "read_bytes", 10)
    a.add("x", "unknown_class", "op", 3)
    total, by_comp, unpriced = t.price(a)
    # 1000 MACs x 0.23 pJ (Horowitz int8 0.2 + 0.03) + 10 B x 31.2 pJ (HBM2 3.9 pJ/bit)
    assert total == pytest.approx(1000 * 0.23 + 10 * 31.2)
    assert by_comp["pe"] == pytest.approx(230.0)
    assert unpriced == ["unknown_class.op"]


@pytest.mark.parametrize(
    "data, field",
    [
        ({"entries": {}}, "version"),
        ({"version": 1, "entries": {"sram": {"read_bytes": {"pj": -1, "source": "x"}}}}, "entries.sram.read_bytes.pj"),
        ({"version": 1, "entries": {"sram": {"read_bytes": {"pj": 1}}}}, "entries.sram.read_bytes.source"),
    ],
)
def test_bad_energy_table_names_the_field(data, field):
    with pytest.raises(InputError) as e:
        EnergyTable.from_dict(data, source="t.yaml")
    assert e.value.field == field and "t.yaml" in str(e.value)
