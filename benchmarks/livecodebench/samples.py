"""Read LiveCodeBench samples, failing on the first bad entry with its file and line.

Accepted: a jsonl file of {question_id, code | solution} (several lines per problem for n > 1);
a `sca generate` output folder (its samples.jsonl); or upstream lcb_runner's output JSON, a list of
{question_id, code_list}. Samples of problems outside the selected release or date window are
skipped and counted; a question_id that no selected file holds at all is an error.
"""

from __future__ import annotations

from pathlib import Path

from benchmarks.livecodebench.dataset import ProblemSet
from benchmarks.livecodebench.grade import Sample
from harness.errors import UserError


def _resolve(path: Path) -> Path:
    path = Path(path)
    if path.is_dir():
        if not (path / "samples.jsonl").is_file():
            raise UserError(f"--samples {path}: a folder must hold samples.jsonl (a `sca generate` output)")
        path = path / "samples.jsonl"
    if not path.exists():
        raise UserError(f"--samples {path}: no such file or folder")
    return path


def _rows(path: Path):
    return _from_upstream(path) if path.suffix == ".json" else _from_jsonl(path)


def question_ids(path: Path) -> set[str]:
    """The problems a samples file has samples for (read first, so only their tests are kept)."""
    return {qid for _, qid, _ in _rows(_resolve(path))}


def load(path: Path, problems: ProblemSet) -> tuple[list[Sample], int]:
    """(samples of selected problems with per-problem indices, how many were outside the selection)."""
    path = _resolve(path)
    rows = _rows(path)
    samples, skipped = [], 0
    counts: dict[str, int] = {}
    for where, qid, code in rows:
        if qid not in problems.known:
            raise UserError(f"{where}: unknown question_id {qid!r} for {problems.label}: samples made for "
                            f"another release or problems file?")
        if qid not in problems.problems:
            skipped += 1
            continue
        samples.append(Sample(qid, code, counts.get(qid, 0), where))
        counts[qid] = counts.get(qid, 0) + 1
    if not samples:
        window = {k: v for k, v in problems.window.items() if v}
        raise UserError(f"--samples {path}: no samples of the selected problems ({problems.label}"
                        + (f", {window}" if window else "") + f"; {skipped} outside it)")
    return samples, skipped


def _from_jsonl(path: Path):
    from harness.data import jsonl_lines

    for where, row, bad_json in jsonl_lines(path):
        if bad_json:
            raise UserError(f"{where}: not a JSON line ({bad_json})")
        if not isinstance(row, dict):
            raise UserError(f"{where}: expected a JSON object, got {type(row).__name__}")
        qid = row.get("question_id")
        if not isinstance(qid, str):
            raise UserError(f"{where}: missing string field 'question_id'")
        field = "code" if "code" in row else "solution" if "solution" in row else None
        if field is None:
            raise UserError(f"{where}: missing field 'code' or 'solution'")
        if not isinstance(row[field], str):
            raise UserError(f"{where}: field {field!r} must be a string (repeat question_id for several samples)")
        yield where, qid, row[field]


def _from_upstream(path: Path):
    from harness import data

    doc = data.read_json(path)
    if not isinstance(doc, list):
        raise UserError(f"{path}: expected lcb_runner's output, a JSON list of {{question_id, code_list}}")
    for i, entry in enumerate(doc):
        where = f"{path}: [{i}]"
        if not isinstance(entry, dict) or not isinstance(entry.get("question_id"), str):
            raise UserError(f"{where}: missing string field 'question_id'")
        codes = entry.get("code_list")
        if not isinstance(codes, list) or not all(isinstance(c, str) for c in codes):
            raise UserError(f"{where}: 'code_list' must be a list of strings")
        for j, code in enumerate(codes):
            yield f"{where}.code_list[{j}]", entry["question_id"], code
