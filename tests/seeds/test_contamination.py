"""Decontamination catches planted benchmark text (re-indented, inside real code) and passes clean code."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from benchmarks import contamination
from benchmarks.contamination import Contamination
from harness import data
from harness.errors import UserError
from tests.support.data import fetch_or_skip

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def index() -> Contamination:
    fetch_or_skip("humanevalplus")
    fetch_or_skip("mbppplus")
    return Contamination.from_benchmarks()


def _task(name: str, task_id: str) -> dict:
    return next(r for r in data.iter_jsonl(fetch_or_skip(name)) if r["task_id"] == task_id)


def test_planted_humaneval_canonical_solution_is_caught(index):
    task = _task("humanevalplus", "HumanEval/12")
    body = textwrap.indent(textwrap.dedent(task["canonical_solution"]), "        ")  # re-indented
    seed = f'def pick(strings):\n    """Pick one string."""\n    if strings:\n{body}\n    return None\n'
    assert index.find(seed) == "humaneval:HumanEval/12:canonical_solution"


def test_planted_humaneval_docstring_is_caught_even_rewrapped(index):
    task = _task("humanevalplus", "HumanEval/0")
    import ast

    doc = ast.get_docstring(ast.parse(task["prompt"]).body[-1])
    rewrapped = "\n    ".join(textwrap.wrap(doc, 50))
    seed = f'def close(values, limit):\n    """{rewrapped}\n    """\n    return any(values)\n'
    assert index.find(seed) == "humaneval:HumanEval/0:docstring"


def test_planted_mbpp_solution_and_assert_are_caught(index):
    task = _task("mbppplus", "Mbpp/2")
    seed = '"""Shared helpers."""\n' + task["canonical_solution"] + "\n\ndef other(x):\n    return x\n"
    assert index.find(seed) == "mbpp:Mbpp/2:canonical_solution"
    first_assert = next(l for l in task["assertion"].splitlines() if l.startswith("assert"))
    assert index.find(f"def t():\n    {first_assert}\n") == "mbpp:Mbpp/2:test:0"
    assert "mbpp:Mbpp/2:test:0" in index.find_all(seed + "\n" + first_assert)


def test_other_benchmarks_of_the_harness_are_covered(index):
    crux = next(data.iter_jsonl(fetch_or_skip("cruxeval")))
    assert index.find("x = 1\n" + crux["code"]) == f"cruxeval:{crux['id']}:code"
    row = data.read_json(fetch_or_skip("classeval"))[0]
    method = row["methods_info"][0]
    assert index.find(method["solution_code"]).startswith(f"classeval:{row['task_id']}:")
    evo = next(data.iter_jsonl(fetch_or_skip("evoeval_difficult")))
    assert index.find(evo["canonical_solution"]) == f"evoeval:difficult/{evo['task_id']}:canonical_solution"


def test_clean_code_and_generic_solutions_pass(index):
    clean = textwrap.dedent('''
        def celsius_to_kelvin(celsius):
            """Convert a temperature in degrees Celsius to kelvin."""
            return celsius + 273.15
    ''')
    assert index.find(clean) is None
    # The paper keeps HumanEval's trivial solutions such as `return x + y`.
    assert index.find("def add(x, y):\n    return x + y\n") is None


def test_whitespace_normalisation_can_be_turned_off():
    items = [("t:1:canonical_solution", "    total = 0\n    for v in values:\n        total += v\n")]
    loose, strict = Contamination(items), Contamination(items, normalize_whitespace=False)
    reindented = "def f(values):\n  total = 0\n  for v in values:\n    total += v\n  return total\n"
    assert loose.find(reindented) == "t:1:canonical_solution"
    assert strict.find(reindented) is None
    assert strict.find("def f(values):\n    total = 0\n    for v in values:\n        total += v\n") is not None


def test_short_strings_are_matched_too():
    index = Contamination([("a", "return max(l)"), ("b", "swap"), ("c", "x = sorted(v)")])
    assert index.find("def f(l):\n    return max(l)\n") == "a"
    assert index.find("def swapped(): pass") == "b"
    assert index.find("y = 1; x = sorted(v)[0]") == "c"
    assert index.find("def f(l):\n    return min(l)\n") is None


def test_register_adds_a_benchmark_to_the_defaults(monkeypatch):
    monkeypatch.setattr(contamination, "_PROVIDERS", dict(contamination._PROVIDERS))
    monkeypatch.setattr(contamination, "DEFAULT_BENCHMARKS", list(contamination.DEFAULT_BENCHMARKS))
    contamination.register("toybench", lambda: [("q1:solution", "return sum(i * i for i in range(n + 1))")])
    assert "toybench" in contamination.DEFAULT_BENCHMARKS
    index = Contamination.from_benchmarks(["toybench"])
    assert index.find("def sq(n):\n    return sum(i * i for i in range(n + 1))\n") == "toybench:q1:solution"


def test_unknown_benchmark_is_one_line_error():
    with pytest.raises(UserError, match="unknown benchmark 'humaneva'.*did you mean 'humaneval'"):
        Contamination.from_benchmarks(["humaneva"])


def test_import_reads_no_data():
    env = {**os.environ, "SCA_DATA_DIR": "/nonexistent/mirror", "PYTHONPATH": str(REPO)}
    out = subprocess.run([sys.executable, "-c", "import benchmarks.contamination as c; print(len(c.DEFAULT_BENCHMARKS))"],
                         env=env, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert int(out.stdout) >= 5
