"""The tiny local model: loads with the Auto classes, marks assistant tokens, stops on eos, is deterministic."""

import json
import subprocess
import sys

import pytest
import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

from training.tiny_model import build_tiny_model

CHAT = [
    {"role": "system", "content": "You are a coder."},
    {"role": "user", "content": "Write add."},
    {"role": "assistant", "content": "def add(a, b):\n    return a + b"},
    {"role": "user", "content": "Now sub."},
    {"role": "assistant", "content": "def sub(a, b):\n    return a - b"},
]


def _files(d):
    return {p.relative_to(d).as_posix(): p.read_bytes() for p in sorted(d.rglob("*")) if p.is_file()}


@pytest.mark.slow
def test_same_seed_is_byte_identical_and_seed_changes_weights_only(tmp_path, tiny_model):
    again = build_tiny_model(tmp_path / "again", seed=0)
    assert _files(again) == _files(tiny_model)
    other = _files(build_tiny_model(tmp_path / "other", seed=1))
    assert other["model.safetensors"] != _files(tiny_model)["model.safetensors"]
    assert other["tokenizer.json"] == _files(tiny_model)["tokenizer.json"]


def test_size_and_architecture(tiny_model):
    model = AutoModelForCausalLM.from_pretrained(tiny_model)
    assert type(model).__name__ == "LlamaForCausalLM"
    assert 1_000_000 <= model.num_parameters() <= 5_000_000
    info = json.loads((tiny_model / "tiny_model.json").read_text())
    assert info["parameters"] == model.num_parameters() and info["corpus_files"]


def test_tokenizer_is_byte_level_and_round_trips(tiny_model):
    tok = AutoTokenizer.from_pretrained(tiny_model)
    text = "def f(x):\n\treturn x ** 2  # ünïcødé ✓\n"
    ids = tok(text)["input_ids"]
    assert tok.decode(ids) == text  # no unk, no added bos
    assert len(ids) < len(text.encode())  # trained merges, not raw bytes
    assert tok.unk_token is None and tok.bos_token is None


def test_eos_and_pad_agree_everywhere(tiny_model):
    tok = AutoTokenizer.from_pretrained(tiny_model)
    model = AutoModelForCausalLM.from_pretrained(tiny_model)
    assert tok.eos_token == "<|im_end|>" and tok.pad_token == "<|endoftext|>"
    assert tok.eos_token_id != tok.pad_token_id  # pad == eos would mask eos out of the labels
    assert model.config.eos_token_id == model.generation_config.eos_token_id == tok.eos_token_id
    assert model.config.pad_token_id == model.generation_config.pad_token_id == tok.pad_token_id


def test_chat_template_marks_exactly_the_assistant_turns(tiny_model):
    tok = AutoTokenizer.from_pretrained(tiny_model)
    out = tok.apply_chat_template(CHAT, tokenize=True, return_dict=True, return_assistant_tokens_mask=True)
    ids, mask = out["input_ids"], out["assistant_masks"]
    assert len(ids) == len(mask) and 0 < sum(mask) < len(mask)
    marked = tok.decode([i for i, m in zip(ids, mask) if m])
    assert marked == "def add(a, b):\n    return a + b<|im_end|>def sub(a, b):\n    return a - b<|im_end|>"
    # Each assistant turn ends with eos inside the mask, so assistant-only loss teaches stopping.
    ends = [i for i in range(len(ids)) if mask[i] and (i + 1 == len(ids) or not mask[i + 1])]
    assert [ids[i] for i in ends] == [tok.eos_token_id] * 2


def test_generation_prompt_and_generate(tiny_model):
    tok = AutoTokenizer.from_pretrained(tiny_model)
    model = AutoModelForCausalLM.from_pretrained(tiny_model)
    prompt = tok.apply_chat_template(CHAT[:2], add_generation_prompt=True, tokenize=False)
    assert prompt.endswith("<|im_start|>assistant\n")
    enc = tok(prompt, return_tensors="pt")
    out = model.generate(**enc, max_new_tokens=8, do_sample=False)
    assert out.shape == (1, enc["input_ids"].shape[1] + 8)
    # Make eos the most likely token: generate() must stop right after it.
    bias = torch.full((model.config.vocab_size,), -1e4)
    bias[tok.eos_token_id] = 0
    model.lm_head.register_forward_hook(lambda _m, _i, logits: logits + bias)
    out = model.generate(**enc, max_new_tokens=8, do_sample=False)
    assert out[0, -1].item() == tok.eos_token_id and out.shape[1] == enc["input_ids"].shape[1] + 1


def test_cli_builds_and_refuses_non_empty_dir(tmp_path):
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "x").write_text("keep me")
    res = subprocess.run([sys.executable, "-m", "harness.cli", "tiny-model", str(tmp_path / "busy")],
                         capture_output=True, text=True)
    assert res.returncode == 2
    assert res.stderr.strip().count("\n") == 0 and "busy" in res.stderr and "not empty" in res.stderr
    assert (tmp_path / "busy" / "x").read_text() == "keep me"


@pytest.mark.slow
def test_trl_assistant_only_loss_trains_on_exactly_the_assistant_turn(tiny_model, tmp_path):
    """Guards TRL #4147 (every token masked) and PR #3299 (eos never trained) for this template."""
    from datasets import Dataset
    from trl import SFTConfig, SFTTrainer

    tok = AutoTokenizer.from_pretrained(tiny_model)
    rows = [{"messages": [{"role": "user", "content": f"Write f{i}."},
                          {"role": "assistant", "content": f"def f{i}():\n    return {i}"}]} for i in range(4)]
    cfg = SFTConfig(output_dir=str(tmp_path / "out"), assistant_only_loss=True, per_device_train_batch_size=4,
                    max_steps=1, report_to=[], use_cpu=True, save_strategy="no", max_length=128)
    trainer = SFTTrainer(model=AutoModelForCausalLM.from_pretrained(tiny_model), args=cfg,
                         train_dataset=Dataset.from_list(rows), processing_class=tok)
    batch = next(iter(trainer.get_train_dataloader()))
    for ids, labels in zip(batch["input_ids"], batch["labels"]):
        trained = tok.decode(ids[labels != -100])
        assert trained.startswith("def f") and trained.endswith("<|im_end|>")
        assert "<|im_start|>" not in trained and "Write" not in trained
