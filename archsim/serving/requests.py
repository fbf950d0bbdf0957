"""Request streams for continuous batching: seeded Poisson arrivals or a trace file.

A request has an arrival time (ns), an input (prompt) length and an output length in tokens.

* :func:`poisson_stream`: ``n`` requests arriving as a Poisson process of ``rate`` requests per
  second (exponential gaps from ``numpy.random.default_rng(seed)``; the first arrives at 0);
  ``rate = inf`` puts every request at time 0 (a closed loop: a finished request's slot goes to
  the next one at once, Duplex's default setup, Sec. VI). Lengths are fixed, or Gaussian with
  standard deviation ``length_std`` times the mean (Duplex samples them from Gaussians), rounded
  and clipped to ``[1, 2 mean]``.
* :func:`read_trace`: a CSV with a header naming ``arrival_s``, ``input_len`` and ``output_len``
  (other columns are ignored; ``#`` lines and blank lines are skipped).
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from archsim.errors import InputError, read_input_text


@dataclass(frozen=True)
class RequestStream:
    """Arrays of one stream, in arrival order: ``arrival_ns`` (float), ``input_len``, ``output_len``
    (int64), and how it was made (``source``)."""

    arrival_ns: np.ndarray
    input_len: np.ndarray
    output_len: np.ndarray
    source: dict

    def __len__(self) -> int:
        return len(self.arrival_ns)


def _lengths(rng: np.random.Generator, n: int, mean: int, std_frac: float) -> np.ndarray:
    if std_frac <= 0:
        return np.full(n, mean, dtype=np.int64)
    x = np.rint(rng.normal(mean, std_frac * mean, n))
    return np.clip(x, 1, 2 * mean).astype(np.int64)


def poisson_stream(n: int, rate_per_s: float, input_len: int, output_len: int, *, seed: int = 0,
                   length_std: float = 0.0) -> RequestStream:
    """See the module docstring."""
    for field, v in (("requests", n), ("input_len", input_len), ("output_len", output_len)):
        if not isinstance(v, int | np.integer) or isinstance(v, bool) or v < 1:
            raise InputError(None, field, "a positive integer", v)
    if not rate_per_s > 0:
        raise InputError(None, "rate", "a positive number of requests per second (or inf)", rate_per_s)
    if not 0 <= length_std < 10:
        raise InputError(None, "length_std", "a fraction of the mean length, 0 or more", length_std)
    rng = np.random.default_rng(seed)
    if math.isinf(rate_per_s):
        arrival = np.zeros(n)
    else:
        gaps = rng.exponential(1e9 / rate_per_s, n)
        arrival = np.concatenate([[0.0], np.cumsum(gaps[:-1])])
    inp = _lengths(rng, n, input_len, length_std)
    out = _lengths(rng, n, output_len, length_std)
    src = {"kind": "poisson", "requests": n, "rate_per_s": "inf" if math.isinf(rate_per_s) else rate_per_s,
           "input_len": input_len, "output_len": output_len, "length_std": length_std, "seed": seed}
    return RequestStream(arrival, inp, out, src)


REQUIRED = ("arrival_s", "input_len", "output_len")


def read_trace(path: str | Path) -> RequestStream:
    """Requests from a CSV trace (see the module docstring); a bad line is one InputError
    naming ``FILE:LINE``."""
    p = Path(path)
    text = read_input_text(p)
    lines = [(i + 1, ln) for i, ln in enumerate(text.splitlines()) if ln.strip() and not ln.lstrip().startswith("#")]
    if not lines:
        raise InputError(p, None, "a CSV header with arrival_s, input_len, output_len and at least one request")
    header = next(csv.reader([lines[0][1]]))
    cols = [c.strip() for c in header]
    for c in REQUIRED:
        if c not in cols:
            raise InputError(f"{p}:{lines[0][0]}", None, f"a header naming {', '.join(REQUIRED)}", header)
    idx = [cols.index(c) for c in REQUIRED]
    arr, inp, out = [], [], []
    for lineno, ln in lines[1:]:
        cells = next(csv.reader([ln]))
        where = f"{p}:{lineno}"
        try:
            a = float(cells[idx[0]])
            i_len, o_len = int(cells[idx[1]]), int(cells[idx[2]])
        except (ValueError, IndexError):
            raise InputError(where, None, "arrival_s (seconds), input_len and output_len (positive integers)",
                             ln) from None
        if not math.isfinite(a) or a < 0 or i_len < 1 or o_len < 1:
            raise InputError(where, None, "arrival_s >= 0 and positive lengths", ln)
        arr.append(a * 1e9)
        inp.append(i_len)
        out.append(o_len)
    if not arr:
        raise InputError(p, None, "at least one request after the header")
    order = np.argsort(np.asarray(arr), kind="stable")
    a = np.asarray(arr)[order]
    return RequestStream(a, np.asarray(inp, dtype=np.int64)[order], np.asarray(out, dtype=np.int64)[order],
                         {"kind": "trace", "path": str(p), "requests": len(arr)})
