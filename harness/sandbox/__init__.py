"""The one sandbox for untrusted code (benchmark grading and the data pipeline's self-validation).

    with Sandbox(Policy(timeout_s=10, memory_mb=1024)) as sb:
        for verdict in sb.run(Program(id=..., code=..., stdin=..., files=...) for ...):
            ...  # completion order; verdict.policy is the hash of the limits it ran under

Design: N workers, each a fork server (worker.py) inside its own bwrap pid/net/ipc/uts namespaces with a
read-only view of the system dirs. Each program is forked from it, moved into the worker's memory cgroup
(its pids cgroup it inherits), given a fresh working dir, and run as the worker's non-root uid. Its verdict
is taken when its main process exits; then everything left in the namespace is killed and reaped.
Timeouts are re-run alone before they are recorded. Where the host lacks a layer, `Sandbox.isolation`
says so and a warning names it once.
"""

from harness.sandbox.engine import Sandbox
from harness.sandbox.policy import STATUSES, Policy, Program, Verdict

__all__ = ["STATUSES", "Policy", "Program", "Sandbox", "Verdict"]
