"""Grade ClassEval samples end to end: the one path behind `sca evaluate --dataset classeval` and the
`classeval_evaluate` recipe stage."""

from __future__ import annotations

import json
import time
from pathlib import Path

from pydantic import Field

from harness.config import Strict
from harness.errors import UserError
from harness.stages import stage


class EvaluateConfig(Strict):
    tasks: list[str] | None = None  # default: every task in the samples
    time_limit: float = Field(5.0, gt=0)  # seconds per test class (the official 5 s); CPU waits do not count
    memory_mb: int = Field(2048, ge=64)  # one solution's program and its test processes together
    timing_factor: float = Field(2.0, ge=1)  # flag verdicts a host this many times faster or slower could change
    workers: int | None = Field(None, ge=1)  # default: CPU count
    use_cache: bool = True


def evaluate(cfg: EvaluateConfig, samples_path: Path, out_dir: Path, progress: bool = True) -> dict:
    """Grade `samples_path` into out_dir (verdicts.jsonl, class_result.json, breakdown.png); return the summary."""
    from benchmarks.classeval import dataset, results, samples
    from benchmarks.classeval.grade import Grader, available_task_modules, grader_hash
    from benchmarks.evalplus.evaluate import generation_info

    started = time.perf_counter()
    data = dataset.load()
    tasks = set(cfg.tasks) if cfg.tasks else None
    if tasks:
        unknown = sorted(tasks - data.tasks.keys())
        if unknown:
            raise UserError(f"tasks: unknown task id {unknown[0]!r} for {data.label}")
    loaded = samples.load(Path(samples_path), data, tasks)
    grader = Grader(data, time_limit_s=cfg.time_limit, memory_mb=cfg.memory_mb, timing_factor=cfg.timing_factor,
                    workers=cfg.workers, use_cache=cfg.use_cache, progress=progress)
    t0 = time.perf_counter()
    graded = grader.grade(loaded)
    grade_s = time.perf_counter() - t0
    score = results.write(out_dir, data, graded, grader.policy.hash())
    generation = generation_info(Path(samples_path))
    missing_modules = sorted({r.get("detail", "").split("'")[1] for g in graded for r in g.classes.values()
                              if r.get("error_type") == "ModuleNotFoundError" and "'" in r.get("detail", "")})
    return {
        "grader_version": f"classeval-grader{grader_hash()}",
        "samples": str(samples_path),
        "dataset": "classeval",
        "hash": data.hash,
        "n_tasks": len({g.sample.task_id for g in graded}),
        "n_samples": len(graded),
        "n_distinct": len({g.key for g in graded}),
        "pass@1": {level: cell.get("pass@1", {}).get("value") for level, cell in score["pass@k"].items()},
        "pass@k": score["pass@k"],
        "methods_only": score["methods_only"],
        "official_rule": score["official_rule"],
        "partial": score["partial"],
        "counted": score["counted"],
        "test_class_verdicts": results.status_counts(graded),
        "timing_sensitive": results.timing_summary(data, graded, cfg.timing_factor),
        "data_quirks": {tid: t.quirks for tid, t in data.tasks.items() if t.quirks},
        # Third-party modules a graded solution needed and this interpreter lacks (its tests then error).
        "missing_modules": missing_modules,
        "task_modules_preloaded": list(available_task_modules()),
        "limits": {"time_limit_s": cfg.time_limit, "memory_mb": cfg.memory_mb},
        "hit_max_new_tokens": generation.get("hit_max_new_tokens") if generation else None,
        "grader": {**grader.stats, "policy": grader.policy.hash()},
        "seconds": {"grading": round(grade_s, 2), "total": round(time.perf_counter() - started, 2)},
        "out": str(out_dir),
    }


def _version() -> str:
    from benchmarks.classeval.grade import grader_hash

    return f"grader{grader_hash()}"


@stage("classeval_evaluate", EvaluateConfig, version=_version())
def evaluate_stage(cfg: EvaluateConfig, inputs: dict, ctx) -> None:
    """Recipe stage: grades the samples.jsonl of its one input (a `generate` artifact with benchmark classeval)."""
    if len(inputs) != 1:
        raise UserError(f"stages.{ctx.stage_name}.inputs: give exactly one samples-producing stage")
    samples_path = next(iter(inputs.values())).file("samples.jsonl")
    summary = evaluate(cfg, samples_path, ctx.out_dir, progress=ctx.progress)
    (ctx.out_dir / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    ctx.counts.update({"samples": summary["n_samples"], "tasks": summary["n_tasks"]})
    metrics = {f"pass@1/{level}": value for level, value in summary["pass@1"].items()}
    metrics["pass@1/methods_only"] = summary["methods_only"].get("pass@1", {}).get("value")
    metrics.update({f"verdicts/{k}": v for k, v in summary["test_class_verdicts"].items()})
    metrics["timing_sensitive/samples"] = summary["timing_sensitive"]["samples"]
    if summary["hit_max_new_tokens"] is not None:
        metrics["hit_max_new_tokens"] = summary["hit_max_new_tokens"]
    ctx.log(metrics)
    rows = [json.loads(line) for line in (ctx.out_dir / "verdicts.jsonl").read_text().splitlines()[:200]]
    ctx.log_table("verdicts", [{k: v for k, v in r.items() if not isinstance(v, (dict, list))} for r in rows])
    ctx.log_image("breakdown", ctx.out_dir / "breakdown.png", caption="ClassEval pass@1 and test-class verdicts")
