"""--sanitize: evalplus's code extraction on raw model output, and the verdicts it changes, counted."""

from __future__ import annotations

import json
import subprocess
import sys

from benchmarks.evalplus import dataset
from tests.evalplus.conftest import needs_data

pytestmark = needs_data


def test_sanitize_counts_flips(tmp_path, cache_env):
    he = dataset.load("humaneval")
    p0, p2 = he.problems["HumanEval/0"], he.problems["HumanEval/2"]
    chatty = f"Sure! Here it is:\n```python\n{p0['prompt'] + p0['canonical_solution']}\n```\nIt sorts first.\n"
    clean = p2["prompt"] + p2["canonical_solution"]
    samples = tmp_path / "raw.jsonl"
    samples.write_text(json.dumps({"task_id": "HumanEval/0", "solution": chatty}) + "\n"
                       + json.dumps({"task_id": "HumanEval/2", "solution": clean}) + "\n")
    proc = subprocess.run([sys.executable, "-m", "harness.cli", "evaluate", "--dataset", "humaneval",
                           "--samples", str(samples), "--out", str(tmp_path / "out"), "--sanitize"],
                          capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=600)
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(proc.stdout.strip().splitlines()[-1])
    assert summary["pass@1"] == {"base": 1.0, "plus": 1.0}
    flips = summary["sanitizer"]
    assert flips["base"]["fail_to_pass"] == 1 and flips["base"]["pass_to_fail"] == 0
    assert flips["emptied"] == 0
    solution = json.loads((tmp_path / "out" / "eval_results.json").read_text())["eval"]["HumanEval/0"][0]["solution"]
    assert "```" not in solution and "def has_close_elements" in solution
