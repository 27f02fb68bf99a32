"""`sca run RECIPE [key=value ...]`: run every stage of an experiment, reusing finished artifacts."""

from __future__ import annotations

import argparse

from harness.errors import UserError

DEFAULT_RECIPE = "experiments/smoke.yaml"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("recipe", nargs="?", default=DEFAULT_RECIPE,
                        help=f"experiment recipe (default {DEFAULT_RECIPE})")
    parser.add_argument("overrides", nargs="*", metavar="key=value", help="override any recipe key")
    parser.add_argument("--no-progress", action="store_true", help="hide progress bars")
    parser.add_argument("--fail-fast", action="store_true",
                        help="stop at the first failed stage (default: run every stage that does not need it)")
    parser.add_argument("--only", action="append", default=[], metavar="STAGE",
                        help="run only this stage (a name or a kind such as sft or evaluate; patterns like "
                             "'*_eval' allowed) and the stages it needs; repeatable")


def main(args: argparse.Namespace) -> int:
    from harness.config import load_recipe
    from harness.report.summary import experiment_summary
    from harness.runner import Runner

    if "=" in args.recipe and not args.recipe.endswith((".yaml", ".yml")):  # `sca reproduce key=value`
        args.overrides.insert(0, args.recipe)
        args.recipe = DEFAULT_RECIPE
    loaded = load_recipe(args.recipe, args.overrides)
    runner = Runner(loaded, progress=not args.no_progress)
    artifacts = runner.run(only=args.only, keep_going=not args.fail_fast)
    for name, art in artifacts.items():
        print(f"{name}: {art.path}")
    for line in experiment_summary(loaded.recipe.experiment, artifacts):
        print(line)
    if runner.failed:
        name, why = next(iter(runner.failed.items()))
        others = len(runner.failed) - 1
        more = f"; {others} other stage{'s' if others > 1 else ''} failed too (see above)" if others else ""
        skipped = f"; not run because of it: {', '.join(runner.not_run)}" if runner.not_run else ""
        raise UserError(f"stage '{name}' failed: {why}{more}{skipped}")
    return 0
