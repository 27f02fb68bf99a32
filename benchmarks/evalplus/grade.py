"""Grade samples against HumanEval+/MBPP+ in the project sandbox, with evalplus's verdict semantics.

Each sandbox program carries a batch of checks (solution x suite) plus only the task data they need;
the sandbox workers preload evalplus, so a program starts in milliseconds. Inside, evalplus's own
`unsafe_execute` runs every check in a forked child (check_program.py). Programs are sized by the
estimated cost of their checks (ground-truth time) and started longest first, so the workers finish
together instead of one of them ending on a single slow task.
Verdicts are appended to a cache as they finish: reruns resume, and identical solutions grade once.
Host load cannot turn a pass into a timeout: per-input limits do not count time spent waiting for a
CPU, and a suite killed at its wall-clock cap while starved is re-run alone before it is recorded.
Host speed can, because evalplus's limits have absolute parts (a 1 s floor per input, a 60 s cap per
suite): verdicts that a host TIMING_FACTOR times faster or slower could change are flagged
timing-sensitive, with the measured times and the other verdict, and summaries give the pass@1 range
they span.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import pickle
import secrets
import sys
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

from tqdm import tqdm

from benchmarks.evalplus import groundtruth
from benchmarks.evalplus.dataset import Dataset
from benchmarks.evalplus.groundtruth import Payloads
from benchmarks.verdicts import RECHECK_ROUNDS, VerdictCache, maybe_starved, normalize
from harness.sandbox.modules import CLOCKS, module_files

# Bump when grading semantics change: it is part of every verdict-cache key.
GRADER_VERSION = "4"
SUITES = ("base", "plus")  # HumanEval+/MBPP+; a Dataset names its own (EvoEval's five new sets have base only)
# evalplus.config defaults, repeated so the key does not need evalplus imported
MIN_TIME_LIMIT = 1.0
GT_TIME_LIMIT_FACTOR = 4.0
# evalplus caps one suite's wall time at min(60, sum of limits) + 1, then joins 1 s more
SUITE_CAP_S = 60.0
_PROGRAM_SRC = Path(__file__).with_name("check_program.py")
# evalplus's child sets RLIMIT_AS to 4 GiB; the program around it needs headroom above that.
MEMORY_MB = 6144
# Task data per program (raw pickle): a program with more is split, unless one task alone is bigger.
PAYLOAD_BYTES = 64 << 20
# A task with more data than this is not spread over programs: shipping it again costs more than it saves.
SPLIT_MAX_BYTES = 8 << 20
# Programs the work is cut into per worker, at least: enough that the last ones to finish are short.
PROGRAMS_PER_WORKER = 12
# Cost model for packing (seconds): a forked check, one input's harness overhead, one program.
CHECK_S, INPUT_S, PROGRAM_S = 0.003, 6e-6, 0.02
# The sandbox programs import these anyway: the workers import them once, before forking any.
PRELOAD = ("evalplus.eval", "evalplus.eval.utils", "multiprocessing.sharedctypes", "json", "pickle", "select")
CHECKER_PRELOAD = {"evoeval": ("evoeval.eval_test",)}
# The program enforces every limit itself, by load-fair clocks; the sandbox's own wall-clock timeout is
# only a backstop for a program that hangs, so it must not fire first on a host slowed this many times
# by other load (a sandbox kill loses the program's unfinished checks).
PROGRAM_BACKSTOP = 10
# Timing-sensitive verdicts: a verdict is flagged when it could differ on a host this many times faster
# or slower. A pass is flagged when an input used more than 1/factor of its limit (or the suite more than
# 1/factor of its cap); a timeout is re-run on the input that ran out, alone, with a limit factor times
# longer, and flagged when it then finishes. The verdict itself stays evalplus's. 1 turns this off.
TIMING_FACTOR = 2.0


@dataclass
class Sample:
    task_id: str
    solution: str
    index: int  # completion id within the task, in input order
    source: str = ""  # "file:line" or path, for messages


@dataclass
class Graded:
    sample: Sample
    key: str
    suites: dict[str, dict] = field(default_factory=dict)
    cached: bool = False

    def status(self, suite: str) -> str:
        return self.suites[suite]["status"]


def suite_limits(ref_time: list[float], min_time_limit: float, factor: float) -> list[float]:
    return [max(min_time_limit, factor * t) for t in ref_time]


def suite_wall_cap(limits: list[float], suite_cap_s: float = SUITE_CAP_S) -> float:
    # untrusted_check: join(timeout=min(60, sum) + 1 + 1), then terminate/kill with 0.1 s sleeps
    return min(suite_cap_s, sum(limits)) + 2.2


class Grader:
    def __init__(
        self,
        ds: Dataset,
        payloads: Payloads | None = None,  # default: the dataset's cached payloads (built on first use)
        *,
        workers: int | None = None,
        batch_size: int = 16,
        min_time_limit: float = MIN_TIME_LIMIT,
        gt_time_limit_factor: float = GT_TIME_LIMIT_FACTOR,
        suite_cap_s: float = SUITE_CAP_S,
        use_cache: bool = True,
        recheck_timeouts: bool = True,
        timing_factor: float = TIMING_FACTOR,
    ):
        from harness.sandbox import Policy

        self.ds = ds
        self.payloads = payloads or groundtruth.payloads(ds)
        self.workers = workers or os.cpu_count() or 1
        self.batch_size = batch_size
        self.min_time_limit = min_time_limit
        self.factor = gt_time_limit_factor
        self.suite_cap_s = suite_cap_s
        self.use_cache = use_cache
        self.recheck_timeouts = recheck_timeouts
        if timing_factor < 1:
            from harness.errors import UserError

            raise UserError(f"timing_factor: must be >= 1 (1 turns timing flags off), got {timing_factor}")
        self.timing_factor = timing_factor
        self.suites = ds.suites
        preload = PRELOAD + CHECKER_PRELOAD.get(ds.checker, ())
        self.policy = Policy(timeout_s=60.0, memory_mb=MEMORY_MB, preload=preload)
        self.address_space = 0  # evalplus's main-process size on this dataset; 0 = measure it
        self.stats = {"cache_hits": 0, "graded": 0, "rechecked": 0, "recheck_flips": 0, "isolated_reruns": 0,
                      "timeout_wait_s": 0.0}

    def key(self, sample: Sample) -> str:
        parts = [GRADER_VERSION, self.ds.hash, groundtruth.TIMING, sys.version_info[:2], self.min_time_limit,
                 self.factor, self.suite_cap_s, self.timing_factor, self.policy.hash(), sample.task_id, normalize(sample.solution)]
        if self.ds.checker != "evalplus":  # the same dataset graded under other rules (keys of evalplus's unchanged)
            parts.append(self.ds.checker)
        return hashlib.sha256(json.dumps(parts).encode()).hexdigest()[:32]

    def grade(self, samples: Iterable[Sample]) -> list[Graded]:
        samples = list(samples)
        if not self.address_space:
            from benchmarks.evalplus.groundtruth import evalplus_address_space

            self.address_space = evalplus_address_space(self.ds)
        cache = VerdictCache("evalplus", self.ds.hash, enabled=self.use_cache)
        try:
            graded = [Graded(s, self.key(s)) for s in samples]
            todo: dict[str, Graded] = {}
            for g in graded:
                if g.key in cache.entries:
                    g.suites, g.cached = cache.entries[g.key], True
                    self.stats["cache_hits"] += 1
                else:
                    todo.setdefault(g.key, g)
            self._run_all(list(todo.values()), cache)
            for g in graded:  # duplicates of a graded solution share its verdict
                if not g.suites:
                    g.suites = cache.entries[g.key]
            return graded
        finally:
            cache.close()

    # ---- scheduling ---------------------------------------------------------------------------

    def _run_all(self, todo: list[Graded], cache: VerdictCache) -> None:
        if not todo:
            return
        self.stats["graded"] += len(todo)
        by_key = {g.key: g for g in todo}
        results: dict[str, dict[str, dict]] = defaultdict(dict)
        pending_recheck: set[tuple[str, str]] = set()
        bar = tqdm(total=len(todo), desc=f"grading {self.ds.label}", unit="sample", file=sys.stderr)

        def finish(key: str) -> None:
            suites = results[key]
            if len(suites) == len(self.suites) and not any((key, s) in pending_recheck for s in self.suites):
                verdict = {s: suites[s] for s in self.suites}
                # A check the sandbox could not run says nothing about the solution: never reuse it.
                if any(v.get("error_type") == INFRA_ERROR for v in verdict.values()):
                    cache.remember(key, verdict)
                else:
                    cache.put(key, verdict)
                by_key[key].suites = cache.entries[key]
                bar.update(1)

        def accept(rec: dict, recheck_round: int) -> None:
            key, suite = rec.pop("key"), rec["suite"]
            self.stats["timeout_wait_s"] += rec["duration_s"] if _timed_out(rec) else 0.0
            before = results[key].get(suite)
            if recheck_round and before and before["status"] != rec["status"]:
                self.stats["recheck_flips"] += 1
            rec["rechecked"] = recheck_round
            results[key][suite] = rec
            # Starved again on a re-check (other load on the host): try once more, up to RECHECK_ROUNDS.
            if self.recheck_timeouts and _timed_out(rec) and maybe_starved(rec) and recheck_round < RECHECK_ROUNDS:
                pending_recheck.add((key, suite))
            else:
                pending_recheck.discard((key, suite))
            finish(key)

        batches = self._pack(todo)
        missing = self._run_batches(batches, self.workers, lambda r: accept(r, 0))

        # A program that died took its unfinished checks with it: rerun each on its own.
        if missing:
            self.stats["isolated_reruns"] += len(missing)
            lost = self._run_batches([[c] for c in missing], self.workers, lambda r: accept(r, 0))
            for g, suite in lost:
                accept(_infra_record(g.key, suite, self.ds.problems[g.sample.task_id][f"{suite}_input"]),
                       RECHECK_ROUNDS)

        for round_ in range(1, RECHECK_ROUNDS + 1):
            if not pending_recheck:
                break
            again = [(by_key[k], s) for k, s in sorted(pending_recheck)]
            self.stats["rechecked"] += len(again)
            bar.set_description(f"re-checking {len(again)} timeouts serially")
            lost = self._run_batches([[c] for c in again], 1, lambda r: accept(r, round_))
            for g, suite in lost:  # keep the verdict we have rather than lose it
                pending_recheck.discard((g.key, suite))
                finish(g.key)
        for key, suite in list(pending_recheck):  # still starved after every round: keep the last one
            pending_recheck.discard((key, suite))
            finish(key)
        bar.close()

    def _run_batches(self, batches: list[list[tuple[Graded, str]]], workers: int, on_record) -> list:
        """Run batches in the sandbox; stream records to on_record; return the checks that got none."""
        from harness.sandbox import Sandbox

        tag = f"@@sca-{secrets.token_hex(8)}@@"
        by_id = {f"b{i}": batch for i, batch in enumerate(batches)}
        # Built as the workers ask for them: a program can carry a few hundred MB of task data.
        programs = (self._program(pid, batch, tag) for pid, batch in by_id.items())
        lost = []
        with Sandbox(self.policy, workers=workers) as sb:
            for verdict in sb.run(programs):
                seen = set()
                for line in verdict.stdout.splitlines():
                    pos = line.find(tag)
                    if pos < 0:
                        continue
                    try:
                        rec = json.loads(line[pos + len(tag) :])
                    except ValueError:
                        continue
                    seen.add((rec["key"], rec["suite"]))
                    on_record(rec)
                lost += [(g, s) for g, s in by_id[verdict.id] if (g.key, s) not in seen]
        return lost

    def check_cost(self, tid: str, suite: str) -> float:
        """Estimated seconds for one check: the canonical solution's time plus harness overhead."""
        ref = self.payloads.times(tid, suite)
        return CHECK_S + sum(ref) + INPUT_S * len(ref)

    def program_cost(self, batch: list[tuple[Graded, str]]) -> float:
        tids = {g.sample.task_id for g, _ in batch}
        setup = sum(self.payloads.size(t) / groundtruth.UNPICKLE_BYTES_PER_S for t in tids)
        setup += sum(self.check_cost(t, s) - CHECK_S for t in tids if self.payloads.rebuilt(t) for s in self.suites)
        return PROGRAM_S + setup + sum(self.check_cost(g.sample.task_id, s) for g, s in batch)

    def _pack(self, todo: list[Graded]) -> list[list[tuple[Graded, str]]]:
        """Cut the checks into programs of bounded estimated cost, most expensive first.

        A program holds up to batch_size samples and PAYLOAD_BYTES of task data. Checks of one task
        stay together while they fit the cost target; a slow task's checks spread over several
        programs, except where its data is heavy to ship or rebuild (paid once per program).
        """
        by_task: dict[str, list[Graded]] = defaultdict(list)
        for g in sorted(todo, key=lambda g: (g.sample.task_id, g.sample.index)):
            by_task[g.sample.task_id].append(g)
        total = sum(self.check_cost(t, s) for t, group in by_task.items() for _ in group for s in self.suites)
        target = total / (self.workers * PROGRAMS_PER_WORKER)
        batches: list[list[tuple[Graded, str]]] = []
        current: list[tuple[Graded, str]] = []
        state = {"cost": 0.0, "bytes": 0, "tasks": set(), "samples": set()}

        def close() -> None:
            nonlocal current
            if current:
                batches.append(current)
            current = []
            state.update(cost=0.0, bytes=0, tasks=set(), samples=set())

        for tid, group in by_task.items():
            blob = self.payloads.size(tid)
            # Rebuilt or heavy outputs are paid for once per program: keep the task's checks together.
            if self.payloads.rebuilt(tid) or blob > SPLIT_MAX_BYTES:
                close()
                for i in range(0, len(group), self.batch_size):
                    current = [(g, s) for g in group[i : i + self.batch_size] for s in self.suites]
                    close()
                continue
            for g in group:
                for suite in self.suites:
                    cost = self.check_cost(tid, suite)
                    new_task = tid not in state["tasks"]
                    if current and (state["cost"] + cost > target
                                    or (new_task and state["bytes"] + blob > PAYLOAD_BYTES)
                                    or (g.key not in state["samples"] and len(state["samples"]) >= self.batch_size)):
                        close()
                        new_task = True
                    current.append((g, suite))
                    state["cost"] += cost
                    state["samples"].add(g.key)
                    if new_task:
                        state["tasks"].add(tid)
                        state["bytes"] += blob
        close()
        # Longest first: the workers then finish within one short program of each other.
        costs = {id(b): self.program_cost(b) for b in batches}
        batches.sort(key=lambda b: -costs[id(b)])
        return batches

    def _program(self, pid: str, batch: list[tuple[Graded, str]], tag: str):
        from harness.sandbox import Program

        checks = []
        budget = 0.0  # load-fair seconds the program's checks may take, at most
        for g, suite in batch:
            tid = g.sample.task_id
            checks.append({"key": g.key, "task_id": tid, "suite": suite, "code": g.sample.solution})
            ref = self.payloads.times(tid, suite)
            # A timed-out check may be re-run with limits timing_factor times longer.
            limits = suite_limits(ref, self.min_time_limit, self.factor)
            # A timed-out input may be re-run alone with a limit timing_factor times longer.
            budget += suite_wall_cap(limits, self.suite_cap_s) + self.timing_factor * max(limits, default=0) + 1.5
        tasks = {tid: self.payloads.read(tid) for tid in dict.fromkeys(c["task_id"] for c in checks)}
        job = {"tag": tag, "dataset": self.ds.name, "suites": self.suites, "checker": self.ds.checker,
               "tasks": tasks, "checks": checks,
               "address_space": self.address_space, "timing_factor": self.timing_factor,
               "suite_cap_s": self.suite_cap_s,
               "min_time_limit": self.min_time_limit, "gt_time_limit_factor": self.factor}
        files = {"job.pkl": pickle.dumps(job, pickle.HIGHEST_PROTOCOL), **module_files(CLOCKS)}
        return Program(id=pid, code=_program_source(), files=files,
                       timeout_s=PROGRAM_BACKSTOP * budget + 60, memory_mb=MEMORY_MB)


@functools.lru_cache(maxsize=1)
def _program_source() -> str:
    return _PROGRAM_SRC.read_text()


def _timed_out(rec: dict) -> bool:
    return rec["status"] == "timeout" or rec.get("error_type") == "TimeoutException"


INFRA_ERROR = "SandboxError"


def _infra_record(key: str, suite: str, inputs: list) -> dict:
    # The sandbox could not run it even alone; evalplus reports a dead checker as "timeout".
    return {"key": key, "suite": suite, "status": "timeout", "n_done": 0, "n_inputs": len(inputs),
            "fail_index": None, "error_type": INFRA_ERROR, "duration_s": 0.0, "timing_sensitive": False}
