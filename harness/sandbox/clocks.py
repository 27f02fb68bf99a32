"""Load-fair clocks for programs that run inside the sandbox: time that does not count waiting for a CPU.

Standard library only: grading programs ship this file into the sandbox beside themselves (see
harness/sandbox/modules.py) and import it as `sca_clocks`; the harness imports it as
harness.sandbox.clocks. A limit measured by these clocks is the plain wall-clock limit on a quiet host,
and does not shrink when other processes compete for the CPUs.
"""

import os
import select
import signal
import time

_open, _pread, _close = os.open, os.pread, os.close  # bound now: solutions may break the os module


class RunDelay:
    """Seconds a process has spent runnable but waiting for a CPU (0.0 where the kernel hides it).

    The file is opened once per process and re-read with pread (a procfs seq file regenerates at
    offset 0): one syscall per input instead of three.
    """

    def __init__(self, pid: str = "self"):
        try:
            self.fd = _open(f"/proc/{pid}/schedstat", os.O_RDONLY)
        except OSError:
            self.fd = -1

    def __call__(self) -> float:
        try:
            return int(_pread(self.fd, 128, 0).split()[1]) / 1e9
        except (OSError, ValueError, IndexError):
            return 0.0

    def close(self) -> None:
        if self.fd >= 0:
            _close(self.fd)
            self.fd = -1


def load_fair_time_limit(timeout_exception, used_s=None):
    """evalplus's per-input wall-clock limit, not counting time spent waiting for a CPU.

    On an idle host it is evalplus's `time_limit` exactly (sleeping still counts, the SIGALRM handler
    is installed afresh for every input); under load, when the alarm fires, the time the input spent
    waiting for a CPU is given back and the alarm re-armed for what is left, so a verdict does not
    depend on what else runs. What is left is recomputed from the clocks at every alarm, so late
    signals and short waits cannot add up to more than the limit.

    `used_s` (a shared array, one slot per input in call order) receives each input's time by the same
    clock: -1.0 while it runs, its seconds once it ends (also when it timed out).
    """
    clock = [None, 0, 0]  # RunDelay of this process, the pid it was opened in, inputs started in it

    class time_limit:
        __slots__ = ("seconds", "started", "delay_before", "index")

        def __init__(self, seconds: float):
            if clock[1] != os.getpid():  # first input in this child: /proc/self is ours only now
                clock[0], clock[1], clock[2] = RunDelay(), os.getpid(), 0
            self.index = clock[2]
            clock[2] += 1
            if used_s is not None and self.index < len(used_s):
                used_s[self.index] = -1.0
            self.seconds = seconds
            self.delay_before = clock[0]()
            self.started = time.monotonic()
            signal.setitimer(signal.ITIMER_REAL, seconds)
            signal.signal(signal.SIGALRM, self.handler)

        def used(self) -> float:
            return time.monotonic() - self.started - (clock[0]() - self.delay_before)

        def handler(self, signum, frame):
            left = self.seconds - self.used()
            if left > 1e-3:
                signal.setitimer(signal.ITIMER_REAL, left)
                return
            raise timeout_exception("Timed out!")

        def __enter__(self):
            return None

        def __exit__(self, *exc):
            signal.setitimer(signal.ITIMER_REAL, 0)
            if used_s is not None and self.index < len(used_s):
                used_s[self.index] = self.used()
            return False

    return time_limit


class ChildClock:
    """evalplus joins its checker with a wall-clock timeout; this extends it by the child's CPU waits."""

    def __init__(self, pid: int):
        self.pid = pid
        try:
            self.pidfd = os.pidfd_open(pid)
        except (AttributeError, OSError):  # kernels before 5.3: poll instead
            self.pidfd = -1
        self.delay = RunDelay(str(pid))
        self.status = None
        self.started, self.delay_before = time.monotonic(), self.delay()
        self.ended = None  # (time, run delay) as it exited: its schedstat goes once it is reaped

    def wait(self, timeout: float) -> bool:
        """True once the child has exited, like Process.join(timeout) followed by is_alive()."""
        if self.status is not None:
            return True
        if self.pidfd >= 0:
            if not select.select([self.pidfd], [], [], timeout)[0]:
                return False
        else:
            deadline = time.monotonic() + timeout
            while os.waitpid(self.pid, os.WNOHANG) == (0, 0):
                if time.monotonic() >= deadline:
                    return False
                time.sleep(0.001)
        self._reap()
        return True

    def _reap(self) -> None:
        self.ended = (time.monotonic(), self.delay())
        _, self.status = os.waitpid(self.pid, 0)

    def used(self) -> float:
        """Seconds since the child started, less the time it spent waiting for a CPU."""
        now, delay = self.ended or (time.monotonic(), self.delay())
        return now - self.started - (delay - self.delay_before)

    def join_load_fair(self, timeout: float) -> bool:
        """wait(timeout), where time the child spent waiting for a CPU does not count."""
        left = timeout
        while not self.wait(left):
            left = timeout - self.used()
            if left <= 1e-3:
                return False
        return True

    def close(self) -> None:
        if self.status is None:
            self._reap()
        if self.pidfd >= 0:
            os.close(self.pidfd)
        self.delay.close()
