"""Benchmark code-generation prompts, as EvalPlus (and SelfCodeAlign's evaluation) build them.

- instruct models: the task inside an instruction, and an assistant turn prefilled with a response
  prefix that opens a ```python block; generation stops at the closing fence.
- base models: the task prompt itself, completed until a benchmark-specific stop string.
- instruct models served where no tokenizer is at hand (hosted APIs): chat messages without prefill.
"""

from __future__ import annotations

from dataclasses import dataclass

from generation.backends.base import canonical_json, sha256_text
from harness.errors import UserError

# EvalPlus' codegen wording (evalplus/codegen.py, run_codegen), which follows StarCoder2-Instruct/SelfCodeAlign.
INSTRUCTION_PREFIX = ("Please provide a self-contained Python script that solves the following problem "
                      "in a markdown code block:")
RESPONSE_PREFIX = ("Below is a Python script with a self-contained function that solves the problem and "
                   "passes corresponding tests:")
CLOSING_FENCE = "\n```\n"


@dataclass(frozen=True)
class CodegenPrompt:
    task_id: str
    style: str  # "base" | "instruct"
    prompt: str | list[dict]
    stop: tuple[str, ...]
    prefix: str  # prepended to a completion to make the raw solution (the task prompt, for base models)

    @property
    def sha256(self) -> str:
        return sha256_text(self.prompt if isinstance(self.prompt, str) else canonical_json(self.prompt))


def chat_template_sha256(tokenizer) -> str | None:
    template = getattr(tokenizer, "chat_template", None) if tokenizer is not None else None
    if not template:
        return None
    return sha256_text(template if isinstance(template, str) else canonical_json(template))


def task_text(task: dict) -> str:
    return task["prompt"].strip() + "\n"


def build_prompt(task: dict, benchmark: str, style: str, tokenizer=None) -> CodegenPrompt:
    """The prompt for one EvalPlus task. `tokenizer` renders instruct prompts; None means chat messages."""
    from evalplus.provider.utility import EOS, extra_eos_for_direct_completion, make_raw_chat_prompt

    text = task_text(task)
    if style == "base":
        stop = tuple(EOS) + tuple(extra_eos_for_direct_completion(benchmark))
        return CodegenPrompt(task["task_id"], style, text, stop, prefix=text)
    if style != "instruct":
        raise UserError(f"--prompt-style: unknown style '{style}'; choose base or instruct")
    if tokenizer is None:
        instruction = f"{INSTRUCTION_PREFIX}\n```\n{text.strip()}\n```\n"
        return CodegenPrompt(task["task_id"], style, [{"role": "user", "content": instruction}], (), prefix="")
    if not getattr(tokenizer, "chat_template", None):
        raise UserError("--prompt-style instruct: the model's tokenizer has no chat template; use --prompt-style base")
    rendered = strip_bos(make_raw_chat_prompt(text, INSTRUCTION_PREFIX, RESPONSE_PREFIX, tokenizer), tokenizer)
    return CodegenPrompt(task["task_id"], style, rendered, tuple(EOS) + (CLOSING_FENCE,), prefix="")


def strip_bos(text: str, tokenizer) -> str:
    """Drop a template's leading BOS when tokenizing adds one anyway (vLLM and servers tokenize text
    prompts with special tokens), so every backend sees exactly one BOS."""
    bos = tokenizer.bos_token
    if bos and text.startswith(bos) and tokenizer("x")["input_ids"][:1] == [tokenizer.bos_token_id]:
        return text[len(bos):]
    return text


@dataclass(frozen=True)
class FewShot:
    """SelfCodeAlign's few-shot file: a system prompt per stage and examples with every field."""

    systems: dict[str, str]  # "S->C", "C->I", "I->R", "S->I"
    examples: list[dict[str, str]]  # keys: Code, Property, Instruction, Response, Tests


FEWSHOT_FIELDS = ("Code", "Property", "Instruction", "Response", "Tests")


def parse_fewshot(text: str, where: str = "few-shot file") -> FewShot:
    systems: dict[str, str] = {}
    examples: list[dict[str, str]] = []
    block: list[str] | None = None
    for lineno, line in enumerate(text.splitlines(), 1):
        if line.startswith("### System: "):
            block = systems.setdefault(line.removeprefix("### System: ").strip(), [])
        elif line.startswith("### Example"):
            examples.append({})
            block = None
        elif examples and line.rstrip() in {f"[{f}]" for f in FEWSHOT_FIELDS}:
            block = examples[-1].setdefault(line.rstrip()[1:-1], [])
        elif block is not None:
            block.append(line)
        elif line.strip():
            raise UserError(f"{where}:{lineno}: text outside any '### System:' or '[Field]' section")
    for i, ex in enumerate(examples, 1):
        missing = [f for f in FEWSHOT_FIELDS if f not in ex]
        if missing:
            raise UserError(f"{where}: example {i} lacks {', '.join(missing)}")
    return FewShot({k: "\n".join(v).strip() for k, v in systems.items()},
                   [{k: "\n".join(v).strip() for k, v in ex.items()} for ex in examples])


def load_fewshot() -> FewShot:
    """The verified few-shot file SelfCodeAlign uses for S->C, C->I and I->R (through the data layer)."""
    from harness import data

    path = data.fetch("selfcodealign_fewshot")
    return parse_fewshot(data.read_text(path), where=str(path))
