"""Error metrics between a reference tensor ``x`` and its quantized version ``y``."""

from __future__ import annotations

import math

import numpy as np


def mse(x, y) -> float:
    """Mean squared error."""
    d = np.asarray(x, np.float64) - np.asarray(y, np.float64)
    return float(np.mean(d * d))


def sqnr_db(x, y) -> float:
    """Signal-to-quantization-noise ratio ``10 log10(sum x^2 / sum (x-y)^2)`` in dB
    (``inf`` when ``y == x``; ``-inf`` for a zero signal with nonzero error)."""
    x = np.asarray(x, np.float64)
    noise = float(np.sum((x - np.asarray(y, np.float64)) ** 2))
    signal = float(np.sum(x * x))
    if noise == 0:
        return math.inf
    if signal == 0:
        return -math.inf
    return 10.0 * math.log10(signal / noise)


def max_abs_error(x, y) -> float:
    return float(np.max(np.abs(np.asarray(x, np.float64) - np.asarray(y, np.float64))))


def error_report(x, y) -> dict[str, float]:
    """``{"mse", "sqnr_db", "max_abs_error"}``."""
    return {"mse": mse(x, y), "sqnr_db": sqnr_db(x, y), "max_abs_error": max_abs_error(x, y)}
