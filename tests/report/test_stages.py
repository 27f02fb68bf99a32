"""The leaderboard and regress stages in a recipe, end to end on real grading: published pr247 solutions ->
the evaluate stage (EvalPlus-exact, in the sandbox) -> leaderboard + regress, with their W&B runs."""

from __future__ import annotations

import json

import pytest
import yaml

from harness.config import load_recipe
from harness.report import browser
from harness.runner import Runner
# The grader's ground truth, shared by every test of the session (imported here, not in conftest.py, so that
# tests/evalplus/conftest.py is read after the suite's SCA_DATA_DIR is set).
from tests.evalplus.conftest import cache_env, shared_cache  # noqa: F401
from tests.report.conftest import LLAMA, LLAMA_INSTRUCT, PR247, pr247
from tests.support.data import fetch_or_skip

pytestmark = pytest.mark.slow
TASKS = 60  # enough for the difference to be significant, few enough to grade in seconds


def recipe(tmp_path) -> dict:
    def samples(model):
        return {"uses": "tests.report.stages:reference_samples_stage",
                "with": {"file": PR247.format(dataset="humaneval", model=model), "model": model.replace("--", "/"),
                         "tasks": TASKS}}

    return {
        "experiment": "report", "run_root": str(tmp_path / "runs"), "wandb": {"mode": "offline"},
        "stages": {
            "llama": samples(LLAMA),
            "llama_eval": {"uses": "evaluate", "inputs": ["llama"], "with": {"dataset": "humaneval"}},
            "instruct": samples(LLAMA_INSTRUCT),
            "instruct_eval": {"uses": "evaluate", "inputs": ["instruct"], "with": {"dataset": "humaneval"}},
            "board": {"uses": "leaderboard", "inputs": ["llama_eval", "instruct_eval"],
                      "with": {"baseline": "llama_eval", "title": "pr247 on HumanEval+"}},
            "gate": {"uses": "regress", "inputs": ["llama_eval", "instruct_eval"]},
        },
    }


def test_recipe_grades_ranks_and_gates(tmp_path, cache_env, run_cli):
    fetch_or_skip("humanevalplus")
    pr247(LLAMA), pr247(LLAMA_INSTRUCT)  # skip without the mirror
    path = tmp_path / "report.yaml"
    path.write_text(yaml.safe_dump(recipe(tmp_path)))
    loaded = load_recipe(path)
    arts = Runner(loaded, progress=False, log=lambda _: None).run()

    report = json.loads(arts["gate"].file("regress.json").read_text())
    assert report["exit_code"] == 0 and report["gate"]["verdict"] == "significantly better"
    assert report["base"]["model"] == "meta-llama/Meta-Llama-3-8B" and report["base"]["stage"] == "llama_eval"
    assert report["base"]["grader"].startswith("evaluate grader")
    assert report["suites"]["plus"]["tasks"] == TASKS and report["suites"]["plus"]["p_value"] < 0.01
    assert "NEW is significantly better than BASE on plus" in arts["gate"].file("regress.txt").read_text()

    doc = json.loads(arts["board"].file("leaderboard.json").read_text())
    measured = {r["model"]: r for r in doc["rows"] if r["kind"] == "measured"}
    assert set(measured) == {"meta-llama/Meta-Llama-3-8B", "meta-llama/Meta-Llama-3-8B-Instruct"}
    instruct = measured["meta-llama/Meta-Llama-3-8B-Instruct"]
    assert instruct["settings"]["greedy"] is True and instruct["settings"]["backend"] == "vllm"
    assert instruct["deltas"]["plus"]["p_value"] == pytest.approx(report["suites"]["plus"]["p_value"])
    assert instruct["timing_sensitive"] is None or "tasks" in instruct["timing_sensitive"]
    for name in ("leaderboard.md", "leaderboard.html", "leaderboard.png"):
        assert arts["board"].file(name).stat().st_size > 0
    if browser.find_chromium():
        assert json.loads(arts["board"].file("browser_check.json").read_text())["ok"] is True
        assert arts["board"].file("leaderboard.screenshot.png").is_file()

    from harness.wandb_log import summarize

    runs = {s["name"]: s for s in map(summarize, (tmp_path / "runs" / "wandb").rglob("*.wandb"))}
    history = runs["report/board"]["history"]
    assert any(row.get("leaderboard/_type") == "table-file" and row.get("leaderboard/nrows") == len(doc["rows"])
               for row in history)
    assert any(row.get("leaderboard/_type") == "image-file" for row in history)
    assert {u["name"] for u in runs["report/board"]["used_artifacts"]} == {"evaluate"}
    gate = runs["report/gate"]["history"]
    assert any(row.get("regress/p_value") == pytest.approx(report["suites"]["plus"]["p_value"]) for row in gate)

    # The command builds the same rows from the recipe's evaluate stages, overrides applied.
    code, stdout, _ = run_cli("leaderboard", path, f"run_root={tmp_path / 'runs'}", "--out", tmp_path / "cli",
                              "--baseline", "llama_eval", "--no-browser", "--no-paper", "--references", "none")
    assert code == 0
    cli_rows = json.loads((tmp_path / "cli" / "leaderboard.json").read_text())["rows"]
    assert [(r["model"], r["scores"]) for r in cli_rows] == [(r["model"], r["scores"]) for r in doc["rows"]
                                                             if r["kind"] == "measured"]
    assert "(baseline)" in stdout

    # A rerun reuses every stage.
    lines: list[str] = []
    Runner(loaded, progress=False, log=lines.append).run()
    assert sum("reused" in line for line in lines) == 6
