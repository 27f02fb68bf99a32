"""Fixtures: the EvalPlus grader tests' shared ground-truth cache, and subsets of EvoEval sets."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.evalplus.conftest import cache_env, needs_data, shared_cache  # noqa: F401 (fixtures used by these tests)


def write_subset(set_name: str, task_ids: list[str], dest: Path) -> Path:
    """An EvoEval release file cut down to a few tasks (plain jsonl), so both graders take seconds."""
    from harness import data
    from benchmarks.evoeval.dataset import data_name

    keep = set(task_ids)
    rows = [row for row in data.iter_jsonl(data.fetch(data_name(set_name))) if row["task_id"] in keep]
    assert len(rows) == len(keep), f"missing tasks in EvoEval {set_name}"
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return dest


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory) -> Path:
    from tests.support.tiny_model import get_tiny_model

    return get_tiny_model(tmp_path_factory)
