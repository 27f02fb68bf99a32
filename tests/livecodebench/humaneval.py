"""HumanEval+ tasks converted to LiveCodeBench problems (functional, and stdin), with their samples.

Functional: the task's function called through a `class Solution` method, its arguments as JSON lines.
Stdin: a driver reads the JSON lines from stdin and prints the result as JSON, compared as text.
Expected outputs come from evalplus's own trusted_exec on the canonical solution.

EvalPlus compares with Python's ==, where a tuple is not a list but True is 1; JSON (our rule) has it
the other way round. The converted code and the expected outputs therefore go through `evalplus_view`
(a tuple becomes {"tuple": [...]}, a bool its int, dict keys sorted): compared as JSON, those are equal
exactly when == says so. Where the conversion still cannot be exact, `inexact_reason` names why:
- find_zero: evalplus checks |poly(x)| <= atol with a special oracle, not the returned value;
- float outputs, stdin: the printed text is compared, not the number;
- time limits: evalplus's is per input, max(1 s, 4 x the canonical time); ours is one per problem, run
  here at 1 s, so a task whose canonical solution takes over 0.25 s on some input is inexact.
Float outputs, functional, use evalplus's tolerance (its atol, or the 1e-6 it enforces, and rtol 1e-7);
evalplus adds the two bounds where we take the larger, which no pr247 sample sits between.
"""

import json
import sys

SPECIAL_ORACLES = {"find_zero"}
EVALPLUS_RTOL = 1e-7  # np.testing.assert_allclose's default, which evalplus passes explicitly


# evalplus's per-input limit is max(1 s, 4 x the canonical solution's time); ours is one per problem,
# so conversions run with 1 s and a task whose canonical solution needs more than 0.25 s is inexact.
TIMEOUT_S = 1.0
GT_TIME_LIMIT_FACTOR = 4.0


def expected_outputs(task: dict, inputs: list) -> tuple[list, list[float]]:
    """The canonical solution's outputs and times, from evalplus's own trusted_exec."""
    from evalplus.gen.util import trusted_exec

    return trusted_exec(task["prompt"] + task["canonical_solution"], inputs, task["entry_point"], record_time=True)


def _has(value, kind) -> bool:
    if isinstance(value, kind):
        return True
    if isinstance(value, (list, tuple)):
        return any(_has(v, kind) for v in value)
    if isinstance(value, dict):
        return any(_has(v, kind) for v in value.values())
    return False


# Runs inside the sandbox with the converted solution, and here on the expected outputs.
VIEW = """
def evalplus_view(value):
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, tuple):
        return {"tuple": [evalplus_view(v) for v in value]}
    if isinstance(value, list):
        return [evalplus_view(v) for v in value]
    if isinstance(value, dict):
        return {"dict": sorted([[repr(k), evalplus_view(v)] for k, v in value.items()])}
    return value
"""
_ns: dict = {}
exec(VIEW, _ns)
evalplus_view = _ns["evalplus_view"]


def inexact_reason(task: dict, outputs: list, times: list[float], testtype: str) -> str | None:
    if task["entry_point"] in SPECIAL_ORACLES:
        return "special oracle"
    if GT_TIME_LIMIT_FACTOR * max(times, default=0.0) > TIMEOUT_S:
        return "evalplus time limit over 1 s"
    if testtype == "stdin" and any(_has(o, float) for o in outputs):
        return "float outputs"
    return None


def problem_row(task: dict, inputs: list, outputs: list, testtype: str) -> dict:
    """A code_generation_lite row; the first test is public, the rest private (plain JSON)."""
    entry = task["entry_point"]
    limit = sys.get_int_max_str_digits()
    sys.set_int_max_str_digits(0)  # a few plus outputs have integers of more than 4300 digits
    try:
        tests = [{"input": "\n".join(json.dumps(a) for a in args), "output": json.dumps(evalplus_view(out)),
                  "testtype": testtype} for args, out in zip(inputs, outputs)]
    finally:
        sys.set_int_max_str_digits(limit)
    floats = any(_has(o, float) for o in outputs)
    atol = task["atol"] or (1e-6 if floats else 0.0)  # evalplus enforces 1e-6 on float outputs
    metadata = {"tolerance": {"abs": atol, "rel": EVALPLUS_RTOL} if floats or task["atol"] else None}
    if testtype == "functional":
        metadata["func_name"] = entry
    return {"question_title": entry, "question_content": task["prompt"], "platform": "humaneval",
            "question_id": task["task_id"], "contest_id": "humaneval", "contest_date": "2021-07-07T00:00:00",
            "starter_code": f"class Solution:\n    def {entry}(self, *args):\n        " if testtype == "functional"
            else "", "difficulty": "easy", "public_test_cases": json.dumps(tests[:1]),
            "private_test_cases": json.dumps(tests[1:]), "metadata": json.dumps(metadata)}


def functional_code(solution: str, entry: str) -> str:
    return (f"{solution}\n\n{VIEW}\n\nclass Solution:\n    def {entry}(self, *args):\n"
            f"        return evalplus_view({entry}(*args))\n")


def stdin_code(solution: str, entry: str) -> str:
    return (f"{solution}\n\n{VIEW}\n\nif __name__ == \"__main__\":\n    import json as _json, sys as _sys\n"
            f"    _args = [_json.loads(line) for line in _sys.stdin.read().splitlines() if line.strip()]\n"
            f"    print(_json.dumps(evalplus_view({entry}(*_args))))\n")
