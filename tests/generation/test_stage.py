"""`generate` as a recipe stage: tiny_model -> generate through the real runner, reused on rerun."""

from __future__ import annotations

import json
import os

import pytest

from harness.config import load_recipe
from harness.runner import Runner


@pytest.mark.slow
def test_generate_stage_uses_the_model_artifact(tmp_path):
    if not os.environ.get("SCA_DATA_DIR"):
        pytest.skip("no benchmark data: set SCA_DATA_DIR to a mirror like /work/shared/data")
    recipe = tmp_path / "recipe.yaml"
    recipe.write_text(f"""
experiment: gen
run_root: {tmp_path / "runs"}
wandb: {{mode: offline, project: sca-test}}
stages:
  model:
    uses: tiny_model
  samples:
    uses: generate
    inputs: [model]
    with: {{benchmark: mbpp, tasks: ["2", "3"], max_new_tokens: 8, backend: hf}}
""")
    lines: list[str] = []
    arts = Runner(load_recipe(recipe), progress=False, log=lines.append).run()
    art = arts["samples"].path
    rows = [json.loads(line) for line in (art / "samples.jsonl").read_text().splitlines()]
    assert [r["task_id"] for r in rows] == ["Mbpp/2", "Mbpp/3"]
    meta = json.loads((art / "generation.json").read_text())
    assert meta["backend"]["backend"] == "hf" and meta["prompt_style"] == "instruct"
    assert meta["requests"]["generated"] == 2
    manifest = json.loads((art / "manifest.json").read_text())
    assert manifest["counts"] == {"samples": 2, "tasks": 2}
    again: list[str] = []
    Runner(load_recipe(recipe), progress=False, log=again.append).run()
    assert any("[samples] reused" in line for line in again)
