"""The shipped recipes: all validate, and the CPU default runs end to end from model to score."""

from __future__ import annotations

import json
import re
import os
from pathlib import Path

import pytest

from harness.config import load_recipe
from harness.runner import Runner

REPO = Path(__file__).resolve().parents[2]
RECIPES = sorted((REPO / "experiments").rglob("*.yaml"))


def test_there_are_recipes():
    assert REPO / "experiments" / "smoke.yaml" in RECIPES


@pytest.mark.parametrize("recipe", RECIPES, ids=lambda p: str(p.relative_to(REPO / "experiments")))
def test_every_recipe_validates(recipe):
    from harness.runner import plan

    loaded = load_recipe(recipe)
    assert loaded.recipe.stages
    for name, spec in loaded.recipe.stages.items():
        assert set(spec.inputs) <= set(loaded.recipe.stages), name
    planned = plan(loaded)  # what `sca status` shows: every stage resolved and fingerprinted, nothing run
    assert {p.name for p in planned} == set(loaded.recipe.stages)
    assert len({p.fingerprint for p in planned}) == len(planned)


@pytest.mark.slow
@pytest.mark.skipif(not os.environ.get("SCA_DATA_DIR"), reason="no benchmark data: set SCA_DATA_DIR")
def test_smoke_runs_model_to_score(tmp_path):
    tasks = "[HumanEval/0,HumanEval/2]"
    lines: list[str] = []
    loaded = load_recipe(REPO / "experiments" / "tiny.yaml", [
        f"run_root={tmp_path}", "wandb.mode=offline", "stages.mbpp_samples=null", "stages.mbpp_eval=null",
        f"stages.he_samples.with.tasks={tasks}", f"stages.he_eval.with.tasks={tasks}",
        "stages.he_samples.with.max_new_tokens=32"])
    arts = Runner(loaded, progress=False, log=lines.append).run()
    assert set(arts) == {"model", "he_samples", "he_eval"}

    summary = json.loads(arts["he_eval"].file("summary.json").read_text())
    assert summary["n_tasks"] == 2 and summary["n_samples"] == 2
    assert 0.0 <= summary["pass@1"]["plus"] <= summary["pass@1"]["base"] <= 1.0
    # Greedy 32-token outputs from a random model: every one is cut off, and the score says so.
    assert summary["hit_max_new_tokens"] == 2
    results = json.loads(arts["he_eval"].file("eval_results.json").read_text())
    assert set(results["eval"]) == {"HumanEval/0", "HumanEval/2"}
    assert arts["he_eval"].manifest["inputs"]["he_samples"]["fingerprint"] == arts["he_samples"].fingerprint

    from harness.wandb_log import summarize

    runs = {s["name"]: s for s in map(summarize, (tmp_path / "wandb").rglob("*.wandb"))}
    he_eval = runs["tiny/he_eval"]
    assert any("pass@1/plus" in row for row in he_eval["history"])
    (used,) = he_eval["used_artifacts"]
    (logged,) = [a for a in runs["tiny/he_samples"]["logged_artifacts"] if a["name"] == "generate"]
    assert (used["name"], used["digest"]) == (logged["name"], logged["digest"])

    # A second run reuses all three artifacts.
    lines.clear()
    Runner(loaded, progress=False, log=lines.append).run()
    assert sum("reused" in line for line in lines) == 3


@pytest.mark.parametrize("typo, message", [
    ("stages.sft.with.learning_rat=1e-5", "stages.sft.with.learning_rat: unknown key (did you mean 'learning_rate'?)"),
    ("stages.board.inputs=[base_he_eval,aligned_he_evl]", "aligned_he_evl"),
    ("stages.base_he.uses=generat", "generat"),
])
def test_a_typo_in_a_gpu_recipe_fails_at_planning(typo, message):
    from harness.errors import UserError
    from harness.runner import plan

    with pytest.raises(UserError, match=re.escape(message)):
        plan(load_recipe(REPO / "experiments" / "paper" / "main.yaml", [typo]))
