"""Read a JSON file; a missing file or bad JSON raises one InputError naming the file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from archsim.errors import InputError, read_input_text


def read_json(path: str | Path) -> Any:
    """The parsed contents of ``path``."""
    p = Path(path)
    text = read_input_text(p)
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        raise InputError(p, f"line {e.lineno}, column {e.colno}", "valid JSON", e.msg) from None
