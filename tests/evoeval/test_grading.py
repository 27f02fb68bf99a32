"""EvoEval through the EvalPlus grading path, in the real sandbox: evoeval's own checker decides, broken
solutions get the right verdicts, and tool_use's helpers are put back where a solution leaves them out."""

from __future__ import annotations

from dataclasses import replace

import pytest

from benchmarks.evalplus.grade import Grader, Sample
from benchmarks.evoeval import dataset
from benchmarks.evoeval.prompts import with_helpers
from tests.evoeval.conftest import needs_data, write_subset

pytestmark = needs_data

SUBSETS = {"creative": ["EvoEval/69"], "tool_use": ["EvoEval/0", "EvoEval/1"], "verbose": ["HumanEval/0", "HumanEval/32"]}

# Another valid answer than the canonical one: the last pair whose product is the magic number.
OTHER_PAIR = '''def magicTrick(cards, magicNumber):
    for i in reversed(range(len(cards))):
        for j in reversed(range(i + 1, len(cards))):
            if cards[i] * cards[j] == magicNumber:
                return (i, j)
    return "No magic today"
'''


@pytest.fixture(scope="module")
def subsets(tmp_path_factory):
    root = tmp_path_factory.mktemp("evoeval-subsets")
    return {name: dataset.from_file(name, write_subset(name, ids, root / f"{name}.jsonl")) for name, ids in SUBSETS.items()}


def _grade(ds, cases: dict[str, list[str]]) -> dict[tuple[str, int], dict]:
    samples = [Sample(tid, code, i) for tid, codes in cases.items() for i, code in enumerate(codes)]
    graded = Grader(ds, use_cache=False, timing_factor=2.0).grade(samples)
    return {(g.sample.task_id, g.sample.index): g.suites for g in graded}


def _canonical(ds, tid: str) -> str:
    return ds.canonical_code(ds.problems[tid])


def test_evoeval_checker_decides_special_oracles_and_types(subsets, cache_env):
    creative, tool_use = subsets["creative"], subsets["tool_use"]
    entry = tool_use.problems["EvoEval/0"]["entry_point"]
    floats = (_canonical(tool_use, "EvoEval/0")
              + f"\n_exact = {entry}\ndef {entry}(*args):\n    return [float(x) for x in _exact(*args)]\n")
    for ds, tid, code in ((creative, "EvoEval/69", creative.problems["EvoEval/69"]["prompt"].split("def ")[0] + OTHER_PAIR),
                          (tool_use, "EvoEval/0", floats)):
        ours = _grade(ds, {tid: [_canonical(ds, tid), code]})
        plain = _grade(replace(ds, checker="evalplus"), {tid: [code]})
        assert ours[tid, 0]["base"]["status"] == "pass"
        if tid == "EvoEval/69":  # evoeval's oracle accepts any valid pair; plain equality does not
            assert ours[tid, 1]["base"]["status"] == "pass" and plain[tid, 0]["base"]["status"] == "fail"
        else:  # evoeval compares types (a list of floats is not a list of ints); evalplus's == does not
            assert ours[tid, 1]["base"]["status"] == "fail" and plain[tid, 0]["base"]["status"] == "pass"


def test_broken_solutions_get_the_right_verdicts(subsets, cache_env):
    ds = subsets["tool_use"]
    tid = "EvoEval/1"
    p = ds.problems[tid]
    main_only = p["main"] + "\n" + p["canonical_solution"]  # calls the helper it was shown, without defining it
    cases = [
        _canonical(ds, tid),
        p["prompt"] + "\n    return ['000-000-0000']\n",  # a wrong return
        p["prompt"] + "\n    raise ValueError('boom')\n",  # an exception
        p["prompt"] + "\n    while True:\n        pass\n",  # an endless loop
        p["prompt"].replace("def retrieve_info_from_text", "def other_name") + "\n" + p["canonical_solution"],  # no entry point
        main_only,
        with_helpers(p, main_only),
    ]
    got = _grade(ds, {tid: cases})
    rec = {i: got[tid, i]["base"] for i in range(len(cases))}
    assert rec[0]["status"] == "pass" and not rec[0]["timing_sensitive"]
    assert (rec[1]["status"], rec[1]["error_type"], rec[1]["fail_index"]) == ("fail", "AssertionError", 0)
    assert (rec[2]["status"], rec[2]["error_type"]) == ("fail", "ValueError")
    assert (rec[3]["status"], rec[3]["error_type"]) == ("fail", "TimeoutException")
    assert not rec[3]["timing_sensitive"] and rec[3]["timing"]["recheck"]["finished"] is False  # an endless loop
    assert (rec[4]["status"], rec[4]["error_type"]) == ("fail", "KeyError")
    assert (rec[5]["status"], rec[5]["error_type"]) == ("fail", "NameError")
    assert rec[6]["status"] == "pass"


def test_humaneval_rewrites_have_base_and_plus_and_evoevals_find_zero_quirk(subsets, cache_env):
    ds = subsets["verbose"]
    assert ds.suites == ("base", "plus")
    got = _grade(ds, {"HumanEval/32": [_canonical(ds, "HumanEval/32")], "HumanEval/0": [_canonical(ds, "HumanEval/0")]})
    assert {s: r["status"] for s, r in got["HumanEval/0", 0].items()} == {"base": "pass", "plus": "pass"}
    # evoeval 0.1.0's oracle unpacks the float find_zero returns (`_poly(*out, inp)`): every solution fails
    for suite in ("base", "plus"):
        assert (got["HumanEval/32", 0][suite]["status"], got["HumanEval/32", 0][suite]["error_type"]) == ("fail", "TypeError")
