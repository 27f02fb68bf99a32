"""HumanEval+ converted to LiveCodeBench problems: the pr247 samples get EvalPlus's per-task verdicts.

The stored pr247 eval_results are EvalPlus's own verdicts for three models (164 tasks each). Converted
to functional problems (base tests: every task; base + plus tests: the tasks with small plus suites)
and to stdin problems (base tests), every task where the conversion is exact must get the stored
verdict; humaneval.py says where and why a conversion is not exact. Run with -s to see the counts.
"""

from __future__ import annotations

import json
from functools import lru_cache

import pytest

from benchmarks.livecodebench import dataset
from benchmarks.livecodebench.grade import Grader, Sample
from tests.livecodebench import humaneval as he
from tests.livecodebench.support import write_problems
from tests.support.data import fetch_or_skip, reference_or_skip

pytestmark = pytest.mark.slow

MODELS = ["meta-llama--Meta-Llama-3-8B-Instruct", "meta-llama--Meta-Llama-3-8B", "mistralai--Mistral-7B-Instruct-v0.2"]
PR247 = "evalplus-pr247/humaneval--{}_vllm_temp_0.0-sanitized_eval_results.json"
# Plus suites graded in full: at most this many inputs, canonical solution this fast over all of them
# (the others cost minutes of solution time, in EvalPlus as here).
SMALL_PLUS, QUICK_PLUS_S = 130, 0.2


@lru_cache(maxsize=1)
def _tasks():
    from benchmarks.evalplus import dataset as evalplus_dataset

    fetch_or_skip("humanevalplus", "v0.1.10")
    return evalplus_dataset.load("humaneval").problems


def _stored():
    """model -> task -> (base status, plus status), as EvalPlus recorded them."""
    out = {}
    for model in MODELS:
        doc = json.loads(reference_or_skip(PR247.format(model)).read_text())
        out[model] = {t: (rows[0]["base_status"], rows[0]["plus_status"], rows[0]["solution"])
                      for t, rows in doc["eval"].items()}
    return out


@pytest.mark.parametrize("testtype, suite", [("functional", "base"), ("stdin", "base"), ("functional", "plus")])
def test_converted_problems_get_evalplus_verdicts(testtype, suite, tmp_path):
    tasks, stored = _tasks(), _stored()
    chosen, rows, inexact = [], [], {}
    for tid, task in tasks.items():
        if suite == "plus" and len(task["plus_input"]) > SMALL_PLUS:
            continue
        inputs = task["base_input"] + (task["plus_input"] if suite == "plus" else [])
        outputs, times = he.expected_outputs(task, inputs)
        if suite == "plus" and sum(times) > QUICK_PLUS_S:
            continue
        reason = he.inexact_reason(task, outputs, times, testtype)
        if reason:
            inexact[tid] = reason
        chosen.append(tid)
        rows.append(he.problem_row(task, inputs, outputs, testtype))
    problems = dataset.load(problems_file=write_problems(tmp_path / "he.jsonl", rows))
    convert = he.functional_code if testtype == "functional" else he.stdin_code
    samples, want = [], []
    for model in MODELS:
        for tid in chosen:
            base, plus, solution = stored[model][tid]
            samples.append(Sample(tid, convert(solution, tasks[tid]["entry_point"]), len(samples), model))
            want.append(base == "pass" and (suite == "base" or plus == "pass"))
    grader = Grader(problems, timeout_s=he.TIMEOUT_S, use_cache=False, progress=False)
    graded = grader.grade(samples)

    differ = [(s.source, s.question_id, w, g.verdict, g.record["ours"].get("detail"))
              for s, w, g in zip(samples, want, graded) if (g.verdict == "pass") != w]
    unexplained = [d for d in differ if d[1] not in inexact]
    assert not unexplained, "\n".join(map(str, unexplained))
    exact = [s for s in samples if s.question_id not in inexact]
    print(f"\n{testtype}/{suite}: {len(chosen)} tasks x {len(MODELS)} models, {grader.stats['tests_run']} tests run; "
          f"{len(exact)}/{len(exact)} verdicts on exactly converted tasks equal EvalPlus's; inexact: "
          f"{ {t: r for t, r in sorted(inexact.items())} }; differing there: {[(d[1], d[0][:20]) for d in differ]}")
    assert len(exact) >= 0.9 * len(samples)
