"""SFT datasets from any source, as the conversational prompt/completion records TRL trains on.

Sources: a jsonl(.gz) / json / parquet file, an artifact directory (its records.jsonl, else its one jsonl),
or a Hub dataset id (through `datasets`). Record formats, detected in this order unless `format` names one:
- instruction/response strings (the pipeline's SFT records, bigcode/self-oss-instruct-sc2-exec-filter-50k):
  a user turn and an assistant turn, rendered through the chat template;
- messages: a conversation whose last turn is the assistant's; loss on that last turn;
- prompt/completion: message lists (as above) or plain strings (pre-formatted text, trained as is).
Every record is checked for the fields its format needs; a bad one is named by file and line.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Iterator

from harness.errors import UserError

FORMATS = ("auto", "instruction", "messages", "prompt_completion")
ROLES = {"system", "user", "assistant"}
# In an artifact directory: the dataset unless data_file says otherwise, and files that never are one.
DEFAULT_FILE = "records.jsonl"
NOT_DATA = {"metrics.jsonl"}


@dataclass(frozen=True)
class SFTExamples:
    records: list[dict]  # {"prompt": ..., "completion": ...} for TRL; messages lists or strings
    responses: list[str]  # the text the loss must cover, per example (before EOS)
    where: list[str]  # "FILE:LINE" (or "SOURCE[i]") of each record, for error messages
    format: str  # the detected format
    conversational: bool  # False: plain prompt/completion strings, the chat template is not applied
    source: str


def data_file_in(directory: Path, name: str | None) -> Path:
    """The dataset file inside an artifact directory: `name` (with or without .jsonl), else records.jsonl
    (what stages write by default; the select stage's SFT records), else its only jsonl."""
    if name:
        for candidate in (directory / name, directory / f"{name}.jsonl"):
            if candidate.is_file():
                return candidate
        raise UserError(f"{directory}: no dataset file '{name}' (data_file)")
    if (directory / DEFAULT_FILE).is_file():
        return directory / DEFAULT_FILE
    found = sorted(p for p in directory.glob("*.jsonl") if p.name not in NOT_DATA)
    if len(found) != 1:
        names = ", ".join(p.name for p in found) or "none"
        raise UserError(f"{directory}: expected one .jsonl dataset file, found {names}; set data_file")
    return found[0]


def iter_source(source: str, split: str = "train", data_file: str | None = None) -> Iterator[tuple[str, Any]]:
    """(where, record) for every record of a file, artifact directory or Hub dataset."""
    path = Path(source).expanduser()
    if path.is_dir():
        path = data_file_in(path, data_file)
    if path.is_file():
        yield from _iter_file(path)
        return
    if path.suffix in (".jsonl", ".json", ".parquet", ".gz") or source.startswith((".", "/")):
        raise UserError(f"data: file not found: {source}")
    yield from _iter_hub(source, split)


def _iter_file(path: Path) -> Iterator[tuple[str, Any]]:
    from harness import data

    name = path.name.lower()
    if name.endswith(".parquet"):
        import pyarrow.parquet as pq

        for i, row in enumerate(pq.read_table(path).to_pylist()):
            yield f"{path}[{i}]", row
    elif name.endswith(".json"):
        rows = data.read_json(path)
        if not isinstance(rows, list):
            raise UserError(f"{path}: a .json dataset must hold a list of records")
        for i, row in enumerate(rows):
            yield f"{path}[{i}]", row
    else:
        for where, row, error in data.jsonl_lines(path):
            if error:
                raise UserError(f"{where}: invalid JSON ({error})")
            yield where, row


def _iter_hub(name: str, split: str) -> Iterator[tuple[str, Any]]:
    import datasets

    try:
        ds = datasets.load_dataset(name, split=split)
    except Exception as exc:  # datasets raises many kinds (missing repo, offline, bad split)
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise UserError(f"data: cannot load Hub dataset '{name}' split '{split}' ({first})") from None
    for i, row in enumerate(ds):
        yield f"{name}:{split}[{i}]", row


def _text(value: Any) -> bool:
    return isinstance(value, str) and bool(value.strip())


def _messages_problem(messages: Any) -> str | None:
    if not isinstance(messages, list) or not messages:
        return "is not a non-empty list of {role, content} messages"
    for k, m in enumerate(messages):
        if not isinstance(m, dict) or m.get("role") not in ROLES or not isinstance(m.get("content"), str):
            return f"message {k} is not a {{role: system|user|assistant, content: str}} message"
    return None


def detect_format(row: dict) -> str | None:
    if "instruction" in row and "response" in row:
        return "instruction"
    if "messages" in row:
        return "messages"
    if "prompt" in row and "completion" in row:
        return "prompt_completion"
    return None


def _convert(row: Any, fmt: str, where: str, fields: tuple[str, str]) -> tuple[dict, str, bool]:
    """One record -> (TRL prompt/completion record, response text, conversational)."""
    if not isinstance(row, dict):
        raise UserError(f"{where}: a record must be a JSON object, not {type(row).__name__}")
    have = ", ".join(sorted(row)) or "none"
    if fmt == "instruction":
        instruction_key, response_key = fields
        for key in (instruction_key, response_key):
            if key not in row:
                raise UserError(f"{where}: no '{key}' field (fields: {have})")
            if not _text(row[key]):
                raise UserError(f"{where}: '{key}' must be a non-empty string")
        response = row[response_key]
        return ({"prompt": [{"role": "user", "content": row[instruction_key]}],
                 "completion": [{"role": "assistant", "content": response}]}, response, True)
    if fmt == "messages":
        if "messages" not in row:
            raise UserError(f"{where}: no 'messages' field (fields: {have})")
        messages = row["messages"]
        problem = _messages_problem(messages)
        if problem:
            raise UserError(f"{where}: 'messages' {problem}")
        last = messages[-1]
        if last["role"] != "assistant" or not _text(last["content"]):
            raise UserError(f"{where}: 'messages' must end with a non-empty assistant turn to train on")
        if not any(m["role"] == "user" for m in messages[:-1]):
            raise UserError(f"{where}: 'messages' has no user turn before the assistant's")
        clean = [{"role": m["role"], "content": m["content"]} for m in messages]
        return {"prompt": clean[:-1], "completion": clean[-1:]}, last["content"], True
    for key in ("prompt", "completion"):
        if key not in row:
            raise UserError(f"{where}: no '{key}' field (fields: {have})")
    prompt, completion = row["prompt"], row["completion"]
    if isinstance(prompt, str) and isinstance(completion, str):
        if not _text(completion):
            raise UserError(f"{where}: 'completion' must be a non-empty string")
        return {"prompt": prompt, "completion": completion}, completion, False
    for key, value in (("prompt", prompt), ("completion", completion)):
        problem = _messages_problem(value)
        if problem:
            raise UserError(f"{where}: '{key}' must be a string or a message list; it {problem}")
    assert isinstance(prompt, list) and isinstance(completion, list)  # what _messages_problem accepts
    if len(completion) != 1 or completion[0]["role"] != "assistant" or not _text(completion[0]["content"]):
        raise UserError(f"{where}: 'completion' must be one non-empty assistant message")
    clean_prompt = [{"role": m["role"], "content": m["content"]} for m in prompt]
    response = completion[0]["content"]
    return {"prompt": clean_prompt, "completion": [{"role": "assistant", "content": response}]}, response, True


def normalize(rows: Iterable[tuple[str, Any]], source: str, fmt: str = "auto",
              instruction_field: str = "instruction", response_field: str = "response",
              limit: int | None = None) -> SFTExamples:
    """Check and convert records; `limit` keeps the first N (in source order)."""
    if fmt not in FORMATS:
        raise UserError(f"format: unknown format '{fmt}' (choose from {', '.join(FORMATS)})")
    records, responses, wheres = [], [], []
    chosen = fmt
    kinds: set[bool] = set()
    for where, row in rows:
        if limit is not None and len(records) >= limit:
            break
        if chosen == "auto":
            if isinstance(row, dict) and instruction_field in row and response_field in row:
                chosen = "instruction"
            else:
                chosen = detect_format(row) if isinstance(row, dict) else None
            if chosen is None:
                have = ", ".join(sorted(row)) if isinstance(row, dict) else type(row).__name__
                raise UserError(f"{where}: no SFT fields: need {instruction_field}+{response_field}, messages, "
                                f"or prompt+completion (fields: {have})")
        record, response, conversational = _convert(row, chosen, where, (instruction_field, response_field))
        kinds.add(conversational)
        if len(kinds) > 1:
            raise UserError(f"{where}: mixes plain-text and message-list prompt/completion records")
        records.append(record)
        responses.append(response)
        wheres.append(where)
    if not records:
        raise UserError(f"{source}: the dataset has no records")
    return SFTExamples(records, responses, wheres, chosen, kinds == {True}, source)


def load_examples(source: str, fmt: str = "auto", split: str = "train", data_file: str | None = None,
                  instruction_field: str = "instruction", response_field: str = "response",
                  limit: int | None = None) -> SFTExamples:
    return normalize(iter_source(source, split, data_file), source, fmt, instruction_field, response_field, limit)
