"""A host busy enough that a process under test gets well under half a core, whatever session it runs in.

Each hog starts its own session: with the kernel's autogroup scheduling (on here), CPU time is shared
fairly between sessions first, so hogs that share the test's session would not slow a sandboxed program
that starts a session of its own. With 2 x CPUs + 1 hogs in sessions of their own, any one session gets
at most CPUs / (2 x CPUs + 2) < half a core.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
from collections.abc import Iterator


@contextlib.contextmanager
def cpu_hogs() -> Iterator[None]:
    count = 2 * (os.cpu_count() or 1) + 1
    hogs = [subprocess.Popen([sys.executable, "-c", "while True: pass"], start_new_session=True)
            for _ in range(count)]
    try:
        time.sleep(0.2)
        yield
    finally:
        for hog in hogs:
            hog.kill()
            hog.wait()
