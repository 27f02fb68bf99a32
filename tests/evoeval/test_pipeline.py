"""EvoEval end to end on the tiny model: `sca generate` + `sca evaluate`, and the recipe stages
(tiny_model -> generate -> evoeval_evaluate -> leaderboard, with the paper's reference row)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from harness.config import load_recipe
from harness.runner import Runner
from tests.evoeval.conftest import cache_env, needs_data, shared_cache, tiny_model  # noqa: F401

pytestmark = [needs_data, pytest.mark.slow]
REPO = Path(__file__).resolve().parents[2]
TASKS = ["subtle/EvoEval/0", "tool_use/EvoEval/0", "tool_use/EvoEval/1"]  # in EvoEval's order


def sca(*args, **env):
    return subprocess.run([sys.executable, "-m", "harness.cli", *map(str, args)], cwd=REPO, capture_output=True,
                          text=True, timeout=600, env={**os.environ, **env})


def test_generate_then_evaluate_with_the_tiny_model(tiny_model, tmp_path, cache_env):
    out = tmp_path / "gen"
    r = sca("generate", "--benchmark", "evoeval", "--sets", "tool_use,subtle", "--tasks", ",".join(TASKS),
            "--model", tiny_model, "--backend", "hf", "--prompt-style", "base", "--max-new-tokens", "8",
            "--no-progress", "--out", out)
    assert r.returncode == 0, r.stderr[-3000:]
    rows = [json.loads(line) for line in (out / "samples.jsonl").read_text().splitlines()]
    assert [f"{row['set']}/{row['task_id']}" for row in rows] == TASKS
    from benchmarks.evoeval import dataset

    helpers = dataset.load("tool_use").problems["EvoEval/0"]["helpers"]
    assert helpers in rows[1]["solution"]  # tool_use keeps the helpers its main function may call

    r = sca("evaluate", "--dataset", "evoeval", "--samples", out / "samples.jsonl", "--out", tmp_path / "eval",
            "--min-time-limit", "0.5")
    assert r.returncode == 0, r.stderr[-3000:]
    summary = json.loads(r.stdout.strip().splitlines()[-1])
    assert summary["sets"] == ["subtle", "tool_use"] and summary["n_samples"] == 3
    assert summary["average"]["pass@1"] is None and "difficult" in summary["average"]["missing"]
    assert set(summary["pass@1"]) == {"subtle", "tool_use"}
    lines = [json.loads(line) for line in (tmp_path / "eval" / "verdicts.jsonl").read_text().splitlines()]
    assert sorted(row["task_id"] for row in lines) == sorted(TASKS)
    assert (tmp_path / "eval" / "tool_use" / "eval_results.json").is_file()

    r = sca("evaluate", "--dataset", "evoeval", "--samples", out / "samples.jsonl", "--time-limit", "2")
    assert r.returncode == 2 and r.stderr.strip().splitlines()[-1].endswith("--time-limit: only for --dataset classeval")


def test_recipe_stages_and_leaderboard_row(tmp_path, cache_env):
    recipe = {
        "experiment": "evo", "run_root": str(tmp_path / "runs"), "wandb": {"mode": "offline"},
        "stages": {
            "model": {"uses": "tiny_model"},
            "samples": {"uses": "generate", "inputs": ["model"],
                        "with": {"benchmark": "evoeval", "sets": ["tool_use"], "tasks": TASKS[1:], "n": 1,
                                 "temperature": 0, "max_new_tokens": 8, "backend": "hf", "prompt_style": "base"}},
            "score": {"uses": "evoeval_evaluate", "inputs": ["samples"], "with": {"min_time_limit": 0.5}},
            "board": {"uses": "leaderboard", "inputs": ["score"], "with": {"browser_check": False}},
        },
    }
    path = tmp_path / "recipe.yaml"
    path.write_text(yaml.safe_dump(recipe))
    arts = Runner(load_recipe(path), progress=False, log=lambda _: None).run()
    summary = json.loads(arts["score"].file("summary.json").read_text())
    assert summary["sets"] == ["tool_use"] and summary["n_samples"] == 2
    assert arts["score"].manifest["counts"] == {"samples": 2, "tasks": 2}

    doc = json.loads(arts["board"].file("leaderboard.json").read_text())
    evo = [r for r in doc["rows"] if r["benchmark"] == "evoeval"]
    measured = [r for r in evo if r["kind"] == "measured"]
    assert len(measured) == 1 and "tool_use" in measured[0]["scores"]
    paper = {r["model"]: r["scores"] for r in evo if r["kind"] == "reference"}
    assert paper["SelfCodeAlign-CQ-7B"]["average"]["value"] == pytest.approx(0.436)

    again: list[str] = []
    Runner(load_recipe(path), progress=False, log=again.append).run()
    assert sum("reused" in line for line in again) == 4
