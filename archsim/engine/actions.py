"""Action counts: how many times each component did each action (Accelergy's habit).

A component is named by instance (``systolic.ifmap_sram``) and belongs to a class
(``sram``) that the :class:`archsim.energy.EnergyTable` prices per action.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field


@dataclass
class ActionCounts:
    """``(component, component_class, action) -> count``. Supports ``+`` and scaling by an int."""

    counts: dict[tuple[str, str, str], int] = field(default_factory=dict)

    def add(self, component: str, component_class: str, action: str, count: int) -> None:
        if count:
            key = (component, component_class, action)
            self.counts[key] = self.counts.get(key, 0) + int(count)

    def get(self, component: str, action: str) -> int:
        return sum(n for (c, _, a), n in self.counts.items() if c == component and a == action)

    def merge(self, other: ActionCounts, times: int = 1) -> None:
        for key, n in other.counts.items():
            self.counts[key] = self.counts.get(key, 0) + n * times

    def __add__(self, other: ActionCounts) -> ActionCounts:
        out = ActionCounts(dict(self.counts))
        out.merge(other)
        return out

    def scaled(self, times: int) -> ActionCounts:
        return ActionCounts({k: v * times for k, v in self.counts.items()})

    def __iter__(self) -> Iterator[tuple[str, str, str, int]]:
        for (c, cls, a), n in sorted(self.counts.items()):
            yield c, cls, a, n

    def rows(self) -> list[dict]:
        return [{"component": c, "class": cls, "action": a, "count": n} for c, cls, a, n in self]

    @classmethod
    def from_rows(cls, rows: Iterable[dict]) -> ActionCounts:
        out = cls()
        for r in rows:
            out.add(r["component"], r["class"], r["action"], r["count"])
        return out
