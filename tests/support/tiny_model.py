"""Build the tiny model once per test session, shared by all pytest-xdist workers.

Use it from a fixture:

    @pytest.fixture(scope="session")
    def tiny_model(tmp_path_factory):
        return get_tiny_model(tmp_path_factory)
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from filelock import FileLock

import training.tiny_model


def get_tiny_model(tmp_path_factory, seed: int = 0) -> Path:
    """Path of a tiny model directory; built on first use, then reused (read-only: don't write into it)."""
    base = tmp_path_factory.getbasetemp()
    # Under xdist each worker has its own basetemp; their parent is shared by this session only.
    if os.environ.get("PYTEST_XDIST_WORKER"):
        base = base.parent
    # Key by the builder's source so an edited builder never reuses a stale model.
    code = hashlib.sha256(Path(training.tiny_model.__file__).read_bytes()).hexdigest()[:12]
    out = base / f"tiny-model-{code}-seed{seed}"
    with FileLock(str(out) + ".lock"):
        if not (out / "tiny_model.json").is_file():
            training.tiny_model.build_tiny_model(out, seed=seed)
    return out
