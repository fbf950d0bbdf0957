"""Sweep progress: a tqdm bar with a points/min rate (``pip install archsim[progress]``).

``progress=None`` (auto) shows the bar when tqdm is installed and stderr is a terminal;
``True`` asks for it (a one-line error without tqdm); ``False`` never shows it.
"""

from __future__ import annotations

import sys
import time
from typing import Any

from archsim.errors import InputError


def _tqdm() -> Any:
    try:
        from tqdm import tqdm
    except ImportError:
        return None
    return tqdm


class Progress:
    """Counts finished points; draws a bar when enabled. ``rate_per_min`` works either way."""

    def __init__(self, total: int, enabled: bool | None = None, desc: str = "sweep"):
        tqdm = _tqdm()
        if enabled and tqdm is None:
            raise InputError("--progress", None, "the optional tqdm package for a progress bar: "
                             "pip install archsim[progress]", "tqdm not installed")
        if enabled is None:
            enabled = tqdm is not None and sys.stderr.isatty()
        self.total = total
        self.done = 0
        self.start = time.perf_counter()
        if enabled:
            tqdm.monitor_interval = 0  # no monitor thread: the local pool may then fork its workers
        self.bar = tqdm(total=total, desc=desc, unit="pt", file=sys.stderr, dynamic_ncols=True) if enabled else None

    @property
    def elapsed_s(self) -> float:
        return time.perf_counter() - self.start

    @property
    def rate_per_min(self) -> float:
        return 60 * self.done / self.elapsed_s if self.elapsed_s > 0 else 0.0

    def update(self, n: int, errors: int = 0) -> None:
        self.done += n
        if self.bar is not None:
            self.bar.update(n)
            self.bar.set_postfix_str(f"{self.rate_per_min:,.0f} points/min" + (f", {errors} errors" if errors else ""),
                                     refresh=False)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
