"""Paths and loaders shared by the workload tests."""

from __future__ import annotations

import json
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
MODELS = REPO / "models"
GOLDEN_RESNET50_CSV = REPO / "tests" / "golden" / "scalesim" / "topologies" / "resnet50.csv"


def hf_config(name: str) -> dict:
    """The committed HuggingFace config of ``models/<name>.json``."""
    return json.loads((MODELS / f"{name}.json").read_text())
