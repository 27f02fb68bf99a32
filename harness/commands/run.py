"""`sca run RECIPE [key=value ...]`: run every stage of an experiment, reusing finished artifacts."""

from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("recipe", help="experiment recipe (YAML)")
    parser.add_argument("overrides", nargs="*", metavar="key=value", help="override any recipe key")
    parser.add_argument("--no-progress", action="store_true", help="hide progress bars")


def main(args: argparse.Namespace) -> int:
    from harness.config import load_recipe
    from harness.runner import Runner

    loaded = load_recipe(args.recipe, args.overrides)
    artifacts = Runner(loaded, progress=not args.no_progress).run()
    for name, art in artifacts.items():
        print(f"{name}: {art.path}")
    return 0
