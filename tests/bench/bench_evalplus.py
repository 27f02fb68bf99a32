"""`sca evaluate` vs installed evalplus 0.3.1 on the same samples, ground truth warm for both.

    .venv/bin/python tests/bench/bench_evalplus.py [--sets 3] [--workers N] [--evalplus-parallel N ...]

Samples: the pr247 HumanEval+ v0.1.10 result files (3 models x 164 tasks = 492 distinct solutions).
Both graders get the same ground truth (ours, written into evalplus's cache under its own key), so
both use the same per-input time limits. evalplus runs twice: with its own default parallelism
(cpu_count // 2) and with as many workers as ours. Prints the wall times, the ratios, whether every
verdict matches, and the floor: the time the solutions' own code runs (exec, calls, and the limits
that looping ones wait out) spread over the workers, which no grader running them can go below.
Target (issue #4): >= 5x faster with identical verdicts. Other load on the machine slows both.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

# Forks, exits and reaps a child, as the grader does per check, in the grader's own sandbox.
FORK_PROBE = """
import os, time
n = 300
start = time.perf_counter()
for _ in range(n):
    pid = os.fork()
    if pid == 0:
        os._exit(0)
    os.waitpid(pid, 0)
print((time.perf_counter() - start) / n)
"""

MODELS = ["meta-llama--Meta-Llama-3-8B-Instruct", "meta-llama--Meta-Llama-3-8B", "mistralai--Mistral-7B-Instruct-v0.2"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sets", type=int, default=3, choices=[1, 2, 3])
    parser.add_argument("--workers", type=int, default=os.cpu_count())
    parser.add_argument("--evalplus-parallel", type=int, nargs="+",
                        help="evalplus worker counts to time (default: its own default, cpu_count // 2, "
                             "and --workers)")
    args = parser.parse_args()

    if not os.environ.get("SCA_DATA_DIR") and (Path(__file__).resolve().parents[3] / "shared" / "data").is_dir():
        os.environ["SCA_DATA_DIR"] = str(Path(__file__).resolve().parents[3] / "shared" / "data")
    from benchmarks.evalplus import dataset, groundtruth
    from harness import data
    from tests.evalplus.reference import run_evalplus, statuses

    work = Path(tempfile.mkdtemp(prefix="bench-evalplus-"))
    os.environ["SCA_CACHE_DIR"] = str(work / "sca-cache")
    try:
        ds = dataset.load("humaneval")
        t0 = time.perf_counter()
        groundtruth.load(ds)
        print(f"ground truth (ours, cold): {time.perf_counter() - t0:.1f}s", flush=True)
        # Also derived once per dataset and cached like the ground truth: task payloads, evalplus's memory size.
        groundtruth.payloads(ds)
        groundtruth.evalplus_address_space(ds)

        rows = []
        for model in MODELS[: args.sets]:
            doc = json.loads(data.reference_path(f"evalplus-pr247/humaneval--{model}_vllm_temp_0.0-sanitized_eval_results.json").read_text())
            rows += [{"task_id": t, "solution": r["solution"]} for t, entries in doc["eval"].items() for r in entries]
        samples = work / "samples.jsonl"
        samples.write_text("".join(json.dumps(r) + "\n" for r in rows))
        n_distinct = len({(r["task_id"], r["solution"]) for r in rows})

        # evalplus keys its ground truth by the md5 of the dataset file; an uncompressed copy has ours.
        plain = work / "HumanEvalPlus.jsonl"
        with gzip.open(ds.path, "rb") as src, open(plain, "wb") as dst:
            shutil.copyfileobj(src, dst)
        home = work / "evalplus-home"
        (home / "cache" / "evalplus").mkdir(parents=True)
        shutil.copy(groundtruth.cache_path(ds), home / "cache" / "evalplus" / f"{ds.hash}.pkl")

        default_parallel = max(1, (os.cpu_count() or 2) // 2)
        parallels = args.evalplus_parallel or sorted({default_parallel, args.workers})
        evalplus_s, theirs = {}, {}
        for parallel in parallels:
            t0 = time.perf_counter()
            theirs[parallel] = statuses(run_evalplus("humaneval", plain, samples, home, parallel=parallel))
            evalplus_s[parallel] = time.perf_counter() - t0

        def run_ours(out: Path, *extra: str) -> tuple[float, dict | None]:
            t0 = time.perf_counter()
            proc = subprocess.run([sys.executable, "-m", "harness.cli", "evaluate", "--dataset", "humaneval",
                                   "--samples", str(samples), "--out", str(out), "--no-cache",
                                   "--workers", str(args.workers), *extra], stdin=subprocess.DEVNULL,
                                  stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
            seconds = time.perf_counter() - t0
            return seconds, json.loads(proc.stdout.strip().splitlines()[-1]) if proc.returncode == 0 else None

        out = work / "ours"
        ours_s, summary = run_ours(out)
        # The same grading without timing flags: what re-running timeouts with longer limits costs.
        plain_s, plain = run_ours(work / "ours-no-timing", "--timing-factor", "1")
        if summary is None or plain is None:
            print("sca evaluate failed", file=sys.stderr)
            return 1
        ours = json.loads((out / "eval_results.json").read_text())
        a = statuses(ours)
        b = next(iter(theirs.values()))
        diffs = sorted({k for run in theirs.values() for k in run if a.get(k) != run[k]})

        # The floor: what the solutions' own code took (a looping one: until it was stopped), over the workers.
        solution_s = waited = recheck_s = 0.0
        rechecks = 0
        for line in (out / "verdicts.jsonl").read_text().splitlines():
            v = json.loads(line)
            for suite in ("base", "plus"):
                s = v[suite]
                if s["status"] == "timeout" or s["error_type"] == "TimeoutException":
                    waited += s["duration_s"]
                solution_s += s["duration_s"] if s["status"] == "timeout" else s["solution_s"]
                again = (s.get("timing") or {}).get("recheck")
                if again:
                    rechecks += 1
                    recheck_s += again["duration_s"]
        floor = solution_s / args.workers
        # Every check runs in a fresh process (evalplus's semantics): the least that costs here.
        from benchmarks.evalplus import grade
        from harness.sandbox import Policy, Program, Sandbox

        with Sandbox(Policy(timeout_s=60, memory_mb=grade.MEMORY_MB, preload=grade.PRELOAD), workers=1) as sb:
            fork_s = float(next(iter(sb.run([Program(id="fork", code=FORK_PROBE)]))).stdout)
        n_checks = 2 * n_distinct
        isolated_floor = floor + n_checks * fork_s / args.workers

        load = os.getloadavg()[0]
        print(f"samples: {len(rows)} ({n_distinct} distinct), HumanEval+ v0.1.10, ground truth warm for both")
        for parallel, seconds in evalplus_s.items():
            label = " (its default)" if parallel == default_parallel else ""
            print(f"evalplus 0.3.1 parallel={parallel}{label}: {seconds:.1f}s wall")
        print(f"sca evaluate (workers={args.workers}): {ours_s:.1f}s wall "
              f"(grading {summary['seconds']['grading']:.1f}s, re-checked {summary['grader']['rechecked']})")
        for parallel, seconds in evalplus_s.items():
            print(f"speedup vs evalplus parallel={parallel}: {seconds / ours_s:.2f}x (target >= 5x)")
        timing = summary["timing_sensitive"]
        print(f"timing-sensitive verdicts: {timing['samples']} samples ({timing['checks']} checks), pass@1 plus "
              f"range {timing['pass@1_range']['plus'][0]:.4f}-{timing['pass@1_range']['plus'][1]:.4f}; "
              f"{rechecks} timeouts re-run with {timing['factor']:g}x limits took {recheck_s:.1f}s of check time; "
              f"wall {ours_s:.1f}s vs {plain_s:.1f}s with --timing-factor 1: "
              f"{ours_s - plain_s:+.1f}s ({100 * (ours_s / plain_s - 1):+.0f}%)")
        print(f"floor: {floor:.1f}s ({solution_s:.1f}s of solution code, {waited:.1f}s of it waiting out time "
              f"limits, / {args.workers} workers)")
        print(f"floor with a fresh process per check: {isolated_floor:.1f}s ({n_checks} checks x {1000 * fork_s:.2f} ms "
              f"to fork, exit and reap, / {args.workers} workers)")
        print(f"ours is {ours_s / floor:.2f}x the floor; evalplus is "
              + ", ".join(f"{seconds / floor:.2f}x (parallel={p})" for p, seconds in evalplus_s.items()))
        for parallel, seconds in evalplus_s.items():
            if seconds / 5 < isolated_floor:
                print(f"5x evalplus parallel={parallel} would be {seconds / 5:.1f}s: below the floor with process isolation")
        print(f"verdicts identical: {len(b) - len(diffs)}/{len(b)}" + (f"; differ: {diffs[:10]}" if diffs else ""))
        print(f"pass@1 ours: base {summary['pass@1']['base']:.4f} plus {summary['pass@1']['plus']:.4f}")
        print(f"load average at end: {load:.2f} on {os.cpu_count()} CPUs")
        return 0 if not diffs else 1
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
