"""Memory-request traces: DRAMsim3 and Ramulator 2 formats, read into numpy arrays.

* ``dramsim3``: ``<hex addr> <READ|WRITE> <cycle>`` per line, the format of DRAMsim3's trace CPU
  (``src/common.cc`` ``operator>>``, consumed in ``src/cpu.cc``): the request may enter the
  controller from memory cycle ``cycle`` on. ``0x`` is optional on the address.
* ``ramulator``: ``LD <addr>`` / ``ST <addr>`` per line (Ramulator 2 ``LoadStoreTrace``,
  ``src/ramulator/frontend/impl/memory_trace/loadstore_trace.cpp``); the address is decimal or
  ``0x`` hex; there is no time, so every request may enter at cycle 0 (as fast as accepted).

Blank lines and lines starting with ``#`` are skipped. A malformed line is one
:class:`~archsim.errors.InputError` ``FILE:LINE: expected ..., got ...``.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import repeat
from pathlib import Path

import numpy as np

from archsim.errors import InputError, read_input_text

FORMATS = ("dramsim3", "ramulator")
_DS3_OPS = {"READ": False, "WRITE": True}
_RAM_OPS = {"LD": False, "ST": True}
MAX_ADDR = (1 << 62) - 1
MAX_CYCLE = (1 << 62) - 1  # arrival cycles (2**62 is the controllers' "never")


@dataclass(frozen=True)
class Trace:
    """``addr`` (int64 bytes), ``is_write`` (bool), ``arrival_cycle`` (int64 memory cycles), one
    entry per request in trace order."""

    addr: np.ndarray
    is_write: np.ndarray
    arrival_cycle: np.ndarray
    path: str = ""
    format: str = ""

    def __len__(self) -> int:
        return len(self.addr)

    @classmethod
    def from_arrays(cls, addr, is_write, arrival_cycle=None, *, path: str = "", format: str = "") -> Trace:  # noqa: A002
        a = np.asarray(addr, dtype=np.int64)
        w = np.asarray(is_write, dtype=bool)
        c = np.zeros(len(a), np.int64) if arrival_cycle is None else np.asarray(arrival_cycle, dtype=np.int64)
        if not (len(a) == len(w) == len(c)):
            raise InputError(path or None, None, "addr, is_write and arrival_cycle of equal length",
                             (len(a), len(w), len(c)))
        if len(a) and (a.min() < 0 or c.min() < 0 or c.max() > MAX_CYCLE):
            raise InputError(path or None, None, "non-negative addresses and cycles, cycles below 2^62")
        return cls(a, w, c, path, format)


def detect_format(first_line: str) -> str | None:
    toks = first_line.split()
    if len(toks) == 2 and toks[0].upper() in _RAM_OPS:
        return "ramulator"
    if len(toks) == 3 and toks[1].upper() in _DS3_OPS:
        return "dramsim3"
    return None


def _fail(path: str, lineno: int, expected: str, got: str):
    raise InputError(f"{path}:{lineno}", None, expected, got.strip())


def _tokens_per_line_ok(text: str, per_line: int) -> bool:
    """Whether every line of ``text`` holds ``per_line`` whitespace-separated tokens or none, with
    nothing :meth:`str.split` / :meth:`str.splitlines` would treat otherwise (plain ASCII, ``\n``
    line ends, no comments): counted with numpy over the bytes, so the whole text is checked at
    once."""
    if not text.isascii() or "#" in text or "\r" in text:
        return False
    b = np.frombuffer(text.encode("ascii"), np.uint8)
    if ((b < 32) & (b != 9) & (b != 10)).any() or (b == 127).any():
        return False
    space = (b == 32) | (b == 9) | (b == 10)
    starts = ~space
    starts[1:] &= space[:-1]
    # tokens before each line end, then per line (the last line may lack its "\n")
    ends = np.append(np.flatnonzero(b == 10), len(b))
    counts = np.diff(np.searchsorted(np.flatnonzero(starts), ends), prepend=0)
    return bool(((counts == 0) | (counts == per_line)).all())


def _ints(tokens: list, base: int) -> np.ndarray:
    """``tokens`` parsed as integers in ``base`` into int64 (ValueError / OverflowError if any is
    not one or does not fit)."""
    return np.fromiter(map(int, tokens, repeat(base, len(tokens))), np.int64, len(tokens))


def _parse_whole(text: str, fmt: str) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """``(addr, is_write, arrival_cycle)`` of a trace whose every line is a well-formed request,
    parsed over the whole text at once (the common case, several times faster than line by
    line); None when any line is not, for the line-by-line parser to find and report."""
    k = 3 if fmt == "dramsim3" else 2
    if not _tokens_per_line_ok(text, k):
        return None
    toks = text.split()
    n = len(toks) // k
    ops = toks[k - 2::k]
    table = _DS3_OPS if fmt == "dramsim3" else _RAM_OPS
    kinds = {o: table.get(o.upper()) for o in set(ops)}
    if None in kinds.values():
        return None
    wr = np.fromiter(map(kinds.__getitem__, ops), bool, n)
    col = toks[0::3] if fmt == "dramsim3" else toks[1::2]
    # Ramulator addresses are 0x-hex (parsed after the prefix, so no "0x_") or decimal, not mixed
    if fmt == "dramsim3" or (all(map(str.startswith, col, repeat(("0x", "0X"), n)))
                             and "0x_" not in text and "0X_" not in text):
        hexa = True
    elif "x" not in text and "X" not in text:
        hexa = False
    else:
        return None
    try:
        addr = _ints(col, 16 if hexa else 10)
        cyc = _ints(toks[2::3], 10) if fmt == "dramsim3" else np.zeros(n, np.int64)
    except (ValueError, OverflowError):
        return None
    if n and (addr.min() < 0 or addr.max() > MAX_ADDR or cyc.min() < 0 or cyc.max() > MAX_CYCLE):
        return None
    return addr, wr, cyc


def parse_trace_text(text: str, fmt: str | None = None, path: str = "<trace>") -> Trace:
    """Parse trace ``text`` in format ``fmt`` (``None``: detected from the first request line):
    over the whole text at once when every line is a request, else line by line."""
    if fmt in FORMATS or fmt is None:
        head = next((ln for ln in text[:4096].splitlines() if ln.strip() and not ln.lstrip().startswith("#")), None)
        f = fmt or (detect_format(head) if head is not None else None)
        whole = _parse_whole(text, f) if f is not None else None
        if whole is not None:
            return Trace(*whole, path, f)
    return _parse_lines(text, fmt, path)


def _parse_lines(text: str, fmt: str | None, path: str) -> Trace:
    """:func:`parse_trace_text` line by line: skips comments and blank lines, and reports the first
    malformed line."""
    lines = text.splitlines()
    rows = [(i + 1, ln) for i, ln in enumerate(lines) if ln.strip() and not ln.lstrip().startswith("#")]
    if fmt is None:
        fmt = detect_format(rows[0][1]) if rows else "dramsim3"
        if fmt is None:
            _fail(path, rows[0][0], "a DRAMsim3 line '<hex addr> READ|WRITE <cycle>' or a Ramulator line "
                  "'LD|ST <addr>'", rows[0][1])
    if fmt not in FORMATS:
        raise InputError("--trace-format", None, f"one of {list(FORMATS)}", fmt)
    n = len(rows)
    addr = np.empty(n, np.int64)
    wr = np.empty(n, bool)
    cyc = np.zeros(n, np.int64)
    if fmt == "dramsim3":
        expected = "'<hex addr> READ|WRITE <cycle>'"
        for k, (lineno, ln) in enumerate(rows):
            t = ln.split()
            if len(t) != 3:
                _fail(path, lineno, expected, ln)
            op = _DS3_OPS.get(t[1].upper())
            if op is None:
                _fail(path, lineno, f"{expected} (READ or WRITE)", ln)
            try:
                a = int(t[0], 16)
                c = int(t[2], 10)
            except ValueError:
                _fail(path, lineno, f"{expected} (hex address, decimal cycle)", ln)
            if a < 0 or a > MAX_ADDR or c < 0 or c > MAX_CYCLE:
                _fail(path, lineno, f"{expected} (non-negative address and cycle below 2^62)", ln)
            addr[k] = a
            wr[k] = op
            cyc[k] = c
    else:
        expected = "'LD <addr>' or 'ST <addr>'"
        for k, (lineno, ln) in enumerate(rows):
            t = ln.split()
            if len(t) != 2:
                _fail(path, lineno, expected, ln)
            op = _RAM_OPS.get(t[0].upper())
            if op is None:
                _fail(path, lineno, f"{expected} (LD or ST)", ln)
            try:
                s = t[1]
                a = int(s[2:], 16) if s[:2].lower() == "0x" else int(s, 10)
            except ValueError:
                _fail(path, lineno, f"{expected} (decimal or 0x-hex address)", ln)
            if a < 0 or a > MAX_ADDR:
                _fail(path, lineno, f"{expected} (non-negative address below 2^62)", ln)
            addr[k] = a
            wr[k] = op
    return Trace(addr, wr, cyc, path, fmt)


def read_trace(path: str | Path, fmt: str | None = None) -> Trace:
    """Read a trace file (see the module docstring); ``fmt`` ``None`` detects the format."""
    if fmt is not None and fmt not in FORMATS:
        raise InputError("--trace-format", None, f"one of {list(FORMATS)}", fmt)
    return parse_trace_text(read_input_text(path), fmt, str(path))


def write_trace(trace: Trace, path: str | Path, fmt: str = "dramsim3") -> Path:
    """Write ``trace`` in ``fmt`` atomically (for exporting generated traces)."""
    from archsim.report.atomic import atomic_write_text

    if fmt == "dramsim3":
        lines = [f"0x{a:x} {'WRITE' if w else 'READ'} {c}" for a, w, c in
                 zip(trace.addr.tolist(), trace.is_write.tolist(), trace.arrival_cycle.tolist())]
    elif fmt == "ramulator":
        lines = [f"{'ST' if w else 'LD'} 0x{a:x}" for a, w in zip(trace.addr.tolist(), trace.is_write.tolist())]
    else:
        raise InputError("--trace-format", None, f"one of {list(FORMATS)}", fmt)
    return atomic_write_text(path, "\n".join(lines) + ("\n" if lines else ""))


def synthetic_trace(kind: str, n: int, *, seed: int = 0, capacity_bytes: int = 1 << 30, request_bytes: int = 64,
                    write_fraction: float = 0.0, stride_bytes: int = 0, gap_cycles: int = 0) -> Trace:
    """A generated trace of ``n`` requests: ``random`` (uniform ``request_bytes``-aligned addresses
    over ``capacity_bytes``), ``sequential`` (consecutive requests) or ``stride`` (every
    ``stride_bytes``); writes drawn with probability ``write_fraction``; request ``i`` arrives at
    cycle ``i * gap_cycles``. Same arguments, same trace."""
    rng = np.random.default_rng(seed)
    lines = capacity_bytes // request_bytes
    if kind == "random":
        addr = rng.integers(0, lines, n, dtype=np.int64) * request_bytes
    elif kind == "sequential":
        addr = (np.arange(n, dtype=np.int64) % lines) * request_bytes
    elif kind == "stride":
        if stride_bytes <= 0:
            raise InputError(None, "stride_bytes", "a positive stride", stride_bytes)
        addr = (np.arange(n, dtype=np.int64) * stride_bytes) % (lines * request_bytes)
    else:
        raise InputError(None, "kind", "random, sequential or stride", kind)
    wr = rng.random(n) < write_fraction if write_fraction > 0 else np.zeros(n, bool)
    cyc = np.arange(n, dtype=np.int64) * gap_cycles
    return Trace(addr, wr, cyc, f"<{kind}:{n}:seed={seed}>", "synthetic")
