"""LiveCodeBench code-generation prompts, laid out as lcb_runner builds them, and code extraction.

- chat models: a system message and one user turn: `### Question:`, `### Format:` with the starter
  code (functional) or the read-from-stdin sentence, `### Answer: (use the provided format with
  backticks)`; the code is the last fenced block of the answer.
- base models: one worked example from LiveCodeBench's few-shot files (the functional one when the
  problem has starter code, else the stdin one) in `### Question / ### Starter Code / ### Answer`
  form, then the problem; generation stops at `###`.
The wording below is the benchmark's protocol (kept verbatim so scores compare with upstream's).
"""

from __future__ import annotations

from functools import lru_cache

from benchmarks.livecodebench.dataset import Problem
from generation.prompts import CodegenPrompt, strip_bos
from harness.errors import UserError

SYSTEM_MESSAGE = ("You are an expert Python programmer. You will be given a question (problem specification) and "
                  "will generate a correct Python program that matches the specification and passes all tests. "
                  "You will NOT return anything except for the program.")
FORMAT_WITH_STARTER = ("You will use the following starter code to write the solution to the problem and enclose "
                       "your code within delimiters.")
FORMAT_STDIN = ("Read the inputs from stdin solve the problem and write the answer to stdout (do not directly test "
                "on the sample inputs). Enclose your code within delimiters as follows.")
ANSWER = "### Answer: (use the provided format with backticks)"
BASE_STOP = ("###",)


def user_message(problem: Problem) -> str:
    if problem.starter_code:
        fmt = f"### Format: {FORMAT_WITH_STARTER}\n```python\n{problem.starter_code}\n```\n\n"
    else:
        fmt = f"### Format: {FORMAT_STDIN}\n```python\n# YOUR CODE HERE\n```\n\n"
    return f"### Question:\n{problem.question_content}\n\n{fmt}{ANSWER}\n\n"


def chat_messages(problem: Problem) -> list[dict]:
    return [{"role": "system", "content": SYSTEM_MESSAGE}, {"role": "user", "content": user_message(problem)}]


@lru_cache(maxsize=1)
def fewshot_examples() -> dict[str, list[dict]]:
    """LiveCodeBench's example files, through the data lock: {"functional": [...], "stdin": [...]}."""
    from harness import data

    return {"functional": data.read_json(data.fetch("livecodebench_fewshot_func")),
            "stdin": data.read_json(data.fetch("livecodebench_fewshot_stdin"))}


def _block(question: str, starter: str | None, answer: str) -> str:
    text = f"### Question\n{question}\n\n"
    if starter is not None:
        text += f"### Starter Code\n{starter}\n\n"
    text += f"### Answer\n\n{answer}"
    return text + ("\n\n" if answer else "")


def base_prompt(problem: Problem) -> str:
    functional = bool(problem.starter_code)
    example = fewshot_examples()["functional" if functional else "stdin"][0]
    shot = _block(example["question"], example.get("sample_code", "") if functional else None, example["answer"])
    return shot + _block(problem.question_content, problem.starter_code if functional else None, "")


def render_chat(messages: list[dict], tokenizer) -> str:
    """The chat template's text for these messages; templates without a system role get it in the user turn."""
    try:
        text = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    except Exception:  # jinja raises TemplateError for "system role not supported" and the like
        merged = [{"role": "user", "content": messages[0]["content"] + "\n\n" + messages[1]["content"]}]
        text = tokenizer.apply_chat_template(merged, tokenize=False, add_generation_prompt=True)
    return strip_bos(text, tokenizer)


def build_prompt(problem: Problem, style: str, tokenizer=None) -> CodegenPrompt:
    """The prompt for one problem. `tokenizer` renders chat prompts; None means chat messages (served models)."""
    if style == "base":
        return CodegenPrompt(problem.question_id, style, base_prompt(problem), BASE_STOP, prefix="")
    if style != "instruct":
        raise UserError(f"--prompt-style: unknown style '{style}'; choose base or instruct")
    messages = chat_messages(problem)
    if tokenizer is None:
        return CodegenPrompt(problem.question_id, style, messages, (), prefix="")
    if not getattr(tokenizer, "chat_template", None):
        raise UserError("--prompt-style instruct: the model's tokenizer has no chat template; use --prompt-style base")
    return CodegenPrompt(problem.question_id, style, render_chat(messages, tokenizer), (), prefix="")


def fenced_blocks(text: str) -> list[str]:
    """The contents of every complete ``` fenced block, in order (an unclosed last fence is not a block)."""
    blocks, current = [], None
    for line in text.split("\n"):
        if line.strip().startswith("```"):
            if current is None:
                current = []
            else:
                blocks.append("\n".join(current))
                current = None
        elif current is not None:
            current.append(line)
    return blocks


def extract_code(text: str, style: str) -> str:
    """The program in a completion: the last fenced block; a base model's plain completion is the code itself."""
    blocks = fenced_blocks(text)
    if blocks:
        return blocks[-1]
    return text.strip() if style == "base" else ""
