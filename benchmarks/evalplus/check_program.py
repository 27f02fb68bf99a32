"""The program the sandbox runs: grades a batch of (solution, test suite) checks with evalplus's own
`unsafe_execute`, one forked child per check, and prints one tagged JSON line per finished check.

It is sent as source text; it reads `job.pkl` (written by grade.py) from its working directory.
Only the stdlib, numpy and evalplus (and evoeval, for its datasets) are imported here (the grader's
sandbox preloads them).

For datasets graded with evoeval's checker (EvoEval's seven sets), the child runs evoeval 0.1.0's own
`unsafe_execute` instead, with its oracles and comparison, under exactly the same plumbing and limits.

What runs in the child is evalplus 0.3.1's `unsafe_execute` itself: its special oracles, float
tolerance, reliability guard and memory limit. What replaces `untrusted_check` around it is only
the plumbing: a bare os.fork and result slots allocated once per program instead of a
multiprocessing.Process and three shared objects per check (2-5 ms each), with the same limits,
join timeout, terminate-then-kill sequence, verdict mapping, stack depth and address space.
"""

import gc
import json
import mmap
import os
import pickle
import resource
import signal
import sys
import tempfile
import time

from sca_clocks import ChildClock, load_fair_time_limit  # shipped beside this program (harness/sandbox/clocks.py)

# Stack depth of unsafe_execute's frame in evalplus 0.3.1's checker child (measured: 15 frames down
# to untrusted_check in its pool worker, then 8 through multiprocessing's fork start-up). Matching it
# makes deep recursion hit RecursionError on the same input as under evalplus.
EVALPLUS_EXECUTE_DEPTH = 23
# evalplus.eval's status codes in its shared `stat` Value
_SUCCESS, _FAILED, _UNKNOWN = 0, 1, 3


def _stack_depth() -> int:
    depth, frame = 0, sys._getframe(1)
    while frame is not None:
        depth += 1
        frame = frame.f_back
    return depth


def _call_at_depth(depth, fn, *args):
    if _stack_depth() + 1 < depth:
        return _call_at_depth(depth, fn, *args)
    return fn(*args)


def recording_swallow_io(stream_type, last, solution_time):
    """evalplus's swallow_io (stdout, stderr and stdin all one write-only stream for the duration),
    as a plain class, that also records which call raised what and how long the solution's code ran.

    `last` gets "CALL:ExceptionName" (call -1 = exec of the solution, then one per input). The call
    counter lives in each forked child, so every check starts from zero.
    """
    calls = [0]

    class swallow_io:
        __slots__ = ("saved", "started")

        def __enter__(self):
            calls[0] += 1
            stream = stream_type()
            self.saved = (sys.stdout, sys.stderr, sys.stdin)
            sys.stdout = sys.stderr = sys.stdin = stream
            self.started = time.perf_counter()

        def __exit__(self, exc_type, exc, tb):
            solution_time.value += time.perf_counter() - self.started
            sys.stdout, sys.stderr, sys.stdin = self.saved
            if exc_type is not None:
                last.value = f"{calls[0] - 2}:{exc_type.__name__}".encode()[:255]
            return False

    return swallow_io


MAP_NORESERVE = getattr(mmap, "MAP_NORESERVE", 0x4000)  # Linux value; Python 3.11 does not export it


def _vm_size() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    return 0


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    # evalplus makes a temp dir per check; keep it inside our writable working dir.
    os.environ["TMPDIR"] = os.getcwd()
    tempfile.tempdir = None
    # Shared Values/Arrays default to /dev/shm, which the sandbox keeps read-only; use the working dir.
    import multiprocessing.heap
    from multiprocessing.sharedctypes import RawArray, RawValue

    multiprocessing.heap.Arena._dir_candidates = []

    import evalplus.eval as ev
    from evalplus.eval.utils import TimeoutException, WriteOnlyStringIO

    base_size = _vm_size()  # before any task data, which evalplus's worker also holds on top
    with open("job.pkl", "rb") as f:
        job = pickle.load(f)
    # Each check forks this process, and a fork costs ~35 us per MB resident: keep only decoded data.
    tasks = {tid: pickle.loads(job["tasks"].pop(tid)) for tid in list(job["tasks"])}
    suites = job["suites"]
    if job["checker"] == "evoeval":
        import evoeval.eval_test as checker  # imports evalplus's time_limit and swallow_io by name

        def check_args(task_id, entry_point, *rest):  # its signature adds the task id
            return (entry_point, task_id, *rest)
    else:
        checker = ev

        def check_args(task_id, entry_point, *rest):
            return (entry_point, *rest)

    # Written by the child, read by us: allocated once, reset before every check.
    stat, progress = RawValue("i", _UNKNOWN), RawValue("i", 0)
    solution_time = RawValue("d", 0.0)
    last = RawArray("c", 256)
    most_inputs = max(len(t[s]["inputs"]) for t in tasks.values() for s in suites) or 1
    details = RawArray("b", most_inputs)
    input_s = RawArray("d", most_inputs)  # each input's time, by the clock its limit is measured with

    # unsafe_execute looks both up at call time. evoeval's runs the solution's exec and every call inside
    # one swallow_io, so there an exception is recorded as the exec's (call -1) and error_type still names it.
    checker.time_limit = load_fair_time_limit(TimeoutException, input_s)
    checker.swallow_io = recording_swallow_io(WriteOnlyStringIO, last, solution_time)

    # Our result lines get a private copy of stdout; children (and anything a solution prints at the
    # file-descriptor level) see /dev/null, so they cannot corrupt the protocol or flood the output limit.
    out_fd = os.dup(1)
    out = os.fdopen(out_fd, "w")
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.close(devnull)

    tag = job["tag"]
    for task in tasks.values():
        # Outputs too big to ship (Mbpp/255: ~750 MB pickled, slower to load than to recompute) are
        # recomputed here from the canonical solution, exactly as evalplus's ground truth does.
        for suite in suites:
            if task[suite]["expected"] is None:
                from evalplus.gen.util import trusted_exec

                task[suite]["expected"] = trusted_exec(task["canonical"], task[suite]["inputs"],
                                                       task["entry_point"], output_not_none=task["output_not_none"])

    # evalplus checks in a child of a worker forked from a process that holds the whole dataset and
    # ground truth, plus the task's own data, under a 4 GiB RLIMIT_AS. Reserve the same address space
    # (PROT_NONE: costs no memory) so a memory-hungry solution hits MemoryError where it does there.
    reserve = job["address_space"] - base_size
    if reserve > 0:
        _reservation = mmap.mmap(-1, reserve, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS | MAP_NORESERVE,
                                 prot=0)  # PROT_NONE; noqa: F841 (kept mapped for every child)
    # Children then leave the data alone: a collection in a child no longer walks (and copies) it.
    gc.collect()
    gc.freeze()

    dataset = job["dataset"]

    def execute(code: str, task_id: str, task: dict, inputs: list, expected: list, limits: list, cap: float) -> dict:
        """evalplus's untrusted_check on one suite: a forked child, its limits, its verdict mapping."""
        stat.value, progress.value, solution_time.value, last.value = _UNKNOWN, 0, 0.0, b""
        out.flush()  # finished records reach the sandbox even if a later check takes this program down
        start = time.monotonic()
        cpu_before = _children_cpu()
        pid = os.fork()
        if pid == 0:
            try:
                os.close(out_fd)  # a solution must not be able to write result lines
                args = check_args(task_id, task["entry_point"], code, inputs, expected, limits, task["atol"], True,
                                  stat, details, progress)
                _call_at_depth(EVALPLUS_EXECUTE_DEPTH, checker.unsafe_execute, dataset, *args)
            finally:
                os._exit(0)
        child = ChildClock(pid)
        if not child.join_load_fair(cap + 1):
            # evalplus: terminate, sleep 0.1 s, kill if still alive, sleep 0.1 s; here each sleep ends
            # when the child does, since the verdict is read only after it is gone
            os.kill(pid, signal.SIGTERM)
            if not child.wait(0.1):
                os.kill(pid, signal.SIGKILL)
        child.close()
        duration = time.monotonic() - start
        cpu = _children_cpu() - cpu_before

        # untrusted_check's verdict from the shared slots
        done = progress.value
        code_ = stat.value
        status = {_SUCCESS: "pass", _FAILED: "fail"}.get(code_, "timeout")
        if status == "pass" and (done != len(inputs) or not all(details[:done])):
            status = "fail"
        fail_index = done - 1 if status != "pass" and done else None
        error_type = None
        if status != "pass":
            idx, _, name = last.value.decode(errors="replace").partition(":")
            if name and (idx == "-1" or (fail_index is not None and idx == str(fail_index))):
                error_type = name
            elif status == "fail" and fail_index is not None:
                error_type = "AssertionError"  # wrong output: evalplus asserts the comparison
        return {"status": status, "n_done": done, "n_inputs": len(inputs), "fail_index": fail_index,
                "error_type": error_type, "duration_s": round(duration, 4), "cpu_s": round(cpu, 4),
                # time inside the solution's own code (exec and calls, time-limit waits included): what
                # no grader can skip
                "solution_s": round(solution_time.value, 4), "suite_s": round(child.used(), 4)}

    slack = job["timing_factor"]

    def timing(rec: dict, code: str, task_id: str, task: dict, suite: dict, limits: list, cap: float) -> None:
        """Flag a verdict that could differ on a host `slack` times faster or slower (see grade.py)."""
        finished = input_s[: rec["n_done"]]
        ratios = [t / limit for t, limit in zip(finished, limits) if t >= 0]
        slowest = max(range(len(ratios)), key=ratios.__getitem__) if ratios else None
        info = {"factor": slack, "max_ratio": round(ratios[slowest], 4) if ratios else None,
                "slowest_input": slowest, "suite_s": rec["suite_s"], "suite_cap_s": round(cap, 4), "recheck": None}
        sensitive, alternative = False, None
        if rec["status"] == "timeout" or rec["error_type"] == "TimeoutException":
            # Re-run the input that ran out, alone, with a limit `slack` times longer: a genuine infinite
            # loop costs one bounded wait; a slow one shows it finishes, and whether its output is right.
            k = rec["n_done"] if rec["status"] == "timeout" else rec["fail_index"]
            if k >= len(limits):  # every input ran: what hung was not the solution's work
                rec["timing_sensitive"], rec["timing_alternative"], rec["timing"] = False, None, info
                return
            longer = slack * limits[k]
            again = execute(code, task_id, task, suite["inputs"][k:k + 1], suite["expected"][k:k + 1], [longer],
                            longer + 1)
            sensitive = again["status"] != "timeout" and again["error_type"] != "TimeoutException"
            alternative = again["status"] if sensitive else None
            info["recheck"] = {"input": k, "limit_s": round(longer, 4), "finished": sensitive,
                               "status": again["status"], "duration_s": again["duration_s"],
                               "input_s": round(input_s[0], 4) if again["n_done"] else None}
        elif rec["status"] == "pass" and ratios and ratios[slowest] * slack > 1:
            sensitive, alternative = True, "fail"  # a slower host times this input out
        elif rec["suite_s"] * slack > cap:
            sensitive, alternative = True, "timeout"  # a slower host hits the whole-suite cap
        rec["timing_sensitive"], rec["timing_alternative"], rec["timing"] = sensitive, alternative, info

    limit_floor, factor, suite_cap_s = job["min_time_limit"], job["gt_time_limit_factor"], job["suite_cap_s"]
    for check in job["checks"]:
        task = tasks[check["task_id"]]
        suite = task[check["suite"]]
        # untrusted_check's limits: per input, and a join timeout for the whole suite
        limits = [max(limit_floor, factor * t) for t in suite["ref_time"]]
        cap = min(suite_cap_s, sum(limits)) + 1
        rec = execute(check["code"], check["task_id"], task, suite["inputs"], suite["expected"], limits, cap)
        if slack > 1:
            timing(rec, check["code"], check["task_id"], task, suite, limits, cap)
        out.write(tag + json.dumps({"key": check["key"], "suite": check["suite"], **rec}) + "\n")
    out.flush()


if __name__ == "__main__":  # the sandbox runs it as a script; tests import its clocks
    main()
