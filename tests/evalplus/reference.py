"""Run the real installed evalplus 0.3.1 in a subprocess, sealed inside a temp dir (test + bench helper)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

# evalplus leaves a non-daemon "stucking checker" thread that sleeps 20 s; os._exit skips waiting for it.
_RUN = """
import os, sys
from evalplus.evaluate import evaluate
evaluate(dataset=sys.argv[1], samples=sys.argv[2], parallel=int(sys.argv[3]), i_just_wanna_run=True)
sys.stdout.flush(); sys.stderr.flush()
os._exit(0)
"""


def run_evalplus(dataset: str, dataset_file: Path, samples: Path, home: Path, parallel: int = 1,
                 timeout: float = 1800) -> dict:
    """Grade `samples` (a .jsonl) with evalplus on `dataset_file`; return its eval_results dict.

    Its caches (ground truth, downloads) live under `home`, never the real $HOME. parallel=1 is what
    evalplus picks by itself on a 2-core host (cpu_count // 2).
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith(("EVALPLUS_", "HUMANEVAL_", "MBPP_"))}
    env.update(HOME=str(home), XDG_CACHE_HOME=str(home / "cache"))
    env["HUMANEVAL_OVERRIDE_PATH" if dataset == "humaneval" else "MBPP_OVERRIDE_PATH"] = str(dataset_file)
    result_path = Path(str(samples).replace(".jsonl", "_eval_results.json"))
    result_path.unlink(missing_ok=True)
    subprocess.run([sys.executable, "-c", _RUN, dataset, str(samples), str(parallel)], env=env, check=True,
                   stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=timeout)
    return json.loads(result_path.read_text())


def statuses(eval_results: dict) -> dict[tuple[str, int], tuple[str, str]]:
    return {(tid, i): (r["base_status"], r["plus_status"])
            for tid, rows in eval_results["eval"].items() for i, r in enumerate(rows)}


def timing_flags(graded) -> dict[tuple[str, int], tuple[bool, bool]]:
    """(task, i) -> (base, plus) timing-sensitive flags, indexed like `statuses` (by sample index)."""
    by_task: dict[str, list] = {}
    for g in graded:
        by_task.setdefault(g.sample.task_id, []).append(g)
    return {(tid, i): tuple(bool(g.suites[s].get("timing_sensitive")) for s in ("base", "plus"))
            for tid, rows in by_task.items() for i, g in enumerate(sorted(rows, key=lambda g: g.sample.index))}


def unexplained(expected: dict, ours: dict, flags: dict) -> tuple[dict, list]:
    """Differences the host's speed does not explain, and those it does.

    A difference is put down to timing only where our verdict on that suite is flagged
    timing-sensitive by the grader itself and the other suite still agrees.
    """
    diffs, timing = {}, []
    for key, theirs in expected.items():
        mine = ours[key]
        if mine == theirs:
            continue
        differ = [i for i in (0, 1) if mine[i] != theirs[i]]
        if len(differ) == 1 and flags[key][differ[0]]:
            timing.append((key, theirs, mine))
        else:
            diffs[key] = (theirs, mine)
    return diffs, timing
