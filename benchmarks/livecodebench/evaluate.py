"""Grade a LiveCodeBench samples file end to end: the one path behind `sca evaluate --dataset livecodebench`
and the `livecodebench_evaluate` recipe stage."""

from __future__ import annotations

import json
import time
from datetime import date
from pathlib import Path

from pydantic import Field

from harness.config import Strict
from harness.errors import UserError
from harness.stages import stage


class EvaluateConfig(Strict):
    release: str | None = None  # release_vN | vN | vA_vB | release_latest (default, without `problems`)
    problems: str | None = None  # a local jsonl in the code_generation_lite schema instead of a release
    start_date: date | None = None  # inclusive, on contest_date
    end_date: date | None = None  # inclusive
    after_release: str | None = None  # a registry model: only problems from the day after its release
    question_ids: list[str] | None = None  # default: every selected problem the samples have
    timeout_s: float = Field(6.0, gt=0)  # per test, as upstream; CPU waits do not count
    memory_mb: int = Field(2048, ge=64)  # resident memory of one test's process
    workers: int | None = Field(None, ge=1)  # default: CPU count
    batch_size: int = Field(16, ge=1)  # solutions per sandbox program, at most
    use_cache: bool = True


def evaluate(cfg: EvaluateConfig, samples_path: Path, out_dir: Path, progress: bool = True) -> dict:
    """Grade `samples_path` into out_dir (eval_results.json, verdicts.jsonl, breakdown.png); return the summary."""
    from benchmarks.evalplus.evaluate import generation_info
    from benchmarks.livecodebench import dataset, results, samples
    from benchmarks.livecodebench.grade import Grader, grader_hash

    started = time.perf_counter()
    release, problems_file = cfg.release, cfg.problems
    generation = generation_info(Path(samples_path))
    if release is None and problems_file is None and generation and generation.get("benchmark") == "livecodebench":
        # Samples from `sca generate` name the problems they were made for.
        release, problems_file = generation["config"].get("version"), generation["config"].get("problems")
    # Only the tests of problems the samples cover are kept in memory (a release's run to gigabytes).
    problems = dataset.load(release, problems_file, start_date=cfg.start_date, end_date=cfg.end_date,
                            after_release=cfg.after_release, tests_for=samples.question_ids(samples_path))
    if cfg.question_ids:
        unknown = sorted(set(cfg.question_ids) - problems.known)
        if unknown:
            raise UserError(f"question_ids: unknown question_id {unknown[0]!r} for {problems.label}")
        problems.problems = {q: p for q, p in problems.problems.items() if q in set(cfg.question_ids)}
    loaded, skipped = samples.load(samples_path, problems)
    load_s = time.perf_counter() - started

    grader = Grader(problems, timeout_s=cfg.timeout_s, memory_mb=cfg.memory_mb, workers=cfg.workers,
                    batch_size=cfg.batch_size, use_cache=cfg.use_cache, progress=progress)
    t0 = time.perf_counter()
    graded = grader.grade(loaded)
    grade_s = time.perf_counter() - t0

    score = results.write(out_dir, problems, graded, grader.policy.hash())
    scored = {g.sample.question_id for g in graded}
    unscored = [q for q in problems.problems if q not in scored]
    verdicts = {v: sum(g.verdict == v for g in graded) for v in ("pass", "fail", "timeout", "error")}
    return {
        "dataset": "livecodebench",
        "problems": problems.label,
        "files": problems.files,
        "window": problems.window,
        "hash": problems.hash,
        "n_problems": len(scored),
        "n_samples": len(graded),
        "n_distinct": len({g.key for g in graded}),
        "skipped_outside_selection": skipped,
        "problems_without_samples": {"count": len(unscored), "first": unscored[:20]},
        "pass@1": score["ours"].get("pass@1", {}).get("value"),
        "pass@1_upstream_rule": score["upstream"].get("pass@1", {}).get("value"),
        # suite -> pass@k, the shape harness/report reads ("difficulty/easy" ... become suites)
        "pass@k": {"pass": score["ours"], "upstream_rule": score["upstream"],
                   **{facet: {value: cell["ours"] for value, cell in score[facet].items()}
                      for facet in ("difficulty", "platform")}},
        "difficulty": score["difficulty"],
        "platform": score["platform"],
        "verdicts": verdicts,
        "rule_disagreements": results.disagreements(graded),
        "problems_with_tolerance": sum(problems.problems[q].tolerance is not None for q in scored),
        "limits": {"timeout_s": cfg.timeout_s, "memory_mb": cfg.memory_mb},
        "hit_max_new_tokens": generation.get("hit_max_new_tokens") if generation else None,
        "grader": {**grader.stats, "version": grader_hash(), "policy": grader.policy.hash()},
        "seconds": {"loading": round(load_s, 2), "grading": round(grade_s, 2),
                    "total": round(time.perf_counter() - started, 2)},
        "out": str(out_dir),
    }


def _version() -> str:
    from benchmarks.livecodebench.grade import GRADER_VERSION

    return f"grader{GRADER_VERSION}"


@stage("livecodebench_evaluate", EvaluateConfig, version=_version())
def evaluate_stage(cfg: EvaluateConfig, inputs: dict, ctx) -> None:
    """Recipe stage: grades the samples.jsonl of its one input (a `generate` artifact with benchmark livecodebench)."""
    if len(inputs) != 1:
        raise UserError(f"stages.{ctx.stage_name}.inputs: give exactly one samples-producing stage")
    samples_path = next(iter(inputs.values())).file("samples.jsonl")
    summary = evaluate(cfg, samples_path, ctx.out_dir, progress=ctx.progress)
    (ctx.out_dir / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    ctx.counts.update({"samples": summary["n_samples"], "problems": summary["n_problems"]})
    metrics = {"pass@1": summary["pass@1"], "pass@1_upstream_rule": summary["pass@1_upstream_rule"],
               "rule_disagreements": summary["rule_disagreements"]["differ"],
               **{f"verdicts/{k}": v for k, v in summary["verdicts"].items()}}
    for facet in ("difficulty", "platform"):
        for value, cell in summary[facet].items():
            if "pass@1" in cell["ours"]:
                metrics[f"pass@1/{facet}/{value}"] = cell["ours"]["pass@1"]["value"]
    if summary["hit_max_new_tokens"] is not None:
        metrics["hit_max_new_tokens"] = summary["hit_max_new_tokens"]
    ctx.log(metrics)
    rows = [json.loads(line) for line in (ctx.out_dir / "verdicts.jsonl").read_text().splitlines()[:200]]
    ctx.log_table("verdicts", [{**{k: v for k, v in r.items() if not isinstance(v, (dict, list))},
                                "first_failing_test": (r["first_failing_test"] or {}).get("index"),
                                "upstream_verdict": r["upstream"]["verdict"]} for r in rows])
    ctx.log_image("breakdown", ctx.out_dir / "breakdown.png", caption="pass@1 by difficulty and platform")
