"""The grader on project-written problems: every stdin idiom and comparison rule, functional calls, limits.

Each solution under solutions/ names the verdicts it must get, under our rule and upstream's, and where
it first fails; all are graded in one sandbox run (the test suite runs it in parallel with the rest).
"""

from __future__ import annotations


import pytest

from benchmarks.livecodebench import dataset
from benchmarks.livecodebench.grade import Grader, Sample
from tests.livecodebench.support import cases
from tests.support.load import cpu_hogs

TIMEOUT_S = 1.0
MEMORY_MB = 256  # lc_pairs/memory_hog asks for 1 GiB


def _grade(problems_file, codes, **options):
    problems = dataset.load(problems_file=problems_file)
    samples = [Sample(qid, code, i, f"case{i}") for i, (qid, code) in enumerate(codes)]
    grader = Grader(problems, progress=False, **{"timeout_s": TIMEOUT_S, "memory_mb": MEMORY_MB,
                                                 "use_cache": False, **options})
    return grader.grade(samples), grader


def test_every_solution_gets_its_verdicts(problems_file):
    all_cases = cases()
    assert {c.verdict for c in all_cases} == {"pass", "fail", "timeout", "error"}
    assert any(c.verdict != c.upstream for c in all_cases), "no case where the two comparison rules differ"
    graded, grader = _grade(problems_file, [(c.question_id, c.code) for c in all_cases])
    wrong = []
    for case, g in zip(all_cases, graded):
        rec = g.record
        got = (rec["ours"]["verdict"], rec["upstream"]["verdict"])
        if got != (case.verdict, case.upstream):
            wrong.append(f"{case.id}: expected {case.verdict}/{case.upstream}, got {got[0]}/{got[1]}: "
                         f"{rec['ours'].get('detail') or rec['upstream'].get('detail')}")
            continue
        if case.test is not None and rec["ours"]["test"] != case.test:
            wrong.append(f"{case.id}: expected the first failing test {case.test}, got {rec['ours']['test']}")
        if case.upstream_test is not None and rec["upstream"]["test"] != case.upstream_test:
            wrong.append(f"{case.id}: expected upstream's first failing test {case.upstream_test}, "
                         f"got {rec['upstream']['test']}")
        if rec["ours"]["verdict"] == "pass":
            assert rec["passed_ours"] == rec["n_tests"], case.id
    assert not wrong, "\n".join(wrong)
    assert grader.stats["graded"] == len({c.code for c in all_cases})

    # Failure records name the test, its input, what was printed and why it failed.
    rec = {c.id: g.record["ours"] for c, g in zip(all_cases, graded)}
    float_out = rec["atc_sum/float_output"]
    assert float_out["input"] == "3\n1 2 3\n" and float_out["output"] == "6.0\n" and "'6.0'" in float_out["detail"]
    assert rec["lc_pairs/raises"]["error_type"] == "ValueError" and rec["lc_pairs/raises"]["input"] == "[5]\n5"
    assert rec["atc_sum/infinite_loop"]["detail"] == f"time limit {TIMEOUT_S:g}s exceeded"
    assert "memory" in rec["lc_pairs/memory_hog"]["detail"].lower(), rec["lc_pairs/memory_hog"]
    assert "not JSON (set)" in rec["lc_pairs/returns_set"]["detail"]
    assert rec["atc_tri/naive_recursion"]["error_type"] == "RecursionError"
    assert rec["atc_sum/output_flood"]["detail"].startswith("output limit exceeded")


def test_identical_solutions_grade_once_and_reruns_come_from_the_cache(problems_file, tmp_path, monkeypatch):
    monkeypatch.setenv("SCA_CACHE_DIR", str(tmp_path))
    code = "print(f'{int(input()):04d}')"
    graded, grader = _grade(problems_file, [("cf_pin", code), ("cf_pin", code + "\n"), ("cf_pin", "print(1)")],
                            use_cache=True)
    assert [g.verdict for g in graded] == ["pass", "pass", "fail"]
    assert grader.stats["graded"] == 2
    again, grader = _grade(problems_file, [("cf_pin", code)], use_cache=True)
    assert again[0].cached and again[0].verdict == "pass" and grader.stats["graded"] == 0


def test_a_recheck_resumes_at_the_timed_out_test_keeping_earlier_verdicts(problems_file):
    """The state a starved timeout is re-run with: upstream's verdict from before that test stays."""
    problems = dataset.load(problems_file=problems_file)
    grader = Grader(problems, timeout_s=TIMEOUT_S, use_cache=False, progress=False)
    # No padding: upstream's rule passes it, ours fails test 1; test 2 ("7") then never ends.
    code = "import time\nn = int(input())\nwhile n == 7:\n    time.sleep(1)\nprint(n)"
    from benchmarks.livecodebench.grade import Graded, _resume_state

    g = Graded(Sample("cf_pin", code, 0), "k0")
    records = []
    grader._run_batches([[g]], 1, records.append)
    (first,) = records
    assert first["ours"]["verdict"] == "fail" and first["ours"]["test"] == 1
    assert first["upstream"]["verdict"] == "timeout" and first["timed_out"]["test"] == 2
    state = _resume_state(first)
    assert state["start"] == 2 and state["ours"]["test"] == 1 and state["upstream"] is None
    records.clear()
    grader._run_batches([[(g, state)]], 1, records.append, why=True, resume=True)
    (again,) = records
    assert again["tests_run"] == 1 and again["ours"] == first["ours"]
    assert again["upstream"]["verdict"] == "timeout" and again["passed_upstream"] == first["passed_upstream"] == 2


@pytest.fixture
def busy_host():
    with cpu_hogs():
        yield


BURN = """import time
start = time.process_time()
while time.process_time() - start < {cpu}:
    pass
print(f"{{int(input()):04d}}")
"""


def test_time_spent_waiting_for_a_cpu_does_not_count(problems_file, busy_host):
    # 0.3 s of CPU per test under a 0.6 s limit, with the CPUs shared three ways and more.
    graded, _ = _grade(problems_file, [("cf_pin", BURN.format(cpu=0.3)), ("cf_pin", BURN.format(cpu=3.0))],
                       timeout_s=0.6, workers=1, recheck_timeouts=False)
    fits, loops = graded
    assert fits.verdict == "pass", fits.record["ours"]
    assert fits.record["slowest_s"] > 0.6, "the host was not busy enough to test anything"
    assert loops.verdict == "timeout"
