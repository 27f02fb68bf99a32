"""The stage registry: a stage is a function (config, input artifacts, context) -> one output artifact."""

from __future__ import annotations

import difflib
import importlib
from dataclasses import dataclass
from typing import Callable

from pydantic import BaseModel

from harness.errors import UserError

# Registered names -> "module:attribute". Imported only when a recipe uses them.
BUILTIN_STAGES: dict[str, str] = {
    "tiny_model": "training.tiny_model:tiny_model_stage",
    "generate": "generation.codegen:generate_stage",
    "evaluate": "benchmarks.evalplus.evaluate:evaluate_stage",
    # SelfCodeAlign's method: model, seeds, S->C, C->I (or S->I), I->R, execution, selection, SFT
    "gguf_model": "training.gguf_model:gguf_model_stage",
    "gguf_export": "training.gguf_export:gguf_export_stage",
    "seeds": "generation.seeds:seeds_stage",
    "concepts": "generation.pipeline.concepts:concepts_stage",
    "instructions": "generation.pipeline.instructions:instructions_stage",
    "snippet_instructions": "generation.pipeline.instructions:snippet_instructions_stage",
    "responses": "generation.pipeline.responses:responses_stage",
    "execute": "generation.pipeline.execute:execute_stage",
    "select": "generation.pipeline.select:select_stage",
    "sft": "training.sft:sft_stage",
    # other benchmarks, and reports over evaluate artifacts
    "livecodebench_evaluate": "benchmarks.livecodebench.evaluate:evaluate_stage",
    "evoeval_evaluate": "benchmarks.evoeval.evaluate:evaluate_stage",
    "classeval_evaluate": "benchmarks.classeval.evaluate:evaluate_stage",
    "leaderboard": "harness.report.leaderboard:leaderboard_stage",
    "regress": "harness.report.regress:regress_stage",
}


@dataclass(frozen=True)
class Stage:
    name: str
    fn: Callable
    config_model: type[BaseModel]
    # Bump when a stage's code changes its output, so old artifacts stop matching.
    version: int | str = 1


def stage(name: str, config: type[BaseModel], version: int | str = 1) -> Callable[[Callable], Stage]:
    """Decorator: `@stage("toy.square", SquareConfig)` turns fn(cfg, inputs, ctx) into a Stage."""

    def wrap(fn: Callable) -> Stage:
        return Stage(name=name, fn=fn, config_model=config, version=version)

    return wrap


def resolve_stage(uses: str, where: str) -> Stage:
    target = BUILTIN_STAGES.get(uses, uses)
    if ":" not in target:
        close = difflib.get_close_matches(uses, BUILTIN_STAGES, n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        raise UserError(f"{where}: unknown stage '{uses}'{hint}; use a registered name or 'module:function'")
    module_name, _, attr = target.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        raise UserError(f"{where}: cannot import '{module_name}' ({exc})") from None
    obj = getattr(module, attr, None)
    if not isinstance(obj, Stage):
        raise UserError(f"{where}: '{target}' is not a stage (decorate it with harness.stages.stage)")
    return obj
