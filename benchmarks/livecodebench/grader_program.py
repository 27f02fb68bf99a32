"""The program the sandbox runs: every (solution, test) in its own forked process, with a real stdin and stdout.

Shipped by grade.py as the module lcb_grader (the program itself is `lcb_grader.main()`), with the
files it reads in its working directory:
  job.json             what to grade (solutions, test type, limits, tag for result lines)
  t/<i>.in, t/<i>.out  test i's input and expected output, as files: a child's stdin *is* t/<i>.in
  sca_clocks.py        the sandbox programs' load-fair clocks (harness/sandbox/clocks.py)
  sca_worker.py        the sandbox's fork server, for its `python main.py` runner and error parser
  lcb_compare.py       the comparison rules (compare.py)
Standard library only. One tagged JSON line per finished solution goes to a private copy of stdout.

A stdin test's child gets t/<i>.in as fd 0 and capture files as fds 1 and 2, fresh sys.std* objects
over them, and runs the solution exactly as `python main.py < in > out` would (the sandbox's own
runner: exit codes, SystemExit, threads joined at exit, atexit, flush). A functional test's child
imports the solution as a module (no `__main__`), calls Solution().<func_name>(*args) on the decoded
arguments, and writes the JSON-encoded result to fd 3; its prints go to /dev/null.
Tests run in order and stop once the solution has failed under both comparison rules.
"""

import builtins
import gc
import json
import os
import resource
import signal
import sys
import time
import types

from sca_clocks import ChildClock  # load-fair: time spent waiting for a CPU does not count
from sca_worker import error_type, run_program
import lcb_compare as compare

# Names LeetCode's Python 3 environment has without an import: its solutions rely on them (`List[int]`
# in the starter code). Given to functional problems of platform leetcode only; the closing builtins
# import undoes any shadowing (math.pow).
LEETCODE_NAMES = """
import bisect, collections, functools, heapq, itertools, math, operator, random, re, string, sys
from bisect import *
from collections import *
from functools import *
from heapq import *
from itertools import *
from math import *
from operator import *
from string import *
from typing import *
from builtins import *
"""
SHOW = 300  # characters of input / expected / output kept in a failure record
MIN_OUTPUT_CAP = 1 << 20


def _trim(text):
    return text if len(text) <= SHOW else text[: SHOW // 2] + " ...(%d chars)... " % len(text) + text[-SHOW // 2 :]


def _read(path, limit=None):
    with open(path, "rb") as f:
        data = f.read() if limit is None else f.read(limit)
    return data.decode("utf-8", "replace")


def _children_cpu():
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


class Captures:
    """stdout, stderr and result files, opened once and emptied before every test."""

    def __init__(self):
        flags = os.O_RDWR | os.O_CREAT | os.O_TRUNC
        self.fds = {name: os.open("cap." + name, flags, 0o600) for name in ("out", "err", "res")}

    def reset(self):
        for fd in self.fds.values():
            os.ftruncate(fd, 0)
            os.lseek(fd, 0, os.SEEK_SET)

    def read(self, name, limit):
        fd = self.fds[name]
        size = os.fstat(fd).st_size
        return os.pread(fd, min(size, limit), 0).decode("utf-8", "replace")


def _fresh_stdio():
    # What the interpreter builds at start-up for non-tty fds: block-buffered text over fds 0/1/2.
    sys.stdin = sys.__stdin__ = open(0, "r", encoding="utf-8", errors="surrogateescape", newline="\n", closefd=False)
    sys.stdout = sys.__stdout__ = open(1, "w", encoding="utf-8", errors="surrogateescape", newline="\n",
                                       closefd=False)
    sys.stderr = sys.__stderr__ = open(2, "w", encoding="utf-8", errors="backslashreplace", newline="\n",
                                       closefd=False, buffering=1)


def _child_limits(output_cap, timeout):
    os.setpgid(0, 0)  # the parent kills the whole group at the deadline
    try:  # over the memory limit, the kernel picks this child, never the grader
        fd = os.open("/proc/self/oom_score_adj", os.O_WRONLY)
        os.write(fd, b"1000")
        os.close(fd)
    except OSError:
        pass
    resource.setrlimit(resource.RLIMIT_FSIZE, (output_cap, output_cap))
    cpu = int(timeout * (os.cpu_count() or 1) + 2)  # backstop; the parent's wall clock decides
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))


def stdin_child(code, index, caps, output_cap, timeout):
    try:
        _child_limits(output_cap, timeout)
        fd = os.open("t/%d.in" % index, os.O_RDONLY)
        os.dup2(fd, 0)
        os.dup2(caps.fds["out"], 1)
        os.dup2(caps.fds["err"], 2)
        os.closerange(3, 1 << 16)
        _fresh_stdio()
        gc.enable()
        status = run_program(code, os.path.join(os.getcwd(), "main.py"))
    except BaseException:
        status = 99
    os._exit(status)


def functional_child(job, code, index, caps, output_cap, timeout):
    status = 0
    try:
        _child_limits(output_cap, timeout)
        null = os.open(os.devnull, os.O_RDWR)
        os.dup2(null, 0)
        os.dup2(null, 1)  # prints are ignored
        os.dup2(caps.fds["err"], 2)
        os.dup2(caps.fds["res"], 3)
        os.closerange(4, 1 << 16)
        _fresh_stdio()
        gc.enable()
        sys.set_int_max_str_digits(0)  # arguments and results are data: JSON allows any integer
        with open("t/%d.in" % index, encoding="utf-8") as f:
            args = [json.loads(line) for line in f.read().split("\n") if line.strip()]
        with open("t/%d.out" % index, encoding="utf-8") as f:
            expected = json.loads(f.read())
        module = types.ModuleType("solution")
        module.__dict__["__builtins__"] = builtins
        sys.modules["solution"] = module
        if job["leetcode_names"]:
            exec(LEETCODE_NAMES, module.__dict__)
        exec(code, module.__dict__)
        if "Solution" not in module.__dict__:
            raise NameError("the code defines no class Solution")
        result = getattr(module.Solution(), job["func_name"])(*args)
        try:
            encoded, why = json.dumps(result), None
        except (TypeError, ValueError) as exc:
            encoded, why = None, "%s: %s" % (type(exc).__name__, exc)
        try:  # upstream: prediction == expected, a top-level tuple taken as a list
            upstream = bool((list(result) if isinstance(result, tuple) else result) == expected)
        except Exception:
            upstream = False
        data = json.dumps({"json": encoded, "not_json": why, "type": type(result).__name__,
                           "upstream": upstream}).encode()
        view = memoryview(data)
        while view:
            view = view[os.write(3, view):]
    except BaseException as exc:
        try:
            import traceback

            traceback.print_exception(type(exc), exc, exc.__traceback__.tb_next if exc.__traceback__ else None)
            sys.stderr.flush()
        except BaseException:
            pass
        status = 1
    os._exit(status)


def run_test(job, code, index, caps):
    """Fork one child for test `index`; return (outcome dict, captured output or result text)."""
    caps.reset()
    timeout = job["timeout_s"]
    output_cap = max(MIN_OUTPUT_CAP, 2 * job["output_bytes"][index] + (64 << 10))
    cpu_before = _children_cpu()
    started = time.monotonic()
    pid = os.fork()
    if pid == 0:
        if job["testtype"] == "stdin":
            stdin_child(code, index, caps, output_cap, timeout)
        functional_child(job, code, index, caps, output_cap, timeout)
    child = ChildClock(pid)
    finished = child.join_load_fair(timeout)
    delay = 0.0
    if not finished:
        delay = child.delay()  # its CPU waits, which the limit gave back (readable while it lives)
        try:
            os.killpg(pid, signal.SIGKILL)
        except OSError:
            os.kill(pid, signal.SIGKILL)
    child.close()
    try:
        os.killpg(pid, signal.SIGKILL)  # whatever it left behind
    except OSError:
        pass
    duration = time.monotonic() - started
    cpu = _children_cpu() - cpu_before
    outcome = {"duration_s": duration, "cpu_s": cpu, "delay_s": delay}
    exit_code = os.waitstatus_to_exitcode(child.status)
    if not finished or exit_code == -signal.SIGXCPU:
        outcome.update(status="timeout", detail="time limit %gs exceeded" % timeout)
        return outcome, ""
    stderr = caps.read("err", 1 << 16)
    if exit_code != 0 and max(os.fstat(caps.fds[n]).st_size for n in ("out", "err", "res")) >= output_cap:
        # Python ignores SIGXFSZ: the write past the cap fails and the program dies of that.
        outcome.update(status="error", detail="output limit exceeded (%d bytes)" % output_cap)
        return outcome, ""
    if exit_code < 0:
        sig = -exit_code
        if sig == signal.SIGKILL:
            detail = "killed by the memory limit"
        elif sig == signal.SIGXFSZ:
            detail = "output limit exceeded (%d bytes)" % output_cap
        else:
            detail = "killed by %s" % signal.Signals(sig).name
        outcome.update(status="error", detail=detail)
        return outcome, ""
    if exit_code != 0:
        etype = error_type(stderr)
        last = stderr.strip().splitlines()[-1] if stderr.strip() else ""
        detail = (last if etype else "exit code %d%s" % (exit_code, ": " + last if last else ""))[:SHOW]
        outcome.update(status="error", detail=detail, error_type=etype or "exit code %d" % exit_code)
        return outcome, ""
    outcome["status"] = "ok"
    if job["testtype"] == "stdin":
        return outcome, caps.read("out", output_cap)
    return outcome, caps.read("res", output_cap)


def failure(job, index, verdict, detail, output=None, error_type=None):
    record = {"test": index, "verdict": verdict, "detail": detail, "error_type": error_type,
              "input": _trim(_read("t/%d.in" % index, 1 << 16)), "expected": _trim(_read("t/%d.out" % index, 1 << 16))}
    if output is not None:
        record["output"] = _trim(output)
    return record


def compare_test(job, index, captured):
    """((ours ok, why, shown output), (upstream ok, why)) for a test that ran to a clean exit."""
    tolerance = job["tolerance"]
    expected = _read("t/%d.out" % index)
    if job["testtype"] == "stdin":
        ours = compare.stdin_equal(captured, expected, tolerance)
        up = compare.stdin_equal_upstream(captured, expected)
        return (ours[0], ours[1], captured), up
    result = json.loads(captured)
    up = (result["upstream"], None if result["upstream"] else "not equal under Python ==")
    if result["json"] is None:
        return (False, "result is not JSON (%s): %s" % (result["type"], result["not_json"]), result["type"]), up
    ok, why = compare.json_equal(json.loads(result["json"]), json.loads(expected), tolerance)
    return (ok, why, result["json"]), up


def grade_solution(job, solution, caps):
    """Run one solution's tests from its start; return its result record."""
    state = solution.get("state") or {}
    ours, up = state.get("ours"), state.get("upstream")
    passed = {"ours": state.get("passed_ours", 0), "upstream": state.get("passed_upstream", 0)}
    timed_out, slowest, ran = None, 0.0, 0
    started = time.monotonic()
    try:
        code = compile(solution["code"], os.path.join(os.getcwd(), "main.py"), "exec")
    except (SyntaxError, ValueError, OverflowError, MemoryError, RecursionError) as exc:
        detail = "%s: %s" % (type(exc).__name__, getattr(exc, "msg", None) or exc)
        ours = ours or failure(job, solution["start"], "error", detail[:SHOW], error_type=type(exc).__name__)
        up = up or ours
        code = None
    if code is not None:
        for index in range(solution["start"], job["n_tests"]):
            outcome, captured = run_test(job, code, index, caps)
            ran += 1
            slowest = max(slowest, outcome["duration_s"])
            if outcome["status"] != "ok":
                fail = failure(job, index, outcome["status"], outcome["detail"], error_type=outcome.get("error_type"))
                if outcome["status"] == "timeout":
                    timed_out = {"test": index, "duration_s": round(outcome["duration_s"], 4),
                                 "cpu_s": round(outcome["cpu_s"], 4), "delay_s": round(outcome["delay_s"], 4)}
                ours, up = ours or fail, up or fail
                break
            (ok_ours, why_ours, shown), (ok_up, why_up) = compare_test(job, index, captured)
            if ours is None:
                if ok_ours:
                    passed["ours"] += 1
                else:
                    ours = failure(job, index, "fail", why_ours, output=shown)
            if up is None:
                if ok_up:
                    passed["upstream"] += 1
                else:
                    up = failure(job, index, "fail", why_up, output=shown)
            if ours is not None and up is not None:
                break
    return {"key": solution["key"], "ours": ours or {"verdict": "pass"}, "upstream": up or {"verdict": "pass"},
            "passed_ours": passed["ours"], "passed_upstream": passed["upstream"], "n_tests": job["n_tests"],
            "tests_run": ran, "timed_out": timed_out, "slowest_s": round(slowest, 4),
            "seconds": round(time.monotonic() - started, 4)}


def main():
    sys.set_int_max_str_digits(0)  # expected outputs are data: JSON allows any integer
    with open("job.json", encoding="utf-8") as f:
        job = json.load(f)
    out = os.fdopen(os.dup(1), "w")  # result lines: children never hold this fd
    null = os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, 1)
    os.close(null)
    if job["leetcode_names"]:
        exec(LEETCODE_NAMES, {})  # imported once here, so every forked child starts with them loaded
    caps = Captures()
    gc.collect()
    gc.freeze()  # fewer copy-on-write faults in every forked child
    for solution in job["solutions"]:
        record = grade_solution(job, solution, caps)
        out.write(job["tag"] + json.dumps(record) + "\n")
        out.flush()  # finished records reach the sandbox even if a later solution takes this program down
    out.close()


if __name__ == "__main__":
    main()
