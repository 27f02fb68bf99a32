"""Read EvoEval samples for one or several sets, failing on the first bad entry with its file and line.

Accepted:
- a jsonl of {set, task_id, solution | completion} (what `sca generate --benchmark evoeval` writes), where a
  row may instead name its set in the task id ("difficult/EvoEval/0");
- with exactly one set selected, any EvalPlus layout of that set alone (EvoEval's own: a jsonl of
  {task_id, solution}, a TASK_ID/N.py folder, an eval_results.json);
- a folder holding one entry per set, named `<set>` or `EvoEval_<set>` (a folder or a .jsonl), in any of
  those layouts (EvoEval's released samples unpack this way).
"""

from __future__ import annotations

from pathlib import Path

from benchmarks.evalplus.dataset import Dataset
from benchmarks.evalplus.grade import Sample
from benchmarks.evoeval.dataset import SETS
from harness.errors import UserError


def load(path: Path, datasets: dict[str, Dataset], tasks: set[str] | None = None) -> dict[str, list[Sample]]:
    """set -> samples of that set (task ids as the set names them), for the selected sets that have any."""
    from benchmarks.evalplus import samples as evalplus_samples

    path = Path(path)
    if not path.exists():
        raise UserError(f"--samples {path}: no such file or folder")
    per_set = _per_set_entries(path) if path.is_dir() else {}
    if per_set:
        out = {}
        for name, entry in per_set.items():
            if name in datasets:
                chosen = {t.split("/", 1)[1] for t in tasks if t.startswith(name + "/")} if tasks else None
                if chosen is None or chosen:
                    out[name] = evalplus_samples.load(entry, datasets[name], chosen)
    elif path.is_file() and path.suffix == ".jsonl" and _names_sets(path):
        out = _from_jsonl(path, datasets, tasks)
    elif len(datasets) == 1:
        (name, ds), = datasets.items()
        chosen = {t.removeprefix(name + "/") for t in tasks} if tasks else None
        out = {name: evalplus_samples.load(path, ds, chosen)}
    else:
        raise UserError(f"--samples {path}: rows name no EvoEval set: give each a 'set' field (or a task id "
                        f"like 'difficult/EvoEval/0'), or select one set with --sets")
    out = {name: rows for name, rows in out.items() if rows}
    if not out:
        raise UserError(f"--samples {path}: no samples for the selected sets ({', '.join(datasets)})")
    return {name: out[name] for name in datasets if name in out}


def _per_set_entries(folder: Path) -> dict[str, Path]:
    found = {}
    for name in SETS:
        for candidate in (f"EvoEval_{name}", name):
            for entry in (folder / candidate, folder / f"{candidate}.jsonl"):
                if entry.exists() and name not in found:
                    found[name] = entry
    return found


def _names_sets(path: Path) -> bool:
    """Whether the file's first row names its set (a 'set' field or a set-prefixed task id)."""
    from harness.data import jsonl_lines

    for _, row, error in jsonl_lines(path):
        if error or not isinstance(row, dict):
            return False
        task_id = row.get("task_id")
        return "set" in row or (isinstance(task_id, str) and task_id.split("/", 1)[0] in SETS)
    return False


def _from_jsonl(path: Path, datasets: dict[str, Dataset], tasks: set[str] | None) -> dict[str, list[Sample]]:
    from harness.data import jsonl_lines

    out: dict[str, list[Sample]] = {}
    counts: dict[tuple[str, str], int] = {}
    for where, row, bad_json in jsonl_lines(path):
        if bad_json:
            raise UserError(f"{where}: not a JSON line ({bad_json})")
        if not isinstance(row, dict):
            raise UserError(f"{where}: expected a JSON object, got {type(row).__name__}")
        task_id = row.get("task_id")
        if not isinstance(task_id, str):
            raise UserError(f"{where}: missing string field 'task_id'")
        name = row.get("set")
        if name is None:
            name, _, task_id = task_id.partition("/")
        if name not in SETS:
            raise UserError(f"{where}: unknown EvoEval set {name!r}; choose from {', '.join(SETS)}")
        if name not in datasets or (tasks and f"{name}/{task_id}" not in tasks):
            continue
        ds = datasets[name]
        if task_id not in ds.problems:
            raise UserError(f"{where}: unknown task id {task_id!r} for EvoEval {name}")
        field = "solution" if "solution" in row else "completion" if "completion" in row else None
        if field is None:
            raise UserError(f"{where}: missing field 'solution' or 'completion'")
        code = row[field]
        if not isinstance(code, str):
            raise UserError(f"{where}: field {field!r} must be a string (repeat the row for several samples)")
        if field == "completion":  # as evalplus: the prompt is the prefix of a completion
            code = ds.problems[task_id]["prompt"] + code
        index = counts.get((name, task_id), 0)
        counts[(name, task_id)] = index + 1
        out.setdefault(name, []).append(Sample(task_id, code, index, where))
    return out
