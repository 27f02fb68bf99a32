"""SFT datasets from files, artifacts and the Hub, in each record format, with bad records named by line."""

from __future__ import annotations

import json

import pytest

from harness.errors import UserError
from tests.training.data import records, write_jsonl
from training.sft_data import load_examples


def test_pipeline_records_use_instruction_and_response(data_file):
    ex = load_examples(str(data_file))
    first = records(1)[0]
    assert ex.format == "instruction" and ex.conversational and len(ex.records) == 32
    assert ex.records[0] == {"prompt": [{"role": "user", "content": first["instruction"]}],
                             "completion": [{"role": "assistant", "content": first["response"]}]}
    assert ex.responses[0] == first["response"] and ex.where[0] == f"{data_file}:1"


def test_messages_records_train_on_the_last_assistant_turn(tmp_path):
    rows = [{"messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "hi"},
                          {"role": "assistant", "content": "hello"}, {"role": "user", "content": "add?"},
                          {"role": "assistant", "content": "def add(a, b): return a + b"}]}]
    ex = load_examples(str(write_jsonl(tmp_path / "m.jsonl", rows)))
    assert ex.format == "messages" and ex.responses == ["def add(a, b): return a + b"]
    assert len(ex.records[0]["prompt"]) == 4 and ex.records[0]["completion"][0]["role"] == "assistant"


def test_prompt_completion_messages_and_plain_strings(tmp_path):
    conv = [{k: r[k] for k in ("prompt", "completion")} for r in records(2)]
    ex = load_examples(str(write_jsonl(tmp_path / "c.jsonl", conv)))
    assert ex.format == "prompt_completion" and ex.conversational
    plain = [{"prompt": "### Q\nadd\n### A\n", "completion": "def add(a, b): return a + b"}]
    ex = load_examples(str(write_jsonl(tmp_path / "p.jsonl", plain)))
    assert not ex.conversational and ex.records == plain


def test_format_can_be_forced_and_fields_renamed(tmp_path):
    rows = [{"question": "q1", "answer": "a1", "messages": []}]
    ex = load_examples(str(write_jsonl(tmp_path / "r.jsonl", rows)), instruction_field="question",
                       response_field="answer")
    assert ex.responses == ["a1"]
    with pytest.raises(UserError, match=r"r.jsonl:1: 'messages' is not a non-empty list"):
        load_examples(str(tmp_path / "r.jsonl"), fmt="messages")


def test_parquet_json_and_artifact_folders(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    rows = [{"instruction": r["instruction"], "response": r["response"]} for r in records(3)]
    pq.write_table(pa.Table.from_pylist(rows), tmp_path / "d.parquet")
    assert len(load_examples(str(tmp_path / "d.parquet")).records) == 3
    (tmp_path / "d.json").write_text(json.dumps(rows))
    assert load_examples(str(tmp_path / "d.json")).where[2] == f"{tmp_path / 'd.json'}[2]"
    art = tmp_path / "artifact"
    write_jsonl(art / "sft.jsonl", rows)
    (art / "metrics.jsonl").write_text('{"_step": 0}\n')
    assert len(load_examples(str(art)).records) == 3
    write_jsonl(art / "rejected.jsonl", rows)
    with pytest.raises(UserError, match=r"expected one .jsonl dataset file, found rejected.jsonl, sft.jsonl"):
        load_examples(str(art))
    assert len(load_examples(str(art), data_file="sft").records) == 3
    # The select stage writes records.jsonl (the SFT records) beside filtered.jsonl (what it dropped).
    write_jsonl(art / "records.jsonl", rows[:2])
    assert len(load_examples(str(art)).records) == 2


def test_max_examples_keeps_the_first_records(data_file):
    ex = load_examples(str(data_file), limit=5)
    assert [r["prompt"][0]["content"] for r in ex.records] == [r["instruction"] for r in records(5)]


@pytest.mark.parametrize("row, message", [
    ({"instruction": "do it", "response": "  "}, "'response' must be a non-empty string"),
    ({"messages": [{"role": "user", "content": "q"}]}, "must end with a non-empty assistant turn"),
    ({"messages": [{"role": "robot", "content": "q"}, {"role": "assistant", "content": "a"}]}, "message 0 is not"),
    ({"prompt": "q", "completion": [{"role": "assistant", "content": "a"}]}, "must be a string or a message list"),
])
def test_bad_records_are_one_line_naming_the_line(tmp_path, row, message):
    path = write_jsonl(tmp_path / "bad.jsonl", [row])
    with pytest.raises(UserError) as err:
        load_examples(str(path))
    assert str(err.value).startswith(f"{path}:1: ") and message in str(err.value)


def test_invalid_json_and_missing_files(tmp_path):
    (tmp_path / "x.jsonl").write_text('{"instruction": "a", "response": "b"}\n{oops\n')
    with pytest.raises(UserError, match=r"x.jsonl:2: invalid JSON"):
        load_examples(str(tmp_path / "x.jsonl"))
    with pytest.raises(UserError, match=r"data: file not found: .*nope.jsonl"):
        load_examples(str(tmp_path / "nope.jsonl"))


def test_hub_dataset_offline_is_one_line():
    # Tests never reach the Hub (HF_DATASETS_OFFLINE=1): the failure names the dataset and split.
    with pytest.raises(UserError) as err:
        load_examples("bigcode/self-oss-instruct-sc2-exec-filter-50k")
    msg = str(err.value)
    assert msg.startswith("data: cannot load Hub dataset 'bigcode/self-oss-instruct-sc2-exec-filter-50k' split "
                          "'train'") and "\n" not in msg
