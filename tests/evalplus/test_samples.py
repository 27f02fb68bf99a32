"""Sample files: every layout evalplus accepts, and one clear line-naming error for each bad input."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from benchmarks.evalplus import dataset, samples
from harness.errors import UserError
from tests.evalplus.conftest import needs_data

pytestmark = needs_data


@pytest.fixture(scope="module")
def he():
    return dataset.load("humaneval")


def _jsonl(tmp_path, lines):
    p = tmp_path / "s.jsonl"
    p.write_text("".join((l if isinstance(l, str) else json.dumps(l)) + "\n" for l in lines))
    return p


def test_completion_gets_prompt_and_ids_count_per_task(tmp_path, he):
    p = _jsonl(tmp_path, [{"task_id": "HumanEval/0", "completion": "    return False\n"},
                          {"task_id": "HumanEval/1", "solution": "x = 1\n"},
                          {"task_id": "HumanEval/0", "solution": "y = 2\n"}])
    got = samples.load(p, he)
    assert got[0].solution == he.problems["HumanEval/0"]["prompt"] + "    return False\n"
    assert [(s.task_id, s.index) for s in got] == [("HumanEval/0", 0), ("HumanEval/1", 0), ("HumanEval/0", 1)]
    assert [s.task_id for s in samples.load(p, he, tasks={"HumanEval/1"})] == ["HumanEval/1"]


def test_folder_layout(tmp_path, he):
    for n in (0, 1, 10):
        d = tmp_path / "HumanEval_3"
        d.mkdir(exist_ok=True)
        (d / f"{n}.py").write_text(f"# {n}\n")
    got = samples.load(tmp_path, he)
    assert [s.solution for s in got] == ["# 0\n", "# 1\n", "# 10\n"]


@pytest.mark.parametrize("lines,message", [
    (['{"task_id": "HumanEval/0", "solution": "x"}', "{not json"], ":2: not a JSON line"),
    ([{"solution": "x"}], ":1: missing field 'task_id'"),
    ([{"task_id": "HumanEval/0"}], ":1: missing field 'solution' or 'completion'"),
    ([{"task_id": "HumanEval/0", "solution": ["a", "b"]}], ":1: field 'solution' must be a string"),
    ([{"task_id": "HumanEval/999", "solution": "x"}], ":1: unknown task id 'HumanEval/999'"),
    ([{"task_id": "Mbpp/2", "solution": "x"}], "it exists in mbpp v0.2.0, mbpp v0.1.0"),
])
def test_bad_lines_name_the_line(tmp_path, he, lines, message):
    with pytest.raises(UserError) as exc:
        samples.load(_jsonl(tmp_path, lines), he)
    assert str(exc.value).startswith(str(tmp_path / "s.jsonl") + ":")
    assert message in str(exc.value)


def test_eval_results_for_another_version_is_refused(tmp_path, he):
    p = tmp_path / "r_eval_results.json"
    p.write_text(json.dumps({"hash": "84f4b93a1270b492e4c54d5212da7a5b", "eval": {}}))
    with pytest.raises(UserError, match="different dataset version"):
        samples.load(p, he)


def test_cli_reports_one_line_and_exit_2(tmp_path):
    bad = _jsonl(tmp_path, [{"task_id": "HumanEval/0", "solution": "x"}, "[1, 2"])
    proc = subprocess.run([sys.executable, "-m", "harness.cli", "evaluate", "--dataset", "humaneval",
                           "--samples", str(bad), "--out", str(tmp_path / "out")],
                          capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=120)
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0, proc.stderr
    assert f"{bad}:2: not a JSON line" in proc.stderr
