"""Expected outputs and reference timings from the canonical solutions, cached per dataset hash and Python.

Canonical solutions are trusted dataset code, so like evalplus they run in-process (here in a small
process pool, one task per job); untrusted samples never come near this module.
"""

from __future__ import annotations

import os
import pickle
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from tqdm import tqdm

from benchmarks.evalplus.dataset import Dataset


def cache_dir() -> Path:
    from harness import data

    return data.cache_dir() / "evalplus"


def cache_path(ds: Dataset) -> Path:
    py = f"py{sys.version_info.major}.{sys.version_info.minor}"
    return cache_dir() / "groundtruth" / f"{ds.hash}-{py}.pkl"


def _one(args: tuple) -> tuple[str, dict]:
    from evalplus.gen.util import trusted_exec

    task_id, problem, output_not_none = args
    code = problem["prompt"] + problem["canonical_solution"]
    oracle = {}
    for suite in ("base", "plus"):
        oracle[suite], oracle[f"{suite}_time"] = trusted_exec(
            code, problem[f"{suite}_input"], problem["entry_point"], record_time=True, output_not_none=output_not_none
        )
    return task_id, oracle


def load(ds: Dataset, workers: int | None = None) -> dict[str, dict]:
    """task_id -> {"base", "base_time", "plus", "plus_time"}, exactly evalplus's get_groundtruth."""
    path = cache_path(ds)
    if path.exists():
        with open(path, "rb") as f:  # written by us below, never downloaded
            return pickle.load(f)
    from evalplus.eval._special_oracle import MBPP_OUTPUT_NOT_NONE_TASKS

    not_none = MBPP_OUTPUT_NOT_NONE_TASKS if ds.name == "mbpp" else []
    jobs = [(tid, p, p["entry_point"] in not_none) for tid, p in ds.problems.items()]
    # Longest inputs first so the pool does not end on one big task.
    jobs.sort(key=lambda j: -len(j[1]["plus_input"]))
    out: dict[str, dict] = {}
    start = time.perf_counter()
    workers = workers or min(len(jobs), os.cpu_count() or 1)
    with ProcessPoolExecutor(max_workers=workers) as pool:
        bar = tqdm(pool.map(_one, jobs), total=len(jobs), desc=f"ground truth {ds.label}", leave=False)
        for task_id, oracle in bar:
            out[task_id] = oracle
    out = {tid: out[tid] for tid in ds.problems}
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=path.parent, delete=False, suffix=".tmp") as tmp:
        pickle.dump(out, tmp)
    os.replace(tmp.name, path)
    print(f"ground truth for {ds.label}: {time.perf_counter() - start:.1f}s -> {path}", file=sys.stderr)
    return out
