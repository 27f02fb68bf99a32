"""LiveCodeBench grading throughput (tests/s): our sandbox grader against a naive one-subprocess-per-test runner.

    .venv/bin/python tests/bench/bench_livecodebench.py [--tests-per-task 50] [--naive-seconds 60] [--workers N]

Workload: the pr247 HumanEval+ samples (3 models x 164 tasks) converted to stdin problems
(tests/livecodebench/humaneval.py) with up to --tests-per-task base+plus tests each, so there are many
tests per problem as in LiveCodeBench. Both runners execute every (solution, test) as its own process
with a real stdin, in test order, and stop where the solution has failed under both comparison rules,
so they run the same tests. The naive runner is `subprocess.run([python, solution.py], input=...)` per
test, unsandboxed, on as many workers as ours, for --naive-seconds on a fixed random subset of the
solutions; its verdicts must equal ours there. Other load on the machine slows both.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

MODELS = ["meta-llama--Meta-Llama-3-8B-Instruct", "meta-llama--Meta-Llama-3-8B", "mistralai--Mistral-7B-Instruct-v0.2"]
PR247 = "evalplus-pr247/humaneval--{}_vllm_temp_0.0-sanitized_eval_results.json"
TIMEOUT_S = 6.0


def workload(tests_per_task: int, work: Path):
    """(problems file, samples) for the stdin-converted pr247 samples."""
    from benchmarks.evalplus import dataset as evalplus_dataset
    from benchmarks.livecodebench.grade import Sample
    from harness import data
    from tests.livecodebench import humaneval as he
    from tests.livecodebench.support import write_problems

    tasks = evalplus_dataset.load("humaneval").problems
    rows, kept = [], []
    for tid, task in tasks.items():
        inputs = (task["base_input"] + task["plus_input"])[:tests_per_task]
        outputs, times = he.expected_outputs(task, inputs)
        if he.inexact_reason(task, outputs, times, "stdin"):
            continue
        rows.append(he.problem_row(task, inputs, outputs, "stdin"))
        kept.append(tid)
    samples = []
    for model in MODELS:
        doc = json.loads(data.reference_path(PR247.format(model)).read_text())
        for tid in kept:
            code = he.stdin_code(doc["eval"][tid][0]["solution"], tasks[tid]["entry_point"])
            samples.append(Sample(tid, code, len(samples), model))
    return write_problems(work / "problems.jsonl", rows), samples


def naive_grade(code: str, tests, tolerance, work: Path) -> tuple[str, str, int]:
    """(our verdict, upstream's verdict, tests run): one `python solution.py` per test, stopping like ours."""
    from benchmarks.livecodebench.compare import stdin_equal, stdin_equal_upstream

    path = work / f"s{os.getpid()}-{id(code)}-{time.monotonic_ns()}.py"
    path.write_text(code)
    ours = upstream = None
    ran = 0
    try:
        for t in tests:
            ran += 1
            try:
                proc = subprocess.run([sys.executable, str(path)], input=t.input, capture_output=True, text=True,
                                      timeout=TIMEOUT_S, cwd=work)
            except subprocess.TimeoutExpired:
                return ours or "timeout", upstream or "timeout", ran
            if proc.returncode != 0:
                return ours or "error", upstream or "error", ran
            if ours is None and not stdin_equal(proc.stdout, t.output, tolerance)[0]:
                ours = "fail"
            if upstream is None and not stdin_equal_upstream(proc.stdout, t.output)[0]:
                upstream = "fail"
            if ours and upstream:
                break
        return ours or "pass", upstream or "pass", ran
    finally:
        path.unlink(missing_ok=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tests-per-task", type=int, default=50)
    parser.add_argument("--naive-seconds", type=float, default=60.0)
    parser.add_argument("--workers", type=int, default=os.cpu_count())
    args = parser.parse_args()

    if not os.environ.get("SCA_DATA_DIR") and (Path(__file__).resolve().parents[3] / "shared" / "data").is_dir():
        os.environ["SCA_DATA_DIR"] = str(Path(__file__).resolve().parents[3] / "shared" / "data")
    work = Path(tempfile.mkdtemp(prefix="bench-lcb-"))
    os.environ["SCA_CACHE_DIR"] = str(work / "sca-cache")
    try:
        from benchmarks.livecodebench import dataset
        from benchmarks.livecodebench.grade import Grader

        problems_file, samples = workload(args.tests_per_task, work)
        problems = dataset.load(problems_file=problems_file)
        n_tests = sum(len(p.tests()) for p in problems.problems.values())
        print(f"workload: {len(samples)} solutions of {len(problems.problems)} stdin problems, {n_tests} tests "
              f"({args.tests_per_task} per problem at most), {args.workers} workers", flush=True)

        grader = Grader(problems, workers=args.workers, use_cache=False, progress=False)
        t0 = time.perf_counter()
        graded = grader.grade(samples)
        ours_s = time.perf_counter() - t0
        ours_tests = grader.stats["tests_run"]
        print(f"sca grader (sandboxed, a fork per test): {ours_tests} tests in {ours_s:.1f}s = "
              f"{ours_tests / ours_s:.0f} tests/s", flush=True)

        order = list(range(len(samples)))
        random.Random(0).shuffle(order)
        tests_of = {q: p.tests() for q, p in problems.problems.items()}
        deadline = time.perf_counter() + args.naive_seconds
        done: list[tuple[int, tuple[str, str, int]]] = []

        def run(i: int):
            if time.perf_counter() > deadline:
                return None
            s = samples[i]
            return i, naive_grade(s.code, tests_of[s.question_id], problems.problems[s.question_id].tolerance, work)

        t0 = time.perf_counter()
        with ThreadPoolExecutor(args.workers) as pool:
            done = [r for r in pool.map(run, order) if r is not None]
        naive_s = time.perf_counter() - t0
        naive_tests = sum(r[2] for _, r in done)
        print(f"naive (subprocess.run per test, unsandboxed): {naive_tests} tests of {len(done)} solutions in "
              f"{naive_s:.1f}s = {naive_tests / naive_s:.0f} tests/s", flush=True)

        same = sum((graded[i].verdict, graded[i].upstream_verdict) == r[:2] for i, r in done)
        ran_same = sum(graded[i].record["tests_run"] == r[2] for i, r in done)
        print(f"throughput: {(ours_tests / ours_s) / (naive_tests / naive_s):.1f}x the naive runner's tests/s")
        print(f"verdicts equal on the naive runner's {len(done)} solutions: {same}/{len(done)} "
              f"(same tests run: {ran_same}/{len(done)})")
        print(f"pass@1 (ours / upstream rule): {sum(g.verdict == 'pass' for g in graded) / len(graded):.4f} / "
              f"{sum(g.upstream_verdict == 'pass' for g in graded) / len(graded):.4f}")
        print(f"load average at end: {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
        return 0 if same == len(done) else 1
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
