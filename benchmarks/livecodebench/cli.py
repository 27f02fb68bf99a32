"""`sca evaluate --dataset livecodebench`: grade LiveCodeBench samples in the project sandbox.

Writes DIR/eval_results.json (EvalPlus's layout), DIR/verdicts.jsonl (per sample: question_id, verdict,
first failing test; the same under upstream's comparison rule) and DIR/breakdown.png; the last stdout
line is a JSON summary. Options shared with EvalPlus grading (--samples, --out, --tasks, --workers,
--batch-size, --no-cache) come from benchmarks/evalplus/cli.py; these are LiveCodeBench's own.
"""

from __future__ import annotations

import argparse
import json
from datetime import date
from pathlib import Path

from harness.errors import UserError

# dest -> default, for the router's check that EvalPlus runs got none of these
DEFAULTS = {"problems": None, "release": None, "start_date": None, "end_date": None, "after_release": None,
            "timeout": 6.0, "memory_mb": 2048}


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a date like 2024-08-01, got {text!r}") from None


def add_arguments(group) -> None:
    group.add_argument("--problems", type=Path, help="a local jsonl in the code_generation_lite schema "
                                                     "(instead of a release)")
    group.add_argument("--release", help="release_vN (files 1..N), vN (file N), vA_vB (files A..B) or "
                                         "release_latest (the default)")
    group.add_argument("--start-date", type=_date, help="only problems with contest_date on or after this day")
    group.add_argument("--end-date", type=_date, help="only problems with contest_date on or before this day")
    group.add_argument("--after-release", metavar="MODEL",
                       help="only problems published after MODEL's release date (from the model registry)")
    group.add_argument("--timeout", type=float, default=DEFAULTS["timeout"],
                       help="seconds per test (default 6, as upstream); time spent waiting for a CPU does not count")
    group.add_argument("--memory-mb", type=int, default=DEFAULTS["memory_mb"],
                       help="resident memory of one test's process (default 2048)")


def main(args: argparse.Namespace) -> int:
    from pydantic import ValidationError

    from benchmarks.livecodebench.evaluate import EvaluateConfig, evaluate

    if args.samples is None:
        raise UserError("--samples: required (a jsonl of {question_id, code}, a `sca generate` folder, "
                        "or lcb_runner's output JSON)")
    ids = [t.strip() for t in args.tasks.split(",") if t.strip()] if args.tasks else None
    try:
        cfg = EvaluateConfig(release=args.release, problems=str(args.problems) if args.problems else None,
                             start_date=args.start_date, end_date=args.end_date, after_release=args.after_release,
                             question_ids=ids, timeout_s=args.timeout, memory_mb=args.memory_mb,
                             workers=args.workers, batch_size=args.batch_size, use_cache=not args.no_cache)
    except ValidationError as exc:
        err = exc.errors()[0]
        name = {"timeout_s": "timeout", "question_ids": "tasks", "use_cache": "no-cache"}.get(str(err["loc"][0]),
                                                                                          str(err["loc"][0]))
        raise UserError(f"--{name.replace('_', '-')}: {err['msg']} (got {err['input']!r})") from None
    out_dir = args.out or Path("runs") / "evaluate" / args.samples.name.removesuffix(".jsonl")
    summary = evaluate(cfg, args.samples, out_dir)
    print(json.dumps(summary), flush=True)
    return 0
