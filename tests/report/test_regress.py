"""`sca regress` on the published pr247 samples, planted drops, bad input, several samples, timing flags."""

from __future__ import annotations

import json
import random

import pytest

from tests.report.conftest import LLAMA, LLAMA_INSTRUCT, MISTRAL, plant_failures, plus_passing, pr247, sc2
from tests.report.test_results import to_old_schema


def test_llama3_instruct_is_significantly_better_than_llama3_on_humaneval_plus(run_cli, tmp_path):
    code, out, _ = run_cli("regress", pr247(LLAMA), pr247(LLAMA_INSTRUCT), "--json", tmp_path / "r.json")
    assert code == 0
    report = json.loads((tmp_path / "r.json").read_text())
    plus = report["suites"]["plus"]
    assert report["gate"]["suite"] == "plus" and report["gate"]["verdict"] == "significantly better"
    assert plus["test"] == "exact McNemar" and plus["tasks"] == 164 and plus["p_value"] < 1e-6
    assert round(100 * plus["base"], 1) == 23.8 and round(100 * plus["new"], 1) == 57.3
    assert plus["ci"][0] > 0
    # The flipped tasks are exactly the tasks whose stored verdicts differ between the two files.
    before, after = set(plus_passing(pr247(LLAMA))), set(plus_passing(pr247(LLAMA_INSTRUCT)))
    assert {w["task"] for w in plus["better"]} == after - before
    assert {w["task"] for w in plus["worse"]} == before - after
    assert "BASE 23.8  NEW 57.3" in out and "exact McNemar: p = " in out
    assert ", ".join(sorted(before - after, key=lambda t: int(t.split("/")[1]))) in out

    # The other way round it is a significant drop.
    code, out, _ = run_cli("regress", pr247(LLAMA_INSTRUCT), pr247(LLAMA))
    assert code == 1 and "FAIL: NEW is significantly worse than BASE on plus" in out


def test_a_file_against_itself_has_no_drop(run_cli, tmp_path):
    code, out, _ = run_cli("regress", pr247(MISTRAL, "mbpp"), pr247(MISTRAL, "mbpp"), "--json", tmp_path / "r.json")
    report = json.loads((tmp_path / "r.json").read_text())
    assert code == 0 and report["exit_code"] == 0
    for suite in ("base", "plus"):
        r = report["suites"][suite]
        assert r["delta"] == 0 and r["p_value"] == 1.0 and r["worse"] == r["better"] == [] and r["tasks"] == 378
    assert report["gate"]["verdict"] == "no significant difference" and "flipped tasks: 0" in out


def test_a_planted_drop_exits_1_and_names_the_tasks(run_cli, tmp_path):
    src = pr247(LLAMA_INSTRUCT)
    planted = sorted(random.Random(0).sample(plus_passing(src), 15))
    new = plant_failures(src, planted, tmp_path / "dropped_eval_results.json")
    code, out, _ = run_cli("regress", src, new, "--json", tmp_path / "r.json")
    report = json.loads((tmp_path / "r.json").read_text())
    assert code == 1 and report["gate"]["regression"] is True
    assert {w["task"] for w in report["suites"]["plus"]["worse"]} == set(planted)
    assert report["suites"]["plus"]["better"] == [] and report["suites"]["base"]["worse"] == []
    assert report["suites"]["plus"]["delta"] == pytest.approx(-15 / 164)
    assert "FAIL" in out and all(t in out for t in planted)

    # A margin larger than the whole interval lets the same drop through.
    code, out, _ = run_cli("regress", src, new, "--margin", "20")
    assert code == 0 and "may be within the margin of 20 points" in out and "margin 20 points" in out


def test_a_small_drop_is_not_significant_unless_no_flip_is_allowed(run_cli, tmp_path):
    src = pr247(LLAMA_INSTRUCT)
    new = plant_failures(src, plus_passing(src)[:2], tmp_path / "two_eval_results.json")
    code, out, _ = run_cli("regress", src, new)
    assert code == 0 and "ok: no significant difference between NEW and BASE on plus" in out
    code, out, _ = run_cli("regress", src, new, "--max-flips", "0")
    assert code == 1 and "2 tasks flipped" in out


def test_both_schemas_compare_as_one(run_cli, tmp_path):
    old = to_old_schema(pr247(LLAMA_INSTRUCT), tmp_path / "old_eval_results.json")
    code, out, _ = run_cli("regress", old, pr247(LLAMA_INSTRUCT), "--max-flips", "0")
    assert code == 0 and "flipped tasks: 0" in out


@pytest.mark.parametrize("base,new,needle", [
    (lambda: pr247(LLAMA), lambda: pr247(LLAMA, "mbpp"), "different benchmarks"),
    (lambda: sc2(), lambda: pr247(LLAMA_INSTRUCT), "different dataset versions"),
])
def test_different_datasets_exit_2_with_one_line_naming_both_files(run_cli, base, new, needle):
    b, n = base(), new()
    code, out, err = run_cli("regress", b, n)
    assert code == 2 and out == ""
    (line,) = err.strip().splitlines()
    assert needle in line and str(b) in line and str(n) in line
    if "versions" in needle:
        assert "v0.1.9" in line and "v0.1.10" in line


def test_bad_input_exits_2(run_cli, tmp_path):
    broken = tmp_path / "broken_eval_results.json"
    broken.write_text('{"eval": ')
    code, _, err = run_cli("regress", broken, pr247(LLAMA))
    assert code == 2 and str(broken) in err and "invalid JSON" in err and len(err.strip().splitlines()) == 1
    code, _, err = run_cli("regress", tmp_path / "missing", pr247(LLAMA))
    assert code == 2 and "no such file or folder" in err
    code, _, err = run_cli("regress", pr247(LLAMA), pr247(LLAMA), "--alpha", "2")
    assert code == 2 and "--alpha" in err
    code, _, err = run_cli("regress", pr247(LLAMA), pr247(LLAMA), "--suite", "extreme")
    assert code == 2 and "choose from base, plus" in err


def _samples_file(path, passes: dict[str, list[bool]]) -> None:
    doc = {"hash": "fe585eb4df8c88d844eeb463ea4d0302", "eval": {
        t: [{"task_id": t, "solution": "", "base_status": "pass" if p else "fail", "plus_status": "pass" if p else "fail"}
            for p in ps] for t, ps in passes.items()}}
    path.write_text(json.dumps(doc))


def test_several_samples_use_a_paired_permutation_test(run_cli, tmp_path):
    rng = random.Random(1)
    tasks = [f"HumanEval/{i}" for i in range(164)]
    rates = {t: rng.random() for t in tasks}
    base = {t: [rng.random() < rates[t] for _ in range(10)] for t in tasks}
    resampled = {t: [rng.random() < rates[t] for _ in range(10)] for t in tasks}  # the same model, new samples
    worse = {t: [rng.random() < rates[t] * 0.6 for _ in range(10)] for t in tasks}
    for name, passes in (("base", base), ("same", resampled), ("worse", worse)):
        _samples_file(tmp_path / f"{name}_eval_results.json", passes)

    code, out, _ = run_cli("regress", tmp_path / "base_eval_results.json", tmp_path / "same_eval_results.json",
                           "--resamples", "2000", "--json", tmp_path / "same.json")
    same = json.loads((tmp_path / "same.json").read_text())["suites"]["plus"]
    assert code == 0 and same["test"].startswith("paired permutation") and "bootstrap" in same["interval"]
    assert same["ci"][0] < same["delta"] < same["ci"][1] and same["p_value"] > 0.05
    assert "->" in out  # per-task pass rates are shown for several samples

    code, out, _ = run_cli("regress", tmp_path / "base_eval_results.json", tmp_path / "worse_eval_results.json",
                           "--resamples", "2000", "--json", tmp_path / "worse.json")
    worse_report = json.loads((tmp_path / "worse.json").read_text())["suites"]["plus"]
    assert code == 1 and worse_report["p_value"] < 0.001 and worse_report["ci"][1] < 0


def test_timing_sensitive_flips_are_counted_and_do_not_fail_max_flips(run_cli, tmp_path):
    tasks = [f"HumanEval/{i}" for i in range(40)]
    for name, flipped in (("base", set()), ("new", {"HumanEval/3", "HumanEval/7"})):
        folder = tmp_path / name
        folder.mkdir()
        rows = [{"task_id": t, "index": 0, "base": {"status": "pass"},
                 "plus": {"status": "fail" if t in flipped else "pass", "timing_sensitive": t == "HumanEval/3"},
                 "timing_sensitive": t == "HumanEval/3"} for t in tasks]
        (folder / "verdicts.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    code, out, _ = run_cli("regress", tmp_path / "base", tmp_path / "new", "--max-flips", "1")
    assert code == 0 and "flipped tasks: 2, of which timing-sensitive: 1" in out
    assert "timing-sensitive among them (1): HumanEval/3" in out
    code, _, _ = run_cli("regress", tmp_path / "base", tmp_path / "new", "--max-flips", "0")
    assert code == 1


def test_only_tasks_both_sides_graded_are_compared(run_cli, tmp_path):
    doc = json.loads(pr247(LLAMA_INSTRUCT).read_text())
    doc["eval"] = {t: rows for t, rows in list(doc["eval"].items())[:50]}
    part = tmp_path / "part_eval_results.json"
    part.write_text(json.dumps(doc))
    code, out, _ = run_cli("regress", pr247(LLAMA_INSTRUCT), part, "--json", tmp_path / "r.json")
    plus = json.loads((tmp_path / "r.json").read_text())["suites"]["plus"]
    assert code == 0 and plus["tasks"] == 50 and plus["only_base"] == 114 and plus["only_new"] == 0
    assert "50 common tasks (BASE only: 114, NEW only: 0)" in out and plus["delta"] == 0
