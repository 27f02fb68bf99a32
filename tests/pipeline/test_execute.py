"""The execution filter on real programs in the real sandbox: the paper's program, the sentinel rule, batching."""

from __future__ import annotations

import json

import pytest

from generation.pipeline.execute import ExecuteConfig, Executor, extract, instrument, verdict_fields
from harness.sandbox import Policy
from tests.pipeline.conftest import file_input, raw_response, responses_records, run_recipe, write_jsonl

ADD = "def add(a, b):\n    return a + b"


def run(texts: list[str], **cfg) -> list[dict]:
    executor = Executor(ExecuteConfig(**{"timeout_s": 3, "memory_mb": 512, **cfg}))
    try:
        return [verdict_fields(r, executor.policy.hash()) for r in executor.run(
            [instrument(*extract(t))[0] for t in texts])]
    finally:
        executor.close()


def test_program_is_every_block_joined_and_main_cut_only_when_reading_input():
    text = ("```python\ndef f():\n    return input()\n\nif __name__ == \"__main__\":\n    print(f())\n```\n"
            "then\n```\nx = 1\nif __name__ == '__main__':\n    print(x)\n```\n</response>\n\n<tests>\n"
            "```python\nassert x == 1\n```")
    code, tests = extract(text)
    assert code == ("def f():\n    return input()\n\nx = 1\nif __name__ == '__main__':\n    print(x)\n\n"
                    "assert x == 1")
    assert tests == [(8, 8)] and code.splitlines()[7] == "assert x == 1"
    assert extract("no code at all") == ("", [])
    # Without the split marker there are no test blocks, so no assert can count.
    assert extract("```python\nassert True\n```")[1] == []


def test_in_chat_style_the_last_python_block_is_the_tests():
    text = ("```python\ndef f():\n    return 1\n```\nthen\n```python\nassert f() == 1\n```\n"
            "and\n```python\nassert f() != 2\n```")
    code, tests = extract(text, "chat")
    assert tests == [(6, 6)] and code.splitlines()[5] == "assert f() != 2"
    assert extract(text)[1] == []  # no tags: no tests in the paper's layout
    assert extract("```python\nassert True\n```", "chat")[1] == []


def test_asserts_are_counted_on_their_own_lines_and_only_in_test_blocks():
    code, tests = extract(raw_response("def f(x):\n    assert x > 0\n    return x",
                                       "assert f(1) == 1; assert f(2) == 2\nassert (f(3) ==\n        3)\n"
                                       "def t():\n    assert f('é') == 'é'  # unicode before the end"))
    instrumented, found = instrument(code, tests)
    assert found == 4  # the assert inside f() belongs to the response, not the tests
    lines = instrumented.splitlines()
    assert lines[1] == "    assert x > 0"
    assert lines[4] == "assert f(1) == 1; __sca_assert__(); assert f(2) == 2; __sca_assert__()"
    assert lines[6] == "        3); __sca_assert__()"
    assert lines[8] == "    assert f('é') == 'é'; __sca_assert__()  # unicode before the end"
    assert lines[-1] == "__sca_done__()" and len(lines) == len(code.splitlines()) + 1
    assert instrument("def broken(:", [(1, 1)]) == ("def broken(:", 0)


CASES = {
    # name: (raw response, paper's exit-0 verdict, ours, why ours rejects an exit-0 response)
    "passes": (raw_response(ADD, "assert add(1, 2) == 3\nassert add(-1, 1) == 0"), True, True, None),
    "wrong": (raw_response(ADD.replace("+", "-"), "assert add(1, 2) == 3"), False, False, None),
    "early sys.exit(0)": (raw_response("import sys\n" + ADD, "sys.exit(0)\nassert add(1, 2) == 4"), True, False,
                          "no_sentinel"),
    "bare exit()": (raw_response(ADD, "assert add(1, 2) == 3\nexit()\nassert add(1, 2) == 4"), True, False,
                    "no_sentinel"),
    "os._exit(0)": (raw_response("import os\n" + ADD, "os._exit(0)\nassert add(1, 2) == 4"), True, False,
                    "no_sentinel"),
    "tests never called": (raw_response(ADD, "def test_add():\n    assert add(1, 2) == 4"), True, False,
                           "no_asserts"),
    "tests called": (raw_response(ADD, "def test_add():\n    assert add(1, 2) == 3\n\ntest_add()"), True, True, None),
    "method tests called": (raw_response(ADD, "class T:\n    def test(self):\n        assert add(2, 2) == 4\n"
                                              "T().test()"), True, True, None),
    "unittest.main() always exits": (raw_response(ADD, "import unittest\nclass T(unittest.TestCase):\n"
                                                       "    def test(self):\n        assert add(1, 2) == 3\n"
                                                       "unittest.main()"), True, False, "no_sentinel"),
    "asserts only in the response": (raw_response("def f():\n    assert 1 == 1\n    return 1\nf()",
                                                  "print(f())"), True, False, "no_asserts"),
    "no code blocks": ("I cannot write code.", True, False, "no_asserts"),
    "syntax error": (raw_response("def add(a, b)\n    return a", "assert add(1, 2)"), False, False, None),
    "main guard runs as a script": (raw_response(ADD, "if __name__ == '__main__':\n    assert add(1, 1) == 2"),
                                    True, True, None),
    "reads stdin (empty)": (raw_response("x = input()", "assert x == ''"), False, False, None),
}


@pytest.mark.parametrize("name", list(CASES))
def test_sentinel_rule_against_the_papers_exit_code_rule(name, verdicts_by_case):
    _, exit0, passed, rejected = CASES[name]
    v = verdicts_by_case[name]
    assert (v["exit0"], v["passed"], v["rejected"]) == (exit0, passed, rejected), v


@pytest.fixture(scope="module")
def verdicts_by_case():
    return dict(zip(CASES, run([c[0] for c in CASES.values()])))


RESOURCE = {
    "timeout": raw_response("while True:\n    pass", "assert True"),
    "memory": raw_response("x = bytearray(1 << 30)", "assert x"),
    "output flood": raw_response("import sys\nsys.stdout.write('x' * (2 << 20))", "assert True"),
    "killed by a signal": raw_response("import os, signal\nos.kill(os.getpid(), signal.SIGKILL)", "assert True"),
    "threads": raw_response("import threading\nout = []\nt = threading.Thread(target=lambda: out.append(1))\n"
                            "t.start(); t.join()", "assert out == [1]"),
    "writes a file": raw_response("open('f.txt', 'w').write('1')", "assert open('f.txt').read() == '1'"),
}


def test_batched_children_give_the_same_verdicts_as_one_program_each():
    texts = [c[0] for c in CASES.values()] + list(RESOURCE.values())
    single = run(texts, batch_size=1, timeout_s=2, memory_mb=256)
    batched = run(texts, batch_size=7, timeout_s=2, memory_mb=256)
    keys = ("status", "exit_code", "error_type", "asserts_run", "error", "exit0", "passed", "rejected", "policy")
    assert [{k: v[k] for k in keys} for v in batched] == [{k: v[k] for k in keys} for v in single]
    by_name = dict(zip(list(CASES) + list(RESOURCE), batched))
    assert by_name["timeout"]["status"] == "timeout" and by_name["timeout"]["executor"] == "single"
    assert by_name["memory"]["status"] == "memory"
    assert by_name["output flood"]["status"] == "output_limit"
    assert by_name["killed by a signal"]["status"] == "killed"
    assert by_name["threads"]["passed"] and by_name["writes a file"]["passed"]
    assert sum(v["executor"] == "batch" for v in batched) >= len(CASES)  # the common verdicts stay batched
    policy = Policy(timeout_s=2.0, memory_mb=256).hash()
    assert {v["policy"] for v in batched} == {policy}


def test_nothing_carries_over_between_batched_responses():
    leaker = raw_response(
        "import builtins, os, subprocess, sys\nbuiltins.leaked = 1\nopen('left.txt', 'w').write('x')\n"
        "open('/dev/shm/left', 'w').write('x')\nos.environ['LEAK'] = '1'\n"
        "subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'], start_new_session=True)",
        "assert True")
    checker = raw_response(
        "import builtins, os\nothers = [p for p in os.listdir('/proc') if p.isdigit() and int(p) not in "
        "(1, os.getpid(), os.getppid())]",
        "assert not hasattr(builtins, 'leaked')\nassert not os.path.exists('left.txt')\n"
        "assert not os.listdir('/dev/shm')\nassert 'LEAK' not in os.environ\nassert others == [], others")
    executor = Executor(ExecuteConfig(batch_size=8, timeout_s=5))
    try:
        results = executor.run([instrument(*extract(t))[0] for t in [leaker, checker, checker]])
    finally:
        executor.close()
    assert [r["status"] for r in results] == ["pass", "pass", "pass"], results
    assert results[1]["asserts_run"] == 5
    # The leftover process ended the first batch; the checks ran in a fresh program.
    assert executor.stats["batch_programs"] == 2


def test_execute_stage_counts_logs_and_plots(tmp_path):
    texts = [c[0] for c in CASES.values()]
    src = write_jsonl(tmp_path / "responses.jsonl", responses_records(texts))
    arts = run_recipe(tmp_path, {"responses": file_input(src),
                                 "execute": {"uses": "execute", "inputs": ["responses"],
                                             "with": {"timeout_s": 3, "memory_mb": 512, "shards": 3}}})
    art = arts["execute"]
    records = list(art.records())
    assert [r["id"] for r in records] == [r["id"] for r in responses_records(texts)]
    want_passed = sum(c[2] for c in CASES.values())
    want_exit0 = sum(c[1] for c in CASES.values())
    assert art.manifest["counts"] == {"records": len(texts), "passed": want_passed, "exit0": want_exit0,
                                      "sentinel_rejected": want_exit0 - want_passed}
    assert all(r["verdict"]["policy"] == Policy(timeout_s=3.0, memory_mb=512).hash() for r in records)
    assert (art.path / "pass_rates.png").stat().st_size > 1000
    metrics = [json.loads(line) for line in art.file("metrics.jsonl").read_text().splitlines()]
    scalars = next(m for m in metrics if "sentinel_rule_rejected" in m)
    assert scalars["sentinel_rule_rejected"] == want_exit0 - want_passed
    assert scalars["rejected_no_sentinel"] == sum(c[3] == "no_sentinel" for c in CASES.values())
    assert any(m.get("_image") == "pass_rates" for m in metrics)

    from harness.wandb_log import summarize

    runs = {s["name"]: s for s in map(summarize, (tmp_path / "runs" / "wandb").rglob("*.wandb"))}
    history = runs["pipeline-test/execute"]["history"]
    assert any(row.get("passed") == want_passed for row in history)
    assert any("verdicts/_type" in row for row in history)
