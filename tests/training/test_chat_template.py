"""The paper's instruction template as a chat template: its exact layout, and codegen's prompts through it."""

from __future__ import annotations

import pytest
from transformers import AutoTokenizer

from harness.errors import UserError
from training.chat_template import PAPER_TEMPLATE, SYSTEM, resolve_template

PAIR = [{"role": "user", "content": "Write add(a, b)."}, {"role": "assistant", "content": "def add(a, b): ..."}]


@pytest.fixture
def tokenizer(tiny_model):
    tok = AutoTokenizer.from_pretrained(tiny_model)
    tok.chat_template = PAPER_TEMPLATE
    return tok


def test_layout_of_one_pair(tokenizer):
    text = tokenizer.apply_chat_template(PAIR, tokenize=False)
    assert text == (f"{SYSTEM}\n\n### Instruction\nWrite add(a, b).\n\n### Response\ndef add(a, b): ...<|im_end|>")
    prompt = tokenizer.apply_chat_template(PAIR[:1], tokenize=False, add_generation_prompt=True)
    assert text.startswith(prompt) and prompt.endswith("\n\n### Response\n")


def test_bos_comes_first_when_the_tokenizer_has_one(tokenizer):
    tokenizer.bos_token = "<|im_start|>"
    assert tokenizer.apply_chat_template(PAIR, tokenize=False).startswith("<|im_start|>" + SYSTEM)


def test_system_message_replaces_the_system_line_and_turns_are_separated(tokenizer):
    convo = [{"role": "system", "content": "Be terse."}, *PAIR, {"role": "user", "content": "And sub?"}]
    text = tokenizer.apply_chat_template(convo, tokenize=False, add_generation_prompt=True)
    assert text == ("Be terse.\n\n### Instruction\nWrite add(a, b).\n\n### Response\ndef add(a, b): ...<|im_end|>"
                    "\n\n### Instruction\nAnd sub?\n\n### Response\n")


def test_assistant_tokens_are_marked_for_trl(tokenizer):
    out = tokenizer.apply_chat_template(PAIR, tokenize=True, return_dict=True, return_assistant_tokens_mask=True)
    trained = [t for t, m in zip(out["input_ids"], out["assistant_masks"]) if m]
    assert tokenizer.decode(trained) == "def add(a, b): ...<|im_end|>"


def test_codegen_prompt_through_the_template(tokenizer):
    from generation.prompts import build_prompt

    task = {"task_id": "HumanEval/0", "prompt": "def f(x):\n    \"\"\"Return x.\"\"\"\n", "entry_point": "f"}
    prompt = build_prompt(task, "humaneval", "instruct", tokenizer).prompt
    assert isinstance(prompt, str)  # rendered through the template, not chat messages
    assert prompt.startswith(SYSTEM + "\n\n### Instruction\n")
    assert prompt.endswith("\n\n### Response\nBelow is a Python script with a self-contained function that "
                                  "solves the problem and passes corresponding tests:\n```python\n")


def test_keep_the_models_template_or_read_a_file(tiny_model, tmp_path):
    tok = AutoTokenizer.from_pretrained(tiny_model)
    assert resolve_template("model", tok) == tok.chat_template
    (tmp_path / "t.jinja").write_text("{{ messages[0]['content'] }}")
    assert resolve_template(str(tmp_path / "t.jinja"), tok) == "{{ messages[0]['content'] }}"
    tok.chat_template = None
    with pytest.raises(UserError, match="its tokenizer has none"):
        resolve_template("model", tok)
    with pytest.raises(UserError, match="neither 'paper', 'model' nor an existing .jinja file"):
        resolve_template("papr", tok)
