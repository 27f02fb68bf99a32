"""`sca status RECIPE [key=value ...]`: each stage as done, stale or missing, with its fingerprint."""

from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("recipe", help="experiment recipe (YAML)")
    parser.add_argument("overrides", nargs="*", metavar="key=value", help="override any recipe key")
    parser.add_argument("--json", action="store_true", help="print JSON lines instead of a table")


def main(args: argparse.Namespace) -> int:
    import json

    from harness.config import load_recipe
    from harness.runner import Runner

    loaded = load_recipe(args.recipe, args.overrides)
    rows = Runner(loaded).status()
    if args.json:
        for row in rows:
            print(json.dumps(row))
        return 0
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"experiment {loaded.recipe.experiment}")
    for column in ("stage", "uses", "status", "fingerprint", "inputs"):
        table.add_column(column)
    colors = {"done": "green", "stale": "yellow", "missing": "red"}
    for row in rows:
        color = colors.get(row["status"].split()[0], "white")
        table.add_row(row["stage"], row["uses"], f"[{color}]{row['status']}[/]", row["fingerprint"],
                      ", ".join(row["inputs"]))
    Console().print(table)
    return 0
