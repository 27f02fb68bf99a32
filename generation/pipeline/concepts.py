"""S->C: the base model lists the programming concepts of each seed snippet (8-shot, comma-separated)."""

from __future__ import annotations

from generation.pipeline.fewshot import parse_concepts
from generation.pipeline.generate import Generation, GenerationConfig
from harness.stages import stage


class ConceptsConfig(GenerationConfig):
    num_fewshots: int = 8
    n: int = 1


@stage("concepts", ConceptsConfig)
def concepts_stage(cfg: ConceptsConfig, inputs: dict, ctx) -> None:
    """Seeds ({seed_id, content, ...}) -> {id, seed_id, seed, concepts, ...}, one record per parsed sample."""
    gen = Generation(cfg, inputs, ctx, "S->C", wants="seeds", required=("seed_id", "content"))

    def plan(index: int, seed: dict):
        shots = gen.prompts.draw(cfg.num_fewshots, gen.rng(index))
        return gen.request(index, shots, snippet=seed["content"]), {"shots": shots}

    def parse(seed: dict, extra: dict, text: str, sample: int) -> dict | None:
        concepts = parse_concepts(text)
        if not concepts:
            return None
        return {"id": f"{seed['seed_id']}/c{sample}", "seed_id": seed["seed_id"], "seed": seed["content"],
                "concepts": concepts}

    gen.run(plan, parse)
