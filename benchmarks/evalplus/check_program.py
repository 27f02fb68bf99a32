"""The program the sandbox runs: grades a batch of (solution, test suite) checks with evalplus's own
`untrusted_check`, one forked child per check, and prints one tagged JSON line per finished check.

It is sent as source text; it reads `job.pkl` (written by grade.py) from its working directory.
Only the stdlib, numpy and evalplus are imported here.
"""

import contextlib
import json
import mmap
import multiprocessing
import os
import pickle
import resource
import signal
import sys
import tempfile
import time
import zlib

# Stack depth of untrusted_check's frame inside evalplus 0.3.1's pool worker (measured): matching it
# makes deep recursion hit RecursionError on the same input as under evalplus.
EVALPLUS_CHECK_DEPTH = 15


def _stack_depth() -> int:
    depth, frame = 0, sys._getframe(1)
    while frame is not None:
        depth += 1
        frame = frame.f_back
    return depth


def _call_at_depth(depth, fn, *args, **kwargs):
    if _stack_depth() + 1 < depth:
        return _call_at_depth(depth, fn, *args, **kwargs)
    return fn(*args, **kwargs)


_open, _read, _close = os.open, os.read, os.close  # bound now: solutions may break the os module


def _run_delay(pid: str = "self") -> float:
    """Seconds a process has spent runnable but waiting for a CPU (0.0 where the kernel hides it)."""
    try:
        fd = _open(f"/proc/{pid}/schedstat", os.O_RDONLY)
        try:
            return int(_read(fd, 128).split()[1]) / 1e9
        finally:
            _close(fd)
    except (OSError, ValueError, IndexError):
        return 0.0


def load_fair_time_limit(timeout_exception):
    """evalplus's per-input wall-clock limit, not counting time spent waiting for a CPU.

    On an idle host it is evalplus's `time_limit` exactly (sleeping still counts); under load the
    alarm is pushed back by the run-queue wait, so a verdict does not depend on what else runs.
    """

    @contextlib.contextmanager
    def time_limit(seconds: float):
        start = _run_delay()
        credited = [0.0]

        def handler(signum, frame):
            waited = _run_delay() - start - credited[0]
            if waited > 1e-3:
                credited[0] += waited
                signal.setitimer(signal.ITIMER_REAL, waited)
                return
            raise timeout_exception("Timed out!")

        signal.setitimer(signal.ITIMER_REAL, seconds)
        signal.signal(signal.SIGALRM, handler)
        try:
            yield
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)

    return time_limit


class LoadFairProcess(multiprocessing.Process):
    """evalplus's wall-clock cap on a whole suite (join timeout), extended by the child's CPU waits."""

    def join(self, timeout=None):
        super().join(timeout)
        credited = 0.0
        while timeout is not None and self.is_alive():
            waited = _run_delay(str(self.pid)) - credited
            if waited <= 1e-3:
                return
            credited += waited
            super().join(waited)


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
    os.environ.pop("EVALPLUS_TIMEOUT_PER_TASK", None)  # a set value crashes evalplus's min(str, float)
    # Shared Values/Arrays default to /dev/shm, which the sandbox keeps read-only; use the working dir.
    import multiprocessing.heap

    multiprocessing.heap.Arena._dir_candidates = []

    import evalplus.eval as ev
    from evalplus.eval.utils import TimeoutException, swallow_io

    base_size = _vm_size()  # before any task data, which evalplus's worker also holds on top
    with open("job.pkl", "rb") as f:
        job = pickle.load(f)
    job["tasks"] = {tid: pickle.loads(zlib.decompress(blob)) for tid, blob in job["tasks"].items()}

    ev.time_limit = load_fair_time_limit(TimeoutException)  # unsafe_execute looks it up at call time
    multiprocessing.Process = LoadFairProcess  # what untrusted_check starts and joins

    # The child records the exception type that escapes exec / each call; index -1 = exec.
    last = multiprocessing.Array("c", 256, lock=False)
    calls = [0]

    @contextlib.contextmanager
    def recording_swallow_io():
        calls[0] += 1
        try:
            with swallow_io():
                yield
        except BaseException as exc:
            last.value = f"{calls[0] - 2}:{type(exc).__name__}".encode()[:255]
            raise

    ev.swallow_io = recording_swallow_io  # unsafe_execute looks this global up at call time

    # Our result lines get a private copy of stdout; children (and anything a solution prints at the
    # file-descriptor level) see /dev/null, so they cannot corrupt the protocol or flood the output limit.
    out = os.fdopen(os.dup(1), "w")
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.close(devnull)

    tag = job["tag"]
    tasks = job["tasks"]
    for task in tasks.values():
        # Outputs too big to ship (up to ~800 MB pickled) are recomputed here from the canonical
        # solution, exactly as evalplus's ground truth does (trusted_exec deep-copies each input).
        for suite in ("base", "plus"):
            if suite in task and task[suite]["expected"] is None:
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
    for check in job["checks"]:
        task = tasks[check["task_id"]]
        suite = task[check["suite"]]
        calls[0] = 0
        last.value = b""
        start = time.monotonic()
        cpu_before = _children_cpu()
        status, details = _call_at_depth(
            EVALPLUS_CHECK_DEPTH,
            ev.untrusted_check,
            job["dataset"],
            check["code"],
            suite["inputs"],
            task["entry_point"],
            expected=suite["expected"],
            atol=task["atol"],
            ref_time=suite["ref_time"],
            fast_check=True,
            min_time_limit=job["min_time_limit"],
            gt_time_limit_factor=job["gt_time_limit_factor"],
        )
        duration = time.monotonic() - start
        cpu = _children_cpu() - cpu_before  # counts only reaped children: a killed one may read 0
        done = len(details)
        fail_index = done - 1 if status != "pass" and done else None
        error_type = None
        if status != "pass":
            idx, _, name = last.value.decode(errors="replace").partition(":")
            if name and (idx == "-1" or (fail_index is not None and idx == str(fail_index))):
                error_type = name
            elif status == "fail" and fail_index is not None:
                error_type = "AssertionError"  # wrong output: evalplus asserts the comparison
        record = {
            "key": check["key"],
            "suite": check["suite"],
            "status": status,
            "n_done": done,
            "n_inputs": len(suite["inputs"]),
            "fail_index": fail_index,
            "error_type": error_type,
            "duration_s": round(duration, 4),
            "cpu_s": round(cpu, 4),
        }
        out.write(tag + json.dumps(record) + "\n")
        out.flush()


main()
