"""Channel rearrangement for block formats (K-sort; Trukhanov & Soloveychik, arXiv 2403.20137).

Keys have channel-wise outliers: a few channels are large for every token. In a block format the
block holding an outlier channel gets a large shared exponent and its other channels lose
precision. Sorting the channels by norm puts the outlier channels in the same blocks. Applied to
the rows of ``W_k`` and, with the same permutation, to the rows of ``W_q`` at compile time,
``q . k`` is unchanged and inference pays nothing.

Rules kept here:

* channels are permuted only within a head (``head_dim``): the score of each head sums over its
  own channels, so a permutation must not move a channel to another head;
* with rotary embeddings (``rope=True``) channel ``i`` and ``i + head_dim/2`` rotate together
  (``rotate_half``), so pairs move together: the pairs are sorted by their joint norm and both
  halves get the same order (the RoPE frequency table is permuted the same way);
* the order is by decreasing L2 norm (stable, ties keep their order).
"""

from __future__ import annotations

import numpy as np

from archsim.errors import InputError


def _check(channels: int, head_dim: int | None, rope: bool) -> int:
    hd = head_dim or channels
    if hd <= 0 or channels % hd:
        raise InputError(None, "head_dim", f"a divisor of the channel count {channels}", head_dim)
    if rope and hd % 2:
        raise InputError(None, "head_dim", "an even head size for rotary pairs", hd)
    return hd


def permutation_from_norms(norms: np.ndarray, *, head_dim: int | None = None, rope: bool = False) -> np.ndarray:
    """The channel permutation (new position -> old channel) sorting ``norms`` (one per channel,
    squared or not) in decreasing order within each head; see the module docstring."""
    norms = np.asarray(norms, dtype=np.float64).reshape(-1)
    channels = norms.size
    hd = _check(channels, head_dim, rope)
    perm = np.empty(channels, dtype=np.int64)
    for h in range(channels // hd):
        base = h * hd
        seg = norms[base:base + hd]
        if rope:
            half = hd // 2
            joint = seg[:half] ** 2 + seg[half:] ** 2
            order = np.argsort(-joint, kind="stable")
            perm[base:base + half] = base + order
            perm[base + half:base + hd] = base + half + order
        else:
            perm[base:base + hd] = base + np.argsort(-seg, kind="stable")
    return perm


def channel_norms(x: np.ndarray, axis: int = -1) -> np.ndarray:
    """L2 norm of each channel of ``x`` (channels on ``axis``, all other axes reduced)."""
    x = np.asarray(x, dtype=np.float64)
    moved = np.moveaxis(x, axis, -1).reshape(-1, x.shape[axis])
    return np.sqrt(np.sum(moved * moved, axis=0))


def sort_channels(x: np.ndarray, axis: int = -1, *, head_dim: int | None = None,
                  rope: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """``(x permuted, perm)``: the channels of ``x`` on ``axis`` sorted by their norm over the
    data (the calibration-data form of K-sort)."""
    perm = permutation_from_norms(channel_norms(x, axis), head_dim=head_dim, rope=rope)
    return np.take(np.asarray(x), perm, axis=axis), perm


def inverse(perm: np.ndarray) -> np.ndarray:
    inv = np.empty_like(perm)
    inv[perm] = np.arange(perm.size)
    return inv


def ksort_weights(w_q: np.ndarray, w_k: np.ndarray, *, head_dim: int, num_heads: int, num_kv_heads: int,
                  rope: bool = False) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Compile-time K-sort: ``(w_q', w_k', perm_k)`` with the rows (output channels) of ``w_k``
    sorted by row norm within each KV head and every query head of that KV head's group
    permuted the same way (GQA), so ``(x w_q'^T)_h . (x w_k'^T)_g`` equals the unsorted score.
    Weights are ``(out_features, in_features)`` (PyTorch layout)."""
    w_q, w_k = np.asarray(w_q), np.asarray(w_k)
    if w_k.shape[0] != num_kv_heads * head_dim or w_q.shape[0] != num_heads * head_dim or num_heads % num_kv_heads:
        raise InputError(None, "w_q/w_k", f"{num_heads}x{head_dim} query rows and {num_kv_heads}x{head_dim} key rows",
                         (w_q.shape, w_k.shape))
    perm_k = permutation_from_norms(np.linalg.norm(w_k, axis=1), head_dim=head_dim, rope=rope)
    group = num_heads // num_kv_heads
    perm_q = np.empty(num_heads * head_dim, dtype=np.int64)
    for h in range(num_heads):
        g = h // group
        local = perm_k[g * head_dim:(g + 1) * head_dim] - g * head_dim
        perm_q[h * head_dim:(h + 1) * head_dim] = h * head_dim + local
    return w_q[perm_q], w_k[perm_k], perm_k
