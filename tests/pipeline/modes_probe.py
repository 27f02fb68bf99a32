"""Completion vs chat mode for I->R on the same instructions and model (not a test; run it by hand).

    .venv/bin/python tests/pipeline/modes_probe.py --model runs/artifacts/gguf_model-*/gguf --out /tmp/modes \\
        [--instructions runs/artifacts/instructions-*/records.jsonl] [--limit 4] [--n 10] [--max-new-tokens 512]

Runs responses -> execute -> select (decontamination included) once per mode through the runner, with the
llamacpp backend, and prints per mode: samples, cut at max_new_tokens, the paper's format (split, python
blocks, asserts, no placeholder), exit 0 (the paper's rule), passed (ours), selected records, seconds.
Without --instructions, the instructions of the official few-shot file are used.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.pipeline.conftest import file_input, run_recipe, write_jsonl  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True, help=".gguf file or a folder holding one")
    parser.add_argument("--out", required=True, type=Path)
    parser.add_argument("--instructions", type=Path)
    parser.add_argument("--limit", type=int, default=4)
    parser.add_argument("--n", type=int, default=10)
    parser.add_argument("--max-new-tokens", type=int, default=512)
    parser.add_argument("--parallel", type=int, default=4)
    parser.add_argument("--threads", type=int, help="llama.cpp threads (default: all CPUs)")
    parser.add_argument("--modes", default="completion,chat")
    args = parser.parse_args()
    from generation.pipeline.fewshot import Prompts
    from generation.pipeline.select import format_problem

    if args.instructions:
        rows = [json.loads(line) for line in args.instructions.read_text().splitlines()][:args.limit]
    else:
        rows = [{"id": f"fewshot{i}/c0/i0", "seed_id": f"fewshot{i}", "concepts": list(s.property.concepts),
                 **s.property.to_dict(), "instruction": s.instruction}
                for i, s in enumerate(Prompts.load().shots[:args.limit])]
    src = write_jsonl(args.out / "instructions.jsonl", rows)
    print(f"load average before: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores; {len(rows)} instructions")
    for mode in args.modes.split(","):
        started = time.perf_counter()
        arts = run_recipe(args.out / mode, {
            "instructions": file_input(src),
            "responses": {"uses": "responses", "inputs": ["instructions"], "with": {
                "model": args.model, "backend": "llamacpp", "mode": mode, "n": args.n,
                "max_new_tokens": args.max_new_tokens, "backend_options": {"parallel": args.parallel, "threads": args.threads}}},
            "execute": {"uses": "execute", "inputs": ["responses"]},
            "select": {"uses": "select", "inputs": ["execute"]}}, name=f"modes-{mode}", wandb="disabled")
        seconds = time.perf_counter() - started
        samples = [json.loads(line) for line in arts["responses"].file("samples.jsonl").read_text().splitlines()]
        executed = list(arts["execute"].records())
        formats = Counter(format_problem(r["raw_response"], mode) or "ok" for r in executed)
        verdicts = [r["verdict"] for r in executed]
        tokens = sum(s["completion_tokens"] or 0 for s in samples)
        print(f"{mode}: {len(samples)} samples, {sum(s['dropped'] == 'length' for s in samples)} cut, "
              f"format {dict(formats)}, with test asserts found {sum(r['test_asserts'] > 0 for r in executed)}, "
              f"exit0 {sum(v['exit0'] for v in verdicts)}, passed {sum(v['passed'] for v in verdicts)}, "
              f"format ok and passed {sum(v["passed"] and format_problem(r["raw_response"], mode) is None for v, r in zip(verdicts, executed))}, "
              f"selected {arts['select'].manifest['counts']['records']}, {seconds:.0f} s, "
              f"{tokens} completion tokens reported")
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
