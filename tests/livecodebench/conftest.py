"""Fixtures: the project-written problems as a code_generation_lite jsonl file."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.livecodebench.support import write_problems


@pytest.fixture(scope="session")
def problems_file(tmp_path_factory) -> Path:
    return write_problems(tmp_path_factory.mktemp("lcb") / "problems.jsonl")


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory) -> Path:
    from tests.support.tiny_model import get_tiny_model

    return get_tiny_model(tmp_path_factory)
