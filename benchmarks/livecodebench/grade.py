"""Grade LiveCodeBench samples in the project sandbox: each (solution, test) in its own process.

A sandbox program carries a few solutions of one problem plus that problem's tests as files; inside,
grader_program.py forks one child per test with the test's input file as its real stdin (or, for
functional problems, one child per call). So a solution pays a fork per test, not an interpreter
start, and the tests travel once per program. Programs are cut so every worker gets several and
started largest first.
Load cannot turn a pass into a timeout: per-test limits do not count time the child spent waiting
for a CPU (the EvalPlus grader's clock), and a timeout whose child got less than a full CPU is re-run
alone, up to the EvalPlus grader's number of rounds. Verdicts are cached by problem tests, limits,
grader version and normalized code, so reruns resume and identical solutions grade once.
"""

from __future__ import annotations

import functools
import hashlib
import json
import math
import os
import secrets
import sys
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

from tqdm import tqdm

from benchmarks.verdicts import RECHECK_ROUNDS, VerdictCache, maybe_starved, normalize
from harness.sandbox.modules import CLOCKS, module_files, module_sources
from benchmarks.livecodebench.dataset import Problem, ProblemSet

# Bump when grading semantics change: it is part of every verdict-cache key.
GRADER_VERSION = "1"
VERDICTS = ("pass", "fail", "timeout", "error")
TIMEOUT_S = 6.0  # upstream's per-test limit
MEMORY_MB = 2048  # resident memory of one test's process (upstream has no limit)
BATCH_SIZE = 16
# Programs per worker, at least, when there is enough work: the last ones to finish are then short.
PROGRAMS_PER_WORKER = 6
_HERE = Path(__file__).resolve().parent
# Modules the sandbox program imports, shipped beside it: the grader itself, the comparison rules,
# the sandbox programs' load-fair clocks, and the sandbox's own `python main.py` runner.
_SHIPPED = (
    ("lcb_grader", _HERE / "grader_program.py"),
    ("lcb_compare", _HERE / "compare.py"),
    CLOCKS,
    ("sca_worker", _HERE.parents[1] / "harness" / "sandbox" / "worker.py"),
)
_MAIN = "import lcb_grader\nlcb_grader.main()\n"
# Standard modules those import: the sandbox workers import them once, before forking any program.
PRELOAD = ("json", "decimal", "re", "math", "resource", "signal", "types", "select", "mmap", "pickle", "tempfile",
           "atexit", "marshal", "struct", "errno")


@dataclass
class Sample:
    question_id: str
    code: str
    index: int  # sample number within the problem, in input order
    source: str = ""  # FILE:LINE, for messages


@dataclass
class Graded:
    sample: Sample
    key: str
    record: dict = field(default_factory=dict)
    cached: bool = False

    @property
    def verdict(self) -> str:
        return self.record["ours"]["verdict"]

    @property
    def upstream_verdict(self) -> str:
        return self.record["upstream"]["verdict"]


def grader_hash() -> str:
    """What grading semantics depend on: the program, the rules and the shipped helpers."""
    blob = json.dumps([GRADER_VERSION, _MAIN, module_sources(*_SHIPPED)], sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:12]


class Grader:
    def __init__(self, problems: ProblemSet, *, timeout_s: float = TIMEOUT_S, memory_mb: int = MEMORY_MB,
                 workers: int | None = None, batch_size: int = BATCH_SIZE, use_cache: bool = True,
                 recheck_timeouts: bool = True, progress: bool = True):
        from harness.sandbox import Policy

        self.problems = problems
        self.timeout_s = float(timeout_s)
        self.memory_mb = int(memory_mb)
        self.workers = workers or os.cpu_count() or 1
        self.batch_size = batch_size
        self.use_cache = use_cache
        self.recheck_timeouts = recheck_timeouts
        self.progress = progress
        # Limits per program are set from its size; the policy's own are the fallback.
        self.policy = Policy(timeout_s=600.0, memory_mb=self.memory_mb + 256, output_limit_bytes=64 << 20,
                             preload=PRELOAD)
        self.stats = {"graded": 0, "cache_hits": 0, "tests_run": 0, "rechecked": 0, "recheck_flips": 0,
                      "isolated_reruns": 0, "lost": 0}
        self._tests_sha: dict[str, str] = {}

    def key(self, sample: Sample) -> str:
        problem = self.problems.problems[sample.question_id]
        if problem.question_id not in self._tests_sha:
            self._tests_sha[problem.question_id] = problem.tests_sha256()
        parts = [grader_hash(), self._tests_sha[problem.question_id], self.timeout_s, self.memory_mb,
                 sys.version_info[:2], normalize(sample.code)]
        return hashlib.sha256(json.dumps(parts).encode()).hexdigest()[:32]

    def grade(self, samples: Iterable[Sample]) -> list[Graded]:
        samples = list(samples)
        cache = VerdictCache("livecodebench", "verdicts", enabled=self.use_cache)
        try:
            graded = [Graded(s, self.key(s)) for s in samples]
            todo: dict[str, Graded] = {}
            for g in graded:
                if g.key in cache.entries:
                    g.record, g.cached = cache.entries[g.key], True
                    self.stats["cache_hits"] += 1
                else:
                    todo.setdefault(g.key, g)
            self._run_all(list(todo.values()), cache)
            for g in graded:  # duplicates of a graded solution share its verdict
                if not g.record:
                    g.record = cache.entries[g.key]
            return graded
        finally:
            cache.close()

    # ---- scheduling ---------------------------------------------------------------------------

    def _run_all(self, todo: list[Graded], cache: VerdictCache) -> None:
        if not todo:
            return
        self.stats["graded"] += len(todo)
        by_key = {g.key: g for g in todo}
        bar = tqdm(total=len(todo), desc="grading livecodebench", unit="sample", file=sys.stderr,
                   disable=not self.progress)
        again: dict[str, int] = {}  # key -> re-check rounds so far

        def accept(rec: dict, round_: int) -> None:
            key = rec["key"]
            before = by_key[key].record
            if round_ and before and before["ours"]["verdict"] != rec["ours"]["verdict"]:
                self.stats["recheck_flips"] += 1
            rec["rechecked"] = round_
            by_key[key].record = rec
            timing = rec.get("timed_out")
            # EvalPlus's test, with the CPU waits the limit already gave back counted as accounted for:
            # only time the clock cannot see (blocked on I/O, memory reclaim, other threads) asks for a re-run.
            starved = timing and maybe_starved({"status": "timeout", "duration_s": timing["duration_s"],
                                                 "cpu_s": timing["cpu_s"] + timing.get("delay_s", 0.0)})
            if self.recheck_timeouts and starved and round_ < RECHECK_ROUNDS:
                again[key] = round_ + 1
                return
            again.pop(key, None)
            # A solution the sandbox could not run says nothing about its code: never reuse that.
            (cache.remember if rec["ours"].get("error_type") == "SandboxError" else cache.put)(key, rec)
            bar.update(1)

        batches = self._pack(todo)
        lost = self._run_batches(batches, self.workers, lambda r: accept(r, 0))
        if lost:  # a program that died took its unfinished solutions along: each again on its own
            self.stats["isolated_reruns"] += len(lost)
            for g, why in self._run_batches([[g] for g in lost], self.workers, lambda r: accept(r, 0), why=True):
                self.stats["lost"] += 1
                accept(_lost_record(g.key, why, self.problems.problems[g.sample.question_id]), RECHECK_ROUNDS)
        while again:
            rounds = dict(again)
            again.clear()
            self.stats["rechecked"] += len(rounds)
            bar.set_description(f"re-checking {len(rounds)} timeouts alone")
            batches = [[(by_key[k], _resume_state(by_key[k].record))] for k in sorted(rounds)]
            for g, _ in self._run_batches(batches, 1, lambda r: accept(r, rounds[r["key"]]), why=True, resume=True):
                cache.put(g.key, g.record)  # keep the verdict it has rather than lose it
                bar.update(1)
        bar.close()

    def _pack(self, todo: list[Graded]) -> list[list[Graded]]:
        """Solutions of one problem per program, sized so each worker gets several; largest first."""
        by_problem: dict[str, list[Graded]] = defaultdict(list)
        for g in todo:
            by_problem[g.sample.question_id].append(g)
        per_program = max(1, min(self.batch_size, math.ceil(len(todo) / (self.workers * PROGRAMS_PER_WORKER))))
        batches = []
        for qid, group in by_problem.items():
            group.sort(key=lambda g: g.sample.index)
            batches += [group[i : i + per_program] for i in range(0, len(group), per_program)]
        weight = {qid: _raw_size(self.problems.problems[qid]) for qid in by_problem}
        batches.sort(key=lambda b: -(weight[b[0].sample.question_id] * len(b)))
        return batches

    def _run_batches(self, batches: list, workers: int, on_record, why: bool = False, resume: bool = False) -> list:
        """Run programs; stream records to on_record; return the solutions that got none (with why)."""
        from harness.sandbox import Sandbox

        tag = f"@@lcb-{secrets.token_hex(8)}@@"
        by_id = {f"b{i}": b for i, b in enumerate(batches)}
        programs = (self._program(pid, batch, tag, resume) for pid, batch in by_id.items())
        lost = []
        with Sandbox(self.policy, workers=workers) as sb:
            for verdict in sb.run(programs):
                seen = set()
                for line in verdict.stdout.splitlines():
                    pos = line.find(tag)
                    if pos < 0:
                        continue
                    try:
                        rec = json.loads(line[pos + len(tag):])
                    except ValueError:
                        continue
                    seen.add(rec["key"])
                    self.stats["tests_run"] += rec["tests_run"]
                    on_record(rec)
                for item in by_id[verdict.id]:
                    g = item[0] if resume else item
                    if g.key not in seen:
                        reason = f"sandbox program {verdict.status}: {verdict.stderr.strip()[-300:]}".strip()
                        lost.append((g, reason) if why else g)
        return lost

    @functools.lru_cache(maxsize=4)
    def _test_files(self, qid: str) -> tuple[dict[str, bytes], list[int]]:
        tests = self.problems.problems[qid].tests()
        files, sizes = {}, []
        for i, t in enumerate(tests):
            out = t.output.encode("utf-8", "surrogatepass")
            files[f"t/{i}.in"] = t.input.encode("utf-8", "surrogatepass")
            files[f"t/{i}.out"] = out
            sizes.append(len(out))
        return files, sizes

    def _program(self, pid: str, batch: list, tag: str, resume: bool):
        from harness.sandbox import Program

        items = batch if resume else [(g, None) for g in batch]
        problem: Problem = self.problems.problems[items[0][0].sample.question_id]
        files, sizes = self._test_files(problem.question_id)
        n = len(sizes)
        solutions = []
        for g, state in items:
            start = state["start"] if state else 0
            solutions.append({"key": g.key, "code": g.sample.code, "start": start, "state": state})
        job = {"tag": tag, "testtype": problem.testtype, "func_name": problem.func_name,
               "leetcode_names": problem.testtype == "functional" and problem.platform == "leetcode",
               "tolerance": problem.tolerance, "timeout_s": self.timeout_s, "n_tests": n, "output_bytes": sizes,
               "solutions": solutions}
        data_mb = sum(len(v) for v in files.values()) / (1 << 20)
        wall = 60.0 + sum(n - s["start"] for s in solutions) * (self.timeout_s + 1.0)
        return Program(id=pid, code=_MAIN, files={**files, **module_files(*_SHIPPED), "job.json": json.dumps(job)},
                       timeout_s=wall, memory_mb=int(self.memory_mb + 4 * data_mb + 256))


def _raw_size(problem: Problem) -> int:
    return sum(len(r) if isinstance(r, str) else len(json.dumps(r)) for r in (problem.public_raw, problem.private_raw)
               if r is not None)


def _resume_state(rec: dict) -> dict:
    """Where a re-check of a timed-out test starts: that test, with the verdicts reached before it kept."""
    t = rec["timed_out"]["test"]
    keep = {side: rec[side] if rec[side]["verdict"] != "pass" and rec[side]["test"] < t else None
            for side in ("ours", "upstream")}
    return {"start": t, "ours": keep["ours"], "upstream": keep["upstream"],
            "passed_ours": rec["passed_ours"], "passed_upstream": rec["passed_upstream"]}


def _lost_record(key: str, why: str, problem: Problem) -> dict:
    fail = {"test": None, "verdict": "error", "detail": f"the grader could not run it: {why}"[:400],
            "error_type": "SandboxError"}
    return {"key": key, "ours": fail, "upstream": fail, "passed_ours": 0, "passed_upstream": 0,
            "n_tests": None, "tests_run": 0, "timed_out": None, "slowest_s": 0.0, "seconds": 0.0}
