"""The command program of one PIM scope for one step: what the ASIC's in-order controller issues.

A program is a tuple of phases, run in order:

* :class:`MacPhase`: ``gb_bursts`` WR_GB bursts (the input-vector tile into the global buffer),
  then a stream of MAC bursts; burst ``i`` reads the units' open row ``rows[i]`` (a row of the
  scope's layout; a change means PRE_AB + ACT_AB) and ``last[i]`` marks the burst that completes
  an output, whose result is read out with RDMAC. ``bank >= 0``: a single-bank phase (ACT / MAC_SB
  / PRE on that bank, RDMAC_SB).
* :class:`RowWrite`: ACT_AB of ``row``, one WR burst to each of ``banks``, PRE_AB (a V-cache column
  entry per unit: every unit writes the same row).
* :class:`BankAccess`: ACT, ``bursts`` RD or WR bursts, PRE on one bank (a K-cache vector, an
  embedding row).

Rows are labels: only whether two bursts read the same row matters for timing, so
:func:`signature` relabels them in order of first use and equal signatures have equal timing.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True, eq=False)
class MacPhase:
    gb_bursts: int
    rows: np.ndarray  # int64 row label per MAC burst
    last: np.ndarray  # bool per MAC burst: completes an output (read out)
    bank: int = -1  # single-bank phase: the bank (>= 0)
    useful_macs: int = 0  # multiply-accumulates of real work in the phase (all units)
    active_units: int = 0  # units with work in the phase (at least one output)

    @property
    def bursts(self) -> int:
        return len(self.rows)

    @property
    def outputs(self) -> int:
        return int(self.last.sum())


@dataclass(frozen=True)
class RowWrite:
    row: int
    banks: tuple[int, ...]


@dataclass(frozen=True)
class BankAccess:
    bank: int
    row: int
    bursts: int
    write: bool


Phase = MacPhase | RowWrite | BankAccess


@dataclass(frozen=True, eq=False)
class ScopeProgram:
    phases: tuple[Phase, ...] = ()
    _sig: list = field(default_factory=list, repr=False)

    @property
    def empty(self) -> bool:
        return not self.phases

    @property
    def mac_bursts(self) -> int:
        return sum(p.bursts for p in self.phases if isinstance(p, MacPhase))

    @property
    def useful_macs(self) -> int:
        return sum(p.useful_macs for p in self.phases if isinstance(p, MacPhase))

    def signature(self) -> str:
        """A digest of everything that sets the program's timing (rows relabelled by first use)."""
        if not self._sig:
            self._sig.append(signature(self.phases))
        return self._sig[0]


def signature(phases: tuple[Phase, ...]) -> str:
    h = hashlib.sha256()
    labels: dict[int, int] = {}

    def lab(r: int) -> int:
        return labels.setdefault(int(r), len(labels))

    for p in phases:
        if isinstance(p, MacPhase):
            rows = p.rows
            if len(rows):
                uniq, first = np.unique(rows, return_index=True)
                order = uniq[np.argsort(first, kind="stable")]
                labs = np.array([lab(r) for r in order], dtype=np.int64)
                h.update(_relabel(rows, uniq, order, labs).tobytes())
            h.update(b"M%d|%d|%d|" % (p.gb_bursts, p.bank, len(rows)))
            h.update(np.packbits(p.last).tobytes())
        elif isinstance(p, RowWrite):
            h.update(b"W%d|%s|" % (lab(p.row), ",".join(map(str, p.banks)).encode()))
        else:
            h.update(b"B%d|%d|%d|%d|" % (p.bank, lab(p.row), p.bursts, int(p.write)))
        h.update(b";")
    return h.hexdigest()


def _relabel(rows: np.ndarray, uniq: np.ndarray, order: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """``rows`` with each value replaced by its label (``order[i]`` -> ``labels[i]``)."""
    lut = np.empty(len(uniq), dtype=np.int64)
    lut[np.searchsorted(uniq, order)] = labels
    return lut[np.searchsorted(uniq, rows)]


def row_runs(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(row label, bursts)`` of each run of consecutive bursts on one row."""
    if not len(rows):
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    change = np.flatnonzero(np.diff(rows)) + 1
    starts = np.concatenate(([0], change))
    lengths = np.diff(np.concatenate((starts, [len(rows)])))
    return rows[starts], lengths
