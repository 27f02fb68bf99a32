"""A shared sandbox per test module, plus helpers that check a hostile program left the host unchanged."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from harness.sandbox import Policy, Program, Sandbox

HOSTILE_POLICY = Policy(timeout_s=2.0, memory_mb=256, max_processes=32, output_limit_bytes=64 * 1024)


@pytest.fixture(scope="module")
def sandbox():
    with Sandbox(HOSTILE_POLICY, workers=2) as sb:
        yield sb


def run_one(sb: Sandbox, code: str, **kw):
    [verdict] = list(sb.run([Program(id="p", code=code, **kw)]))
    return verdict


def processes_of(uids: list[int]) -> list[int]:
    """Host pids whose real uid is one of `uids` (programs that escaped every sweep)."""
    found = []
    wanted = {str(u) for u in uids}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            status = Path(f"/proc/{entry}/status").read_text()
        except OSError:
            continue
        for line in status.splitlines():
            if line.startswith("Uid:"):
                if line.split()[1] in wanted:
                    found.append(int(entry))
                break
    return found


def assert_host_clean(sb: Sandbox) -> None:
    assert sb.leftover_processes() == 0
    assert processes_of(sb.uids) == []
    # The next programs on every worker still run, and fast.
    verdicts = list(sb.run([Program(id=f"canary{i}", code="print('ok')") for i in range(2 * sb.workers)]))
    assert [v.status for v in verdicts] == ["pass"] * len(verdicts), verdicts
    assert max(v.duration_s for v in verdicts) < 1.0, verdicts
