"""evoeval 0.1.0's own evaluation and ours, on the same mutated canonical solutions: the same verdicts.

evoeval runs in a subprocess sealed in a temp dir (its caches under a private HOME, the data from
EVOEVAL_OVERRIDE_PATH), computing its own ground truth; ours grades in the sandbox. Each task gets its
canonical solution and mutants that wrap the entry point: a wrong value, a changed type (int -> float,
list -> tuple: evoeval's comparison checks types), a small nudge, an exception from the third call on,
and, on a few tasks, an endless loop from the second call on.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks.evalplus import results
from benchmarks.evalplus.grade import Grader, Sample
from benchmarks.evoeval import dataset
from tests.evalplus.reference import unexplained
from tests.evoeval.conftest import needs_data, write_subset

pytestmark = [needs_data, pytest.mark.slow, pytest.mark.timeout(1200)]
evoeval_evaluate = pytest.importorskip("evoeval.evaluate")

# Tasks per set, spread over each set (every k-th task): 56 tasks x 5 solutions, plus 7 loops (287).
PER_SET = {"difficult": 10, "creative": 10, "subtle": 10, "combine": 8, "tool_use": 6, "verbose": 6, "concise": 6}
LOOPING = 1  # tasks per set that also get an endless loop (each costs both graders a time limit)
MUTANTS = {
    "wrong": "return None",
    "retype": "return float(r) if type(r) is int else tuple(r) if type(r) is list else r",
    "nudge": ("return r + 1 if type(r) is int else r + 1e-9 if type(r) is float else "
              "r[:-1] if isinstance(r, (list, str, tuple)) and r else r"),
    "late": "if _n[0] > 2:\n        raise ValueError('late')\n    return r",
}
LOOP = "if _n[0] == 2:\n        while True:\n            pass\n    return r"

# evoeval leaves a non-daemon "stucking checker" thread that sleeps 20 s; os._exit skips waiting for it.
_RUN = """
import argparse, os, sys
from evoeval.evaluate import evaluate
evaluate(argparse.Namespace(dataset=sys.argv[1], samples=sys.argv[2], base_only=False, parallel=2,
                            i_just_wanna_run=True, test_details=False, min_time_limit=1.0,
                            gt_time_limit_factor=4.0, mini=False, noextreme=False))
sys.stdout.flush(); sys.stderr.flush()
os._exit(0)
"""


def _mutant(code: str, entry: str, body: str) -> str:
    return (f"{code}\n\n_orig = {entry}\n_n = [0]\n\ndef {entry}(*a, **k):\n    _n[0] += 1\n"
            f"    r = _orig(*a, **k)\n    {body}\n")


def _run_evoeval(set_name: str, data_dir: Path, samples: Path, home: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("EVALPLUS_", "EVOEVAL_", "HUMANEVAL_"))}
    env.update(HOME=str(home), XDG_CACHE_HOME=str(home / "cache"), EVOEVAL_OVERRIDE_PATH=str(data_dir))
    result_path = Path(str(samples).replace(".jsonl", "_eval_results.json"))
    subprocess.run([sys.executable, "-c", _RUN, dataset.checker_name(set_name), str(samples)], env=env, check=True,
                   stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=900)
    return json.loads(result_path.read_text())


@pytest.mark.parametrize("set_name", list(PER_SET))
def test_same_verdicts_as_evoeval(set_name, tmp_path, cache_env):
    full = dataset.load(set_name)
    ids = list(full.problems)
    step = len(ids) // PER_SET[set_name]
    chosen = ids[::step][:PER_SET[set_name]]
    data_dir = tmp_path / "data"
    ds = dataset.from_file(set_name, write_subset(set_name, chosen, data_dir / f"{dataset.checker_name(set_name)}.jsonl"))

    samples = []
    for k, tid in enumerate(chosen):
        p = ds.problems[tid]
        canonical = ds.canonical_code(p)
        bodies = list(MUTANTS.values()) + ([LOOP] if k < LOOPING else [])
        codes = [canonical] + [_mutant(canonical, p["entry_point"], body) for body in bodies]
        samples += [Sample(tid, code, i) for i, code in enumerate(codes)]
    sample_file = tmp_path / "samples.jsonl"
    sample_file.write_text("".join(json.dumps({"task_id": s.task_id, "solution": s.solution}) + "\n" for s in samples))

    reference = _run_evoeval(set_name, data_dir, sample_file, tmp_path / "home")
    graded = Grader(ds, use_cache=False).grade(samples)
    ours = results.eval_results(ds, graded, results.pass_at_k(ds, graded))

    def statuses(doc):
        return {(t, i): (r["base_status"], r["plus_status"]) for t, rows in doc["eval"].items() for i, r in enumerate(rows)}

    flags = {(g.sample.task_id, g.sample.index): tuple(bool(g.suites.get(s, {}).get("timing_sensitive"))
                                                       for s in ("base", "plus")) for g in graded}
    theirs, mine = statuses(reference), statuses(ours)
    assert theirs.keys() == mine.keys() and len(mine) == len(samples)
    diffs, _ = unexplained(theirs, mine, flags)
    assert not diffs, diffs
    # the mutants really were told apart: every canonical passes, and most mutants fail
    assert all(mine[tid, 0][0] == "pass" for tid in chosen)
    failed = sum(mine[s.task_id, s.index][0] != "pass" for s in samples if s.index > 0)
    assert failed >= len(chosen) * len(MUTANTS) // 2
