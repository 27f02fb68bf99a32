"""Read ClassEval samples, failing on the first bad entry with its file and line.

Accepted:
- a jsonl of {task_id, solution} (the program before the test file, imports included: what
  `sca generate --benchmark classeval` writes), {task_id, completion} (appended to the task's skeleton), or
  {task_id, output} (raw model output: code extracted and imports put in front, as the official evaluation);
- the official model-output JSON: a list of tasks each with `task_id` and `predict` (raw outputs).
"""

from __future__ import annotations

import json
from pathlib import Path

from benchmarks.classeval.dataset import ClassEval
from benchmarks.classeval.grade import Sample
from harness.errors import UserError


def load(path: Path, data: ClassEval, tasks: set[str] | None = None) -> list[Sample]:
    path = Path(path)
    if path.is_dir() and (path / "samples.jsonl").is_file():  # a `sca generate` output folder
        path = path / "samples.jsonl"
    if not path.is_file():
        raise UserError(f"--samples {path}: no such file")
    samples = _from_official(path, data) if path.suffix == ".json" else _from_jsonl(path, data)
    if tasks is not None:
        samples = [s for s in samples if s.task_id in tasks]
    if not samples:
        raise UserError(f"--samples {path}: no samples" + (" for the selected --tasks" if tasks else ""))
    counts: dict[str, int] = {}
    for s in samples:
        s.index = counts.get(s.task_id, 0)
        counts[s.task_id] = s.index + 1
    return samples


def _unknown(where: str, task_id, data: ClassEval) -> UserError:
    import difflib

    close = difflib.get_close_matches(str(task_id), list(data.tasks), n=1)
    hint = f" (did you mean '{close[0]}'?)" if close else ""
    return UserError(f"{where}: unknown task id {task_id!r} for {data.label}{hint}")


def _from_jsonl(path: Path, data: ClassEval) -> list[Sample]:
    from benchmarks.classeval.prompts import solution
    from harness.data import jsonl_lines

    out = []
    for where, row, bad_json in jsonl_lines(path):
        if bad_json:
            raise UserError(f"{where}: not a JSON line ({bad_json})")
        if not isinstance(row, dict):
            raise UserError(f"{where}: expected a JSON object, got {type(row).__name__}")
        task_id = row.get("task_id")
        if task_id is None:
            raise UserError(f"{where}: missing field 'task_id'")
        if task_id not in data.tasks:
            raise _unknown(where, task_id, data)
        field = next((f for f in ("solution", "completion", "output") if f in row), None)
        if field is None:
            raise UserError(f"{where}: missing field 'solution', 'completion' or 'output'")
        text = row[field]
        if not isinstance(text, str):
            raise UserError(f"{where}: field {field!r} must be a string (repeat task_id for several samples)")
        task = data.tasks[task_id]
        code = text if field == "solution" else task.skeleton + text if field == "completion" else solution(task, text)
        out.append(Sample(task_id, code, 0, where))
    return out


def _from_official(path: Path, data: ClassEval) -> list[Sample]:
    from benchmarks.classeval.prompts import solution

    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise UserError(f"{path}:{getattr(exc, 'lineno', '?')}: not valid JSON") from None
    if not isinstance(doc, list):
        raise UserError(f"{path}: expected the official model-output JSON (a list of tasks with 'predict')")
    out = []
    for i, item in enumerate(doc):
        where = f"{path}: [{i}]"
        if not isinstance(item, dict) or not isinstance(item.get("predict"), list):
            raise UserError(f"{where}: expected an object with 'task_id' and a 'predict' list")
        if item.get("task_id") not in data.tasks:
            raise _unknown(where, item.get("task_id"), data)
        task = data.tasks[item["task_id"]]
        for k, text in enumerate(item["predict"]):
            if not isinstance(text, str):
                raise UserError(f"{where}: predict[{k}] must be a string")
            out.append(Sample(task.task_id, solution(task, text), 0, f"{where}.predict[{k}]"))
    return out
