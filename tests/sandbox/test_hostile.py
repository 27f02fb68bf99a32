"""Hostile programs: each gets the right verdict, leaves the host unchanged and does not slow the next ones."""

from __future__ import annotations

import socket
import textwrap
import threading

import pytest

from harness.sandbox import Sandbox

from .conftest import HOSTILE_POLICY, assert_host_clean, run_one

pytestmark = pytest.mark.slow


def code(src: str) -> str:
    return textwrap.dedent(src).strip() + "\n"


def test_fork_bomb(sandbox):
    v = run_one(sandbox, code("""
        import os
        while True:
            try:
                os.fork()
            except OSError:
                pass
    """))
    assert v.status == "timeout"
    assert v.rechecked
    assert_host_clean(sandbox)


def test_allocation_bomb(sandbox):
    v = run_one(sandbox, code("""
        chunks = []
        while True:
            chunks.append(bytearray(10 * 1024 * 1024))
    """))
    assert v.status == "memory"
    assert_host_clean(sandbox)


def test_allocation_bomb_in_a_child_process(sandbox):
    v = run_one(sandbox, code("""
        import subprocess, sys
        grow = "x = []\\nwhile True:\\n    x.append(bytearray(10 ** 7))"
        subprocess.run([sys.executable, "-c", grow], check=True)
    """))
    assert v.status == "memory"
    assert_host_clean(sandbox)


def test_infinite_loop(sandbox):
    v = run_one(sandbox, "while True:\n    pass\n", timeout_s=1.0)
    assert v.status == "timeout"
    assert 1.0 <= v.duration_s < 3.0
    assert_host_clean(sandbox)


def test_sleep_forever(sandbox):
    v = run_one(sandbox, "import time\ntime.sleep(10 ** 6)\n", timeout_s=1.0)
    assert v.status == "timeout"
    assert_host_clean(sandbox)


@pytest.mark.parametrize("write", ["sys.stdout.write('x' * 65536)", "sys.stderr.write('x' * 65536)",
                                   "os.write(1, b'x' * 65536)"])
def test_gigabytes_of_output(sandbox, write):
    v = run_one(sandbox, f"import os, sys\nwhile True:\n    {write}\n")
    assert v.status == "output_limit"
    assert len(v.stdout) <= HOSTILE_POLICY.output_limit_bytes
    assert len(v.stderr) <= HOSTILE_POLICY.output_limit_bytes
    assert_host_clean(sandbox)


def test_reading_stdin_when_none_is_given(sandbox):
    v = run_one(sandbox, "input()\n")
    assert (v.status, v.error_type) == ("fail", "EOFError")
    v = run_one(sandbox, "import sys\nassert sys.stdin.read() == ''\nprint('empty')\n")
    assert (v.status, v.stdout) == ("pass", "empty\n")
    assert_host_clean(sandbox)


def test_closing_its_own_fds(sandbox):
    v = run_one(sandbox, code("""
        import os
        for fd in range(1024):
            try:
                os.close(fd)
            except OSError:
                pass
    """))
    assert v.status == "pass"
    assert_host_clean(sandbox)


def test_network_to_host_loopback(sandbox):
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    listener.settimeout(0.5)
    port = listener.getsockname()[1]
    accepted = []
    thread = threading.Thread(target=lambda: _accept(listener, accepted))
    thread.start()
    v = run_one(sandbox, f"import socket\nsocket.create_connection(('127.0.0.1', {port}), timeout=1).sendall(b'x')\n")
    thread.join()
    listener.close()
    assert v.status == "fail" and v.error_type in ("ConnectionRefusedError", "OSError", "TimeoutError"), v
    assert accepted == []
    assert_host_clean(sandbox)


def _accept(listener, accepted):
    try:
        accepted.append(listener.accept())
    except OSError:
        pass


def test_writing_outside_its_working_dir(sandbox, tmp_path):
    target = tmp_path / "escaped.txt"
    v = run_one(sandbox, code(f"""
        import os
        wrote = []
        for path in [{str(target)!r}, "/tmp/escaped.txt", "/etc/escaped.txt", "/usr/escaped.txt", "/escaped.txt",
                     "/dev/escaped.txt", os.path.expanduser("~/../escaped.txt")]:
            try:
                with open(path, "w") as f:
                    f.write("x")
                wrote.append(path)
            except OSError:
                pass
        with open("inside.txt", "w") as f:
            f.write("fine")
        with open("/dev/shm/scratch", "w") as f:  # multiprocessing's scratch, emptied after the program
            f.write("fine")
        print(wrote)
    """))
    assert (v.status, v.stdout) == ("pass", "[]\n")
    assert not target.exists()
    # The working dir is fresh per program: the file written above is gone.
    v = run_one(sandbox, "import os\nprint(os.listdir('.') + os.listdir('/dev/shm'))\n")
    assert v.stdout == "['main.py']\n"  # only the program's own source
    assert_host_clean(sandbox)


def test_cannot_see_the_checkout_or_host_tmp(sandbox, tmp_path):
    (tmp_path / "visible.txt").write_text("x")
    v = run_one(sandbox, code(f"""
        import os
        print(os.path.exists({str(tmp_path / 'visible.txt')!r}), os.path.exists({__file__!r}))
    """))
    assert v.stdout == "False False\n"


def test_reading_secrets_from_the_environment(monkeypatch):
    for name in ("WANDB_API_KEY", "HF_TOKEN", "OPENAI_API_KEY", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "sekrit-value")
    with Sandbox(HOSTILE_POLICY, workers=1) as sb:
        v = run_one(sb, code("""
            import os
            found = [os.environ.get(k, "") for k in os.environ]
            for path in ("/proc/self/environ", "/proc/1/environ", "/proc/self/cmdline"):
                try:
                    found.append(open(path).read())
                except OSError:
                    pass
            print("\\n".join(found))
        """))
        assert v.status == "pass"
        assert "sekrit" not in v.stdout
        assert_host_clean(sb)


def test_killing_the_parent(sandbox):
    v = run_one(sandbox, code("""
        import os, signal
        for target in (os.getppid(), 1):
            try:
                os.kill(target, signal.SIGKILL)
            except OSError:
                pass
        print("still here")
    """))
    assert (v.status, v.stdout) == ("pass", "still here\n")
    # kill(-1) reaches only what the program's own uid owns in its namespace, never the worker.
    v = run_one(sandbox, "import os, signal\ntry:\n    os.kill(-1, signal.SIGKILL)\nexcept OSError:\n    pass\n")
    assert v.status == "pass"
    assert_host_clean(sandbox)


def test_daemonizing_to_outlive_its_run(sandbox):
    v = run_one(sandbox, code("""
        import os, time
        if os.fork() == 0:
            os.setsid()
            if os.fork() == 0:
                time.sleep(1000)  # keeps the inherited stdout open
            os._exit(0)
        print("parent done")
    """))
    assert (v.status, v.stdout) == ("pass", "parent done\n")
    assert v.duration_s < 1.0  # recorded when the main process exits, not at EOF on its output
    assert_host_clean(sandbox)


def test_ignoring_signals(sandbox):
    v = run_one(sandbox, code("""
        import os, signal, time
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(sig, signal.SIG_IGN)
        if os.fork() == 0:
            os.setsid()
            while True:
                time.sleep(1)
        while True:
            pass
    """), timeout_s=1.0)
    assert v.status == "timeout"
    assert_host_clean(sandbox)


def test_segfault(sandbox):
    v = run_one(sandbox, "import ctypes\nctypes.string_at(0)\n")
    assert (v.status, v.exit_code) == ("killed", -11)
    assert_host_clean(sandbox)


def test_deep_recursion(sandbox):
    v = run_one(sandbox, "def f(n):\n    return f(n + 1)\nf(0)\n")
    assert (v.status, v.error_type) == ("fail", "RecursionError")
    v = run_one(sandbox, "import sys\nsys.setrecursionlimit(10 ** 8)\ndef f(n):\n    return f(n + 1)\nf(0)\n")
    assert v.status in ("killed", "memory"), v  # the C stack overflows: SIGSEGV
    assert_host_clean(sandbox)


def test_sysv_shared_memory_does_not_carry_over():
    with Sandbox(HOSTILE_POLICY, workers=1) as sb:
        made = run_one(sb, code("""
            import ctypes
            libc = ctypes.CDLL(None)
            shmid = libc.shmget(0x5CA, 4096, 0o1666)  # IPC_CREAT | 0666
            print(shmid >= 0)
        """))
        assert made.stdout == "True\n"
        seen = run_one(sb, "print(len(open('/proc/sysvipc/shm').read().splitlines()) - 1)\n")
        assert seen.stdout == "0\n"


def test_filling_the_disk(sandbox):
    v = run_one(sandbox, code("""
        i = 0
        while True:
            with open(f"f{i}", "wb") as f:
                f.write(b"x" * 60000)
            i += 1
    """))
    assert v.status == "memory", v  # files in the working dir count against the memory cgroup
    assert_host_clean(sandbox)
    assert run_one(sandbox, "import os\nprint(len(os.listdir('.')))\n").stdout == "1\n"
