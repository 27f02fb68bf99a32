"""Fork server that runs inside one sandbox worker (its own pid/net/ipc namespaces when bwrap is there).

Stand-alone on purpose: it runs under the configured interpreter, which may not see the harness, so it uses
only built-in modules and Python 3.9 syntax, and starts with -S so every fork copies as little as possible.
Protocol on fds 0/1: 4-byte big-endian length + marshal (version 4) dict, one request in, one result out.
One argument: the config dict, marshalled and hex-encoded (see Sandbox.start).
"""

import atexit
import builtins
import errno
import gc
import marshal
import os
import resource
import select
import signal
import struct
import sys
import time

CLONE_NEWIPC = 0x08000000
SETUP_FAILED = 213  # exit code of a child whose setup failed before the program started
SETUP_MARK = b"sca-sandbox-setup-failed: "
COMPILE_HERE_MAX = 1 << 16  # larger programs compile in their own child, under their own limits
WARM_UP = """
import sys
def f(a, *args, b=1, **kw):
    x = [i * 2 for i in range(10) if i % 2]
    y = {k: v for k, v in zip("ab", (1, 2))}
    try:
        assert x and y, f"{a!r:>3}"
    except (ValueError, KeyError) as e:
        raise RuntimeError("x") from e
    with open(__file__) as fh:
        return x[1:2], -a, not b, lambda q: q + 1
class C(object):
    @property
    def p(self):
        yield from range(3)
"""


def _read_exact(fd, n):
    buf = bytearray()
    while len(buf) < n:
        chunk = os.read(fd, n - len(buf))
        if not chunk:
            return None
        buf += chunk
    return bytes(buf)


def _write_frame(fd, obj):
    data = marshal.dumps(obj, 4)
    view = memoryview(struct.pack(">I", len(data)) + data)
    while view:
        view = view[os.write(fd, view):]


def _read_small(path):
    # Cgroup files are reopened on every read: a kept-open one returned stale data.
    fd = os.open(path, os.O_RDONLY)
    try:
        return os.read(fd, 1 << 16)
    finally:
        os.close(fd)


def _write_small(path, data):
    fd = os.open(path, os.O_WRONLY)
    try:
        os.write(fd, data)
    finally:
        os.close(fd)


def _oom_kills(cg_memory):
    for line in _read_small(cg_memory + "/memory.oom_control").split(b"\n"):
        if line.startswith(b"oom_kill "):
            return int(line.split()[1])
    return 0


def _open_ipc_lists():
    # Opened per IPC namespace (a list shows the opener's); pread at 0 regenerates a seq file.
    fds = []
    for kind in ("shm", "sem", "msg"):
        try:
            fds.append(os.open("/proc/sysvipc/" + kind, os.O_RDONLY))
        except OSError:
            pass
    return fds


def _ipc_objects(fds):
    return sum(os.pread(fd, 1 << 16, 0).count(b"\n") - 1 for fd in fds)


def error_type(stderr):
    """The exception type Python reported last in `stderr`, or None (a SyntaxError has no Traceback header)."""
    traced = "Traceback (most recent call last):" in stderr
    if not traced and '  File "' not in stderr:
        return None
    for line in reversed(stderr.splitlines()):
        line = line.strip()
        if not line:
            continue
        name = line.split(":", 1)[0] if ":" in line else line
        name = name.rsplit(".", 1)[-1]
        if not name.isidentifier() or " " in line.split(":", 1)[0]:
            return None
        return name if traced or name.endswith("Error") else None
    return None


def install_site(paths):
    """What `site` would have done for programs, without the imports it costs every fork."""
    import _sitebuiltins

    sys.path[:] = paths
    builtins.exit = _sitebuiltins.Quitter("exit", "Ctrl-D (i.e. EOF)")
    builtins.quit = _sitebuiltins.Quitter("quit", "Ctrl-D (i.e. EOF)")
    builtins.help = _sitebuiltins._Helper()
    builtins.copyright = builtins.credits = builtins.license = _sitebuiltins._Printer(
        "license", "See https://www.python.org/psf/license/")


class Server:
    def __init__(self, cfg):
        self.cfg = cfg
        self.uid = cfg["uid"]
        self.gid = cfg["gid"]
        self.workdir = cfg["workdir"]
        self.main_path = os.path.join(self.workdir, "main.py")
        self.cg_memory = cfg["cg_memory"]
        self.cg_pids = cfg["cg_pids"]
        self.pidns = cfg["pidns"]
        self.output_limit = cfg["output_limit_bytes"]
        self.memory_mb = None
        self.child_pid = 0
        outdir = cfg["outdir"]
        os.makedirs(outdir, mode=0o700, exist_ok=True)
        if not self.pidns:
            import ctypes  # imported only here: every module the template holds makes each fork dearer

            ctypes.CDLL(None).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER: orphans come back to us to reap
        if self.cg_pids:
            # Programs inherit the pids cgroup from us at fork; we count as one process in it.
            _write_small(self.cg_pids + "/cgroup.procs", b"0")
        # The memory cgroup holds programs only: their files stay charged to it after they die, and an
        # OOM kill must never have us to pick. Each child moves itself in (measured: ~35 us).
        self.cg_memory_fd = os.open(self.cg_memory + "/cgroup.procs", os.O_WRONLY) if self.cg_memory else None
        self.oom_seen = _oom_kills(self.cg_memory) if self.cg_memory else 0
        self.set_memory(cfg["memory_mb"])
        # Set once here and inherited: each fork then does less.
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        resource.setrlimit(resource.RLIMIT_MSGQUEUE, (0, 0))  # no POSIX queues outliving a program
        if self.uid != os.getuid():
            os.setgroups([])
        # Capture files stay open here: truncated before each program, read back with pread.
        flags = os.O_RDWR | os.O_CREAT | os.O_TRUNC
        self.out_fd = os.open(os.path.join(outdir, "stdout"), flags, 0o600)
        self.err_fd = os.open(os.path.join(outdir, "stderr"), flags, 0o600)
        self.null_fd = os.open(os.devnull, os.O_RDONLY)
        self.stdin_path = os.path.join(outdir, "stdin")
        self.ipc_fds = _open_ipc_lists() if self.pidns else []
        self.poller = select.poll()
        # The first compile in a process pays for lazy parser set-up: pay it once, not in every child.
        compile(WARM_UP, "<warm-up>", "exec")
        for name in cfg.get("preload") or ():
            try:
                __import__(name)
            except Exception:  # BaseException would let a module's sys.exit stop the worker
                pass  # programs that need it import it themselves and see the error there

    def set_memory(self, mb):
        if not self.cg_memory or mb == self.memory_mb:
            return
        limit = str(mb * 1024 * 1024)
        files = ["memory.limit_in_bytes", "memory.memsw.limit_in_bytes"]
        if self.memory_mb is not None and mb > self.memory_mb:
            files.reverse()  # memsw must stay >= the plain limit at every step
        for name in files:
            try:
                with open(self.cg_memory + "/" + name, "w") as f:
                    f.write(limit)
            except OSError:
                if name == "memory.limit_in_bytes":
                    raise  # memsw fails only when swap accounting is off; the plain limit is then all
        self.memory_mb = mb

    def serve(self):
        gc.collect()
        gc.freeze()  # fewer copy-on-write faults in every forked child
        while True:
            head = _read_exact(0, 4)
            if head is None:
                return
            req = marshal.loads(_read_exact(0, struct.unpack(">I", head)[0]))
            try:
                result = self.run_one(req)
            except Exception as exc:  # the sandbox failed, not the program
                result = {"id": req["id"], "status": "infra_error", "exit_code": None, "stdout": "",
                          "stderr": "sandbox worker: %s: %s" % (type(exc).__name__, exc), "duration_s": 0.0,
                          "error_type": None}
                try:
                    self.sweep()
                    self.cleanup()
                except Exception:
                    pass
            _write_frame(1, result)

    # -- one program -------------------------------------------------------------------------------
    def prepare(self, req):
        os.mkdir(self.workdir, 0o700)
        os.chown(self.workdir, self.uid, self.gid)
        self._write(self.main_path, req["code"].encode("utf-8", "surrogatepass"))
        for name, content in (req["files"] or {}).items():
            path = os.path.join(self.workdir, name)
            parent = os.path.dirname(path)
            if not os.path.isdir(parent):
                os.makedirs(parent)
                while parent != self.workdir:
                    os.chown(parent, self.uid, self.gid)
                    parent = os.path.dirname(parent)
            self._write(path, content if isinstance(content, bytes) else content.encode("utf-8", "surrogatepass"))
        for fd in (self.out_fd, self.err_fd):
            os.ftruncate(fd, 0)
            os.lseek(fd, 0, os.SEEK_SET)
        if req["stdin"] is None:
            return self.null_fd
        with open(self.stdin_path, "wb") as f:
            f.write(req["stdin"].encode("utf-8", "surrogatepass"))
        return os.open(self.stdin_path, os.O_RDONLY)

    def _write(self, path, data):
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
            os.fchown(fd, self.uid, self.gid)
        finally:
            os.close(fd)

    def child(self, code, in_fd, timeout, memory_mb):
        try:
            os.setsid()
            if self.cg_memory_fd is not None:
                os.write(self.cg_memory_fd, b"0")
            os.dup2(in_fd, 0)
            os.dup2(self.out_fd, 1)
            os.dup2(self.err_fd, 2)
            os.closerange(3, 1 << 16)
            cpu = int(timeout * self.cfg["ncpu"] + 2)
            resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
            resource.setrlimit(resource.RLIMIT_FSIZE, (self.output_limit, self.output_limit))
            nproc = self.cfg["rlimit_nproc"]
            if nproc:
                resource.setrlimit(resource.RLIMIT_NPROC, (nproc, nproc))
            if not self.cg_memory:
                size = memory_mb * 1024 * 1024
                resource.setrlimit(resource.RLIMIT_AS, (size, size))
            if self.uid != os.getuid():
                os.setgid(self.gid)
                os.setuid(self.uid)
            os.chdir(self.workdir)
        except BaseException as exc:
            os.write(2, SETUP_MARK + ("%s: %s" % (type(exc).__name__, exc)).encode())
            os._exit(SETUP_FAILED)
        os._exit(run_program(code, self.main_path))

    def run_one(self, req):
        timeout = float(req["timeout_s"])
        memory_mb = int(req["memory_mb"])
        self.set_memory(memory_mb)
        in_fd = self.prepare(req)
        code = req["code"]
        if len(code) <= COMPILE_HERE_MAX:
            try:
                code = compile(code, self.main_path, "exec")
            except BaseException:
                pass  # the child compiles it again and reports the error as `python main.py` would
        start = time.monotonic()
        pid = os.fork()
        if pid == 0:
            self.child(code, in_fd, timeout, memory_mb)
        self.child_pid = pid
        if in_fd != self.null_fd:
            os.close(in_fd)
        timed_out = not self._wait_exit(pid, start + timeout)
        if timed_out:
            self.kill_all()
        _, status = os.waitpid(pid, 0)
        duration = time.monotonic() - start
        self.sweep()
        result = self.collect(req, status, duration, timed_out)
        self.cleanup()
        return result

    def _wait_exit(self, pid, deadline):
        """True when `pid` exited before the wall-clock deadline."""
        try:
            pidfd = os.pidfd_open(pid)
        except (AttributeError, OSError):
            while os.waitpid(pid, os.WNOHANG) == (0, 0):
                if time.monotonic() >= deadline:
                    return False
                time.sleep(0.0005)
            return True
        self.poller.register(pidfd, select.POLLIN)
        try:
            return bool(self.poller.poll(max(0.0, deadline - time.monotonic()) * 1000.0))
        finally:
            self.poller.unregister(pidfd)
            os.close(pidfd)

    def kill_all(self):
        try:
            if self.pidns:
                os.kill(-1, signal.SIGKILL)  # everything in our pid namespace but us
                return
        except ProcessLookupError:
            return  # nothing was left
        if self.uid != os.getuid():
            killer = os.fork()
            if killer == 0:
                try:
                    os.setuid(self.uid)
                    os.kill(-1, signal.SIGKILL)  # every process of the program's uid, and nothing else
                finally:
                    os._exit(0)
            os.waitpid(killer, 0)
        if self.cg_pids:
            me = os.getpid()
            for pid in map(int, _read_small(self.cg_pids + "/cgroup.procs").split()):
                if pid != me:
                    try:
                        os.kill(pid, signal.SIGKILL)
                    except OSError:
                        pass
        try:
            os.killpg(self.child_pid, signal.SIGKILL)  # the program called setsid(): its own group
        except OSError:
            pass

    def sweep(self):
        """Leave nothing the program started running: kill, reap, and confirm the cgroup is empty."""
        for _ in range(50):
            self.kill_all()
            self._reap(block=self.pidns)
            if not self.cg_pids or int(_read_small(self.cg_pids + "/pids.current")) <= 1:
                return
            time.sleep(0.01)
        raise RuntimeError("processes of the program survived the sweep")

    def _reap(self, block):
        # In a pid namespace everything left was just SIGKILLed and is ours to reap, so blocking ends.
        deadline = time.monotonic() + 1.0
        while True:
            try:
                pid, _ = os.waitpid(-1, 0 if block else os.WNOHANG)
            except ChildProcessError:
                return
            except InterruptedError:
                continue
            if pid == 0:
                if time.monotonic() > deadline:
                    return
                time.sleep(0.001)

    def collect(self, req, status, duration, timed_out):
        limit = self.output_limit
        sizes = [os.fstat(fd).st_size for fd in (self.out_fd, self.err_fd)]
        outputs = [os.pread(fd, min(size, limit), 0) if size else b""
                   for fd, size in zip((self.out_fd, self.err_fd), sizes)]
        stderr = outputs[1].decode("utf-8", "replace")
        exit_code = os.waitstatus_to_exitcode(status)
        sig = -exit_code if exit_code < 0 else 0
        oom = False
        if self.cg_memory and exit_code != 0:  # a clean exit needs no OOM check
            kills = _oom_kills(self.cg_memory)
            oom = kills > self.oom_seen
            self.oom_seen = kills
        etype = error_type(stderr) if exit_code > 0 else None
        if exit_code == SETUP_FAILED and outputs[1].startswith(SETUP_MARK):
            state = "infra_error"
        elif timed_out or sig == signal.SIGXCPU:
            state = "timeout"
        elif oom or etype == "MemoryError":
            state = "memory"
        elif max(sizes) >= limit or sig == signal.SIGXFSZ:
            state = "output_limit"
        elif sig:
            state = "killed"
        elif exit_code == 0:
            state = "pass"
        else:
            state = "fail"
        return {"id": req["id"], "status": state, "exit_code": exit_code,
                "stdout": outputs[0].decode("utf-8", "replace"), "stderr": stderr,
                "duration_s": round(duration, 6), "error_type": etype}

    def cleanup(self):
        try:
            os.unlink(self.main_path)
            os.rmdir(self.workdir)
        except OSError as exc:
            if exc.errno not in (errno.ENOTEMPTY, errno.EEXIST, errno.ENOENT):
                raise
            import shutil  # only now: it drags in compression modules every later fork would copy

            shutil.rmtree(self.workdir, ignore_errors=True)
            if os.path.exists(self.workdir):
                raise RuntimeError("could not clear the working directory") from None
        if self.pidns and os.listdir("/dev/shm"):
            import shutil

            for name in os.listdir("/dev/shm"):
                path = "/dev/shm/" + name
                if os.path.isdir(path) and not os.path.islink(path):
                    shutil.rmtree(path)
                else:
                    os.unlink(path)
        if self.pidns and _ipc_objects(self.ipc_fds):
            # SysV objects would carry over to the next program: move to a fresh IPC namespace.
            import ctypes

            if ctypes.CDLL(None, use_errno=True).unshare(CLONE_NEWIPC) != 0:
                raise OSError(ctypes.get_errno(), "unshare(CLONE_NEWIPC) failed")
            for fd in self.ipc_fds:
                os.close(fd)
            self.ipc_fds = _open_ipc_lists()


def run_program(code, filename):
    """Run `code` as `python main.py` would, then exit by hand (atexit, flush) to skip interpreter teardown."""
    sys.argv = [filename]
    sys.path.insert(0, os.path.dirname(filename))
    gc.enable()
    main = type(sys)("__main__")
    main.__dict__.update({"__file__": filename, "__builtins__": builtins, "__cached__": None})
    sys.modules["__main__"] = main
    status = 0
    try:
        if isinstance(code, str):
            code = compile(code, filename, "exec")
        exec(code, main.__dict__)
    except SystemExit as exc:
        status = _exit_status(exc)
    except BaseException as exc:
        try:
            # Drop our own frame so the traceback reads like `python main.py`.
            exc.__traceback__ = exc.__traceback__.tb_next
            sys.__excepthook__(type(exc), exc, exc.__traceback__)
        except BaseException:
            pass
        status = 1
    threading = sys.modules.get("threading")
    if threading is not None:
        try:
            threading._shutdown()  # like the interpreter: wait for non-daemon threads before atexit
        except BaseException:
            pass
    try:
        atexit._run_exitfuncs()
    except BaseException:
        pass
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except BaseException:
            status = status or 120  # what CPython returns when flushing stdout fails at exit
    return status


def _exit_status(exc):
    code = exc.code
    if code is None:
        return 0
    if isinstance(code, int):
        return code & 0xFF
    try:
        sys.stderr.write(str(code) + "\n")
    except BaseException:
        pass
    return 1


def main():
    cfg = marshal.loads(bytes.fromhex(sys.argv[1]))
    install_site(cfg["sys_path"])
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    server = Server(cfg)
    gc.disable()  # re-enabled in each child; the template itself allocates little
    server.serve()


def reexec_from_bytecode():
    """Run again from a .pyc: compiling this file as a script leaves ~1.4 MB of parser memory behind, which
    every fork would copy. The .pyc goes to the worker's private output dir."""
    import py_compile
    import shutil

    cache = marshal.loads(bytes.fromhex(sys.argv[1]))["outdir"] + "/pyc"
    os.makedirs(cache, mode=0o700, exist_ok=True)
    shutil.copyfile(__file__, cache + "/sca_worker.py")
    py_compile.compile(cache + "/sca_worker.py", doraise=True)
    boot = "import sys; sys.path.insert(0, %r); import sca_worker; sca_worker.main()" % cache
    os.execv(sys.executable, [sys.executable, "-I", "-S", "-B", "-c", boot] + sys.argv[1:])


if __name__ == "__main__":
    reexec_from_bytecode()
