"""A test stage standing in for `generate`: the published pr247 solutions as a samples artifact (samples.jsonl
plus the generation.json `sca generate` writes beside them), so recipes can grade real model output here."""

from __future__ import annotations

import json

from pydantic import Field

from harness.config import Strict
from harness.stages import stage


class ReferenceSamplesConfig(Strict):
    file: str  # an EvalPlus eval_results.json under reference-samples/
    model: str  # the model that wrote them, as generation.json records it
    tasks: int | None = Field(None, ge=1)  # the first N tasks only


@stage("test.reference_samples", ReferenceSamplesConfig)
def reference_samples_stage(cfg: ReferenceSamplesConfig, inputs, ctx) -> None:
    from harness import data

    doc = data.read_json(data.reference_path(cfg.file))
    tasks = sorted(doc["eval"], key=lambda t: int(t.split("/")[1]))[: cfg.tasks]
    ctx.write_records("samples", ({"task_id": t, "solution": r["solution"]} for t in tasks for r in doc["eval"][t]))
    generation = {"model": cfg.model, "prompt_style": "instruct", "backend": {"name": "vllm"},
                  "sampling": {"n": 1, "temperature": 0.0, "top_p": 1.0, "max_new_tokens": 768, "seed": 0}}
    (ctx.out_dir / "generation.json").write_text(json.dumps(generation, indent=2) + "\n")
