"""ClassEval (Du et al. 2023): 100 class-level tasks with unittest suites, read through the data layer.

Each task has a class skeleton (imports, class docstring, method signatures with docstrings), the test file
(one unittest.TestCase per method plus, for most tasks, one for the whole class), the canonical
`solution_code`, and `test_classes`: the test classes the official evaluation runs, in its order.

Two data quirks are corrected here, and the official rule's score is kept beside ours (see results.py):
- a test class name with stray whitespace (ClassEval_97's " Words2NumbersTestMain"): the official code's
  getattr fails, an error for every solution; the name is stripped;
- a listed test class with no test methods (ClassEval_69's TestPDFHandler, a fixture holder): the
  official code counts "0 tests run" as an error for every solution; it is not run, nor counted.
"""

from __future__ import annotations

import ast
import hashlib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from harness.errors import UserError

DATA_NAME = "classeval"
VERSION = "eaeac44"  # the ClassEval commit the data lock pins


@dataclass(frozen=True)
class Task:
    task_id: str
    class_name: str
    skeleton: str
    test: str  # the whole test file
    solution_code: str  # the canonical solution
    import_statement: tuple[str, ...]
    test_classes: tuple[str, ...]  # graded, in the official order
    method_tests: dict[str, str]  # method name -> its test class
    quirks: dict[str, str] = field(default_factory=dict)  # listed test class -> why it is handled differently

    @property
    def imports(self) -> str:
        return "\n".join(self.import_statement)

    def is_method_test(self, test_class: str) -> bool:
        return test_class in self.method_tests.values()


@dataclass
class ClassEval:
    path: Path
    hash: str  # md5 of the data file, as EvalPlus identifies its datasets
    tasks: dict[str, Task]

    @property
    def label(self) -> str:
        return f"ClassEval ({self.path.name})"

    @property
    def n_listed(self) -> int:
        """Test classes the official evaluation counts (quirks included): its method-level denominator."""
        return sum(len(t.test_classes) + sum(q == "no tests" for q in t.quirks.values()) for t in self.tasks.values())


def load(path: Path | None = None) -> ClassEval:
    from harness import data

    return _load(str(path or data.fetch(DATA_NAME, VERSION)))


@lru_cache(maxsize=4)
def _load(path: str) -> ClassEval:
    from harness import data

    raw = Path(path).read_bytes()
    doc = data.read_json(Path(path))
    if not isinstance(doc, list):
        raise UserError(f"{path}: expected a JSON list of ClassEval tasks")
    tasks = {}
    for i, row in enumerate(doc):
        where = f"{path}: task [{i}]"
        if not isinstance(row, dict):
            raise UserError(f"{where}: not a JSON object")
        missing = [k for k in ("task_id", "class_name", "skeleton", "test", "solution_code", "import_statement",
                               "test_classes", "methods_info") if k not in row]
        if missing:
            raise UserError(f"{where} ({row.get('task_id', '?')}): missing key {missing[0]!r}")
        tasks[row["task_id"]] = _task(row, f"{where} ({row['task_id']})")
    return ClassEval(Path(path), hashlib.md5(raw).hexdigest(), tasks)


def _task(row: dict, where: str) -> Task:
    try:
        tree = ast.parse(row["test"])
    except SyntaxError as exc:
        raise UserError(f"{where}: test code does not parse (line {exc.lineno})") from None
    defined = {n.name: n for n in tree.body if isinstance(n, ast.ClassDef)}
    graded, quirks = [], {}
    for listed in row["test_classes"]:
        name = listed.strip()
        if name not in defined:
            raise UserError(f"{where}: test class {listed!r} is not defined in its test code")
        if name != listed:
            quirks[listed] = "whitespace in name"
        if not _has_tests(defined[name], defined):
            quirks[listed] = "no tests"
            continue
        graded.append(name)
    methods = {m["method_name"]: m["test_class"].strip() for m in row["methods_info"]}
    return Task(row["task_id"], row["class_name"], row["skeleton"], row["test"], row["solution_code"],
                tuple(row["import_statement"]), tuple(graded), methods, quirks)


def _has_tests(node: ast.ClassDef, defined: dict) -> bool:
    """Whether unittest's loader finds a test method in the class (or in a base defined beside it)."""
    if any(isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef)) and f.name.startswith("test") for f in node.body):
        return True
    return any(isinstance(b, ast.Name) and b.id in defined and _has_tests(defined[b.id], defined) for b in node.bases)
