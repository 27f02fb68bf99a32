"""Fixtures for the data-pipeline tests: the tiny model (HF and GGUF), recipes run in-process, I->R texts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from harness.artifacts import file_digest
from tests.pipeline.tiny_gguf import get_tiny_gguf
from tests.support.tiny_model import get_tiny_model


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory) -> Path:
    return get_tiny_model(tmp_path_factory)


@pytest.fixture(scope="session")
def tiny_gguf(tmp_path_factory, tiny_model) -> Path:
    return get_tiny_gguf(tmp_path_factory, tiny_model)


def raw_response(code: str, tests: str, prose: str = "Here is the implementation.") -> str:
    """An I->R output as the model writes it after `<response>\\n` (the `</tests>` stop removed)."""
    return (f"{prose}\n\n```python\n{code.strip()}\n```\n</response>\n\n<tests>\n"
            f"Tests:\n\n```python\n{tests.strip()}\n```")


def write_jsonl(path: Path, records: list[dict]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return path


def file_input(path: Path) -> dict:
    """A recipe stage that turns a jsonl of records into an artifact (what `sca pipeline --input` does)."""
    return {"uses": "generation.pipeline.cli:input_stage", "with": {"path": str(path), "digest": file_digest(path)}}


def write_recipe(root: Path, stages: dict, name: str = "pipeline-test", wandb: str = "offline") -> Path:
    root.mkdir(parents=True, exist_ok=True)
    recipe = {"experiment": name, "run_root": str(root / "runs"), "wandb": {"mode": wandb}, "stages": stages}
    path = root / f"{name}.yaml"
    path.write_text(yaml.safe_dump(recipe, sort_keys=False))
    return path


def run_recipe(root: Path, stages: dict, overrides: list[str] | None = None, name: str = "pipeline-test",
               wandb: str = "offline"):
    from harness.config import load_recipe
    from harness.runner import Runner

    loaded = load_recipe(write_recipe(root, stages, name, wandb), overrides or [])
    return Runner(loaded, progress=False, log=lambda _: None).run()


def responses_records(texts: list[str], instructions: list[str] | None = None) -> list[dict]:
    """Response records as the responses stage writes them: one instruction per text unless given."""
    out = []
    for i, text in enumerate(texts):
        instruction = instructions[i] if instructions else f"Write function number {i} that solves task {i}."
        out.append({"id": f"s{i}/c0/i0/r0", "seed_id": f"s{i}", "seed": "def seed(): return 1",
                    "concepts": ["functions"], "category": ["function implementation", "class implementation"][i % 2],
                    "language": "Python", "difficulty": ["easy", "medium", "hard"][i % 3],
                    "instruction": instruction, "instruction_id": f"s{i}/c0/i0", "sample": 0,
                    "raw_response": text, "prompting": {"I->R": "completion"}})
    return out
