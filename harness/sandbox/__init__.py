"""The one sandbox for untrusted code (benchmark grading and the data pipeline's self-validation)."""

from harness.sandbox.engine import Sandbox
from harness.sandbox.policy import STATUSES, Policy, Program, Verdict

__all__ = ["STATUSES", "Policy", "Program", "Sandbox", "Verdict"]
