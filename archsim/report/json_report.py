"""``report.json``: the RunResult document, deterministic and strict (no NaN, no numpy types).

Same result, same bytes: keys keep their insertion order, floats are written with ``repr``
precision (shortest round-trip form) and nothing host- or time-dependent is added.
"""

from __future__ import annotations

import dataclasses
import enum
import json
import math
import os
from collections.abc import Mapping
from pathlib import Path, PurePath
from typing import Any

import numpy as np

from archsim.errors import InputError
from archsim.report.atomic import atomic_write_text

_JSON_VALUE = "a JSON value (dict, list, str, finite number, bool or None)"


def to_jsonable(obj: Any, field: str = "", source: str | os.PathLike[str] | None = None) -> Any:
    """``obj`` as plain JSON types: numpy scalars/arrays to Python, tuples to lists, sets to sorted
    lists, paths to POSIX strings, enums to their values, dataclasses to dicts.

    Raises InputError naming ``source`` and the field path (``ops[3].cycles``) for NaN/inf, for
    objects JSON cannot hold and for mapping keys that would collide once converted to strings.
    """
    if obj is None or isinstance(obj, bool | str):
        return obj
    if isinstance(obj, int):
        return int(obj)
    if isinstance(obj, float):
        if not math.isfinite(obj):
            raise InputError(source, field or None, "a finite number", obj)
        return float(obj)
    if isinstance(obj, np.generic):
        return to_jsonable(obj.item(), field, source)
    if isinstance(obj, np.ndarray):
        return to_jsonable(obj.tolist(), field, source)
    if isinstance(obj, Mapping):
        out: dict[str, Any] = {}
        for key, value in obj.items():
            name = _json_key(key, field, source)
            if name in out:
                raise InputError(source, _join(field, name), "unique keys once converted to strings", key)
            out[name] = to_jsonable(value, _join(field, name), source)
        return out
    if isinstance(obj, list | tuple):
        return [to_jsonable(v, f"{field}[{i}]", source) for i, v in enumerate(obj)]
    if isinstance(obj, set | frozenset):
        items = [to_jsonable(v, f"{field}[]", source) for v in obj]
        return sorted(items, key=lambda v: json.dumps(v, sort_keys=True))
    if isinstance(obj, PurePath):
        return obj.as_posix()
    if isinstance(obj, enum.Enum):
        return to_jsonable(obj.value, field, source)
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return to_jsonable({f.name: getattr(obj, f.name) for f in dataclasses.fields(obj)}, field, source)
    raise InputError(source, field or None, _JSON_VALUE, type(obj).__name__)


def _json_key(key: Any, field: str, source: Any) -> str:
    if isinstance(key, str):
        return key
    if isinstance(key, np.generic):
        key = key.item()
    if key is None or isinstance(key, bool | int | float):
        return json.dumps(to_jsonable(key, field, source))
    raise InputError(source, _join(field, repr(key)), "str (or number) mapping keys", type(key).__name__)


def _join(field: str, name: str) -> str:
    return f"{field}.{name}" if field else name


def render_report_json(result: Any, source: str | os.PathLike[str] | None = None) -> str:
    """The text of ``report.json`` for ``result`` (a RunResult), ending in a newline."""
    doc = to_jsonable(result.to_report(), "", source)
    return json.dumps(doc, indent=1, sort_keys=False, allow_nan=False) + "\n"


def write_report_json(result: Any, path: str | os.PathLike[str]) -> Path:
    """Write ``result.to_report()`` to ``path`` atomically; returns the path."""
    return atomic_write_text(path, render_report_json(result, source=path))
