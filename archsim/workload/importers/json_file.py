"""Read a JSON file; a missing file or bad JSON raises one InputError naming the file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from archsim.errors import InputError


def read_json(path: str | Path) -> Any:
    """The parsed contents of ``path``."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(p, None, "an existing file") from None
    except (OSError, UnicodeDecodeError) as e:
        raise InputError(p, None, "a readable UTF-8 text file", str(e)) from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        raise InputError(p, f"line {e.lineno}, column {e.colno}", "valid JSON", e.msg) from None
