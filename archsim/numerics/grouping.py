"""Splitting a tensor into groups (blocks) along one axis and putting it back.

``to_groups(x, axis, size)`` moves ``axis`` last and reshapes it into ``(..., n_groups, size)``.
When the axis length is not a multiple of ``size`` the last group is padded by repeating the
axis's last element (so group max/min/absmax are unchanged) and a boolean ``mask`` marks the real
elements; padded elements never count in storage or error. ``size == 0`` means one group spanning
the whole axis (per-channel quantization).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from archsim.errors import InputError


@dataclass(frozen=True)
class Grouping:
    """How a tensor of ``shape`` was grouped along ``axis`` into groups of ``size``."""

    shape: tuple[int, ...]
    axis: int
    size: int
    n_groups: int

    @property
    def axis_len(self) -> int:
        return self.shape[self.axis]

    @property
    def padded(self) -> int:
        return self.n_groups * self.size - self.axis_len

    @property
    def channels(self) -> int:
        """Number of rows of groups (the product of every dimension but ``axis``)."""
        return math.prod(self.shape) // max(1, self.axis_len)

    def mask(self) -> np.ndarray:
        """``(n_groups, size)`` boolean: True where an element is real (not padding)."""
        idx = np.arange(self.n_groups * self.size).reshape(self.n_groups, self.size)
        return idx < self.axis_len


def normalize_axis(axis: int, ndim: int) -> int:
    if not -ndim <= axis < ndim:
        raise InputError(None, "axis", f"an axis of a {ndim}-d tensor (-{ndim}..{ndim - 1})", axis)
    return axis % ndim


def to_groups(x: np.ndarray, axis: int, size: int) -> tuple[np.ndarray, Grouping]:
    """``x`` as ``(..., n_groups, size)`` float64 groups along ``axis`` (see module docstring)."""
    x = np.asarray(x, dtype=np.float64)
    if x.ndim == 0:
        x = x.reshape(1)
    ax = normalize_axis(axis, x.ndim)
    length = x.shape[ax]
    if length == 0:
        raise InputError(None, "shape", "a non-empty tensor", x.shape)
    if size < 0:
        raise InputError(None, "group_size", "a non-negative group size (0 = whole axis)", size)
    size = size or length
    n_groups = -(-length // size)
    moved = np.moveaxis(x, ax, -1)
    pad = n_groups * size - length
    if pad:
        moved = np.concatenate([moved, np.repeat(moved[..., -1:], pad, axis=-1)], axis=-1)
    groups = moved.reshape(*moved.shape[:-1], n_groups, size)
    return groups, Grouping(tuple(x.shape), ax, size, n_groups)


def from_groups(groups: np.ndarray, g: Grouping) -> np.ndarray:
    """Undo :func:`to_groups`: drop the padding and move the axis back."""
    flat = groups.reshape(*groups.shape[:-2], g.n_groups * g.size)[..., : g.axis_len]
    return np.moveaxis(flat, -1, g.axis)
