"""Cycle-by-cycle comparison of an RTL block with its Python model.

Both sides give a dict per cycle: signal name -> int or numpy array (a vector of pins, or a grid of
per-PE registers). The model's dict decides what is compared (a pin that is meaningful only when a
valid flag is set is simply left out). The first difference fails with one line:
``cycle N: signal S: rtl=X model=Y``. No cocotb here: benches and pure-Python tests share it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np


class Mismatch(AssertionError):
    """The RTL differs from the model; ``str()`` is ``cycle N: signal S: rtl=X model=Y (...)``."""

    def __init__(self, cycle: int, signal: str, rtl: object, model: object, context: str = ""):
        self.cycle, self.signal, self.rtl, self.model = cycle, signal, rtl, model
        msg = f"cycle {cycle}: signal {signal}: rtl={rtl} model={model}"
        super().__init__(msg + (f" ({context})" if context else ""))


def default_name(key: str, index: tuple[int, ...]) -> str:
    """``acc`` at (2, 3) -> ``acc[2][3]``; a key ``pe.acc`` -> ``pe[2][3].acc``."""
    idx = "".join(f"[{i}]" for i in index)
    if not idx:
        return key
    head, dot, tail = key.partition(".")
    return f"{head}{idx}.{tail}" if dot else f"{key}{idx}"


def first_difference(rtl: Mapping, model: Mapping) -> tuple[str, tuple[int, ...], int, int] | None:
    """The first ``(key, index, rtl value, model value)`` that differs, in the model's key order
    and row-major order within an array; ``None`` when everything the model names agrees."""
    for key, want in model.items():
        if key not in rtl:
            raise KeyError(f"the RTL sample has no signal {key!r}")
        got = rtl[key]
        w, g = np.asarray(want), np.asarray(got)
        if w.shape != g.shape:
            raise ValueError(f"signal {key!r}: model shape {w.shape}, rtl shape {g.shape}")
        if w.ndim == 0:
            if int(g) != int(w):
                return key, (), int(g), int(w)
            continue
        diff = np.argwhere(g != w)
        if len(diff):
            idx = tuple(int(i) for i in diff[0])
            return key, idx, int(g[idx]), int(w[idx])
    return None


class Scoreboard:
    """Counts the cycles compared; :meth:`check` raises :class:`Mismatch` on the first difference."""

    def __init__(self, name: Callable[[str, tuple[int, ...]], str] = default_name):
        self.name = name
        self.cycles = 0
        self.mismatch: Mismatch | None = None

    def check(self, cycle: int, rtl: Mapping, model: Mapping, context: str = "") -> None:
        diff = first_difference(rtl, model)
        if diff is not None:
            key, idx, got, want = diff
            self.mismatch = Mismatch(cycle, self.name(key, idx), got, want, context)
            raise self.mismatch
        self.cycles += 1
