"""Sweep axes: the values one name (or a zipped group of names) takes in a sweep.

Value forms in a sweep spec (``axes:`` mapping):

* a list ``[32, 64, 128]``; a scalar ``64`` (one value);
* a range ``{from: 16, to: 256, step: 16}`` (arithmetic, ``to`` included when it is hit) or
  ``{from: 16, to: 256, times: 2}`` (geometric: 16, 32, ..., 256);
* ``{values: [...]}`` (same as a list);
* a zipped group ``{zip: {rows: [32, 64], cols: [64, 128]}}``: the names move together
  (equal-length lists or ranges), so the group is one axis of the product.

Errors name the sweep file and ``axes.<name>`` (an empty range, a zero step, values that repeat).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from archsim.errors import InputError

RANGE_KEYS = ("from", "to", "step", "times")
#: most values one axis may expand to (a typo such as ``step: 0.0001`` would otherwise hang)
MAX_AXIS_VALUES = 1_000_000


@dataclass(frozen=True)
class Axis:
    """One axis of the product: ``names`` (one, or several zipped) and ``values`` (one tuple of
    per-name values each)."""

    label: str
    names: tuple[str, ...]
    values: tuple[tuple[Any, ...], ...]

    def __len__(self) -> int:
        return len(self.values)

    def to_dict(self) -> dict[str, Any]:
        if len(self.names) == 1:
            return {self.names[0]: [v[0] for v in self.values]}
        return {self.label: {"zip": {n: [v[i] for v in self.values] for i, n in enumerate(self.names)}}}


def _is_number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def _range_values(spec: dict, source: str | None, path: str) -> list[Any]:
    unknown = sorted(set(spec) - set(RANGE_KEYS))
    if unknown:
        raise InputError(source, f"{path}.{unknown[0]}", f"a range key ({', '.join(RANGE_KEYS)})", unknown[0])
    for key in ("from", "to"):
        if key not in spec:
            raise InputError(source, f"{path}.{key}", "a number (a range needs from, to and step or times)")
        if not _is_number(spec[key]):
            raise InputError(source, f"{path}.{key}", "a number", spec[key])
    lo, hi = spec["from"], spec["to"]
    if ("step" in spec) == ("times" in spec):
        raise InputError(source, path, "a range with exactly one of step (arithmetic) or times (geometric)",
                         sorted(spec))
    if hi < lo:
        raise InputError(source, path, "a non-empty range (from <= to)", f"from {lo} to {hi}")
    integral = all(isinstance(spec[k], int) for k in spec)
    if "step" in spec:
        step = spec["step"]
        if not _is_number(step) or step <= 0:
            raise InputError(source, f"{path}.step", "a number > 0", step)
        n = math.floor((hi - lo) / step * (1 + 1e-12)) + 1
        if n > MAX_AXIS_VALUES:
            raise InputError(source, path, f"at most {MAX_AXIS_VALUES:,} values", n)
        return [lo + i * step if integral else float(lo + i * step) for i in range(n)]
    times = spec["times"]
    if not _is_number(times) or times <= 1:
        raise InputError(source, f"{path}.times", "a number > 1", times)
    if lo <= 0:
        raise InputError(source, f"{path}.from", "a number > 0 for a geometric range", lo)
    out, v = [], lo
    while v <= hi * (1 + 1e-12):
        out.append(v if integral else float(v))
        v = v * times
        if len(out) > MAX_AXIS_VALUES:
            raise InputError(source, path, f"at most {MAX_AXIS_VALUES:,} values", f"more from {lo} to {hi}")
    return out


def axis_values(raw: Any, source: str | None, path: str) -> list[Any]:
    """The list of values of one name (see module docstring for the forms)."""
    if isinstance(raw, dict):
        if set(raw) == {"values"}:
            raw = raw["values"]
        else:
            return _check_values(_range_values(raw, source, path), source, path)
    if isinstance(raw, list | tuple):
        return _check_values(list(raw), source, path)
    return _check_values([raw], source, path)


def _check_values(values: list[Any], source: str | None, path: str) -> list[Any]:
    if not values:
        raise InputError(source, path, "a non-empty list of values or a range (from, to, step or times)", [])
    for i, v in enumerate(values):
        if not (v is None or isinstance(v, bool | int | float | str)):
            raise InputError(source, f"{path}[{i}]", "a number, string or true/false", v)
    seen = set()
    for v in values:
        marker = (type(v) is bool, v)
        if marker in seen:
            raise InputError(source, path, "distinct values", v)
        seen.add(marker)
    return values


def parse_axes(raw: Any, source: str | None) -> list[Axis]:
    """The ``axes:`` mapping of a sweep spec as Axis objects, in the order written."""
    if raw is None:
        return []
    if not isinstance(raw, dict):
        raise InputError(source, "axes", "a mapping of name -> values", type(raw).__name__)
    axes = []
    for label, value in raw.items():
        label = str(label)
        path = f"axes.{label}"
        if isinstance(value, dict) and "zip" in value:
            if set(value) != {"zip"} or not isinstance(value["zip"], dict) or not value["zip"]:
                raise InputError(source, path, "{zip: {name: values, ...}} with at least one name", value)
            names = tuple(str(n) for n in value["zip"])
            cols = [axis_values(v, source, f"{path}.zip.{n}") for n, v in value["zip"].items()]
            lengths = {len(c) for c in cols}
            if len(lengths) != 1:
                raise InputError(source, f"{path}.zip", "lists of equal length (zipped names move together)",
                                 {n: len(c) for n, c in zip(names, cols)})
            values = tuple(zip(*cols))
            if len(set(values)) != len(values):
                raise InputError(source, f"{path}.zip", "distinct value combinations", values)
            axes.append(Axis(label, names, values))
        else:
            axes.append(Axis(label, (label,), tuple((v,) for v in axis_values(value, source, path))))
    names = [n for a in axes for n in a.names]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise InputError(source, f"axes.{dup[0]}", "each name on one axis only", dup[0])
    return axes
