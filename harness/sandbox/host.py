"""What this host allows (bwrap namespaces, cgroups, uid drop) and how one worker is started under it."""

from __future__ import annotations

import functools
import json
import marshal
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

CGROUP_ROOT = Path("/sys/fs/cgroup")
SYSTEM_DIRS = ("/usr", "/lib", "/lib32", "/lib64", "/libx32", "/bin", "/sbin", "/etc")
# Capabilities the fork server keeps inside its namespaces; every program loses all of them at setuid.
WORKER_CAPS = ("CAP_SETUID", "CAP_SETGID", "CAP_KILL", "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FOWNER",
               "CAP_SYS_ADMIN")
IN_SANDBOX_WORKDIR = "/tmp/work"
IN_SANDBOX_OUTDIR = "/tmp/.sca-out"
IN_SANDBOX_CG = "/.sca/cg"
IN_SANDBOX_SERVER = "/.sca/worker.py"


@dataclass(frozen=True)
class Host:
    bwrap: str | None
    root: bool
    cgroup_memory: Path | None
    cgroup_pids: Path | None
    why_no_bwrap: str = ""
    why_no_cgroups: str = ""

    def layers(self) -> dict[str, str]:
        """Each isolation layer -> how it is provided, or 'MISSING: why'."""
        ns = bool(self.bwrap)
        no_ns = f"MISSING: {self.why_no_bwrap}"
        memory = ("memory cgroup (resident memory + swap)" if self.cgroup_memory
                  else f"address-space rlimit only ({self.why_no_cgroups})")
        if self.cgroup_pids:
            procs = "pids cgroup"
        elif self.root:
            procs = "RLIMIT_NPROC on a per-worker uid"
        else:
            procs = f"MISSING: no pids cgroup ({self.why_no_cgroups}) and RLIMIT_NPROC counts all your processes"
        if ns:
            sweep = "kill everything in the worker's pid namespace"
        elif self.root:
            sweep = "kill everything the per-worker uid owns"
        elif self.cgroup_pids:
            sweep = "kill everything in the worker's cgroup"
        else:
            sweep = "MISSING: only the program's session is killed; processes that call setsid() survive"
        return {
            "network": "own network namespace" if ns else no_ns,
            "filesystem": "read-only system dirs + fresh private working dir and /dev/shm" if ns else no_ns,
            "ipc": "IPC namespace, renewed when a program leaves objects" if ns else no_ns,
            "environment": "scrubbed: only allow-listed variables",
            "memory": memory,
            "processes": procs,
            "time": "wall clock, CPU-time rlimit backstop",
            "output": "stdout/stderr capped (RLIMIT_FSIZE on the capture files)",
            "sweep": sweep,
            "uid": "programs run as a per-worker non-root uid" if self.root else "MISSING: not started as root",
        }

    def missing(self) -> list[str]:
        return [f"{name} ({how[len('MISSING: '):]})" for name, how in self.layers().items()
                if how.startswith("MISSING")]


@functools.lru_cache(maxsize=None)
def probe(use_bwrap: bool = True) -> Host:
    root = os.geteuid() == 0
    bwrap, why = shutil.which("bwrap"), ""
    if not use_bwrap:
        bwrap, why = None, "bubblewrap disabled by the caller"
    elif bwrap is None:
        why = "bubblewrap (bwrap) is not installed; `make setup` installs it where it can"
    else:
        try:
            test = subprocess.run([bwrap, "--ro-bind", "/", "/", "--unshare-pid", "--unshare-net", "--unshare-ipc",
                                   "--dev", "/dev", "--", "/bin/true"], capture_output=True, timeout=30)
            if test.returncode != 0:
                bwrap, why = None, f"bwrap cannot create namespaces here: {test.stderr.decode().strip()[:200]}"
        except (OSError, subprocess.TimeoutExpired) as exc:
            bwrap, why = None, f"bwrap failed to start: {exc}"
    mem, pids, why_cg = None, None, ""
    if not root:
        why_cg = "cgroups need root"
    else:
        for name in ("memory", "pids"):
            path = CGROUP_ROOT / name
            if (path / "cgroup.procs").exists() and os.access(path, os.W_OK):
                if name == "memory":
                    mem = path
                else:
                    pids = path
        if not (mem and pids):
            why_cg = "cgroup v1 memory/pids controllers are not writable"
    return Host(bwrap=bwrap, root=root, cgroup_memory=mem, cgroup_pids=pids, why_no_bwrap=why,
                why_no_cgroups=why_cg)


@functools.lru_cache(maxsize=None)
def interpreter(python: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(directories the interpreter needs visible outside the system dirs, its normal sys.path)."""
    code = ("import sys, json; print(json.dumps([[sys.prefix, sys.base_prefix, sys.exec_prefix, "
            "sys.base_exec_prefix], sys.path]))")
    try:
        out = subprocess.run([python, "-I", "-c", code], capture_output=True, text=True, timeout=60, check=True)
        prefixes, sys_path = json.loads(out.stdout)
    except (OSError, ValueError, subprocess.SubprocessError) as exc:
        from harness.errors import UserError

        raise UserError(f"sandbox policy python: {python!r} does not run: {exc}") from None
    dirs = {os.path.realpath(p) for p in prefixes} | set(prefixes)
    dirs |= {os.path.dirname(os.path.realpath(python)), os.path.dirname(os.path.abspath(python))}
    keep = [d for d in sorted(dirs) if not any(d == s or d.startswith(s + "/") for s in SYSTEM_DIRS)]
    return tuple(d for d in keep if not any(d != o and d.startswith(o + "/") for o in keep)), tuple(sys_path)


def program_env(extra: tuple[tuple[str, str], ...], workdir: str) -> dict[str, str]:
    env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8", "HOME": workdir,
           "TMPDIR": workdir, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    env.update(dict(extra))
    return env


class Cgroups:
    """One memory and one pids cgroup per worker, under <controller>/sca/<pid>-<n>/w<i>."""

    _instances = 0

    def __init__(self, host: Host, workers: int, max_processes: int):
        Cgroups._instances += 1
        self.roots = [r for r in (host.cgroup_memory, host.cgroup_pids) if r]
        self.name = f"{os.getpid()}-{Cgroups._instances}"
        self.max_processes = max_processes
        for root in self.roots:
            clear_stale(root / "sca")
        self.dirs: list[tuple[Path | None, Path | None]] = []
        for i in range(workers):
            mem = self._make(host.cgroup_memory, i)
            pids = self._make(host.cgroup_pids, i)
            if pids:
                # +1: the fork server itself lives in the cgroup so programs inherit it without a migration.
                (pids / "pids.max").write_text(str(max_processes + 1))
            self.dirs.append((mem, pids))

    def _make(self, root: Path | None, i: int) -> Path | None:
        if root is None:
            return None
        path = root / "sca" / self.name / f"w{i}"
        path.mkdir(parents=True, exist_ok=True)
        return path

    def remove(self) -> None:
        for root in self.roots:
            _remove_tree(root / "sca" / self.name)


def empty_cgroup(path: Path | None, wait_s: float = 5.0) -> None:
    """Kill whatever a dead worker left in its cgroup, so its successor starts from an empty one."""
    if path is None:
        return
    deadline = time.monotonic() + wait_s
    counter = path / "pids.current"
    while time.monotonic() < deadline:
        pids = (path / "cgroup.procs").read_text().split()
        # Zombies are no longer listed but still counted until the host's init reaps them.
        if not pids and (not counter.exists() or counter.read_text().strip() == "0"):
            return
        for pid in pids:
            try:
                os.kill(int(pid), signal.SIGKILL)
            except ProcessLookupError:
                pass
        time.sleep(0.01)


def clear_stale(base: Path) -> None:
    """A SIGKILLed harness leaves its cgroups behind; remove those whose owner process is gone."""
    if not base.is_dir():
        return
    for entry in base.iterdir():
        try:
            owner = int(entry.name.split("-")[0])
            os.kill(owner, 0)
            continue
        except (ValueError, ProcessLookupError):
            pass
        except PermissionError:
            continue
        _remove_tree(entry)


def _remove_tree(path: Path) -> None:
    if not path.is_dir():
        return
    for _ in range(100):
        children = [p for p in path.iterdir() if p.is_dir()]
        for child in children:
            _remove_tree(child)
        try:
            for pid in (path / "cgroup.procs").read_text().split():
                try:
                    os.kill(int(pid), signal.SIGKILL)
                except ProcessLookupError:
                    pass
            path.rmdir()
            return
        except OSError:
            time.sleep(0.02)


def worker_command(host: Host, python: str, config: dict, cg: tuple[Path | None, Path | None]) -> list[str]:
    server = str(Path(__file__).with_name("worker.py"))
    # -S: the worker sets sys.path itself, sparing every fork the modules `site` imports.
    argv = [python, "-I", "-S", "-B"]
    arg = marshal.dumps(config, 4).hex()
    if not host.bwrap:
        return argv + [server, arg]
    # --new-session: no controlling terminal to inject keystrokes into (TIOCSTI).
    cmd = [host.bwrap, "--die-with-parent", "--new-session", "--unshare-pid", "--unshare-net", "--unshare-ipc",
           "--unshare-uts", "--as-pid-1", "--hostname", "sandbox", "--cap-drop", "ALL"]
    if host.root:
        for cap in WORKER_CAPS:
            cmd += ["--cap-add", cap]
    for d in SYSTEM_DIRS:
        if os.path.islink(d):
            cmd += ["--symlink", os.readlink(d), d]
        elif os.path.isdir(d):
            cmd += ["--ro-bind", d, d]
    # /dev/shm is scratch for multiprocessing's semaphores; the worker empties it after every program.
    # The private /tmp comes before the interpreter binds, so a venv that lives under the host's /tmp
    # (a CI checkout, say) stays visible on top of it.
    cmd += ["--proc", "/proc", "--dev", "/dev", "--perms", "1777", "--tmpfs", "/dev/shm", "--tmpfs", "/tmp"]
    made: set[str] = {"/tmp"}
    for d in interpreter(python)[0]:
        # bwrap would create missing parents as 0700, hiding the interpreter from the program's uid.
        parents = [p for p in Path(d).parents if str(p) != "/"][::-1]
        for parent in map(str, parents):
            if parent not in made:
                made.add(parent)
                cmd += ["--perms", "0755", "--dir", parent]
        cmd += ["--ro-bind", d, d]
    cmd += ["--ro-bind", server, IN_SANDBOX_SERVER]
    for path, name in zip(cg, ("memory", "pids")):
        if path:
            cmd += ["--bind", str(path), f"{IN_SANDBOX_CG}/{name}"]
    cmd += ["--chdir", "/tmp", "--", *argv, IN_SANDBOX_SERVER, arg]
    return cmd


def python_executable(policy_python: str | None) -> str:
    return policy_python or sys.executable
