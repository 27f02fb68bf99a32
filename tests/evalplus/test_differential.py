"""Installed evalplus 0.3.1 and our grader, same hostile samples, same verdicts (task by task)."""

from __future__ import annotations

import json

import pytest

from benchmarks.evalplus import dataset, groundtruth, results
from benchmarks.evalplus.grade import Grader, Sample
from harness import data
from tests.evalplus.conftest import needs_data, write_subset
from tests.evalplus.reference import run_evalplus, statuses, timing_flags, unexplained

# Whole reference files: minutes each, and several times that on a slow or busy host.
pytestmark = [needs_data, pytest.mark.slow, pytest.mark.timeout(1800)]

HE_CASES = {
    "HumanEval/2": [
        None,  # canonical
        "def truncate_number(number):\n    return number\n",  # wrong
        "def truncate_number(number):\n    return number % 1.0 + 1e-9\n",  # inside atol
        "def truncate_number(number):\n    raise ValueError('boom')\n",  # crash
        "def truncate_number(number):\n    return (\n",  # syntax error
        "def other(number):\n    return number % 1.0\n",  # no entry point
        "def truncate_number(number):\n    import os\n    os._exit(0)\n",  # checker dies: evalplus says timeout
        "def truncate_number(number):\n    print('x' * 100000)\n    return float(input())\n",  # stdin closed
        "import sys\ndef truncate_number(number):\n    sys.exit(0)\n",
        "def truncate_number(number):\n    return round(number % 1.0, 3)\n",  # off by more than atol
    ],
    "HumanEval/55": [
        None,
        "def fib(n):\n    return n if n < 2 else fib(n - 1) + fib(n - 2)\n",  # slow on big n
        "def fib(n):\n    while True:\n        pass\n",  # loops: per-input time limit
    ],
    "HumanEval/39": [
        None,
        # swallows the alarm and keeps looping: only the whole-suite timeout stops it
        "def prime_fib(n):\n    while True:\n        try:\n            while True:\n                pass\n"
        "        except BaseException:\n            pass\n",
        # state leaking across calls: base (10 inputs) breaks after 5 calls, plus (2 inputs) does not
        "_calls = [0]\ndef prime_fib(n):\n    _calls[0] += 1\n    if _calls[0] > 5:\n        return 0\n"
        "    import math\n    def is_prime(p):\n        if p < 2:\n            return False\n"
        "        for k in range(2, int(math.isqrt(p)) + 1):\n            if p % k == 0:\n                return False\n"
        "        return True\n    f = [0, 1]\n    while True:\n        f.append(f[-1] + f[-2])\n"
        "        if is_prime(f[-1]):\n            n -= 1\n        if n == 0:\n            return f[-1]\n",
    ],
    "HumanEval/32": [None, "def find_zero(xs):\n    return 0.0\n"],
    "HumanEval/6": [
        None,
        # recursion as deep as the input is long: RecursionError must hit on the same input
        "def parse_nested_parens(paren_string):\n    def depth(s, i=0, cur=0, best=0):\n"
        "        if i == len(s):\n            return best\n        c = s[i]\n"
        "        if c == '(':\n            cur += 1\n        elif c == ')':\n            cur -= 1\n"
        "        return depth(s, i + 1, cur, max(best, cur))\n"
        "    return [depth(g) for g in paren_string.split(' ') if g]\n",
    ],
}

MBPP_CASES = {
    "Mbpp/2": [None, "def similar_elements(a, b):\n    return tuple(sorted(set(a) & set(b), reverse=True))\n",
               "def similar_elements(a, b):\n    return list(a)\n"],
    "Mbpp/124": [None, "import cmath\ndef angle_complex(a, b):\n    return cmath.phase(a + b) + 1e-3\n"],
    "Mbpp/581": [None, "def surface_Area(b, s):\n    return 2 * b * s + b ** 2\n"],
    "Mbpp/793": [None, "def last(arr, x):\n    return -1\n"],
    "Mbpp/566": [None, "def sum_digits(n):\n    return 0 if n == 0 else n % 10 + sum_digits(n // 10)\n"],
}


def _samples(problems: dict, cases: dict) -> list[Sample]:
    out = []
    for tid, codes in cases.items():
        for i, code in enumerate(codes):
            p = problems[tid]
            out.append(Sample(tid, code if code is not None else p["prompt"] + p["canonical_solution"], i))
    return out


@pytest.mark.parametrize("name,data_name,version,cases", [
    ("humaneval", "humanevalplus", "v0.1.10", HE_CASES),
    ("mbpp", "mbppplus", "v0.2.0", MBPP_CASES),
])
def test_same_verdicts_as_evalplus(name, data_name, version, cases, tmp_path, cache_env):
    subset = write_subset(data.fetch(data_name, version), list(cases), tmp_path / f"{name}-subset.jsonl")
    ds = dataset.from_file(name, subset)
    samples = _samples(ds.problems, cases)
    sample_file = tmp_path / "samples.jsonl"
    sample_file.write_text("".join(json.dumps({"task_id": s.task_id, "solution": s.solution}) + "\n" for s in samples))

    reference = run_evalplus(name, subset, sample_file, tmp_path / "evalplus-home", parallel=2)
    graded = Grader(ds, groundtruth.payloads(ds), use_cache=False).grade(samples)
    ours = results.eval_results(ds, graded, results.pass_at_k(ds, graded))

    # Identical, except where our grader flags its verdict as timing-sensitive (that suite only, the other
    # agreeing): evalplus ran beside us on the same host, so such a verdict follows the load of the moment.
    diffs, timing = unexplained(statuses(reference), statuses(ours), timing_flags(graded))
    assert not diffs, diffs
    moved = {key for key, _, _ in timing}
    failing = lambda doc: {(t, i, json.dumps(r["base_fail_tests"]), json.dumps(r["plus_fail_tests"]))  # noqa: E731
                           for t, rows in doc["eval"].items() for i, r in enumerate(rows) if (t, i) not in moved}
    assert failing(ours) == failing(reference)
    # the hostile cases really exercised what they are meant to
    kinds = {(g.sample.task_id, g.sample.index): g for g in graded}
    if name == "humaneval":
        assert kinds["HumanEval/2", 3].suites["base"]["error_type"] == "ValueError"
        assert kinds["HumanEval/2", 4].suites["base"]["error_type"] == "SyntaxError"
        assert kinds["HumanEval/2", 6].status("base") == "timeout"
        assert kinds["HumanEval/55", 2].suites["base"]["error_type"] == "TimeoutException"
        assert kinds["HumanEval/39", 1].status("base") == "timeout"
        # endless loops, whether they let the alarm stop them or not, are plain timeouts
        for key in (("HumanEval/55", 2), ("HumanEval/39", 1)):
            assert not kinds[key].suites["base"]["timing_sensitive"], kinds[key].suites["base"]["timing"]
        assert kinds["HumanEval/39", 2].suites["base"]["fail_index"] == 5  # the sixth call
