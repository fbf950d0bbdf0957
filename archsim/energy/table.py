"""EnergyTable: picojoules per (component class, action), versioned YAML with a source per entry.

Energy = action counts (from the models) x pJ per action (from the table), as Accelergy does.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from archsim.engine.actions import ActionCounts
from archsim.errors import InputError
from archsim.specs import load_yaml

TABLES_DIR = Path(__file__).parent / "tables"


@dataclass(frozen=True)
class EnergyEntry:
    pj: float
    source: str


@dataclass
class EnergyTable:
    """``entries[component_class][action] -> EnergyEntry`` (pJ per action)."""

    name: str
    version: int
    entries: dict[str, dict[str, EnergyEntry]] = field(default_factory=dict)
    path: str = ""

    @classmethod
    def load(cls, name_or_path: str | Path = "default") -> EnergyTable:
        p = Path(name_or_path)
        if not p.suffix:
            p = TABLES_DIR / f"{name_or_path}.yaml"
            if not p.exists():
                known = sorted(x.stem for x in TABLES_DIR.glob("*.yaml"))
                raise InputError("--energy-table", None, f"a table file or one of {known}", str(name_or_path))
        data = load_yaml(p)
        return cls.from_dict(data, source=str(p))

    @classmethod
    def from_dict(cls, data: Any, source: str = "<energy table>") -> EnergyTable:
        if not isinstance(data, dict):
            raise InputError(source, None, "a mapping with version, name and entries", type(data).__name__)
        version = data.get("version")
        if not isinstance(version, int):
            raise InputError(source, "version", "an integer schema version", version)
        entries_in = data.get("entries")
        if not isinstance(entries_in, dict):
            raise InputError(source, "entries", "a mapping of component class -> action -> {pj, source}", entries_in)
        entries: dict[str, dict[str, EnergyEntry]] = {}
        for cls_name, actions in entries_in.items():
            if not isinstance(actions, dict):
                raise InputError(source, f"entries.{cls_name}", "a mapping of action -> {pj, source}", actions)
            entries[cls_name] = {}
            for action, e in actions.items():
                path = f"entries.{cls_name}.{action}"
                if not isinstance(e, dict) or "pj" not in e:
                    raise InputError(source, path, "a mapping with pj and source", e)
                pj = e["pj"]
                if isinstance(pj, bool) or not isinstance(pj, int | float) or pj < 0:
                    raise InputError(source, f"{path}.pj", "a non-negative number of picojoules", pj)
                if not e.get("source"):
                    raise InputError(source, f"{path}.source", "the source of the number")
                entries[cls_name][action] = EnergyEntry(float(pj), str(e["source"]))
        return cls(str(data.get("name", Path(source).stem)), version, entries, source)

    def pj(self, component_class: str, action: str) -> float | None:
        e = self.entries.get(component_class, {}).get(action)
        return None if e is None else e.pj

    def price(self, actions: ActionCounts) -> tuple[float, dict[str, float], list[str]]:
        """``(total_pj, pj_by_component, unpriced)`` for a set of action counts."""
        total = 0.0
        by_comp: dict[str, float] = {}
        unpriced = []
        for comp, cls_name, action, n in actions:
            e = self.pj(cls_name, action)
            if e is None:
                unpriced.append(f"{cls_name}.{action}")
                continue
            by_comp[comp] = by_comp.get(comp, 0.0) + n * e
            total += n * e
        return total, by_comp, sorted(set(unpriced))

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "version": self.version,
            "path": self.path,
            "entries": {c: {a: {"pj": e.pj, "source": e.source} for a, e in acts.items()} for c, acts in self.entries.items()},
        }
