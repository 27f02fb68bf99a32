"""experiments/cpu/pipeline.yaml end to end on the real SmolLM2-135M, shrunk to a few seeds (the one slow test here)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.config import load_recipe
from harness.runner import Runner

REPO = Path(__file__).resolve().parents[2]
RECIPE = REPO / "experiments" / "cpu" / "pipeline.yaml"
ORDER = ["model", "seeds", "concepts", "instructions", "responses", "execute", "select"]


def test_recipe_chains_every_stage_from_model_to_dataset():
    stages = load_recipe(RECIPE).recipe.stages
    assert list(stages) == ORDER
    assert [s.uses for s in stages.values()] == ["gguf_model", "seeds", "concepts", "instructions", "responses",
                                                "execute", "select"]
    for name in ("concepts", "instructions", "responses"):
        assert "model" in stages[name].inputs


@pytest.mark.slow
def test_smollm2_runs_every_stage(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "numbers.py").write_text(
        'def clamp(value: int, low: int, high: int) -> int:\n    """Limit value to the range [low, high]."""\n'
        '    return max(low, min(high, value))\n\n\n'
        'def count_vowels(text: str) -> int:\n    """Number of vowels in text."""\n'
        '    return sum(ch in "aeiou" for ch in text.lower())\n')
    overrides = [f"run_root={tmp_path / 'runs'}", "wandb.mode=offline",
                 f"stages.seeds.with.paths=[{corpus}]", "stages.seeds.with.sample_size=null",
                 "stages.seeds.with.num_seeds=2", "stages.concepts.with.limit=2", "stages.instructions.with.limit=2",
                 "stages.responses.with.limit=1", "stages.responses.with.n=2", "stages.responses.with.max_new_tokens=160"]
    arts = Runner(load_recipe(RECIPE, overrides), progress=False, log=lambda _: None).run()
    assert list(arts) == ORDER
    counts = {name: art.manifest["counts"] for name, art in arts.items()}
    assert counts["seeds"]["records"] == 2
    assert counts["concepts"]["items"] == 2 and counts["responses"]["samples"] == 2
    assert counts["execute"]["records"] == counts["responses"]["records"]
    for record in arts["select"].records():  # whatever survives passed its own tests
        assert record["verdict"]["passed"] and record["messages"][1]["content"] == record["response"]
    summary = json.loads((arts["model"].path / "gguf_model.json").read_text())
    assert summary["parameters"] == 134_515_008
