"""Fixtures for SFT tests: the shared tiny model, our small dataset, and a quick in-process `train`."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.tiny_model import get_tiny_model
from tests.training.data import records, write_jsonl


@pytest.fixture(autouse=True)
def one_thread():
    """The tiny model trains fastest on one thread: on a shared 2-core host, a second one mostly spins."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory) -> Path:
    return get_tiny_model(tmp_path_factory)


@pytest.fixture
def data_file(tmp_path) -> Path:
    return write_jsonl(tmp_path / "sft.jsonl", records())


# Small and quick: a few optimizer steps of the tiny model on CPU.
QUICK = dict(effective_batch_size=8, per_device_batch_size=4, max_steps=2, eos_check="off", save_steps=100)


@pytest.fixture
def run_train(tiny_model, data_file, tmp_path):
    """run_train(**config) -> (summary, out_dir, reported metrics); defaults to a 2-step tiny run."""
    from training.sft import SFTStageConfig, train

    def run(out: Path | None = None, data: Path | None = None, model: Path | None = None, **overrides):
        cfg = SFTStageConfig(**{**QUICK, **overrides})
        out = out or tmp_path / "out"
        reported: list[dict] = []
        summary = train(cfg, str(model or tiny_model), str(data or data_file), out, report=reported.append,
                        progress=False)
        return summary, out, reported

    return run
