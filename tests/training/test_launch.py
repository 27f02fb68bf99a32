"""The sft stage under accelerate's launcher: metrics reach the stage's W&B run, errors stay one line,
and a killed stage takes the launcher and its workers down with it."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from harness.config import load_recipe
from harness.errors import UserError
from harness.runner import Runner
from harness.wandb_log import summarize

REPO = Path(__file__).resolve().parents[2]

RECIPE = """
experiment: launched
run_root: {root}
wandb: {{mode: offline}}
stages:
  model: {{uses: tiny_model, with: {{seed: 0}}}}
  data: {{uses: "tests.training.stages:records_stage"}}
  sft:
    uses: sft
    inputs: [model, data]
    with:
      effective_batch_size: 4
      per_device_batch_size: 2
      max_steps: {steps}
      save_steps: 2
      eos_check: 'off'
      precision: {precision}
      launch: {{config_file: {config}, num_processes: 1, args: ["--cpu", "--mixed_precision", "no"]}}
"""


def write(tmp_path: Path, steps: int = 2, precision: str = "auto") -> Path:
    path = tmp_path / "launched.yaml"
    path.write_text(RECIPE.format(root=tmp_path / "runs", steps=steps, precision=precision,
                                  config=REPO / "training" / "accelerate" / "ddp.yaml"))
    return path


def test_launched_training_reports_into_the_stage_run(tmp_path, monkeypatch):
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    sft = Runner(load_recipe(write(tmp_path)), progress=False, log=lambda line: None).run()["sft"]
    summary = json.loads(sft.file("train_summary.json").read_text())
    assert summary["steps"] == 2 and summary["batch"]["world_size"] == 1
    assert (sft.path / "model" / "model.safetensors").is_file()
    assert "accelerate.commands.launch --config_file" in sft.file("launch/launch.log").read_text()
    runs = {s["name"]: s for s in map(summarize, (tmp_path / "runs" / "wandb").rglob("*.wandb"))}
    assert set(runs) == {"launched/model", "launched/data", "launched/sft"}  # the launched run opened none
    history = runs["launched/sft"]["history"]
    assert [r["train/global_step"] for r in history if "train/loss" in r] == [1, 2]
    assert any("data/trained_examples" in r for r in history)


def test_a_failing_check_under_the_launcher_is_one_line(tmp_path):
    with pytest.raises(UserError) as err:
        Runner(load_recipe(write(tmp_path, precision="bf16")), progress=False, log=lambda line: None).run()
    msg = str(err.value)
    assert msg.startswith("precision: bf16 needs a GPU") and "under accelerate launch; log: " in msg
    assert "\n" not in msg


@pytest.mark.slow
def test_killing_the_stage_kills_the_launched_training(tmp_path):
    import psutil

    proc = subprocess.Popen([sys.executable, "-m", "harness.cli", "run", str(write(tmp_path, steps=400))],
                            cwd=REPO, env={**os.environ, "OMP_NUM_THREADS": "1"}, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    partial = tmp_path / "runs" / "artifacts" / ".partial"
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and not list(partial.glob("sft-*/checkpoints/checkpoint-*/trainer_state.json")):
        assert proc.poll() is None, "the run ended early"
        time.sleep(0.05)
    workers = [p for p in psutil.Process(proc.pid).children(recursive=True)]
    assert any("harness.cli" in " ".join(p.cmdline()) and "train" in p.cmdline() for p in workers)
    os.kill(proc.pid, signal.SIGKILL)  # the stage process alone, as the OOM killer would
    proc.wait()
    gone, alive = psutil.wait_procs(workers, timeout=30)
    assert not alive, f"still running after the stage was killed: {[p.cmdline() for p in alive]}"
