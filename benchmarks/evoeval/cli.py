"""`sca evaluate --dataset evoeval`: grade EvoEval samples (any of its seven sets) in the project sandbox.

Writes DIR/<set>/eval_results.json (EvalPlus's schema, as evoeval writes it), DIR/<set>/verdicts.jsonl,
DIR/verdicts.jsonl (every set, set-qualified task ids), DIR/breakdown.png and DIR/summary.json (pass@k per
set and the five-set average); the last stdout line is the JSON summary. The shared options and the
EvalPlus limits (--min-time-limit, --gt-time-limit-factor, --timing-factor, --sanitize) come from
benchmarks/evalplus/cli.py; --sets is EvoEval's own.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from harness.errors import UserError


def add_arguments(group) -> None:
    group.add_argument("--sets", help="comma-separated EvoEval sets (difficult, creative, subtle, combine, tool_use, "
                                      "verbose, concise; default: every set the samples cover)")


def main(args: argparse.Namespace) -> int:
    from pydantic import ValidationError

    from benchmarks.evoeval.evaluate import EvaluateConfig, evaluate

    if args.samples is None:
        raise UserError("--samples: required (a jsonl of {set, task_id, solution}, or one set's EvalPlus-layout "
                        "samples with --sets SET)")
    split = lambda text: [t.strip() for t in text.split(",") if t.strip()] if text else None  # noqa: E731
    try:
        cfg = EvaluateConfig(sets=split(args.sets), tasks=split(args.tasks), sanitize=args.sanitize,
                             workers=args.workers, batch_size=args.batch_size, use_cache=not args.no_cache,
                             min_time_limit=args.min_time_limit, gt_time_limit_factor=args.gt_time_limit_factor,
                             timing_factor=args.timing_factor)
    except ValidationError as exc:
        err = exc.errors()[0]
        raise UserError(f"--{str(err['loc'][0]).replace('_', '-')}: {err['msg']} (got {err['input']!r})") from None
    out_dir = args.out or Path("runs") / "evaluate" / args.samples.name.removesuffix(".jsonl")
    summary = evaluate(cfg, args.samples, out_dir)
    (out_dir / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    print(json.dumps(summary), flush=True)
    return 0
