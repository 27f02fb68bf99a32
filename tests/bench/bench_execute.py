"""Execution-filter throughput on pipeline-shaped responses, against the paper's approach in the same run.

    .venv/bin/python tests/bench/bench_execute.py [--responses 10000] [--baseline 1000] [--single 1000]

Each response is an I->R output: prose, a function in a python block, `</response>\\n\\n<tests>` and a
block of 3-8 asserts (one in five has a wrong assert). Ours: the execute stage's path (extract,
instrument, sandbox with every isolation layer, batches of responses in forked children).
Also measured: the plain sandbox, one program per response (batch_size=1), on a subset; and the paper's
execution filter: a pool of cpu_count workers, each running every response in a fresh
`multiprocessing.Process` joined with a 10 s timeout (evalplus's reliability guard, swallow_io and
time limit inside), passing on exit code 0. Target (issue #10): >= 800 responses/s on 2 cores.
Verdicts are compared: ours (exit-0 rule) against the paper's, and batched against one program each.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from generation.pipeline.execute import ExecuteConfig, Executor, extract, instrument, verdict_fields  # noqa: E402

OPS = [("+", lambda a, b: a + b), ("-", lambda a, b: a - b), ("*", lambda a, b: a * b),
       ("max", max), ("min", min)]


def response(i: int) -> str:
    rng = random.Random(i)
    name, fn = rng.choice(OPS)
    expr = f"{name}(a, b)" if name.isalpha() else f"a {name} b"
    asserts = []
    for k in range(rng.randint(3, 8)):
        a, b = rng.randint(-50, 50), rng.randint(-50, 50)
        want = fn(a, b) + (1 if k == 0 and i % 5 == 4 else 0)  # every fifth response has a wrong assert
        asserts.append(f"assert combine_{i}({a}, {b}) == {want}")
    tests = "\n".join(asserts)
    return (f"Here is a function that combines two numbers.\n\n```python\ndef combine_{i}(a, b):\n"
            f"    \"\"\"Combine a and b.\"\"\"\n    return {expr}\n```\n\nIt returns the combination.\n"
            f"</response>\n\n<tests>\n```python\n{tests}\n```")


def cpu_seconds() -> float:
    """CPU of this process and of every finished descendant (sandbox workers and programs, once closed)."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def ours(texts: list[str], batch_size: int) -> tuple[float, list[dict], bool, float]:
    """(responses/s, verdicts, all isolation on, CPU ms per response over every process involved)."""
    cpu_before = cpu_seconds()
    executor = Executor(ExecuteConfig(batch_size=batch_size))
    executor.run([instrument(*extract(response(10**9)))[0]] * 8)  # start the sandbox workers
    isolated = not executor.sandbox.host.missing()
    start = time.perf_counter()
    programs = [instrument(*extract(t))[0] for t in texts]
    verdicts = [verdict_fields(r, executor.policy.hash()) for r in executor.run(programs)]
    elapsed = time.perf_counter() - start
    executor.close()
    return len(texts) / elapsed, verdicts, isolated, (cpu_seconds() - cpu_before) / len(texts) * 1e3


def _paper_imports() -> None:
    # The paper's module imports these at the top, so each pool worker holds them before it forks.
    import shutil  # noqa: F401

    import evalplus.eval.utils  # noqa: F401


def _paper_run(code: str) -> None:
    # The paper's _run: evalplus's temp dir, reliability guard (1 GiB), swallowed IO, 4 s time limit.
    import shutil

    from evalplus.eval.utils import create_tempdir, reliability_guard, swallow_io, time_limit

    with create_tempdir():
        rmtree, rmdir, chdir, getcwd = shutil.rmtree, os.rmdir, os.chdir, os.getcwd
        reliability_guard(maximum_memory_bytes=1 << 30)
        with swallow_io():
            with time_limit(4):
                exec(code)
        shutil.rmtree, os.rmdir, os.chdir, os.getcwd = rmtree, rmdir, chdir, getcwd


def _paper_fork_run(code: str) -> bool:
    from multiprocessing import Process

    sys.stdout = open(os.devnull, "w")
    sys.stderr = sys.stdout
    p = Process(target=_paper_run, args=(code,))
    p.start()
    p.join(timeout=10)
    return p.exitcode == 0


def paper(texts: list[str]) -> tuple[float, list[bool]]:
    codes = [extract(t)[0] for t in texts]  # the paper's extract_code: every block, joined
    with ProcessPoolExecutor(max_workers=os.cpu_count(), initializer=_paper_imports) as pool:
        list(pool.map(_paper_fork_run, codes[:8]))  # start the pool
        start = time.perf_counter()
        passed = list(pool.map(_paper_fork_run, codes, chunksize=16))
        elapsed = time.perf_counter() - start
    return len(texts) / elapsed, passed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--responses", type=int, default=10_000)
    parser.add_argument("--baseline", type=int, default=1000, help="responses for the paper's approach")
    parser.add_argument("--single", type=int, default=1000, help="responses for one program per response")
    parser.add_argument("--batch-size", type=int, default=ExecuteConfig().batch_size)
    args = parser.parse_args()
    texts = [response(i) for i in range(args.responses)]
    load_before = os.getloadavg()[0]
    base_rate, base_passed = paper(texts[:args.baseline])
    single_rate, single, _, _ = ours(texts[:args.single], batch_size=1)
    rate, verdicts, isolated, cpu_ms = ours(texts, batch_size=args.batch_size)
    load_after = os.getloadavg()[0]

    expected = [i % 5 != 4 for i in range(args.responses)]
    passed = [v["passed"] for v in verdicts]
    keys = ("status", "exit_code", "error_type", "asserts_run", "error", "passed")
    same_single = sum({k: a[k] for k in keys} == {k: b[k] for k in keys} for a, b in zip(verdicts, single))
    same_paper = sum(v["exit0"] == p for v, p in zip(verdicts, base_passed))
    print(f"execution filter (ours): {rate:,.0f} responses/s ({args.responses:,} responses, batches of "
          f"{args.batch_size}, {os.cpu_count()} cores, all isolation on: {'yes' if isolated else 'NO'})")
    print(f"CPU per response, every process (harness, sandbox workers, batch programs, children): {cpu_ms:.2f} ms, "
          f"so at most {os.cpu_count() / cpu_ms * 1e3:,.0f} responses/s on {os.cpu_count()} otherwise idle cores")
    print(f"plain sandbox, one program per response: {single_rate:,.0f} responses/s ({args.single:,} responses)")
    print(f"paper's approach (multiprocessing.Process per response, joined): {base_rate:,.0f} responses/s "
          f"({args.baseline:,} responses, {os.cpu_count()} pool workers)")
    print(f"ratio ours/paper: {rate / base_rate:.2f}x; ours/plain sandbox: {rate / single_rate:.2f}x")
    print(f"verdicts: {sum(p == e for p, e in zip(passed, expected)):,}/{args.responses:,} as constructed; "
          f"batched = one program each on {same_single}/{len(single)}; exit-0 = paper's on "
          f"{same_paper}/{len(base_passed)}")
    print(f"load average (1 min) before/after: {load_before:.2f} / {load_after:.2f} on {os.cpu_count()} cores")
    print(f"target (>= 800 responses/s): {'MET' if rate >= 800 else 'NOT MET'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
