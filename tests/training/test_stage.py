"""The sft stage in a recipe: tiny model + pipeline-style dataset -> model artifact -> codegen through its template."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from harness.config import load_recipe
from harness.runner import Runner
from harness.wandb_log import summarize

RECIPE = """
experiment: sftstage
run_root: {root}
wandb: {{mode: offline}}
stages:
  model: {{uses: tiny_model, with: {{seed: 0}}}}
  data: {{uses: "tests.training.stages:records_stage"}}
  sft:
    uses: sft
    inputs: [model, data]
    with: {{effective_batch_size: 8, per_device_batch_size: 4, epochs: 2, learning_rate: 0.001, eos_check: warn,
            max_length: 150}}
  samples:
    uses: generate
    inputs: [sft]
    with: {{benchmark: humaneval, backend: hf, tasks: [HumanEval/0], max_new_tokens: 8}}
"""

needs_data = pytest.mark.skipif(not os.environ.get("SCA_DATA_DIR"), reason="no benchmark data: set SCA_DATA_DIR")


@pytest.fixture(scope="module")
def arts(tmp_path_factory):
    import torch

    root = tmp_path_factory.mktemp("sftstage")
    path = root / "recipe.yaml"
    text = RECIPE.format(root=root / "runs")
    if not os.environ.get("SCA_DATA_DIR"):
        text = text.split("  samples:")[0]
    path.write_text(text)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return Runner(load_recipe(path), progress=False, log=lambda line: None).run(), root / "runs"
    finally:
        torch.set_num_threads(threads)


def over_length(model_dir: Path, limit: int) -> int:
    """How many of our records render to more than `limit` tokens through the paper's template."""
    from transformers import AutoTokenizer

    from tests.training.data import records

    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    texts = [tokenizer.apply_chat_template(r["messages"], tokenize=False) for r in records()]
    return sum(len(tokenizer(t, add_special_tokens=False)["input_ids"]) > limit for t in texts)


def test_the_stage_trains_and_its_loss_falls(arts):
    sft = arts[0]["sft"]
    summary = json.loads(sft.file("train_summary.json").read_text())
    # Records over 150 tokens are dropped and counted, not truncated.
    dropped = over_length(sft.file("model"), 150)
    assert dropped > 0
    assert (summary["examples"], summary["dropped_over_length"], summary["trained_examples"]) == \
           (32, dropped, 32 - dropped)
    assert sft.manifest["counts"]["dropped_over_length"] == dropped
    assert summary["batch"] == {"effective": 8, "per_device": 4, "gradient_accumulation": 2, "world_size": 1}
    assert summary["steps"] == 2 * -(-(32 - dropped) // 8)  # ceil(trained / 8) steps per epoch, 2 epochs
    first, second = summary["epoch_losses"]
    assert second < first
    args = json.loads(sft.file("training_args.json").read_text())
    assert (args["optim"], args["lr_scheduler_type"], args["max_grad_norm"], args["packing"]) == \
           ("adafactor", "linear", 0.0, False)
    assert (args["warmup_steps"], args["bf16"], args["use_cpu"], args["seed"]) == (0.05, False, True, 0)
    assert not sft.file("checkpoints").exists()
    assert sft.file("loss.png").stat().st_size > 1000


def test_the_model_folder_carries_the_paper_template_and_its_eos(arts):
    from transformers import AutoTokenizer, GenerationConfig

    from training.chat_template import PAPER_TEMPLATE

    model_dir = arts[0]["sft"].file("model")
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    assert tokenizer.chat_template == PAPER_TEMPLATE
    eos = GenerationConfig.from_pretrained(model_dir).eos_token_id
    assert tokenizer.convert_ids_to_tokens(eos if isinstance(eos, list) else [eos]) == ["<|im_end|>"]
    assert not (model_dir / "training_args.bin").exists()


def test_the_stop_check_reports_that_the_random_model_never_stops(arts):
    sft = arts[0]["sft"]
    check = json.loads(sft.file("train_summary.json").read_text())["eos_check"]
    # The tiny model's weights are random: a few steps do not teach it to stop. With eos_check: warn the
    # stage records that and keeps the model; the default (error) would fail the stage.
    assert check["mode"] == "warn" and check["of"] == 2 and check["stopped"] == 0
    rows = [json.loads(line) for line in sft.file("eos_check.jsonl").read_text().splitlines()]
    assert [r["finish_reason"] for r in rows] == ["length", "length"]


def test_wandb_run_holds_trl_metrics_and_the_lineage(arts):
    done, root = arts
    runs = {s["name"]: s for s in map(summarize, (root / "wandb").rglob("*.wandb"))}
    run = runs["sftstage/sft"]
    keys = set().union(*run["history"])
    for key in ("train/loss", "train/learning_rate", "train/grad_norm", "train/tokens_per_second",
                "train/padding_ratio", "train/num_tokens", "data/dropped_over_length", "eos_check/stopped"):
        assert key in keys, key
    losses = [row["train/loss"] for row in run["history"] if "train/loss" in row]
    summary = json.loads(done["sft"].file("train_summary.json").read_text())
    assert len(losses) == summary["steps"]
    ratios = [row["train/padding_ratio"] for row in run["history"] if "train/padding_ratio" in row]
    assert all(0 <= r < 1 for r in ratios) and any(r > 0 for r in ratios)
    assert any(row.get("data/dropped_over_length") == summary["dropped_over_length"] for row in run["history"])
    used = {a["name"] for a in run["used_artifacts"]}
    logged = {a["name"]: a["digest"] for a in runs["sftstage/data"]["logged_artifacts"]}
    assert "test.sft_records" in used and "tiny_model" in used
    assert {a["digest"] for a in run["used_artifacts"] if a["name"] == "test.sft_records"} == \
           {logged["test.sft_records"]}
    # The same metrics are mirrored into the artifact.
    mirrored = [json.loads(line) for line in done["sft"].file("metrics.jsonl").read_text().splitlines()]
    assert [r["train/loss"] for r in mirrored if "train/loss" in r] == losses


@needs_data
def test_generate_takes_the_trained_model_through_its_chat_template(arts):
    from generation.prompts import chat_template_sha256
    from training.chat_template import PAPER_TEMPLATE

    done, root = arts
    info = json.loads(done["samples"].file("generation.json").read_text())
    assert info["prompt_style"] == "instruct" and info["model"].endswith("/model")
    assert info["chat_template_sha256"] == chat_template_sha256(type("T", (), {"chat_template": PAPER_TEMPLATE}))
    assert done["samples"].manifest["inputs"]["sft"]["fingerprint"] == done["sft"].fingerprint
