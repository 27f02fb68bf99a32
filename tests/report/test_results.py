"""Evaluate outputs of every layout read into one shape: scores, identity, per-task outcomes."""

from __future__ import annotations

import json

import pytest

from harness.errors import UserError
from harness.report import results
from tests.report.conftest import LLAMA_INSTRUCT, pr247, sc2


def to_old_schema(path, dest):
    """The eval_results layout of evalplus 0.1.x: {task: {nfiles, base: [[status, details]], plus: [...]}}."""
    doc = json.loads(path.read_text())
    doc["eval"] = {t: {"nfiles": len(rows), "base": [[r["base_status"], []] for r in rows],
                       "plus": [[r["plus_status"], []] for r in rows]} for t, rows in doc["eval"].items()}
    dest.write_text(json.dumps(doc))
    return dest


def test_published_files_give_their_published_scores():
    # Scores stated in the mirror's SOURCES.md and on the StarCoder2-Instruct model card.
    llama = results.load(pr247(LLAMA_INSTRUCT))
    assert (llama.benchmark, llama.version, llama.variant) == ("humaneval", "v0.1.10", None)
    assert llama.model == "meta-llama/Meta-Llama-3-8B-Instruct" and llama.settings["greedy"] is True
    assert round(100 * llama.scores["base"]["value"], 1) == 64.0 and round(100 * llama.scores["plus"]["value"], 1) == 57.3
    low, high = llama.scores["plus"]["ci95"]
    assert low < llama.scores["plus"]["value"] < high
    assert llama.n_tasks == 164 and str(llama.grader).startswith("EvalPlus")

    mbpp = results.load(sc2("mbpp"))
    assert (mbpp.benchmark, mbpp.version, mbpp.model) == ("mbpp", "v0.1.0", "starcoder2-15b-instruct-v0.1")
    assert round(100 * mbpp.scores["base"]["value"], 1) == 75.2 and round(100 * mbpp.scores["plus"]["value"], 1) == 61.2
    assert mbpp.n_tasks == 399


def test_both_evalplus_schemas_read_the_same(tmp_path):
    new = results.load(pr247(LLAMA_INSTRUCT))
    old = results.load(to_old_schema(pr247(LLAMA_INSTRUCT), tmp_path / "old_eval_results.json"))
    assert old.outcomes == new.outcomes and old.scores == new.scores and old.dataset_hash == new.dataset_hash


def test_verdicts_of_any_benchmark_with_timing_flags(tmp_path):
    evalplus_rows = [
        {"task_id": "HumanEval/0", "index": 1, "base": {"status": "pass"}, "plus": {"status": "fail"}},
        {"task_id": "HumanEval/0", "index": 0, "base": {"status": "pass"},
         "plus": {"status": "pass", "timing_sensitive": True}, "timing_sensitive": True},
        {"task_id": "HumanEval/1", "index": 0, "base": {"status": "timeout", "timing_sensitive": True},
         "plus": {"status": "fail"}},
    ]
    (tmp_path / "he").mkdir()
    (tmp_path / "he" / "verdicts.jsonl").write_text("".join(json.dumps(r) + "\n" for r in evalplus_rows))
    e = results.load(tmp_path / "he")
    assert e.outcomes == {"base": {"HumanEval/0": [True, True], "HumanEval/1": [False]},
                          "plus": {"HumanEval/0": [True, False], "HumanEval/1": [False]}}
    assert e.timing_tasks == {"plus": {"HumanEval/0", "HumanEval/1"}, "base": {"HumanEval/1"}}
    assert e.benchmark == "humaneval" and e.scores["plus"]["value"] == pytest.approx(0.25)

    lcb_rows = [{"question_id": "abc301_a", "verdict": "pass"}, {"question_id": "abc301_a", "verdict": "timeout"},
                {"question_id": "2847", "verdict": "fail", "timing_sensitive": True}]
    summary = {"dataset": "livecodebench", "version": "release_v6",
               "pass@k": {"overall": {"pass@1": {"value": 0.25, "ci95": [0.0, 0.9]}},
                          "difficulty": {"easy": {"pass@1": {"value": 0.5, "ci95": None}},
                                         "hard": {"pass@1": {"value": 0.0, "ci95": None}}}}}
    (tmp_path / "lcb").mkdir()
    (tmp_path / "lcb" / "verdicts.jsonl").write_text("".join(json.dumps(r) + "\n" for r in lcb_rows))
    (tmp_path / "lcb" / "summary.json").write_text(json.dumps(summary))
    lcb = results.load(tmp_path / "lcb")
    assert (lcb.benchmark, lcb.version) == ("livecodebench", "release_v6")
    assert set(lcb.scores) == {"overall", "difficulty/easy", "difficulty/hard"}
    assert lcb.outcomes == {"pass": {"abc301_a": [True, False], "2847": [False]}}
    assert lcb.timing_tasks == {"pass": {"2847"}}


def test_one_outcome_eval_results_need_a_summary_naming_the_benchmark(tmp_path):
    doc = {"hash": "abc", "eval": {"2847": [{"question_id": "2847", "status": "pass"}, {"status": "fail"}],
                                   "abc301_a": [{"question_id": "abc301_a", "status": "timeout"}]}}
    (tmp_path / "eval_results.json").write_text(json.dumps(doc))
    with pytest.raises(UserError, match="cannot tell which benchmark"):
        results.load(tmp_path)
    (tmp_path / "summary.json").write_text(json.dumps({"dataset": "livecodebench", "hash": "abc",
                                                       "grader": {"version": "1a2b"}}))
    e = results.load(tmp_path)
    assert e.outcomes == {"pass": {"2847": [True, False], "abc301_a": [False]}}
    assert e.scores["pass"]["value"] == pytest.approx(0.25) and e.grader == "livecodebench grader 1a2b"


def test_hashes_of_the_staged_datasets_are_named():
    assert results.known_evalplus_dataset("fe585eb4df8c88d844eeb463ea4d0302") == ("humaneval", "v0.1.10", None)
    assert results.known_evalplus_dataset("ee43ecabebf20deef4bb776a405ac5b1") == ("mbpp", "v0.2.0", None)
    assert results.known_evalplus_dataset("0" * 32) is None


@pytest.mark.parametrize("content,message", [
    ("{not json", "invalid JSON"),
    ('{"hash": "x"}', "expected an EvalPlus eval_results.json"),
    ('{"eval": {"HumanEval/0": 3}}', "neither EvalPlus schema"),
    ('{"eval": {}}', "holds no tasks"),
])
def test_bad_files_fail_with_one_line_naming_them(tmp_path, content, message):
    bad = tmp_path / "bad_eval_results.json"
    bad.write_text(content)
    with pytest.raises(UserError) as err:
        results.load(bad)
    assert message in str(err.value) and str(bad) in str(err.value) and "\n" not in str(err.value)


def test_a_folder_without_outputs_is_refused(tmp_path):
    with pytest.raises(UserError, match="not an evaluate output"):
        results.load(tmp_path)
    (tmp_path / "verdicts.jsonl").write_text('{"task_id": "HumanEval/0"}\n')
    with pytest.raises(UserError, match=r"verdicts.jsonl:1: no outcome"):
        results.load(tmp_path)
