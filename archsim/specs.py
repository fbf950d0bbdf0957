"""Loading frozen spec dataclasses from YAML/JSON mappings with one clear error per bad field.

Every hardware spec is a ``@dataclass(frozen=True)``; :func:`spec_from_mapping` checks unknown
keys, types and, through ``field(metadata={"choices": ...})``, allowed values, and raises
:class:`~archsim.errors.InputError` naming the file and the dotted field path.
"""

from __future__ import annotations

import dataclasses
import re
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeVar

import yaml

from archsim.errors import InputError, read_input_text

T = TypeVar("T")


def _type_name(tp: Any) -> str:
    return {int: "an integer", float: "a number", str: "a string", bool: "true or false"}.get(tp, str(tp))


_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")


def _coerce(value: Any, tp: Any, source: str | None, path: str) -> Any:
    if tp in (int, float) and isinstance(value, str) and _NUMBER.match(value.strip()):
        value = float(value)  # YAML 1.1 reads 1.5e12 (no sign in the exponent) as a string
    if tp is bool:
        if isinstance(value, bool):
            return value
        raise InputError(source, path, "true or false", value)
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int | float) or int(value) != value:
            raise InputError(source, path, "an integer", value)
        return int(value)
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise InputError(source, path, "a number", value)
        return float(value)
    if tp is str:
        if not isinstance(value, str):
            raise InputError(source, path, "a string", value)
        return value
    return value


def spec_from_mapping(cls: type[T], data: Mapping[str, Any] | None, *, source: str | Path | None = None,
                      prefix: str = "") -> T:
    """Build ``cls`` from ``data``: unknown keys, wrong types and values outside a field's
    ``metadata["choices"]`` or below ``metadata["min"]`` raise one InputError."""
    src = str(source) if source is not None else None
    data = dict(data or {})
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls) if f.init}
    for key in data:
        if key not in fields:
            raise InputError(src, f"{prefix}{key}", f"one of the known fields {sorted(fields)}", key)
    kwargs = {}
    for name, f in fields.items():
        if name not in data:
            continue
        path = f"{prefix}{name}"
        value = _coerce(data[name], hints.get(name), src, path)
        choices = f.metadata.get("choices")
        if choices is not None and value not in choices:
            raise InputError(src, path, f"one of {list(choices)}", value)
        lo = f.metadata.get("min")
        if lo is not None and value < lo:
            raise InputError(src, path, f"a value >= {lo}", value)
        kwargs[name] = value
    return cls(**kwargs)


def check_spec(spec: Any, source: str | None = None) -> None:
    """Re-check choices/min constraints of a constructed spec (used in ``__post_init__``)."""
    for f in dataclasses.fields(spec):
        value = getattr(spec, f.name)
        choices = f.metadata.get("choices")
        if choices is not None and value not in choices:
            raise InputError(source, f.name, f"one of {list(choices)}", value)
        lo = f.metadata.get("min")
        if lo is not None and value < lo:
            raise InputError(source, f.name, f"a value >= {lo}", value)


def load_yaml(path: str | Path) -> Any:
    """``yaml.safe_load`` a file; a missing file or a YAML syntax error is one InputError."""
    p = Path(path)
    text = read_input_text(p)
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else None
        raise InputError(p, where, "valid YAML", getattr(e, "problem", str(e))) from None


def choice(default: Any, choices: tuple, **kw) -> Any:
    return dataclasses.field(default=default, metadata={"choices": choices, **kw})


def at_least(default: Any, lo: Any) -> Any:
    return dataclasses.field(default=default, metadata={"min": lo})
