"""EvoEval's seven sets as EvalPlus-path datasets, their prompts, samples and tool_use helpers (no grading)."""

from __future__ import annotations

import json

import pytest

from benchmarks.evoeval import dataset, prompts, samples
from harness.errors import UserError
from tests.evoeval.conftest import needs_data, write_subset

pytestmark = needs_data


@pytest.mark.parametrize("name", dataset.SETS)
def test_every_set_loads_with_its_suites_and_inputs(name):
    ds = dataset.load(name)
    assert ds.checker == "evoeval" and ds.name == f"EvoEval_{name}" and ds.version == "v0.1.0"
    if name in dataset.REWRITES:
        assert len(ds.problems) == 164 and ds.suites == ("base", "plus")
        assert all(tid.startswith("HumanEval/") for tid in ds.problems)
    else:
        assert len(ds.problems) == 100 and ds.suites == ("base",)
        for p in ds.problems.values():  # each input string became the argument list evoeval calls with
            assert len(p["base_input"]) == len(p["inputs"]) and all(isinstance(a, list) for a in p["base_input"])
    assert len(ds.hash) == 32


def test_input_strings_are_evaluated_as_evoeval_does():
    p = dataset.load("difficult").problems["EvoEval/0"]
    assert p["base_input"][0] == eval(f"[{p['inputs'][0]}]")  # noqa: S307 (dataset text)
    assert isinstance(p["base_input"][0][0][0], tuple)  # Python values, not JSON: tuples stay tuples


def test_tool_use_prompt_is_helpers_then_main():
    for p in dataset.load("tool_use").problems.values():
        assert p["prompt"] == p["helpers"] + "\n" + p["main"]


def test_set_names_are_checked_with_a_did_you_mean():
    assert dataset.resolve_sets(["EvoEval_subtle", "difficult"]) == ("difficult", "subtle")
    assert dataset.resolve_sets(None) == dataset.SETS
    with pytest.raises(UserError, match="unknown EvoEval set 'dificult' \\(did you mean 'difficult'\\?\\)"):
        dataset.resolve_sets(["dificult"])


def test_a_bad_input_string_is_one_line_naming_file_and_task(tmp_path):
    bad = write_subset("combine", ["EvoEval/1"], tmp_path / "combine.jsonl")
    row = json.loads(bad.read_text())
    row["inputs"] = ["1, 2", "(("]
    bad.write_text(json.dumps(row) + "\n")
    with pytest.raises(UserError, match=r"combine.jsonl:1: task EvoEval/1: inputs\[1\] is not a Python argument list"):
        dataset.from_file("combine", bad)


def test_helpers_come_back_only_where_a_solution_lacks_them():
    p = dataset.load("tool_use").problems["EvoEval/1"]
    main_only = p["main"] + "\n" + p["canonical_solution"]
    restored = prompts.with_helpers(p, main_only)
    assert restored.startswith(p["helpers"]) and restored.endswith(main_only)
    whole = p["prompt"] + "\n" + p["canonical_solution"]
    assert prompts.with_helpers(p, whole) == whole
    plain = dataset.load("difficult").problems["EvoEval/0"]
    assert prompts.with_helpers(plain, "x = 1\n") == "x = 1\n"
    # codegen's finishing: evalplus's sanitizer keeps the entry point (and what it calls), helpers come back
    fenced = f"Here you go:\n```python\n{main_only}```\nDone."
    finished = prompts.finish(p, fenced)
    assert "def check_valid_phone_number" in finished and "Here you go" not in finished


def test_prompts_are_evalplus_codegen_prompts():
    from generation.prompts import build_prompt as evalplus_prompt

    task = dataset.load("creative").problems["EvoEval/3"]
    base = prompts.build_prompt(task, "creative/EvoEval/3", "base")
    assert base.task_id == "creative/EvoEval/3" and base.prompt == task["prompt"].strip() + "\n"
    assert base.stop == evalplus_prompt(task, "humaneval", "base").stop and "\ndef " in base.stop
    chat = prompts.build_prompt(task, "creative/EvoEval/3", "instruct")  # no tokenizer: chat messages
    assert task["prompt"].strip() in chat.prompt[0]["content"]


def test_samples_name_their_set_by_field_by_prefix_or_by_the_one_selected(tmp_path):
    tool, diff = dataset.load("tool_use"), dataset.load("difficult")
    rows = [{"set": "tool_use", "task_id": "EvoEval/0", "solution": "a"},
            {"task_id": "difficult/EvoEval/0", "solution": "b"},
            {"set": "tool_use", "task_id": "EvoEval/0", "completion": "    return []\n"}]
    path = tmp_path / "s.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    got = samples.load(path, {"difficult": diff, "tool_use": tool})
    assert [(s.task_id, s.index) for s in got["tool_use"]] == [("EvoEval/0", 0), ("EvoEval/0", 1)]
    assert got["tool_use"][1].solution == tool.problems["EvoEval/0"]["prompt"] + "    return []\n"
    assert [s.solution for s in got["difficult"]] == ["b"]
    native = tmp_path / "EvoEval_tool_use_samples.jsonl"
    native.write_text(json.dumps({"task_id": "EvoEval/7", "solution": "c"}) + "\n")
    assert [s.task_id for s in samples.load(native, {"tool_use": tool})["tool_use"]] == ["EvoEval/7"]
    with pytest.raises(UserError, match="rows name no EvoEval set"):
        samples.load(native, {"difficult": diff, "tool_use": tool})
    folder = tmp_path / "released"
    (folder / "EvoEval_difficult" / "EvoEval_2").mkdir(parents=True)
    (folder / "EvoEval_difficult" / "EvoEval_2" / "0.py").write_text("d")
    assert [s.task_id for s in samples.load(folder, {"difficult": diff})["difficult"]] == ["EvoEval/2"]
    path.write_text(json.dumps({"set": "tool_use", "task_id": "EvoEval/999", "solution": "x"}) + "\n")
    with pytest.raises(UserError, match=r"s.jsonl:1: unknown task id 'EvoEval/999' for EvoEval tool_use"):
        samples.load(path, {"tool_use": tool})
