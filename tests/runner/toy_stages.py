"""Two toy stages for runner tests: a sharded producer and a transformer of its records."""

from __future__ import annotations

import os
import time

from harness.config import Strict
from harness.errors import UserError
from harness.stages import stage


class ProduceConfig(Strict):
    n: int = 20
    shards: int = 4
    # Slows each shard so a test can kill the process mid-stage.
    delay_s: float = 0.0


class ScaleConfig(Strict):
    factor: int = 2


@stage("toy.produce", ProduceConfig)
def produce(cfg: ProduceConfig, inputs, ctx):
    def work(chunk):
        time.sleep(cfg.delay_s)
        marker = os.environ.get("TOY_SHARD_LOG")
        if marker:  # lets a test see which shards were actually computed
            with open(marker, "a") as fh:
                fh.write(f"{chunk[0]}\n")
        return [{"i": i, "square": i * i} for i in chunk]

    n = ctx.map_shards("records", list(range(cfg.n)), work, cfg.shards)
    ctx.log({"produced": n})
    ctx.log_table("preview", [{"i": i, "square": i * i} for i in range(min(3, cfg.n))])


@stage("toy.scale", ScaleConfig)
def scale(cfg: ScaleConfig, inputs, ctx):
    records = [{"i": r["i"], "value": r["square"] * cfg.factor} for r in next(iter(inputs.values())).records()]
    ctx.write_records("records", records)
    ctx.log({"scaled": len(records), "total": sum(r["value"] for r in records)})


class CheckConfig(Strict):
    max_records: int = 10


@stage("toy.check", CheckConfig)
def check(cfg: CheckConfig, inputs, ctx):
    """Refuses (a user error, as a real stage refuses bad input) when its input has too many records."""
    records = list(inputs["produce"].records())
    if len(records) > cfg.max_records:
        raise UserError(f"{len(records)} records, more than max_records={cfg.max_records}")
    ctx.write_records("records", [{"i": r["i"], "square": r["square"]} for r in records])
