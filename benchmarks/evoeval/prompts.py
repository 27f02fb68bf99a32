"""EvoEval prompts and solutions: EvalPlus's codegen prompts on each task's `prompt`, and tool_use's helpers.

Prompts are built exactly as for HumanEval+ (generation/prompts.py: the instruction and prefilled response
for instruct models, the prompt itself with HumanEval's stop strings for base models); EvoEval's tasks are
HumanEval-shaped. A tool_use prompt is its `helpers`, a blank line and its `main` problem: an instruct
model often answers with the main function alone, calling helpers it was shown. As evoeval's own sanitizer
keeps the prompt's preamble in front of the extracted function, a solution that leaves a helper undefined
gets the task's helpers put back in front of it; one that defines them all is left as it is.
"""

from __future__ import annotations

import ast
import warnings

# EvoEval's tasks are HumanEval rewrites and evolutions: HumanEval's direct-completion stop strings fit.
EVALPLUS_BENCHMARK = "humaneval"


def build_prompt(task: dict, key: str, style: str, tokenizer=None):
    """The generation.prompts.CodegenPrompt of one task, under `key` (the set-qualified task id)."""
    from generation.prompts import build_prompt as evalplus_prompt

    return evalplus_prompt({**task, "task_id": key}, EVALPLUS_BENCHMARK, style, tokenizer)


def with_helpers(problem: dict, solution: str) -> str:
    """tool_use: the task's helpers in front of a solution that does not define every one of them."""
    helpers = problem.get("helpers")
    if not helpers:
        return solution
    needed = _defined(helpers)
    return solution if needed <= _defined(solution) else f"{helpers}\n\n{solution}"


def finish(problem: dict, raw: str) -> str:
    """A raw solution (prompt prefix + completion) as graded: evalplus codegen's sanitizing, then helpers."""
    from evalplus.sanitize import sanitize

    return with_helpers(problem, sanitize(raw, entrypoint=problem["entry_point"]))


def sanitize_samples(ds, samples: list) -> list:
    """`--sanitize` for EvoEval: evalplus's sanitizer, with tool_use's helpers kept available."""
    from dataclasses import replace

    return [replace(s, solution=finish(ds.problems[s.task_id], s.solution)) for s in samples]


def _defined(code: str) -> set[str]:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tree = ast.parse(code)
    except SyntaxError:
        return set()
    return {n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))}
