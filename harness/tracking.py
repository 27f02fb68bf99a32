"""W&B tracking: one run per stage execution, grouped by experiment, with artifact lineage.

    tracker = Tracker(run_root, group="smoke")
    with tracker.stage_run(name="smoke/concepts", job_type="concepts", config=cfg,
                           metrics_path=out / "metrics.jsonl") as run:
        run.use_artifact(name="smoke-seeds", type="seeds", path=seeds_dir, fingerprint=seeds_fp)
        run.log({"n_concepts": 120})
        run.log_table("samples", rows)
        run.log_artifact("smoke-concepts", "concepts", out, fingerprint=fp, metadata={"records": 120})

Offline unless an API key is configured; every W&B directory (runs, cache, config, data, artifacts,
the wandb-core service log) lives under `run_root`, never under $HOME. Upload offline runs later with
`wandb sync RUN_ROOT/wandb/offline-run-*`. Audit them with `python -m harness.wandb_log RUN_DIR`.

Not thread-safe: a stage run points the WANDB_*_DIR variables at run_root while it is open, because
the wandb-core service and artifact staging read them from the environment, not from Settings.
"""

from __future__ import annotations

import json
import logging
import math
import netrc
import os
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from harness.errors import UserError

log = logging.getLogger(__name__)

MODES = ("auto", "offline", "online", "disabled")
# Bounded retries online, so a lost network costs minutes at worst, never a hang.
_ONLINE_LIMITS = {
    "x_graphql_retry_max": 3,
    "x_graphql_timeout_seconds": 30.0,
    "x_file_stream_retry_max": 3,
    "x_file_stream_timeout_seconds": 30.0,
    "x_file_transfer_retry_max": 3,
    "x_file_transfer_timeout_seconds": 120.0,
}


def api_key_configured() -> bool:
    """True iff WANDB_API_KEY is set or the netrc file has an entry for the W&B host."""
    if os.environ.get("WANDB_API_KEY"):
        return True
    host = urlparse(os.environ.get("WANDB_BASE_URL", "https://api.wandb.ai")).hostname or "api.wandb.ai"
    path = os.environ.get("NETRC") or os.path.join(os.path.expanduser("~"), ".netrc")
    try:
        entry = netrc.netrc(path).authenticators(host)
    except (OSError, netrc.NetrcParseError):
        return False
    return bool(entry and entry[2])


def resolve_mode(mode: str) -> str:
    """auto -> WANDB_MODE if the user set it, else online iff an API key is configured, else offline."""
    if mode not in MODES:
        raise UserError(f"tracking.mode: unknown mode '{mode}' (choose from {', '.join(MODES)})")
    if mode != "auto":
        return mode
    env_mode = os.environ.get("WANDB_MODE", "").strip().lower()
    if env_mode in ("offline", "dryrun"):
        return "offline"
    if env_mode in ("online", "disabled"):
        return env_mode
    return "online" if api_key_configured() else "offline"


def artifact_name(name: str) -> str:
    """W&B artifact names allow letters, digits, '-', '_' and '.'; map anything else to '-'."""
    cleaned = re.sub(r"[^A-Za-z0-9_.-]+", "-", name).strip("-")
    if not cleaned:
        raise UserError(f"artifact name {name!r}: has no usable characters")
    return cleaned


def _fingerprint_alias(fingerprint: str) -> str:
    return "fp-" + re.sub(r"[^A-Za-z0-9_.-]+", "-", fingerprint)[:64]


def _jsonable(value: Any) -> Any:
    if hasattr(value, "item"):  # numpy / torch scalars
        return value.item()
    return repr(value)


def _json_line(record: dict) -> str:
    # NaN/inf are not JSON; record them as strings rather than write an unreadable line.
    clean = {k: (repr(v) if isinstance(v, float) and not math.isfinite(v) else v) for k, v in record.items()}
    return json.dumps(clean, default=_jsonable, sort_keys=False) + "\n"


def _table_cell(value: Any) -> Any:
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return json.dumps(value, default=_jsonable, sort_keys=True)


class StageRun:
    """One stage execution. Everything logged is also appended to `metrics_path` at once."""

    def __init__(self, wandb_run: Any, metrics_path: Path, reference_artifacts: bool):
        self.wandb_run = wandb_run  # None when tracking is disabled
        self.metrics_path = Path(metrics_path)
        self._reference = reference_artifacts
        self._step = 0

    @property
    def run_dir(self) -> Path | None:
        """The local W&B run directory holding the .wandb transaction log (None when disabled)."""
        return Path(self.wandb_run.settings.sync_dir) if self.wandb_run is not None else None

    def _mirror(self, record: dict) -> None:
        self.metrics_path.parent.mkdir(parents=True, exist_ok=True)
        with self.metrics_path.open("a", encoding="utf-8") as fh:
            fh.write(_json_line(record))
            fh.flush()

    def _next_step(self, step: int | None) -> int:
        if step is not None:
            return step
        # Others (e.g. a TRL callback) may log to the same W&B run; follow its step.
        return self.wandb_run.step if self.wandb_run is not None else self._step

    def log(self, metrics: dict[str, Any], step: int | None = None) -> None:
        step_now = self._next_step(step)
        self._mirror({"_step": step_now, "_timestamp": time.time(), **metrics})
        if self.wandb_run is not None:
            self.wandb_run.log(dict(metrics), step=step)
        self._step = step_now + 1

    def log_table(self, key: str, rows: list[dict[str, Any]], step: int | None = None) -> None:
        columns: list[str] = []
        for row in rows:
            columns.extend(k for k in row if k not in columns)
        step_now = self._next_step(step)
        self._mirror({"_step": step_now, "_timestamp": time.time(), "_table": key, "_rows": len(rows),
                      "_columns": columns})
        if self.wandb_run is not None:
            import wandb

            data = [[_table_cell(row.get(c)) for c in columns] for row in rows]
            self.wandb_run.log({key: wandb.Table(columns=columns, data=data)}, step=step)
        self._step = step_now + 1

    def log_image(self, key: str, path: Path, caption: str | None = None, step: int | None = None) -> None:
        """A plot (PNG on disk, usually inside the stage's artifact) as a W&B image."""
        path = Path(path)
        if not path.is_file():
            raise UserError(f"{path}: image '{key}' has no file at this path")
        step_now = self._next_step(step)
        self._mirror({"_step": step_now, "_timestamp": time.time(), "_image": key, "_path": str(path)})
        if self.wandb_run is not None:
            import wandb

            self.wandb_run.log({key: wandb.Image(str(path), caption=caption)}, step=step)
        self._step = step_now + 1

    def _artifact(self, name: str, type: str, path: Path, fingerprint: str, metadata: dict | None) -> Any:
        import wandb

        path = Path(path)
        if not path.exists():
            raise UserError(f"{path}: artifact '{name}' has no files at this path")
        meta = {"fingerprint": fingerprint, "name": name, **(metadata or {})}
        artifact = wandb.Artifact(artifact_name(name), type=artifact_name(type), metadata=meta)
        if self._reference:
            # Nothing copied or uploaded: entries point at the files, with their md5 checksums.
            artifact.add_reference(path.resolve().as_uri(), checksum=True, max_objects=10_000_000)
        elif path.is_dir():
            # immutable: hashed in place, not copied into staging (artifact dirs never change).
            artifact.add_dir(str(path), policy="immutable", skip_cache=True)
        else:
            artifact.add_file(str(path), policy="immutable", skip_cache=True)
        return artifact

    def log_artifact(
        self, name: str, type: str, path: Path, fingerprint: str, metadata: dict | None = None
    ) -> str | None:
        """Log the stage's output; returns its content digest (None when disabled).

        Call it last: a consumer's use_artifact only links to it if the files hash the same.
        """
        if self.wandb_run is None:
            return None
        artifact = self._artifact(name, type, path, fingerprint, metadata)
        self.wandb_run.log_artifact(artifact, aliases=["latest", _fingerprint_alias(fingerprint)])
        return artifact.digest

    def use_artifact(self, name: str, type: str, path: Path, fingerprint: str) -> str | None:
        """Declare an input; returns its content digest (None when disabled).

        `Run.use_artifact` refuses offline runs and needs the server to look names up, so we
        rebuild the artifact from its files (same name, type, digest as its producer logged) and
        record it the way wandb records a draft artifact passed to use_artifact: an artifact
        record with use_after_commit, which on sync marks this run as its consumer.
        """
        if self.wandb_run is None:
            return None
        artifact = self._artifact(name, type, path, fingerprint, None)
        self.wandb_run._log_artifact(
            artifact, aliases=[_fingerprint_alias(fingerprint)], is_user_created=True, use_after_commit=True
        )
        return artifact.digest


class Tracker:
    """Opens one W&B run per stage execution; see the module docstring."""

    def __init__(
        self,
        run_root: Path,
        project: str = "sca",
        entity: str | None = None,
        mode: str = "auto",
        group: str | None = None,
        init_timeout_s: float = 20.0,
        reference_artifacts: bool = False,
    ):
        self.run_root = Path(run_root).resolve()
        self.project = project
        self.entity = entity
        self.requested_mode = mode
        self.group = group
        self.init_timeout_s = init_timeout_s
        self.reference_artifacts = reference_artifacts
        resolve_mode(mode)  # fail fast on a typo

    def wandb_env(self) -> dict[str, str]:
        """Where W&B keeps everything: all inside run_root."""
        home = self.run_root / "wandb-home"
        return {
            "WANDB_DIR": str(self.run_root),
            "WANDB_CACHE_DIR": str(home / "cache"),
            "WANDB_CONFIG_DIR": str(home / "config"),
            "WANDB_DATA_DIR": str(home / "data"),
            "WANDB_ARTIFACT_DIR": str(home / "artifacts"),
            # wandb's own error telemetry probes the server at exit (10 s per try): never wait on it.
            "WANDB_ERROR_REPORTING": os.environ.get("WANDB_ERROR_REPORTING", "false"),
        }

    @contextmanager
    def _environment(self) -> Iterator[None]:
        values = self.wandb_env()
        saved = {key: os.environ.get(key) for key in values}
        for key, value in values.items():
            if key.endswith("_DIR"):
                Path(value).mkdir(parents=True, exist_ok=True)
        os.environ.update(values)
        try:
            yield
        finally:
            for key, old in saved.items():
                if old is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = old

    def _init(self, mode: str, name: str, job_type: str, config: dict) -> Any:
        import wandb

        settings: dict[str, Any] = {
            "mode": mode,
            "root_dir": str(self.run_root),
            "init_timeout": self.init_timeout_s,
            "silent": True,
            "x_disable_viewer": True,
        }
        if mode == "online":
            settings.update(_ONLINE_LIMITS)
        return wandb.init(
            project=self.project,
            entity=self.entity,
            group=self.group,
            name=name,
            job_type=job_type,
            config=config,
            dir=str(self.run_root),
            settings=wandb.Settings(**settings),
        )

    @contextmanager
    def stage_run(self, name: str, job_type: str, config: dict, metrics_path: Path) -> Iterator[StageRun]:
        mode = resolve_mode(self.requested_mode)
        if mode == "disabled":
            yield StageRun(None, metrics_path, self.reference_artifacts)
            return
        import wandb

        self.run_root.mkdir(parents=True, exist_ok=True)
        with self._environment():
            try:
                run = self._init(mode, name, job_type, config)
            except Exception as exc:  # wandb raises CommError/UsageError/timeouts; none may stop a stage
                if mode != "online":
                    raise
                log.warning("W&B online init failed (%s); tracking this stage offline instead", exc)
                wandb.teardown()
                run = self._init("offline", name, job_type, config)
            exit_code = 1
            try:
                yield StageRun(run, metrics_path, self.reference_artifacts)
                exit_code = 0
            finally:
                run.finish(exit_code=exit_code)
                # Stop the wandb-core service so the next run starts one under its own run_root.
                wandb.teardown()
