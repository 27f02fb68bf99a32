"""Timing-sensitive verdicts: flagged where a host `factor` times faster or slower could give another
verdict; the verdict itself stays evalplus's. Solutions burn CPU (not wall time), so the load-fair clock
measures the same work whatever else runs."""

from __future__ import annotations

import json

import pytest

from benchmarks.evalplus import dataset
from benchmarks.evalplus.evaluate import EvaluateConfig, evaluate
from tests.evalplus.conftest import needs_data

pytestmark = needs_data
TASK = "HumanEval/0"
LIMIT = 0.5  # every input of HumanEval/0 runs in far under LIMIT / 4, so each limit is this floor


def _burning(seconds: float) -> str:
    """The canonical solution, after burning `seconds` of CPU on its first call in each process."""
    p = dataset.load("humaneval").problems[TASK]
    return ("import time\n_first = [True]\n" + p["prompt"] +
            f"    if _first[0]:\n        _first[0] = False\n        t0 = time.process_time()\n"
            f"        while time.process_time() - t0 < {seconds}:\n            pass\n" + p["canonical_solution"])


@pytest.fixture(scope="module")
def graded(tmp_path_factory, shared_cache):
    import os

    tmp = tmp_path_factory.mktemp("timing")
    p = dataset.load("humaneval").problems[TASK]
    solutions = {
        "fast": p["prompt"] + p["canonical_solution"],
        "near": _burning(0.7 * LIMIT),  # passes, using 70% of its limit: a 2x slower host fails it
        "slow": _burning(1.2 * LIMIT),  # needs 1.2x its limit: times out here, finishes under 2x
        "loops": p["prompt"] + "    while True:\n        pass\n",  # never finishes: a plain timeout
        "wrong": p["prompt"] + "    return None\n",
    }
    samples = tmp / "samples.jsonl"
    samples.write_text("".join(json.dumps({"task_id": TASK, "solution": s}) + "\n" for s in solutions.values()))
    own = tmp / "cache"
    (own / "evalplus").mkdir(parents=True)
    (shared_cache / "evalplus" / "groundtruth").mkdir(parents=True, exist_ok=True)
    (own / "evalplus" / "groundtruth").symlink_to(shared_cache / "evalplus" / "groundtruth")
    saved = os.environ.get("SCA_CACHE_DIR")
    os.environ["SCA_CACHE_DIR"] = str(own)
    try:
        cfg = EvaluateConfig(dataset="humaneval", min_time_limit=LIMIT, use_cache=False)
        summary = evaluate(cfg, samples, tmp / "out")
    finally:
        if saved is None:
            os.environ.pop("SCA_CACHE_DIR")
        else:
            os.environ["SCA_CACHE_DIR"] = saved
    rows = [json.loads(line) for line in (tmp / "out" / "verdicts.jsonl").read_text().splitlines()]
    return summary, dict(zip(solutions, sorted(rows, key=lambda r: r["index"])))


def test_a_solution_needing_1_2x_its_limit_is_flagged(graded):
    _, rows = graded
    base = rows["slow"]["base"]
    assert (base["status"], base["error_type"]) == ("fail", "TimeoutException")  # evalplus's verdict
    assert base["timing_sensitive"] and rows["slow"]["timing_sensitive"]
    recheck = base["timing"]["recheck"]
    assert recheck["finished"] and recheck["status"] == "pass" and recheck["limit_s"] == pytest.approx(2 * LIMIT)
    assert recheck["input"] == 0
    assert LIMIT < recheck["input_s"] < 2 * LIMIT, recheck
    assert base["timing_alternative"] == "pass"


def test_an_endless_loop_is_a_plain_timeout(graded):
    _, rows = graded
    for suite in ("base", "plus"):
        rec = rows["loops"][suite]
        assert (rec["status"], rec["error_type"]) == ("fail", "TimeoutException")
        assert not rec["timing_sensitive"] and rec["timing_alternative"] is None
        assert rec["timing"]["recheck"]["finished"] is False
    assert not rows["loops"]["timing_sensitive"]


def test_a_pass_using_most_of_its_limit_is_flagged(graded):
    _, rows = graded
    base = rows["near"]["base"]
    assert base["status"] == "pass" and base["timing_sensitive"] and base["timing_alternative"] == "fail"
    assert 0.5 < base["timing"]["max_ratio"] < 1.0
    assert base["timing"]["slowest_input"] == 0


def test_clear_verdicts_are_not_flagged(graded):
    _, rows = graded
    for name in ("fast", "wrong"):
        assert not rows[name]["timing_sensitive"], rows[name]
        assert rows[name]["base"]["timing"]["max_ratio"] < 0.5


def test_summary_counts_them_and_spans_the_range(graded):
    summary, _ = graded
    timing = summary["timing_sensitive"]
    assert (timing["samples"], timing["tasks"], timing["factor"]) == (2, 1, 2.0)
    assert summary["pass@1"]["base"] == pytest.approx(2 / 5)  # fast, near
    # worst: only "fast" passes; best: "near" keeps its pass and "slow" passes on a faster host
    assert timing["pass@1_range"]["base"] == [pytest.approx(1 / 5), pytest.approx(3 / 5)]
    assert timing["pass@1_range"]["plus"] == [pytest.approx(1 / 5), pytest.approx(3 / 5)]


def test_calibration_gives_a_slower_host_the_reference_hosts_limits(tmp_path, cache_env):
    import subprocess
    import sys

    profile = tmp_path / "profile.json"
    proc = subprocess.run([sys.executable, "-m", "harness.cli", "evaluate", "--dataset", "humaneval",
                           "--write-speed-profile", str(profile)], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    ref = json.loads(profile.read_text())
    assert ref["hash"] == dataset.load("humaneval").hash and len(ref["task_s"]) == 164
    # The same profile, as if the reference host were twice as fast: this host is then 2x slower, and
    # the 1.2x-limit solution gets the doubled floor the reference host's verdict was made under.
    ref["task_s"] = {t: s / 2 for t, s in ref["task_s"].items()}
    faster = tmp_path / "faster-host.json"
    faster.write_text(json.dumps(ref))
    samples = tmp_path / "samples.jsonl"
    samples.write_text(json.dumps({"task_id": TASK, "solution": _burning(1.2 * LIMIT)}) + "\n")
    cfg = EvaluateConfig(dataset="humaneval", min_time_limit=LIMIT, use_cache=False, calibrate_to=str(faster))
    summary = evaluate(cfg, samples, tmp_path / "out")
    assert summary["calibration"]["speed_ratio"] == pytest.approx(2.0)
    assert summary["calibration"]["min_time_limit"] == pytest.approx(2 * LIMIT)
    assert summary["calibration"]["suite_cap_s"] == pytest.approx(120)
    assert summary["pass@1"]["base"] == 1.0


def test_a_profile_of_another_dataset_is_refused_in_one_line(tmp_path, cache_env):
    import subprocess
    import sys

    profile = tmp_path / "mbpp.json"
    profile.write_text(json.dumps({"format": 1, "dataset": "mbpp", "version": "v0.2.0", "hash": "abc",
                                   "timing": "fair2", "task_s": {}}))
    samples = tmp_path / "samples.jsonl"
    samples.write_text(json.dumps({"task_id": TASK, "solution": "def f(): pass\n"}) + "\n")
    proc = subprocess.run([sys.executable, "-m", "harness.cli", "evaluate", "--dataset", "humaneval", "--samples",
                           str(samples), "--calibrate-to", str(profile), "--out", str(tmp_path / "o")],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and str(profile) in proc.stderr and "not humaneval" in proc.stderr
