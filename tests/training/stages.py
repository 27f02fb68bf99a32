"""A dataset stage for recipes in these tests: pipeline-style SFT records of our own (tests/training/data.py)."""

from __future__ import annotations

from harness.config import Strict
from harness.stages import stage
from tests.training.data import records


class RecordsConfig(Strict):
    n: int | None = None


@stage("test.sft_records", RecordsConfig)
def records_stage(cfg: RecordsConfig, inputs, ctx) -> None:
    ctx.write_records("sft", records(cfg.n))
