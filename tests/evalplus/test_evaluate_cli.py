"""`sca evaluate` end to end in the real sandbox: outputs, summary line, verdict cache, resume after kill -9."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from benchmarks.evalplus import dataset
from tests.evalplus.conftest import needs_data

pytestmark = needs_data
TASKS = ["HumanEval/0", "HumanEval/2", "HumanEval/4", "HumanEval/7", "HumanEval/12"]


def _samples(tmp_path: Path, extra: list[dict] = ()) -> Path:
    he = dataset.load("humaneval")
    rows = []
    for tid in TASKS:
        p = he.problems[tid]
        rows.append({"task_id": tid, "solution": p["prompt"] + p["canonical_solution"]})
        rows.append({"task_id": tid, "solution": p["prompt"] + "    return None\n"})
        rows.append({"task_id": tid, "solution": p["prompt"] + p["canonical_solution"] + "\n\n"})  # same, normalized
    rows += list(extra)
    path = tmp_path / "samples.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def _evaluate(args: list[str], **kw) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "harness.cli", "evaluate", "--dataset", "humaneval", *args],
                          capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=600, **kw)


def test_outputs_summary_and_cache(tmp_path, cache_env):
    samples = _samples(tmp_path)
    out = tmp_path / "out"
    proc = _evaluate(["--samples", str(samples), "--out", str(out)])
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(proc.stdout.strip().splitlines()[-1])
    assert (summary["dataset"], summary["version"], summary["n_tasks"], summary["n_samples"]) == \
        ("humaneval", "v0.1.10", 5, 15)
    assert summary["n_distinct"] == 10  # the trailing-newline copies share a verdict
    assert summary["pass@1"] == {"base": pytest.approx(2 / 3), "plus": pytest.approx(2 / 3)}
    assert set(summary["pass@k"]["plus"]) == {"pass@1"}  # 3 samples per task: no pass@5
    assert summary["pass@k"]["plus"]["pass@1"]["ci95"] is not None

    results = json.loads((out / "eval_results.json").read_text())
    assert set(results) == {"date", "hash", "eval", "pass_at_k"}
    assert results["hash"] == "fe585eb4df8c88d844eeb463ea4d0302"
    row = results["eval"]["HumanEval/0"][1]
    assert set(row) == {"task_id", "solution", "base_status", "plus_status", "base_fail_tests", "plus_fail_tests"}
    assert (row["base_status"], row["plus_status"]) == ("fail", "fail")
    assert row["base_fail_tests"] == [dataset.load("humaneval").problems["HumanEval/0"]["base_input"][0]]

    verdicts = [json.loads(line) for line in (out / "verdicts.jsonl").read_text().splitlines()]
    wrong = next(v for v in verdicts if v["task_id"] == "HumanEval/0" and v["index"] == 1)
    assert wrong["base"]["fail_index"] == 0 and wrong["base"]["error_type"] == "AssertionError"
    assert wrong["policy"] and "duration_s" in wrong["base"] and wrong["plus_pass"] is False

    again = _evaluate(["--samples", str(samples), "--out", str(tmp_path / "out2")])
    summary2 = json.loads(again.stdout.strip().splitlines()[-1])
    assert summary2["grader"]["cache_hits"] == 15 and summary2["grader"]["graded"] == 0
    assert summary2["pass@1"] == summary["pass@1"]


@pytest.mark.slow
def test_resume_after_kill(tmp_path, cache_env):
    looping = {"task_id": "HumanEval/2", "solution": "def truncate_number(number):\n    while True:\n        pass\n"}
    samples = _samples(tmp_path, [looping])
    cache = cache_env / "evalplus" / "verdicts" / "fe585eb4df8c88d844eeb463ea4d0302.jsonl"
    proc = subprocess.Popen([sys.executable, "-m", "harness.cli", "evaluate", "--dataset", "humaneval",
                             "--samples", str(samples), "--out", str(tmp_path / "a"), "--workers", "1",
                             "--batch-size", "1"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL,
                            start_new_session=True)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and proc.poll() is None:
        if cache.exists() and cache.read_text().count("\n") >= 1:
            break
        time.sleep(0.05)
    assert proc.poll() is None, "finished before it could be killed"
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    done_before = cache.read_text().count("\n")
    assert 1 <= done_before < 11

    resumed = _evaluate(["--samples", str(samples), "--out", str(tmp_path / "b")])
    assert resumed.returncode == 0, resumed.stderr
    summary = json.loads(resumed.stdout.strip().splitlines()[-1])
    assert summary["grader"]["cache_hits"] >= done_before
    fresh = _evaluate(["--samples", str(samples), "--out", str(tmp_path / "c"), "--no-cache"])
    strip = lambda d: {t: [(r["base_status"], r["plus_status"]) for r in rows] for t, rows in d["eval"].items()}  # noqa
    assert strip(json.loads((tmp_path / "b" / "eval_results.json").read_text())) == \
        strip(json.loads((tmp_path / "c" / "eval_results.json").read_text()))
    assert json.loads((tmp_path / "b" / "eval_results.json").read_text())["eval"]["HumanEval/2"][3]["base_status"] == "fail"


def test_evaluate_artifacts_are_not_reused_across_grading_semantics(monkeypatch):
    """A recipe's evaluate stage reruns when grading semantics or reference timings change."""
    import importlib

    from benchmarks.evalplus import evaluate, grade, groundtruth
    from harness.artifacts import fingerprint

    def stage_fingerprint() -> str:
        stage = importlib.reload(evaluate).evaluate_stage
        return fingerprint(stage.name, stage.version, {"dataset": "humaneval"}, ["samples-fp"])

    before = stage_fingerprint()
    try:
        assert stage_fingerprint() == before
        monkeypatch.setattr(grade, "GRADER_VERSION", grade.GRADER_VERSION + "x")
        after_grader = stage_fingerprint()
        monkeypatch.setattr(groundtruth, "TIMING", groundtruth.TIMING + "x")
        assert len({before, after_grader, stage_fingerprint()}) == 3
    finally:
        monkeypatch.undo()
        assert stage_fingerprint() == before  # leave the module as other tests expect it
