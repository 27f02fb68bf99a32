"""`sca evaluate`: one command for every benchmark family; --dataset picks the grader.

humaneval / mbpp go to benchmarks/evalplus/cli.py unchanged (its options, defaults and output);
livecodebench goes to benchmarks/livecodebench/cli.py. Options of the other family are refused in one line.
"""

from __future__ import annotations

import argparse

from harness.errors import UserError

LIVECODEBENCH = "livecodebench"
# EvalPlus-only options (dest -> default): a LiveCodeBench run refuses them
_EVALPLUS_ONLY = {"version": None, "variant": None, "sanitize": False, "min_time_limit": 1.0,
                  "gt_time_limit_factor": 4.0}


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
        given = [d for d, default in _EVALPLUS_ONLY.items() if getattr(args, d) != default]
        if given:
            raise UserError(f"{_flag(given[0])}: only for --dataset humaneval or mbpp")
        return lcb_cli.main(args)
    given = [d for d, default in lcb_cli.DEFAULTS.items() if getattr(args, d) != default]
    if given:
        raise UserError(f"{_flag(given[0])}: only for --dataset livecodebench")
    from benchmarks.evalplus import cli as evalplus_cli

    return evalplus_cli.main(args)
