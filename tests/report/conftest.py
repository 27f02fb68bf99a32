"""Fixtures for report tests: the published EvalPlus result files of the data mirror, and tools to plant changes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support.data import reference_or_skip

PR247 = "evalplus-pr247/{dataset}--{model}_vllm_temp_0.0-sanitized_eval_results.json"
LLAMA, LLAMA_INSTRUCT, MISTRAL = ("meta-llama--Meta-Llama-3-8B", "meta-llama--Meta-Llama-3-8B-Instruct",
                                  "mistralai--Mistral-7B-Instruct-v0.2")
SC2 = "selfcodealign-sc2-15b-instruct/evalplus-starcoder2-15b-instruct-v0.1-{dataset}_eval_results.json"


def pr247(model: str, dataset: str = "humaneval") -> Path:
    return reference_or_skip(PR247.format(dataset=dataset, model=model))


def sc2(dataset: str = "humaneval") -> Path:
    return reference_or_skip(SC2.format(dataset=dataset))


def plus_passing(path: Path) -> list[str]:
    doc = json.loads(path.read_text())
    return [t for t, rows in doc["eval"].items() if rows[0]["base_status"] == rows[0]["plus_status"] == "pass"]


def plant_failures(src: Path, tasks: list[str], dest: Path) -> Path:
    """A copy of an EvalPlus eval_results.json in which `tasks` fail their plus tests."""
    doc = json.loads(src.read_text())
    for t in tasks:
        for row in doc["eval"][t]:
            row["plus_status"] = "fail"
    dest.write_text(json.dumps(doc))
    return dest


@pytest.fixture
def run_cli(capsys):
    """Run `sca ARGS...` in-process; returns (exit code, stdout, stderr)."""
    from harness.cli import main

    def run(*args) -> tuple[int, str, str]:
        code = main([str(a) for a in args])
        out = capsys.readouterr()
        return code, out.out, out.err

    return run
