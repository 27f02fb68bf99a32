"""What every benchmark grader shares: the verdict cache, solution normalisation, and when a timeout is re-run.

A grader keys each verdict by everything that decides it (grader version, dataset hash, limits, sandbox
policy, the normalized solution), appends finished verdicts as they come, and reads them back on the
next run: reruns resume and identical solutions grade once.
"""

from __future__ import annotations

import json

# A killed suite whose child got at least this share of a CPU was not starved by load: no re-check.
UNSTARVED_CPU_SHARE = 0.9
RECHECK_ROUNDS = 3


def normalize(solution: str) -> str:
    """Only changes that cannot alter behaviour: line endings and trailing whitespace at the end."""
    return solution.replace("\r\n", "\n").rstrip() + "\n"


def maybe_starved(rec: dict) -> bool:
    """Whether a timeout may have lost to load the load-fair clocks do not see (memory, I/O, other threads).

    The limits discount the child's CPU waits; a killed run whose child still got less than a full CPU
    is re-run alone (up to RECHECK_ROUNDS) before its verdict is recorded.
    """
    if rec["status"] != "timeout":
        return False
    return rec.get("cpu_s") is None or rec["cpu_s"] < UNSTARVED_CPU_SHARE * rec["duration_s"]


class VerdictCache:
    """Append-only jsonl of finished verdicts, one file per (benchmark family, name); a torn last line is ignored.

    Verdicts of checks the sandbox could not run say nothing about the solution: callers keep them out
    with `remember` (held for this run only) instead of `put`.
    """

    def __init__(self, family: str, name: str, enabled: bool = True):
        from harness import data

        self.path = data.cache_dir() / family / "verdicts" / f"{name}.jsonl"
        self.entries: dict[str, object] = {}
        if enabled and self.path.exists():
            with open(self.path, encoding="utf-8") as f:
                for line in f:
                    try:
                        row = json.loads(line)
                        self.entries[row["key"]] = row["value"]
                    except (ValueError, KeyError, TypeError):
                        continue
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._fh = open(self.path, "a", encoding="utf-8")

    def put(self, key: str, value) -> None:
        self.entries[key] = value
        self._fh.write(json.dumps({"key": key, "value": value}) + "\n")
        self._fh.flush()

    def remember(self, key: str, value) -> None:
        self.entries[key] = value

    def close(self) -> None:
        self._fh.close()
