"""A check the sandbox could not run is reported (evalplus's "timeout" for a dead checker) but never cached."""

from __future__ import annotations

from benchmarks.evalplus import dataset, grade, groundtruth
from benchmarks.evalplus.grade import Grader, Sample
from tests.evalplus.conftest import needs_data

pytestmark = needs_data


def test_infra_errors_are_not_reused(cache_env, monkeypatch):
    ds = dataset.load("humaneval")
    p = ds.problems["HumanEval/0"]
    sample = Sample("HumanEval/0", p["prompt"] + p["canonical_solution"], 0)
    with monkeypatch.context() as m:
        m.setattr(grade, "_program_source", lambda: "import os\nos._exit(3)\n")  # every program dies at once
        (broken,) = Grader(ds, groundtruth.payloads(ds)).grade([sample])
    assert broken.status("base") == "timeout" and broken.suites["base"]["error_type"] == grade.INFRA_ERROR
    (graded,) = Grader(ds, groundtruth.payloads(ds)).grade([sample])
    assert not graded.cached and graded.status("base") == graded.status("plus") == "pass"
    (again,) = Grader(ds, groundtruth.payloads(ds)).grade([sample])
    assert again.cached  # a real verdict is reused
