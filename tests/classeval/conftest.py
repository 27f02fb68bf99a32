"""Fixtures: the tiny model, for ClassEval's generation tests."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory) -> Path:
    from tests.support.tiny_model import get_tiny_model

    return get_tiny_model(tmp_path_factory)
