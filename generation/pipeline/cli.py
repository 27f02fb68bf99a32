"""`sca pipeline STAGE [--input NAME=PATH ...] --out DIR [key=value ...]`: one stage on your own files.

Each --input is an artifact directory (anything `sca run` produced) or a plain jsonl file of
records; a model folder or a .gguf file given as an input becomes the stage's `model`. The command
writes a one-stage recipe (DIR/pipeline-STAGE.yaml) and runs it with the runner, so the stage gets
what it gets in a recipe: a fingerprinted artifact under DIR/artifacts/, resume after a kill, a
request cache, W&B offline logs under DIR/wandb/. DIR/STAGE links to the finished artifact.

    sca pipeline concepts --input seeds=my_seeds.jsonl --input model=model.gguf --out runs/mine backend=llamacpp
    sca pipeline execute --input responses=runs/mine/responses --out runs/mine timeout_s=5
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
from pathlib import Path

from harness.artifacts import MANIFEST, Artifact, file_digest
from harness.config import Strict
from harness.errors import UserError
from harness.stages import stage

USAGE = "sca pipeline STAGE [--input NAME=PATH ...] --out DIR [key=value ...]"


class InputConfig(Strict):
    path: str
    digest: str  # the file's sha256, or the artifact's fingerprint: a changed input is a new input


@stage("pipeline.input", InputConfig)
def input_stage(cfg: InputConfig, inputs: dict, ctx) -> None:
    """A user's file as an artifact: a jsonl becomes records.jsonl; an artifact's entries are linked."""
    source = Path(cfg.path)
    if source.is_dir():
        for entry in sorted(source.iterdir()):
            if entry.name not in (MANIFEST, "metrics.jsonl") and not entry.name.startswith("."):
                os.symlink(entry.resolve(), ctx.out_dir / entry.name)
        ctx.counts.update(Artifact(source).manifest.get("counts", {}))
    else:
        shutil.copyfile(source, ctx.out_dir / "records.jsonl")
        with open(source, "rb") as fh:
            ctx.counts["records"] = sum(1 for _ in fh)


def _add_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--input", action="append", default=[], metavar="NAME=PATH",
                        help="an artifact dir, a records jsonl, or a model (folder or .gguf); repeatable")
    parser.add_argument("--out", type=Path, help="output folder (the run root of this stage)")
    parser.add_argument("--no-progress", action="store_true", help="hide progress bars")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.usage = USAGE
    parser.add_argument("stage", help="concepts, instructions, snippet_instructions, responses, execute, select, "
                                      "seeds, ... (any registered stage)")
    _add_options(parser)
    parser.add_argument("rest", nargs=argparse.REMAINDER, metavar="key=value",
                        help="stage config overrides (and options, in any order)")


def _parse_rest(args: argparse.Namespace) -> argparse.Namespace:
    sub = argparse.ArgumentParser(prog=f"sca pipeline {args.stage}", usage=USAGE)
    _add_options(sub)
    sub.add_argument("overrides", nargs="*")
    more = sub.parse_intermixed_args(args.rest)
    args.input += more.input
    args.out = more.out or args.out
    args.no_progress = args.no_progress or more.no_progress
    args.overrides = more.overrides
    if args.out is None:
        raise UserError("--out: required (the folder the stage writes into)")
    return args


def _is_model(path: Path) -> bool:
    return path.suffix == ".gguf" or (path.is_dir() and not (path / MANIFEST).exists()
                                      and ((path / "config.json").exists() or any(path.glob("*.gguf"))))


def build_recipe(stage_name: str, inputs: list[str], out: Path) -> tuple[dict, list[str]]:
    """The one-stage recipe and the overrides that the inputs imply (a model path)."""
    stages: dict[str, dict] = {}
    implied: list[str] = []
    for spec in inputs:
        name, sep, raw = spec.partition("=")
        if not sep or not name or not raw:
            raise UserError(f"--input {spec}: must look like NAME=PATH")
        path = Path(raw).expanduser().resolve()
        if not path.exists():
            raise UserError(f"--input {spec}: {raw}: no such file or folder")
        if name == stage_name or name in stages:
            raise UserError(f"--input {spec}: name '{name}' is already taken; pick another")
        if _is_model(path):
            implied.append(f"model={path}")
            continue
        if path.is_dir():
            if not (path / MANIFEST).is_file():
                raise UserError(f"--input {spec}: {raw}: a folder must be an artifact (with {MANIFEST}) or a model")
            digest = Artifact(path).fingerprint
        else:
            digest = file_digest(path)
        stages[name] = {"uses": "generation.pipeline.cli:input_stage", "with": {"path": str(path), "digest": digest}}
    stages[stage_name] = {"uses": stage_name, "inputs": list(stages)}
    recipe = {"experiment": f"pipeline-{stage_name.replace(':', '-').replace('.', '-')}",
              "description": f"sca pipeline {stage_name}", "run_root": str(out.resolve()), "stages": stages}
    return recipe, implied


def _link(link: Path, target: Path) -> None:
    """DIR/STAGE -> the finished artifact (replaced atomically; a real file or folder there is left alone)."""
    if link.is_symlink() or not link.exists():
        tmp = link.with_name(f".{link.name}.tmp{os.getpid()}")
        tmp.unlink(missing_ok=True)
        os.symlink(target, tmp)
        os.replace(tmp, link)


def main(args: argparse.Namespace) -> int:
    import yaml

    from harness.config import load_recipe
    from harness.runner import Runner

    args = _parse_rest(args)
    if args.stage == "seeds" and not args.input:
        from generation.seeds import run_seeds  # the seeds stage's own one-stage runner and step report

        art = run_seeds(args.out, args.overrides, progress=not args.no_progress)
        _link(args.out / "seeds", art.path)
        print(json.dumps({"stage": "seeds", "artifact": str(art.path), "counts": art.manifest["counts"]}))
        return 0
    recipe, implied = build_recipe(args.stage, args.input, args.out)
    args.out.mkdir(parents=True, exist_ok=True)
    recipe_path = args.out / f"pipeline-{recipe['experiment'].removeprefix('pipeline-')}.yaml"
    recipe_path.write_text(yaml.safe_dump(recipe, sort_keys=False))
    overrides = [f"stages.{args.stage}.with.{kv}" for kv in implied + args.overrides]
    loaded = load_recipe(recipe_path, overrides)
    arts = Runner(loaded, progress=not args.no_progress).run()
    art = arts[args.stage]
    _link(args.out / args.stage.replace(":", "-"), art.path)
    print(json.dumps({"stage": args.stage, "artifact": str(art.path), "counts": art.manifest["counts"]}))
    return 0
