"""The `sca` command. Subcommands are imported lazily so `sca --help` stays fast."""

from __future__ import annotations

import argparse
import importlib
import sys

from harness.errors import UserError

# name -> (module, one-line help). The module defines add_arguments(parser) and main(args) -> int.
SUBCOMMANDS: dict[str, tuple[str, str]] = {
    "run": ("harness.commands.run", "run an experiment recipe"),
    "reproduce": ("harness.commands.run", "run the main experiment, experiments/smoke.yaml by default (make reproduce)"),
    "status": ("harness.commands.status", "show each stage of an experiment as done, stale or missing"),
    "tiny-model": ("training.tiny_model", "build the tiny local Llama model and tokenizer"),
    "data": ("harness.data", "fetch and verify benchmark data against the sha256 lock"),
    "sandbox": ("harness.sandbox.cli", "run untrusted programs in the sandbox"),
    "evaluate": ("benchmarks.cli", "grade HumanEval+/MBPP+ samples like EvalPlus, or LiveCodeBench samples"),
    "generate": ("generation.codegen", "generate benchmark samples with a model backend"),
    "pipeline": ("generation.pipeline.cli", "run one SelfCodeAlign data stage on files (seeds, concepts, ...)"),
    "train": ("training.sft", "fine-tune a model on an SFT dataset with TRL (the paper's recipe)"),
    "leaderboard": ("harness.report.leaderboard", "build the leaderboard (markdown, HTML, PNG) from evaluate artifacts"),
    "regress": ("harness.report.regress", "paired significance test of NEW against BASE; exit 1 on a drop"),
    "bench": ("harness.commands.bench", "run the speed and memory benchmarks (make bench)"),
}


def _top_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="sca", description="SelfCodeAlign benchmark harness")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (_, help_text) in SUBCOMMANDS.items():
        sub.add_parser(name, help=help_text, add_help=False)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] not in SUBCOMMANDS:
        parser = _top_parser()
        if argv and not argv[0].startswith("-"):
            import difflib

            close = difflib.get_close_matches(argv[0], SUBCOMMANDS, n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            print(f"sca: error: unknown command '{argv[0]}'{hint}", file=sys.stderr)
            return 2
        parser.parse_args(argv)
        parser.print_help()
        return 0 if argv else 2
    name = argv[0]
    module = importlib.import_module(SUBCOMMANDS[name][0])
    parser = argparse.ArgumentParser(prog=f"sca {name}", description=SUBCOMMANDS[name][1])
    module.add_arguments(parser)
    try:  # intermixed: `sca run RECIPE --only sft key=value` takes flags anywhere among the positionals
        args = parser.parse_intermixed_args(argv[1:])
    except TypeError:  # argparse cannot intermix around sub-commands; those parse the plain way
        args = parser.parse_args(argv[1:])
    try:
        return int(module.main(args) or 0)
    except UserError as exc:
        print(f"sca {name}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"sca {name}: interrupted; finished work is kept and a rerun resumes", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
