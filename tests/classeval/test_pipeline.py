"""ClassEval end to end on the tiny model: `sca generate` + `sca evaluate`, and the recipe stages
(tiny_model -> generate -> classeval_evaluate -> leaderboard, with the paper's reference row)."""

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
from tests.evalplus.conftest import needs_data

pytestmark = [needs_data, pytest.mark.slow]
REPO = Path(__file__).resolve().parents[2]
TASKS = ["ClassEval_1", "ClassEval_3"]


def sca(*args, **env):
    return subprocess.run([sys.executable, "-m", "harness.cli", *map(str, args)], cwd=REPO, capture_output=True,
                          text=True, timeout=600, env={**os.environ, **env})


def test_generate_then_evaluate_with_the_tiny_model(tiny_model, tmp_path):
    out = tmp_path / "gen"
    r = sca("generate", "--benchmark", "classeval", "--tasks", ",".join(TASKS), "--model", tiny_model,
            "--backend", "hf", "--max-new-tokens", "8", "--no-progress", "--out", out)
    assert r.returncode == 0, r.stderr[-3000:]
    meta = json.loads((out / "generation.json").read_text())
    assert meta["prompt_style"] == "instruct" and meta["sampling"]["max_new_tokens"] == 8
    rows = [json.loads(line) for line in (out / "samples.jsonl").read_text().splitlines()]
    assert [row["task_id"] for row in rows] == TASKS and all(set(row) == {"task_id", "solution"} for row in rows)

    r = sca("evaluate", "--dataset", "classeval", "--samples", out, "--out", tmp_path / "eval", "--time-limit", "2",
            SCA_CACHE_DIR=str(tmp_path / "cache"))
    assert r.returncode == 0, r.stderr[-3000:]
    summary = json.loads(r.stdout.strip().splitlines()[-1])
    assert summary["n_samples"] == 2 and summary["hit_max_new_tokens"] == meta["hit_max_new_tokens"]
    assert set(summary["pass@1"]) == {"class", "method"} and summary["pass@1"]["class"] == 0.0  # random weights
    official = json.loads((tmp_path / "eval" / "class_result.json").read_text())
    assert set(official) == set(TASKS) and "ClassEval_1_0" in official["ClassEval_1"]

    r = sca("evaluate", "--dataset", "classeval", "--samples", out, "--batch-size", "4")
    assert r.returncode == 2 and "--batch-size: only for --dataset" in r.stderr


def test_recipe_stages_and_leaderboard_row(tmp_path, monkeypatch):
    monkeypatch.setenv("SCA_CACHE_DIR", str(tmp_path / "cache"))
    recipe = {
        "experiment": "ce", "run_root": str(tmp_path / "runs"), "wandb": {"mode": "offline"},
        "stages": {
            "model": {"uses": "tiny_model"},
            "samples": {"uses": "generate", "inputs": ["model"],
                        "with": {"benchmark": "classeval", "tasks": TASKS, "n": 1, "temperature": 0,
                                 "max_new_tokens": 8, "backend": "hf"}},
            "score": {"uses": "classeval_evaluate", "inputs": ["samples"], "with": {"time_limit": 2}},
            "board": {"uses": "leaderboard", "inputs": ["score"], "with": {"browser_check": False}},
        },
    }
    path = tmp_path / "recipe.yaml"
    path.write_text(yaml.safe_dump(recipe))
    arts = Runner(load_recipe(path), progress=False, log=lambda _: None).run()
    assert arts["score"].manifest["counts"] == {"samples": 2, "tasks": 2}
    doc = json.loads(arts["board"].file("leaderboard.json").read_text())
    rows = [r for r in doc["rows"] if r["benchmark"] == "classeval"]
    measured = [r for r in rows if r["kind"] == "measured"]
    assert len(measured) == 1 and {"class", "method"} <= set(measured[0]["scores"])
    paper = {r["model"]: r["scores"] for r in rows if r["kind"] == "reference"}
    assert paper["SelfCodeAlign-CQ-7B"]["class"]["value"] == pytest.approx(0.27)
    assert paper["SelfCodeAlign-CQ-7B"]["method"]["value"] == pytest.approx(0.526)
