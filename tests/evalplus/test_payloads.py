"""Task payloads: what each sandbox program receives, cached beside the ground truth and rebuilt with it."""

from __future__ import annotations

import os
import pickle

from benchmarks.evalplus import dataset, groundtruth
from harness import data
from tests.evalplus.conftest import needs_data, write_subset

pytestmark = needs_data
TASKS = ["HumanEval/0", "HumanEval/15"]


def _subset(tmp_path, tasks: list[str]) -> dataset.Dataset:
    """Each test its own task list: a dataset of its own, so tests in parallel share no ground truth file."""
    return dataset.from_file("humaneval", write_subset(data.fetch("humanevalplus", "v0.1.10"), tasks,
                                                       tmp_path / "subset.jsonl"))


def test_payloads_carry_the_ground_truth_and_follow_it_when_it_is_recomputed(tmp_path, cache_env):
    ds = _subset(tmp_path, TASKS)
    truth = groundtruth.load(ds)
    first = groundtruth.payloads(ds)
    for tid in TASKS:
        task = pickle.loads(first.read(tid))
        assert task["entry_point"] == ds.problems[tid]["entry_point"]
        for suite in ("base", "plus"):
            assert task[suite]["inputs"] == ds.problems[tid][f"{suite}_input"]
            assert task[suite]["expected"] == truth[tid][suite]
            assert task[suite]["ref_time"] == first.times(tid, suite) == truth[tid][f"{suite}_time"]
        assert first.size(tid) == len(first.read(tid)) and not first.rebuilt(tid)

    # Ground truth recomputed (here: rewritten with other timings): the payloads must not be the old ones.
    truth["HumanEval/0"]["base_time"] = [9.0] * len(truth["HumanEval/0"]["base_time"])
    path = groundtruth.cache_path(ds)
    with open(path, "wb") as f:
        pickle.dump(truth, f)
    os.utime(path, ns=(1, 1))
    second = groundtruth.payloads(ds)
    assert second.times("HumanEval/0", "base")[0] == 9.0
    assert pickle.loads(second.read("HumanEval/0"))["base"]["ref_time"][0] == 9.0
    assert not first.directory.exists(), "stale payloads were left behind"


def test_outputs_slower_to_load_than_to_recompute_are_rebuilt_in_the_sandbox(tmp_path, cache_env, monkeypatch):
    ds = _subset(tmp_path, ["HumanEval/1", "HumanEval/15"])
    groundtruth.load(ds)
    # As if HumanEval/15's outputs (~140 MB pickled) unpickled at 1 MB/s: recomputing is cheaper.
    monkeypatch.setattr(groundtruth, "UNPICKLE_BYTES_PER_S", 1e6)
    monkeypatch.setattr(groundtruth, "SHIP_ALWAYS_BYTES", 1 << 20)
    monkeypatch.setattr(groundtruth, "PAYLOAD_FORMAT", "test-rebuilt")
    payloads = groundtruth.payloads(ds)
    assert payloads.rebuilt("HumanEval/15") and not payloads.rebuilt("HumanEval/1")
    task = pickle.loads(payloads.read("HumanEval/15"))
    assert task["plus"]["expected"] is None and task["canonical"].startswith(ds.problems["HumanEval/15"]["prompt"])
    assert payloads.size("HumanEval/15") < 1 << 20
