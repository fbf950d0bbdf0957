"""Fixtures for the workload tests."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _no_user_models(monkeypatch):
    """Tests see only the repository's models/ unless they set ARCHSIM_MODELS themselves."""
    monkeypatch.delenv("ARCHSIM_MODELS", raising=False)
