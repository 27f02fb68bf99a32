"""`sca leaderboard`: rows from evaluate outputs and references, deltas, the files it writes, and the page
rendered in a real headless chromium."""

from __future__ import annotations

import json
import shutil

import pytest

from harness.report import browser, rows
from tests.report.conftest import LLAMA, LLAMA_INSTRUCT, MISTRAL, pr247, sc2

needs_chromium = pytest.mark.skipif(browser.find_chromium() is None, reason=browser.MISSING)


def published(dataset: str) -> list:
    return [pr247(m, dataset) for m in (LLAMA, LLAMA_INSTRUCT, MISTRAL)] + [sc2(dataset)]


def board(out) -> dict:
    return json.loads((out / "leaderboard.json").read_text())


def test_rows_references_and_deltas_from_published_files(run_cli, tmp_path):
    out = tmp_path / "lb"
    code, stdout, _ = run_cli("leaderboard", *published("humaneval"), *published("mbpp"), "--out", out,
                              "--baseline", "Meta-Llama-3-8B", "--no-browser")
    assert code == 0
    doc = board(out)
    measured = [r for r in doc["rows"] if r["kind"] == "measured"]
    assert len(measured) == 8 and doc["baseline"] == "meta-llama/Meta-Llama-3-8B"
    by = {(r["benchmark"], r["model"], r["kind"]): r for r in doc["rows"]}

    instruct = by[("humaneval", "meta-llama/Meta-Llama-3-8B-Instruct", "measured")]
    assert round(100 * instruct["scores"]["plus"]["value"], 1) == 57.3 and instruct["scores"]["plus"]["ci95"]
    assert instruct["settings"]["n"] == 1 and instruct["settings"]["greedy"] is True
    assert instruct["version"] == "v0.1.10" and instruct["grader"].startswith("EvalPlus")
    delta = instruct["deltas"]["plus"]
    assert delta["value"] == pytest.approx(instruct["scores"]["plus"]["value"] - 0.2378, abs=1e-3)
    assert delta["test"] == "exact McNemar" and delta["p_value"] < 1e-6
    assert by[("humaneval", "meta-llama/Meta-Llama-3-8B", "measured")]["baseline"] is True
    # Another dataset version (StarCoder2-Instruct's samples are HE+ v0.1.9): no delta across versions.
    assert by[("humaneval", "starcoder2-15b-instruct-v0.1", "measured")]["deltas"] == {}

    paper = by[("humaneval", "SelfCodeAlign-CQ-7B", "reference")]
    assert paper["scores"] == {"plus": {"value": 0.671, "ci95": None}} and "Table 1" in paper["source"]
    assert paper["deltas"]["plus"]["p_value"] is None
    assert by[("mbpp", "CodeQwen1.5-7B (base)", "reference")]["scores"]["plus"]["value"] == pytest.approx(0.602)
    board_refs = {m for (_, m, k), r in by.items() if k == "reference" and r["grader"] == "EvalPlus leaderboard"}
    assert board_refs == {"Llama3-8B-instruct", "Llama3-8B-base", "Mistral-7B-Instruct-v0.2",
                          "starcoder2-15b-instruct-v0.1"}

    # Ranked by HumanEval+ within the HumanEval+ table, which comes first.
    he = [r for r in doc["rows"] if r["benchmark"] == "humaneval"]
    values = [r["scores"]["plus"]["value"] for r in he]
    assert values == sorted(values, reverse=True) and doc["rows"][0]["benchmark"] == "humaneval"

    md = (out / "leaderboard.md").read_text()
    assert md in stdout
    assert "## HumanEval+ (humaneval)" in md and "## MBPP+ (mbpp)" in md
    assert "| meta-llama/Meta-Llama-3-8B (baseline) | measured | v0.1.10 | 27.4 [" in md
    assert "| SelfCodeAlign-CQ-7B | reference |" in md and "+33.5 (p=" in md

    html = (out / "leaderboard.html").read_text()
    dom = browser.parse_dom(html)
    assert dom.external == [] and "<style>" in html and 'src="data:image/png;base64,' in html
    assert [(r.benchmark, r.kind, r.model) for r in dom.rows] == [(r["benchmark"], r["kind"], r["model"])
                                                                  for r in doc["rows"]]
    import matplotlib.image

    png = matplotlib.image.imread(out / "leaderboard.png")
    assert png.shape[0] > 400 and png.shape[1] > 400 and png.std() > 0.05


def test_reference_selection(run_cli, tmp_path):
    code, _, _ = run_cli("leaderboard", pr247(LLAMA_INSTRUCT), "--out", tmp_path / "all", "--references", "all",
                         "--no-browser")
    on_board = [r for r in rows.evalplus_leaderboard_rows() if r.benchmark == "humaneval"]
    refs = [r for r in board(tmp_path / "all")["rows"] if r["grader"] == "EvalPlus leaderboard"]
    assert code == 0 and len(refs) == len(on_board) > 100
    assert all(r["benchmark"] == "humaneval" for r in board(tmp_path / "all")["rows"])  # no MBPP+ measured

    code, _, _ = run_cli("leaderboard", pr247(LLAMA_INSTRUCT), "--out", tmp_path / "none", "--references", "none",
                         "--no-paper", "--no-browser")
    assert code == 0 and [r["kind"] for r in board(tmp_path / "none")["rows"]] == ["measured"]

    code, _, _ = run_cli("leaderboard", pr247(LLAMA_INSTRUCT), "--out", tmp_path / "named", "--no-paper",
                         "--references", "CodeQwen1.5-7B,StarCoder2-3B", "--no-browser")
    assert {r["model"] for r in board(tmp_path / "named")["rows"] if r["kind"] == "reference"} == {
        "CodeQwen1.5-7B", "StarCoder2-3B"}
    code, _, err = run_cli("leaderboard", pr247(LLAMA_INSTRUCT), "--out", tmp_path / "x", "--references", "CodeQwen1.5",
                           "--no-browser")
    assert code == 2 and "did you mean" in err


def test_baseline_that_is_ambiguous_or_unknown_is_one_line(run_cli, tmp_path):
    files = [pr247(LLAMA), pr247(LLAMA_INSTRUCT)]
    code, _, err = run_cli("leaderboard", *files, "--out", tmp_path, "--baseline", "Llama-3", "--no-browser")
    assert code == 2 and "matches several models" in err and len(err.strip().splitlines()) == 1
    code, _, err = run_cli("leaderboard", *files, "--out", tmp_path, "--baseline", "Meta-Lama-3-8B-Instuct",
                           "--no-browser")
    assert code == 2 and "did you mean 'meta-llama/Meta-Llama-3-8B-Instruct'" in err
    code, _, err = run_cli("leaderboard", tmp_path / "nothing-here", "--out", tmp_path)
    assert code == 2 and "no such file, folder or recipe" in err


def _artifact(folder, source, stage, finished_at, fingerprint):
    folder.mkdir(parents=True)
    shutil.copy(source, folder / "eval_results.json")
    (folder / "manifest.json").write_text(json.dumps({
        "stage": stage, "uses": "evaluate", "stage_version": "grader3-fair2", "experiment": "exp",
        "fingerprint": fingerprint, "finished_at": finished_at, "config": {"dataset": "humaneval"}}))


def test_a_run_root_is_scanned_and_only_the_latest_of_equal_artifacts_kept(run_cli, tmp_path):
    root = tmp_path / "runs"
    _artifact(root / "artifacts" / "evaluate-aaaa", pr247(LLAMA), "he_eval", "2026-01-01T00:00:00+00:00", "a" * 64)
    _artifact(root / "artifacts" / "evaluate-bbbb", pr247(LLAMA_INSTRUCT), "he_eval", "2026-02-01T00:00:00+00:00",
              "b" * 64)
    (root / "evaluate" / "mistral").mkdir(parents=True)
    shutil.copy(pr247(MISTRAL), root / "evaluate" / "mistral" / "eval_results.json")
    (root / "artifacts" / ".partial" / "evaluate-cccc").mkdir(parents=True)  # never read
    shutil.copy(pr247(LLAMA), root / "artifacts" / ".partial" / "evaluate-cccc" / "eval_results.json")

    code, stdout, _ = run_cli("leaderboard", root, "--out", tmp_path / "lb", "--no-paper", "--references", "none",
                              "--no-browser", "--label", "mistral=Mistral-7B-Instruct (sca evaluate)")
    doc = board(tmp_path / "lb")
    assert code == 0
    assert {(r["model"], r["grader"]) for r in doc["rows"]} == {
        ("exp/he_eval", "evaluate grader3-fair2"), ("Mistral-7B-Instruct (sca evaluate)", "EvalPlus 2024-08-09 (version unrecorded)")}
    kept = next(r for r in doc["rows"] if r["model"] == "exp/he_eval")
    assert round(100 * kept["scores"]["plus"]["value"], 1) == 57.3  # the later artifact (Instruct)
    assert "1 older artifacts of the same model, benchmark, settings and grader left out" in stdout


def _folder(path, summary=None, verdicts=()):
    path.mkdir(parents=True)
    if summary is not None:
        (path / "summary.json").write_text(json.dumps(summary))
    if verdicts:
        (path / "verdicts.jsonl").write_text("".join(json.dumps(v) + "\n" for v in verdicts))
    return path


def test_any_benchmark_gets_its_own_table_and_timing_sensitive_counts_show(run_cli, tmp_path):
    he = _folder(tmp_path / "he", {"dataset": "humaneval", "version": "v0.1.10", "hash": "fe585eb4df8c88d844eeb463ea4d0302",
                                   "pass@k": {"base": {"pass@1": {"value": 0.6, "ci95": [0.5, 0.7]}},
                                              "plus": {"pass@1": {"value": 0.55, "ci95": [0.45, 0.65]}}},
                                   "timing_sensitive": {"factor": 2.0, "samples": 3, "tasks": 2,
                                                        "pass@1_range": {"base": [0.59, 0.61], "plus": [0.54, 0.57]}}})
    lcb = _folder(tmp_path / "lcb", {"dataset": "livecodebench", "version": "release_v6",
                                     "pass@k": {"overall": {"pass@1": {"value": 0.2, "ci95": [0.1, 0.3]}},
                                                "difficulty": {"easy": {"pass@1": {"value": 0.5, "ci95": None}}}}},
                  [{"question_id": "abc301_a", "verdict": "pass"}, {"question_id": "2847", "verdict": "fail"}])
    code, _, _ = run_cli("leaderboard", he, lcb, "--out", tmp_path / "lb", "--no-paper", "--references", "none",
                              "--no-browser")
    assert code == 0
    md = (tmp_path / "lb" / "leaderboard.md").read_text()
    assert "| 2 tasks; HumanEval+ 54.0-57.0 |" in md
    assert "## LiveCodeBench (livecodebench)" in md and "| overall | difficulty/easy |" in md
    assert "| 20.0 [10.0, 30.0] | 50.0 |" in md


@needs_chromium
def test_the_page_renders_in_headless_chromium_with_every_row(run_cli, tmp_path):
    out = tmp_path / "lb"
    code, stdout, _ = run_cli("leaderboard", *published("humaneval"), "--out", out, "--baseline", "Meta-Llama-3-8B")
    assert code == 0 and "headless browser check: ok" in stdout
    check = json.loads((out / "browser_check.json").read_text())
    doc = board(out)
    assert check["ok"] is True and check["image_ok"] is True and check["external_references"] == []
    assert check["rows_in_dom"] == check["rows_expected"] == check["rows_counted_by_page"] == len(doc["rows"])
    assert [(r["benchmark"], r["kind"], r["model"]) for r in check["rendered"]] == [
        (r["benchmark"], r["kind"], r["model"]) for r in doc["rows"]]
    import matplotlib.image

    shot = matplotlib.image.imread(out / "leaderboard.screenshot.png")
    assert shot.shape[1] == 1600 and shot.shape[0] > 600
    assert shot[:200].std() > 0.05  # the title and the table, not a blank page


@needs_chromium
def test_the_browser_check_fails_when_the_page_lacks_a_row(run_cli, tmp_path):
    out = tmp_path / "lb"
    assert run_cli("leaderboard", pr247(LLAMA), "--out", out, "--no-browser")[0] == 0
    rendered = [(r["benchmark"], r["kind"], r["model"]) for r in board(out)["rows"]]
    chromium = browser.find_chromium()
    assert chromium is not None
    check = browser.check_page(out / "leaderboard.html", tmp_path / "shot.png",
                               rendered + [("humaneval", "measured", "a model not on the page")], chromium)
    assert check.ok is False and check.rows_in_dom == len(rendered) == check.rows_expected - 1


def test_a_run_root_scan_reads_only_evaluate_artifacts(run_cli, tmp_path):
    root = tmp_path / "runs"
    _artifact(root / "artifacts" / "evaluate-aaaa", pr247(LLAMA), "he_eval", "2026-01-01T00:00:00+00:00", "a" * 64)
    other = root / "artifacts" / "execute-bbbb"  # another stage that happens to write verdicts.jsonl
    other.mkdir(parents=True)
    (other / "verdicts.jsonl").write_text('{"task_id": "x", "verdict": "pass"}\n')
    (other / "manifest.json").write_text(json.dumps({"stage": "exec", "uses": "execute", "experiment": "exp"}))
    code, _, _ = run_cli("leaderboard", root, "--out", tmp_path / "lb", "--no-paper", "--references", "none",
                         "--no-browser")
    assert code == 0 and [r["model"] for r in board(tmp_path / "lb")["rows"]] == ["exp/he_eval"]
