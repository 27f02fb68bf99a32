"""Grade EvoEval samples end to end: the one path behind `sca evaluate --dataset evoeval` and the
`evoeval_evaluate` recipe stage.

Each selected set goes through the EvalPlus grading path (benchmarks/evalplus/evaluate.grade_samples:
the same per-input limits, sandbox, verdict cache, re-checks and timing flags) with evoeval's checker,
into OUT/<set>/ (eval_results.json in EvalPlus's schema, verdicts.jsonl, summary.json). OUT/summary.json
has every set's pass@k and the paper's five-set average; OUT/verdicts.jsonl all verdicts, set-qualified.
"""

from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path

from pydantic import Field

from harness.config import Strict
from harness.errors import UserError
from harness.stages import stage


class EvaluateConfig(Strict):
    sets: list[str] | None = None  # default: every set the samples cover
    tasks: list[str] | None = None  # set-qualified ids ("difficult/EvoEval/3"); default: every task in the samples
    sanitize: bool = False  # extract code from raw output first (tool_use keeps its helpers); counts the flips
    workers: int | None = Field(None, ge=1)  # default: CPU count
    batch_size: int = Field(16, ge=1)  # samples per sandbox program
    use_cache: bool = True
    min_time_limit: float = Field(1.0, gt=0)  # evoeval's default, as evalplus's: 1 s per input at least
    gt_time_limit_factor: float = Field(4.0, gt=0)  # and 4 x the canonical solution's time
    timing_factor: float = Field(2.0, ge=1)  # flag verdicts a host this many times faster or slower could change


def evaluate(cfg: EvaluateConfig, samples_path: Path, out_dir: Path) -> dict:
    """Grade `samples_path` into out_dir; return the summary (also written by the callers as summary.json)."""
    from benchmarks.evalplus.evaluate import generation_info, grade_samples
    from benchmarks.evalplus.grade import SUITE_CAP_S
    from benchmarks.evoeval import dataset, prompts, results, samples

    started = time.perf_counter()
    chosen = dataset.resolve_sets(cfg.sets, "sets")
    datasets = {name: dataset.load(name) for name in chosen}
    tasks = _qualified(cfg.tasks, datasets) if cfg.tasks else None
    loaded = samples.load(samples_path, datasets, tasks)

    per_set: dict[str, dict] = {}
    for name, rows in loaded.items():
        graded = grade_samples(datasets[name], rows, out_dir / name, workers=cfg.workers, batch_size=cfg.batch_size,
                               use_cache=cfg.use_cache, min_time_limit=cfg.min_time_limit,
                               gt_time_limit_factor=cfg.gt_time_limit_factor, timing_factor=cfg.timing_factor,
                               suite_cap_s=SUITE_CAP_S, sanitize=cfg.sanitize, sanitizer=prompts.sanitize_samples)
        graded.pop("graded")
        per_set[name] = graded
        set_summary = {"dataset": dataset.data_name(name), "version": dataset.VERSION, "hash": datasets[name].hash,
                       **graded["counts"], "pass@k": graded["pass@k"], "timing_sensitive": graded["timing_sensitive"]}
        (out_dir / name / "summary.json").write_text(json.dumps(set_summary, indent=2) + "\n")
    results.combined_verdicts(per_set, out_dir)
    scores = results.set_scores(per_set)
    results.plot(scores, out_dir / "breakdown.png")

    generation = generation_info(Path(samples_path))
    graded_sets = list(per_set)
    flagged = [per_set[n]["timing_sensitive"] for n in graded_sets]
    return {
        "grader_version": _version(),
        "samples": str(samples_path),
        "dataset": "evoeval",
        "version": dataset.VERSION,
        "sets": graded_sets,
        "sets_without_samples": [n for n in chosen if n not in per_set],
        # One identity for the graded sets together (each set's md5, as evoeval computes it, in order).
        "hash": hashlib.md5(" ".join(f"{n}:{datasets[n].hash}" for n in graded_sets).encode()).hexdigest(),
        "set_hashes": {n: datasets[n].hash for n in graded_sets},
        "n_tasks": sum(per_set[n]["counts"]["n_tasks"] for n in graded_sets),
        "n_samples": sum(per_set[n]["counts"]["n_samples"] for n in graded_sets),
        "pass@1": _pass1(scores),
        "pass@k": scores,
        "average": {"sets": list(dataset.PAPER_SETS), "pass@1": (scores.get("average") or {}).get("pass@1"),
                    "missing": [n for n in dataset.PAPER_SETS if n not in per_set]},
        "per_set": {n: {**per_set[n]["counts"], "hash": datasets[n].hash, "out": str(out_dir / n),
                        "sanitizer": per_set[n]["sanitizer"], "grader": per_set[n]["grader"],
                        "seconds": per_set[n]["seconds"]} for n in graded_sets},
        "timing_sensitive": {"factor": cfg.timing_factor, "samples": sum(f["samples"] for f in flagged),
                             "checks": sum(f["checks"] for f in flagged),
                             "per_set": {n: per_set[n]["timing_sensitive"] for n in graded_sets}},
        "hit_max_new_tokens": generation.get("hit_max_new_tokens") if generation else None,
        "seconds": {"total": round(time.perf_counter() - started, 2)},
        "out": str(out_dir),
    }


def _qualified(tasks: list[str], datasets: dict) -> set[str]:
    """Task ids as "<set>/<task id>"; with one set selected, its bare task ids too."""
    out = set()
    for item in tasks:
        name, _, rest = item.partition("/")
        if name not in datasets:
            if len(datasets) != 1:
                raise UserError(f"tasks: {item!r} names no selected set; write it as '<set>/{item}'")
            name, rest = next(iter(datasets)), item
        if rest not in datasets[name].problems:
            raise UserError(f"tasks: unknown task id {rest!r} for EvoEval {name}")
        out.add(f"{name}/{rest}")
    return out


def _pass1(scores: dict) -> dict:
    flat = {}
    for suite, cell in scores.items():
        if "pass@1" in cell:
            flat[suite] = cell["pass@1"]["value"]
        else:
            flat.update({f"{suite}/{s}": c["pass@1"]["value"] for s, c in cell.items()})
    return flat


def _version() -> str:
    from benchmarks.evalplus.evaluate import _grading_version

    return f"evoeval-{_grading_version()}"


@stage("evoeval_evaluate", EvaluateConfig, version=_version())
def evaluate_stage(cfg: EvaluateConfig, inputs: dict, ctx) -> None:
    """Recipe stage: grades the samples.jsonl of its one input (a `generate` artifact with benchmark evoeval)."""
    if len(inputs) != 1:
        raise UserError(f"stages.{ctx.stage_name}.inputs: give exactly one samples-producing stage")
    samples_path = next(iter(inputs.values())).file("samples.jsonl")
    summary = evaluate(cfg, samples_path, ctx.out_dir)
    (ctx.out_dir / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    ctx.counts.update({"samples": summary["n_samples"], "tasks": summary["n_tasks"]})
    metrics = {f"pass@1/{suite}": value for suite, value in summary["pass@1"].items()}
    metrics["timing_sensitive/samples"] = summary["timing_sensitive"]["samples"]
    if summary["hit_max_new_tokens"] is not None:
        metrics["hit_max_new_tokens"] = summary["hit_max_new_tokens"]
    ctx.log(metrics)
    rows = [json.loads(line) for line in (ctx.out_dir / "verdicts.jsonl").read_text().splitlines()[:200]]
    ctx.log_table("verdicts", [{k: v for k, v in r.items() if not isinstance(v, (dict, list))} for r in rows])
    ctx.log_image("breakdown", ctx.out_dir / "breakdown.png", caption="EvoEval pass@1 by set")
