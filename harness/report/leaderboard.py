"""`sca leaderboard` and the `leaderboard` stage: every evaluated model x benchmark, next to published numbers.

Builds, from evaluate outputs (a run root, artifact folders, eval_results.json files, or a recipe's evaluate
stages): leaderboard.md, leaderboard.html (one self-contained page: inline CSS, the plot embedded, no
external fetches), leaderboard.png (matplotlib), leaderboard.json (the rows), and, where chromium is
installed, a headless-browser check of the page (browser_check.json) with its screenshot. The stage also
logs the rows as a W&B table and the plot and screenshot as W&B images.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Literal

from pydantic import Field

from harness.config import Strict
from harness.errors import UserError
from harness.report import results
from harness.report.results import Evaluation
from harness.stages import stage

OUTPUTS = {"markdown": "leaderboard.md", "html": "leaderboard.html", "png": "leaderboard.png",
           "json": "leaderboard.json", "screenshot": "leaderboard.screenshot.png", "browser": "browser_check.json"}
_SKIP_DIRS = {".partial", ".locks", ".shards", "wandb", "wandb-home", "experiments"}


class LeaderboardConfig(Strict):
    title: str = "SelfCodeAlign leaderboard"
    baseline: str | None = None  # model label (or input stage name) that deltas are taken against
    labels: dict[str, str] = Field(default_factory=dict)  # input stage name or model label -> label shown
    paper_references: bool = True  # the paper's published numbers (references.yaml)
    # EvalPlus leaderboard rows: models also measured here ("matching"), all of them, none, or these names
    evalplus_leaderboard: Literal["matching", "all", "none"] | list[str] = "matching"
    browser_check: bool = True  # render the page in headless chromium (skipped, and said so, without it)
    resamples: int = Field(default=10_000, ge=100)  # for paired deltas with several samples per task


# ---------------------------------------------------------------------------------------------- sources


def _is_evaluate_stage(uses: str) -> bool:
    return uses.rsplit(":", 1)[-1].removesuffix("_stage").endswith("evaluate")


def from_recipe(path: Path, overrides: list[str], say=print) -> list[tuple[Path, str]]:
    """The finished artifacts of a recipe's evaluate stages (nothing is run)."""
    from harness.artifacts import MANIFEST
    from harness.config import load_recipe
    from harness.runner import Runner, plan

    loaded = load_recipe(path, overrides)
    runner = Runner(loaded, progress=False)
    found, missing = [], []
    for p in plan(loaded):
        if _is_evaluate_stage(p.uses):
            art = runner.artifact_path(p)
            (found if (art / MANIFEST).is_file() else missing).append((art, p.name))
    if not found:
        what = f"its evaluate stages ({', '.join(n for _, n in missing)}) have" if missing else "it has no evaluate stage, so it has"
        raise UserError(f"{path}: {what} no finished artifact yet (run `sca run {path}` first)")
    if missing:
        say(f"sca leaderboard: {path}: not run yet, left out: {', '.join(n for _, n in missing)}")
    return found


def scan(root: Path) -> list[Path]:
    """Evaluate outputs under a folder (a run root holds artifacts/ and `sca evaluate` outputs)."""
    found = []
    for folder, dirs, _ in os.walk(root):
        here = Path(folder)
        if (here / results.MANIFEST).is_file():  # a stage artifact: an evaluate stage's, or none of ours
            try:
                uses = json.loads((here / results.MANIFEST).read_text()).get("uses", "")
            except ValueError:
                raise UserError(f"{here / results.MANIFEST}: not valid JSON") from None
            if _is_evaluate_stage(str(uses)) and results.is_evaluate_output(here):
                found.append(here)
            dirs.clear()
            continue
        if results.is_evaluate_output(here):  # a `sca evaluate --out` folder
            found.append(here)
            dirs.clear()
            continue
        dirs[:] = sorted(d for d in dirs if d not in _SKIP_DIRS and len(here.relative_to(root).parts) < 4)
    return found


def collect(items: list[str], say=print) -> tuple[list[Evaluation], int]:
    """Evaluations from command-line items: recipes (key=value items override them), run roots, artifact
    folders and files. Returns them and how many older duplicates a folder scan left out."""
    overrides = [i for i in items if "=" in i and not Path(i).exists()]
    paths = [i for i in items if i not in overrides]
    if overrides and not any(p.endswith((".yaml", ".yml")) for p in paths):
        raise UserError(f"'{overrides[0]}': key=value overrides need a recipe (.yaml) to apply to")
    loaded: list[Evaluation] = []
    scanned: list[Evaluation] = []
    seen: set[Path] = set()
    for item in paths or ["runs"]:
        p = Path(item)
        if p.suffix in (".yaml", ".yml"):
            found = from_recipe(p, overrides, say)
            loaded += [results.load(path, stage=name) for path, name in found if path.resolve() not in seen]
            seen |= {path.resolve() for path, _ in found}
        elif not p.exists():
            raise UserError(f"{item}: no such file, folder or recipe")
        elif results.is_evaluate_output(p):
            if p.resolve() not in seen:
                loaded.append(results.load(p))
                seen.add(p.resolve())
        else:
            under = [f for f in scan(p) if f.resolve() not in seen]
            if not under and p.resolve() not in seen:
                raise UserError(f"{item}: no evaluate outputs in this folder")
            scanned += [results.load(f) for f in under]
            seen |= {f.resolve() for f in under}
    latest, superseded = _latest(scanned)
    return loaded + latest, superseded


def _latest(evaluations: list[Evaluation]) -> tuple[list[Evaluation], int]:
    """Of several artifacts of one model, benchmark, dataset, settings and grader (a run root keeps every
    older fingerprint), the most recent."""
    best: dict[str, Evaluation] = {}
    for e in evaluations:
        key = json.dumps([e.model, e.benchmark, e.dataset_hash, e.version, e.variant, e.settings, e.grader], default=str)
        when = e.finished_at or ""
        if key not in best or when > (best[key].finished_at or ""):
            best[key] = e
    return list(best.values()), len(evaluations) - len(best)


def _unique_labels(evaluations: list[Evaluation]) -> None:
    """Two rows of one benchmark never share a label: the stage name (or folder) tells them apart."""
    from collections import Counter

    counts = Counter((e.benchmark, e.model) for e in evaluations)
    for e in evaluations:
        if counts[(e.benchmark, e.model)] > 1:
            e.model = f"{e.model} [{e.stage or e.path.name}]"


# ---------------------------------------------------------------------------------------------- building


def build(evaluations: list[Evaluation], cfg: LeaderboardConfig, out_dir: Path, notes: list[str] | None = None,
          say=print) -> dict:
    """Write every output into out_dir; return what was written and the rows."""
    from harness.report import browser, plots, render, rows

    if not evaluations:
        raise UserError("no evaluate outputs to put on the leaderboard")
    for e in evaluations:
        e.model = cfg.labels.get(e.stage or "", cfg.labels.get(e.model, e.model))
    _unique_labels(evaluations)
    measured = [rows.measured_row(e) for e in evaluations]
    all_rows = measured + rows.select_references(measured, cfg.paper_references, cfg.evalplus_leaderboard)
    groups = rows.group(all_rows)
    baseline = None
    if cfg.baseline:
        by_stage = {e.stage: e.model for e in evaluations if e.stage}
        baseline = by_stage.get(cfg.baseline) or rows.find_baseline(all_rows, cfg.baseline)
        rows.apply_baseline(groups, baseline, cfg.resamples)
    notes = list(notes or [])
    if any(r.source.startswith("EvalPlus leaderboard") for g in groups for r in g.rows):
        notes.append(f"EvalPlus leaderboard rows: {rows.EVALPLUS_LEADERBOARD} in the data mirror "
                     "(evalplus/evalplus.github.io snapshot of 2024-12-26, HumanEval+ v0.1.10 / MBPP+ v0.2.0 era)")

    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {k: out_dir / v for k, v in OUTPUTS.items()}
    paths["markdown"].write_text(render.markdown(cfg.title, groups, baseline, notes))
    plots.leaderboard_png(groups, paths["png"], cfg.title)
    paths["html"].write_text(render.html(cfg.title, groups, baseline, notes, paths["png"]))
    paths["json"].write_text(json.dumps({"title": cfg.title, "baseline": baseline,
                                         "rows": [r.to_json() for g in groups for r in g.rows]}, indent=2) + "\n")
    check = None
    if cfg.browser_check:
        chromium = browser.find_chromium()
        if chromium is None:
            check = {"skipped": browser.MISSING}
            say(f"sca leaderboard: browser check skipped: {browser.MISSING}")
        else:
            expected = [(g.benchmark, r.kind, r.model) for g in groups for r in g.rows]
            check = browser.check_page(paths["html"], paths["screenshot"], expected, chromium).to_json()
            if not check["ok"]:
                say(f"sca leaderboard: the page did not render as written: {paths['browser']}")
        paths["browser"].write_text(json.dumps(check, indent=2) + "\n")
    return {"groups": groups, "baseline": baseline, "paths": {k: p for k, p in paths.items() if p.exists()},
            "browser_check": check, "measured": len(measured), "references": len(all_rows) - len(measured)}


def wandb_rows(groups) -> list[dict]:
    out = []
    for g in groups:
        for r in g.rows:
            row = {"benchmark": g.benchmark, "model": r.model, "kind": r.kind, "version": r.version,
                   "baseline": r.baseline}
            for suite in g.suites:
                s = r.scores.get(suite)
                row[f"{suite}"] = None if s is None else round(100 * s["value"], 2)
                ci = (s or {}).get("ci95")
                row[f"{suite}_ci_low"], row[f"{suite}_ci_high"] = (round(100 * ci[0], 2), round(100 * ci[1], 2)) if ci else (None, None)
                d = r.deltas.get(suite)
                row[f"delta_{suite}"] = None if d is None else round(100 * d.value, 2)
                row[f"p_{suite}"] = None if d is None else d.p_value
            row.update({"n": r.settings.get("n"), "temperature": r.settings.get("temperature"),
                        "greedy": r.settings.get("greedy"), "grader": r.grader,
                        "timing_sensitive_tasks": (r.timing or {}).get("tasks"), "source": r.source})
            out.append(row)
    return out


@stage("leaderboard", LeaderboardConfig)
def leaderboard_stage(cfg: LeaderboardConfig, inputs: dict, ctx) -> None:
    """Recipe stage: its inputs are evaluate stages (any benchmark); the outputs land in the artifact."""
    if not inputs:
        raise UserError(f"stages.{ctx.stage_name}.inputs: give the evaluate stages to rank")
    evaluations = []
    for name, art in inputs.items():
        if not results.is_evaluate_output(art.path):
            raise UserError(f"stages.{ctx.stage_name}.inputs: '{name}' ({art.path}) is not an evaluate output")
        evaluations.append(results.load(art.path, stage=name))
    out = build(evaluations, cfg, ctx.out_dir)
    ctx.counts.update({"measured_rows": out["measured"], "reference_rows": out["references"]})
    check = out["browser_check"] or {}
    ctx.log({"rows/measured": out["measured"], "rows/reference": out["references"],
             **({"browser_check/ok": int(check["ok"])} if "ok" in check else {})})
    ctx.log_table("leaderboard", wandb_rows(out["groups"]))
    ctx.log_image("leaderboard", out["paths"]["png"], caption=cfg.title)
    if "screenshot" in out["paths"]:
        ctx.log_image("leaderboard_screenshot", out["paths"]["screenshot"], caption="headless chromium")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("sources", nargs="*", metavar="SOURCE",
                        help="run roots, evaluate artifact folders, eval_results.json files, or recipes (.yaml) "
                             "followed by key=value overrides (default: runs)")
    parser.add_argument("--out", type=Path, default=Path("runs") / "leaderboard", help="output folder")
    parser.add_argument("--baseline", help="model (label or unique part of it) that deltas are taken against")
    parser.add_argument("--label", action="append", default=[], metavar="NAME=LABEL",
                        help="show a model (its label or recipe stage name) under another label; repeatable")
    parser.add_argument("--references", default="matching", metavar="matching|all|none|NAME,...",
                        help="EvalPlus leaderboard rows: models also measured here (default), all, none, or names")
    parser.add_argument("--no-paper", action="store_true", help="leave out the paper's published numbers")
    parser.add_argument("--no-browser", action="store_true", help="skip the headless chromium check")
    parser.add_argument("--title", default=LeaderboardConfig.model_fields["title"].default)


def main(args: argparse.Namespace) -> int:
    labels = {}
    for item in args.label:
        name, sep, label = item.partition("=")
        if not sep or not name or not label:
            raise UserError(f"--label {item!r}: expected NAME=LABEL")
        labels[name] = label
    refs = args.references if args.references in ("matching", "all", "none") else \
        [n.strip() for n in args.references.split(",") if n.strip()]
    cfg = LeaderboardConfig(title=args.title, baseline=args.baseline, labels=labels, paper_references=not args.no_paper,
                            evalplus_leaderboard=refs, browser_check=not args.no_browser)
    say = lambda msg: print(msg, file=sys.stderr)  # noqa: E731
    evaluations, superseded = collect(args.sources, say)
    notes = [f"{superseded} older artifacts of the same model, benchmark, settings and grader left out"] if superseded else []
    out = build(evaluations, cfg, args.out, notes, say)
    print(out["paths"]["markdown"].read_text())
    check = out["browser_check"]
    if check and "ok" in check:
        state = "ok" if check["ok"] else "FAILED"
        print(f"headless browser check: {state} ({check['rows_in_dom']}/{check['rows_expected']} rows in the DOM, "
              f"image {'rendered' if check['image_ok'] else 'missing'}; {check['browser']})")
    for kind, path in out["paths"].items():
        print(f"{kind}: {path}")
    return 0 if not check or check.get("ok", True) else 1
