"""kill -9 in the middle of training, rerun: it resumes from the last checkpoint and ends with the same weights."""

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
from harness.runner import Runner
from training.sft import last_checkpoint

REPO = Path(__file__).resolve().parents[2]

RECIPE = """
experiment: resume
run_root: {root}
wandb: {{mode: offline}}
stages:
  model: {{uses: tiny_model, with: {{seed: 0}}}}
  data: {{uses: "tests.training.stages:records_stage"}}
  sft:
    uses: sft
    inputs: [model, data]
    with: {{effective_batch_size: 4, per_device_batch_size: 2, max_steps: 12, save_steps: 2, learning_rate: 0.001,
            eos_check: 'off', seed: 3}}
"""


def recipe(tmp_path: Path, name: str) -> Path:
    path = tmp_path / f"{name}.yaml"
    path.write_text(RECIPE.format(root=tmp_path / name))
    return path


def weights(model_dir: Path) -> dict:
    from safetensors.torch import load_file

    return load_file(str(model_dir / "model.safetensors"))


def run_in_process(path: Path):
    return Runner(load_recipe(path), progress=False, log=lambda line: None).run()


def test_kill_9_mid_training_then_rerun_gives_the_same_weights(tmp_path):
    killed = recipe(tmp_path, "killed")
    proc = subprocess.Popen([sys.executable, "-m", "harness.cli", "run", str(killed)], cwd=REPO,
                            env={**os.environ, "OMP_NUM_THREADS": "1"}, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, start_new_session=True)
    partial = tmp_path / "killed" / "artifacts" / ".partial"
    deadline = time.monotonic() + 300
    seen = None
    try:
        while time.monotonic() < deadline and proc.poll() is None:
            found = sorted(partial.glob("sft-*/checkpoints/checkpoint-*/trainer_state.json"))
            if found:
                seen = found[0].parent.name
                break
            time.sleep(0.02)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        stderr = proc.communicate()[1].decode(errors="replace")
    assert seen is not None, f"no checkpoint before the run ended (rc={proc.returncode}): {stderr[-2000:]}"
    assert proc.returncode == -signal.SIGKILL
    assert not list((tmp_path / "killed" / "artifacts").glob("sft-*/manifest.json")), "finished before the kill"

    resumed = run_in_process(killed)["sft"]
    summary = json.loads(resumed.file("train_summary.json").read_text())
    assert summary["resumed_from"] is not None and summary["steps"] == 12
    assert int(summary["resumed_from"].rsplit("-", 1)[1]) >= int(seen.rsplit("-", 1)[1])
    assert not resumed.file("checkpoints").exists()  # checkpoints are removed from the finished artifact

    straight = run_in_process(recipe(tmp_path, "straight"))["sft"]
    assert json.loads(straight.file("train_summary.json").read_text())["resumed_from"] is None
    assert straight.fingerprint == resumed.fingerprint
    a, b = weights(resumed.file("model")), weights(straight.file("model"))
    assert a.keys() == b.keys()
    differ = [k for k in a if not (a[k] == b[k]).all()]
    assert not differ, f"weights differ after resume: {differ[:3]}"
    # And training moved them: the tiny model's initial weights are not what came out.
    base = weights(resumed.path.parent / next(p.name for p in resumed.path.parent.iterdir()
                                               if p.name.startswith("tiny_model-")) / "model")
    assert any(not (a[k] == base[k]).all() for k in a if k in base)


def test_an_incomplete_checkpoint_is_never_resumed(tmp_path):
    good, torn = tmp_path / "checkpoint-4", tmp_path / "checkpoint-6"
    good.mkdir()
    (good / "trainer_state.json").write_text(json.dumps({"global_step": 4}))
    torn.mkdir()
    (torn / "model.safetensors").write_bytes(b"half")  # killed before trainer_state.json was written
    assert last_checkpoint(tmp_path) == good
    assert not torn.exists()
    (good / "trainer_state.json").write_text('{"global_st')  # torn state file
    assert last_checkpoint(tmp_path) is None
