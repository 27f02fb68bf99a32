"""Per-input time limits: evalplus's wall-clock limit on a quiet host; under load, time spent waiting
for a CPU is given back, and nothing more (a verdict must not move with what else runs)."""

from __future__ import annotations

import time

import pytest

from harness.sandbox.clocks import load_fair_time_limit
from tests.support.load import cpu_hogs


class Timeout(Exception):
    pass


def run_under_limit(cpu_seconds: float, limit: float) -> tuple[str, float]:
    """Burn `cpu_seconds` of CPU under the limit: ("done" | "timeout", CPU seconds it got)."""
    time_limit = load_fair_time_limit(Timeout)
    start = time.process_time()
    try:
        with time_limit(limit):
            while time.process_time() - start < cpu_seconds:
                pass
        return "done", time.process_time() - start
    except Timeout:
        return "timeout", time.process_time() - start


@pytest.fixture
def busy_host():
    with cpu_hogs():
        yield


def test_on_a_quiet_host_it_is_the_plain_limit():
    status, cpu = run_under_limit(1.0, 0.3)
    assert status == "timeout" and cpu < 0.45, cpu
    assert run_under_limit(0.05, 0.3)[0] == "done"


def test_under_load_cpu_waits_are_given_back(busy_host):
    wall = time.monotonic()
    status, cpu = run_under_limit(0.3, 0.6)
    assert status == "done", cpu
    assert time.monotonic() - wall > 0.6, "the host was not busy enough to test anything"


def test_under_load_no_more_than_the_limit_is_granted(busy_host):
    # Re-arming the alarm by each interval's wait used to add up to far more than the limit here.
    status, cpu = run_under_limit(3.0, 0.6)
    assert status == "timeout"
    assert cpu < 0.6 * 1.15, f"{cpu:.3f} s of CPU under a 0.6 s limit"
