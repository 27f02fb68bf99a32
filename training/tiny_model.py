"""Tiny local Llama model + byte-level BPE tokenizer for CPU runs and tests (no download).

`build_tiny_model(out_dir, seed)` writes a directory that AutoModelForCausalLM / AutoTokenizer load.
The weights are random (seeded): the model exists to exercise the pipeline, not to score.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import sysconfig
import tempfile
from pathlib import Path

from harness.config import Strict
from harness.errors import UserError
from harness.stages import stage

# Fixed, sorted selection of stdlib modules: plain Python, present in 3.10-3.13, ~850 KB.
CORPUS_MODULES = (
    "argparse.py", "ast.py", "bisect.py", "calendar.py", "collections/__init__.py", "csv.py",
    "dataclasses.py", "difflib.py", "enum.py", "fractions.py", "functools.py", "heapq.py",
    "json/decoder.py", "pprint.py", "random.py", "shlex.py", "statistics.py", "string.py",
    "textwrap.py", "typing.py",
)

PAD, EOS, IM_START = "<|endoftext|>", "<|im_end|>", "<|im_start|>"
SPECIAL_TOKENS = [PAD, IM_START, EOS]

# ChatML. The assistant turn, including its <|im_end|> (= eos), sits inside {% generation %}
# so TRL's assistant_only_loss trains the model to stop.
CHAT_TEMPLATE = (
    "{%- for message in messages %}"
    "{%- if message['role'] == 'assistant' %}"
    "{{- '<|im_start|>assistant\\n' }}"
    "{% generation %}{{- message['content'] + '<|im_end|>' }}{% endgeneration %}"
    "{{- '\\n' }}"
    "{%- else %}"
    "{{- '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>\\n' }}"
    "{%- endif %}"
    "{%- endfor %}"
    "{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}{%- endif %}"
)

# ~1.3M parameters with a 4k vocabulary (tied embeddings).
DEFAULT_SHAPE = dict(
    hidden_size=128, intermediate_size=384, num_hidden_layers=4,
    num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=2048,
)


def corpus_root() -> Path:
    return Path(sysconfig.get_paths()["stdlib"])


def corpus_files() -> list[Path]:
    root = corpus_root()
    files = [root / name for name in CORPUS_MODULES if (root / name).is_file()]
    if len(files) < len(CORPUS_MODULES) // 2:
        raise UserError(f"{root}: too few stdlib source files to train the tokenizer on ({len(files)})")
    return files


def _train_tokenizer(files: list[Path], vocab_size: int):
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    tok.post_processor = processors.ByteLevel(trim_offsets=False)
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size, special_tokens=SPECIAL_TOKENS, show_progress=False,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
    )
    texts = [f.read_text(encoding="utf-8") for f in files]
    tok.train_from_iterator(texts, trainer=trainer, length=len(texts))
    return tok


def build_tiny_model(out_dir: Path, seed: int = 0, vocab_size: int = 4096) -> Path:
    """Build the model + tokenizer into out_dir (atomically) and return out_dir.

    Deterministic: the same seed, stdlib and package versions give byte-identical files.
    """
    out_dir = Path(out_dir)
    if out_dir.exists() and (not out_dir.is_dir() or any(out_dir.iterdir())):
        raise UserError(f"{out_dir}: output directory exists and is not empty")
    if not 512 <= vocab_size <= 65536:
        raise UserError(f"vocab_size={vocab_size}: must be between 512 and 65536")
    import torch
    from transformers import GenerationConfig, LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    files = corpus_files()
    backend = _train_tokenizer(files, vocab_size)
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=backend, eos_token=EOS, pad_token=PAD, bos_token=None, unk_token=None,
        model_max_length=DEFAULT_SHAPE["max_position_embeddings"], chat_template=CHAT_TEMPLATE,
    )
    pad_id, eos_id = tokenizer.convert_tokens_to_ids([PAD, EOS])
    config = LlamaConfig(
        vocab_size=len(tokenizer), tie_word_embeddings=True, pad_token_id=pad_id, eos_token_id=eos_id,
        bos_token_id=None, **DEFAULT_SHAPE,
    )
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = LlamaForCausalLM(config)
    model.generation_config = GenerationConfig(eos_token_id=eos_id, pad_token_id=pad_id, bos_token_id=None)

    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", dir=out_dir.parent))
    try:
        tmp.chmod(0o755)  # mkdtemp makes it private; the model dir is meant to be shared
        model.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
        corpus = hashlib.sha256()
        for f in files:
            corpus.update(f.read_bytes())
        info = {
            "seed": seed, "vocab_size": len(tokenizer), "parameters": model.num_parameters(),
            "corpus_files": [f.relative_to(corpus_root()).as_posix() for f in files],
            "corpus_sha256": corpus.hexdigest(),
        }
        (tmp / "tiny_model.json").write_text(json.dumps(info, indent=2) + "\n")
        if out_dir.exists():
            out_dir.rmdir()
        os.replace(tmp, out_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out_dir


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("out", type=Path, help="output directory (must not exist or be empty)")
    parser.add_argument("--seed", type=int, default=0, help="weight init seed (default 0)")
    parser.add_argument("--vocab-size", type=int, default=4096, help="BPE vocabulary size (default 4096)")


def main(args: argparse.Namespace) -> int:
    import time

    start = time.perf_counter()
    out = build_tiny_model(args.out, seed=args.seed, vocab_size=args.vocab_size)
    info = json.loads((out / "tiny_model.json").read_text())
    print(f"{out}: {info['parameters']:,} parameters, vocab {info['vocab_size']}, "
          f"built in {time.perf_counter() - start:.1f}s")
    return 0



class TinyModelConfig(Strict):
    seed: int = 0
    vocab_size: int = 4096


@stage("tiny_model", TinyModelConfig)
def tiny_model_stage(cfg: TinyModelConfig, inputs, ctx) -> None:
    """Stage form for recipes: the artifact holds the model under `model/`."""
    out = build_tiny_model(ctx.out_dir / "model", seed=cfg.seed, vocab_size=cfg.vocab_size)
    info = json.loads((out / "tiny_model.json").read_text())
    ctx.log({"parameters": info["parameters"], "vocab_size": info["vocab_size"]})
