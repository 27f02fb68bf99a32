"""`sca bench`: run every speed/memory benchmark in tests/bench/, each printing a ratio to its baseline."""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parents[2] / "tests" / "bench"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("names", nargs="*", help="run only these (e.g. sandbox evalplus)")


def main(args: argparse.Namespace) -> int:
    from harness.errors import UserError

    scripts = sorted(BENCH_DIR.glob("bench_*.py"))
    available = [s.stem.removeprefix("bench_") for s in scripts]
    unknown = [n for n in args.names if n not in available]
    if unknown:
        raise UserError(f"unknown benchmark {unknown[0]!r}; available: {', '.join(available)}")
    failed = []
    for script in scripts:
        name = script.stem.removeprefix("bench_")
        if args.names and name not in args.names:
            continue
        print(f"== bench {name} ==", flush=True)
        if subprocess.run([sys.executable, str(script)]).returncode != 0:
            failed.append(name)
    if failed:
        print(f"failed benchmarks: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0
