"""`sca evaluate`: grade HumanEval+/MBPP+ samples with EvalPlus 0.3.1's verdicts, in the project sandbox.

Writes DIR/eval_results.json (evalplus schema) and DIR/verdicts.jsonl (per sample and suite: status,
first failing input index, error type, duration, policy hash); the last stdout line is a JSON summary.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from harness.errors import UserError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--dataset", required=True, choices=["humaneval", "mbpp"])
    parser.add_argument("--version", help="dataset version (default: humaneval v0.1.10, mbpp v0.2.0)")
    parser.add_argument("--variant", choices=["mini", "noextreme"], help="reduced test suites, where released")
    parser.add_argument("--samples", required=True, type=Path,
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


def main(args: argparse.Namespace) -> int:
    from benchmarks.evalplus import dataset, groundtruth, results, samples
    from benchmarks.evalplus.grade import Grader
    from benchmarks.evalplus.sanitize import flips, sanitize_samples

    for flag in ("workers", "batch_size"):
        value = getattr(args, flag)
        if value is not None and value < 1:
            raise UserError(f"--{flag.replace('_', '-')}: must be at least 1, got {value}")
    if args.min_time_limit <= 0 or args.gt_time_limit_factor <= 0:
        raise UserError("--min-time-limit / --gt-time-limit-factor: must be positive")
    started = time.perf_counter()
    ds = dataset.load(args.dataset, args.version, args.variant)
    tasks = None
    if args.tasks:
        tasks = {t.strip() for t in args.tasks.split(",") if t.strip()}
        unknown = sorted(tasks - ds.problems.keys())
        if unknown:
            raise UserError(f"--tasks: unknown task id {unknown[0]!r} for {ds.label}")
    loaded = samples.load(args.samples, ds, tasks)
    out_dir = args.out or Path("runs") / "evaluate" / args.samples.name.removesuffix(".jsonl")

    t0 = time.perf_counter()
    gt = groundtruth.load(ds)
    gt_s = time.perf_counter() - t0
    grader = Grader(ds, gt, workers=args.workers, batch_size=args.batch_size, min_time_limit=args.min_time_limit,
                    gt_time_limit_factor=args.gt_time_limit_factor, use_cache=not args.no_cache)
    t0 = time.perf_counter()
    sanitizer = None
    if args.sanitize:
        clean = sanitize_samples(ds, loaded)
        both = grader.grade(loaded + clean)
        graded = both[len(loaded):]
        sanitizer = flips(both[: len(loaded)], graded)
    else:
        graded = grader.grade(loaded)
    grade_s = time.perf_counter() - t0

    pak = results.write(out_dir, ds, graded, grader.policy.hash())
    summary = {
        "dataset": ds.name,
        "version": ds.version,
        "variant": ds.variant,
        "hash": ds.hash,
        "n_tasks": len({g.sample.task_id for g in graded}),
        "n_samples": len(graded),
        "n_distinct": len({g.key for g in graded}),
        "pass@1": {suite: pak[suite]["pass@1"]["value"] for suite in ("base", "plus")},
        "pass@k": pak,
        "sanitizer": sanitizer,
        "grader": grader.stats,
        "seconds": {"ground_truth": round(gt_s, 2), "grading": round(grade_s, 2),
                    "total": round(time.perf_counter() - started, 2)},
        "out": str(out_dir),
    }
    print(json.dumps(summary), flush=True)
    return 0
