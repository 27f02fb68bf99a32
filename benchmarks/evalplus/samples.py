"""Read samples in any EvalPlus layout, failing on the first bad entry with its file and line.

Accepted: a jsonl file of {task_id, solution | completion}; a folder of TASK_ID/N.py (TASK_ID with
"/" written as "_"); or an evalplus *_eval_results.json, whose recorded dataset hash must match.
"""

from __future__ import annotations

import json
from pathlib import Path

from benchmarks.evalplus.dataset import Dataset, known_elsewhere
from benchmarks.evalplus.grade import Sample
from harness.errors import UserError


def load(path: Path, ds: Dataset, tasks: set[str] | None = None) -> list[Sample]:
    path = Path(path)
    if not path.exists():
        raise UserError(f"--samples {path}: no such file or folder")
    if path.is_dir():
        samples = _from_folder(path, ds)
    elif path.suffix == ".json":
        samples = _from_eval_results(path, ds)
    else:
        samples = _from_jsonl(path, ds)
    if tasks is not None:
        samples = [s for s in samples if s.task_id in tasks]
    if not samples:
        raise UserError(f"--samples {path}: no samples" + (" for the selected --tasks" if tasks else ""))
    counts: dict[str, int] = {}
    for s in samples:  # completion ids count per task in file order, like evalplus
        s.index = counts.get(s.task_id, 0)
        counts[s.task_id] = s.index + 1
    return samples


def _unknown(where: str, task_id: object, ds: Dataset) -> UserError:
    hint = ""
    if isinstance(task_id, str):
        elsewhere = known_elsewhere(task_id)
        if elsewhere:
            hint = f"; it exists in {', '.join(elsewhere)}: samples made for a different dataset or version?"
    return UserError(f"{where}: unknown task id {task_id!r} for {ds.label}{hint}")


def _from_jsonl(path: Path, ds: Dataset) -> list[Sample]:
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
        if task_id not in ds.problems:
            raise _unknown(where, task_id, ds)
        if "solution" in row:
            code = row["solution"]
            field = "solution"
        elif "completion" in row:
            code = row["completion"]
            field = "completion"
        else:
            raise UserError(f"{where}: missing field 'solution' or 'completion'")
        if not isinstance(code, str):
            raise UserError(f"{where}: field {field!r} must be a string (repeat task_id for several samples)")
        if field == "completion":  # evalplus: the prompt is the prefix of a completion
            code = ds.problems[task_id]["prompt"] + code
        out.append(Sample(task_id, code, 0, where))
    return out


def _from_folder(path: Path, ds: Dataset) -> list[Sample]:
    out = []
    for task_dir in sorted(p for p in path.iterdir() if p.is_dir()):
        task_id = task_dir.name.replace("_", "/")
        files = [p for p in task_dir.iterdir() if p.is_file() and p.suffix == ".py"]
        if not files:
            continue
        if task_id not in ds.problems:
            raise _unknown(str(task_dir), task_id, ds)
        for file in files:
            if not file.stem.isdigit():
                raise UserError(f"{file}: sample files must be named N.py (N = 0, 1, ...)")
        for file in sorted(files, key=lambda p: int(p.stem)):
            out.append(Sample(task_id, file.read_text(encoding="utf-8"), 0, str(file)))
    return out


def _from_eval_results(path: Path, ds: Dataset) -> list[Sample]:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise UserError(f"{path}:{exc.lineno}: not valid JSON ({exc.msg})") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("eval"), dict):
        raise UserError(f"{path}: expected an evalplus eval_results.json with an 'eval' object")
    if doc.get("hash") not in (None, ds.hash):
        raise UserError(f"{path}: 'hash' is {doc['hash']}, but {ds.label} is {ds.hash}: "
                        "samples made for a different dataset version (pass the matching --version)")
    out = []
    for task_id, entries in doc["eval"].items():
        if task_id not in ds.problems:
            raise _unknown(f"{path}: eval[{task_id!r}]", task_id, ds)
        for i, entry in enumerate(entries):
            where = f"{path}: eval[{task_id!r}][{i}]"
            if not isinstance(entry, dict) or not isinstance(entry.get("solution"), str):
                raise UserError(f"{where}: missing string field 'solution'")
            out.append(Sample(task_id, entry["solution"], 0, where))
    return out
