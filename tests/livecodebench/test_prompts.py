"""LiveCodeBench prompts (chat and base layouts) and code extraction."""

from __future__ import annotations

import pytest

from benchmarks.livecodebench import dataset, prompts
from tests.support.data import fetch_or_skip


@pytest.fixture(scope="module")
def problems(problems_file):
    return dataset.load(problems_file=problems_file, with_tests=False).problems


def test_chat_prompt_layout_with_and_without_starter_code(problems):
    stdin, functional = problems["atc_sum"], problems["lc_pairs"]
    system, user = prompts.chat_messages(stdin)
    assert system == {"role": "system", "content": prompts.SYSTEM_MESSAGE}
    assert user["content"] == (f"### Question:\n{stdin.question_content}\n\n### Format: {prompts.FORMAT_STDIN}\n"
                               f"```python\n# YOUR CODE HERE\n```\n\n### Answer: (use the provided format with "
                               f"backticks)\n\n")
    _, user = prompts.chat_messages(functional)
    starter = f"### Format: {prompts.FORMAT_WITH_STARTER}\n```python\n{functional.starter_code}\n```\n\n"
    assert starter in user["content"]
    p = prompts.build_prompt(functional, "instruct", None)
    assert p.prompt == prompts.chat_messages(functional) and p.stop == () and p.task_id == "lc_pairs"


def test_base_prompt_is_one_shot_from_livecodebench_examples_and_stops_at_headers(problems):
    fetch_or_skip("livecodebench_fewshot_func")
    examples = prompts.fewshot_examples()
    stdin, functional = problems["atc_sum"], problems["lc_pairs"]
    p = prompts.build_prompt(functional, "base")
    ex = examples["functional"][0]
    assert p.prompt == (f"### Question\n{ex['question']}\n\n### Starter Code\n{ex['sample_code']}\n\n### Answer\n\n"
                        f"{ex['answer']}\n\n### Question\n{functional.question_content}\n\n### Starter Code\n"
                        f"{functional.starter_code}\n\n### Answer\n\n")
    assert p.stop == ("###",)
    text = prompts.build_prompt(stdin, "base").prompt
    assert text.startswith(f"### Question\n{examples['stdin'][0]['question']}\n\n### Answer\n\n")
    assert "### Starter Code" not in text and text.endswith(f"{stdin.question_content}\n\n### Answer\n\n")


def test_chat_templates_render_the_system_turn_or_fold_it_into_the_user_turn(problems, tiny_model):
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(tiny_model)
    p = prompts.build_prompt(problems["atc_sum"], "instruct", tok)
    system = f"<|im_start|>system\n{prompts.SYSTEM_MESSAGE}<|im_end|>\n"
    assert p.prompt.startswith(system + "<|im_start|>user\n### Question:")
    assert p.prompt.endswith("<|im_start|>assistant\n")
    tok.chat_template = ("{% for m in messages %}{% if m['role'] == 'system' %}{{ raise_exception('no system role') }}"
                         "{% endif %}[{{ m['role'] }}] {{ m['content'] }}{% endfor %}[assistant] ")
    folded = prompts.build_prompt(problems["atc_sum"], "instruct", tok).prompt
    assert folded.startswith(f"[user] {prompts.SYSTEM_MESSAGE}\n\n### Question:") and folded.endswith("[assistant] ")


@pytest.mark.parametrize("text, style, code", [
    ("Here:\n```python\nprint(1)\n```\nand better:\n```python\nprint(2)\n```\nDone.", "instruct", "print(2)"),
    ("```\nx = 1\n```", "instruct", "x = 1"),
    ("Sure! print(1)", "instruct", ""),
    ("```python\nprint(1)\n```\n```python\nprint(2)", "instruct", "print(1)"),  # the last fence never closed
    ("def f():\n    return 1\n\n", "base", "def f():\n    return 1"),
    ("  ```python\n    print(3)\n  ```", "base", "    print(3)"),
])
def test_code_is_the_last_complete_fenced_block(text, style, code):
    assert prompts.extract_code(text, style) == code
