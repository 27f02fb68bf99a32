"""How CI keeps the grader honest with `sca regress`: fixed published samples are graded by the current code
and compared, task by task, with EvalPlus's own stored verdicts; --max-flips 0 fails the build as soon as a
grader change moves any verdict (timing-sensitive ones, which follow the host's speed, are listed but not
counted). The moved verdict here is planted in a copy of our output, standing in for such a change."""

from __future__ import annotations

import json

import pytest

# The grader's ground truth, shared by every test of the session (see test_stages.py).
from tests.evalplus.conftest import cache_env, shared_cache  # noqa: F401
from tests.report.conftest import LLAMA_INSTRUCT, pr247
from tests.support.data import fetch_or_skip

pytestmark = pytest.mark.slow


def test_grader_change_that_moves_a_verdict_fails_the_gate(cache_env, run_cli, tmp_path):
    fetch_or_skip("humanevalplus")
    stored = pr247(LLAMA_INSTRUCT)  # evalplus's verdicts on HumanEval+ v0.1.10, every one reproduced by ours
    ours = tmp_path / "ours"
    code, _, err = run_cli("evaluate", "--dataset", "humaneval", "--samples", stored, "--out", ours)
    assert code == 0, err

    code, out, _ = run_cli("regress", stored, ours, "--max-flips", "0", "--json", tmp_path / "same.json")
    report = json.loads((tmp_path / "same.json").read_text())
    assert code == 0, out
    assert report["suites"]["plus"]["tasks"] == 164 and report["gate"]["too_many_flips"] is False
    assert report["base"]["grader"].startswith("EvalPlus") and report["new"]["grader"].startswith("sca evaluate")

    rows = [json.loads(line) for line in (ours / "verdicts.jsonl").read_text().splitlines()]
    victim = next(r for r in rows if r["plus_pass"] and not r.get("timing_sensitive"))
    victim["plus"]["status"], victim["plus_pass"] = "fail", False
    moved = tmp_path / "moved"
    moved.mkdir()
    (moved / "verdicts.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    code, out, _ = run_cli("regress", stored, moved, "--max-flips", "0")
    assert code == 1 and f"worse on NEW (1): {victim['task_id']}" in out
    assert "1 task flipped (timing-sensitive ones not counted), more than --max-flips 0" in out
