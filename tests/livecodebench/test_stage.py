"""Recipe stages: tiny_model -> generate (livecodebench) -> livecodebench_evaluate, tracked in W&B, reused on rerun."""

from __future__ import annotations

import json

import pytest

from harness.config import load_recipe
from harness.runner import Runner
from harness.wandb_log import summarize


@pytest.mark.slow
def test_generate_and_evaluate_stages(problems_file, tmp_path, monkeypatch):
    monkeypatch.setenv("SCA_CACHE_DIR", str(tmp_path / "cache"))
    recipe = tmp_path / "recipe.yaml"
    recipe.write_text(f"""
experiment: lcb
run_root: {tmp_path / "runs"}
wandb: {{mode: offline, project: sca-test}}
stages:
  model:
    uses: tiny_model
  samples:
    uses: generate
    inputs: [model]
    with: {{benchmark: livecodebench, problems: {problems_file}, tasks: [cf_pin, lc_flag, atc_grid],
            n: 1, temperature: 0, max_new_tokens: 8, backend: hf}}
  score:
    uses: livecodebench_evaluate
    inputs: [samples]
    with: {{timeout_s: 2, after_release: meta-llama/Meta-Llama-3-8B}}
""")
    arts = Runner(load_recipe(recipe), progress=False, log=lambda _: None).run()
    summary = json.loads(arts["score"].file("summary.json").read_text())
    assert summary["problems"] == str(problems_file) and summary["n_problems"] == 3 and summary["n_samples"] == 3
    assert summary["window"]["start_date"] == "2024-04-19"
    # seven problems come after Llama 3; the samples cover three
    assert summary["problems_without_samples"]["count"] == 4
    assert arts["score"].manifest["counts"] == {"samples": 3, "problems": 3}
    assert len(arts["score"].file("verdicts.jsonl").read_text().splitlines()) == 3

    runs = {s["name"]: s for s in map(summarize, (tmp_path / "runs" / "wandb").rglob("*.wandb"))}
    score = runs["lcb/score"]
    history = {k: v for row in score["history"] for k, v in row.items()}
    assert history["pass@1"] == summary["pass@1"] and "pass@1/platform/atcoder" in history
    metrics = [json.loads(line) for line in arts["score"].file("metrics.jsonl").read_text().splitlines()]
    assert any(m.get("_image") == "breakdown" for m in metrics)
    (used,) = score["used_artifacts"]
    assert used["name"] == "generate"

    again: list[str] = []
    Runner(load_recipe(recipe), progress=False, log=again.append).run()
    assert sum("reused" in line for line in again) == 3
