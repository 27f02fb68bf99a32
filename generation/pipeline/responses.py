"""I->R: n sampled responses per instruction (1-shot), each a response followed by its own tests.

The raw text (what follows `<response>\n`, up to the `</tests>` stop) is kept whole; the execution
filter runs its code blocks and selection splits it into response and tests.
"""

from __future__ import annotations

from generation.pipeline.generate import Generation, GenerationConfig
from harness.stages import stage


class ResponsesConfig(GenerationConfig):
    num_fewshots: int = 1
    n: int = 10


@stage("responses", ResponsesConfig, version=2)
def responses_stage(cfg: ResponsesConfig, inputs: dict, ctx) -> None:
    """Instruction records -> {..., id: INSTRUCTION_ID/rJ, instruction_id, sample, raw_response}."""
    gen = Generation(cfg, inputs, ctx, "I->R", wants="instructions", required=("id", "instruction"))

    def plan(index: int, item: dict):
        shots = gen.prompts.draw(cfg.num_fewshots, gen.rng(index))
        return gen.request(index, shots, instruction=item["instruction"]), {"shots": shots}

    def parse(item: dict, extra: dict, text: str, sample: int) -> dict | None:
        raw = text.strip()
        if not raw:
            return None
        return {**item, "id": f"{item['id']}/r{sample}", "instruction_id": item["id"], "sample": sample,
                "raw_response": raw}

    gen.run(plan, parse)
