"""The port-level view of :class:`~archsim.hw.systolic.cycle.PEArray`: what rtl/systolic_array's
pins and registers show on every cycle (the reference of its cocotb bench).

A fold is fed as one *beat* per cycle (:class:`Beat`, :func:`fold_beats`): OS streams ``A[:, k]``
and ``B[k, :]``; WS/IS first load the stationary block (bottom row first), then stream
``S[t, :]``. The array skews the beats itself (row ``i`` by ``i`` cycles). :class:`ArrayPorts`
steps a PEArray and reports, after each clock edge, the pins (``busy``, ``done``, ``out_valid``,
``out_row``, ``out_data``) and every PE register under the RTL's names (``a``, ``a_v``,
``a_last``, ``b``, ``b_v``, ``acc``; for WS ``b`` is the stationary weight and ``acc`` the
partial sum). Outputs: OS drains one row of accumulators per cycle (``out_row`` R-1 down to 0);
WS/IS outputs leave the bottom edge skewed by column and pass ``C-1-j`` de-skew registers, so
``out_data`` is a whole output row ``t`` of the fold.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from archsim.hw.systolic.cycle import PEArray, fold_operands
from archsim.hw.systolic.folds import FoldPlan

PE_REGISTERS = ("a", "a_v", "a_last", "b", "b_v", "acc")
PINS = ("busy", "done", "out_valid", "out_row", "out_data")


@dataclass(frozen=True)
class Beat:
    """The array's inputs for one cycle (an idle cycle is ``Beat()``)."""

    start: bool = False
    load: bool = False
    valid: bool = False
    last: bool = False
    mode: int = 0  # 0 = OS, 1 = WS / IS
    a: tuple[int, ...] = ()  # one int8 per array row (empty: zeros)
    b: tuple[int, ...] = ()  # one int8 per array column (empty: zeros)


def fold_beats(dataflow: str, stream: np.ndarray, stationary_or_b: np.ndarray) -> list[Beat]:
    """The beats that feed one fold (operands as :meth:`PEArray.start_fold` takes them)."""
    if dataflow == "os":
        T = stream.shape[1]
        return [Beat(start=k == 0, valid=True, last=k == T - 1, mode=0,
                     a=tuple(int(x) for x in stream[:, k]), b=tuple(int(x) for x in stationary_or_b[k, :]))
                for k in range(T)]
    R, T = stationary_or_b.shape[0], stream.shape[0]
    load = [Beat(start=r == 0, load=True, mode=1, b=tuple(int(x) for x in stationary_or_b[R - 1 - r]))
            for r in range(R)]
    return load + [Beat(valid=True, last=t == T - 1, mode=1, a=tuple(int(x) for x in stream[t]))
                   for t in range(T)]


@dataclass(frozen=True)
class TileFold:
    """One fold of a GEMM tile ``a @ b`` on the array, with where its outputs go."""

    index: int
    stream: np.ndarray
    stationary_or_b: np.ndarray
    real_rows: int
    real_cols: int
    origin: tuple[int, int]


def tile_folds(a: np.ndarray, b: np.ndarray, dataflow: str, rows: int, cols: int) -> Iterator[TileFold]:
    """The folds of ``a @ b`` in execution order (column folds outer), zero-padded to the grid."""
    plan = FoldPlan.of(dataflow, rows, cols, a.shape[0], b.shape[1], a.shape[1])
    fcs, frs = plan.fold_indices()
    for f, (fc, fr) in enumerate(zip(fcs, frs)):
        stream, stat, rr, rc, origin = fold_operands(a, b, plan, int(fc), int(fr))
        yield TileFold(f, stream, stat, rr, rc, origin)


def place_row(out: np.ndarray, dataflow: str, fold: TileFold, row: int, values) -> None:
    """Add one output row of a fold (``out_row``/``out_data``) into the GEMM result ``out``.
    OS rows are accumulator rows (``row < R``); WS/IS rows are stream indices ``t`` whose values
    are partial sums over the fold's rows of the stationary block."""
    r0, c0 = fold.origin
    vals = np.asarray(values, dtype=np.int64)[: fold.real_cols]
    if dataflow == "os":
        if row < fold.real_rows:
            out[r0 + row, c0 : c0 + fold.real_cols] = vals
    elif dataflow == "ws":
        out[row, c0 : c0 + fold.real_cols] += vals
    else:
        out[c0 : c0 + fold.real_cols, row] += vals


class ArrayPorts:
    """A PEArray seen through the RTL array's pins and registers, one clock edge per :meth:`step`.

    ``start_fold(...)`` queues the fold's beats; each ``step()`` drives the next beat (or an idle
    cycle), advances the PEArray one cycle and returns ``(beat, expected)``: what to drive before
    the edge and the pins and registers after it. Outputs are compared only where ``out_valid``.
    """

    def __init__(self, rows: int, cols: int):
        self.R, self.C = rows, cols
        self.array: PEArray | None = None
        self.df = "os"
        self.beats: list[Beat] = []
        self.pending: dict[int, dict[int, tuple[int, int]]] = {}  # WS de-skew: due cycle -> {col: (t, v)}
        self.cycle = 0
        self.out: tuple[int, np.ndarray] | None = None

    @property
    def busy(self) -> bool:
        return self.array is not None and self.array.busy

    def start_fold(self, dataflow: str, stream: np.ndarray, stationary_or_b: np.ndarray,
                   real_rows: int | None = None, real_cols: int | None = None) -> list[Beat]:
        if self.busy:
            raise RuntimeError("start_fold while the array is busy")
        self.df = dataflow
        self.array = PEArray(self.R, self.C, dataflow)
        self.array.start_fold(stream, stationary_or_b, real_rows or self.R, real_cols or self.C)
        self.beats = fold_beats(dataflow, stream, stationary_or_b)
        return list(self.beats)

    def step(self) -> tuple[Beat, dict]:
        beat = self.beats.pop(0) if self.beats else Beat()
        self.cycle += 1
        was_busy = self.busy
        self.out = None
        if was_busy:
            ev = self.array.step()
            if self.df == "os":
                if ev["out"] is not None:
                    row, vals = ev["out"]
                    self.out = (row, vals.copy())
            else:
                for t, j, v in ev["out"] or ():
                    due = self.cycle + self.C - 1 - j
                    self.pending.setdefault(due, {})[j] = (t, v)
                ready = self.pending.pop(self.cycle, None)
                if ready is not None:
                    ts = {t for t, _ in ready.values()}
                    if len(ready) != self.C or len(ts) != 1:
                        raise AssertionError(f"cycle {self.cycle}: de-skewed output row incomplete: {ready}")
                    self.out = (ts.pop(), np.array([ready[j][1] for j in range(self.C)], np.int64))
        expected = self._pins(was_busy)
        expected.update(self.registers())
        return beat, expected

    def _pins(self, was_busy: bool) -> dict:
        pins = {"busy": int(self.busy), "done": int(was_busy and not self.busy), "out_valid": int(self.out is not None)}
        if self.out is not None:
            pins["out_row"], pins["out_data"] = self.out[0], self.out[1]
        return pins

    def registers(self) -> dict[str, np.ndarray]:
        """Every PE register (``R x C`` arrays) under the RTL's names."""
        R, C = self.R, self.C
        z = np.zeros((R, C), np.int64)
        arr = self.array
        if arr is None:
            return {name: z.copy() for name in PE_REGISTERS}
        if self.df == "os":
            # the operands PE(i, j) holds are A[i, k], B[k, j] with k = tau - 1 - i - j (frozen in the drain)
            k = (arr.tau - 1) - np.arange(R)[:, None] - np.arange(C)[None, :]
            return {"a": arr.a.copy(), "a_v": arr.av.astype(np.int64), "a_last": (arr.av & (k == arr.T - 1)).astype(np.int64),
                    "b": arr.b.copy(), "b_v": arr.bv.astype(np.int64), "acc": arr.acc.copy()}
        return {"a": arr.a.copy(), "a_v": (arr.am >= 0).astype(np.int64), "a_last": (arr.am == arr.T - 1).astype(np.int64),
                "b": arr.w.copy(), "b_v": z.copy(), "acc": arr.p.copy()}
