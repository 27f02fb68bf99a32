"""Grade ClassEval solutions in the project sandbox: one program per solution, one process per test class.

Each distinct solution becomes one sandbox program (class_program.py) that runs the task's test classes in
the official order, each in its own forked child with its own time limit, sharing one working directory.
Verdicts are cached by dataset hash, task, limits, sandbox policy and normalized solution, so reruns resume
and identical solutions grade once. A timeout whose child got less than a full CPU (another process took
it) has its solution run again alone, as the EvalPlus grader does, before it is recorded.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import json
import os
import secrets
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, cast

from tqdm import tqdm

from benchmarks.classeval.dataset import ClassEval
from benchmarks.verdicts import RECHECK_ROUNDS, VerdictCache, maybe_starved, normalize
from harness.sandbox.modules import CLOCKS, module_files, module_sources

# Bump when grading semantics change: it is part of every verdict-cache key.
GRADER_VERSION = "1"
TIME_LIMIT_S = 5.0  # the official func_set_timeout(5) per test class
MEMORY_MB = 2048  # the program and its test processes together (the official evaluation has no limit)
TIMING_FACTOR = 2.0
STATUSES = ("pass", "partial", "fail", "error", "timeout", "memory")
# Our status -> the official get_test_answer's (a timeout or a crash leaves it no test results: "error")
OFFICIAL = {"pass": "success", "partial": "partial_success", "fail": "fail", "error": "error", "timeout": "error",
            "memory": "error"}
_PROGRAM = Path(__file__).with_name("class_program.py")
# Imported by every program, and the third-party modules ClassEval's tasks use: the sandbox workers import
# them once, before forking, so a test class's time limit is not spent importing pandas or gensim.
PRELOAD = ("unittest", "json", "io", "types", "traceback", "select", "errno", "resource")
# pandas is left out: preloaded, it breaks the sandbox worker's next program (FileExistsError on its work dir).
TASK_MODULES = ("numpy", "PIL", "docx", "openpyxl", "bs4", "gensim", "nltk", "PyPDF2", "reportlab",
                "sqlite3", "datetime", "decimal", "csv", "xml.etree.ElementTree", "zipfile", "socket",
                "urllib.parse")


@dataclass
class Sample:
    task_id: str
    solution: str  # the program before the test file (imports included)
    index: int  # sample number within the task, in input order
    source: str = ""  # FILE:LINE, for messages


@dataclass
class Graded:
    sample: Sample
    key: str
    classes: dict[str, dict] = field(default_factory=dict)  # test class -> record
    cached: bool = False

    def passed(self, test_class: str) -> bool:
        return self.classes[test_class]["status"] == "pass"

    @property
    def class_pass(self) -> bool:
        return bool(self.classes) and all(r["status"] == "pass" for r in self.classes.values())


@functools.lru_cache(maxsize=1)
def available_task_modules() -> tuple[str, ...]:
    """The task modules this interpreter can import (a missing one fails its tasks with ModuleNotFoundError)."""
    found = []
    for name in TASK_MODULES:
        try:
            if importlib.util.find_spec(name.split(".")[0]) is not None:
                found.append(name)
        except (ImportError, ValueError):
            continue
    return tuple(found)


def grader_hash() -> str:
    """What the verdicts mean: the grader version and the source of the program and clocks it ships."""
    text = json.dumps([GRADER_VERSION, _PROGRAM.read_text(), module_sources(CLOCKS)], sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


class Grader:
    def __init__(self, data: ClassEval, *, time_limit_s: float = TIME_LIMIT_S, memory_mb: int = MEMORY_MB,
                 timing_factor: float = TIMING_FACTOR, workers: int | None = None, use_cache: bool = True,
                 progress: bool = True):
        from harness.errors import UserError
        from harness.sandbox import Policy

        if timing_factor < 1:
            raise UserError(f"timing_factor: must be >= 1 (1 turns timing flags off), got {timing_factor}")
        self.data = data
        self.time_limit_s = time_limit_s
        self.timing_factor = timing_factor
        self.workers = workers or os.cpu_count() or 1
        self.use_cache = use_cache
        self.progress = progress
        self.policy = Policy(timeout_s=60.0, memory_mb=memory_mb, preload=PRELOAD + available_task_modules())
        self.stats = {"cache_hits": 0, "graded": 0, "programs": 0, "rechecked": 0, "recheck_flips": 0,
                      "isolated_reruns": 0}

    def key(self, sample: Sample) -> str:
        parts = [grader_hash(), self.data.hash, sys.version_info[:2], self.time_limit_s, self.timing_factor,
                 self.policy.hash(), sample.task_id, normalize(sample.solution)]
        return hashlib.sha256(json.dumps(parts).encode()).hexdigest()[:32]

    def grade(self, samples: Iterable[Sample]) -> list[Graded]:
        graded = [Graded(s, self.key(s)) for s in samples]
        cache = VerdictCache("classeval", self.data.hash, enabled=self.use_cache)
        try:
            todo: dict[str, Graded] = {}
            for g in graded:
                if g.key in cache.entries:
                    g.classes, g.cached = cast(dict[str, dict], cache.entries[g.key]), True
                    self.stats["cache_hits"] += 1
                else:
                    todo.setdefault(g.key, g)
            self._run_all(list(todo.values()), cache)
            for g in graded:  # duplicates of a graded solution share its verdict
                if not g.classes:
                    g.classes = cast(dict[str, dict], cache.entries[g.key])
            return graded
        finally:
            cache.close()

    def _run_all(self, todo: list[Graded], cache: VerdictCache) -> None:
        if not todo:
            return
        self.stats["graded"] += len(todo)
        bar = tqdm(total=len(todo), desc="grading ClassEval", unit="solution", file=sys.stderr,
                   disable=not self.progress)
        results: dict[str, dict] = {}

        def keep(g: Graded, classes: dict, final: bool) -> None:
            results[g.key] = classes
            if final:
                # A check the sandbox could not run says nothing about the solution: never reuse it.
                (cache.remember if any(r.get("error_type") == INFRA_ERROR for r in classes.values())
                 else cache.put)(g.key, classes)
                bar.update(1)

        done = self._run(todo, self.workers)
        lost = [g for g in todo if len(done.get(g.key, {})) < len(self.data.tasks[g.sample.task_id].test_classes)]
        if lost:  # a program that died took its unfinished test classes with it: once more, alone
            self.stats["isolated_reruns"] += len(lost)
            again = self._run(lost, 1)
            for g in lost:
                done[g.key] = {**done.get(g.key, {}), **again.get(g.key, {})}
        pending = []
        for g in todo:
            classes = {c: done.get(g.key, {}).get(c) or _infra_record(c) for c in self.data.tasks[g.sample.task_id].test_classes}
            starved = any(_starved(r) for r in classes.values())
            keep(g, classes, final=not starved)
            if starved:
                pending.append(g)
        for _ in range(RECHECK_ROUNDS):  # timeouts that lost their CPU to other load: serially, alone
            if not pending:
                break
            self.stats["rechecked"] += len(pending)
            bar.set_description(f"re-checking {len(pending)} timeouts serially")
            again = self._run(pending, 1)
            still = []
            for g in pending:
                fresh, before = again.get(g.key, {}), results[g.key]
                for r in fresh.values():
                    r["rechecked"] = True
                classes = {c: fresh.get(c) or r for c, r in before.items()}
                self.stats["recheck_flips"] += sum(classes[c]["status"] != before[c]["status"] for c in classes)
                results[g.key] = classes
                if any(_starved(r) for r in classes.values()):
                    still.append(g)
                else:
                    keep(g, classes, final=True)
            pending = still
        for g in pending:  # starved every round: keep the last verdict
            keep(g, results[g.key], final=True)
        bar.close()
        for g in todo:
            g.classes = results[g.key]

    def _run(self, todo: list[Graded], workers: int) -> dict[str, dict[str, dict]]:
        """key -> test class -> record, for the test classes whose record came back."""
        from harness.sandbox import Program, Sandbox

        tag = f"@@sca-{secrets.token_hex(8)}@@"
        by_id = {f"s{i}": g for i, g in enumerate(todo)}
        out: dict[str, dict[str, dict]] = {}
        files = module_files(CLOCKS)

        def programs():
            for pid, g in by_id.items():
                task = self.data.tasks[g.sample.task_id]
                job = {"tag": tag, "source": f"{g.sample.solution}\n{task.test}", "test_classes": list(task.test_classes),
                       "limit_s": self.time_limit_s, "timing_factor": self.timing_factor}
                # A class may run twice (the timing re-run, `factor` times longer); the sandbox's own limit is
                # only a backstop well above what the program enforces itself.
                budget = len(task.test_classes) * self.time_limit_s * (1 + self.timing_factor)
                yield Program(id=pid, code=_program_source(), files={"job.json": json.dumps(job), **files},
                              timeout_s=10 * budget + 30)

        with Sandbox(self.policy, workers=workers) as sb:
            for verdict in sb.run(programs()):
                self.stats["programs"] += 1
                g = by_id[verdict.id]
                for line in verdict.stdout.splitlines():
                    pos = line.find(tag)
                    if pos < 0:
                        continue
                    try:
                        rec = json.loads(line[pos + len(tag):])
                    except ValueError:
                        continue
                    rec["official"] = OFFICIAL[rec["status"]]
                    out.setdefault(g.key, {})[rec.pop("test_class")] = rec
        return out


@functools.lru_cache(maxsize=1)
def _program_source() -> str:
    return _PROGRAM.read_text()


def _starved(rec: dict) -> bool:
    return maybe_starved({"status": rec["status"], "cpu_s": rec.get("cpu_s"), "duration_s": rec.get("duration_s", 0.0)})


INFRA_ERROR = "SandboxError"


def _infra_record(test_class: str) -> dict:
    # The sandbox could not run it even alone: no test results, an error as the official evaluation has it.
    return {"status": "error", "official": "error", "error_type": INFRA_ERROR, "tests_run": 0, "failures": 0,
            "errors": 0, "detail": "the sandbox program ended before this test class reported",
            "timing_sensitive": False, "timing_alternative": None}
