"""Measure the two CPU engines on the pipeline's own prompts, in one run (not a test; run it by hand).

    .venv/bin/python tests/pipeline/engines_probe.py --gguf runs/artifacts/gguf_model-*/gguf \\
        --hf runs/artifacts/gguf_model-*/model --seeds runs/artifacts/seeds-*/records.jsonl [--items 4]

For S->C (8-shot), C->I (8-shot) and I->R (1-shot, n samples) in completion mode, the same requests go to
the `hf` backend (transformers, fp32 weights dequantized from the GGUF) and to the `llamacpp` backend
(the GGUF itself), without caches. Printed per stage and engine: wall seconds, prompt and generated
tokens (counted with the model's tokenizer on both, so the engines are counted alike) and tokens/s.
The two engines' arithmetic differs (quantized vs fp32), so their texts differ: compare speeds only.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))


def requests(seeds: list[dict], items: int, n: int, max_new_tokens: int):
    from generation.backends import GenerationRequest
    from generation.pipeline.fewshot import STOP, Property, Prompts

    prompts = Prompts.load()
    out = {}
    for mode, k in (("S->C", 8), ("C->I", 8), ("I->R", 1)):
        reqs = []
        for i, seed in enumerate(seeds[:items]):
            rng = random.Random(3407 + i)
            if mode == "S->C":
                fields = {"snippet": seed["content"]}
            elif mode == "C->I":
                fields = {"property": Property.sample(["recursion", "string manipulation"], "Python", rng).render()}
            else:
                fields = {"instruction": prompts.shots[i % len(prompts.shots)].instruction}
            prompt = prompts.build(mode, "completion", prompts.draw(k, rng), **fields)
            reqs.append(GenerationRequest(prompt=prompt, n=n if mode == "I->R" else 1, temperature=0.7,
                                          max_new_tokens=max_new_tokens, stop=STOP[mode], seed=3407 + i))
        out[mode] = reqs
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gguf", required=True)
    parser.add_argument("--hf", required=True)
    parser.add_argument("--seeds", required=True, type=Path)
    parser.add_argument("--items", type=int, default=4)
    parser.add_argument("--n", type=int, default=4, help="I->R samples per instruction")
    parser.add_argument("--max-new-tokens", type=int, default=256)
    parser.add_argument("--parallel", type=int, default=4)
    parser.add_argument("--threads", default="0", help="llama.cpp thread counts to try, comma-separated (0 = all CPUs)")
    args = parser.parse_args()
    from transformers import AutoTokenizer

    from generation.backends import get_backend

    seeds = [json.loads(line) for line in args.seeds.read_text().splitlines()]
    tok = AutoTokenizer.from_pretrained(args.hf)
    stages = requests(seeds, args.items, args.n, args.max_new_tokens)
    engines = {"hf": dict(name="hf", model=args.hf, batch_size=8)}
    for threads in (int(t) for t in args.threads.split(",")):
        engines[f"llamacpp/{threads or 'all'}"] = dict(name="llamacpp", model=args.gguf, parallel=args.parallel,
                                                      threads=threads or None)
    print(f"load average before: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    for mode, reqs in stages.items():
        prompt_tokens = sum(len(tok(r.prompt)["input_ids"]) * 1 for r in reqs)
        for name, options in engines.items():
            options = dict(options)
            with get_backend(options.pop("name"), progress=False, **options) as backend:
                if name.startswith("llamacpp"):
                    backend.start()  # server start-up is not generation time
                else:
                    _ = backend.hf_model
                started = time.perf_counter()
                results = backend.generate(reqs)
                seconds = time.perf_counter() - started
            generated = sum(len(tok(c.text, add_special_tokens=False)["input_ids"]) for cs in results for c in cs)
            cut = sum(c.finish_reason == "length" for cs in results for c in cs)
            print(f"{mode} {name:11s}: {seconds:7.1f} s, {len(reqs)} prompts ({prompt_tokens} tokens), "
                  f"{generated} tokens generated ({cut} cut at max_new_tokens): {generated / seconds:6.1f} tokens/s, "
                  f"{(prompt_tokens + generated) / seconds:6.1f} tokens/s with the prompts")
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
