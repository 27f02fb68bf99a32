"""EvoEval v0.1.0's seven sets as datasets of the EvalPlus grading path, read through the data layer.

- difficult, creative, subtle, combine, tool_use: EvoEval/N tasks whose test inputs are strings of Python
  arguments (`inputs`), evaluated as evoeval does (`eval(f"[{i}]")`) into one `base` suite; expected
  outputs come from running the canonical solution on them (ground truth, as EvalPlus does). creative's
  `outputs` field is not used: its 26 entries are lists of empty lists, fewer than the inputs, and
  evoeval's own evaluation ignores them too.
- verbose, concise: HumanEval rewrites (task ids HumanEval/N) with HumanEval+'s base and plus inputs.
Every set is graded with evoeval 0.1.0's own checker (its special oracles and comparison), under the
EvalPlus grader's limits, sandbox, verdict cache and timing flags. Its quirks are reproduced, as the
HumanEval+ grader reproduces evalplus 0.3.1's: in verbose and concise, its HumanEval/32 oracle calls
`_poly(*out, inp)`, unpacking the returned float, and so fails every solution, the canonical one included.
"""

from __future__ import annotations

import gzip
import hashlib
from functools import lru_cache
from pathlib import Path

from benchmarks.evalplus.dataset import Dataset
from harness.errors import UserError

VERSION = "v0.1.0"
SETS = ("difficult", "creative", "subtle", "combine", "tool_use", "verbose", "concise")
# The paper's EvoEval score is the mean pass@1 of these five (verbose and concise are not in it).
PAPER_SETS = ("difficult", "creative", "subtle", "combine", "tool_use")
REWRITES = ("verbose", "concise")  # HumanEval rewrites: base and plus suites


def data_name(set_name: str) -> str:
    return f"evoeval_{set_name}"


def checker_name(set_name: str) -> str:
    """The dataset name evoeval's checker expects (its oracles are chosen by substring of it)."""
    return f"EvoEval_{set_name}"


def resolve_sets(sets: list[str] | None, where: str = "--sets") -> tuple[str, ...]:
    """The selected sets in EvoEval's order (default: all seven); a wrong name fails with a did-you-mean."""
    if not sets:
        return SETS
    import difflib

    chosen = []
    for name in sets:
        name = name.strip().removeprefix("EvoEval_").removeprefix("evoeval_")
        if name not in SETS:
            close = difflib.get_close_matches(name, SETS, n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else f"; choose from {', '.join(SETS)}"
            raise UserError(f"{where}: unknown EvoEval set '{name}'{hint}")
        chosen.append(name)
    return tuple(s for s in SETS if s in chosen)


def load(set_name: str) -> Dataset:
    return _load(resolve_sets([set_name])[0])


@lru_cache(maxsize=8)
def _load(set_name: str) -> Dataset:
    from harness import data

    return from_file(set_name, data.fetch(data_name(set_name), VERSION))


def from_file(set_name: str, path: Path, version: str = VERSION) -> Dataset:
    """One set from an EvoEval release file (.jsonl.gz, or a plain .jsonl subset of one)."""
    from harness import data

    with gzip.open(path, "rb") if str(path).endswith(".gz") else open(path, "rb") as f:
        digest = hashlib.md5(f.read()).hexdigest()  # what evoeval calls the dataset's hash
    rewrite = set_name in REWRITES
    required = ("task_id", "prompt", "entry_point", "canonical_solution") + (
        ("base_input", "plus_input", "atol") if rewrite else ("inputs",))
    problems = {}
    for where, task, error in data.jsonl_lines(Path(path)):
        if error or not isinstance(task, dict):
            raise UserError(f"{where}: not a JSON object ({error or type(task).__name__})")
        missing = [key for key in required if key not in task]
        if missing:
            raise UserError(f"{where}: task {task.get('task_id', '?')}: missing key {missing[0]!r}")
        if not rewrite:
            task["base_input"] = _arguments(task["inputs"], f"{where}: task {task['task_id']}")
        if "helpers" in task:  # tool_use: the prompt is the helpers, a blank line, then the main problem
            if task["prompt"] != task["helpers"] + "\n" + task.get("main", ""):
                raise UserError(f"{where}: task {task['task_id']}: prompt is not helpers + main")
        problems[task["task_id"]] = task
    return Dataset(checker_name(set_name), version, None, Path(path), digest, problems,
                   suites=("base", "plus") if rewrite else ("base",), checker="evoeval", canonical_joiner="\n")


def _arguments(inputs: list, where: str) -> list[list]:
    """EvoEval's test inputs: each a string of call arguments, evaluated as evoeval does (trusted dataset text)."""
    if not isinstance(inputs, list) or not all(isinstance(i, str) for i in inputs):
        raise UserError(f"{where}: 'inputs' must be a list of argument strings")
    import warnings

    out = []
    with warnings.catch_warnings():  # the strings hold regex escapes such as "\d"
        warnings.simplefilter("ignore", SyntaxWarning)
        warnings.simplefilter("ignore", DeprecationWarning)
        for k, text in enumerate(inputs):
            try:
                out.append(eval(f"[{text}]", {"__builtins__": __builtins__}))  # noqa: S307 (dataset text, not samples)
            except Exception as exc:
                raise UserError(f"{where}: inputs[{k}] is not a Python argument list ({type(exc).__name__})") from None
    return out


def set_of(ds: Dataset) -> str:
    return ds.name.removeprefix("EvoEval_")
