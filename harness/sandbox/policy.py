"""What a program may use (Policy), what to run (Program) and what happened (Verdict)."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass

STATUSES = ("pass", "fail", "timeout", "memory", "output_limit", "killed", "infra_error")


@dataclass(frozen=True)
class Policy:
    """Limits for every program; its hash is recorded with every verdict.

    memory_mb bounds the resident memory of the program and everything it starts, plus the files it writes
    (working dir, /dev/shm), through a memory cgroup that holds only the program's processes. Only where
    cgroups are not writable does it fall back to an address-space rlimit, which also stops many-thread
    programs from starting threads.
    max_processes bounds processes and threads at once (pids cgroup; RLIMIT_NPROC on the program's uid without).
    output_limit_bytes caps stdout and stderr each (and any single file the program writes).
    timeout_s is wall-clock; CPU time is capped at timeout_s x cores + 2 s as a backstop, counted as timeout.
    """

    timeout_s: float = 10.0
    memory_mb: int = 1024
    max_processes: int = 64
    output_limit_bytes: int = 1 << 20
    # Interpreter programs run under; None = the harness's own (it can import numpy and pandas).
    python: str | None = None
    # Extra environment for programs; nothing else from the host passes.
    env: tuple[tuple[str, str], ...] = ()
    # Modules each worker imports once, before it forks programs: programs that all import the same
    # heavy modules then skip that import. Every fork copies them, so name only what programs use.
    preload: tuple[str, ...] = ()

    def __post_init__(self):
        from harness.errors import UserError

        if not self.timeout_s > 0:
            raise UserError(f"sandbox policy: timeout_s must be > 0, got {self.timeout_s}")
        if self.memory_mb < 16:
            raise UserError(f"sandbox policy: memory_mb must be >= 16, got {self.memory_mb}")
        if self.max_processes < 1:
            raise UserError(f"sandbox policy: max_processes must be >= 1, got {self.max_processes}")
        if self.output_limit_bytes < 1024:
            raise UserError(f"sandbox policy: output_limit_bytes must be >= 1024, got {self.output_limit_bytes}")
        if isinstance(self.env, dict):
            object.__setattr__(self, "env", tuple(sorted(self.env.items())))
        object.__setattr__(self, "preload", tuple(self.preload))

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    def hash(self) -> str:
        blob = json.dumps(self.to_dict(), sort_keys=True, default=list).encode()
        return hashlib.sha256(blob).hexdigest()[:12]

    def describe(self) -> str:
        return (f"timeout {self.timeout_s:g}s, memory {self.memory_mb} MiB, {self.max_processes} processes, "
                f"output {self.output_limit_bytes} B, python {self.python or 'harness'} [{self.hash()}]")

    def for_program(self, program: "Program") -> "Policy":
        """The policy one program actually ran under (its own limits win)."""
        changes = {}
        if program.timeout_s is not None:
            changes["timeout_s"] = float(program.timeout_s)
        if program.memory_mb is not None:
            changes["memory_mb"] = int(program.memory_mb)
        return dataclasses.replace(self, **changes) if changes else self


@dataclass(frozen=True)
class Program:
    id: str
    code: str
    stdin: str | None = None
    # Extra files in the working directory: relative path -> text or bytes.
    files: dict[str, str | bytes] | None = None
    timeout_s: float | None = None
    memory_mb: int | None = None


@dataclass
class Verdict:
    id: str
    status: str
    exit_code: int | None
    stdout: str
    stderr: str
    duration_s: float
    policy: str
    error_type: str | None = None
    # True when a timeout was re-run alone on an idle machine before being recorded.
    rechecked: bool = False
    attempts: int = 1

    def to_dict(self) -> dict:
        return {"id": self.id, "status": self.status, "exit_code": self.exit_code, "stdout": self.stdout,
                "stderr": self.stderr, "duration_s": self.duration_s, "policy": self.policy,
                "error_type": self.error_type, "rechecked": self.rechecked, "attempts": self.attempts}
