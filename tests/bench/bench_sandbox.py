"""Sandbox throughput vs a naive `subprocess.run([python, file])` baseline, and the parent's memory over 100k programs.

    .venv/bin/python tests/bench/bench_sandbox.py [--programs 100000] [--baseline 400]

Targets (issue #3): >= 1,000 trivial programs/s with every isolation layer on, >= 3x the baseline, and a flat
parent peak RSS. Other load on the machine lowers both rates; the load average is printed with them.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from harness.sandbox import Policy, Program, Sandbox  # noqa: E402

TRIVIAL = "x = sum(range(10))\nassert x == 45\n"


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def cpu_seconds(sb: Sandbox) -> float:
    """CPU used so far by this process and by every worker with the programs it reaped."""
    total = sum(resource.getrusage(resource.RUSAGE_SELF)[:2])
    tick = os.sysconf("SC_CLK_TCK")
    for w in sb._pool:
        pid = w.proc.pid
        kids = Path(f"/proc/{pid}/task/{pid}/children").read_text().split() if sb.host.bwrap else []
        for p in [pid, *map(int, kids)]:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
            total += sum(int(x) for x in fields[11:15]) / tick
    return total


def bench_sandbox(n: int, workers: int) -> tuple[float, dict[int, float], dict]:
    checkpoints = {min(10_000, n): 0.0, n: 0.0}
    with Sandbox(Policy(timeout_s=10), workers=workers) as sb:
        list(sb.run(Program(id=f"warm{i}", code="pass") for i in range(workers * 10)))
        missing = sb.host.missing()
        cpu_start = cpu_seconds(sb)
        start = time.perf_counter()
        done = 0
        for verdict in sb.run(Program(id=str(i), code=TRIVIAL) for i in range(n)):
            if verdict.status != "pass":
                raise SystemExit(f"bench: program {verdict.id} got {verdict.status}: {verdict.stderr[-500:]}")
            done += 1
            if done in checkpoints:
                checkpoints[done] = peak_rss_mb()
        elapsed = time.perf_counter() - start
        cpu = cpu_seconds(sb) - cpu_start
    return n / elapsed, checkpoints, {"missing": missing, "cpu_ms": cpu / n * 1e3}


def bench_naive(n: int, workers: int) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "prog.py"
        path.write_text(TRIVIAL)

        def one(_):
            return subprocess.run([sys.executable, str(path)], capture_output=True, timeout=30).returncode

        start = time.perf_counter()
        with ThreadPoolExecutor(workers) as pool:
            codes = list(pool.map(one, range(n)))
        elapsed = time.perf_counter() - start
    assert codes == [0] * n
    return n / elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--programs", type=int, default=100_000)
    parser.add_argument("--baseline", type=int, default=400, help="programs for the naive baseline")
    parser.add_argument("--workers", type=int, default=os.cpu_count())
    args = parser.parse_args()
    load_before = os.getloadavg()[0]
    naive = bench_naive(args.baseline, args.workers)
    rate, rss, info = bench_sandbox(args.programs, args.workers)
    load_after = os.getloadavg()[0]
    ratio = rate / naive
    print(f"sandbox: {rate:,.0f} programs/s ({args.programs:,} trivial programs, {args.workers} workers, "
          f"all isolation on: {'yes' if not info['missing'] else 'NO, missing ' + '; '.join(info['missing'])})")
    print(f"sandbox CPU per program (parent + workers + programs): {info['cpu_ms']:.3f} ms, so at most "
          f"{os.cpu_count() / info['cpu_ms'] * 1e3:,.0f} programs/s on {os.cpu_count()} otherwise idle cores")
    print(f"naive subprocess.run([python, file]) baseline: {naive:,.0f} programs/s ({args.baseline} programs, "
          f"{args.workers} threads)")
    print(f"ratio sandbox/baseline: {ratio:.2f}x")
    marks = sorted(rss)
    print("parent peak RSS: " + ", ".join(f"{rss[k]:.1f} MiB after {k:,}" for k in marks)
          + (f" (growth {rss[marks[-1]] - rss[marks[0]]:+.1f} MiB)" if len(marks) > 1 else ""))
    print(f"load average (1 min) before/after: {load_before:.2f} / {load_after:.2f} on {os.cpu_count()} cores")
    met = rate >= 1000 and ratio >= 3
    print(f"targets (>= 1,000/s and >= 3x baseline): {'MET' if met else 'NOT MET'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
