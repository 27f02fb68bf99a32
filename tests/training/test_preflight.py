"""Each check before the first step fails, in one line naming what is wrong, on a broken template or dataset."""

from __future__ import annotations

import json

import pytest

from harness.errors import UserError
from tests.training.data import records, write_jsonl
from training import preflight

SYSTEM = "{{- 'You are a coder.\\n\\n' }}"
USER = "{%- if m['role'] == 'user' %}{{- '### Instruction\\n' + m['content'] + '\\n\\n' }}{%- endif %}"
PROMPT = "{%- if add_generation_prompt %}{{- '### Response\\n' }}{%- endif %}"


def template(assistant: str, prompt: str = PROMPT) -> str:
    """A chat template whose assistant turn renders as `assistant` (Jinja, with the message as m)."""
    return (SYSTEM + "{%- for m in messages %}" + USER + "{%- if m['role'] == 'assistant' %}" + assistant
            + "{%- endif %}{%- endfor %}" + prompt)


@pytest.fixture
def small_data(tmp_path):
    return write_jsonl(tmp_path / "four.jsonl", records(4))


def broken(run_train, small_data, tmp_path, assistant: str, prompt: str = PROMPT) -> str:
    path = tmp_path / "broken.jinja"
    path.write_text(template(assistant, prompt))
    out = tmp_path / "out"
    with pytest.raises(UserError) as err:
        run_train(out=out, data=small_data, chat_template=str(path))
    assert "\n" not in str(err.value)
    assert not (out / "preflight.json").exists() and not list(out.glob("checkpoints/checkpoint-*")), \
        "a check failed after training had started"
    return str(err.value)


def test_a_good_template_passes_and_trains_exactly_the_response_and_its_eos(run_train, small_data, tmp_path):
    path = tmp_path / "good.jinja"
    path.write_text(template("{{- '### Response\\n' + m['content'] + eos_token + '\\n' }}"))
    summary, out, _ = run_train(data=small_data, chat_template=str(path))
    masks = json.loads((out / "preflight.json").read_text())["masks"]
    assert masks["examples"] == 4 and masks["end_tokens"] == ["<|im_end|>"]
    assert 0 < masks["trained_tokens"] < masks["total_tokens"]


def test_empty_loss_mask(run_train, small_data, tmp_path):
    # The assistant turn renders as nothing and so does the generation prompt: prompt and prompt+completion
    # are the same text, and TRL's mask covers no token at all.
    msg = broken(run_train, small_data, tmp_path, "", prompt="")
    assert "four.jsonl:1: the loss mask is empty" in msg and "#4147" in msg


def test_loss_mask_that_covers_more_than_the_response(run_train, small_data, tmp_path):
    # The generation prompt says "### Response" but the rendered turn says "### Answer": TRL's mask then
    # starts where the two renderings diverge, inside the prompt.
    msg = broken(run_train, small_data, tmp_path, "{{- '### Answer\\n' + m['content'] + eos_token }}")
    assert "starts before the response" in msg and "Answer" in msg


def test_loss_mask_that_runs_past_the_stop_token(run_train, small_data, tmp_path):
    msg = broken(run_train, small_data, tmp_path,
                 "{{- '### Response\\n' + m['content'] + eos_token + '\\n### Instruction\\n' }}")
    assert "past the stop token" in msg and "Instruction" in msg


def test_response_ended_by_a_token_generation_does_not_stop_on(run_train, small_data, tmp_path):
    # <|endoftext|> is the tiny model's pad token; its generation_config stops at <|im_end|> only.
    msg = broken(run_train, small_data, tmp_path, "{{- '### Response\\n' + m['content'] + '<|endoftext|>' }}")
    assert "'<|endoftext|>'" in msg and "never stop" in msg and "'<|im_end|>'" in msg and "#3299" in msg


def test_template_that_does_not_end_the_turn(run_train, small_data, tmp_path):
    # Conversational data gets no EOS from TRL: a template that forgets it leaves the model unable to stop.
    msg = broken(run_train, small_data, tmp_path, "{{- '### Response\\n' + m['content'] }}")
    assert "nothing follows the response" in msg


def test_missing_dataset_field_names_the_file_and_line(run_train, tmp_path):
    rows = records(3)
    del rows[1]["response"], rows[1]["completion"], rows[1]["messages"]
    with pytest.raises(UserError) as err:
        run_train(data=write_jsonl(tmp_path / "gap.jsonl", rows))
    assert str(err.value).startswith(f"{tmp_path / 'gap.jsonl'}:2: no 'response' field (fields: id, instruction,")


def test_dataset_without_any_sft_fields(run_train, tmp_path):
    # A plain `text` dataset: TRL would train on every token even with completion_only_loss.
    path = tmp_path / "text.jsonl"
    path.write_text(json.dumps({"text": "def f(): pass"}) + "\n")
    with pytest.raises(UserError, match=r"text.jsonl:1: no SFT fields: need instruction\+response"):
        run_train(data=path)


def test_over_length_examples_are_dropped_and_counted(run_train, tmp_path):
    rows = records(6)
    rows[2]["response"] = rows[2]["response"] + "\n" + "# padding line\n" * 60
    rows[4]["response"] = rows[4]["response"] + "\n" + "# padding line\n" * 80
    summary, out, reported = run_train(data=write_jsonl(tmp_path / "long.jsonl", rows), max_length=200)
    assert (summary["examples"], summary["dropped_over_length"], summary["trained_examples"]) == (6, 2, 4)
    dropped = [json.loads(line) for line in (out / "dropped.jsonl").read_text().splitlines()]
    assert [d["where"].rsplit(":", 1)[1] for d in dropped] == ["3", "5"] and all(d["tokens"] > 200 for d in dropped)
    assert any(r.get("data/dropped_over_length") == 2 for r in reported)


def test_all_examples_over_length(run_train, small_data):
    with pytest.raises(UserError, match=r"all 4 examples are longer than max_length 16 tokens"):
        run_train(data=small_data, max_length=16)


def test_effective_batch_that_the_world_cannot_make(run_train, small_data):
    with pytest.raises(UserError, match=r"effective_batch_size: 64 is not a multiple of per_device_batch_size 3"):
        run_train(data=small_data, effective_batch_size=64, per_device_batch_size=3)


def test_effective_batch_checked_against_the_trainer():
    assert preflight.gradient_accumulation(64, 1, 8) == 8
    preflight.check_effective_batch(4, 2, 8, 64)
    with pytest.raises(UserError, match=r"would use 4 x 2 x 4 .* = 32, not 64"):
        preflight.check_effective_batch(4, 2, 4, 64)


def test_half_precision_without_a_gpu(run_train, small_data):
    # TRL's SFTConfig defaults bf16=True, which fails on a CPU; asking for it explicitly is one clear line.
    with pytest.raises(UserError, match=r"precision: bf16 needs a GPU"):
        run_train(data=small_data, precision="bf16")
    assert preflight.resolve_precision("auto", cuda=False, bf16_supported=False) == "fp32"
    assert preflight.resolve_precision("auto", cuda=True, bf16_supported=True) == "bf16"


def test_adafactor_under_fsdp_is_refused(run_train, small_data, monkeypatch):
    monkeypatch.setenv("ACCELERATE_USE_FSDP", "true")
    with pytest.raises(UserError, match=r"adafactor's state cannot be saved under FSDP \(transformers #26776\)"):
        run_train(data=small_data)
