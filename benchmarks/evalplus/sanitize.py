"""Turn raw model output into a gradable solution with evalplus's sanitizer, and count what it changes."""

from __future__ import annotations

from dataclasses import replace

from benchmarks.evalplus.dataset import Dataset
from benchmarks.evalplus.grade import SUITES, Graded, Sample


def sanitize_samples(ds: Dataset, samples: list[Sample]) -> list[Sample]:
    """Code-block extraction plus the entry point's dependency closure (evalplus.sanitize)."""
    from evalplus.sanitize import sanitize

    return [replace(s, solution=sanitize(s.solution, ds.problems[s.task_id]["entry_point"])) for s in samples]


def flips(raw: list[Graded], clean: list[Graded], suites: tuple[str, ...] = SUITES) -> dict:
    """How many solutions the sanitizer changed, and how many verdicts moved, in each direction."""
    out = {"changed": 0, "emptied": 0}
    for suite in suites:
        out[suite] = {"fail_to_pass": 0, "pass_to_fail": 0}
    for r, c in zip(raw, clean):
        if r.sample.solution == c.sample.solution:
            continue
        out["changed"] += 1
        out["emptied"] += not c.sample.solution.strip()
        for suite in suites:  # "plus" counts as passing only with base, as in pass@k
            before, after = _passes(r, suite, suites[0]), _passes(c, suite, suites[0])
            if before != after:
                out[suite]["fail_to_pass" if after else "pass_to_fail"] += 1
    return out


def _passes(g: Graded, suite: str, first: str) -> bool:
    return g.status(first) == "pass" and g.status(suite) == "pass"
