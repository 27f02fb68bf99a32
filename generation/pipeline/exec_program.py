"""The program the execution filter sends to the sandbox: runs responses and reports if their tests ran.

Sent as source text, after the source of the sandbox worker's own `run_program` (and its helpers),
so a response runs exactly as the sandbox runs any program: as `__main__` from main.py in the
working directory, with the same exit status rules. It reads job.bin (marshal, written by execute.py)
and deletes it before any response runs. Two builtins exist while a response runs:
- `__sca_assert__()`, which execute.py inserts after every assert of the test blocks: counts the
  asserts that actually ran (and passed);
- `__sca_done__()`, appended as the response's last statement: writes a token the response cannot
  know, with the assert count, straight to fd 1. It is reached only when the code ran to its end.

single: one response, run in this process (the sandbox makes the verdict).
batch: many responses, each in a fresh forked child with its own limits (wall clock, CPU, output
size; memory and processes through the sandbox's cgroups) and a cleared working directory and
/dev/shm. This process grades each as the sandbox worker would and prints one line per response.
A response that leaves a process, a SysV IPC object or an undeletable file behind ends the batch, so
nothing carries over to the next one; the rest are reported as not run and the caller runs them
again. Batch mode needs the sandbox's pid namespace, where only the worker (pid 1) and this process
should be alive between responses.
"""

import builtins
import gc
import marshal
import os
import resource
import select
import signal
import sys
import time

from harness.sandbox.worker import _exit_status, error_type, run_program  # replaced by their source when sent

WORKDIR = os.getcwd()
MAIN = os.path.join(WORKDIR, "main.py")
SETUP_FAILED = 213
_write = os.write  # bound now: a response may replace os.write
WARM_UP = "def f(a, *b, c=1, **d):\n    assert [x for x in b if x] or {c: d}, f'{a!r}'\n    return lambda: a\n"


def sentinel_asserts(stdout, token):
    """The assert count __sca_done__ wrote, or None when the code did not run to its end."""
    mark = "\n" + token + " "
    at = stdout.rfind(mark)
    if at < 0:
        return None
    digits = stdout[at + len(mark):].split("\n", 1)[0]
    return int(digits) if digits.isdigit() else None


def summary(status, exit_code, error_kind, stdout, stderr, token):
    """What a verdict keeps: no timings or raw output (the error is stderr's last line)."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    error = lines[-1][:300] if lines and status != "pass" else None
    return {"status": status, "exit_code": exit_code, "error_type": error_kind,
            "asserts_run": sentinel_asserts(stdout, token), "error": error}


def install(token):
    hits = [0]

    def counted():
        hits[0] += 1

    def done():
        _write(1, ("\n" + token + " " + str(hits[0]) + "\n").encode())

    setattr(builtins, "__sca_assert__", counted)
    setattr(builtins, "__sca_done__", done)


def write_main(code):
    with open(MAIN, "w", encoding="utf-8", errors="surrogatepass") as fh:
        fh.write(code)


def run_single(job):
    install(job["token"])
    write_main(job["code"])  # replaces this program's own file, as if the response were main.py
    os._exit(run_program(job["code"], MAIN))


def _clear(path):
    """Remove everything inside path (shutil would bring compression modules every fork copies)."""
    for entry in os.scandir(path):
        if entry.is_dir(follow_symlinks=False):
            _clear(entry.path)
            os.rmdir(entry.path)
        else:
            os.unlink(entry.path)


def _others(known):
    """Live processes in our pid namespace besides the worker and us (zombies are not running)."""
    found = []
    for name in os.listdir("/proc"):
        if name.isdigit() and int(name) not in known:
            try:
                with open("/proc/" + name + "/stat", "rb") as fh:
                    state = fh.read().rsplit(b")", 1)[1].split()[0]
            except OSError:
                continue
            if state != b"Z":
                found.append(int(name))
    return found


def _open_ipc_lists():
    # Kept open and re-read with pread at offset 0 (a seq file regenerates), as the sandbox worker does.
    fds = []
    for kind in ("shm", "sem", "msg"):
        try:
            fds.append(os.open("/proc/sysvipc/" + kind, os.O_RDONLY))
        except OSError:
            pass
    return fds


def _ipc_objects(fds):
    return sum(os.pread(fd, 1 << 16, 0).count(b"\n") - 1 for fd in fds)


class Batch:
    def __init__(self, job):
        self.token = job["token"]
        self.timeout = float(job["timeout_s"])
        self.output_limit = int(job["output_limit_bytes"])
        self.ncpu = int(job["ncpu"])
        self.known = {1, os.getpid()}
        self.out = os.dup(1)
        flags = os.O_RDWR | os.O_CREAT | os.O_TRUNC
        self.cap = []
        for name in (".out", ".err"):
            fd = os.open(os.path.join(WORKDIR, name), flags, 0o600)
            os.unlink(os.path.join(WORKDIR, name))  # open and unseen: responses cannot touch them
            self.cap.append(fd)
        self.null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(self.null, 1)  # nothing a child inherits can reach our result stream
        self.poller = select.poll()
        self.ipc = _open_ipc_lists()
        # Set once here and inherited: each child then does less before the response runs. A child's CPU
        # time starts at zero, so the limit is per response; we ourselves use a fraction of it.
        cpu = int(self.timeout * self.ncpu + 2)
        resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
        resource.setrlimit(resource.RLIMIT_FSIZE, (self.output_limit, self.output_limit))
        install(self.token)

    def report(self, index, result):
        result["i"] = index
        data = (self.token + "\t" + marshal.dumps(result, 4).hex() + "\n").encode()
        while data:
            data = data[os.write(self.out, data):]

    def child(self, code, compiled):
        try:
            os.setsid()
            os.dup2(self.null, 0)
            os.dup2(self.cap[0], 1)
            os.dup2(self.cap[1], 2)
            os.closerange(3, 1 << 16)
        except BaseException as exc:
            os.write(2, ("setup failed: %s: %s" % (type(exc).__name__, exc)).encode())
            os._exit(SETUP_FAILED)
        os._exit(run_program(code if compiled is None else compiled, MAIN))

    def wait(self, pid, deadline):
        fd = os.pidfd_open(pid)
        self.poller.register(fd, select.POLLIN)
        try:
            return bool(self.poller.poll(max(0.0, deadline - time.monotonic()) * 1000.0))
        finally:
            self.poller.unregister(fd)
            os.close(fd)

    def run_one(self, code):
        for fd in self.cap:
            os.ftruncate(fd, 0)
            os.lseek(fd, 0, os.SEEK_SET)
        write_main(code)  # as the worker's prepare(): the child finds its source where `python main.py` would
        try:
            # Compiled here, as the sandbox worker does: a child then only runs it. A failed compile is
            # left to the child, which reports it as `python main.py` would.
            compiled = compile(code, MAIN, "exec")
        except BaseException:
            compiled = None
        start = time.monotonic()
        pid = os.fork()
        if pid == 0:
            self.child(code, compiled)
        timed_out = not self.wait(pid, start + self.timeout)
        if timed_out:
            os.killpg(pid, signal.SIGKILL)
        _, status = os.waitpid(pid, 0)
        leftovers = _others(self.known)
        for other in leftovers:
            try:
                os.kill(other, signal.SIGKILL)
            except OSError:
                pass
        result = self.collect(status, timed_out)
        clean = not leftovers and not _ipc_objects(self.ipc)
        try:
            _clear(WORKDIR)
            _clear("/dev/shm")
        except OSError:
            clean = False
        return result, clean

    def collect(self, status, timed_out):
        """The sandbox worker's verdict for a finished program (no cgroup OOM count is visible here)."""
        sizes = [os.fstat(fd).st_size for fd in self.cap]
        stdout, stderr = (os.pread(fd, min(size, self.output_limit), 0) if size else b""
                          for fd, size in zip(self.cap, sizes))
        stderr = stderr.decode("utf-8", "replace")
        exit_code = os.waitstatus_to_exitcode(status)
        sig = -exit_code if exit_code < 0 else 0
        etype = error_type(stderr) if exit_code > 0 else None
        if exit_code == SETUP_FAILED and stderr.startswith("setup failed: "):
            state = "infra_error"
        elif timed_out or sig == signal.SIGXCPU:
            state = "timeout"
        elif etype == "MemoryError":
            state = "memory"
        elif max(sizes) >= self.output_limit or sig == signal.SIGXFSZ:
            state = "output_limit"
        elif sig:
            state = "killed"
        elif exit_code == 0:
            state = "pass"
        else:
            state = "fail"
        return summary(state, exit_code, etype, stdout.decode("utf-8", "replace"), stderr, self.token)

    def run(self, items):
        compile(WARM_UP, "<warm-up>", "exec")  # the parser's lazy set-up, paid once instead of per response
        gc.collect()
        gc.freeze()  # as the sandbox worker: children's collections leave our objects (and their pages) alone
        for index, code in items:
            result, clean = self.run_one(code)
            self.report(index, result)
            if not clean:
                return  # the caller runs the rest in a new program


def main():
    with open("job.bin", "rb") as fh:
        job = marshal.loads(fh.read())
    os.unlink("job.bin")
    if job["mode"] == "single":
        run_single(job)
    os.unlink(MAIN)
    Batch(job).run(job["items"])


if __name__ == "__main__":
    main()
