"""The one executor for untrusted code: a pool of sandboxed fork-server workers, verdicts in completion order."""

from __future__ import annotations

import collections
import errno
import logging
import marshal
import os
import selectors
import shutil
import signal
import struct
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Iterable, Iterator

from harness.errors import UserError
from harness.sandbox import host as hostmod
from harness.sandbox.policy import Policy, Program, Verdict

log = logging.getLogger("harness.sandbox")
MAX_ATTEMPTS = 3  # an infra_error is retried on a fresh worker this many times in all
_warned: set[str] = set()


class _Worker:
    def __init__(self, sandbox: "Sandbox", index: int):
        self.sandbox = sandbox
        self.index = index
        self.proc: subprocess.Popen | None = None
        self.inflight: collections.deque = collections.deque()  # (Program, attempt)
        self.rbuf = bytearray()
        self.wbuf = bytearray()
        self.head_started = 0.0
        self.watching_stdin = False
        self.log_path = sandbox._tmp / f"worker{index}.log"

    def start(self) -> None:
        sb = self.sandbox
        with open(self.log_path, "ab") as err:
            self.proc = subprocess.Popen(sb._commands[self.index], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                         stderr=err, env=sb._envs[self.index], start_new_session=True,
                                         close_fds=True)
        for f in (self.proc.stdin, self.proc.stdout):
            os.set_blocking(f.fileno(), False)
        self.rbuf.clear()
        self.wbuf.clear()
        self.watching_stdin = False

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self, graceful: bool = False) -> None:
        """End the worker. Gracefully = EOF on its requests, so bwrap reaps it and no zombie waits on init."""
        if self.proc is None:
            return
        if graceful and not self.inflight:
            try:
                self.proc.stdin.close()
                self.proc.wait(timeout=2)
            except (OSError, subprocess.TimeoutExpired):
                pass
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        for f in (self.proc.stdin, self.proc.stdout):
            try:
                f.close()
            except OSError:
                pass
        self.proc.wait()
        self.proc = None
        if self.sandbox._cgroups:
            for path in self.sandbox._cgroups.dirs[self.index]:
                hostmod.empty_cgroup(path)

    def log_tail(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-2000:].strip()
        except OSError:
            return ""


class Sandbox:
    """Run untrusted programs under one Policy. Use as a context manager; `run` streams verdicts.

    Timeouts are re-run once, alone, after everything else finished; `stats["timeouts_flipped"]` counts the
    ones that then passed the limit. `isolation` says how each layer is provided on this host.
    One `run` at a time per Sandbox (it is not thread-safe); an abandoned run restarts the busy workers.
    """

    def __init__(self, policy: Policy | None = None, workers: int | None = None, *, use_bwrap: bool = True):
        self.policy = policy or Policy()
        self.workers = max(1, min(64, workers or os.cpu_count() or 1))
        self.host = hostmod.probe(use_bwrap)
        self.isolation = self.host.layers()
        self.stats = collections.Counter()
        self._pool: list[_Worker] = []
        self._hashes: dict[tuple, str] = {}
        self._tmp: Path | None = None
        self.uids: list[int] = []  # the uid each worker runs programs as
        self._cgroups: hostmod.Cgroups | None = None

    # -- lifecycle -----------------------------------------------------------------------------------
    def __enter__(self) -> "Sandbox":
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def start(self) -> None:
        if self._pool:
            return
        try:
            self._start()
        except BaseException:
            self.close()
            raise

    def _start(self) -> None:
        missing = self.host.missing()
        key = ",".join(missing)
        if missing and key not in _warned:
            _warned.add(key)
            log.warning("sandbox: running WITHOUT these isolation layers: %s", "; ".join(missing))
        python = hostmod.python_executable(self.policy.python)
        sys_path = list(hostmod.interpreter(python)[1])
        self._tmp = Path(tempfile.mkdtemp(prefix="sca-sandbox-"))
        os.chmod(self._tmp, 0o711)  # dropped uids must reach their working dir without bwrap
        self._cgroups = hostmod.Cgroups(self.host, self.workers, self.policy.max_processes) if (
            self.host.cgroup_memory or self.host.cgroup_pids) else None
        pid = os.getpid()
        self._commands: list[list[str]] = []
        self._envs: list[dict[str, str]] = []
        self.uids = []
        for i in range(self.workers):
            workdir = hostmod.IN_SANDBOX_WORKDIR if self.host.bwrap else str(self._tmp / f"work{i}")
            outdir = hostmod.IN_SANDBOX_OUTDIR if self.host.bwrap else str(self._tmp / f"out{i}")
            cg = self._cgroups.dirs[i] if self._cgroups else (None, None)
            in_cg = [(f"{hostmod.IN_SANDBOX_CG}/{n}" if self.host.bwrap else str(p)) if p else None
                     for p, n in zip(cg, ("memory", "pids"))]
            uid = 1_000_000 + ((pid * 131 + id(self)) % 1_000_000) * 64 + i if self.host.root else os.getuid()
            self.uids.append(uid)
            config = {"uid": uid, "gid": uid if self.host.root else os.getgid(), "workdir": workdir,
                      "outdir": outdir, "cg_memory": in_cg[0], "cg_pids": in_cg[1], "pidns": bool(self.host.bwrap),
                      "memory_mb": self.policy.memory_mb, "output_limit_bytes": self.policy.output_limit_bytes,
                      "ncpu": os.cpu_count() or 1, "sys_path": sys_path,
                      "preload": list(self.policy.preload),
                      "rlimit_nproc": self.policy.max_processes if (self.host.root and not cg[1]) else None}
            self._commands.append(hostmod.worker_command(self.host, python, config, cg))
            self._envs.append(hostmod.program_env(self.policy.env, workdir))
        self._pool = [_Worker(self, i) for i in range(self.workers)]
        for w in self._pool:
            w.start()

    def leftover_processes(self) -> int:
        """Processes programs left behind in the workers' pids cgroups (0 when every sweep worked)."""
        if not self._cgroups:
            return 0
        return sum(max(0, int((pids / "pids.current").read_text()) - 1) for _, pids in self._cgroups.dirs if pids)

    def close(self) -> None:
        for w in self._pool:
            w.stop(graceful=True)
        self._pool = []
        if self._cgroups:
            self._cgroups.remove()
            self._cgroups = None
        if self._tmp:
            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp = None

    # -- running -------------------------------------------------------------------------------------
    def run(self, programs: Iterable[Program]) -> Iterator[Verdict]:
        """Yield one Verdict per program, in completion order; timeouts come last, after a serial re-run."""
        self.start()
        held: list[tuple[Program, Verdict]] = []
        for verdict, program in self._execute(iter(programs), self._pool):
            if verdict.status == "timeout":
                held.append((program, verdict))
            else:
                yield self._count(verdict)
        if not held:
            return
        # Re-run each timeout alone, the rest of the pool idle, so machine load cannot make the verdict.
        first = {id(p): v for p, v in held}
        for verdict, program in self._execute(iter(p for p, _ in held), self._pool[:1]):
            verdict.rechecked = True
            verdict.attempts += first[id(program)].attempts
            self.stats["timeouts_rechecked"] += 1
            if verdict.status != "timeout":
                self.stats["timeouts_flipped"] += 1
            yield self._count(verdict)

    def _count(self, verdict: Verdict) -> Verdict:
        self.stats["programs"] += 1
        self.stats[verdict.status] += 1
        return verdict

    def _policy_hash(self, program: Program) -> str:
        key = (program.timeout_s, program.memory_mb)
        if key not in self._hashes:
            self._hashes[key] = self.policy.for_program(program).hash()
        return self._hashes[key]

    def _encode(self, program: Program) -> bytes:
        if not isinstance(program, Program):
            raise UserError(f"sandbox: expected a Program, got {type(program).__name__}")
        files = {}
        for name, content in (program.files or {}).items():
            norm = os.path.normpath(name)
            if os.path.isabs(name) or norm.startswith("..") or norm in (".", ""):
                raise UserError(f"program {program.id}: file name {name!r} must be a relative path inside its "
                                f"working directory")
            if norm == "main.py":
                raise UserError(f"program {program.id}: file name 'main.py' is taken by the program itself")
            files[norm] = content
        effective = self.policy.for_program(program)
        body = marshal.dumps({"id": program.id, "code": program.code, "stdin": program.stdin, "files": files,
                              "timeout_s": effective.timeout_s, "memory_mb": effective.memory_mb}, 4)
        return struct.pack(">I", len(body)) + body

    def _execute(self, programs: Iterator[Program], pool: list[_Worker]):
        """Yield (Verdict, Program) as workers finish; retry infra errors; restart dead or stuck workers."""
        retry: collections.deque = collections.deque()
        ready: collections.deque = collections.deque()
        sel = selectors.DefaultSelector()
        exhausted = False
        try:
            for w in pool:
                if not w.alive:
                    self._restart(w)
                sel.register(w.proc.stdout, selectors.EVENT_READ, w)
            while True:
                for w in pool:
                    # One program per worker at a time: queueing more measured no faster, and a queued
                    # program would wait behind a slow one.
                    if w.inflight:
                        continue
                    if retry:
                        item = retry.popleft()
                    elif exhausted:
                        continue
                    else:
                        try:
                            item = (next(programs), 1)
                        except StopIteration:
                            exhausted = True
                            continue
                    w.head_started = time.monotonic()
                    w.wbuf += self._encode(item[0])
                    w.inflight.append(item)
                    self._flush(w, sel)
                if not any(w.inflight for w in pool) and not retry and exhausted:
                    return
                for key, mask in sel.select(timeout=0.5):
                    w = key.data
                    if mask & selectors.EVENT_WRITE:
                        self._flush(w, sel)
                    if mask & selectors.EVENT_READ:
                        self._receive(w, ready, retry, sel)
                self._watchdog(pool, retry, ready, sel)
                while ready:
                    yield ready.popleft()
        finally:
            for w in pool:
                self._unwatch(w, sel)
                if w.inflight:  # abandoned mid-run: its queued results are stale
                    w.inflight.clear()
                    w.stop()
            sel.close()

    def _flush(self, w: _Worker, sel: selectors.BaseSelector) -> None:
        """Write what fits of the worker's pending request; watch its stdin for room only while some is left."""
        if w.wbuf and w.proc is not None:
            try:
                del w.wbuf[:os.write(w.proc.stdin.fileno(), w.wbuf)]
            except BlockingIOError:
                pass
            except (BrokenPipeError, ValueError):
                w.wbuf.clear()  # the read side sees EOF and handles the dead worker
        want = bool(w.wbuf)
        if want != w.watching_stdin:
            if want:
                sel.register(w.proc.stdin, selectors.EVENT_WRITE, w)
            else:
                sel.unregister(w.proc.stdin)
            w.watching_stdin = want

    @staticmethod
    def _unwatch(w: _Worker, sel: selectors.BaseSelector) -> None:
        for f in ((w.proc.stdout, w.proc.stdin) if w.proc is not None else ()):
            try:
                sel.unregister(f)
            except (KeyError, ValueError):
                pass
        w.watching_stdin = False

    def _receive(self, w: _Worker, ready, retry, sel) -> None:
        try:
            chunk = os.read(w.proc.stdout.fileno(), 1 << 20)
        except BlockingIOError:
            return
        except OSError as exc:
            if exc.errno != errno.EBADF:
                raise
            chunk = b""
        if not chunk:
            self._lost(w, f"sandbox worker exited: {w.log_tail() or 'no message'}", ready, retry, sel)
            return
        w.rbuf += chunk
        while len(w.rbuf) >= 4:
            size = struct.unpack(">I", w.rbuf[:4])[0]
            if len(w.rbuf) < 4 + size:
                break
            result = marshal.loads(bytes(w.rbuf[4:4 + size]))
            del w.rbuf[:4 + size]
            program, attempt = w.inflight.popleft()
            w.head_started = time.monotonic()
            self._finish(program, attempt, result, ready, retry)

    def _finish(self, program: Program, attempt: int, result: dict, ready, retry) -> None:
        if result["status"] == "infra_error" and attempt < MAX_ATTEMPTS:
            self.stats["infra_retries"] += 1
            retry.append((program, attempt + 1))
            return
        ready.append((Verdict(id=program.id, status=result["status"], exit_code=result["exit_code"],
                              stdout=result["stdout"], stderr=result["stderr"], duration_s=result["duration_s"],
                              policy=self._policy_hash(program), error_type=result["error_type"],
                              attempts=attempt), program))

    def _lost(self, w: _Worker, reason: str, ready, retry, sel) -> None:
        """A worker died or hung: its programs are infra errors (retried), and it is replaced."""
        self._unwatch(w, sel)
        inflight = list(w.inflight)
        w.inflight.clear()
        w.stop()
        for program, attempt in inflight:
            self._finish(program, attempt, {"status": "infra_error", "exit_code": None, "stdout": "",
                                            "stderr": reason, "duration_s": 0.0, "error_type": None}, ready, retry)
        self._restart(w)
        sel.register(w.proc.stdout, selectors.EVENT_READ, w)

    def _restart(self, w: _Worker) -> None:
        self.stats["worker_restarts"] += 1
        w.stop()
        w.start()

    def _watchdog(self, pool, retry, ready, sel) -> None:
        now = time.monotonic()
        for w in pool:
            if not w.inflight:
                continue
            program = w.inflight[0][0]
            limit = self.policy.for_program(program).timeout_s
            if now - w.head_started > 2 * limit + 10:
                self._lost(w, f"sandbox worker stuck for {now - w.head_started:.0f}s", ready, retry, sel)
