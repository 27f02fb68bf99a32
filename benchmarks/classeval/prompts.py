"""ClassEval's holistic generation: the whole class from its skeleton, as the official inference code asks.

- instruct models: one user turn, "Please complete the class {class_name} in the following code." and the
  skeleton, rendered with the model's chat template (the official code does this for chat models such as
  DeepSeek-Coder-Instruct; for others it wraps the same instruction in an Alpaca template); no prefill.
- base models: the skeleton itself, completed until one of EvalPlus's direct-completion stop strings.
A completion becomes a solution as the official evaluation makes one: the code extracted from the output,
with the task's import statements in front.
"""

from __future__ import annotations

import re

from generation.prompts import CodegenPrompt, strip_bos
from harness.errors import UserError


def instruction(task) -> str:
    return f"Please complete the class {task.class_name} in the following code.\n{task.skeleton}"


def build_prompt(task, style: str, tokenizer=None) -> CodegenPrompt:
    from evalplus.provider.utility import EOS, extra_eos_for_direct_completion

    if style == "base":
        stop = tuple(EOS) + tuple(extra_eos_for_direct_completion("humaneval"))
        return CodegenPrompt(task.task_id, style, task.skeleton, stop, prefix=task.skeleton)
    if style != "instruct":
        raise UserError(f"--prompt-style: unknown style '{style}'; choose base or instruct")
    messages = [{"role": "user", "content": instruction(task)}]
    if tokenizer is None:  # a served model applies its own template
        return CodegenPrompt(task.task_id, style, messages, (), prefix="")
    if not getattr(tokenizer, "chat_template", None):
        raise UserError("--prompt-style instruct: the model's tokenizer has no chat template; use --prompt-style base")
    rendered = strip_bos(tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True), tokenizer)
    return CodegenPrompt(task.task_id, style, rendered, (), prefix="")


# The official extraction's patterns for a generic model, in its order (its ruby/scss/".py" patterns are
# left out: they only ever match by accident).
_FENCES = (re.compile(r"```python(.*?)```", re.S), re.compile(r"```python(.*)", re.S), re.compile(r"```(.*?)```", re.S))


def extract_code(text: str) -> str:
    """The first fenced block of the output; without one, the output from its first `class` line on,
    keeping import lines above it (the official code also drops every later line equal to a dropped one,
    blank lines inside the class included; that is not copied)."""
    for pattern in _FENCES:
        found = pattern.findall(text)
        if found:
            return found[0]
    lines = text.split("\n")
    start = next((i for i, line in enumerate(lines) if line.strip().startswith("class")), len(lines))
    kept = [line for line in lines[:start] if line.strip().startswith(("import", "from"))]
    return "\n".join(kept + lines[start:])


def solution(task, raw: str) -> str:
    """What is graded, before the test file: the import statements, then the extracted code."""
    return task.imports + "\n" + extract_code(raw)
