"""`sca evaluate --dataset classeval`: grade ClassEval samples in the project sandbox.

Writes DIR/verdicts.jsonl (per sample: every test class's verdict, counts, first failure),
DIR/class_result.json (the official evaluation's layout), DIR/breakdown.png and DIR/summary.json
(class-level and method-level pass@k, and the official rule's score); the last stdout line is the JSON
summary. --samples, --out, --tasks, --workers, --no-cache, --timing-factor and --memory-mb are shared
with the other graders; --time-limit is ClassEval's own.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from harness.errors import UserError

TIME_LIMIT = 5.0


def add_arguments(group) -> None:
    group.add_argument("--time-limit", type=float, default=TIME_LIMIT,
                       help="seconds per test class (default 5, as the official evaluation); time spent waiting "
                            "for a CPU does not count")


def main(args: argparse.Namespace) -> int:
    from pydantic import ValidationError

    from benchmarks.classeval.evaluate import EvaluateConfig, evaluate

    if args.samples is None:
        raise UserError("--samples: required (a jsonl of {task_id, solution}, a `sca generate` folder, or the "
                        "official model-output JSON)")
    tasks = [t.strip() for t in args.tasks.split(",") if t.strip()] if args.tasks else None
    try:
        cfg = EvaluateConfig(tasks=tasks, time_limit=args.time_limit, memory_mb=args.memory_mb,
                             timing_factor=args.timing_factor, workers=args.workers, use_cache=not args.no_cache)
    except ValidationError as exc:
        err = exc.errors()[0]
        name = {"use_cache": "no-cache"}.get(str(err["loc"][0]), str(err["loc"][0]))
        raise UserError(f"--{name.replace('_', '-')}: {err['msg']} (got {err['input']!r})") from None
    out_dir = args.out or Path("runs") / "evaluate" / args.samples.name.removesuffix(".jsonl")
    summary = evaluate(cfg, args.samples, out_dir)
    (out_dir / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    print(json.dumps(summary), flush=True)
    return 0
