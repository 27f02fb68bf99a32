"""`sca regress BASE NEW`: is NEW significantly worse than BASE, task by task?

Each side is an evaluate output (artifact folder, `sca evaluate --out` folder, EvalPlus eval_results.json in
either schema, or verdicts.jsonl; see harness/report/results.py). Both must be the same dataset (name,
version, hash); the comparison runs on the tasks both graded. One sample per task on both sides: exact
McNemar; several: a sign-flip permutation test with a paired bootstrap interval (harness/report/stats.py).

Exit status: 0 when NEW is not significantly worse, 1 on a significant drop (p < alpha, with the whole
interval of the delta below -margin) or when more tasks flipped than --max-flips allows, 2 on bad input.
Timing-sensitive verdicts (near a time limit; issue #15) are counted among the flipped tasks and do not
count against --max-flips: they follow the host's speed, not the code.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from pydantic import Field

from harness.config import Strict
from harness.errors import UserError
from harness.report import results
from harness.report.results import Evaluation
from harness.stages import stage


class RegressConfig(Strict):
    base: str | None = None  # input stage holding BASE (default: the first input)
    new: str | None = None  # input stage holding NEW (default: the second input)
    suite: str | None = None  # suite that gates (default: plus where there is one, else the only suite)
    alpha: float = Field(0.05, gt=0, lt=1)
    margin: float = Field(0.0, ge=0)  # pass@1 points: a significant drop smaller than this passes
    max_flips: int | None = Field(None, ge=0)  # also fail when more tasks flip (timing-sensitive ones excepted)
    resamples: int = Field(10_000, ge=100)  # permutation / bootstrap resamples, when there are several samples
    seed: int = 0


def check_same_dataset(base: Evaluation, new: Evaluation) -> None:
    """One line naming both files when the two sides were not graded on the same dataset."""
    sides = f"BASE {base.path} is {base.identity}, NEW {new.path} is {new.identity}"
    if base.benchmark != new.benchmark:
        raise UserError(f"different benchmarks: {sides}")
    if base.version and new.version and (base.version, base.variant) != (new.version, new.variant):
        raise UserError(f"different dataset versions: {sides}")
    if base.dataset_hash and new.dataset_hash and base.dataset_hash != new.dataset_hash:
        raise UserError(f"different dataset hashes: {sides}")


def gate_suite(base: Evaluation, new: Evaluation, wanted: str | None) -> str:
    common = [s for s in base.outcomes if s in new.outcomes]
    if not common:
        raise UserError(f"no suite graded on both sides: BASE {base.path} has {sorted(base.outcomes) or 'none'}, "
                        f"NEW {new.path} has {sorted(new.outcomes) or 'none'}")
    if wanted is None:
        return "plus" if "plus" in common else common[0]
    if wanted not in common:
        raise UserError(f"--suite {wanted}: not graded on both sides (choose from {', '.join(common)})")
    return wanted


def run(base: Evaluation, new: Evaluation, cfg: RegressConfig) -> dict:
    """The whole comparison as a JSON-ready dict, with `exit_code` 0 or 1."""
    from harness.report import stats

    check_same_dataset(base, new)
    gated = gate_suite(base, new, cfg.suite)
    suites = [s for s in base.outcomes if s in new.outcomes]
    confidence = 1 - cfg.alpha
    report: dict = {"base": _side(base), "new": _side(new), "suites": {}}
    flipped: set[str] = set()
    timing: set[str] = set()
    counted_flips: set[str] = set()  # moved on some suite where their verdicts are not timing-sensitive
    for suite in suites:
        common = [t for t in base.outcomes[suite] if t in new.outcomes[suite]]
        if not common:
            raise UserError(f"no task graded on both sides: BASE {base.path} and NEW {new.path} share none")
        paired = stats.compare(suite, base.outcomes[suite], new.outcomes[suite], common, confidence,
                               cfg.resamples, cfg.seed)
        sensitive = base.timing_tasks.get(suite, set()) | new.timing_tasks.get(suite, set())
        moved = {t for t, _, _ in paired.worse + paired.better}
        flipped |= moved
        timing |= moved & sensitive
        counted_flips |= moved - sensitive
        report["suites"][suite] = {**paired.to_json(), "only_base": len(set(base.outcomes[suite]) - set(common)),
                                   "only_new": len(set(new.outcomes[suite]) - set(common)),
                                   "timing_sensitive_flipped": sorted(moved & sensitive)}
    g = report["suites"][gated]
    significant = g["p_value"] < cfg.alpha
    drop = significant and g["delta"] < 0 and g["ci"][1] < -cfg.margin / 100
    counted = len(counted_flips)
    too_many = cfg.max_flips is not None and counted > cfg.max_flips
    if drop:
        reason = f"significant drop on {gated}: delta {100 * g['delta']:+.1f} points, p = {_p(g['p_value'])}"
    elif significant and g["delta"] < 0:
        reason = (f"the drop ({100 * g['delta']:+.1f} points) may be within the margin of {cfg.margin:g} points: "
                  f"its interval reaches {100 * g['ci'][1]:+.1f}")
        if too_many:
            reason += f"; but {counted} tasks flipped, more than --max-flips {cfg.max_flips}"
    elif too_many:
        reason = (f"{counted} task{'s' if counted != 1 else ''} flipped (timing-sensitive ones not counted), "
                  f"more than --max-flips {cfg.max_flips}")
    else:
        reason = "no significant drop"
    direction = "better" if g["delta"] > 0 else "worse"
    report["gate"] = {
        "suite": gated, "alpha": cfg.alpha, "margin_points": cfg.margin, "max_flips": cfg.max_flips,
        "verdict": f"significantly {direction}" if significant else "no significant difference",
        "regression": drop, "too_many_flips": too_many, "flipped_tasks": len(flipped),
        "flipped_timing_sensitive": len(timing), "flipped_counted": counted, "reason": reason,
    }
    report["exit_code"] = 1 if drop or too_many else 0
    return report


def _side(e: Evaluation) -> dict:
    return {"path": str(e.path), "model": e.model, "benchmark": e.benchmark, "version": e.version,
            "variant": e.variant, "hash": e.dataset_hash, "grader": e.grader, "settings": e.settings,
            "tasks": e.n_tasks, "scores": e.scores, "stage": e.stage}


def _p(p: float) -> str:
    return f"{p:.2g}" if p >= 1e-4 else f"{p:.1e}"


def _tasks(items: list[dict]) -> str:
    if not items:
        return "none"
    binary = all({w["base"], w["new"]} <= {0.0, 1.0} for w in items)
    return ", ".join(w["task"] if binary else f"{w['task']} ({w['base']:.2f}->{w['new']:.2f})" for w in items)


def render(report: dict) -> str:
    """What a person reads: the two scores, the delta with its interval, the p-value, the flipped tasks."""
    b, n, gate = report["base"], report["new"], report["gate"]
    lines = [f"dataset: {' '.join(str(x) for x in (b['benchmark'], b['version'], b['variant']) if x)}"
             + (f" (hash {b['hash'][:8]})" if b["hash"] else "")]
    for tag, side in (("BASE", b), ("NEW ", n)):
        s = side["settings"]
        how = f"{s['n']} sample{'s' if s['n'] != 1 else ''}/task" if s.get("n") else "samples unrecorded"
        if s.get("greedy") is not None:
            how += ", greedy" if s["greedy"] else f", T={s['temperature']}"
        lines.append(f"{tag} {side['model']}  [{how}; grader {side['grader'] or 'unrecorded'}]  {side['path']}")
    for suite, r in report["suites"].items():
        mark = "  <- gate" if suite == gate["suite"] else ""
        extra = f" (BASE only: {r['only_base']}, NEW only: {r['only_new']})" if r["only_base"] or r["only_new"] else ""
        lines.append(f"{suite}: {r['tasks']} common tasks{extra}{mark}")
        lines.append(f"  BASE {100 * r['base']:.1f}  NEW {100 * r['new']:.1f}  delta {100 * r['delta']:+.1f} points, "
                     f"{round(100 * r['confidence'])}% CI [{100 * r['ci'][0]:+.1f}, {100 * r['ci'][1]:+.1f}] "
                     f"({r['interval']})")
        lines.append(f"  {r['test']}: p = {_p(r['p_value'])}")
        lines.append(f"  worse on NEW ({len(r['worse'])}): {_tasks(r['worse'])}")
        lines.append(f"  better on NEW ({len(r['better'])}): {_tasks(r['better'])}")
        if r["timing_sensitive_flipped"]:
            lines.append(f"  timing-sensitive among them ({len(r['timing_sensitive_flipped'])}): "
                         f"{', '.join(r['timing_sensitive_flipped'])}")
    lines.append(f"flipped tasks: {gate['flipped_tasks']}, of which timing-sensitive: {gate['flipped_timing_sensitive']}")
    margin = f", margin {gate['margin_points']:g} points" if gate["margin_points"] else ""
    status = "FAIL" if report["exit_code"] else "ok"
    finding = (f"NEW is {gate['verdict']} than BASE" if gate["verdict"].startswith("significantly")
               else "no significant difference between NEW and BASE")
    lines.append(f"{status}: {finding} on {gate['suite']} (alpha {gate['alpha']:g}{margin}); {gate['reason']}")
    return "\n".join(lines)


@stage("regress", RegressConfig)
def regress_stage(cfg: RegressConfig, inputs: dict, ctx) -> None:
    """Recipe stage: inputs are two evaluate stages; writes regress.json (the same report as `sca regress --json`)."""
    names = list(inputs)
    base_name, new_name = cfg.base or (names[0] if names else None), cfg.new or (names[1] if len(names) > 1 else None)
    for role, name in (("base", base_name), ("new", new_name)):
        if name not in inputs:
            raise UserError(f"stages.{ctx.stage_name}.with.{role}: '{name}' is not one of its inputs "
                            f"({', '.join(names) or 'none'}); give two evaluate stages as inputs")
    base = results.load(inputs[base_name].path, stage=base_name)
    new = results.load(inputs[new_name].path, stage=new_name)
    report = run(base, new, cfg)
    (ctx.out_dir / "regress.json").write_text(json.dumps(report, indent=2) + "\n")
    (ctx.out_dir / "regress.txt").write_text(render(report) + "\n")
    gated = report["suites"][report["gate"]["suite"]]
    ctx.counts.update({"tasks": gated["tasks"], "flipped": report["gate"]["flipped_tasks"]})
    ctx.log({"regress/base": gated["base"], "regress/new": gated["new"], "regress/delta": gated["delta"],
             "regress/ci_low": gated["ci"][0], "regress/ci_high": gated["ci"][1], "regress/p_value": gated["p_value"],
             "regress/regression": int(report["gate"]["regression"]), "regress/flipped": report["gate"]["flipped_tasks"],
             "regress/flipped_timing_sensitive": report["gate"]["flipped_timing_sensitive"]})
    flips = [{"suite": s, "task": w["task"], "direction": d, "base": w["base"], "new": w["new"],
              "timing_sensitive": w["task"] in r["timing_sensitive_flipped"]}
             for s, r in report["suites"].items() for d in ("worse", "better") for w in r[d]]
    ctx.log_table("flipped", flips)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("base", metavar="BASE", type=Path,
                        help="evaluate output: artifact or `sca evaluate --out` folder, eval_results.json, verdicts.jsonl")
    parser.add_argument("new", metavar="NEW", type=Path, help="the same, for the candidate")
    parser.add_argument("--suite", help="suite that gates (default: plus where there is one)")
    parser.add_argument("--alpha", type=float, default=0.05, help="significance level (default 0.05)")
    parser.add_argument("--margin", type=float, default=0.0,
                        help="pass@1 points: a significant drop passes unless its whole interval is below -MARGIN")
    parser.add_argument("--max-flips", type=int,
                        help="also exit 1 when more tasks flip either way (timing-sensitive ones not counted); "
                             "0 makes any moved verdict fail, for grader checks on fixed samples")
    parser.add_argument("--resamples", type=int, default=10_000, help="permutation/bootstrap resamples (several samples)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", type=Path, help="also write the full report here")


def main(args: argparse.Namespace) -> int:
    from pydantic import ValidationError

    try:
        cfg = RegressConfig(alpha=args.alpha, margin=args.margin, max_flips=args.max_flips, suite=args.suite,
                            resamples=args.resamples, seed=args.seed)
    except ValidationError as exc:
        err = exc.errors()[0]
        raise UserError(f"--{str(err['loc'][0]).replace('_', '-')}: {err['msg']} (got {err['input']!r})") from None
    report = run(results.load(args.base), results.load(args.new), cfg)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=2) + "\n")
    print(render(report), flush=True)
    return report["exit_code"]

