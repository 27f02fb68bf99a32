"""`sca evaluate`: grade HumanEval+/MBPP+ samples with EvalPlus 0.3.1's verdicts, in the project sandbox.

Writes DIR/eval_results.json (evalplus schema) and DIR/verdicts.jsonl (per sample and suite: status,
first failing input index, error type, duration, policy hash); the last stdout line is a JSON summary.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from harness.errors import UserError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--dataset", required=True, choices=["humaneval", "mbpp"])
    parser.add_argument("--version", help="dataset version (default: humaneval v0.1.10, mbpp v0.2.0)")
    parser.add_argument("--variant", choices=["mini", "noextreme"], help="reduced test suites, where released")
    parser.add_argument("--samples", type=Path,
                        help="jsonl of {task_id, solution|completion}, a TASK_ID/N.py folder, or an eval_results.json")
    parser.add_argument("--tasks", help="comma-separated task ids to grade (default: every task in the samples)")
    parser.add_argument("--out", type=Path, help="output folder (default: runs/evaluate/<samples name>)")
    parser.add_argument("--sanitize", action="store_true",
                        help="extract code from raw model output first; reports how many verdicts that changes")
    parser.add_argument("--workers", type=int, help="parallel sandbox programs (default: CPU count)")
    parser.add_argument("--batch-size", type=int, default=16,
                        help="samples per sandbox program (results are saved, and resume, per program)")
    parser.add_argument("--no-cache", action="store_true", help="ignore cached verdicts (new ones are still saved)")
    parser.add_argument("--min-time-limit", type=float, default=1.0, help="seconds per input, at least (evalplus: 1)")
    parser.add_argument("--gt-time-limit-factor", type=float, default=4.0,
                        help="per-input limit = max(min limit, factor x canonical time) (evalplus: 4)")
    parser.add_argument("--timing-factor", type=float, default=2.0,
                        help="flag verdicts that could differ on a host this many times faster or slower; "
                             "timeouts are re-run with limits this many times longer (1 = off; default 2)")
    parser.add_argument("--write-speed-profile", type=Path, metavar="FILE",
                        help="write this host's canonical-solution times for --dataset to FILE and exit")
    parser.add_argument("--calibrate-to", metavar="PROFILE",
                        help="scale the absolute limits (1 s floor, 60 s suite cap) by this host's speed relative "
                             "to the host that wrote PROFILE (off by default: evalplus's limits are absolute)")


def main(args: argparse.Namespace) -> int:
    from pydantic import ValidationError

    from benchmarks.evalplus.evaluate import EvaluateConfig, evaluate

    if args.write_speed_profile:
        from benchmarks.evalplus import dataset, groundtruth
        from harness.artifacts import atomic_write_text

        ds = dataset.load(args.dataset, args.version, args.variant)
        args.write_speed_profile.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(args.write_speed_profile, json.dumps(groundtruth.speed_profile(ds), indent=1) + "\n")
        print(f"speed profile of this host for {ds.label} -> {args.write_speed_profile}")
        return 0
    if args.samples is None:
        raise UserError("--samples: required (or --write-speed-profile FILE)")
    tasks = [t.strip() for t in args.tasks.split(",") if t.strip()] if args.tasks else None
    try:
        cfg = EvaluateConfig(dataset=args.dataset, version=args.version, variant=args.variant, tasks=tasks,
                             sanitize=args.sanitize, workers=args.workers, batch_size=args.batch_size,
                             use_cache=not args.no_cache, min_time_limit=args.min_time_limit,
                             gt_time_limit_factor=args.gt_time_limit_factor, timing_factor=args.timing_factor,
                             calibrate_to=args.calibrate_to)
    except ValidationError as exc:
        err = exc.errors()[0]
        raise UserError(f"--{str(err['loc'][0]).replace('_', '-')}: {err['msg']} (got {err['input']!r})") from None
    out_dir = args.out or Path("runs") / "evaluate" / args.samples.name.removesuffix(".jsonl")
    summary = evaluate(cfg, args.samples, out_dir)
    (out_dir / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    print(json.dumps(summary), flush=True)
    return 0
