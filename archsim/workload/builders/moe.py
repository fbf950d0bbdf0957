"""Mixture-of-experts token routing: how many of a step's tokens each expert receives."""

from __future__ import annotations

import numpy as np

from archsim.errors import InputError

ROUTINGS = ("balanced", "random")


def balanced_counts(tokens: int, experts: int, top_k: int) -> list[int]:
    """Spread the ``tokens * top_k`` assignments evenly: expert ``e`` gets ``floor(T*k/E)``, plus one
    for ``e < (T*k mod E)``."""
    total = tokens * top_k
    base, extra = divmod(total, experts)
    return [base + (1 if e < extra else 0) for e in range(experts)]


def random_counts(rng: np.random.Generator, tokens: int, experts: int, top_k: int) -> list[int]:
    """Each token picks ``top_k`` distinct experts: the top-k of uniform random scores from ``rng``."""
    scores = rng.random((tokens, experts))
    chosen = np.argsort(-scores, axis=1, kind="stable")[:, :top_k]
    return [int(c) for c in np.bincount(chosen.ravel(), minlength=experts)]


def expert_token_counts(
    routing: str, *, layers: int, tokens: int, experts: int, top_k: int, seed: int = 0
) -> list[list[int]]:
    """Per layer, the token count of each expert. ``random`` draws layer after layer from one
    ``numpy.random.default_rng(seed)``; ``balanced`` is the same for every layer."""
    if routing == "balanced":
        counts = balanced_counts(tokens, experts, top_k)
        return [list(counts) for _ in range(layers)]
    if routing == "random":
        rng = np.random.default_rng(seed)
        return [random_counts(rng, tokens, experts, top_k) for _ in range(layers)]
    raise InputError(None, "routing", f"one of {ROUTINGS}", routing)
