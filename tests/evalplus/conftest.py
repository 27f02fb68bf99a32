"""Fixtures for grader tests: real data (skipped without a mirror), real sandbox, caches in tmp."""

from __future__ import annotations

import gzip
import json
import os
from pathlib import Path

import pytest


def _have_data() -> bool:
    d = os.environ.get("SCA_DATA_DIR")
    return bool(d) and (Path(d) / "humanevalplus").is_dir()


needs_data = pytest.mark.skipif(not _have_data(), reason="no benchmark data: set SCA_DATA_DIR to a mirror of shared/data")


@pytest.fixture(scope="session")
def shared_cache(tmp_path_factory) -> Path:
    """Ground truth is slow (10-60 s cold): every test and xdist worker shares one cache dir.

    Writes there are atomic (temp file + rename), so racing workers only duplicate work.
    """
    root = tmp_path_factory.getbasetemp().parent / "evalplus-shared-cache"
    root.mkdir(exist_ok=True)
    return root


@pytest.fixture
def cache_env(shared_cache, tmp_path, monkeypatch) -> Path:
    """A private SCA_CACHE_DIR (own verdict cache) that reuses the shared ground truth."""
    own = tmp_path / "cache"
    (own / "evalplus").mkdir(parents=True)
    (shared_cache / "evalplus" / "groundtruth").mkdir(parents=True, exist_ok=True)
    (own / "evalplus" / "groundtruth").symlink_to(shared_cache / "evalplus" / "groundtruth")
    monkeypatch.setenv("SCA_CACHE_DIR", str(own))
    return own


def write_subset(src: Path, task_ids: list[str], dest: Path) -> Path:
    """A release file cut down to a few tasks, so evalplus and we can grade it in seconds."""
    keep = set(task_ids)
    with gzip.open(src, "rt") as f:
        rows = [line for line in f if json.loads(line)["task_id"] in keep]
    assert len(rows) == len(keep), f"missing tasks in {src}"
    dest.write_text("".join(rows))
    return dest
