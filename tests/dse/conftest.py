"""Fixtures for the DSE tests."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from .helpers import gemm_graph


@pytest.fixture
def gemm_file(tmp_path: Path):
    def make(name: str = "gemm.json", **kw) -> Path:
        p = tmp_path / name
        p.write_text(json.dumps(gemm_graph(**kw)), encoding="utf-8")
        return p

    return make
