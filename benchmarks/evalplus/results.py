"""Write evalplus's eval_results.json, our richer per-sample verdicts.jsonl, and the one-line summary."""

from __future__ import annotations

import json
import os
import tempfile
from collections import defaultdict
from datetime import datetime
from pathlib import Path

from benchmarks import passk
from benchmarks.evalplus.dataset import Dataset
from benchmarks.evalplus.grade import SUITES
from benchmarks.evalplus.grade import Graded


def _atomic_write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile("w", dir=path.parent, delete=False, suffix=".tmp", encoding="utf-8") as tmp:
        tmp.write(text)
    os.replace(tmp.name, path)


def _fail_tests(ds: Dataset, g: Graded, suite: str) -> list:
    # evalplus (fast_check) reports only the last input it ran, for any non-pass status
    idx = g.suites[suite]["fail_index"]
    if idx is None:
        return []
    tests = [ds.problems[g.sample.task_id][f"{suite}_input"][idx]]
    if ds.name == "mbpp":
        from evalplus.data.mbpp import mbpp_serialize_inputs

        tests = mbpp_serialize_inputs(g.sample.task_id, tests)
    return tests


def _passed(rec: dict) -> bool:
    return rec["status"] == "pass"


def _passed_at_worst(rec: dict) -> bool:
    return rec["status"] == "pass" and not rec.get("timing_sensitive")


def _passed_at_best(rec: dict) -> bool:
    return rec["status"] == "pass" or (bool(rec.get("timing_sensitive")) and rec.get("timing_alternative") == "pass")


def per_task_counts(ds: Dataset, graded: list[Graded], passed=_passed) -> tuple[list[int], dict[str, list[int]]]:
    """Per task: samples, and per suite the samples that pass it and every suite before it (plus needs base);
    `passed` judges one suite record."""
    by_task: dict[str, list[Graded]] = defaultdict(list)
    for g in graded:
        by_task[g.sample.task_id].append(g)
    tids = [t for t in ds.problems if t in by_task]
    n = [len(by_task[t]) for t in tids]
    counts = {suite: [sum(all(passed(g.suites[s]) for s in ds.suites[: k + 1]) for g in by_task[t]) for t in tids]
              for k, suite in enumerate(ds.suites)}
    return n, counts


def pass_at_k(ds: Dataset, graded: list[Graded], passed=_passed) -> dict[str, dict]:
    n, counts = per_task_counts(ds, graded, passed)
    return {suite: passk.pass_at_k(n, c) for suite, c in counts.items()}


def timing_summary(ds: Dataset, graded: list[Graded], factor: float) -> dict:
    """How much of the score rests on the host's speed: flagged verdicts, and pass@1 with every one of
    them at its worst (failing) and at its best (passing where a faster host would pass it)."""
    flagged = [g for g in graded if any(g.suites[s].get("timing_sensitive") for s in ds.suites)]
    worst, best = pass_at_k(ds, graded, _passed_at_worst), pass_at_k(ds, graded, _passed_at_best)
    return {
        "factor": factor,
        "samples": len(flagged),
        "checks": sum(bool(g.suites[s].get("timing_sensitive")) for g in flagged for s in ds.suites),
        "tasks": len({g.sample.task_id for g in flagged}),
        "task_ids": sorted({g.sample.task_id for g in flagged}),
        "pass@1_range": {s: [worst[s]["pass@1"]["value"], best[s]["pass@1"]["value"]] for s in ds.suites},
    }


def eval_results(ds: Dataset, graded: list[Graded], pak: dict) -> dict:
    by_task: dict[str, list[Graded]] = defaultdict(list)
    for g in graded:
        by_task[g.sample.task_id].append(g)
    evals = {}
    for tid in ds.problems:
        if tid not in by_task:
            continue
        # A dataset without a plus suite writes plus_status None, as evoeval does for its new sets.
        evals[tid] = [
            {
                "task_id": tid,
                "solution": g.sample.solution,
                **{f"{suite}_status": g.status(suite) if suite in ds.suites else None for suite in SUITES},
                **{f"{suite}_fail_tests": _fail_tests(ds, g, suite) if suite in ds.suites else [] for suite in SUITES},
            }
            for g in sorted(by_task[tid], key=lambda g: g.sample.index)
        ]
    return {
        "date": datetime.now().strftime("%Y-%m-%d %H:%M"),
        "hash": ds.hash,
        "eval": evals,
        "pass_at_k": {suite: {k: v["value"] for k, v in pak[suite].items()} for suite in ds.suites},
    }


def verdict_rows(graded: list[Graded], policy_hash: str, suites: tuple[str, ...] = SUITES) -> list[dict]:
    rows = []
    for g in graded:
        row = {"task_id": g.sample.task_id, "index": g.sample.index, "source": g.sample.source, "key": g.key,
               "cached": g.cached, "policy": policy_hash}
        for suite in suites:
            row[suite] = {k: v for k, v in g.suites[suite].items() if k != "suite"}
        if "plus" in suites:
            row["plus_pass"] = g.status("base") == "pass" and g.status("plus") == "pass"
        row["timing_sensitive"] = any(bool(g.suites[suite].get("timing_sensitive")) for suite in suites)
        rows.append(row)
    return rows


def write(out_dir: Path, ds: Dataset, graded: list[Graded], policy_hash: str) -> dict:
    pak = pass_at_k(ds, graded)
    _atomic_write(out_dir / "eval_results.json", json.dumps(eval_results(ds, graded, pak), default=repr))
    rows = verdict_rows(graded, policy_hash, ds.suites)
    _atomic_write(out_dir / "verdicts.jsonl", "".join(json.dumps(r) + "\n" for r in rows))
    return pak
