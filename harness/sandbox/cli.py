"""`sca sandbox run PROGRAMS.jsonl --out VERDICTS.jsonl`: run programs from a file, one verdict line each.

A rerun with the same --out keeps the verdicts already written and runs only the rest.
"""

from __future__ import annotations

import argparse
import collections
import json
import sys
from pathlib import Path
from typing import Iterator

from harness.errors import UserError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    run = sub.add_parser("run", help="run every program in a JSONL file")
    run.add_argument("programs", type=Path, help='JSONL, one {"id", "code", "stdin"?, "files"?} per line')
    run.add_argument("--out", type=Path, required=True, help="verdicts JSONL (appended to; finished ids are kept)")
    run.add_argument("--timeout", type=float, default=10.0, help="wall-clock seconds per program (default 10)")
    run.add_argument("--memory-mb", type=int, default=1024, help="resident memory limit in MiB (default 1024)")
    run.add_argument("--workers", type=int, default=None, help="parallel workers (default: CPU count)")
    run.add_argument("--python", default=None, help="interpreter programs run under (default: the harness's)")


def read_programs(path: Path, skip: set[str], errors: list[str]) -> Iterator:
    """Yield Programs from a JSONL file; a bad line is reported in `errors` (naming it) and skipped."""
    from harness.data import jsonl_lines
    from harness.sandbox import Program

    seen: set[str] = set()
    for where, row, bad_json in jsonl_lines(path, decode_errors="replace"):
        if bad_json:
            errors.append(f"{where}: not valid JSON ({bad_json})")
            continue
        problem = _check_row(row)
        if problem:
            errors.append(f"{where}: {problem}")
            continue
        pid = str(row["id"])
        if pid in seen:
            errors.append(f"{where}: duplicate id {pid!r}")
            continue
        seen.add(pid)
        if pid in skip:
            continue
        yield Program(id=pid, code=row["code"], stdin=row.get("stdin"), files=row.get("files"),
                      timeout_s=row.get("timeout_s"), memory_mb=row.get("memory_mb"))


def _check_row(row) -> str | None:
    if not isinstance(row, dict):
        return "each line must be a JSON object"
    if not isinstance(row.get("id"), (str, int)) or isinstance(row.get("id"), bool):
        return 'missing "id" (a string)'
    if not isinstance(row.get("code"), str):
        return f'program {row["id"]!r}: missing "code" (a string)'
    if row.get("stdin") is not None and not isinstance(row["stdin"], str):
        return f'program {row["id"]!r}: "stdin" must be a string'
    files = row.get("files")
    if files is not None and not (isinstance(files, dict) and all(
            isinstance(k, str) and isinstance(v, str) for k, v in files.items())):
        return f'program {row["id"]!r}: "files" must map names to text'
    for key in ("timeout_s", "memory_mb"):
        value = row.get(key)
        if value is not None and (not isinstance(value, (int, float)) or isinstance(value, bool) or value <= 0):
            return f'program {row["id"]!r}: "{key}" must be a positive number'
    return None


def finished_ids(out: Path) -> set[str]:
    """Ids already in the verdict file; a line cut short by a crash is dropped so the rerun redoes it."""
    if not out.exists():
        return set()
    done, keep = set(), 0
    with open(out, "rb") as f:
        for raw in f:
            try:
                done.add(str(json.loads(raw)["id"]))
            except (ValueError, KeyError, TypeError):
                break
            keep += len(raw)
    if keep != out.stat().st_size:
        with open(out, "r+b") as f:
            f.truncate(keep)
        if keep and not out.read_bytes().endswith(b"\n"):
            with open(out, "ab") as f:
                f.write(b"\n")
    return done


def main(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from harness.sandbox import Policy, Sandbox

    if not args.programs.is_file():
        raise UserError(f"{args.programs}: no such file")
    policy = Policy(timeout_s=args.timeout, memory_mb=args.memory_mb, python=args.python)
    done = finished_ids(args.out)
    errors: list[str] = []
    counts: collections.Counter = collections.Counter()
    with open(args.programs, "rb") as f:
        total = sum(1 for line in f if line.strip())
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with Sandbox(policy, workers=args.workers) as sandbox, open(args.out, "a", encoding="utf-8") as out, \
            tqdm(total=total, initial=len(done), unit="prog", desc="sandbox", file=sys.stderr) as bar:
        for verdict in sandbox.run(read_programs(args.programs, done, errors)):
            out.write(json.dumps(verdict.to_dict()) + "\n")
            out.flush()
            counts[verdict.status] += 1
            bar.update(1)
        stats = sandbox.stats
    for error in errors:
        print(f"sca sandbox: error: {error}", file=sys.stderr)
    summary = ", ".join(f"{k} {v}" for k, v in sorted(counts.items())) or "nothing to run"
    print(f"sandbox: {summary}; {len(done)} already done; policy {policy.describe()}; "
          f"timeouts re-checked {stats['timeouts_rechecked']}, flipped {stats['timeouts_flipped']}", file=sys.stderr)
    if errors:
        print(f"sca sandbox: {len(errors)} bad input line(s) skipped; the rest ran", file=sys.stderr)
        return 2
    return 0
