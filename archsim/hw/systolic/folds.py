"""Mapping a GEMM onto an ``R x C`` array: spatial dims, folds and their order.

========  ===================  ===================  ==============
dataflow  on the R rows (Sr)   on the C cols (Sc)   in time (T)
========  ===================  ===================  ==============
os        M (output pixels)    N (filters)          K (window)
ws        K                    N                    M
is        K                    M                    N
========  ===================  ===================  ==============

Folds run one after another in SCALE-Sim's fixed order: column folds outer, row folds inner
(``for fc in range(col_fold): for fr in range(row_fold)``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def spatial_dims(dataflow: str, m: int, n: int, k: int) -> tuple[int, int, int]:
    """``(Sr, Sc, T)`` of a GEMM under a dataflow."""
    if dataflow == "os":
        return m, n, k
    if dataflow == "ws":
        return k, n, m
    if dataflow == "is":
        return k, m, n
    raise ValueError(f"unknown dataflow {dataflow!r}")


@dataclass(frozen=True)
class FoldPlan:
    """Folds of one GEMM on an array. Per-fold arrays are in execution order."""

    dataflow: str
    rows: int
    cols: int
    sr: int
    sc: int
    t: int

    @classmethod
    def of(cls, dataflow: str, rows: int, cols: int, m: int, n: int, k: int) -> FoldPlan:
        sr, sc, t = spatial_dims(dataflow, m, n, k)
        return cls(dataflow, rows, cols, sr, sc, t)

    @property
    def row_fold(self) -> int:
        return -(-self.sr // self.rows)

    @property
    def col_fold(self) -> int:
        return -(-self.sc // self.cols)

    @property
    def folds(self) -> int:
        return self.row_fold * self.col_fold

    @property
    def last_rows_used(self) -> int:
        return self.sr - (self.row_fold - 1) * self.rows

    @property
    def last_cols_used(self) -> int:
        return self.sc - (self.col_fold - 1) * self.cols

    def fold_indices(self) -> tuple[np.ndarray, np.ndarray]:
        """``(fc, fr)`` of every fold in execution order."""
        f = np.arange(self.folds, dtype=np.int64)
        return f // self.row_fold, f % self.row_fold

    def rows_used(self) -> np.ndarray:
        _, fr = self.fold_indices()
        return np.where(fr == self.row_fold - 1, self.last_rows_used, self.rows)

    def cols_used(self) -> np.ndarray:
        fc, _ = self.fold_indices()
        return np.where(fc == self.col_fold - 1, self.last_cols_used, self.cols)
