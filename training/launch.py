"""The `sft` stage on several GPUs or machines: `sca train` under accelerate's own launcher, tracked by the stage.

With `launch` set, the stage runs
    python -m accelerate.commands.launch --config_file CONFIG [...] -m harness.cli train --config ... --out PARTIAL
writing into the stage's .partial directory, so checkpoints, resume and the artifact are the same as in
process. The launched main process mirrors its metrics to launch/metrics.jsonl; the stage forwards each line
to its own W&B run as it appears, so one run holds everything. If the stage process dies (kill -9), the
launcher and every worker die with it (Linux parent-death signal), and a rerun resumes from the checkpoint.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from pydantic import Field

from harness.config import Strict
from harness.errors import UserError

# Set for the launched `sca train`: it asks to die with its launcher (accelerate's simple launcher sets no rank).
DIE_WITH_PARENT = "SCA_TRAIN_DIE_WITH_PARENT"


class LaunchOptions(Strict):
    config_file: str  # an accelerate config, e.g. training/accelerate/zero3.yaml
    num_processes: int | None = Field(None, ge=1)  # overrides the config's
    args: list[str] = Field(default_factory=list)  # more `accelerate launch` flags, e.g. ["--main_process_port", "29501"]


def die_with_parent() -> None:
    """Ask Linux to SIGKILL this process when its parent dies, so no orphan keeps training."""
    if not sys.platform.startswith("linux"):
        return
    import ctypes

    PR_SET_PDEATHSIG = 1
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


def launch_command(options: LaunchOptions, model: str, data: str, config_path: Path, out_dir: Path,
                   metrics_path: Path) -> list[str]:
    config_file = Path(options.config_file).expanduser()
    if not config_file.is_file():
        raise UserError(f"launch.config_file: file not found: {options.config_file}")
    cmd = [sys.executable, "-m", "accelerate.commands.launch", "--config_file", str(config_file)]
    if options.num_processes is not None:
        cmd += ["--num_processes", str(options.num_processes)]
    return cmd + [*options.args, "-m", "harness.cli", "train", "--model", model, "--data", data, "--out",
                  str(out_dir), "--config", str(config_path), "--metrics-file", str(metrics_path),
                  "--wandb-mode", "disabled", "--no-progress"]


class _Follower:
    """Forwards the complete lines appended to a metrics mirror to the stage's tracking run."""

    def __init__(self, path: Path, ctx):
        self.path, self.ctx, self.offset = path, ctx, 0

    def drain(self) -> None:
        if not self.path.is_file():
            return
        with self.path.open("rb") as fh:
            fh.seek(self.offset)
            data = fh.read()
        end = data.rfind(b"\n") + 1
        self.offset += end
        for line in data[:end].splitlines():
            record = json.loads(line)
            if "_image" in record:
                self.ctx.log_image(record["_image"], Path(record["_path"]))
            elif "_table" not in record:
                self.ctx.log({k: v for k, v in record.items() if not k.startswith("_")})


def run_launched(options: LaunchOptions, config: dict, model: str, data: str, ctx, poll_s: float = 0.5) -> dict:
    """Train under `accelerate launch` into ctx.out_dir; return the summary the launched run wrote."""
    out = ctx.out_dir
    folder = out / "launch"
    folder.mkdir(parents=True, exist_ok=True)
    config_path, metrics_path, log_path = folder / "sft_config.json", folder / "metrics.jsonl", folder / "launch.log"
    config_path.write_text(json.dumps(config, indent=2) + "\n")
    metrics_path.unlink(missing_ok=True)  # a rerun replays nothing already forwarded
    cmd = launch_command(options, model, data, config_path, out, metrics_path)
    follower = _Follower(metrics_path, ctx)
    with log_path.open("ab") as log:
        log.write(f"$ {' '.join(cmd)}\n".encode())
        log.flush()
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, preexec_fn=die_with_parent,
                                env={**os.environ, DIE_WITH_PARENT: "1"})
        try:
            while proc.poll() is None:
                follower.drain()
                time.sleep(poll_s)
        finally:
            if proc.poll() is None:  # interrupted: take the launcher and its workers down with us
                proc.kill()
                proc.wait()
    follower.drain()
    if proc.returncode != 0:
        lines = log_path.read_text(errors="replace").splitlines()
        error = next((ln.split("error: ", 1)[1] for ln in reversed(lines) if ln.startswith("sca train: error: ")),
                     None)
        if error:
            raise UserError(f"{error} (under accelerate launch; log: {log_path})")
        raise UserError(f"launch: accelerate launch exited with {proc.returncode}; see {log_path}")
    return json.loads((out / "train_summary.json").read_text())
