"""`sca evaluate --dataset livecodebench` and `sca generate --benchmark livecodebench` as a user runs them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.livecodebench.support import cases

REPO = Path(__file__).resolve().parents[2]
SCA = [sys.executable, "-m", "harness.cli"]


def sca(*args, timeout=300, **env):
    return subprocess.run([*SCA, *map(str, args)], cwd=REPO, capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, **env})


def quick_cases():
    """Every case that ends without waiting out a limit (those are tested in test_grader.py)."""
    return [c for c in cases() if c.verdict != "timeout" and "memory" not in c.name]


def write_samples(path: Path, chosen) -> Path:
    path.write_text("".join(json.dumps({"question_id": c.question_id, "code": c.code}) + "\n" for c in chosen))
    return path


def test_evaluate_writes_verdict_lines_scores_and_breakdowns(problems_file, tmp_path):
    chosen = quick_cases()
    out = tmp_path / "out"
    r = sca("evaluate", "--dataset", "livecodebench", "--problems", problems_file, "--timeout", "2",
            "--samples", write_samples(tmp_path / "s.jsonl", chosen), "--out", out, SCA_CACHE_DIR=str(tmp_path))
    assert r.returncode == 0, r.stderr[-3000:]
    summary = json.loads(r.stdout.strip().splitlines()[-1])
    rows = [json.loads(line) for line in (out / "verdicts.jsonl").read_text().splitlines()]
    assert [(row["question_id"], row["verdict"], row["upstream"]["verdict"]) for row in rows] == [
        (c.question_id, c.verdict, c.upstream) for c in chosen]
    for row, c in zip(rows, chosen):
        failing = row["first_failing_test"]
        assert (failing is None) == (c.verdict == "pass"), c.id
        if failing and c.test is not None:
            assert failing["index"] == c.test and failing["set"] == ("public" if c.test == 0 else "private"), c.id

    n = {q: sum(c.question_id == q for c in chosen) for q in {c.question_id for c in chosen}}
    passed = {q: sum(c.question_id == q and c.verdict == "pass" for c in chosen) for q in n}
    assert summary["n_problems"] == 9 and summary["n_samples"] == len(chosen)
    assert summary["pass@1"] == pytest.approx(sum(passed[q] / n[q] for q in n) / len(n))
    differ = sum((c.verdict == "pass") != (c.upstream == "pass") for c in chosen)
    assert summary["rule_disagreements"]["differ"] == differ > 0
    assert summary["difficulty"].keys() == {"easy", "medium", "hard"}
    assert summary["platform"].keys() == {"atcoder", "codeforces", "leetcode"}
    assert summary["difficulty"]["easy"]["n_problems"] == 4
    assert set(summary["pass@k"]) == {"pass", "upstream_rule", "difficulty", "platform"}
    assert summary["pass@k"]["pass"]["pass@1"]["ci95"] is not None
    results = json.loads((out / "eval_results.json").read_text())
    assert set(results["eval"]) == set(n) and results["hash"] == summary["hash"]
    assert results["pass_at_k"]["ours"]["pass@1"] == summary["pass@1"]
    assert (out / "breakdown.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_lcb_runner_output_and_windows(problems_file, tmp_path):
    by_problem: dict[str, list[str]] = {}
    for c in quick_cases():
        by_problem.setdefault(c.question_id, []).append(c.code)
    doc = [{"question_id": q, "code_list": codes} for q, codes in by_problem.items()]
    (tmp_path / "lcb.json").write_text(json.dumps(doc))
    r = sca("evaluate", "--dataset", "livecodebench", "--problems", problems_file, "--samples", tmp_path / "lcb.json",
            "--start-date", "2024-05-11", "--end-date", "2024-09-14", "--out", tmp_path / "o", "--timeout", "2",
            SCA_CACHE_DIR=str(tmp_path))
    assert r.returncode == 0, r.stderr[-3000:]
    summary = json.loads(r.stdout.strip().splitlines()[-1])
    inside = {"atc_tri", "lc_flag", "cf_avg", "cf_pin"}
    assert summary["n_problems"] == 4
    assert summary["n_samples"] == sum(len(v) for q, v in by_problem.items() if q in inside)
    assert summary["skipped_outside_selection"] == sum(len(v) for q, v in by_problem.items() if q not in inside)
    assert summary["window"] == {"start_date": "2024-05-11", "end_date": "2024-09-14", "after_release": None}


@pytest.mark.parametrize("args, message", [
    (["--release", "release_v9"], "--release: unknown release 'release_v9' (did you mean"),
    (["--release", "v1", "--problems", "{problems}"], "--release and --problems both name the problems"),
    (["--problems", "{problems}", "--sanitize"], "--sanitize: only for --dataset humaneval or mbpp"),
    (["--problems", "{problems}", "--after-release", "nobody/model"], "model: 'nobody/model' is not in the registry"),
    (["--problems", "{problems}", "--timeout", "0"], "--timeout: Input should be greater than 0"),
])
def test_user_errors_are_one_line(problems_file, tmp_path, args, message):
    samples = write_samples(tmp_path / "s.jsonl", quick_cases()[:1])
    args = [a.format(problems=problems_file) for a in args]
    r = sca("evaluate", "--dataset", "livecodebench", "--samples", samples, *args, SCA_OFFLINE="1")
    assert r.returncode == 2 and message in r.stderr and r.stderr.strip().count("\n") == 0, r.stderr


def test_bad_sample_lines_and_cross_family_options_are_one_line(problems_file, tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"question_id": "cf_pin", "code": "print(1)"}\n{"question_id": "abc999_z", "code": "x"}\n')
    r = sca("evaluate", "--dataset", "livecodebench", "--problems", problems_file, "--samples", bad)
    assert r.returncode == 2 and f"{bad}:2: unknown question_id 'abc999_z'" in r.stderr
    r = sca("evaluate", "--dataset", "humaneval", "--samples", bad, "--release", "v1")
    assert r.returncode == 2 and "--release: only for --dataset livecodebench" in r.stderr


def test_generate_defaults_are_upstreams_and_greedy_is_an_option():
    from generation.codegen import CodegenConfig

    cfg = CodegenConfig(benchmark="livecodebench", n=None, temperature=None, max_new_tokens=None)
    assert (cfg.n, cfg.temperature, cfg.top_p, cfg.max_new_tokens) == (10, 0.2, 0.95, 2000)
    assert CodegenConfig(benchmark="humaneval").max_new_tokens == 768
    r = sca("generate", "--benchmark", "livecodebench", "--model", "m", "--backend", "hf", "--greedy", "--n", "5",
            "--out", "unused")
    assert r.returncode == 2 and "--greedy" in r.stderr and r.stderr.strip().count("\n") == 0
    r = sca("generate", "--benchmark", "humaneval", "--model", "m", "--backend", "hf", "--problems", "p.jsonl",
            "--out", "unused")
    assert r.returncode == 2 and "--problems: not a setting of benchmark humaneval" in r.stderr


@pytest.mark.slow
def test_generate_then_evaluate_with_the_tiny_model(problems_file, tiny_model, tmp_path):
    out = tmp_path / "gen"
    r = sca("generate", "--benchmark", "livecodebench", "--problems", problems_file, "--model", tiny_model,
            "--backend", "hf", "--greedy", "--max-new-tokens", "8", "--no-progress", "--out", out)
    assert r.returncode == 0, r.stderr[-3000:]
    meta = json.loads((out / "generation.json").read_text())
    assert meta["sampling"] == {"n": 1, "temperature": 0.0, "top_p": 1.0, "max_new_tokens": 8, "seed": 0}
    assert meta["prompt_style"] == "instruct" and meta["version"] == str(problems_file)
    assert len(meta["prompt_sha256"]) == 9 and meta["prompts_sha256"]
    samples = [json.loads(line) for line in (out / "samples.jsonl").read_text().splitlines()]
    assert len(samples) == 9 and set(samples[0]) == {"question_id", "code"}
    gens = [json.loads(line) for line in (out / "generations.jsonl").read_text().splitlines()]
    assert {g["prompt_sha256"] for g in gens} == set(meta["prompt_sha256"].values())

    r = sca("evaluate", "--dataset", "livecodebench", "--samples", out, "--out", tmp_path / "eval", "--timeout", "2",
            SCA_CACHE_DIR=str(tmp_path))
    assert r.returncode == 0, r.stderr[-3000:]
    summary = json.loads(r.stdout.strip().splitlines()[-1])
    assert summary["problems"] == str(problems_file)  # taken from generation.json
    assert summary["n_samples"] == 9 and summary["hit_max_new_tokens"] == meta["hit_max_new_tokens"]
    lines = (tmp_path / "eval" / "verdicts.jsonl").read_text().splitlines()
    assert len(lines) == 9
    assert all(json.loads(line)["verdict"] in ("pass", "fail", "timeout", "error") for line in lines)
