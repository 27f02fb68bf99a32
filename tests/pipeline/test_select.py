"""Selection and cleaning: every sanitize rule on real examples it keeps and drops, dedup and decontamination
on planted duplicates and benchmark solutions, the selection policies, and records TRL can load."""

from __future__ import annotations

import json

import pytest

from generation.pipeline.select import code_representation, defined_names, format_problem
from tests.pipeline.conftest import file_input, raw_response, run_recipe, write_jsonl

MAX = "def find_max(xs):\n    \"\"\"Largest item.\"\"\"\n    return max(xs)"
MAX_TESTS = "assert find_max([1, 3, 2]) == 3\nassert find_max([-1]) == -1"


@pytest.mark.parametrize("raw, problem", [
    (raw_response(MAX, MAX_TESTS), None),
    # SmolLM2's usual output: stopped at </tests> without ever opening <tests>
    ("```python\n" + MAX + "\n```\n\n```python\n" + MAX_TESTS + "\n```", "no_split"),
    (raw_response(MAX, MAX_TESTS) + "\n</response>\n\n<tests>\nmore", "no_split"),
    (raw_response(MAX + "\n    # TODO: handle empty lists", MAX_TESTS), "placeholder"),
    (raw_response("def f():\n    raise NotImplementedError", "assert f()"), "placeholder"),
    (raw_response("def f():\n    pass  # Your code here", "assert f() is None"), "placeholder"),
    ("Use max.\n</response>\n\n<tests>\n```python\n" + MAX_TESTS + "\n```", "no_python_block"),
    ("```\n" + MAX + "\n```\n</response>\n\n<tests>\n```python\n" + MAX_TESTS + "\n```", "no_python_block"),
    ("```python\n" + MAX + "\n```\n</response>\n\n<tests>\nassert find_max([1]) == 1", "no_python_block"),
    (raw_response(MAX, "print(find_max([1, 2]))"), "tests_without_asserts"),
    (raw_response(MAX, "def test_max():\n    assert find_max([1]) == 1"), "tests_without_asserts"),
    (raw_response(MAX, "import math\ndef test_max():\n    assert find_max([1]) == 1\ntest_max()"), None),
])
def test_format_rules(raw, problem):
    assert format_problem(raw) == problem


CHAT_GOOD = "Here it is.\n\n```python\n" + MAX + "\n```\n\nTests:\n\n```python\n" + MAX_TESTS + "\n```"


@pytest.mark.parametrize("raw, problem", [
    (CHAT_GOOD, None),
    (CHAT_GOOD + "\n\nThat is all.", None),
    ("```python\n" + MAX + "\n" + MAX_TESTS + "\n```", "no_split"),  # one block: no separate tests
    ("Here.\n\n```python\n" + MAX + "\n```\n\n```python\nprint(find_max([1]))\n```", "tests_without_asserts"),
    ("```python\n" + MAX + "\n```\n\n```python\ndef test():\n    assert find_max([1]) == 1\n```",
     "tests_without_asserts"),
    (CHAT_GOOD.replace("Here it is.", "TODO: check"), "placeholder"),
])
def test_format_rules_for_chat_responses(raw, problem):
    assert format_problem(raw, "chat") == problem


def test_names_and_code_representation():
    assert defined_names("def find_max(): pass\nclass Box:\n    def get_item(self): pass") == (
        frozenset({"findmax", "getitem"}), frozenset({"box"}))
    rep = code_representation("```python\nimport os\n\ndef f(x):\n    \"\"\"Doc.\"\"\"\n    # note\n    return x\n\n"
                              "print(f(1))\n```\n\nand\n\n```python\nclass C:\n    '''Doc.'''\n    y = 1\n```")
    assert rep == "def f(x):\n    return x\n\nclass C:\n    y = 1"


def executed(rid: str, instruction: str, raw: str, passed: bool = True, **extra) -> dict:
    return {"id": rid, "seed_id": rid.split("/")[0], "seed": "def s(): return 1", "concepts": ["lists"],
            "category": "function implementation", "language": "Python", "difficulty": "easy",
            "instruction": instruction, "instruction_id": rid.rsplit("/", 1)[0], "sample": 0, "raw_response": raw,
            "prompting": {"I->R": "completion"},
            "verdict": {"status": "pass" if passed else "fail", "exit0": passed, "passed": passed,
                        "asserts_run": 2 if passed else None, "rejected": None, "policy": "p"}, **extra}


def variants(n: int):
    """Distinct tasks: different words, function names and bodies, so no dedup rule links them."""
    words = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india", "juliet",
             "kilo", "lima", "mike", "november", "oscar", "papa"]
    for i in range(n):
        w = words[i]
        instruction = (f"Write a Python function `{w}_score` that takes a list of {w} readings and returns "
                       f"the sum of every reading multiplied by {i + 2}, ignoring negative {w} values entirely.")
        code = f"def {w}_score(xs):\n    return sum(x * {i + 2} for x in xs if x >= 0) + {i}*0"
        tests = f"assert {w}_score([1, 2]) == {3 * (i + 2)}\nassert {w}_score([-1]) == 0"
        yield instruction, raw_response(code, tests)


@pytest.fixture(scope="module")
def selected(tmp_path_factory):
    """One select run over a dataset that plants a case for every rule."""
    from benchmarks.evalplus import dataset

    tmp = tmp_path_factory.mktemp("select")
    he = dataset.load("humaneval").problems["HumanEval/12"]
    tasks = list(variants(12))
    recs = [executed(f"t{i}/c0/i0/r0", ins, raw) for i, (ins, raw) in enumerate(tasks[:6])]
    ins6, raw6 = tasks[6]
    recs += [executed("t6/c0/i0/r0", ins6, raw6), executed("t6/c0/i0/r1", ins6, raw6.replace("* 8", "* 8 ")),
             executed("t6/c0/i0/r2", ins6, raw6, passed=False)]  # three responses to one instruction
    recs.append(executed("dup-ws/c0/i0/r0", "  " + tasks[0][0].replace(" ", "  "), tasks[7][1]))  # same instruction
    recs.append(executed("dup-resp/c0/i0/r0", tasks[8][0], tasks[1][1]))  # same response as t1
    # same function name as t2 (alpha.. -> charlie_score), different instruction and body
    recs.append(executed("dup-names/c0/i0/r0", tasks[9][0],
                         raw_response("def Charlie_Score(xs):\n    return len(xs)", "assert Charlie_Score([1]) == 1")))
    near = tasks[3][0].replace("entirely", "completely")  # one word changed: a near-duplicate instruction
    recs.append(executed("near-ins/c0/i0/r0", near, tasks[10][1]))
    recs.append(executed("long/c0/i0/r0", "word " * 201, tasks[11][1]))
    solution = "from typing import List, Optional\n\n\ndef longest(strings: List[str]) -> Optional[str]:\n" + \
        he["canonical_solution"]
    recs.append(executed("contaminated/c0/i0/r0", "Return the longest string of a list, or None when empty.",
                         raw_response(solution, "assert longest(['a', 'bb']) == 'bb'")))
    recs.append(executed("bad-format/c0/i0/r0", "Something.", "```python\n" + MAX + "\n```"))
    recs.append(executed("failed/c0/i0/r0", tasks[5][0] + " Twice.", tasks[4][1].replace("echo", "ekko"), False))
    src = write_jsonl(tmp / "executed.jsonl", recs)
    arts = run_recipe(tmp, {"execute": file_input(src), "select": {"uses": "select", "inputs": ["execute"]}})
    art = arts["select"]
    filtered = {f["id"]: f for f in art.records("filtered")}
    return {"art": art, "records": {r["id"]: r for r in art.records()}, "filtered": filtered, "tmp": tmp}


def _one_of(filtered: dict, a: str, b: str) -> dict:
    """Of two planted duplicates exactly one is dropped (the shuffle decides which comes first)."""
    hits = [filtered[k] for k in (a, b) if k in filtered]
    assert len(hits) == 1, (a, b, hits)
    return hits[0]


def test_each_planted_case_is_dropped_by_its_rule(selected):
    f = selected["filtered"]
    assert f["bad-format/c0/i0/r0"]["reason"] == "no_split"
    assert f["long/c0/i0/r0"]["reason"] == "long_instruction"
    assert f["failed/c0/i0/r0"]["step"] == "selection"
    assert _one_of(f, "dup-ws/c0/i0/r0", "t0/c0/i0/r0")["step"] == "exact_instruction"
    assert _one_of(f, "dup-resp/c0/i0/r0", "t1/c0/i0/r0")["step"] == "exact_response"
    assert _one_of(f, "dup-names/c0/i0/r0", "t2/c0/i0/r0")["reason"] == "same_names"
    assert f["contaminated/c0/i0/r0"]["reason"] == "humaneval:HumanEval/12:canonical_solution"
    assert _one_of(f, "near-ins/c0/i0/r0", "t3/c0/i0/r0")["step"] == "minhash_instruction"


def test_one_passing_response_per_instruction_and_distinct_tasks_kept(selected):
    records = selected["records"]
    assert sum(r["instruction_id"] == "t6/c0/i0" for r in records.values()) == 1
    assert "t6/c0/i0/r2" not in records  # the failed one is never the pick
    for i in (4, 5):
        assert f"t{i}/c0/i0/r0" in records
    counts = selected["art"].manifest["counts"]
    assert counts["after/input"] == 17 and counts["records"] == len(records)
    steps = [s for s in counts if s.startswith("after/")]
    assert steps == ["after/input", "after/format", "after/long_instruction", "after/selection",
                     "after/exact_instruction", "after/exact_response", "after/name_sets",
                     "after/code_representation", "after/decontamination", "after/minhash_instruction",
                     "after/minhash_response", "after/minhash_code_representation"]
    assert counts["after/input"] - counts["records"] == len(selected["filtered"])


def test_final_records_carry_lineage_and_load_in_datasets_and_trl(selected, tiny_model):
    r = selected["records"]["t4/c0/i0/r0"]
    assert r["response"].startswith("Here is the implementation.") and "<tests>" not in r["response"]
    assert "assert echo_score" in r["tests"] and "assert" not in r["response"]
    assert r["verdict"]["passed"] and r["seed_id"] == "t4" and r["concepts"] == ["lists"]
    assert (r["category"], r["language"], r["difficulty"]) == ("function implementation", "Python", "easy")
    assert r["prompt"] == [{"role": "user", "content": r["instruction"]}]
    assert r["completion"] == [{"role": "assistant", "content": r["response"]}]
    assert r["messages"] == r["prompt"] + r["completion"]

    from transformers import AutoTokenizer
    from trl.data_utils import apply_chat_template, is_conversational

    ds = selected["art"].dataset()
    assert len(ds) == len(selected["records"]) and {"prompt", "completion", "messages"} <= set(ds.column_names)
    example = {"prompt": ds[0]["prompt"], "completion": ds[0]["completion"]}
    assert is_conversational(example)
    text = apply_chat_template(example, AutoTokenizer.from_pretrained(tiny_model))
    assert ds[0]["instruction"] in text["prompt"] and ds[0]["response"] in text["completion"]


def test_funnel_is_logged_with_a_plot(selected):
    art = selected["art"]
    metrics = [json.loads(line) for line in art.file("metrics.jsonl").read_text().splitlines()]
    scalars = next(m for m in metrics if "removed/format" in m)
    assert scalars["removed/format"] == 1 and scalars["removed/decontamination"] == 1
    assert any(m.get("_image") == "funnel" for m in metrics) and (art.path / "funnel.png").is_file()
    assert any(m.get("_table") == "funnel" for m in metrics)


def _select(tmp_path, recs, **cfg):
    src = write_jsonl(tmp_path / "executed.jsonl", recs)
    arts = run_recipe(tmp_path, {"execute": file_input(src), "select": {
        "uses": "select", "inputs": ["execute"], "with": {"skip_decontamination": True, **cfg}}},
        wandb="disabled")
    return [r["id"] for r in arts["select"].records()], arts["select"]


def test_selection_policies_and_seed(tmp_path):
    ins, raw = next(variants(1))
    recs = [executed(f"a/c0/i0/r{j}", ins, raw.replace("+ 0*0", f"+ {j}*0"), passed=j % 2 == 0) for j in range(8)]
    picks = {seed: _select(tmp_path / f"p{seed}", recs, seed=seed)[0] for seed in range(5)}
    assert all(len(p) == 1 and int(p[0][-1]) % 2 == 0 for p in picks.values())  # one, and a passing one
    assert len({p[0] for p in picks.values()}) > 1  # the seed decides which
    assert _select(tmp_path / "again", recs, seed=3)[0] == picks[3]
    failing = _select(tmp_path / "f", recs, selection="failing")[0]
    assert len(failing) == 1 and int(failing[0][-1]) % 2 == 1
    everything = _select(tmp_path / "r", recs, selection="random", exact_dedup=False, name_dedup=False,
                         minhash_threshold=None)[0]
    assert len(everything) == 8


def test_assertion_augmentation(tmp_path):
    recs = [executed(f"t{i}/c0/i0/r0", ins.replace("Write", "Implement"), raw)
            for i, (ins, raw) in enumerate(variants(12))]
    ids, art = _select(tmp_path, recs, augment_asserts=1.0)
    records = list(art.records())
    assert all(r["augmented"] for r in records)
    r = records[0]
    note = r["instruction"].split("\n\n", 1)[1]
    assert note.startswith("Your code should pass the following assertion") and note.endswith("```")
    lines = note.split("```python\n")[1].rstrip("`\n").splitlines()
    assert 1 <= len(lines) <= 5 and all(line in r["tests"] for line in lines)
    assert "Your code should pass" not in r["response"]
    half = list(_select(tmp_path / "half", recs, augment_asserts=0.5)[1].records())
    assert 0 < sum(r["augmented"] for r in half) < len(half)
