"""The tiny test model as a GGUF file, so the llamacpp backend is tested on a real llama.cpp server in seconds.

Written with the `gguf` package: llama architecture, f32 tensors under llama.cpp's names (training/gguf_export.py's
mapping, q/k rows permuted to its rotary layout), the byte-level BPE vocabulary and
merges, and the ChatML chat template.
"""

from __future__ import annotations

import json
from pathlib import Path

from filelock import FileLock

from training.gguf_export import gguf_tensors


def write_gguf(model_dir: Path, out: Path) -> Path:
    import gguf
    from safetensors.numpy import load_file

    cfg = json.loads((model_dir / "config.json").read_text())
    tok = json.loads((model_dir / "tokenizer.json").read_text())
    writer = gguf.GGUFWriter(str(out), "llama")
    writer.add_name("sca-tiny")
    writer.add_context_length(cfg["max_position_embeddings"])
    writer.add_embedding_length(cfg["hidden_size"])
    writer.add_block_count(cfg["num_hidden_layers"])
    writer.add_feed_forward_length(cfg["intermediate_size"])
    writer.add_head_count(cfg["num_attention_heads"])
    writer.add_head_count_kv(cfg["num_key_value_heads"])
    writer.add_rope_dimension_count(cfg["head_dim"])
    writer.add_rope_freq_base(cfg["rope_parameters"]["rope_theta"])
    writer.add_layer_norm_rms_eps(cfg["rms_norm_eps"])
    writer.add_file_type(gguf.LlamaFileType.ALL_F32)

    vocab = tok["model"]["vocab"]
    tokens = [""] * len(vocab)
    for text, index in vocab.items():
        tokens[index] = text
    special = {t["id"] for t in tok["added_tokens"] if t["special"]}
    writer.add_tokenizer_model("gpt2")
    writer.add_tokenizer_pre("default")
    writer.add_token_list(tokens)
    writer.add_token_types([gguf.TokenType.CONTROL if i in special else gguf.TokenType.NORMAL
                            for i in range(len(tokens))])
    writer.add_token_merges([" ".join(m) if isinstance(m, list) else m for m in tok["model"]["merges"]])
    writer.add_eos_token_id(cfg["eos_token_id"])
    writer.add_pad_token_id(cfg["pad_token_id"])
    writer.add_add_bos_token(False)
    writer.add_chat_template((model_dir / "chat_template.jinja").read_text())

    tensors = gguf_tensors(load_file(str(model_dir / "model.safetensors")), cfg, "llama")
    for name, array in sorted(tensors.items()):
        writer.add_tensor(name, array)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return out


def get_tiny_gguf(tmp_path_factory, model_dir: Path) -> Path:
    """A folder holding the tiny model's GGUF file, built once per session (shared by xdist workers)."""
    base = tmp_path_factory.getbasetemp().parent
    out = base / f"tiny-gguf-{model_dir.name}"
    with FileLock(str(out) + ".lock"):
        if not (out / "tiny.gguf").is_file():
            out.mkdir(exist_ok=True)
            write_gguf(model_dir, out / ".tiny.gguf.tmp").rename(out / "tiny.gguf")
    return out
