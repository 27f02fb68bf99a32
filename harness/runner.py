"""The stage runner: computes each stage of a recipe once, reuses what exists, resumes what was cut short."""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import time
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Iterable, Sequence

from pydantic import BaseModel

from harness import artifacts
from harness.artifacts import MANIFEST, METRICS, Artifact
from harness.config import LoadedRecipe
from harness.errors import UserError
from harness.provenance import code_version, host_info, package_versions
from harness.stages import resolve_stage


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


class StageContext:
    """What a running stage may touch: its private output directory, shards, metrics and tables."""

    def __init__(self, out_dir: Path, experiment: str, stage_name: str, tracking_run, progress: bool = True):
        self.out_dir = out_dir
        self.experiment = experiment
        self.stage_name = stage_name
        self.counts: dict[str, int] = {}
        self.metrics: dict = {}
        self.resumed_shards = 0
        self._run = tracking_run
        self.progress = progress

    def write_records(self, name: str, records: Iterable[dict]) -> int:
        n = artifacts.write_jsonl(self.out_dir / f"{name}.jsonl", records)
        self.counts[name] = n
        return n

    def map_shards(self, name: str, items: Sequence, fn: Callable[[Sequence], Iterable[dict]],
                   num_shards: int) -> int:
        """Resumable sharded map; writes `name.jsonl` with exactly one copy of every record."""
        n, reused = artifacts.run_shards(self.out_dir, name, items, fn, num_shards, self.progress)
        self.counts[name] = n
        self.resumed_shards += reused
        return n

    def log(self, metrics: dict) -> None:
        self.metrics.update(metrics)
        self._run.log(metrics)

    def log_table(self, name: str, rows: list[dict]) -> None:
        self._run.log_table(name, rows)

    def log_image(self, name: str, path: Path, caption: str | None = None) -> None:
        """A plot the stage saved (keep it inside out_dir so it travels with the artifact)."""
        self._run.log_image(name, path, caption)


@dataclass
class StagePlan:
    name: str
    uses: str
    fingerprint: str
    inputs: list[str]
    config: BaseModel
    dirname: str


def plan(loaded: LoadedRecipe) -> list[StagePlan]:
    """Stages in dependency order with fingerprints computed from configs alone (nothing is run)."""
    recipe = loaded.recipe
    order: list[str] = []

    def visit(name: str) -> None:
        if name in order:
            return
        for dep in recipe.stages[name].inputs:
            visit(dep)
        order.append(name)

    for name in recipe.stages:
        visit(name)
    plans: dict[str, StagePlan] = {}
    for name in order:
        spec = recipe.stages[name]
        stage = resolve_stage(spec.uses, where=f"stages.{name}.uses")
        cfg = loaded.stage_configs[name]
        fp = artifacts.fingerprint(stage.name, stage.version, cfg.model_dump(mode="json"),
                                   [plans[d].fingerprint for d in spec.inputs])
        plans[name] = StagePlan(name, stage.name, fp, list(spec.inputs), cfg, artifacts.artifact_dirname(stage.name, fp))
    return [plans[n] for n in order]


def select(plans: list[StagePlan], only: Sequence[str]) -> list[StagePlan]:
    """The stages named by `only` (stage names or registered kinds, shell-style patterns allowed) and
    everything they need, in plan order; every pattern must match something."""
    import fnmatch

    from harness.errors import UserError

    by_name = {p.name: p for p in plans}
    wanted: set[str] = set()
    for pattern in only:
        hits = [p.name for p in plans if fnmatch.fnmatchcase(p.name, pattern) or fnmatch.fnmatchcase(p.uses, pattern)]
        if not hits:
            import difflib

            names = sorted({p.name for p in plans} | {p.uses for p in plans})
            close = difflib.get_close_matches(pattern, names, n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            raise UserError(f"--only {pattern}: no stage of this recipe has that name or kind{hint}")
        wanted.update(hits)
    todo = list(wanted)
    while todo:
        for dep in by_name[todo.pop()].inputs:
            if dep not in wanted:
                wanted.add(dep)
                todo.append(dep)
    return [p for p in plans if p.name in wanted]


class Runner:
    def __init__(self, loaded: LoadedRecipe, progress: bool = True, log: Callable[[str], None] = print):
        self.loaded = loaded
        self.recipe = loaded.recipe
        self.root = Path(self.recipe.run_root).resolve()
        self.store = self.root / "artifacts"
        self.exp_dir = self.root / "experiments" / self.recipe.experiment
        self.progress = progress
        self.say = log
        self.failed: dict[str, str] = {}  # stage -> why, from the last run(keep_going=True)
        self.not_run: dict[str, str] = {}  # stage -> the input it waited for

    def artifact_path(self, p: StagePlan) -> Path:
        return self.store / p.dirname

    def status(self) -> list[dict]:
        state = self._read_state()
        rows = []
        for p in plan(self.loaded):
            if (self.artifact_path(p) / MANIFEST).exists():
                status = "done"
            elif p.name in state:
                status = "stale"
            else:
                status = "missing"
            if status != "done" and (self.store / ".partial" / p.dirname / artifacts.SHARDS).exists():
                status += " (partial shards on disk)"
            rows.append({"stage": p.name, "uses": p.uses, "status": status, "fingerprint": p.fingerprint[:16],
                         "inputs": p.inputs})
        return rows

    def run(self, only: Sequence[str] = (), keep_going: bool = False) -> dict[str, Artifact]:
        """Every stage (or those `only` names, with what they need), reusing finished artifacts.

        keep_going: a stage that fails with a user error is recorded in `self.failed` and the stages that do
        not need it still run (as `make -k`), so one broken branch does not cost the others.
        """
        from harness.tracking import Tracker

        plans = select(plan(self.loaded), only) if only else plan(self.loaded)
        self.failed, self.not_run = {}, {}

        self.exp_dir.mkdir(parents=True, exist_ok=True)
        artifacts.atomic_write_text(self.exp_dir / "config.json", json.dumps(self.loaded.resolved(), indent=2))
        wb = self.recipe.wandb
        tracker = Tracker(self.root, project=wb.project, entity=wb.entity, mode=wb.mode, group=self.recipe.experiment)
        done: dict[str, Artifact] = {}
        for p in plans:
            final = self.artifact_path(p)
            missing = next((d for d in p.inputs if d not in done), None)
            if missing is not None:
                self.not_run[p.name] = missing
                self.say(f"[{p.name}] not run: it needs {missing}, which did not finish")
                continue
            if (final / MANIFEST).exists():
                self.say(f"[{p.name}] reused {final}")
            else:
                try:
                    self._execute(p, {d: done[d] for d in p.inputs}, tracker)
                except UserError as exc:
                    if not keep_going:
                        raise
                    self.failed[p.name] = str(exc)
                    self.say(f"[{p.name}] failed: {exc}")
                    continue
            done[p.name] = Artifact(final)
            self._record_state(p)
        return done

    @contextmanager
    def _lock(self, p: StagePlan):
        lock_dir = self.store / ".locks"
        lock_dir.mkdir(parents=True, exist_ok=True)
        with open(lock_dir / f"{p.dirname}.lock", "w") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            yield

    def _execute(self, p: StagePlan, inputs: dict[str, Artifact], tracker) -> None:
        final = self.artifact_path(p)
        with self._lock(p):
            if (final / MANIFEST).exists():  # another process finished it while we waited
                self.say(f"[{p.name}] reused {final}")
                return
            partial = self.store / ".partial" / p.dirname
            resumed = partial.exists()
            partial.mkdir(parents=True, exist_ok=True)
            self.say(f"[{p.name}] {'resuming' if resumed else 'running'} {p.uses} -> {final}")
            stage = resolve_stage(self.recipe.stages[p.name].uses, where=f"stages.{p.name}.uses")
            started, t0 = _now(), time.monotonic()
            config = p.config.model_dump(mode="json")
            with tracker.stage_run(name=f"{self.recipe.experiment}/{p.name}", job_type=p.uses,
                                   config={"stage": p.name, "uses": p.uses, "fingerprint": p.fingerprint, **config},
                                   metrics_path=partial / METRICS) as run:
                for dep_name, art in inputs.items():
                    run.use_artifact(name=art.path.name.rsplit("-", 1)[0], type=art.manifest["uses"],
                                     path=art.path, fingerprint=art.fingerprint)
                ctx = StageContext(partial, self.recipe.experiment, p.name, run, self.progress)
                stage.fn(p.config, inputs, ctx)
                shutil.rmtree(partial / artifacts.SHARDS, ignore_errors=True)
                manifest = {
                    "stage": p.name, "uses": p.uses, "stage_version": stage.version, "fingerprint": p.fingerprint,
                    "experiment": self.recipe.experiment, "config": config,
                    "inputs": {d: {"fingerprint": a.fingerprint, "path": str(a.path)} for d, a in inputs.items()},
                    "code_version": code_version(), "packages": package_versions(), "host": host_info(),
                    "started_at": started, "finished_at": _now(), "duration_s": round(time.monotonic() - t0, 3),
                    "counts": ctx.counts, "resumed_shards": ctx.resumed_shards,
                    "files": {f.name: {"bytes": f.stat().st_size, "sha256": artifacts.file_digest(f)}
                              for f in sorted(partial.iterdir()) if f.is_file() and f.name != METRICS},
                }
                artifacts.atomic_write_text(partial / MANIFEST, json.dumps(manifest, indent=2))
                os.replace(partial, final)
                run.log_artifact(name=final.name.rsplit("-", 1)[0], type=p.uses, path=final,
                                 fingerprint=p.fingerprint, metadata={"counts": ctx.counts,
                                                                      "experiment": self.recipe.experiment})
            self.say(f"[{p.name}] done in {manifest['duration_s']:.1f}s {ctx.counts}")

    def _read_state(self) -> dict:
        path = self.exp_dir / "state.json"
        return json.loads(path.read_text()) if path.exists() else {}

    def _record_state(self, p: StagePlan) -> None:
        state = self._read_state()
        state[p.name] = {"uses": p.uses, "fingerprint": p.fingerprint, "artifact": str(self.artifact_path(p)),
                         "at": _now()}
        self.exp_dir.mkdir(parents=True, exist_ok=True)
        artifacts.atomic_write_text(self.exp_dir / "state.json", json.dumps(state, indent=2))
