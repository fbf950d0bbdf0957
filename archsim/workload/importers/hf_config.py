"""Import a HuggingFace ``config.json`` as a decoder-LLM graph (see :func:`decoder_llm`)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from archsim.errors import InputError
from archsim.workload.builders.llm import decoder_llm
from archsim.workload.builders.llm_config import LLMConfig, normalize_config
from archsim.workload.graph import Graph
from archsim.workload.importers.json_file import read_json


def load_hf_config(path: str | Path) -> dict[str, Any]:
    """The config dict of a HuggingFace ``config.json``; errors name the file."""
    data = read_json(path)
    if not isinstance(data, Mapping):
        raise InputError(path, None, "a JSON object (HuggingFace config.json)", type(data).__name__)
    normalize_config(data, str(path))  # validate now so errors name the file and key
    return dict(data)


def read_hf_config(path: str | Path) -> LLMConfig:
    """The normalised :class:`LLMConfig` of a ``config.json``."""
    return normalize_config(load_hf_config(path), str(path))


def import_hf_config(path: str | Path, *, phase: str = "decode", name: str | None = None, **kw: Any) -> Graph:
    """Build :func:`decoder_llm` from ``config.json`` at ``path`` (``kw``: batch, seq_len, dtype, ...).

    The graph is named after the file (``models/llama-3-8b.json`` -> ``llama-3-8b``) unless ``name``
    is given; ``config.json`` files are named after their directory.
    """
    p = Path(path)
    if name is None:
        name = p.parent.name if p.stem == "config" and p.parent.name else p.stem
    return decoder_llm(load_hf_config(p), phase=phase, name=name, source=str(p), **kw)
