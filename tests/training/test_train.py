"""`sca train` and the training options: resume of a finished run, the stop check as an error, LoRA, seeds."""

from __future__ import annotations

import json

import pytest

from harness.cli import main as sca
from harness.errors import UserError


def weights(model_dir):
    from safetensors.torch import load_file

    return load_file(str(model_dir / "model.safetensors"))


def test_sca_train_writes_a_model_and_a_wandb_run(tiny_model, data_file, tmp_path, capsys):
    from harness.wandb_log import summarize

    out = tmp_path / "run"
    argv = ["train", "--model", str(tiny_model), "--data", str(data_file), "--out", str(out), "--no-progress",
            "--wandb-mode", "offline", "--effective-batch-size", "8", "--per-device-batch-size", "4",
            "--max-steps", "2", "--eos-check", "off", "warmup_ratio=0.5"]
    assert sca(argv) == 0
    line = capsys.readouterr().out.strip().splitlines()[-1]
    printed = json.loads(line)
    assert printed["steps"] == 2 and printed["trained_examples"] == 32
    assert (out / "model" / "model.safetensors").is_file() and (out / "model" / "chat_template.jinja").is_file()
    assert json.loads((out / "training_args.json").read_text())["warmup_steps"] == 0.5
    (run,) = [summarize(p) for p in (out / "wandb").rglob("*.wandb")]
    assert any("train/loss" in row for row in run["history"])
    assert [a["type"] for a in run["used_artifacts"]] == ["dataset"]
    assert [a["type"] for a in run["logged_artifacts"]] == ["sft"]

    # The same command again: the finished training is reused, nothing is trained twice.
    assert sca(argv) == 0
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1])["steps"] == 2
    # Another config into the same folder would mix two trainings.
    assert sca(argv[:-1] + ["warmup_ratio=0.1"]) == 2
    assert "holds a training run with warmup_ratio=0.5, not 0.1" in capsys.readouterr().err


def test_unknown_key_on_the_command_line(tiny_model, data_file, tmp_path, capsys):
    assert sca(["train", "--model", str(tiny_model), "--data", str(data_file), "--out", str(tmp_path / "o"),
                "learning_rat=1e-4"]) == 2
    assert "learning_rat: unknown key (did you mean 'learning_rate'?)" in capsys.readouterr().err


def test_stop_check_as_an_error_keeps_the_trained_model_for_a_rerun(run_train, tmp_path):
    out = tmp_path / "strict"
    with pytest.raises(UserError) as err:
        run_train(out=out, eos_check="error")
    assert "2 of 2 greedy generations through the saved chat template did not end with EOS" in str(err.value)
    assert (out / "model" / "model.safetensors").is_file()
    before = weights(out / "model")
    summary, _, reported = run_train(out=out, eos_check="warn")  # not part of the fingerprint: no retraining
    assert not any("train/loss" in r for r in reported)
    assert summary["eos_check"]["stopped"] == 0 and summary["steps"] == 2
    assert all((before[k] == v).all() for k, v in weights(out / "model").items())


def test_same_seed_same_weights_other_seed_other_weights(run_train, tmp_path):
    a = weights(run_train(out=tmp_path / "a", seed=1, learning_rate=1e-3)[1] / "model")
    b = weights(run_train(out=tmp_path / "b", seed=1, learning_rate=1e-3)[1] / "model")
    c = weights(run_train(out=tmp_path / "c", seed=2, learning_rate=1e-3)[1] / "model")
    assert all((a[k] == b[k]).all() for k in a)
    assert any(not (a[k] == c[k]).all() for k in a)


def test_lora_adapter_merged_into_the_model_folder(run_train, tiny_model, tmp_path):
    from transformers import AutoModelForCausalLM

    summary, out, _ = run_train(out=tmp_path / "lora", lora={"r": 4, "alpha": 8}, learning_rate=1e-2)
    assert (out / "adapter" / "adapter_config.json").is_file()
    merged, base = weights(out / "model"), weights(tiny_model)
    assert merged.keys() == base.keys()  # plain weights, no peft names
    changed = [k for k in base if not (merged[k] == base[k]).all()]
    assert changed and all("proj" in k for k in changed)
    AutoModelForCausalLM.from_pretrained(out / "model")
