"""C->I (concepts -> a task with sampled properties, 8-shot) and the S->I ablation (snippet -> task).

C->I samples each item's properties with the item's own generator before drawing its shots:
category 50% function / 25% class / 25% program implementation, difficulty uniform over
easy/medium/hard, and the language from the config (the paper's seeds are Python).
"""

from __future__ import annotations

from generation.pipeline.fewshot import Property
from generation.pipeline.generate import Generation, GenerationConfig
from harness.stages import stage


class InstructionsConfig(GenerationConfig):
    num_fewshots: int = 8
    n: int = 1
    language: str = "Python"


class SnippetInstructionsConfig(GenerationConfig):
    num_fewshots: int = 8
    n: int = 1


def _instruction(text: str) -> str | None:
    instruction = text.strip()
    return instruction or None


@stage("instructions", InstructionsConfig)
def instructions_stage(cfg: InstructionsConfig, inputs: dict, ctx) -> None:
    """Concept records -> {..., category, language, difficulty, instruction}."""
    gen = Generation(cfg, inputs, ctx, "C->I", wants="concepts", required=("id", "seed_id", "concepts"))

    def plan(index: int, item: dict):
        rng = gen.rng(index)
        prop = Property.sample(item["concepts"], cfg.language, rng)
        shots = gen.prompts.draw(cfg.num_fewshots, rng)
        return gen.request(index, shots, property=prop.render()), {"shots": shots, "property": prop.to_dict()}

    def parse(item: dict, extra: dict, text: str, sample: int) -> dict | None:
        instruction = _instruction(text)
        if instruction is None:
            return None
        return {**item, "id": f"{item['id']}/i{sample}", **extra["property"], "instruction": instruction}

    gen.run(plan, parse)


@stage("snippet_instructions", SnippetInstructionsConfig)
def snippet_instructions_stage(cfg: SnippetInstructionsConfig, inputs: dict, ctx) -> None:
    """Seeds -> {id, seed_id, seed, concepts: [], instruction} with no concepts step (the paper's Table 10)."""
    gen = Generation(cfg, inputs, ctx, "S->I", wants="seeds", required=("seed_id", "content"))

    def plan(index: int, seed: dict):
        shots = gen.prompts.draw(cfg.num_fewshots, gen.rng(index))
        return gen.request(index, shots, snippet=seed["content"]), {"shots": shots}

    def parse(seed: dict, extra: dict, text: str, sample: int) -> dict | None:
        instruction = _instruction(text)
        if instruction is None:
            return None
        return {"id": f"{seed['seed_id']}/s{sample}", "seed_id": seed["seed_id"], "seed": seed["content"],
                "concepts": [], "category": None, "language": None, "difficulty": None,
                "instruction": instruction}

    gen.run(plan, parse)
