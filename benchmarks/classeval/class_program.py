"""The program the sandbox runs for one ClassEval solution: each test class in its own forked process.

It is sent as source text with `job.json` (written by grade.py) beside it. In the official order, every
test class of the task runs in a fresh child: the child executes the solution followed by the test file
as a module (with a real `__file__`, as the official evaluation imports it), loads that one test class
and runs it with unittest's text runner; it reports its counts on a pipe. The children share this
program's working directory, as the official evaluation runs them in one directory: a test class may
read files an earlier one wrote (ClassEval_25 loads the cookies ClassEval_25's first class saved).

A child gets `limit_s` seconds (the official 5 s per test class, module execution included), not counting
time it waits for a CPU; one that runs over is killed with its process group. Its stdout and stderr go to
/dev/null, so a solution cannot corrupt the result lines or flood the output limit. Timing: a pass that
used more than 1/factor of its limit is flagged timing-sensitive, and a timed-out class is run again once
with a limit `factor` times longer to tell "slow" from "never finishes".

Only the standard library is imported here, plus the shipped load-fair clocks.
"""

import errno
import json
import os
import resource
import signal
import sys
import time
import traceback
import types
import unittest

from sca_clocks import ChildClock  # pyright: ignore[reportMissingImports] (shipped beside this program)

MODULE = "classeval_solution"
DETAIL_CHARS = 600
LISTED_TESTS = 5
# Bound now: a solution may replace these on the modules it shares with us.
_write, _exit, _dumps = os.write, os._exit, json.dumps


def _tail(text):
    return text if len(text) <= DETAIL_CHARS else "..." + text[-DETAIL_CHARS:]


def _child(source, test_class, out_fd):
    """Run one test class; write one JSON report to out_fd."""
    report = {}
    try:
        path = os.path.abspath(MODULE + ".py")
        module = types.ModuleType(MODULE)
        module.__file__ = path
        sys.modules[MODULE] = module
        try:
            exec(compile(source, path, "exec"), module.__dict__)
        except BaseException as exc:
            report = {"stage": "module", "error_type": type(exc).__name__, "detail": _tail(traceback.format_exc())}
            return
        cls = getattr(module, test_class, None)
        if not (isinstance(cls, type) and issubclass(cls, unittest.TestCase)):
            report = {"stage": "load", "error_type": "MissingTestClass",
                      "detail": f"the program defines no unittest.TestCase named {test_class}"}
            return
        result = Recording()
        unittest.TestLoader().loadTestsFromTestCase(cls).run(result)
        bad = result.failures + result.errors
        report = {"stage": "run", "tests_run": result.testsRun, "failures": len(result.failures),
                  "errors": len(result.errors), "skipped": len(result.skipped),
                  "failed_tests": [test.id().rsplit(".", 1)[-1] for test, _ in bad][:LISTED_TESTS],
                  "error_type": result.first_type, "detail": _tail(result.first_detail) if bad else None}
    except BaseException as exc:  # a solution that breaks unittest itself
        report = {"stage": "run", "error_type": type(exc).__name__, "detail": _tail(traceback.format_exc())}
    finally:
        try:
            _write(out_fd, _dumps(report, default=str).encode())
        finally:
            _exit(0)


class Recording(unittest.TestResult):
    """unittest's result, also keeping the first failing test's exception type and traceback."""

    first_type: str | None = None
    first_detail: str | None = None

    def _note(self, test, err):
        if self.first_type is None:
            self.first_type = getattr(err[0], "__name__", str(err[0]))
            self.first_detail = f"{test.id().rsplit('.', 1)[-1]}: {''.join(traceback.format_exception(*err))}"

    def addError(self, test, err):
        self._note(test, err)
        super().addError(test, err)

    def addFailure(self, test, err):
        self._note(test, err)
        super().addFailure(test, err)


def _children_cpu():
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_class(source, test_class, limit_s):
    """One test class in a fresh child: its report plus status, timings and how it ended."""
    read_fd, write_fd = os.pipe()
    cpu_before = _children_cpu()
    pid = os.fork()
    if pid == 0:
        try:
            os.setpgid(0, 0)
            os.close(read_fd)
            devnull = os.open(os.devnull, os.O_RDWR)
            for fd in (0, 1, 2):
                os.dup2(devnull, fd)
        except BaseException:
            os._exit(70)
        _child(source, test_class, write_fd)
    os.close(write_fd)
    started = time.monotonic()
    clock = ChildClock(pid)
    killed = False
    if not clock.join_load_fair(limit_s):
        killed = True
        try:
            os.killpg(pid, signal.SIGKILL)
        except OSError:
            os.kill(pid, signal.SIGKILL)
    clock.close()  # reaps the child
    try:  # what it left behind in its process group
        os.killpg(pid, signal.SIGKILL)
    except OSError:
        pass
    duration = time.monotonic() - started
    # The report was written before the child exited; a process it started elsewhere may still hold the
    # pipe open, so read what is there without waiting for the end of the stream.
    os.set_blocking(read_fd, False)
    chunks = []
    while True:
        try:
            chunk = os.read(read_fd, 1 << 16)
        except OSError as exc:
            if exc.errno == errno.EAGAIN:
                break
            raise
        if not chunk:
            break
        chunks.append(chunk)
    os.close(read_fd)
    rec = {"used_s": round(clock.used(), 4), "duration_s": round(duration, 4),
           "cpu_s": round(_children_cpu() - cpu_before, 4), "limit_s": limit_s}
    try:
        report = json.loads(b"".join(chunks) or b"null")
    except ValueError:
        report = None
    if killed:
        rec.update(status="timeout", error_type="Timeout", detail=f"still running after {limit_s:g} s")
    elif not isinstance(report, dict):
        status = clock.status or 0
        how = (f"killed by signal {os.WTERMSIG(status)}" if os.WIFSIGNALED(status)
               else f"exited with status {os.WEXITSTATUS(status)}")
        # SIGKILL that we did not send: the memory cgroup's OOM killer
        memory = os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL
        rec.update(status="memory" if memory else "error", error_type="MemoryLimit" if memory else "Died",
                   detail=f"the test process {how} before reporting")
    else:
        rec.update(report)
        rec["status"] = _status(report)
    return rec


def _status(report):
    """pass / partial / fail / error, as the official evaluation's success / partial_success / fail / error."""
    run = report.get("tests_run", 0)
    errors, failures = report.get("errors", 0), report.get("failures", 0)
    if report.get("stage") != "run" or run == 0 or errors == run:
        return "error"
    if errors + failures == 0:
        return "pass"
    return "partial" if errors + failures < run else "fail"


def main():
    with open("job.json") as f:
        job = json.load(f)
    with open(MODULE + ".py", "w") as f:  # tracebacks, inspect and `__file__` readers see the real source
        f.write(job["source"])
    out = os.fdopen(os.dup(1), "w")
    slack = job["timing_factor"]
    for test_class in job["test_classes"]:
        rec = run_class(job["source"], test_class, job["limit_s"])
        sensitive, alternative, again = False, None, None
        if rec["status"] == "timeout" and slack > 1:
            again = run_class(job["source"], test_class, job["limit_s"] * slack)
            sensitive = again["status"] != "timeout"
            alternative = again["status"] if sensitive else None
        elif rec["status"] == "pass" and rec["used_s"] * slack > job["limit_s"]:
            sensitive, alternative = True, "timeout"  # a host `slack` times slower runs it out
        rec.update(test_class=test_class, timing_sensitive=sensitive, timing_alternative=alternative,
                   recheck=None if again is None else {k: again.get(k) for k in ("status", "used_s", "limit_s")})
        out.write(job["tag"] + json.dumps(rec, default=str) + "\n")
        out.flush()


if __name__ == "__main__":
    main()
