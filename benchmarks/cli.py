"""`sca evaluate`: one command for every benchmark family; --dataset picks the grader.

humaneval / mbpp go to benchmarks/evalplus/cli.py unchanged (its options, defaults and output);
livecodebench to benchmarks/livecodebench/cli.py, evoeval to benchmarks/evoeval/cli.py and classeval to
benchmarks/classeval/cli.py. An option that the chosen family does not read is refused in one line naming
the datasets that do.
"""

from __future__ import annotations

import argparse

from harness.errors import UserError

LIVECODEBENCH = "livecodebench"
EVOEVAL = "evoeval"
CLASSEVAL = "classeval"
# Options every grader reads.
SHARED = {"help", "dataset", "samples", "out", "tasks", "workers", "batch_size", "no_cache"}
# dataset -> (cli module, the options it reads besides SHARED; None = every EvalPlus option)
ROUTES: dict[str, tuple[str, set[str] | None]] = {
    "humaneval": ("benchmarks.evalplus.cli", None),
    "mbpp": ("benchmarks.evalplus.cli", None),
    LIVECODEBENCH: ("benchmarks.livecodebench.cli", {"problems", "release", "start_date", "end_date",
                                                     "after_release", "timeout", "memory_mb"}),
    EVOEVAL: ("benchmarks.evoeval.cli", {"sets", "sanitize", "min_time_limit", "gt_time_limit_factor",
                                         "timing_factor"}),
    CLASSEVAL: ("benchmarks.classeval.cli", {"time_limit", "memory_mb", "timing_factor"}),
}
# Shared options a family does not read after all (ClassEval runs one solution per sandbox program).
NOT_READ = {CLASSEVAL: {"batch_size"}}


def _build(parser) -> None:
    from benchmarks.classeval import cli as classeval_cli
    from benchmarks.evalplus import cli as evalplus_cli
    from benchmarks.evoeval import cli as evoeval_cli
    from benchmarks.livecodebench import cli as lcb_cli

    evalplus_cli.add_arguments(parser)
    for action in parser._actions:  # argparse has no public way to widen an option's choices
        if action.dest == "dataset":
            action.choices = [*action.choices, LIVECODEBENCH, EVOEVAL, CLASSEVAL]
            action.help = ("humaneval / mbpp (EvalPlus HumanEval+ / MBPP+), livecodebench, evoeval (EvoEval's seven "
                           "sets) or classeval")
    lcb_cli.add_arguments(parser.add_argument_group("livecodebench only"))
    evoeval_cli.add_arguments(parser.add_argument_group("evoeval only"))
    classeval_cli.add_arguments(parser.add_argument_group("classeval only"))


def add_arguments(parser: argparse.ArgumentParser) -> None:
    _build(parser)


def _defaults() -> dict:
    probe = argparse.ArgumentParser(add_help=False)
    _build(probe)
    return {a.dest: a.default for a in probe._actions}


def _reads(dataset: str, dest: str, evalplus_dests: set[str]) -> bool:
    _, own = ROUTES[dataset]
    if dest in NOT_READ.get(dataset, set()):
        return False
    if dest in SHARED:
        return True
    return dest in (evalplus_dests if own is None else own)


def _flag(dest: str) -> str:
    return "--" + dest.replace("_", "-")


def main(args: argparse.Namespace) -> int:
    import importlib

    from benchmarks.evalplus import cli as evalplus_cli

    probe = argparse.ArgumentParser(add_help=False)
    evalplus_cli.add_arguments(probe)
    evalplus_dests = {a.dest for a in probe._actions}
    for dest, default in _defaults().items():
        if dest in ("help", "dataset") or getattr(args, dest, default) == default:
            continue
        if not _reads(args.dataset, dest, evalplus_dests):
            readers = [d for d in ROUTES if _reads(d, dest, evalplus_dests)]
            raise UserError(f"{_flag(dest)}: only for --dataset {' or '.join(readers)}")
    module, _ = ROUTES[args.dataset]
    return importlib.import_module(module).main(args)
