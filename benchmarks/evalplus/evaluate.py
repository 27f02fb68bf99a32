"""Grade a samples file end to end: the one path behind `sca evaluate` and the `evaluate` recipe stage."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Literal

from pydantic import Field

from harness.config import Strict
from harness.errors import UserError
from harness.stages import stage


class EvaluateConfig(Strict):
    dataset: Literal["humaneval", "mbpp"]
    version: str | None = None  # default: humaneval v0.1.10, mbpp v0.2.0
    variant: Literal["mini", "noextreme"] | None = None
    tasks: list[str] | None = None  # default: every task in the samples
    sanitize: bool = False  # extract code from raw output first, and count the verdicts that changes
    workers: int | None = Field(None, ge=1)  # default: CPU count
    batch_size: int = Field(16, ge=1)  # samples per sandbox program; results are saved, and resume, per program
    use_cache: bool = True
    min_time_limit: float = Field(1.0, gt=0)  # evalplus: 1 s per input at least
    gt_time_limit_factor: float = Field(4.0, gt=0)  # evalplus: 4 x the canonical solution's time
    # Flag verdicts that could differ on a host this many times faster or slower (1 = off); see grade.py.
    timing_factor: float = Field(2.0, ge=1)
    # A speed profile of a reference host: scale the absolute limits (1 s floor, 60 s suite cap) by this
    # host's speed relative to it (groundtruth.speed_ratio). Off by default: evalplus's limits are absolute.
    calibrate_to: str | None = None


def generation_info(samples_path: Path) -> dict | None:
    """`sca generate` leaves generation.json beside its samples: how many outputs hit max_new_tokens."""
    path = (samples_path if samples_path.is_dir() else samples_path.parent) / "generation.json"
    return json.loads(path.read_text()) if path.is_file() else None


def evaluate(cfg: EvaluateConfig, samples_path: Path, out_dir: Path) -> dict:
    """Grade `samples_path` into out_dir (eval_results.json, verdicts.jsonl); return the summary."""
    from benchmarks.evalplus import dataset, groundtruth, samples
    from benchmarks.evalplus.grade import SUITE_CAP_S

    started = time.perf_counter()
    ds = dataset.load(cfg.dataset, cfg.version, cfg.variant)
    tasks = set(cfg.tasks) if cfg.tasks else None
    if tasks:
        unknown = sorted(tasks - ds.problems.keys())
        if unknown:
            raise UserError(f"tasks: unknown task id {unknown[0]!r} for {ds.label}")
    loaded = samples.load(samples_path, ds, tasks)

    min_time_limit, suite_cap_s, calibration = cfg.min_time_limit, SUITE_CAP_S, None
    if cfg.calibrate_to:
        from harness.data import read_json

        ratio, compared = groundtruth.speed_ratio(read_json(Path(cfg.calibrate_to)), ds, cfg.calibrate_to)
        min_time_limit, suite_cap_s = cfg.min_time_limit * ratio, SUITE_CAP_S * ratio
        calibration = {"reference": cfg.calibrate_to, "speed_ratio": round(ratio, 4), "tasks_compared": compared,
                       "min_time_limit": round(min_time_limit, 4), "suite_cap_s": round(suite_cap_s, 3)}
    graded = grade_samples(ds, loaded, out_dir, workers=cfg.workers, batch_size=cfg.batch_size,
                           use_cache=cfg.use_cache, min_time_limit=min_time_limit,
                           gt_time_limit_factor=cfg.gt_time_limit_factor, timing_factor=cfg.timing_factor,
                           suite_cap_s=suite_cap_s, sanitize=cfg.sanitize)
    generation = generation_info(samples_path)
    return {
        "grader_version": _grading_version(),
        "samples": str(samples_path),
        "dataset": ds.name,
        "version": ds.version,
        "variant": ds.variant,
        "hash": ds.hash,
        **graded["counts"],
        "pass@1": {suite: value["pass@1"]["value"] for suite, value in graded["pass@k"].items()},
        "pass@k": graded["pass@k"],
        # How much of the score follows the host's speed (verdicts near a time limit, either side).
        "timing_sensitive": graded["timing_sensitive"],
        "calibration": calibration,
        # Next to the score: truncated outputs explain many failures.
        "hit_max_new_tokens": generation.get("hit_max_new_tokens") if generation else None,
        "sanitizer": graded["sanitizer"],
        "grader": graded["grader"],
        "seconds": {**graded["seconds"], "total": round(time.perf_counter() - started, 2)},
        "out": str(out_dir),
    }


def grade_samples(ds, loaded: list, out_dir: Path, *, workers: int | None, batch_size: int, use_cache: bool,
                  min_time_limit: float, gt_time_limit_factor: float, timing_factor: float, suite_cap_s: float,
                  sanitize: bool = False, sanitizer=None) -> dict:
    """The EvalPlus grading path for any Dataset: grade, write eval_results.json and verdicts.jsonl into
    out_dir, and return the summary's grading parts (counts, pass@k, timing-sensitive verdicts, sanitizer,
    grader stats, seconds, and the Graded samples). `sanitizer(ds, samples)` replaces evalplus's for --sanitize."""
    from benchmarks.evalplus import groundtruth, results
    from benchmarks.evalplus.grade import Grader
    from benchmarks.evalplus.sanitize import flips, sanitize_samples

    t0 = time.perf_counter()
    gt = groundtruth.payloads(ds)
    gt_s = time.perf_counter() - t0
    grader = Grader(ds, gt, workers=workers, batch_size=batch_size, min_time_limit=min_time_limit,
                    gt_time_limit_factor=gt_time_limit_factor, use_cache=use_cache,
                    timing_factor=timing_factor, suite_cap_s=suite_cap_s)
    t0 = time.perf_counter()
    flipped = None
    if sanitize:
        clean = (sanitizer or sanitize_samples)(ds, loaded)
        both = grader.grade(loaded + clean)
        graded = both[len(loaded):]
        flipped = flips(both[: len(loaded)], graded, ds.suites)
    else:
        graded = grader.grade(loaded)
    grade_s = time.perf_counter() - t0

    out_dir.mkdir(parents=True, exist_ok=True)
    pak = results.write(out_dir, ds, graded, grader.policy.hash())
    return {
        "counts": {"n_tasks": len({g.sample.task_id for g in graded}), "n_samples": len(graded),
                   "n_distinct": len({g.key for g in graded})},
        "pass@k": pak,
        "timing_sensitive": results.timing_summary(ds, graded, timing_factor),
        "sanitizer": flipped,
        "grader": grader.stats,
        "seconds": {"ground_truth": round(gt_s, 2), "grading": round(grade_s, 2)},
        "graded": graded,
    }


def _grading_version() -> str:
    # Grading semantics and reference timings are part of what an evaluate artifact means.
    from benchmarks.evalplus.grade import GRADER_VERSION
    from benchmarks.evalplus.groundtruth import TIMING

    return f"grader{GRADER_VERSION}-{TIMING}"


@stage("evaluate", EvaluateConfig, version=_grading_version())
def evaluate_stage(cfg: EvaluateConfig, inputs: dict, ctx) -> None:
    """Recipe stage: grades the samples.jsonl of its one input (a `generate` artifact)."""
    if len(inputs) != 1:
        raise UserError(f"stages.{ctx.stage_name}.inputs: give exactly one samples-producing stage")
    samples_path = next(iter(inputs.values())).file("samples.jsonl")
    summary = evaluate(cfg, samples_path, ctx.out_dir)
    (ctx.out_dir / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    ctx.counts.update({"samples": summary["n_samples"], "tasks": summary["n_tasks"]})
    metrics = {f"pass@1/{suite}": value for suite, value in summary["pass@1"].items()}
    timing = summary["timing_sensitive"]
    metrics["timing_sensitive/samples"] = timing["samples"]
    for suite, (low, high) in timing["pass@1_range"].items():
        metrics[f"timing_sensitive/pass@1_low/{suite}"], metrics[f"timing_sensitive/pass@1_high/{suite}"] = low, high
    if summary["hit_max_new_tokens"] is not None:
        metrics["hit_max_new_tokens"] = summary["hit_max_new_tokens"]
    ctx.log(metrics)
    rows = [json.loads(line) for line in (ctx.out_dir / "verdicts.jsonl").read_text().splitlines()[:200]]
    ctx.log_table("verdicts", [{k: v for k, v in r.items() if not isinstance(v, (dict, list))} for r in rows])
