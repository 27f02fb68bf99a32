"""`sca evaluate`: one command for every benchmark family; --dataset picks the grader.

humaneval / mbpp go to benchmarks/evalplus/cli.py unchanged (its options, defaults and output);
livecodebench goes to benchmarks/livecodebench/cli.py. Options of the other family are refused in one line.
"""

from __future__ import annotations

import argparse

from harness.errors import UserError

LIVECODEBENCH = "livecodebench"
# Options both graders read; every other EvalPlus option is refused by a LiveCodeBench run.
SHARED = {"help", "dataset", "samples", "out", "tasks", "workers", "batch_size", "no_cache"}


def _evalplus_only() -> dict:
    """dest -> default of the options only the EvalPlus grader reads (taken from its own parser)."""
    from benchmarks.evalplus import cli as evalplus_cli

    probe = argparse.ArgumentParser(add_help=False)
    evalplus_cli.add_arguments(probe)
    return {a.dest: a.default for a in probe._actions if a.dest not in SHARED}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from benchmarks.evalplus import cli as evalplus_cli
    from benchmarks.livecodebench import cli as lcb_cli

    evalplus_cli.add_arguments(parser)
    for action in parser._actions:  # argparse has no public way to widen an option's choices
        if action.dest == "dataset":
            action.choices = [*action.choices, LIVECODEBENCH]
            action.help = "humaneval / mbpp (EvalPlus HumanEval+ / MBPP+) or livecodebench"
    lcb_cli.add_arguments(parser.add_argument_group("livecodebench only"))


def _flag(dest: str) -> str:
    return "--" + dest.replace("_", "-")


def main(args: argparse.Namespace) -> int:
    from benchmarks.livecodebench import cli as lcb_cli

    if args.dataset == LIVECODEBENCH:
        given = [d for d, default in _evalplus_only().items() if getattr(args, d) != default]
        if given:
            raise UserError(f"{_flag(given[0])}: only for --dataset humaneval or mbpp")
        return lcb_cli.main(args)
    given = [d for d, default in lcb_cli.DEFAULTS.items() if getattr(args, d) != default]
    if given:
        raise UserError(f"{_flag(given[0])}: only for --dataset livecodebench")
    from benchmarks.evalplus import cli as evalplus_cli

    return evalplus_cli.main(args)
