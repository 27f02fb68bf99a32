"""The accelerate launch configs in training/accelerate/ parse with accelerate, and the batch follows world size."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from harness.errors import UserError
from training.preflight import gradient_accumulation

REPO = Path(__file__).resolve().parents[2]
CONFIGS = REPO / "training" / "accelerate"


def launch_args(config: str, *extra: str):
    """What `accelerate launch --config_file CONFIG ...` resolves to, without launching anything."""
    from accelerate.commands.launch import _validate_launch_command, launch_command_parser

    args = launch_command_parser().parse_args(["--config_file", str(CONFIGS / config), *extra, "-m", "harness.cli"])
    return _validate_launch_command(args)[0]


def test_every_config_parses_with_accelerate():
    from accelerate.commands.config.config_args import load_config_from_file

    names = sorted(p.name for p in CONFIGS.glob("*.yaml"))
    assert names == ["ddp.yaml", "fsdp.yaml", "zero3.yaml", "zero3_multinode.yaml"]
    kinds = {n: str(load_config_from_file(str(CONFIGS / n)).distributed_type) for n in names}
    assert kinds == {"ddp.yaml": "DistributedType.MULTI_GPU", "fsdp.yaml": "DistributedType.FSDP",
                     "zero3.yaml": "DistributedType.DEEPSPEED", "zero3_multinode.yaml": "DistributedType.DEEPSPEED"}


def test_launch_resolves_each_config():
    ddp = launch_args("ddp.yaml")
    assert ddp.multi_gpu and ddp.num_processes == 8 and ddp.mixed_precision == "bf16"
    zero3 = launch_args("zero3.yaml")
    assert zero3.use_deepspeed and zero3.zero_stage == 3 and zero3.zero3_save_16bit_model is True
    fsdp = launch_args("fsdp.yaml")
    assert fsdp.use_fsdp and fsdp.fsdp_state_dict_type == "FULL_STATE_DICT" and str(fsdp.fsdp_version) == "2"
    # Multi-node goes through accelerate's own flags: the same config on every machine, its rank each.
    node = launch_args("zero3_multinode.yaml", "--machine_rank", "1", "--main_process_ip", "10.0.0.1")
    assert (node.num_machines, node.num_processes, node.machine_rank, node.main_process_ip) == (2, 16, 1, "10.0.0.1")


@pytest.mark.parametrize("world, accumulation", [(1, 64), (2, 32), (8, 8), (16, 4), (64, 1)])
def test_accumulation_is_computed_from_world_size(world, accumulation):
    assert gradient_accumulation(64, 1, world) == accumulation
    assert gradient_accumulation(64, 1, world) * 1 * world == 64


def test_a_world_that_cannot_make_the_batch():
    with pytest.raises(UserError, match=r"not a multiple of per_device_batch_size 4 x world size 3 = 12"):
        gradient_accumulation(64, 4, 3)


@pytest.mark.slow
def test_two_process_data_parallel_on_cpu(tiny_model, data_file, tmp_path):
    """A real 2-process run (torch's launcher, gloo on CPU): accumulation halves, the batch stays 8."""
    out = tmp_path / "ddp"
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "-m", "harness.cli", "train",
           "--model", str(tiny_model), "--data", str(data_file), "--out", str(out), "--no-progress",
           "--wandb-mode", "offline", "--effective-batch-size", "8", "--per-device-batch-size", "2",
           "--max-steps", "2", "--eos-check", "off"]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    done = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    summary = json.loads((out / "train_summary.json").read_text())
    assert summary["batch"] == {"effective": 8, "per_device": 2, "gradient_accumulation": 2, "world_size": 2}
    assert summary["steps"] == 2 and (out / "model" / "model.safetensors").is_file()
    assert len(list((out / "wandb").rglob("*.wandb"))) == 1  # only the main process tracks
