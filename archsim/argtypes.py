"""argparse value types shared by every subcommand and arch plugin.

Each raises ``argparse.ArgumentTypeError`` with what was expected and what was given, which
argparse turns into one line and exit code 2.
"""

from __future__ import annotations

import argparse


def _number(text: str, kind: type, what: str, ok) -> int | float:
    try:
        v = kind(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}") from None
    if not ok(v):
        raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}")
    return v


def number(kind: type, what: str, ok):
    """An argparse type: ``text`` parsed as ``kind`` and accepted when ``ok(value)``; ``what`` says
    what was expected (for example ``number(float, "a fraction in [0, 1)", lambda v: 0 <= v < 1)``)."""

    def parse(text: str):
        return _number(text, kind, what, ok)

    return parse


def positive_int(text: str) -> int:
    """An integer > 0."""
    return _number(text, int, "a positive integer", lambda v: v > 0)


def nonneg_int(text: str) -> int:
    """An integer >= 0."""
    return _number(text, int, "a non-negative integer", lambda v: v >= 0)


def positive_float(text: str) -> float:
    """A finite or infinite number > 0 (NaN refused)."""
    return _number(text, float, "a positive number", lambda v: v > 0)
